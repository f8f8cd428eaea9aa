/* [kvm]: nested virtualization and further KVM module options, written to
 * /etc/modprobe.d/hostprep-kvm.conf.  An option takes effect when the module
 * loads: with reload = if-idle and no VM holding the module (refcount 0) it is
 * reloaded now (root / only), else the change is pending-reload. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "kmodules.h"
#include "util.h"

#define CONF "/etc/modprobe.d/hostprep-kvm.conf"

struct kvm_option {
	char module[32];           /* kvm, kvm_intel, kvm_amd; "" for the vendor module */
	char key[64];
	char value[128];
};

struct kvm_config {
	const struct setting *nested, *options, *reload;
	bool nested_on;
	bool reload_if_idle;
	struct kvm_option opts[32];
	size_t n_opts;
};

static const char *vendor_module(struct ctx *ctx)
{
	return host_cpu_is_amd(ctx) ? "kvm_amd" : "kvm_intel";
}

static bool cpu_has_virt(struct ctx *ctx)
{
	const char *flags = host_facts(ctx)->flags;

	return word_in("vmx", flags) || word_in("svm", flags);
}

static bool word_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      strchr(extra, *s)))
			return false;
	return true;
}

static int parse_options(struct ctx *ctx, struct kvm_config *c, const struct setting *s)
{
	static const char *const kvm_modules[] = { "kvm", "kvm_intel", "kvm_amd", NULL };
	_cleanup_strv_free_ char **words = strv_split(s->value, " \t");

	if (!words)
		return -ENOMEM;
	c->n_opts = 0;
	for (char **w = words; *w; w++) {
		struct kvm_option *o = &c->opts[c->n_opts];
		const char *eq = strchr(*w, '='), *dot = strchr(*w, '.');
		size_t kl;

		if (c->n_opts >= ARRAY_SIZE(c->opts)) {
			ctx_setting_error(ctx, s, "options: too many options (at most %zu)", ARRAY_SIZE(c->opts));
			return -EINVAL;
		}
		*o = (struct kvm_option){ 0 };
		if (dot && eq && dot < eq) {
			snprintf(o->module, sizeof(o->module), "%.*s", (int)(dot - *w), *w);
			if (!str_in(o->module, kvm_modules)) {
				ctx_setting_error(ctx, s, "options: '%s': module must be kvm, kvm_intel or kvm_amd", *w);
				return -EINVAL;
			}
		}
		kl = (size_t)(eq ? eq - (dot && dot < eq ? dot + 1 : *w) : 0);
		if (!eq || kl == 0 || kl >= sizeof(o->key) || !eq[1] || strlen(eq + 1) >= sizeof(o->value)) {
			ctx_setting_error(ctx, s, "options: '%s' is not KEY=VALUE or MODULE.KEY=VALUE", *w);
			return -EINVAL;
		}
		snprintf(o->key, sizeof(o->key), "%.*s", (int)kl, eq - kl);
		snprintf(o->value, sizeof(o->value), "%s", eq + 1);
		if (!word_chars(o->key, "") || !word_chars(o->value, ",.:-+")) {
			ctx_setting_error(ctx, s, "options: '%s': bad character in the name or value", *w);
			return -EINVAL;
		}
		if (strcmp(o->key, "nested") == 0) {
			ctx_setting_error(ctx, s, "options: set nested with 'nested = yes|no'");
			return -EINVAL;
		}
		c->n_opts++;
	}
	c->options = s;
	return 0;
}

static int kvm_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct kvm_config *c = config;

	if (strcmp(s->key, "nested") == 0) {
		if (parse_bool(s->value, &c->nested_on) < 0) {
			ctx_setting_error(ctx, s, "nested: expected yes or no, got '%s'", s->value);
			return -EINVAL;
		}
		c->nested = s;
		return 0;
	}
	if (strcmp(s->key, "reload") == 0) {
		if (strcmp(s->value, "if-idle") != 0 && strcmp(s->value, "never") != 0) {
			ctx_setting_error(ctx, s, "reload: expected if-idle or never, got '%s'", s->value);
			return -EINVAL;
		}
		c->reload_if_idle = strcmp(s->value, "if-idle") == 0;
		c->reload = s;
		return 0;
	}
	if (strcmp(s->key, "options") == 0)
		return parse_options(ctx, c, s);
	ctx_setting_error(ctx, s, "unknown key '%s' in [kvm] (expected nested, options, reload)", s->key);
	return -EINVAL;
}

static const char *opt_module(struct ctx *ctx, const struct kvm_option *o)
{
	return *o->module ? o->module : vendor_module(ctx);
}

static int kvm_validate(struct ctx *ctx, void *config)
{
	struct kvm_config *c = config;

	/* A loaded module lists its parameters: catch typos before they reach modprobe. */
	for (size_t i = 0; i < c->n_opts; i++) {
		const char *m = opt_module(ctx, &c->opts[i]);

		if (kmodules_is_loaded(ctx, m) && !hr_exists(&ctx->hr, "/sys/module/%s/parameters/%s", m, c->opts[i].key))
			ctx_setting_error(ctx, c->options, "options: %s has no parameter '%s'", m, c->opts[i].key);
	}
	return 0;
}

/* The file ------------------------------------------------------------ */

/* Every option this profile sets, nested first, modules resolved. */
static size_t wanted(struct ctx *ctx, const struct kvm_config *c, struct kvm_option *out, size_t max)
{
	size_t n = 0;

	if (c && c->nested && n < max) {
		out[n] = (struct kvm_option){ 0 };
		snprintf(out[n].module, sizeof(out[n].module), "%s", vendor_module(ctx));
		snprintf(out[n].key, sizeof(out[n].key), "nested");
		snprintf(out[n].value, sizeof(out[n].value), "%d", c->nested_on);
		n++;
	}
	for (size_t i = 0; c && i < c->n_opts && n < max; i++) {
		out[n] = c->opts[i];
		snprintf(out[n].module, sizeof(out[n].module), "%s", opt_module(ctx, &c->opts[i]));
		n++;
	}
	return n;
}

/* "options MODULE k=v ..." lines, one per module in first-use order, each
 * ended by sep; NULL for none. */
static char *options_lines(const struct kvm_option *w, size_t n, const char *sep)
{
	char buf[4096] = "";
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		bool first = true;

		for (size_t j = 0; j < i; j++)
			first &= strcmp(w[j].module, w[i].module) != 0;
		if (!first)
			continue;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "options %s", w[i].module);
		for (size_t j = i; j < n && off < sizeof(buf); j++)
			if (strcmp(w[j].module, w[i].module) == 0)
				off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s=%s", w[j].key, w[j].value);
		if (off < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s", sep);
	}
	if (!n)
		return NULL;
	/* The separator ends a line in the file, joins lines in a report. */
	if (strcmp(sep, "\n") != 0 && off >= strlen(sep) && off < sizeof(buf))
		buf[off - strlen(sep)] = '\0';
	return strdup(buf);
}

static char *file_content(const char *lines)
{
	return strdup_printf("# Written by hostprep from the [kvm] section of its profile; rewritten by every\n"
			     "# apply, removed when the profile has none.  Do not edit.\n%s", lines);
}

/* The options lines of our file as it is, joined by "; ", NULL when absent. */
static char *current_lines(struct ctx *ctx)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL, buf[4096] = "";
	size_t off = 0;

	if (hr_read(&ctx->hr, &text, CONF) < 0)
		return NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (l[0] != '#' && off < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", off ? "; " : "", l);
	return strdup(buf);
}

/* The value modprobe ends with for key: the last one it passes. */
static bool last_value(const char *options, const char *key, char *buf, size_t len)
{
	_cleanup_strv_free_ char **words = strv_split(options, " \t");
	size_t kl = strlen(key);
	bool found = false;

	for (char **w = words; w && *w; w++)
		if (strncmp(*w, key, kl) == 0 && (*w)[kl] == '=') {
			snprintf(buf, len, "%s", *w + kl + 1);
			found = true;
		}
	return found;
}

/* Does our value of one option reach the module?  modprobe passes every
 * "options" line in file-name order and the module keeps the last value: a
 * file sorted after ours overrides it (returned as a failure message), one
 * before it is only a warning.  After our file is written, libkmod's view of
 * the options is the judge. */
static char *check_option(struct ctx *ctx, const struct kvm_option *o, bool written, bool warn)
{
	_cleanup_strv_free_ char **src = NULL;
	_cleanup_free_ char *eff = NULL;
	const char *ours = strrchr(CONF, '/') + 1;
	char last[128];

	if (kmodules_option_sources(ctx, o->module, o->key, &src) == 0)
		for (char **s = src; *s; s++) {
			const char *sp = strrchr(*s, ' '), *slash;
			int flen = (int)(sp - *s);
			char base[256];

			slash = memrchr(*s, '/', (size_t)flen);
			snprintf(base, sizeof(base), "%.*s", (int)(*s + flen - (slash ? slash + 1 : *s)), slash ? slash + 1 : *s);
			if (strcmp(sp + 1, o->value) == 0 || strcmp(base, ours) == 0)
				continue;
			if (strcmp(base, ours) > 0)
				return strdup_printf("%.*s sets %s %s=%s after %s, overriding %s=%s", flen, *s, o->module,
						     o->key, sp + 1, CONF, o->key, o->value);
			if (warn)
				ctx_warn(ctx, "kvm: %.*s also sets %s %s=%s; %s comes later and wins", flen, *s, o->module,
					 o->key, sp + 1, CONF);
		}
	if (written && snap_module_options(ctx, o->module, &eff) == 0 && last_value(eff, o->key, last, sizeof(last)) &&
	    strcmp(last, o->value) != 0)
		return strdup_printf("modprobe would load %s with %s=%s (its options: '%s')", o->module, o->key, last,
				     eff);
	return NULL;
}

static char *check_all(struct ctx *ctx, const struct kvm_option *w, size_t n, bool written, bool warn)
{
	for (size_t i = 0; i < n; i++) {
		char *why = check_option(ctx, &w[i], written, warn);

		if (why)
			return why;
	}
	return NULL;
}

static int conf_apply(struct ctx *ctx, struct action *a)
{
	const struct kvm_config *c = a->data;
	struct kvm_option w[40];
	size_t n = wanted(ctx, c, w, ARRAY_SIZE(w));
	_cleanup_free_ char *lines = options_lines(w, n, "\n"), *why = NULL;
	_cleanup_free_ char *content = lines ? file_content(lines) : NULL;
	int r;

	if (lines && !content)
		return -ENOMEM;
	r = content ? hr_replace_file(&ctx->hr, content, 0644, CONF) : hr_unlink(&ctx->hr, CONF);
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "writing %s: %s", CONF, strerror(-r));
		return r;
	}
	why = check_all(ctx, w, n, true, false);
	if (why) {
		action_set_state(a, ACTION_FAILED, "wrote %s, but %s", CONF, why);
		return -EEXIST;
	}
	return 0;
}

/* Runtime ------------------------------------------------------------- */

static bool param_on(const char *v)
{
	return strcmp(v, "Y") == 0 || strcmp(v, "1") == 0;
}

/* Modules are loaded and unloaded on the real root only: plan and apply say so alike. */
static void reload_skipped(struct ctx *ctx, struct action *a, const char *mod)
{
	action_set_state(a, ACTION_SKIPPED, "not reloading %s under --root %s: the option applies when it loads",
			 mod, ctx->hr.dir);
}

static void conf_not_in_effect(struct action *a, const char *mod)
{
	action_set_state(a, ACTION_FAILED, "not reloading %s: %s is not in effect", mod, CONF);
}

static int nested_apply(struct ctx *ctx, struct action *a)
{
	const char *mod = vendor_module(ctx);
	const struct action *conf = a->data;
	char v[16];
	int r, ref;

	if (conf && conf->state != ACTION_OK && conf->state != ACTION_CHANGED) {
		conf_not_in_effect(a, mod);
		return -EINVAL;
	}
	/* A VM may have started since the plan. */
	ref = kmodules_refcnt(ctx, mod);
	if (ref != 0) {
		action_set_state(a, ACTION_PENDING_RELOAD, "%s is in use (refcount %d): nested=%s applies when it "
				 "is reloaded with no VM running", mod, ref, a->desired);
		return 0;
	}
	r = kmodules_unload(ctx, mod);
	if (r == -EOPNOTSUPP) {
		reload_skipped(ctx, a, mod);
		return 0;
	}
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "unloading %s: %s", mod, strerror(-r));
		return r;
	}
	r = kmodules_load(ctx, mod);
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "%s was unloaded but loading it again failed: %s; /dev/kvm is "
				 "gone until it loads", mod, strerror(-r));
		return r;
	}
	r = hr_read_line(&ctx->hr, v, sizeof(v), "/sys/module/%s/parameters/nested", mod);
	action_set_current(a, r < 0 ? NULL : v);
	if (r < 0 || param_on(v) != param_on(a->desired)) {
		action_set_state(a, ACTION_FAILED, "reloaded %s, but nested reads %s", mod, r < 0 ? strerror(-r) : v);
		return -EIO;
	}
	action_set_state(a, ACTION_CHANGED, "reloaded %s", mod);
	return 0;
}

static int plan_nested(struct ctx *ctx, const struct kvm_config *c, struct action *conf)
{
	const char *mod = vendor_module(ctx);
	char cur[16], target[64], want[4];
	struct action *a;
	int ref;

	snprintf(target, sizeof(target), "%s nested", mod);
	if (!cpu_has_virt(ctx)) {
		action_set_state(plan_action(ctx, target, NULL, c->nested_on ? "on" : "off", NULL), ACTION_UNSUPPORTED,
				 "the CPU offers no vmx/svm: no KVM, no nested virtualization");
		return 0;
	}
	if (!kmodules_is_loaded(ctx, mod)) {
		action_set_state(plan_action(ctx, target, NULL, c->nested_on ? "on" : "off", NULL), ACTION_SKIPPED,
				 "%s is not loaded; nested=%d applies when it loads", mod, c->nested_on);
		return 0;
	}
	if (hr_read_line(&ctx->hr, cur, sizeof(cur), "/sys/module/%s/parameters/nested", mod) < 0) {
		action_set_state(plan_action(ctx, target, NULL, c->nested_on ? "on" : "off", NULL), ACTION_UNSUPPORTED,
				 "%s has no nested parameter", mod);
		return 0;
	}
	/* Show the value the way this module writes it (Y/N or 1/0). */
	snprintf(want, sizeof(want), "%s", cur[0] >= '0' && cur[0] <= '9' ? (c->nested_on ? "1" : "0")
									  : (c->nested_on ? "Y" : "N"));
	a = plan_action(ctx, target, cur, want, nested_apply);
	if (!a)
		return -ENOMEM;
	a->data = conf;
	if (a->state == ACTION_OK)
		return 0;
	ref = kmodules_refcnt(ctx, mod);
	if (conf && conf->state == ACTION_FAILED)
		conf_not_in_effect(a, mod);
	else if (!c->reload_if_idle)
		action_set_state(a, ACTION_PENDING_RELOAD, "reload = never: applies when %s is next loaded", mod);
	else if (ref != 0)
		action_set_state(a, ACTION_PENDING_RELOAD, "%s is in use (refcount %d): applies when it is reloaded "
				 "with no VM running", mod, ref);
	else if (!ctx->hr.is_real)
		reload_skipped(ctx, a, mod);
	else
		action_set_state(a, ACTION_PENDING, "%s is idle: reloading it", mod);
	return 0;
}

static int kvm_plan(struct ctx *ctx, void *config)
{
	struct kvm_config *c = config;
	struct kvm_option w[40];
	size_t n = wanted(ctx, c, w, ARRAY_SIZE(w));
	_cleanup_free_ char *want = options_lines(w, n, "; "), *have = current_lines(ctx), *why = NULL;
	struct action *conf = NULL;

	/* Without a [kvm] section, only undo our file. */
	if (want || have) {
		conf = plan_action(ctx, CONF, have, want, conf_apply);
		if (!conf)
			return -ENOMEM;
		conf->data = c;
		why = check_all(ctx, w, n, conf->state == ACTION_OK, true);
		if (why)
			action_set_state(conf, ACTION_FAILED, "%s", why);
	}
	if (c && c->nested)
		return plan_nested(ctx, c, conf);
	return 0;
}

/* Report -------------------------------------------------------------- */

static void kvm_report(struct ctx *ctx, struct json_object *caps)
{
	struct json_object *o = json_object_new_object();
	const char *mod = kmodules_is_loaded(ctx, "kvm_intel") ? "kvm_intel" :
			  kmodules_is_loaded(ctx, "kvm_amd") ? "kvm_amd" : NULL;
	char v[16], eff_v[16];
	const char *state = "unavailable";
	_cleanup_free_ char *eff = NULL;
	bool have = mod && hr_read_line(&ctx->hr, v, sizeof(v), "/sys/module/%s/parameters/nested", mod) == 0;

	if (have && param_on(v))
		state = "active";
	else if (have && snap_module_options(ctx, mod, &eff) == 0 && last_value(eff, "nested", eff_v, sizeof(eff_v)) &&
		 param_on(eff_v))
		state = "pending";   /* configured, waiting for the module to reload */
	else if (have)
		state = "off";
	json_object_object_add(o, "dev_kvm", json_object_new_boolean(hr_exists(&ctx->hr, "/dev/kvm")));
	json_object_object_add(o, "module", mod ? json_object_new_string(mod) : NULL);
	/* "nested" keeps its meaning (the parameter as the module shows it). */
	json_object_object_add(o, "nested", have ? json_object_new_string(v) : NULL);
	json_object_object_add(o, "nested_state", json_object_new_string(state));
	json_object_object_add(caps, "kvm", o);
}

const struct module module_kvm = {
	.name = "kvm",
	.section = "kvm",
	.config_size = sizeof(struct kvm_config),
	.parse = kvm_parse,
	.validate = kvm_validate,
	.plan = kvm_plan,
	.report = kvm_report,
};
