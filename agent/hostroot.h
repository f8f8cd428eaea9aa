/* The host-root layer: every file the agent reads or writes goes through
 * here, so that --root moves all of them at once.  Paths given to these
 * functions are absolute host paths ("/sys/..."), formatted printf-style.
 *
 * Under a root other than / every path resolves inside it, symlinks
 * included, as the kernel resolves paths for a process chrooted there: an
 * absolute link is relative to the root and ".." stops at it (openat2() with
 * RESOLVE_IN_ROOT against a descriptor of the root).  The real root uses
 * plain calls. */
#ifndef HOSTPREP_HOSTROOT_H
#define HOSTPREP_HOSTROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "macro.h"

struct cpuset;
struct hr_memo;
struct hr_unread;

struct hostroot {
	char dir[4096];        /* "" for the real root, else the --root directory */
	bool is_real;          /* root is "/" */
	int fd;                /* O_PATH descriptor of dir; -1 for the real root */
	unsigned writes;       /* attribute writes and file replacements done */
	struct hr_memo *memo;  /* set: reads come from the run's snapshot, each
				  file read once; any write forgets them (snapshot.h) */
	struct hr_unread *unread; /* reads that failed, for the run to say (hr_unread_next) */
};

/* -ENOSYS under a root other than / when the kernel has no openat2() (< 5.6):
 * such a root cannot be confined, so it is refused. */
int hr_init(struct hostroot *hr, const char *dir);
void hr_free(struct hostroot *hr);

/* A read of the host (read, stat, readlink, directory listing) that failed
 * with an error other than "not there" (ENOENT, ENOTDIR) is kept, each host
 * path once: callers may treat the file as absent or fail closed, but the
 * run says every such error (engine_say_unread).  Iterate with *i = 0; returns
 * false at the end. */
bool hr_unread_next(const struct hostroot *hr, size_t *i, const char **path, int *err);
/* Keeps r (a -errno, if not "not there") for path; for a read outside the
 * layer (a tool's output), path says what was read. */
void hr_note_unread(const struct hostroot *hr, const char *path, int r);

/* The real path of a host path under the root, for messages and for tools run
 * chrooted into the root.  Never open it: that would follow symlinks out of
 * the root (use hr_open).  -ENAMETOOLONG, -EINVAL for relative or
 * ".."-carrying paths. */
int hr_path(const struct hostroot *hr, char *buf, size_t len, const char *fmt, ...) PRINTF_FMT(4, 5);

/* open(2) of a host path resolved inside the root (O_CLOEXEC added); the
 * descriptor or -errno. */
int hr_open(const struct hostroot *hr, int flags, mode_t mode, const char *fmt, ...) PRINTF_FMT(4, 5);
/* stat(2) (symlinks followed, inside the root). */
int hr_stat(const struct hostroot *hr, struct stat *st, const char *fmt, ...) PRINTF_FMT(3, 4);

/* stat(2)'s mode (symlinks followed, inside the root; from the snapshot while
 * reads are memoized), or -errno: hr_exists and hr_is_dir without losing the error. */
int hr_mode(const struct hostroot *hr, mode_t *mode, const char *fmt, ...) PRINTF_FMT(3, 4);
bool hr_exists(const struct hostroot *hr, const char *fmt, ...) PRINTF_FMT(2, 3);
bool hr_is_dir(const struct hostroot *hr, const char *fmt, ...) PRINTF_FMT(2, 3);

/* Whole file, trailing newlines removed; *ret is malloc'ed. */
int hr_read(const struct hostroot *hr, char **ret, const char *fmt, ...) PRINTF_FMT(3, 4);
/* First line into buf (newline removed). */
int hr_read_line(const struct hostroot *hr, char *buf, size_t len, const char *fmt, ...) PRINTF_FMT(4, 5);
int hr_read_u64(const struct hostroot *hr, uint64_t *ret, const char *fmt, ...) PRINTF_FMT(3, 4);
int hr_read_cpulist(const struct hostroot *hr, struct cpuset *ret, const char *fmt, ...) PRINTF_FMT(3, 4);
/* "always [madvise] never": the bracketed word into sel (may be NULL), the
 * whole list, brackets removed, into all (may be NULL). */
int hr_read_choice(const struct hostroot *hr, char *sel, size_t sel_len, char *all, size_t all_len,
		   const char *fmt, ...) PRINTF_FMT(6, 7);
/* Target of a symlink, last component only when basename_only. */
int hr_readlink(const struct hostroot *hr, char *buf, size_t len, bool basename_only, const char *fmt, ...)
	PRINTF_FMT(5, 6);

/* Sorted directory entries (no dot entries), NULL-terminated; free with strv_free. */
int hr_list(const struct hostroot *hr, char ***ret, const char *fmt, ...) PRINTF_FMT(3, 4);

/* One write() of value to an existing attribute, then read it back into
 * readback (may be NULL).  Returns 0 or -errno of the write. */
int hr_write_attr(struct hostroot *hr, const char *value, char *readback, size_t rb_len, const char *fmt, ...)
	PRINTF_FMT(5, 6);

/* Atomic replace: temp file NAME.hostprep-XXXXXX in the same directory, fsync,
 * rename, fsync dir.  Creates missing parent directories (0755).  Temp files
 * of ours that an interrupted run left in that directory are removed first
 * (hr_unlink does the same): only one apply runs at a time. */
int hr_replace_file(struct hostroot *hr, const char *content, mode_t mode, const char *fmt, ...) PRINTF_FMT(4, 5);
int hr_unlink(struct hostroot *hr, const char *fmt, ...) PRINTF_FMT(2, 3);
int hr_mkdir_p(struct hostroot *hr, const char *fmt, ...) PRINTF_FMT(2, 3);

/* First process that holds the device node (a host path such as
 * "/dev/vfio/12") open, by a scan of /proc/PID/fd under the root; a process
 * of a --root host may show the node at its rooted path, which counts too.
 * Returns its pid and its comm, 0 when none, or -errno. */
long hr_node_holder(const struct hostroot *hr, const char *node, char *comm, size_t comm_len);

/* A name taken from a profile that will become one path component. */
bool path_component_valid(const char *name);

void strv_free(char **v);
size_t strv_length(char *const *v);
/* A copy of a NULL-terminated list; NULL without memory. */
char **strv_copy(char *const *v);
/* Append s (taken over, freed on failure; NULL means -ENOMEM) to v of length *n. */
int strv_push(char ***v, size_t *n, char *s);
static inline void strv_freep(char ***v) { strv_free(*v); }
#define _cleanup_strv_free_ _cleanup_(strv_freep)

#endif
