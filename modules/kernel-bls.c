/* Bootloader backends for Boot Loader Specification systems:
 *  - "grubby" (Fedora, RHEL and kin): grubby --update-kernel=ALL --args/--remove-args,
 *    next boot from grubby --info=DEFAULT;
 *  - "kernel-cmdline" (kernel-install, systemd-boot, Proxmox): our tokens in
 *    /etc/kernel/cmdline, then the host's refresh command, next boot from the
 *    running kernel's loader entry when there is one.
 * Neither file says which arguments are ours, so the ones we added are
 * recorded under /var/lib/hostprep (record "kernel-args"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "exec.h"
#include "kernel.h"
#include "state.h"
#include "util.h"

#define RECORD "kernel-args"
#define KCMDLINE "/etc/kernel/cmdline"
#define TOOL_TIMEOUT_MS (120 * 1000)

static const char *const grubby_paths[] = { "/usr/sbin/grubby", "/sbin/grubby", "/usr/bin/grubby", NULL };
static const char *const loader_dirs[] = { "/boot/loader/entries", "/efi/loader/entries", "/boot/efi/loader/entries",
					   NULL };

/* Arguments of the profile we did not find already configured (or owned
 * before) become ours; the rest belong to whoever set them. */
static int new_owned(struct kboot *kb, char *const *before, char ***ret)
{
	char **v = calloc(strv_length(kb->desired) + 1, sizeof(char *));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (char **d = kb->desired; *d; d++)
		if (state_contains(kb->owned, *d) || !before || cmdline_find(before, *d, NULL) != CMDLINE_PRESENT)
			if (!(v[n++] = strdup(*d))) {
				strv_free(v);
				return -ENOMEM;
			}
	*ret = v;
	return 0;
}

/* Written before the configuration changes: every argument that is ours
 * before or after, so that a run killed half way leaves none unclaimed
 * (read_owned keeps only those the configuration still holds). */
static int record_intent(struct ctx *ctx, struct kboot *kb, char *const *owned, char **msg)
{
	_cleanup_strv_free_ char **v = calloc(strv_length(kb->owned) + strv_length(owned) + 1, sizeof(char *));
	size_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	for (char **o = kb->owned; *o; o++)
		if (!(v[n++] = strdup(*o)))
			return -ENOMEM;
	for (char *const *o = owned; *o; o++)
		if (!state_contains(v, *o) && !(v[n++] = strdup(*o)))
			return -ENOMEM;
	r = state_save(&ctx->hr, RECORD, v);
	if (r < 0)
		*msg = strdup_printf("recording our arguments under /var/lib/hostprep: %s", strerror(-r));
	return r;
}

static int record_final(struct ctx *ctx, char *const *owned, char **msg)
{
	int r = state_save(&ctx->hr, RECORD, owned);

	if (r < 0)
		*msg = strdup_printf("recording our arguments under /var/lib/hostprep: %s", strerror(-r));
	return r;
}

static char *join_removed(struct kboot *kb)
{
	_cleanup_free_ char **v = calloc(strv_length(kb->owned) + 1, sizeof(char *));
	size_t n = 0;

	if (!v)
		return NULL;
	for (char **o = kb->owned; *o; o++)
		if (!state_contains(kb->desired, *o))
			v[n++] = *o;
	return cmdline_join(v);
}

/* grubby -------------------------------------------------------------- */

static int grubby_read_owned(struct ctx *ctx, struct kboot *kb, char ***ret)
{
	(void)kb;
	return state_load(&ctx->hr, RECORD, ret);
}

char *bls_info_value(const char *info, const char *key)
{
	size_t kl = strlen(key);

	for (const char *l = info; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == '=') {
			const char *v = l + kl + 1;
			size_t n = strcspn(v, "\n");

			if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
				return strndup(v + 1, n - 2);
			return strndup(v, n);
		}
	return NULL;
}

static int grubby_read_next(struct ctx *ctx, struct kboot *kb, char ***ret, char **source)
{
	const char *tool = exec_find(&ctx->hr, grubby_paths);
	struct exec_result res;
	_cleanup_free_ char *args = NULL, *kernel = NULL;
	char last[256];
	int r;

	(void)kb;
	if (!tool) {
		*source = strdup("grubby: not found");
		return -ENOENT;
	}
	r = exec_run(&ctx->hr, (char *const[]){ (char *)tool, "--info=DEFAULT", NULL }, TOOL_TIMEOUT_MS, &res);
	if (r < 0 || res.status != 0) {
		*source = strdup_printf("grubby --info=DEFAULT: %s", r < 0 ? strerror(-r) :
					exec_diagnosis(&res, last, sizeof(last)));
		exec_result_free(&res);
		return r < 0 ? r : -EIO;
	}
	args = bls_info_value(res.out, "args");
	kernel = bls_info_value(res.out, "kernel");
	exec_result_free(&res);
	if (!args) {
		*source = strdup("grubby --info=DEFAULT: no args= line");
		return -ENOENT;
	}
	*source = strdup_printf("grubby --info=DEFAULT (%s)", kernel ? kernel : "default kernel");
	return cmdline_split(args, ret);
}

static int grubby_write(struct ctx *ctx, struct kboot *kb, char **msg)
{
	const char *tool = exec_find(&ctx->hr, grubby_paths);
	_cleanup_free_ char *add = cmdline_join(kb->desired), *remove = join_removed(kb);
	_cleanup_free_ char *add_opt = NULL, *remove_opt = NULL;
	_cleanup_strv_free_ char **owned = NULL;
	char *argv[6];
	size_t n = 0;
	int r;

	if (!tool) {
		*msg = strdup("grubby not found");
		return -ENOENT;
	}
	if (!add || !remove)
		return -ENOMEM;
	r = new_owned(kb, kb->next, &owned);
	if (r < 0)
		return r;
	argv[n++] = (char *)tool;
	argv[n++] = "--update-kernel=ALL";
	if (*add)
		argv[n++] = add_opt = strdup_printf("--args=%s", add);
	if (*remove)
		argv[n++] = remove_opt = strdup_printf("--remove-args=%s", remove);
	argv[n] = NULL;
	if ((*add && !add_opt) || (*remove && !remove_opt))
		return -ENOMEM;
	r = record_intent(ctx, kb, owned, msg);
	if (r == 0)
		r = kernel_run_tool(ctx, argv, TOOL_TIMEOUT_MS, msg);
	if (r == 0)
		r = record_final(ctx, owned, msg);
	return r;
}

char *bls_entry_options(char *text)
{
	char *joined = calloc(1, strlen(text) + 2), *save = NULL;

	if (!joined)
		return NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strncmp(l, "options", 7) == 0 && (l[7] == ' ' || l[7] == '\t')) {
			if (*joined)
				strcat(joined, " ");
			strcat(joined, l + 8);
		}
	return joined;
}

/* The options of the loader entry at path, as tokens. */
static int entry_options(struct ctx *ctx, const char *path, char ***ret)
{
	_cleanup_free_ char *text = NULL, *joined = NULL;
	int r = hr_read(&ctx->hr, &text, "%s", path);

	if (r < 0)
		return r;
	joined = bls_entry_options(text);
	if (!joined)
		return -ENOMEM;
	return cmdline_split(joined, ret);
}

/* A loader entry (name containing name_part, if given) whose options carry
 * token (any entry when token is NULL). */
static char *entry_with(struct ctx *ctx, const char *token, const char *name_part)
{
	for (const char *const *d = loader_dirs; *d; d++) {
		_cleanup_strv_free_ char **files = NULL;

		if (hr_list(&ctx->hr, &files, "%s", *d) < 0)
			continue;
		for (char **f = files; *f; f++) {
			_cleanup_strv_free_ char **tokens = NULL;
			char path[4096];
			size_t l = strlen(*f);

			if (l < 5 || strcmp(*f + l - 5, ".conf") != 0 || (name_part && !strstr(*f, name_part)))
				continue;
			snprintf(path, sizeof(path), "%s/%s", *d, *f);
			if (!token || (entry_options(ctx, path, &tokens) == 0 &&
				       cmdline_find(tokens, token, NULL) == CMDLINE_PRESENT))
				return strdup(path);
		}
	}
	return NULL;
}

static char *grubby_origin(struct ctx *ctx, struct kboot *kb, const char *token)
{
	(void)kb;
	return entry_with(ctx, token, NULL);
}

static char *no_override(struct ctx *ctx, struct kboot *kb)
{
	(void)ctx;
	(void)kb;
	return NULL;
}

/* grubby edits every entry; the default one stands for them. */
static int grubby_read_config(struct ctx *ctx, struct kboot *kb, char ***ret)
{
	(void)ctx;
	*ret = NULL;
	return kb->next ? cmdline_merge(kb->next, NULL, NULL, ret) : 0;
}

const struct boot_backend boot_grubby = {
	.name = "grubby",
	.config = "grubby --update-kernel=ALL",
	.read_owned = grubby_read_owned,
	.read_config = grubby_read_config,
	.read_next = grubby_read_next,
	.write = grubby_write,
	.origin = grubby_origin,
	.override = no_override,
};

/* /etc/kernel/cmdline ------------------------------------------------- */

static int read_kcmdline(struct ctx *ctx, char ***ret)
{
	_cleanup_free_ char *text = NULL;
	int r = hr_read(&ctx->hr, &text, KCMDLINE);

	if (r == -ENOENT)
		return (*ret = calloc(1, sizeof(char *))) ? 0 : -ENOMEM;
	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = '\0';
	return cmdline_split(text, ret);
}

static int kcmdline_read_owned(struct ctx *ctx, struct kboot *kb, char ***ret)
{
	_cleanup_strv_free_ char **record = NULL, **tokens = NULL;
	char **v;
	size_t n = 0;
	int r;

	r = state_load(&ctx->hr, RECORD, &record);
	if (r == 0)
		r = read_kcmdline(ctx, &tokens);
	if (r < 0)
		return r;
	/* Ours only while the file still has them. */
	v = calloc(strv_length(record) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (char **a = record; *a; a++)
		if (cmdline_find(tokens, *a, NULL) == CMDLINE_PRESENT && !(v[n++] = strdup(*a))) {
			strv_free(v);
			return -ENOMEM;
		}
	/* More in the record than in the file: a run stopped between the two. */
	kb->record_stale = n != strv_length(record);
	*ret = v;
	return 0;
}

static void running_release(struct ctx *ctx, char *buf, size_t len)
{
	snprintf(buf, len, "%s", host_facts(ctx)->release[0] ? host_facts(ctx)->release : "unknown");
}

static int kcmdline_read_next(struct ctx *ctx, struct kboot *kb, char ***ret, char **source)
{
	char rel[128];
	_cleanup_free_ char *entry = NULL;
	int r;

	(void)kb;
	running_release(ctx, rel, sizeof(rel));
	entry = entry_with(ctx, NULL, rel);
	if (entry) {
		r = entry_options(ctx, entry, ret);
		*source = r < 0 ? strdup_printf("%s: %s", entry, strerror(-r)) : strdup(entry);
		return r;
	}
	r = read_kcmdline(ctx, ret);
	*source = r < 0 ? strdup_printf(KCMDLINE ": %s", strerror(-r))
			: strdup_printf(KCMDLINE " (no loader entry for %s found)", rel);
	return r;
}

/* The host's way to carry /etc/kernel/cmdline into its boot entries. */
static int kcmdline_refresh(struct ctx *ctx, char **msg)
{
	static const char *const pve[] = { "/usr/sbin/proxmox-boot-tool", NULL };
	static const char *const kinstall[] = { "/usr/bin/kernel-install", "/bin/kernel-install", NULL };
	char rel[128], image[256];
	_cleanup_free_ char *entry = NULL;
	const char *tool;

	if ((tool = exec_find(&ctx->hr, pve)))
		return kernel_run_tool(ctx, (char *const[]){ (char *)tool, "refresh", NULL }, TOOL_TIMEOUT_MS, msg);
	running_release(ctx, rel, sizeof(rel));
	entry = entry_with(ctx, NULL, rel);
	snprintf(image, sizeof(image), "/boot/vmlinuz-%s", rel);
	if (entry && (tool = exec_find(&ctx->hr, kinstall)) && hr_exists(&ctx->hr, "%s", image))
		return kernel_run_tool(ctx, (char *const[]){ (char *)tool, "add", rel, image, NULL }, TOOL_TIMEOUT_MS,
				       msg);
	return 0;   /* nothing to refresh: the file is read when a kernel is installed */
}

static int kcmdline_write(struct ctx *ctx, struct kboot *kb, char **msg)
{
	_cleanup_strv_free_ char **tokens = NULL, **merged = NULL, **owned = NULL, **remove = NULL;
	_cleanup_free_ char *before = NULL, *after = NULL, *content = NULL;
	int r = read_kcmdline(ctx, &tokens);

	if (r < 0) {
		*msg = strdup_printf("reading " KCMDLINE ": %s", strerror(-r));
		return r;
	}
	remove = calloc(strv_length(kb->owned) + 1, sizeof(char *));
	if (!remove)
		return -ENOMEM;
	for (size_t i = 0, n = 0; kb->owned[i]; i++)
		if (!state_contains(kb->desired, kb->owned[i]) && !(remove[n++] = strdup(kb->owned[i])))
			return -ENOMEM;
	r = new_owned(kb, tokens, &owned);
	if (r == 0)
		r = cmdline_merge(tokens, remove, kb->desired, &merged);
	if (r < 0)
		return r;
	before = cmdline_join(tokens);
	after = cmdline_join(merged);
	content = after ? strdup_printf("%s\n", after) : NULL;
	if (!before || !content)
		return -ENOMEM;
	r = record_intent(ctx, kb, owned, msg);
	if (r < 0)
		return r;
	if (strcmp(before, after) != 0 || !hr_exists(&ctx->hr, KCMDLINE)) {
		r = hr_replace_file(&ctx->hr, content, 0644, KCMDLINE);
		if (r < 0) {
			*msg = strdup_printf("writing " KCMDLINE ": %s", strerror(-r));
			return r;
		}
	}
	r = record_final(ctx, owned, msg);
	if (r < 0)
		return r;
	return kcmdline_refresh(ctx, msg);
}

static char *kcmdline_origin(struct ctx *ctx, struct kboot *kb, const char *token)
{
	_cleanup_strv_free_ char **tokens = NULL;

	(void)kb;
	if (read_kcmdline(ctx, &tokens) == 0 && cmdline_find(tokens, token, NULL) == CMDLINE_PRESENT)
		return strdup(KCMDLINE);
	return entry_with(ctx, token, NULL);
}

static int kcmdline_read_config(struct ctx *ctx, struct kboot *kb, char ***ret)
{
	(void)kb;
	return read_kcmdline(ctx, ret);
}

const struct boot_backend boot_kernel_cmdline = {
	.name = "kernel-cmdline",
	.config = KCMDLINE,
	.read_owned = kcmdline_read_owned,
	.read_config = kcmdline_read_config,
	.read_next = kcmdline_read_next,
	.write = kcmdline_write,
	.origin = kcmdline_origin,
	.override = no_override,
};
