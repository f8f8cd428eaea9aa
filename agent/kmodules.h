/* Kernel modules through libkmod, rooted under the host root: module state
 * from /sys/module, options from modprobe.d, load/unload on the real root only. */
#ifndef HOSTPREP_KMODULES_H
#define HOSTPREP_KMODULES_H

#include <stdbool.h>

struct ctx;

/* /sys/module/NAME exists under the root (dashes and underscores are one). */
bool kmodules_is_loaded(struct ctx *ctx, const char *name);
/* /sys/module/NAME/refcnt: >= 0, or -errno. */
int kmodules_refcnt(struct ctx *ctx, const char *name);
/* Load with modprobe semantics (dependencies, modprobe.d options).  Returns
 * -EOPNOTSUPP under a root other than /: the caller reports "skipped". */
int kmodules_load(struct ctx *ctx, const char *name);
int kmodules_unload(struct ctx *ctx, const char *name);

/* The options modprobe passes to NAME from the modprobe.d directories under
 * the root, read by libkmod ("" for none); *ret is malloc'ed. */
int kmodules_options(struct ctx *ctx, const char *name, char **ret);
/* Where param of NAME is set: "FILE VALUE" for each "options NAME" line
 * setting it, in the order modprobe reads the files. */
int kmodules_option_sources(struct ctx *ctx, const char *name, const char *param, char ***ret);

/* Loads libkmod now (agent/libkmod-lazy.c: it is otherwise loaded on first
 * use): 0, or -ENOENT when it cannot be loaded. */
int libkmod_open(void);

#endif
