#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpulist.h"
#include "hostroot.h"
#include "log.h"
#include "snapshot.h"
#include "util.h"

/* RESOLVE_IN_ROOT: absolute links and ".." stay inside the root, as in a
 * chroot.  Magic links (/proc/PID/fd/N) could point anywhere: refused. */
#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int openat2_in_root(int rootfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = IN_ROOT,
	};

	/* EAGAIN: a rename somewhere raced with a ".." step; the kernel asks for a retry. */
	for (int i = 0; i < 64; i++) {
		long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));

		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			break;
	}
	return -errno;
}

struct hr_unread {
	struct failed_read {
		char *path;
		int err;
	} *v;
	size_t n;
	unsigned quiet;   /* > 0: scanning what may vanish meanwhile (/proc/PID) */
};

void hr_note_unread(const struct hostroot *hr, const char *host, int r)
{
	struct hr_unread *u = hr->unread;
	struct failed_read *nv;

	if (r >= 0 || r == -ENOENT || r == -ENOTDIR || !u || u->quiet)
		return;
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->v[i].path, host) == 0)
			return;
	nv = realloc(u->v, (u->n + 1) * sizeof(*nv));
	if (!nv)
		return;
	u->v = nv;
	if ((nv[u->n].path = strdup(host))) {
		nv[u->n].err = -r;
		u->n++;
	}
}

bool hr_unread_next(const struct hostroot *hr, size_t *i, const char **path, int *err)
{
	if (!hr->unread || *i >= hr->unread->n)
		return false;
	*path = hr->unread->v[*i].path;
	*err = hr->unread->v[*i].err;
	(*i)++;
	return true;
}

void hr_free(struct hostroot *hr)
{
	if (hr->unread) {
		for (size_t i = 0; i < hr->unread->n; i++)
			free(hr->unread->v[i].path);
		free(hr->unread->v);
		free(hr->unread);
	}
	if (hr->fd >= 0)
		close(hr->fd);
	memset(hr, 0, sizeof(*hr));
	hr->fd = -1;
}

/* While hr->memo is set (the engine only reads), each file is read once and
 * kept in the run's snapshot, keyed by host path; a write forgets everything kept. */
static void memo_forget(const struct hostroot *hr)
{
	if (hr->memo)
		memo_clear(hr->memo);
}

int hr_init(struct hostroot *hr, const char *dir)
{
	char real[4096];
	int fd;

	memset(hr, 0, sizeof(*hr));
	hr->fd = -1;
	hr->unread = calloc(1, sizeof(*hr->unread));
	if (!hr->unread)
		return -ENOMEM;
	if (!dir || !*dir)
		dir = "/";
	if (!realpath(dir, real))
		return -errno;
	if (strcmp(real, "/") == 0) {
		hr->is_real = true;
		return 0;
	}
	if (strlen(real) >= sizeof(hr->dir))
		return -ENAMETOOLONG;
	strcpy(hr->dir, real);
	fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Without openat2 (Linux < 5.6) nothing could keep paths inside the root. */
	{
		int probe = openat2_in_root(fd, ".", O_PATH | O_DIRECTORY, 0);

		if (probe < 0) {
			close(fd);
			return probe;
		}
		close(probe);
	}
	hr->fd = fd;
	return 0;
}

static bool host_path_valid(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *c = p; (c = strstr(c, "/..")); c += 3)
		if (c[3] == '/' || c[3] == '\0')
			return false;
	return true;
}

/* The host path (validated) from a format. */
static int vhost(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, len, fmt, ap);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return host_path_valid(buf) ? 0 : -EINVAL;
}

#define VHOST(buf, fmt) ({ va_list _ap; va_start(_ap, fmt); \
	int _r = vhost(buf, sizeof(buf), fmt, _ap); va_end(_ap); _r; })

int hr_path(const struct hostroot *hr, char *buf, size_t len, const char *fmt, ...)
{
	char host[4096];
	int r = VHOST(host, fmt), n;

	if (r < 0)
		return r;
	n = snprintf(buf, len, "%s%s", hr->dir, host);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Every open of the layer: the host path resolved inside the root. */
static int open_host(const struct hostroot *hr, const char *host, int flags, mode_t mode)
{
	int fd;

	if (hr->is_real) {
		fd = open(host, flags | O_CLOEXEC, mode);
		return fd < 0 ? -errno : fd;
	}
	while (*host == '/')
		host++;
	return openat2_in_root(hr->fd, *host ? host : ".", flags, mode);
}

/* The directory holding the last component of host, opened with flags, and
 * that component into base. */
static int open_parent(const struct hostroot *hr, const char *host, int flags, char *base, size_t len)
{
	char dir[4096];
	size_t l = strlen(host);
	const char *slash;

	while (l > 1 && host[l - 1] == '/')
		l--;
	if (l >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, host, l);
	dir[l] = '\0';
	slash = strrchr(dir, '/');
	if (!slash || !slash[1] || strcmp(slash + 1, ".") == 0)
		return -EINVAL;
	if (strlen(slash + 1) >= len)
		return -ENAMETOOLONG;
	strcpy(base, slash + 1);
	dir[slash == dir ? 1 : slash - dir] = '\0';
	return open_host(hr, dir, flags | O_DIRECTORY, 0);
}

int hr_open(const struct hostroot *hr, int flags, mode_t mode, const char *fmt, ...)
{
	char host[4096];
	int r = VHOST(host, fmt);

	return r < 0 ? r : open_host(hr, host, flags, mode);
}

static int stat_host(const struct hostroot *hr, const char *host, struct stat *st)
{
	_cleanup_close_ int fd = open_host(hr, host, O_PATH, 0);
	int r = fd < 0 ? fd : fstat(fd, st) < 0 ? -errno : 0;

	hr_note_unread(hr, host, r);
	return r;
}

int hr_stat(const struct hostroot *hr, struct stat *st, const char *fmt, ...)
{
	char host[4096];
	int r = VHOST(host, fmt);

	return r < 0 ? r : stat_host(hr, host, st);
}

/* stat(2)'s mode inside the root, or -errno. */
static int mode_of(const struct hostroot *hr, const char *host, mode_t *mode)
{
	bool fresh = true;
	struct memo_value *v = hr->memo ? memo_slot(hr->memo, MEMO_STAT, host, &fresh) : NULL;
	struct stat st;
	int r;

	if (v && !fresh && v->r != -EAGAIN) {
		*mode = v->mode;
		return v->r;
	}
	r = stat_host(hr, host, &st);
	*mode = r == 0 ? st.st_mode : 0;
	if (v)
		memo_keep(hr->memo, v, r, NULL, NULL, *mode);
	return r;
}

int hr_mode(const struct hostroot *hr, mode_t *mode, const char *fmt, ...)
{
	char host[4096];
	int r = VHOST(host, fmt);

	return r < 0 ? r : mode_of(hr, host, mode);
}

bool hr_exists(const struct hostroot *hr, const char *fmt, ...)
{
	char host[4096];
	mode_t mode;

	return VHOST(host, fmt) == 0 && mode_of(hr, host, &mode) == 0;
}

bool hr_is_dir(const struct hostroot *hr, const char *fmt, ...)
{
	char host[4096];
	mode_t mode;

	return VHOST(host, fmt) == 0 && mode_of(hr, host, &mode) == 0 && S_ISDIR(mode);
}

static int read_fd_all(int fd, char **ret)
{
	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

static int read_host_live(const struct hostroot *hr, const char *host, char **ret)
{
	_cleanup_close_ int fd = open_host(hr, host, O_RDONLY, 0);
	int r = fd < 0 ? fd : read_fd_all(fd, ret);

	hr_note_unread(hr, host, r);
	return r;
}

static int read_host(const struct hostroot *hr, const char *host, char **ret)
{
	bool fresh = true;
	struct memo_value *v = hr->memo ? memo_slot(hr->memo, MEMO_READ, host, &fresh) : NULL;
	int r;

	if (v && !fresh && v->r != -EAGAIN) {
		if (v->r < 0)
			return v->r;
		*ret = strdup(v->data);
		return *ret ? 0 : -ENOMEM;
	}
	r = read_host_live(hr, host, ret);
	if (v)
		memo_keep(hr->memo, v, r, r == 0 ? *ret : NULL, NULL, 0);
	return r;
}

int hr_read(const struct hostroot *hr, char **ret, const char *fmt, ...)
{
	char host[4096];
	int r = VHOST(host, fmt);

	return r < 0 ? r : read_host(hr, host, ret);
}

static int read_line_host(const struct hostroot *hr, const char *host, char *buf, size_t len)
{
	_cleanup_free_ char *all = NULL;
	int r = read_host(hr, host, &all);
	size_t n;

	if (r < 0)
		return r;
	n = strcspn(all, "\n");
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, all, n);
	buf[n] = '\0';
	return 0;
}

int hr_read_line(const struct hostroot *hr, char *buf, size_t len, const char *fmt, ...)
{
	char host[4096];
	int r = VHOST(host, fmt);

	return r < 0 ? r : read_line_host(hr, host, buf, len);
}

int hr_read_u64(const struct hostroot *hr, uint64_t *ret, const char *fmt, ...)
{
	char host[4096], line[64];
	int r = VHOST(host, fmt);

	if (r < 0 || (r = read_line_host(hr, host, line, sizeof(line))) < 0)
		return r;
	return sysfs_parse_u64(line, ret);
}

int hr_read_cpulist(const struct hostroot *hr, struct cpuset *ret, const char *fmt, ...)
{
	char host[4096];
	_cleanup_free_ char *s = NULL;
	int r = VHOST(host, fmt);

	if (r < 0 || (r = read_host(hr, host, &s)) < 0)
		return r;
	return cpuset_parse(ret, s, NULL);
}

int hr_read_choice(const struct hostroot *hr, char *sel, size_t sel_len, char *all, size_t all_len,
		   const char *fmt, ...)
{
	char host[4096], line[512];
	int r = VHOST(host, fmt);

	if (r < 0 || (r = read_line_host(hr, host, line, sizeof(line))) < 0)
		return r;
	return sysfs_parse_choice(line, sel, sel_len, all, all_len);
}

static int readlink_host(const struct hostroot *hr, const char *host, char *target, size_t len)
{
	bool fresh = true;
	struct memo_value *v = hr->memo ? memo_slot(hr->memo, MEMO_LINK, host, &fresh) : NULL;
	_cleanup_close_ int dfd = -1;
	char name[256];
	ssize_t n;
	int r;

	if (v && !fresh && v->r != -EAGAIN) {
		if (v->r < 0)
			return v->r;
		if (strlen(v->data) >= len)
			return -ENAMETOOLONG;
		strcpy(target, v->data);
		return 0;
	}
	/* The directories on the way resolve inside the root; the link itself is read, not followed. */
	dfd = open_parent(hr, host, O_PATH, name, sizeof(name));
	if (dfd < 0) {
		r = dfd;
		target[0] = '\0';
		hr_note_unread(hr, host, r);
	} else {
		n = readlinkat(dfd, name, target, len - 1);
		r = n < 0 ? -errno : 0;
		target[n < 0 ? 0 : n] = '\0';
		/* EINVAL: not a symlink, which says what it is. */
		if (r != -EINVAL)
			hr_note_unread(hr, host, r);
	}
	if (v)
		memo_keep(hr->memo, v, r, r == 0 ? target : NULL, NULL, 0);
	return r;
}

int hr_readlink(const struct hostroot *hr, char *buf, size_t len, bool basename_only, const char *fmt, ...)
{
	char host[4096], target[4096];
	int r = VHOST(host, fmt);
	const char *b;

	if (r < 0 || (r = readlink_host(hr, host, target, sizeof(target))) < 0)
		return r;
	b = basename_only && strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	if (strlen(b) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, b);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static int list_host(const struct hostroot *hr, const char *host, char ***ret)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r, fd;

	fd = open_host(hr, host, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	/* readdir() says an error only through errno: not a short directory. */
	while ((errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n + 1 >= cap) {
			char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(char *));
			if (!nv)
				return -ENOMEM;
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			return -ENOMEM;
		v[++n] = NULL;
	}
	if (errno)
		return -errno;
	qsort(v, n, sizeof(char *), cmp_str);
	*ret = TAKE_PTR(v);
	return 0;
}

int hr_list(const struct hostroot *hr, char ***ret, const char *fmt, ...)
{
	char host[4096];
	int r = VHOST(host, fmt);
	bool fresh = true;
	struct memo_value *v;

	if (r < 0)
		return r;
	v = hr->memo ? memo_slot(hr->memo, MEMO_LIST, host, &fresh) : NULL;
	if (v && !fresh && v->r != -EAGAIN) {
		if (v->r < 0)
			return v->r;
		*ret = strv_copy(v->list);
		return *ret ? 0 : -ENOMEM;
	}
	r = list_host(hr, host, ret);
	hr_note_unread(hr, host, r);
	if (v)
		memo_keep(hr->memo, v, r, NULL, r == 0 ? *ret : NULL, 0);
	return r;
}

int hr_write_attr(struct hostroot *hr, const char *value, char *readback, size_t rb_len, const char *fmt, ...)
{
	char host[4096];
	int r = VHOST(host, fmt);
	size_t len = strlen(value);
	ssize_t n;

	if (r < 0)
		return r;
	{
		/* O_TRUNC is ignored by sysfs and keeps a fake host's plain files exact. */
		_cleanup_close_ int fd = open_host(hr, host, O_WRONLY | O_TRUNC, 0);

		if (fd < 0)
			return fd;
		hr->writes++;
		memo_forget(hr);
		n = write(fd, value, len);
		if (n < 0)
			return -errno;
		if ((size_t)n != len)
			return -EIO;
	}
	if (readback)
		return read_line_host(hr, host, readback, rb_len);
	return 0;
}

/* mkdir -p inside the root; host is modified and restored. */
static int mkdir_host(const struct hostroot *hr, char *host)
{
	char base[256];
	_cleanup_close_ int dfd = -1;
	int fd = open_host(hr, host, O_PATH | O_DIRECTORY, 0);
	char *slash;
	int r;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd != -ENOENT)
		return fd;
	slash = strrchr(host, '/');
	if (!slash || slash == host) {
		dfd = open_parent(hr, host, O_PATH, base, sizeof(base));
	} else {
		*slash = '\0';
		r = mkdir_host(hr, host);
		*slash = '/';
		if (r < 0)
			return r;
		dfd = open_parent(hr, host, O_PATH, base, sizeof(base));
	}
	if (dfd < 0)
		return dfd;
	if (mkdirat(dfd, base, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* EEXIST from a link to nowhere inside the root: the open says so. */
	fd = open_host(hr, host, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int hr_mkdir_p(struct hostroot *hr, const char *fmt, ...)
{
	char host[4096];
	int r = VHOST(host, fmt);
	size_t l;

	if (r < 0)
		return r;
	memo_forget(hr);
	l = strlen(host);
	while (l > 1 && host[l - 1] == '/')
		host[--l] = '\0';
	return strcmp(host, "/") == 0 ? 0 : mkdir_host(hr, host);
}

#define TEMP_INFIX ".hostprep-"
#define TEMP_RANDOM 6

/* NAME.hostprep-XXXXXX, the temp file names hr_replace_file makes. */
static bool is_our_temp(const char *name)
{
	size_t l = strlen(name), il = strlen(TEMP_INFIX);

	if (l <= il + TEMP_RANDOM || strncmp(name + l - TEMP_RANDOM - il, TEMP_INFIX, il) != 0)
		return false;
	for (size_t i = l - TEMP_RANDOM; i < l; i++)
		if (!isalnum((unsigned char)name[i]))
			return false;
	return true;
}

/* Temp files an interrupted run left between write and rename.  Only one
 * apply runs at a time (the lock), so every one of them is stale. */
static void remove_stale_temps(struct hostroot *hr, int dfd, const char *host_dir)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		hr_note_unread(hr, host_dir, -errno);
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((errno = 0, de = readdir(d))) {
		struct stat st;

		if (!is_our_temp(de->d_name) || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0) {
			hr->writes++;
			memo_forget(hr);
			log_info("removed %s/%s, left by an interrupted run", strcmp(host_dir, "/") ? host_dir : "",
				 de->d_name);
		}
	}
	/* The temp files stay until a run can list the directory. */
	hr_note_unread(hr, host_dir, -errno);
	closedir(d);
}

/* A new, empty NAME.hostprep-XXXXXX in dfd. */
static int create_temp(int dfd, const char *base, char *name, size_t len)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	for (int attempt = 0; attempt < 100; attempt++) {
		unsigned char rnd[TEMP_RANDOM];
		size_t l;
		int fd;

		if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
			for (size_t i = 0; i < sizeof(rnd); i++)
				rnd[i] = (unsigned char)(rand() ^ getpid() ^ attempt);
		if ((size_t)snprintf(name, len, "%s" TEMP_INFIX, base) + TEMP_RANDOM >= len)
			return -ENAMETOOLONG;
		l = strlen(name);
		for (size_t i = 0; i < TEMP_RANDOM; i++)
			name[l + i] = chars[rnd[i] % (sizeof(chars) - 1)];
		name[l + TEMP_RANDOM] = '\0';
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

static int write_all(int fd, const char *content, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, content + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

int hr_replace_file(struct hostroot *hr, const char *content, mode_t mode, const char *fmt, ...)
{
	char host[4096], base[256], tmp[300];
	int r = VHOST(host, fmt), fd;
	_cleanup_close_ int dfd = -1;
	char *slash;

	if (r < 0)
		return r;
	slash = strrchr(host, '/');
	if (slash && slash != host) {
		*slash = '\0';
		r = mkdir_host(hr, host);
		*slash = '/';
		if (r < 0)
			return r;
	}
	if (!slash)
		return -EINVAL;   /* host paths are absolute */
	dfd = open_parent(hr, host, O_RDONLY, base, sizeof(base));
	if (dfd < 0)
		return dfd;
	*slash = '\0';
	remove_stale_temps(hr, dfd, slash == host ? "/" : host);
	*slash = '/';
	fd = create_temp(dfd, base, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	hr->writes++;
	memo_forget(hr);
	r = write_all(fd, content, strlen(content));
	if (r == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dfd, tmp, dfd, base) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		return r;
	}
	/* The new name is durable only once the directory is. */
	return fsync(dfd) < 0 ? -errno : 0;
}

int hr_unlink(struct hostroot *hr, const char *fmt, ...)
{
	char host[4096], base[256];
	int r = VHOST(host, fmt);
	_cleanup_close_ int dfd = -1;

	if (r < 0)
		return r;
	dfd = open_parent(hr, host, O_RDONLY, base, sizeof(base));
	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	{
		char *slash = strrchr(host, '/');

		*slash = '\0';
		remove_stale_temps(hr, dfd, slash == host ? "/" : host);
		*slash = '/';
	}
	if (unlinkat(dfd, base, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	hr->writes++;
	memo_forget(hr);
	return 0;
}

long hr_node_holder(const struct hostroot *hr, const char *node, char *comm, size_t comm_len)
{
	_cleanup_strv_free_ char **pids = NULL;
	char rooted[4096];
	int r = hr_path(hr, rooted, sizeof(rooted), "%s", node);

	if (r < 0 || (r = hr_list(hr, &pids, "/proc")) < 0)
		return r;
	/* A process may exit while it is looked at: only /proc itself counts. */
	hr->unread->quiet++;
	for (char **p = pids; *p; p++) {
		_cleanup_strv_free_ char **fds = NULL;
		char *end;
		long pid = strtol(*p, &end, 10);

		if (*end || pid <= 0 || hr_list(hr, &fds, "/proc/%s/fd", *p) < 0)
			continue;   /* not a process, gone, or not ours to look at */
		for (char **f = fds; *f; f++) {
			char target[4096];

			if (hr_readlink(hr, target, sizeof(target), false, "/proc/%s/fd/%s", *p, *f) < 0 ||
			    (strcmp(target, node) != 0 && strcmp(target, rooted) != 0))
				continue;
			if (hr_read_line(hr, comm, comm_len, "/proc/%s/comm", *p) < 0)
				snprintf(comm, comm_len, "?");
			hr->unread->quiet--;
			return pid;
		}
	}
	hr->unread->quiet--;
	return 0;
}

bool path_component_valid(const char *name)
{
	return name && *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
	       !strchr(name, '/') && strlen(name) < 256;
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **i = v; *i; i++)
		free(*i);
	free(v);
}

char **strv_copy(char *const *v)
{
	size_t n = strv_length(v);
	char **c = calloc(n + 1, sizeof(char *));

	for (size_t i = 0; c && i < n; i++)
		if (!(c[i] = strdup(v[i]))) {
			strv_free(c);
			return NULL;
		}
	return c;
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int strv_push(char ***v, size_t *n, char *s)
{
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	*v = nv;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	return 0;
}
