/* Test-only kernel model: intercepts write() on files under the fake root
 * and reacts as the kernel would.  Rules from every kmodel-*.c area are
 * listed in kmodel_rules below.  Also: a file ROOT/.kmodel/fail/REL holding
 * an errno number makes writes to ROOT/REL fail with it; a file
 * ROOT/.kmodel/log collects one line per write ("REL VALUE") so tests can
 * tell exactly what was written.
 *
 * Fault and crash points for tests/fault/matrix.py, counted over the run's
 * processes by the lines of .kmodel/log: HOSTPREP_KMODEL_FAULT="N ERRNO" makes
 * the N-th sysfs write fail with ERRNO; HOSTPREP_KMODEL_KILL=N kills the run
 * (SIGKILL, the process that loaded the model and the writer) right after the
 * N-th sysfs write took effect. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "kmodel.h"

const char *kmodel_root;

/* One table per area (tests/fakehost/kmodel-*.c); weak so an area can be absent. */
extern const struct kmodel_rule kmodel_hugepage_rules[] __attribute__((weak));
extern const struct kmodel_rule kmodel_choice_rules[] __attribute__((weak));
extern const struct kmodel_rule kmodel_pci_rules[] __attribute__((weak));
extern const struct kmodel_rule kmodel_kernel_rules[] __attribute__((weak));
extern const struct kmodel_rule kmodel_vdpa_rules[] __attribute__((weak));

ssize_t kmodel_real_write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	return real(fd, buf, len);
}

int kmodel_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(buf, len, "%s", kmodel_root);

	va_start(ap, fmt);
	n += vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

void kmodel_rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int kmodel_read_long(const char *path, long *v)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return -errno;
	r = fscanf(f, "%ld", v) == 1 ? 0 : -EINVAL;
	fclose(f);
	return r;
}

int kmodel_write_fd(int fd, const char *s)
{
	size_t l = strlen(s);

	if (ftruncate(fd, 0) < 0 || pwrite(fd, s, l, 0) != (ssize_t)l)
		return -errno;
	return 0;
}

int kmodel_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = kmodel_write_fd(fd, s);
	close(fd);
	return r;
}

static void log_write(const char *rel, const char *value, size_t len)
{
	char p[4096];
	FILE *f;

	if (kmodel_path(p, sizeof(p), "/.kmodel/log") < 0 || !(f = fopen(p, "ae")))
		return;
	fprintf(f, "%s %.*s\n", rel, (int)strcspn(value, "\n") < (int)len ? (int)strcspn(value, "\n") : (int)len,
		value);
	fclose(f);
}

/* The process that loaded the model: hostprep itself, also in its children. */
static pid_t main_pid;
__attribute__((constructor)) static void remember_main(void) { main_pid = getpid(); }

/* Writes logged so far: the index of the one just logged. */
static long logged_writes(void)
{
	char p[4096];
	long n = 0;
	int c;
	FILE *f;

	if (kmodel_path(p, sizeof(p), "/.kmodel/log") < 0 || !(f = fopen(p, "re")))
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* HOSTPREP_KMODEL_FAULT="N ERRNO" for the write just logged. */
static int matrix_fault(void)
{
	const char *f = getenv("HOSTPREP_KMODEL_FAULT");
	long n, e;

	if (!f || sscanf(f, "%ld %ld", &n, &e) != 2)
		return 0;
	return logged_writes() == n ? (int)e : 0;
}

static void matrix_kill(void)
{
	const char *k = getenv("HOSTPREP_KMODEL_KILL");

	if (!k || logged_writes() != atol(k))
		return;
	kill(main_pid, SIGKILL);
	kill(getpid(), SIGKILL);
}

static int injected_errno(const char *rel)
{
	char p[4096];
	long e;

	if (kmodel_path(p, sizeof(p), "/.kmodel/fail%s", rel) < 0 || kmodel_read_long(p, &e) < 0)
		return 0;
	return (int)e;
}

static bool under_sys(const char *path)
{
	size_t rl;

	if (!kmodel_root)
		kmodel_root = getenv("HOSTPREP_KMODEL_ROOT");
	if (!kmodel_root || !path)
		return false;
	rl = strlen(kmodel_root);
	return strncmp(path, kmodel_root, rl) == 0 && strncmp(path + rl, "/sys/", 5) == 0;
}

/* sysfs ignores O_TRUNC: the attribute keeps its value until a write, which
 * replaces it whole.  Model that, so handlers see the old value. */
#define OPEN_WRAPPER(name, ...) \
	static int (*real)(__VA_ARGS__); \
	mode_t mode = 0; \
	if (flags & (O_CREAT | O_TMPFILE)) { \
		va_list ap; \
		va_start(ap, flags); \
		mode = va_arg(ap, mode_t); \
		va_end(ap); \
	} \
	if (!real) \
		real = dlsym(RTLD_NEXT, name); \
	if (under_sys(path)) \
		flags &= ~O_TRUNC;

int open(const char *path, int flags, ...)
{
	OPEN_WRAPPER("open", const char *, int, ...)
	return real(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	OPEN_WRAPPER("open64", const char *, int, ...)
	return real(path, flags, mode);
}

/* hostroot opens through openat2() (RESOLVE_IN_ROOT against a descriptor of
 * the root), which glibc 2.36 only reaches through syscall(): the same O_TRUNC
 * rule there. */
long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (nr == SYS_openat2 && a[2] && (size_t)a[3] >= sizeof(struct open_how) &&
	    (((const struct open_how *)a[2])->flags & O_TRUNC)) {
		struct open_how how = *(const struct open_how *)a[2];
		char dir[64], path[4096];
		ssize_t n;

		snprintf(dir, sizeof(dir), "/proc/self/fd/%d", (int)a[0]);
		n = readlink(dir, path, sizeof(path) - 1);
		if (n > 0) {
			path[n] = '\0';
			snprintf(path + n, sizeof(path) - (size_t)n, "/%s", (const char *)a[1]);
			if (under_sys(path)) {
				how.flags &= ~(uint64_t)O_TRUNC;
				return real(nr, a[0], a[1], &how, sizeof(how));
			}
		}
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	char link[64], path[4096], value[4096];
	const char *rel;
	const struct kmodel_rule *areas[] = { kmodel_hugepage_rules, kmodel_choice_rules, kmodel_pci_rules,
					       kmodel_kernel_rules, kmodel_vdpa_rules };
	ssize_t n;
	size_t rl;
	int e;

	if (!kmodel_root)
		kmodel_root = getenv("HOSTPREP_KMODEL_ROOT");
	if (!kmodel_root || fd <= 2)
		return kmodel_real_write(fd, buf, len);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	rl = strlen(kmodel_root);
	if (n <= 0)
		return kmodel_real_write(fd, buf, len);
	path[n] = '\0';
	if (strncmp(path, kmodel_root, rl) != 0 || path[rl] != '/' || strncmp(path + rl, "/.kmodel/", 9) == 0)
		return kmodel_real_write(fd, buf, len);
	rel = path + rl;
	/* Only sysfs reacts; config files and state are plain files. */
	if (strncmp(rel, "/sys/", 5) != 0)
		return kmodel_real_write(fd, buf, len);
	snprintf(value, sizeof(value), "%.*s", (int)(len < sizeof(value) ? len : sizeof(value) - 1), (const char *)buf);
	log_write(rel, value, len);
	e = injected_errno(rel);
	if (!e)
		e = matrix_fault();
	if (e) {
		errno = e;
		return -1;
	}
	for (size_t a = 0; a < sizeof(areas) / sizeof(areas[0]); a++)
		for (const struct kmodel_rule *r = areas[a]; r && r->pattern; r++)
			if (fnmatch(r->pattern, rel, FNM_PATHNAME) == 0) {
				ssize_t ret = r->handler(fd, path, value, len);
				matrix_kill();
				if (ret < 0) {
					errno = (int)-ret;
					return -1;
				}
				return ret;
			}
	/* A plain attribute: the write replaces the value. */
	if (ftruncate(fd, 0) < 0)
		return -1;
	n = pwrite(fd, buf, len, 0);
	matrix_kill();
	return n;
}
