#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "devwait.h"
#include "engine.h"
#include "log.h"
#include "util.h"

static size_t module_count(void)
{
	size_t n = 0;

	while (modules[n])
		n++;
	return n;
}

int ctx_init(struct ctx *ctx, enum command command, const char *root)
{
	int r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->command = command;
	ctx->device_timeout_ms = DEVWAIT_DEFAULT_MS;
	r = hr_init(&ctx->hr, root);
	if (r < 0)
		return r;
	ctx->warnings = json_object_new_array();
	snap_reads_live(ctx, false);
	return ctx->warnings ? 0 : -ENOMEM;
}

static void action_free(struct action *a)
{
	if (!a)
		return;
	if (a->free_data)
		a->free_data(a->data);
	free(a->id);
	free(a->target);
	free(a->current);
	free(a->previous);
	free(a->desired);
	free(a->message);
	json_object_put(a->extra);
	free(a);
}

void ctx_free(struct ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_actions; i++)
		action_free(ctx->actions[i]);
	free(ctx->actions);
	for (size_t i = 0; modules[i]; i++)
		if (ctx->configs[i]) {
			if (modules[i]->free_config)
				modules[i]->free_config(ctx->configs[i]);
			free(ctx->configs[i]);
		}
	json_object_put(ctx->warnings);
	snap_free(&ctx->snap);
	hr_free(&ctx->hr);
}

void *ctx_module_config(struct ctx *ctx, const struct module *m)
{
	for (size_t i = 0; modules[i]; i++)
		if (modules[i] == m)
			return ctx->configs[i];
	return NULL;
}

bool host_cpu_is_amd(struct ctx *ctx)
{
	return strcmp(host_facts(ctx)->vendor, "AuthenticAMD") == 0;
}

void ctx_setting_error(struct ctx *ctx, const struct setting *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	profile_error(ctx->profile, s, "%s", msg);
}

void ctx_warn(struct ctx *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("%s", msg);
	json_object_array_add(ctx->warnings, json_object_new_string(msg));
}

static bool says(const char *msg, const char *path, const char *error)
{
	return msg && strstr(msg, path) && strstr(msg, error);
}

/* A warning or action message that names the path and its error. */
static bool already_said(const struct ctx *ctx, const char *path, const char *error)
{
	for (size_t i = 0; i < json_object_array_length(ctx->warnings); i++)
		if (says(json_object_get_string(json_object_array_get_idx(ctx->warnings, i)), path, error))
			return true;
	for (size_t i = 0; i < ctx->n_actions; i++)
		if (says(ctx->actions[i]->message, path, error))
			return true;
	return false;
}

void engine_say_unread(struct ctx *ctx)
{
	const char *path;
	size_t i = 0;
	int err;

	while (hr_unread_next(&ctx->hr, &i, &path, &err))
		if (!already_said(ctx, path, strerror(err)))
			ctx_warn(ctx, "cannot read %s: %s", path, strerror(err));
}

static int module_index(const char *section)
{
	for (size_t i = 0; modules[i]; i++)
		if (modules[i]->section && strcmp(modules[i]->section, section) == 0)
			return (int)i;
	return -1;
}

static void *module_config(struct ctx *ctx, size_t i)
{
	if (!ctx->configs[i])
		ctx->configs[i] = calloc(1, modules[i]->config_size ? modules[i]->config_size : 1);
	return ctx->configs[i];
}

int engine_load(struct ctx *ctx, bool validate_host)
{
	struct profile *p = ctx->profile;

	if (module_count() > ARRAY_SIZE(ctx->configs))
		return -E2BIG;
	for (size_t i = 0; i < p->n_sections; i++) {
		const struct setting *s = &p->sections[i];
		int m = module_index(s->section);

		if (m < 0) {
			ctx_setting_error(ctx, s, "unknown section [%s]", s->section);
			continue;
		}
		if (modules[m]->instanced && !s->instance) {
			ctx_setting_error(ctx, s, "[%s] needs a name: [%s NAME]", s->section, s->section);
			continue;
		}
		if (!modules[m]->instanced && s->instance) {
			ctx_setting_error(ctx, s, "[%s] takes no name", s->section);
			continue;
		}
		if (!module_config(ctx, (size_t)m))
			return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_settings; i++) {
		const struct setting *s = &p->settings[i];
		int m = module_index(s->section);
		void *cfg;

		if (m < 0 || (modules[m]->instanced != !!s->instance))
			continue;   /* reported above */
		cfg = module_config(ctx, (size_t)m);
		if (!cfg)
			return -ENOMEM;
		if (modules[m]->parse(ctx, cfg, s) == -ENOMEM)
			return -ENOMEM;
	}
	if (p->n_errors)
		return -EINVAL;
	/* Devices the profile names may still be coming (udev coldplug at boot). */
	if (validate_host && (ctx->command == CMD_APPLY || ctx->command == CMD_AUDIT)) {
		/* The wait polls the host: never from the memo; what it saw is dropped. */
		snap_reads_live(ctx, true);
		devwait_profile(ctx, ctx->device_timeout_ms);
		snap_invalidate(ctx);
		snap_reads_live(ctx, false);
	}
	if (validate_host)
		for (size_t i = 0; modules[i]; i++)
			if (ctx->configs[i] && modules[i]->validate) {
				ctx->current = modules[i];
				modules[i]->validate(ctx, ctx->configs[i]);
			}
	ctx->current = NULL;
	return p->n_errors ? -EINVAL : 0;
}

struct action *plan_action(struct ctx *ctx, const char *target, const char *current, const char *desired,
			   action_apply_fn apply)
{
	struct action *a = calloc(1, sizeof(*a));
	struct action **v;

	if (!a)
		return NULL;
	a->module = ctx->current ? ctx->current->name : "hostprep";
	a->target = strdup(target);
	a->id = strdup_printf("%s:%s", a->module, target);
	a->current = current ? strdup(current) : NULL;
	a->desired = desired ? strdup(desired) : NULL;
	a->apply = apply;
	a->state = streq_ptr(current, desired) ? ACTION_OK : ACTION_PENDING;
	v = realloc(ctx->actions, (ctx->n_actions + 1) * sizeof(*v));
	if (!a->target || !a->id || !v) {
		action_free(a);
		return NULL;
	}
	ctx->actions = v;
	ctx->actions[ctx->n_actions++] = a;
	return a;
}

void action_set_state(struct action *a, enum action_state state, const char *fmt, ...)
{
	va_list ap;

	if (!a)
		return;
	a->state = state;
	if (!fmt)
		return;
	free(a->message);
	va_start(ap, fmt);
	if (vasprintf(&a->message, fmt, ap) < 0)
		a->message = NULL;
	va_end(ap);
}

void action_set_current(struct action *a, const char *current)
{
	if (!a->previous && a->current)
		a->previous = TAKE_PTR(a->current);
	free(a->current);
	a->current = current ? strdup(current) : NULL;
}

int action_set_id(struct action *a, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	char *id;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (r < 0) {
		what = NULL;   /* undefined after a failure */
		return -ENOMEM;
	}
	id = strdup_printf("%s:%s", a->module, what);
	if (!id)
		return -ENOMEM;
	free(a->id);
	a->id = id;
	return 0;
}

const char *action_state_name(enum action_state s)
{
	static const char *const names[] = {
		[ACTION_OK] = "ok", [ACTION_PENDING] = "pending", [ACTION_CHANGED] = "changed",
		[ACTION_PENDING_REBOOT] = "pending-reboot", [ACTION_PENDING_RELOAD] = "pending-reload",
		[ACTION_FAILED] = "failed", [ACTION_SKIPPED] = "skipped", [ACTION_UNSUPPORTED] = "unsupported",
	};
	return names[s];
}

int engine_plan(struct ctx *ctx)
{
	int ret = 0;

	for (size_t i = 0; modules[i]; i++) {
		int r;

		if (!modules[i]->plan)
			continue;
		ctx->current = modules[i];
		r = modules[i]->plan(ctx, ctx->configs[i]);
		if (r < 0)
			log_debug("%s: planning: %s", modules[i]->name, strerror(-r));
		RET_GATHER(ret, r);
	}
	ctx->current = NULL;
	return ret;
}

int engine_apply(struct ctx *ctx)
{
	unsigned writes = ctx->hr.writes;
	bool applied = false;

	boot_before_changes(ctx);
	/* Apply functions read back what they wrote, and waits poll: they read the live host. */
	snap_reads_live(ctx, true);
	for (size_t i = 0; i < ctx->n_actions; i++) {
		struct action *a = ctx->actions[i];
		int r;

		if (a->state != ACTION_PENDING || !a->apply)
			continue;
		r = a->apply(ctx, a);
		/* Whatever the action did, later actions list the bus again. */
		snap_invalidate(ctx);
		applied = true;
		if (a->state == ACTION_PENDING && r < 0)
			action_set_state(a, ACTION_FAILED, "%s", strerror(-r));
		else if (a->state == ACTION_PENDING)
			a->state = ACTION_CHANGED;
		log_info("%s %s: %s", a->module, a->target, action_state_name(a->state));
	}
	for (size_t i = 0; modules[i]; i++)
		if (modules[i]->finish) {
			ctx->current = modules[i];
			modules[i]->finish(ctx, ctx->configs[i]);
		}
	ctx->current = NULL;
	/* The report after a change reads the host as it is now; after none,
	 * what the plan read is still true. */
	if (applied || ctx->hr.writes != writes)
		snap_invalidate(ctx);
	snap_reads_live(ctx, false);
	return 0;
}

void engine_log_failures(const struct ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_actions; i++) {
		const struct action *a = ctx->actions[i];

		if (a->state == ACTION_FAILED)
			log_error("%s %s: %s", a->module, a->target, a->message ? a->message : "failed");
	}
}

int engine_exit_code(const struct ctx *ctx)
{
	bool changed = false, failed = false;

	/* report only reads; with --profile its checklist tells, not its exit code. */
	if (ctx->command == CMD_REPORT)
		return 0;
	for (size_t i = 0; i < ctx->n_actions; i++) {
		enum action_state s = ctx->actions[i]->state;

		failed |= s == ACTION_FAILED;
		/* A failed action can still have changed the host (a partial hugepage grant). */
		changed |= s == ACTION_FAILED && ctx->actions[i]->previous &&
			   !streq_ptr(ctx->actions[i]->previous, ctx->actions[i]->current);
		/* In audit, PENDING means apply would change something. */
		changed |= s == ACTION_CHANGED || (s == ACTION_PENDING && ctx->command == CMD_AUDIT);
	}
	if (ctx->command == CMD_AUDIT && failed)
		return 4;
	return (changed ? 2 : 0) | (failed ? 4 : 0);
}

void engine_count_states(const struct ctx *ctx, size_t counts[ACTION_N_STATES])
{
	memset(counts, 0, ACTION_N_STATES * sizeof(counts[0]));
	for (size_t i = 0; i < ctx->n_actions; i++)
		counts[ctx->actions[i]->state]++;
}

bool engine_reboot_required(const struct ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_actions; i++)
		if (ctx->actions[i]->reboot || ctx->actions[i]->state == ACTION_PENDING_REBOOT)
			return true;
	return false;
}

const char *engine_boot_arg_pending(const struct ctx *ctx, const char *key)
{
	for (size_t i = 0; i < ctx->n_actions; i++) {
		const struct action *a = ctx->actions[i];

		if (strcmp(a->module, "kernel") == 0 && a->desired && strcmp(a->target, key) == 0 &&
		    (a->state == ACTION_PENDING || a->state == ACTION_PENDING_REBOOT))
			return a->desired;
	}
	return NULL;
}
