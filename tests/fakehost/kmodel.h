/* Test-only model of the kernel's reactions to sysfs writes on a fake host.
 * Loaded with LD_PRELOAD into hostprep; HOSTPREP_KMODEL_ROOT names the fake
 * root.  Each area (hugepages, PCI, ...) registers handlers by path suffix. */
#ifndef HOSTPREP_KMODEL_H
#define HOSTPREP_KMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Returns bytes "written" (usually len) or -errno; path is the real path of fd. */
typedef ssize_t (*kmodel_handler)(int fd, const char *path, const char *value, size_t len);

struct kmodel_rule {
	const char *pattern;   /* fnmatch pattern on the path below the root */
	kmodel_handler handler;
};

extern const char *kmodel_root;

/* Helpers for handlers. */
int kmodel_read_long(const char *path, long *v);
int kmodel_write_str(const char *path, const char *s);       /* replace file contents */
int kmodel_write_fd(int fd, const char *s);                  /* replace contents of an open file */
/* Path under the root: kmodel_path(buf, "/.kmodel/%s", x). */
int kmodel_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
ssize_t kmodel_real_write(int fd, const void *buf, size_t len);
/* rm -rf, as a device that goes away takes its sysfs directory with it. */
void kmodel_rm_tree(const char *path);

#endif
