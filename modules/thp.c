/* [thp]: transparent hugepages, enabled and defrag. */
#include <errno.h>
#include <string.h>

#include "engine.h"
#include "util.h"

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

struct thp_config {
	const struct setting *enabled, *defrag;
};

static const char *const enabled_values[] = { "always", "madvise", "never", NULL };
static const char *const defrag_values[] = { "always", "defer", "defer+madvise", "madvise", "never", NULL };

static int thp_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct thp_config *c = config;

	if (strcmp(s->key, "enabled") == 0 && str_in(s->value, enabled_values)) {
		c->enabled = s;
		return 0;
	}
	if (strcmp(s->key, "defrag") == 0 && str_in(s->value, defrag_values)) {
		c->defrag = s;
		return 0;
	}
	if (strcmp(s->key, "enabled") == 0)
		ctx_setting_error(ctx, s, "enabled: expected always, madvise or never, got '%s'", s->value);
	else if (strcmp(s->key, "defrag") == 0)
		ctx_setting_error(ctx, s, "defrag: expected always, defer, defer+madvise, madvise or never, got '%s'",
				  s->value);
	else
		ctx_setting_error(ctx, s, "unknown key '%s' in [thp] (expected enabled, defrag)", s->key);
	return -EINVAL;
}

static int thp_validate(struct ctx *ctx, void *config)
{
	struct thp_config *c = config;
	const struct setting *want[] = { c->enabled, c->defrag };

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char all[256];

		if (!want[i] || hr_read_choice(&ctx->hr, NULL, 0, all, sizeof(all), THP_DIR "/%s", want[i]->key) < 0)
			continue;   /* no THP on this kernel: planned as unsupported */
		if (!word_in(want[i]->value, all))
			ctx_setting_error(ctx, want[i], "%s: this kernel offers %s", want[i]->key, all);
	}
	return 0;
}

static int thp_apply(struct ctx *ctx, struct action *a)
{
	const char *attr = a->data;
	char now[64];
	int r = hr_write_attr(&ctx->hr, a->desired, NULL, 0, THP_DIR "/%s", attr);

	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "writing %s: %s", attr, strerror(-r));
		return r;
	}
	r = hr_read_choice(&ctx->hr, now, sizeof(now), NULL, 0, THP_DIR "/%s", attr);
	action_set_current(a, r < 0 ? NULL : now);
	if (r < 0 || strcmp(now, a->desired) != 0) {
		action_set_state(a, ACTION_FAILED, "wrote %s but %s reads back %s", a->desired, attr,
				 r < 0 ? "nothing" : now);
		return -EIO;
	}
	return 0;
}

static int thp_plan(struct ctx *ctx, void *config)
{
	struct thp_config *c = config;
	const struct setting *want[] = { c ? c->enabled : NULL, c ? c->defrag : NULL };
	const char *arg = c ? strstr(host_facts(ctx)->cmdline, "transparent_hugepage=") : NULL;

	if (arg && (arg == host_facts(ctx)->cmdline || arg[-1] == ' '))
		ctx_warn(ctx, "thp: the running command line has %.*s; it sets the mode at boot, this profile at runtime",
			 (int)strcspn(arg, " "), arg);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char cur[64];
		struct action *a;

		if (!want[i])
			continue;
		if (hr_read_choice(&ctx->hr, cur, sizeof(cur), NULL, 0, THP_DIR "/%s", want[i]->key) < 0) {
			action_set_state(plan_action(ctx, want[i]->key, NULL, want[i]->value, NULL), ACTION_UNSUPPORTED,
					 "no transparent hugepage support (%s missing)", THP_DIR);
			continue;
		}
		a = plan_action(ctx, want[i]->key, cur, want[i]->value, thp_apply);
		if (!a)
			return -ENOMEM;
		a->data = (void *)want[i]->key;
	}
	return 0;
}

static void thp_report(struct ctx *ctx, struct json_object *caps)
{
	struct json_object *o = json_object_new_object();
	char v[64];

	json_object_object_add(o, "enabled", hr_read_choice(&ctx->hr, v, sizeof(v), NULL, 0, THP_DIR "/enabled") < 0
					 ? NULL : json_object_new_string(v));
	json_object_object_add(o, "defrag", hr_read_choice(&ctx->hr, v, sizeof(v), NULL, 0, THP_DIR "/defrag") < 0
					 ? NULL : json_object_new_string(v));
	json_object_object_add(caps, "thp", o);
}

const struct module module_thp = {
	.name = "thp",
	.section = "thp",
	.config_size = sizeof(struct thp_config),
	.parse = thp_parse,
	.validate = thp_validate,
	.plan = thp_plan,
	.report = thp_report,
};
