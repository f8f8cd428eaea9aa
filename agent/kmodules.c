#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "engine.h"
#include "kmodules.h"

static void module_name(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s", name);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
}

bool kmodules_is_loaded(struct ctx *ctx, const char *name)
{
	char n[128];

	module_name(name, n, sizeof(n));
	return path_component_valid(n) && hr_is_dir(&ctx->hr, "/sys/module/%s", n);
}

int kmodules_refcnt(struct ctx *ctx, const char *name)
{
	char n[128];
	uint64_t v;
	int r;

	module_name(name, n, sizeof(n));
	if (!path_component_valid(n))
		return -EINVAL;
	r = hr_read_u64(&ctx->hr, &v, "/sys/module/%s/refcnt", n);
	return r < 0 ? r : (int)(v > 1u << 30 ? 1u << 30 : v);
}

static void kmod_unrefp(struct kmod_ctx **k) { if (*k) kmod_unref(*k); }

/* Loading and unloading act on the running kernel: only on the real root. */
static int with_module(struct ctx *ctx, const char *name, bool load)
{
	_cleanup_(kmod_unrefp) struct kmod_ctx *k = NULL;
	struct kmod_list *list = NULL, *l;
	int r;

	if (!ctx->hr.is_real)
		return -EOPNOTSUPP;
	k = kmod_new(NULL, NULL);
	if (!k)
		return -ENOMEM;
	r = kmod_module_new_from_lookup(k, name, &list);
	if (r < 0)
		return r;
	if (!list)
		return -ENOENT;
	kmod_list_foreach(l, list) {
		struct kmod_module *m = kmod_module_get_module(l);

		if (load)
			r = kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
		else
			r = kmod_module_remove_module(m, 0);
		kmod_module_unref(m);
		if (r < 0)
			break;
	}
	kmod_module_unref_list(list);
	return r > 0 ? -EPERM : r;   /* > 0: blacklisted */
}

int kmodules_load(struct ctx *ctx, const char *name)
{
	if (kmodules_is_loaded(ctx, name))
		return 0;
	return with_module(ctx, name, true);
}

int kmodules_unload(struct ctx *ctx, const char *name)
{
	if (!kmodules_is_loaded(ctx, name))
		return 0;
	return with_module(ctx, name, false);
}
