/* Libraries that open files by path themselves (libpci, libkmod) cannot go
 * through hostroot.  Under a root other than / their work runs in a child
 * process chrooted into the root, so that the kernel resolves every path
 * they open inside it, symlinks included.  On the real root the work runs in
 * this process. */
#ifndef HOSTPREP_CONFINE_H
#define HOSTPREP_CONFINE_H

#include <stddef.h>

struct hostroot;

/* Returns 0 or -errno; on success *out (malloc'ed, *out_len bytes, may be
 * NULL).  It may run in a child that shares this process's memory (vfork):
 * it must close every descriptor it opens and free what it does not return. */
typedef int (*confine_fn)(void *arg, void **out, size_t *out_len);

/* fn's return value and result, run confined to the root.  -EPERM when the
 * child cannot enter the root (no CAP_SYS_CHROOT and no user namespace). */
int confine_call(const struct hostroot *hr, confine_fn fn, void *arg, void **out, size_t *out_len);

#endif
