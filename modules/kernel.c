/* [kernel]: the kernel command line.  The profile's arguments (CPU isolation,
 * IOMMU, boot-time hugepages from [hugepages] boot = yes, args =; see
 * kernel-profile.c) are owned by hostprep and written through one bootloader
 * backend; every argument is reported in three states: desired, next boot,
 * running. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "engine.h"
#include "exec.h"
#include "kernel.h"
#include "state.h"
#include "util.h"

extern const struct module module_kernel;

/* Judging one argument ----------------------------------------------- */

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void set_states(struct action *a, struct kboot *kb, const char *next, const char *running)
{
	json_object_put(a->extra);
	a->extra = json_object_new_object();
	json_object_object_add(a->extra, "next_boot", jstr(next));
	json_object_object_add(a->extra, "running", jstr(running));
	json_object_object_add(a->extra, "bootloader", jstr(kb->backend ? kb->backend->name : "none"));
	action_set_current(a, running);
}

/* Why arg does not reach the next boot, malloc'ed, or NULL when unknown. */
static char *diagnose(struct ctx *ctx, struct kboot *kb, enum cmdline_presence nxt, const char *winner)
{
	_cleanup_free_ char *from = NULL;

	if (!kb->next)
		return strdup_printf("cannot read the next boot's command line: %s", kb->next_source);
	if (nxt == CMDLINE_OVERRIDDEN) {
		from = kb->backend->origin(ctx, kb, winner);
		return strdup_printf("overridden by '%s' later on the command line%s%s", winner, from ? ", from " : "",
				     from ? from : "");
	}
	from = kb->backend->override(ctx, kb);
	if (from)
		return strdup_printf("%s replaces the command line without keeping ours", from);
	return NULL;
}

static void judge_desired(struct ctx *ctx, struct kboot *kb, struct action *a, bool written)
{
	const char *d = a->desired;
	_cleanup_free_ char *run_other = NULL, *next_other = NULL, *why = NULL;
	enum cmdline_presence run = cmdline_find(kb->running, d, &run_other);
	enum cmdline_presence nxt = kb->next ? cmdline_find(kb->next, d, &next_other) : CMDLINE_ABSENT;
	const char *running = run == CMDLINE_PRESENT ? d : run_other;

	set_states(a, kb, kb->next ? (nxt == CMDLINE_PRESENT ? d : next_other) : NULL, running);
	if (!kb->backend) {
		if (run == CMDLINE_PRESENT)
			action_set_state(a, ACTION_OK, NULL);
		else
			action_set_state(a, ACTION_FAILED, "not on the running command line%s%s%s; bootloader = none "
					 "writes no boot configuration", running ? " (it has " : "",
					 running ? running : "", running ? ")" : "");
		return;
	}
	if (nxt == CMDLINE_PRESENT) {
		if (run == CMDLINE_PRESENT)
			action_set_state(a, written ? ACTION_CHANGED : ACTION_OK, NULL);
		else
			action_set_state(a, ACTION_PENDING_REBOOT, "in %s; the running kernel %s%s", kb->next_source,
					 running ? "has " : "lacks it", running ? running : "");
		return;
	}
	why = diagnose(ctx, kb, nxt, next_other);
	if (written)
		action_set_state(a, ACTION_FAILED, "not in %s after writing %s: %s", kb->next_source,
				 kb->backend->config, why ? why : "the bootloader did not take it");
	else if (state_contains(kb->owned, d) && why)
		action_set_state(a, ACTION_FAILED, "%s holds it, but %s", kb->backend->config, why);
	else if (state_contains(kb->owned, d))
		action_set_state(a, ACTION_PENDING, "%s holds it, %s lacks it: refreshing the bootloader",
				 kb->backend->config, kb->next_source);
	else
		action_set_state(a, ACTION_PENDING, "to be added to %s", kb->backend->config);
}

static void judge_removed(struct ctx *ctx, struct kboot *kb, struct action *a, const char *arg, bool written)
{
	enum cmdline_presence run = cmdline_find(kb->running, arg, NULL);
	enum cmdline_presence nxt = kb->next ? cmdline_find(kb->next, arg, NULL) : CMDLINE_ABSENT;

	if (!kb->backend)   /* removed arguments come from a backend's record: never */
		return;
	set_states(a, kb, nxt == CMDLINE_PRESENT ? arg : NULL, run == CMDLINE_PRESENT ? arg : NULL);
	if (!written) {
		action_set_state(a, ACTION_PENDING, "%s: no longer in the profile, to be removed from %s", arg,
				 kb->backend->config);
	} else if (nxt == CMDLINE_PRESENT) {
		_cleanup_free_ char *from = kb->backend->origin(ctx, kb, arg);

		action_set_state(a, ACTION_FAILED, "%s: removed from %s but still in %s%s%s", arg, kb->backend->config,
				 kb->next_source, from ? ", from " : "", from ? from : "");
	} else if (run == CMDLINE_PRESENT) {
		action_set_state(a, ACTION_PENDING_REBOOT, "%s: removed from %s; the running kernel still has it", arg,
				 kb->backend->config);
	} else {
		action_set_state(a, ACTION_CHANGED, "%s: removed from %s", arg, kb->backend->config);
	}
}

/* Planning ------------------------------------------------------------ */

static void kboot_free(void *p)
{
	struct kboot *kb = p;

	if (!kb)
		return;
	strv_free(kb->desired);
	strv_free(kb->owned);
	strv_free(kb->next);
	strv_free(kb->running);
	free(kb->next_source);
	for (size_t i = 0; i < kb->n_args; i++)
		free(kb->args[i].text);
	free(kb->args);
	free(kb);
}

struct kboot *kernel_boot(struct ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_actions; i++)
		if (ctx->actions[i]->free_data == kboot_free)
			return ctx->actions[i]->data;
	return NULL;
}

static const struct boot_backend *pick_backend(struct ctx *ctx, enum bootloader_kind kind)
{
	static const char *const grubby[] = { "/usr/sbin/grubby", "/sbin/grubby", "/usr/bin/grubby", NULL };
	static const char *const update_grub[] = { "/usr/sbin/update-grub", "/sbin/update-grub", NULL };

	switch (kind) {
	case BOOT_GRUB: return &boot_grub;
	case BOOT_GRUBBY: return &boot_grubby;
	case BOOT_KERNEL_CMDLINE: return &boot_kernel_cmdline;
	case BOOT_NONE: return NULL;
	case BOOT_AUTO: break;
	}
	if (hr_exists(&ctx->hr, "/etc/kernel/cmdline"))
		return &boot_kernel_cmdline;
	if (exec_find(&ctx->hr, grubby) && hr_is_dir(&ctx->hr, "/boot/loader/entries"))
		return &boot_grubby;
	if (hr_exists(&ctx->hr, "/etc/default/grub") || exec_find(&ctx->hr, update_grub))
		return &boot_grub;
	return NULL;
}

static bool desired_has_key(struct kboot *kb, const char *key)
{
	for (char **d = kb->desired; *d; d++) {
		char k[256];

		kernel_arg_key(*d, k, sizeof(k));
		if (strcmp(k, key) == 0)
			return true;
	}
	return false;
}

/* A key of ours set elsewhere with another value: say where. */
static void warn_conflicts(struct ctx *ctx, struct kboot *kb)
{
	for (char **d = kb->desired; kb->next && *d; d++) {
		char key[256];

		kernel_arg_key(*d, key, sizeof(key));
		if (strchr(key, '=') || cmdline_key_repeats(key))
			continue;   /* a group (hugepagesz=1G ...) or a key that may repeat */
		for (char **t = kb->next; *t; t++) {
			char k[256];
			_cleanup_free_ char *from = NULL;

			cmdline_key(*t, k, sizeof(k));
			if (strcmp(k, key) != 0 || strcmp(*t, *d) == 0 || state_contains(kb->owned, *t))
				continue;
			from = kb->backend->origin(ctx, kb, *t);
			ctx_warn(ctx, "kernel: %s is also set to '%s'%s%s; the profile wants '%s'", key, *t,
				 from ? " in " : " elsewhere", from ? from : "", *d);
		}
	}
}

static void read_next(struct ctx *ctx, struct kboot *kb)
{
	int r;

	strv_free(kb->next);
	kb->next = NULL;
	free(kb->next_source);
	kb->next_source = NULL;
	r = kb->backend->read_next(ctx, kb, &kb->next, &kb->next_source);
	if (r < 0 && !kb->next_source)
		kb->next_source = strdup_printf("%s: %s", kb->backend->name, strerror(-r));
}

static void judge(struct ctx *ctx, struct kboot *kb, struct karg *k, bool written)
{
	if (k->removed)
		judge_removed(ctx, kb, k->action, k->text, written);
	else
		judge_desired(ctx, kb, k->action, written);
}

/* One action per argument; the first one owns kb. */
static int add_arg(struct ctx *ctx, struct kboot *kb, const char *text, bool removed)
{
	struct karg *v = realloc(kb->args, (kb->n_args + 1) * sizeof(*v));
	struct karg *k;
	char key[256];

	if (!v)
		return -ENOMEM;
	kb->args = v;
	k = &kb->args[kb->n_args];
	*k = (struct karg){ .text = strdup(text), .removed = removed };
	kernel_arg_key(text, key, sizeof(key));
	k->action = plan_action(ctx, key, NULL, removed ? NULL : text, NULL);
	if (!k->text || !k->action) {
		free(k->text);
		return -ENOMEM;
	}
	if (kb->n_args++ == 0) {
		k->action->data = kb;
		k->action->free_data = kboot_free;
	}
	judge(ctx, kb, k, false);
	return 0;
}

static int kernel_config_apply(struct ctx *ctx, struct action *a);

/* What the configuration holds of ours, in the profile's order: the
 * arguments we own, and those someone else already put there. */
static char *held_line(struct ctx *ctx, struct kboot *kb)
{
	_cleanup_strv_free_ char **config = NULL;
	_cleanup_free_ char **v = calloc(strv_length(kb->desired) + strv_length(kb->owned) + 1, sizeof(char *));
	size_t n = 0;

	if (!v || (kb->backend->read_config && kb->backend->read_config(ctx, kb, &config) < 0))
		return NULL;
	for (char **d = kb->desired; *d; d++)
		if (state_contains(kb->owned, *d) || (config && cmdline_find(config, *d, NULL) == CMDLINE_PRESENT))
			v[n++] = *d;
	for (char **o = kb->owned; *o; o++)
		if (!state_contains(kb->desired, *o))
			v[n++] = *o;
	return n ? cmdline_join(v) : NULL;
}

static int plan_config(struct ctx *ctx, struct kboot *kb)
{
	_cleanup_free_ char *held = held_line(ctx, kb);
	_cleanup_free_ char *desired_line = kb->desired[0] ? cmdline_join(kb->desired) : NULL;
	struct action *a = plan_action(ctx, kb->backend->config, held, desired_line, kernel_config_apply);

	if (!a)
		return -ENOMEM;
	kb->config = a;
	a->data = kb;
	if (kb->n_args == 0)
		a->free_data = kboot_free;   /* no argument action owns kb */
	if (a->state != ACTION_OK)
		return 0;
	for (size_t i = 0; i < kb->n_args; i++)
		if (kb->args[i].action->state == ACTION_PENDING) {
			action_set_state(a, ACTION_PENDING, "%s lacks %s: refreshing the bootloader", kb->next_source,
					 kb->args[i].text);
			return 0;
		}
	if (kb->record_stale)
		action_set_state(a, ACTION_PENDING, "/var/lib/hostprep/kernel-args names arguments %s no longer holds "
				 "(an earlier run stopped between the two): rewriting the record", kb->backend->config);
	return 0;
}

static int kernel_plan(struct ctx *ctx, void *config)
{
	struct kernel_config *c = config;
	struct kboot *kb = calloc(1, sizeof(*kb));
	int r;

	if (!kb)
		return -ENOMEM;
	kb->backend = pick_backend(ctx, c ? c->kind : BOOT_AUTO);
	r = kernel_desired_args(ctx, c, &kb->desired);
	if (r == 0 && kb->backend) {
		r = kb->backend->read_owned(ctx, kb, &kb->owned);
		if (r < 0 && r != -ENOMEM) {
			/* Without the record, removing or keeping an argument would be a guess. */
			_cleanup_free_ char *line = kb->desired[0] ? cmdline_join(kb->desired) : NULL;

			action_set_state(plan_action(ctx, kb->backend->config, NULL, line, NULL), ACTION_FAILED,
					 "reading what hostprep owns in %s (/var/lib/hostprep/kernel-args): %s",
					 kb->backend->config, strerror(-r));
			kboot_free(kb);
			return 0;
		}
	} else if (r == 0 && !(kb->owned = calloc(1, sizeof(char *)))) {
		r = -ENOMEM;
	}
	if (r < 0 || (!kb->desired[0] && !kb->owned[0] && !kb->record_stale)) {
		kboot_free(kb);
		return r;
	}
	/* Only now: with nothing wanted nor owned, the host's facts (/proc/cpuinfo
	 * and all) are not read for the running command line. */
	r = cmdline_split(host_facts(ctx)->cmdline, &kb->running);
	if (r < 0) {
		kboot_free(kb);
		return r;
	}
	if (!kb->backend && (!c || c->kind == BOOT_AUTO))
		ctx_warn(ctx, "kernel: no bootloader found (no /etc/kernel/cmdline, grubby with /boot/loader/entries, "
			      "/etc/default/grub or update-grub); reporting only");
	if (kb->backend) {
		read_next(ctx, kb);
		warn_conflicts(ctx, kb);
	}
	for (char **d = kb->desired; r == 0 && *d; d++)
		r = add_arg(ctx, kb, *d, false);
	for (char **o = kb->owned; r == 0 && kb->backend && *o; o++) {
		char key[256];

		kernel_arg_key(*o, key, sizeof(key));
		/* A changed value is reported by the new argument. */
		if (!state_contains(kb->desired, *o) && !desired_has_key(kb, key))
			r = add_arg(ctx, kb, *o, true);
	}
	if (r == 0 && kb->backend)
		r = plan_config(ctx, kb);
	if (kb->n_args == 0 && !(kb->config && kb->config->free_data))
		kboot_free(kb);
	return r;
}

/* Applying ------------------------------------------------------------ */

/* After a write that failed part way: what the configuration holds now, as
 * the action's current value; true when that moved. */
static bool reread_config(struct ctx *ctx, struct kboot *kb, struct action *a)
{
	_cleanup_strv_free_ char **owned = NULL;
	_cleanup_free_ char *held = NULL;

	read_next(ctx, kb);
	if (kb->backend->read_owned(ctx, kb, &owned) < 0)
		return false;
	strv_free(kb->owned);
	kb->owned = TAKE_PTR(owned);
	held = held_line(ctx, kb);
	if (streq_ptr(held, a->current))
		return false;
	action_set_current(a, held);
	return true;
}

static int kernel_config_apply(struct ctx *ctx, struct action *a)
{
	struct kboot *kb = a->data;
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ bool *pending = calloc(kb->n_args + 1, sizeof(bool));
	int r;

	if (!pending)
		return -ENOMEM;
	for (size_t i = 0; i < kb->n_args; i++)
		pending[i] = kb->args[i].action->state == ACTION_PENDING;
	r = kb->backend->write(ctx, kb, &msg);
	if (r < 0) {
		bool moved = reread_config(ctx, kb, a);

		action_set_state(a, ACTION_FAILED, "%s", msg ? msg : strerror(-r));
		for (size_t i = 0; i < kb->n_args; i++)
			if (pending[i] && moved)
				judge(ctx, kb, &kb->args[i], true);
			else if (pending[i])
				action_set_state(kb->args[i].action, ACTION_FAILED, "not in the boot configuration: %s",
						 msg ? msg : strerror(-r));
		return r;
	}
	read_next(ctx, kb);
	strv_free(kb->owned);
	kb->owned = NULL;
	r = kb->backend->read_owned(ctx, kb, &kb->owned);
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "reading back %s: %s", kb->backend->config, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < kb->n_args; i++)
		if (pending[i])
			judge(ctx, kb, &kb->args[i], true);
	{
		_cleanup_free_ char *held = held_line(ctx, kb);

		action_set_current(a, held);
	}
	action_set_state(a, ACTION_CHANGED, NULL);
	return 0;
}

int kernel_run_tool(struct ctx *ctx, char *const argv[], int timeout_ms, char **msg)
{
	struct exec_result res;
	char last[512];
	int r = exec_run(&ctx->hr, argv, timeout_ms, &res);

	if (r == -ETIME) {
		*msg = strdup_printf("%s: no end after %d s, killed", argv[0], timeout_ms / 1000);
	} else if (r < 0) {
		*msg = strdup_printf("%s: cannot run it%s%s: %s", argv[0], ctx->hr.is_real ? "" : " chrooted into ",
				     ctx->hr.is_real ? "" : ctx->hr.dir, strerror(-r));
	} else if (res.status != 0) {
		*msg = strdup_printf("%s exited with status %d: %s", argv[0], res.status,
				     exec_diagnosis(&res, last, sizeof(last)));
		r = -EIO;
	}
	exec_result_free(&res);
	return r;
}

static int kernel_finish(struct ctx *ctx, void *config)
{
	struct kboot *kb = kernel_boot(ctx);

	(void)config;
	return kb && kb->backend ? kernel_reboot_finish(ctx, kb) : 0;
}

/* Report -------------------------------------------------------------- */

static void kernel_report(struct ctx *ctx, struct json_object *caps)
{
	const struct kernel_config *c = ctx_module_config(ctx, &module_kernel);
	const struct boot_backend *b = pick_backend(ctx, c ? c->kind : BOOT_AUTO);
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(b ? b->name : "none"));
	json_object_object_add(o, "config", jstr(b ? b->config : NULL));
	json_object_object_add(caps, "bootloader", o);
}

const struct module module_kernel = {
	.name = "kernel",
	.section = "kernel",
	.config_size = sizeof(struct kernel_config),
	.parse = kernel_parse,
	.validate = kernel_validate,
	.plan = kernel_plan,
	.finish = kernel_finish,
	.report = kernel_report,
	.free_config = kernel_free_config,
};
