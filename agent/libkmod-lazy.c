/* libkmod, loaded on first use.  libkmod pulls in libcrypto (module
 * signatures), whose 20,000 relocations were 80% of the dynamic loader's work
 * at every start and 1.7 MiB of resident memory, while most runs never ask
 * libkmod anything.  The binary is not linked with libkmod: these functions
 * stand for the libkmod calls agent/kmodules.c makes, and the first one
 * dlopen()s the library.  libkmod_open() loads it ahead, e.g. before a
 * process enters another root, where the library is not ours to load. */
#include <dlfcn.h>
#include <errno.h>
#include <libkmod.h>
#include <stdbool.h>
#include <stddef.h>

#include "kmodules.h"
#include "lazy.h"
#include "log.h"

static void *lib;

int libkmod_open(void)
{
	static bool failed;

	if (lib)
		return 0;
	if (failed)
		return -ENOENT;
	lib = dlopen("libkmod.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		failed = true;
		log_error("loading libkmod: %s", dlerror());
		return -ENOENT;
	}
	return 0;
}

static void *sym(const char *name)
{
	void *f = libkmod_open() == 0 ? dlsym(lib, name) : NULL;

	if (lib && !f)
		log_error("libkmod has no %s", name);
	return f;
}

/* The real function, looked up once, or the value libkmod returns for a failure. */
#define FORWARD(ret, name, params, args, failure) LAZY_FORWARD(sym, ret, name, params, args, failure)

FORWARD(struct kmod_ctx *, kmod_new, (const char *dirname, const char *const *config_paths),
	(dirname, config_paths), NULL)
FORWARD(struct kmod_ctx *, kmod_unref, (struct kmod_ctx *ctx), (ctx), NULL)
FORWARD(int, kmod_module_new_from_name, (struct kmod_ctx *ctx, const char *name, struct kmod_module **mod),
	(ctx, name, mod), -ENOSYS)
FORWARD(int, kmod_module_new_from_lookup, (struct kmod_ctx *ctx, const char *given_alias, struct kmod_list **list),
	(ctx, given_alias, list), -ENOSYS)
FORWARD(struct kmod_module *, kmod_module_get_module, (const struct kmod_list *entry), (entry), NULL)
FORWARD(struct kmod_list *, kmod_list_next, (const struct kmod_list *list, const struct kmod_list *curr),
	(list, curr), NULL)
FORWARD(const char *, kmod_module_get_options, (const struct kmod_module *mod), (mod), NULL)
FORWARD(int, kmod_module_probe_insert_module,
	(struct kmod_module *mod, unsigned int flags, const char *extra_options,
	 int (*run_install)(struct kmod_module *m, const char *cmdline, void *data), const void *data,
	 void (*print_action)(struct kmod_module *m, bool install, const char *options)),
	(mod, flags, extra_options, run_install, data, print_action), -ENOSYS)
FORWARD(int, kmod_module_remove_module, (struct kmod_module *mod, unsigned int flags), (mod, flags), -ENOSYS)
FORWARD(struct kmod_module *, kmod_module_unref, (struct kmod_module *mod), (mod), NULL)
FORWARD(int, kmod_module_unref_list, (struct kmod_list *list), (list), -ENOSYS)
