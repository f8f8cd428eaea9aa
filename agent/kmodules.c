#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "confine.h"
#include "engine.h"
#include "kmodules.h"
#include "util.h"

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

/* modprobe.d directories in libkmod's order of precedence. */
static const char *const config_dirs[] = { "/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
					   "/lib/modprobe.d", NULL };

struct options_job {
	const char *name;
	const char *moddir;          /* NULL: libkmod's default for the running kernel */
};

/* libkmod reads the modprobe.d files (and /proc/cmdline) itself: on a root
 * other than / this runs chrooted there (agent/confine.c). */
static int options_run(void *arg, void **out, size_t *out_len)
{
	const struct options_job *job = arg;
	_cleanup_(kmod_unrefp) struct kmod_ctx *k = NULL;
	struct kmod_module *m = NULL;
	const char *opts;
	int r;

	k = kmod_new(job->moddir, job->moddir ? (const char *const *)config_dirs : NULL);
	if (!k)
		return -ENOMEM;
	r = kmod_module_new_from_name(k, job->name, &m);
	if (r < 0)
		return r;
	opts = kmod_module_get_options(m);
	*out = strdup(opts ? opts : "");
	kmod_module_unref(m);
	if (!*out)
		return -ENOMEM;
	*out_len = strlen(*out) + 1;
	return 0;
}

int kmodules_options(struct ctx *ctx, const char *name, char **ret)
{
	char moddir[512];
	struct options_job job = { .name = name };
	void *out = NULL;
	size_t len = 0;
	int r;

	/* Loaded here, never in the chrooted child: there it would be the root's library. */
	if ((r = libkmod_open()) < 0)
		return r;
	if (!ctx->hr.is_real) {
		/* Another root: its own modules directory and modprobe.d files. */
		snprintf(moddir, sizeof(moddir), "/lib/modules/%s",
			 host_facts(ctx)->release[0] ? host_facts(ctx)->release : "unknown");
		job.moddir = moddir;
	}
	r = confine_call(&ctx->hr, options_run, &job, &out, &len);
	if (r < 0)
		return r;
	if (!out || len == 0 || ((char *)out)[len - 1] != '\0') {
		free(out);
		return -EIO;
	}
	*ret = out;
	return 0;
}

static int cmp_basename(const void *a, const void *b)
{
	const char *x = strrchr(*(char *const *)a, '/'), *y = strrchr(*(char *const *)b, '/');

	return strcmp(x ? x + 1 : *(char *const *)a, y ? y + 1 : *(char *const *)b);
}

/* *.conf of every directory, sorted by file name; the first directory wins a name. */
static int config_files(struct ctx *ctx, char ***ret)
{
	_cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t d = 0; config_dirs[d]; d++) {
		_cleanup_strv_free_ char **files = NULL;

		if (hr_list(&ctx->hr, &files, "%s", config_dirs[d]) < 0)
			continue;
		for (char **f = files; *f; f++) {
			size_t l = strlen(*f);
			bool taken = false;
			char **nv;

			if (l < 6 || strcmp(*f + l - 5, ".conf") != 0)
				continue;
			for (size_t i = 0; i < n; i++)
				taken |= strcmp(strrchr(v[i], '/') + 1, *f) == 0;
			if (taken)
				continue;
			nv = realloc(v, (n + 2) * sizeof(char *));
			if (!nv)
				return -ENOMEM;
			v = nv;
			if (!(v[n] = strdup_printf("%s/%s", config_dirs[d], *f)))
				return -ENOMEM;
			v[++n] = NULL;
		}
	}
	qsort(v, n, sizeof(char *), cmp_basename);
	*ret = TAKE_PTR(v);
	return 0;
}

int kmodules_option_sources(struct ctx *ctx, const char *name, const char *param, char ***ret)
{
	_cleanup_strv_free_ char **files = NULL, **v = calloc(1, sizeof(char *));
	char want[128];
	size_t n = 0, pl = strlen(param);
	int r = config_files(ctx, &files);

	if (r < 0)
		return r;
	if (!v)
		return -ENOMEM;
	module_name(name, want, sizeof(want));
	for (char **f = files; *f; f++) {
		_cleanup_free_ char *text = NULL;
		char *save = NULL;

		if (hr_read(&ctx->hr, &text, "%s", *f) < 0)
			continue;
		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char mod[128], norm[128], *w, *wsave = NULL;

			if (sscanf(l, " options %127s", mod) != 1)
				continue;
			module_name(mod, norm, sizeof(norm));
			if (strcmp(norm, want) != 0)
				continue;
			w = strtok_r(strstr(l, "options") + 7, " \t", &wsave);   /* the module name */
			while ((w = strtok_r(NULL, " \t", &wsave))) {
				char **nv;

				if (strncmp(w, param, pl) != 0 || w[pl] != '=')
					continue;
				nv = realloc(v, (n + 2) * sizeof(char *));
				if (!nv)
					return -ENOMEM;
				v = nv;
				if (!(v[n] = strdup_printf("%s %s", *f, w + pl + 1)))
					return -ENOMEM;
				v[++n] = NULL;
			}
		}
	}
	*ret = TAKE_PTR(v);
	return 0;
}
