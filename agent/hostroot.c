#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpulist.h"
#include "hostroot.h"
#include "snapshot.h"

/* While hr->memo is set (the engine only reads), each file is read once and
 * kept in the run's snapshot; a write forgets everything kept. */
static void memo_forget(const struct hostroot *hr)
{
	if (hr->memo)
		memo_clear(hr->memo);
}

int hr_init(struct hostroot *hr, const char *dir)
{
	char real[4096];

	memset(hr, 0, sizeof(*hr));
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

static int vpath(const struct hostroot *hr, char *buf, size_t len, const char *fmt, va_list ap)
{
	char host[4096];
	int n = vsnprintf(host, sizeof(host), fmt, ap);

	if (n < 0 || (size_t)n >= sizeof(host))
		return -ENAMETOOLONG;
	if (!host_path_valid(host))
		return -EINVAL;
	n = snprintf(buf, len, "%s%s", hr->dir, host);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

#define VPATH(hr, buf, fmt) ({ va_list _ap; va_start(_ap, fmt); \
	int _r = vpath(hr, buf, sizeof(buf), fmt, _ap); va_end(_ap); _r; })

int hr_path(const struct hostroot *hr, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vpath(hr, buf, len, fmt, ap);
	va_end(ap);
	return r;
}

/* stat(2)'s mode, or -errno. */
static int mode_of(const struct hostroot *hr, const char *p, mode_t *mode)
{
	bool fresh = true;
	struct memo_value *v = hr->memo ? memo_slot(hr->memo, MEMO_STAT, p, &fresh) : NULL;
	struct stat st;
	int r;

	if (v && !fresh && v->r != -EAGAIN) {
		*mode = v->mode;
		return v->r;
	}
	r = stat(p, &st) < 0 ? -errno : 0;
	*mode = r == 0 ? st.st_mode : 0;
	if (v)
		memo_keep(hr->memo, v, r, NULL, NULL, *mode);
	return r;
}

bool hr_exists(const struct hostroot *hr, const char *fmt, ...)
{
	char p[4096];
	mode_t mode;

	return VPATH(hr, p, fmt) == 0 && mode_of(hr, p, &mode) == 0;
}

bool hr_is_dir(const struct hostroot *hr, const char *fmt, ...)
{
	char p[4096];
	mode_t mode;

	return VPATH(hr, p, fmt) == 0 && mode_of(hr, p, &mode) == 0 && S_ISDIR(mode);
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

static int read_path_live(const char *p, char **ret)
{
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return read_fd_all(fd, ret);
}

static int read_path(const struct hostroot *hr, const char *p, char **ret)
{
	bool fresh = true;
	struct memo_value *v = hr->memo ? memo_slot(hr->memo, MEMO_READ, p, &fresh) : NULL;
	int r;

	if (v && !fresh && v->r != -EAGAIN) {
		if (v->r < 0)
			return v->r;
		*ret = strdup(v->data);
		return *ret ? 0 : -ENOMEM;
	}
	r = read_path_live(p, ret);
	if (v)
		memo_keep(hr->memo, v, r, r == 0 ? *ret : NULL, NULL, 0);
	return r;
}

int hr_read(const struct hostroot *hr, char **ret, const char *fmt, ...)
{
	char p[4096];
	int r = VPATH(hr, p, fmt);

	return r < 0 ? r : read_path(hr, p, ret);
}

static int read_line_path(const struct hostroot *hr, const char *p, char *buf, size_t len)
{
	_cleanup_free_ char *all = NULL;
	int r = read_path(hr, p, &all);
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
	char p[4096];
	int r = VPATH(hr, p, fmt);

	return r < 0 ? r : read_line_path(hr, p, buf, len);
}

int hr_read_u64(const struct hostroot *hr, uint64_t *ret, const char *fmt, ...)
{
	char p[4096], line[64], *end;
	int r = VPATH(hr, p, fmt);
	unsigned long long v;

	if (r < 0 || (r = read_line_path(hr, p, line, sizeof(line))) < 0)
		return r;
	errno = 0;
	v = strtoull(line, &end, 10);
	if (errno || end == line || (*end && *end != ' ') || line[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

int hr_read_cpulist(const struct hostroot *hr, struct cpuset *ret, const char *fmt, ...)
{
	char p[4096];
	_cleanup_free_ char *s = NULL;
	int r = VPATH(hr, p, fmt);

	if (r < 0 || (r = read_path(hr, p, &s)) < 0)
		return r;
	return cpuset_parse(ret, s, NULL);
}

int hr_read_choice(const struct hostroot *hr, char *sel, size_t sel_len, char *all, size_t all_len,
		   const char *fmt, ...)
{
	char p[4096], line[512], *o, *c;
	int r = VPATH(hr, p, fmt);

	if (r < 0 || (r = read_line_path(hr, p, line, sizeof(line))) < 0)
		return r;
	o = strchr(line, '[');
	c = o ? strchr(o, ']') : NULL;
	if (sel) {
		if (!o || !c || (size_t)(c - o - 1) >= sel_len)
			return -EINVAL;
		memcpy(sel, o + 1, (size_t)(c - o - 1));
		sel[c - o - 1] = '\0';
	}
	if (all) {
		size_t j = 0;
		for (size_t i = 0; line[i] && j + 1 < all_len; i++)
			if (line[i] != '[' && line[i] != ']')
				all[j++] = line[i];
		all[j] = '\0';
	}
	return 0;
}

static int readlink_path(const struct hostroot *hr, const char *p, char *target, size_t len)
{
	bool fresh = true;
	struct memo_value *v = hr->memo ? memo_slot(hr->memo, MEMO_LINK, p, &fresh) : NULL;
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
	n = readlink(p, target, len - 1);
	r = n < 0 ? -errno : 0;
	target[n < 0 ? 0 : n] = '\0';
	if (v)
		memo_keep(hr->memo, v, r, r == 0 ? target : NULL, NULL, 0);
	return r;
}

int hr_readlink(const struct hostroot *hr, char *buf, size_t len, bool basename_only, const char *fmt, ...)
{
	char p[4096], target[4096];
	int r = VPATH(hr, p, fmt);
	const char *b;

	if (r < 0 || (r = readlink_path(hr, p, target, sizeof(target))) < 0)
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

static int list_path(const char *p, char ***ret)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	d = opendir(p);
	if (!d)
		return -errno;
	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	while ((de = readdir(d))) {
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
	qsort(v, n, sizeof(char *), cmp_str);
	*ret = TAKE_PTR(v);
	return 0;
}

int hr_list(const struct hostroot *hr, char ***ret, const char *fmt, ...)
{
	char p[4096];
	int r = VPATH(hr, p, fmt);
	bool fresh = true;
	struct memo_value *v;

	if (r < 0)
		return r;
	v = hr->memo ? memo_slot(hr->memo, MEMO_LIST, p, &fresh) : NULL;
	if (v && !fresh && v->r != -EAGAIN) {
		if (v->r < 0)
			return v->r;
		*ret = strv_copy(v->list);
		return *ret ? 0 : -ENOMEM;
	}
	r = list_path(p, ret);
	if (v)
		memo_keep(hr->memo, v, r, NULL, r == 0 ? *ret : NULL, 0);
	return r;
}

int hr_write_attr(struct hostroot *hr, const char *value, char *readback, size_t rb_len, const char *fmt, ...)
{
	char p[4096];
	int r = VPATH(hr, p, fmt);
	size_t len = strlen(value);
	ssize_t n;

	if (r < 0)
		return r;
	{
		/* O_TRUNC is ignored by sysfs and keeps a fake host's plain files exact. */
		_cleanup_close_ int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		hr->writes++;
		memo_forget(hr);
		n = write(fd, value, len);
		if (n < 0)
			return -errno;
		if ((size_t)n != len)
			return -EIO;
	}
	if (readback)
		return read_line_path(hr, p, readback, rb_len);
	return 0;
}

static int mkdir_parents(char *path)
{
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int r = -errno;
			*s = '/';
			return r;
		}
		*s = '/';
	}
	return 0;
}

int hr_mkdir_p(struct hostroot *hr, const char *fmt, ...)
{
	char p[4096];
	int r = VPATH(hr, p, fmt);
	size_t l;

	if (r < 0)
		return r;
	memo_forget(hr);
	l = strlen(p);
	if (l + 1 >= sizeof(p))
		return -ENAMETOOLONG;
	p[l] = '/';
	p[l + 1] = '\0';
	return mkdir_parents(p);
}

int hr_replace_file(struct hostroot *hr, const char *content, mode_t mode, const char *fmt, ...)
{
	char p[4096], tmp[4200], dir[4096];
	int r = VPATH(hr, p, fmt);
	_cleanup_close_ int dfd = -1;
	int fd;
	size_t len = strlen(content), off = 0;

	if (r < 0 || (r = mkdir_parents(p)) < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.hostprep-XXXXXX", p);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	hr->writes++;
	memo_forget(hr);
	while (off < len) {
		ssize_t n = write(fd, content + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, p) < 0) {
		r = -errno;
		goto fail;
	}
	strcpy(dir, p);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int hr_unlink(struct hostroot *hr, const char *fmt, ...)
{
	char p[4096];
	int r = VPATH(hr, p, fmt);

	if (r < 0)
		return r;
	if (unlink(p) < 0)
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
			return pid;
		}
	}
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

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
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
