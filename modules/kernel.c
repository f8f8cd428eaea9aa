/* [kernel]: the kernel command line.  The profile's arguments (CPU isolation,
 * IOMMU, boot-time hugepages from [hugepages] boot = yes, args =) are owned by
 * hostprep and written through one bootloader backend; every argument is
 * reported in three states: desired, next boot, running. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "engine.h"
#include "exec.h"
#include "hugepages.h"
#include "kernel.h"
#include "log.h"
#include "state.h"
#include "util.h"

extern const struct module module_kernel;

static const char *const bootloader_names[] = {
	[BOOT_AUTO] = "auto", [BOOT_GRUB] = "grub", [BOOT_GRUBBY] = "grubby",
	[BOOT_KERNEL_CMDLINE] = "kernel-cmdline", [BOOT_NONE] = "none",
};

/* Parsing ------------------------------------------------------------- */

static int parse_cpus(struct ctx *ctx, struct kernel_cpus *k, const struct setting *s, bool flags)
{
	static const char *const isol_flags[] = { "domain", "managed_irq", "nohz", NULL };
	const char *list = s->value;
	char err[128] = "";

	k->flags[0] = '\0';
	while (flags) {
		size_t n = strcspn(list, ",");
		char word[32];

		if (list[n] != ',' || n >= sizeof(word))
			break;
		snprintf(word, sizeof(word), "%.*s", (int)n, list);
		if (!str_in(word, isol_flags))
			break;
		if (strlen(k->flags) + n + 2 > sizeof(k->flags))
			break;
		strcat(k->flags, word);
		strcat(k->flags, ",");
		list += n + 1;
	}
	if (cpuset_parse_n(&k->set, list, 0, err, sizeof(err)) < 0 || cpuset_count(&k->set) == 0) {
		ctx_setting_error(ctx, s, "%s: '%s' is not a CPU list%s%s%s", s->key, s->value, *err ? " (" : "", err,
				  *err ? ")" : "");
		return -EINVAL;
	}
	k->setting = s;
	return 0;
}

static int parse_args(struct ctx *ctx, struct kernel_config *c, const struct setting *s)
{
	_cleanup_strv_free_ char **tokens = NULL;

	if (cmdline_split(s->value, &tokens) < 0) {
		ctx_setting_error(ctx, s, "args: unterminated quote in '%s'", s->value);
		return -EINVAL;
	}
	for (char **t = tokens; *t; t++) {
		char key[256];

		cmdline_key(*t, key, sizeof(key));
		for (const char *p = *t; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				ctx_setting_error(ctx, s, "args: control character in '%s'", *t);
				return -EINVAL;
			}
		if (!*key || strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != strlen(key)) {
			ctx_setting_error(ctx, s, "args: '%s' is not a kernel argument (KEY or KEY=VALUE)", *t);
			return -EINVAL;
		}
	}
	strv_free(c->extra);
	c->extra = NULL;
	if (cmdline_arguments(tokens, &c->extra) < 0)
		return -ENOMEM;
	c->args = s;
	return 0;
}

static int kernel_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct kernel_config *c = config;

	if (strcmp(s->key, "isolcpus") == 0)
		return parse_cpus(ctx, &c->isolcpus, s, true);
	if (strcmp(s->key, "nohz_full") == 0)
		return parse_cpus(ctx, &c->nohz_full, s, false);
	if (strcmp(s->key, "rcu_nocbs") == 0)
		return parse_cpus(ctx, &c->rcu_nocbs, s, false);
	if (strcmp(s->key, "args") == 0)
		return parse_args(ctx, c, s);
	if (strcmp(s->key, "iommu") == 0) {
		static const char *const modes[] = { "off", "on", "pt", NULL };

		if (!str_in(s->value, modes)) {
			ctx_setting_error(ctx, s, "iommu: expected off, on or pt, got '%s'", s->value);
			return -EINVAL;
		}
		c->iommu = s;
		return 0;
	}
	if (strcmp(s->key, "bootloader") == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(bootloader_names); i++)
			if (strcmp(s->value, bootloader_names[i]) == 0) {
				c->kind = (enum bootloader_kind)i;
				c->bootloader = s;
				return 0;
			}
		ctx_setting_error(ctx, s, "bootloader: expected auto, grub, grubby, kernel-cmdline or none, got '%s'",
				  s->value);
		return -EINVAL;
	}
	ctx_setting_error(ctx, s,
			  "unknown key '%s' in [kernel] (expected isolcpus, nohz_full, rcu_nocbs, iommu, args, bootloader)",
			  s->key);
	return -EINVAL;
}

static void kernel_free_config(void *config)
{
	strv_free(((struct kernel_config *)config)->extra);
}

/* Validation (host-aware) --------------------------------------------- */

static void validate_cpus(struct ctx *ctx, const struct kernel_cpus *k, bool all_is_error)
{
	const struct host_facts *h = host_facts(ctx);
	char list[256];

	if (!k->setting || cpuset_count(&h->possible) == 0)
		return;
	if (!cpuset_is_subset(&k->set, &h->possible)) {
		cpuset_format(&h->possible, list, sizeof(list));
		ctx_setting_error(ctx, k->setting, "%s: CPUs outside this host's CPUs (%s)", k->setting->key, list);
	} else if (all_is_error && cpuset_equal(&k->set, &h->possible)) {
		ctx_setting_error(ctx, k->setting, "%s: takes every CPU; leave at least one for the host",
				  k->setting->key);
	} else if (all_is_error && cpuset_isset(&k->set, 0)) {
		ctx_warn(ctx, "%s:%d: %s includes CPU 0, which keeps housekeeping work the kernel cannot move",
			 k->setting->file, k->setting->line, k->setting->key);
	}
}

/* Key an argument is known by: the first token of a group, else the token's key. */
static void arg_key(const char *arg, char *key, size_t len)
{
	if (strchr(arg, ' '))
		snprintf(key, len, "%.*s", (int)strcspn(arg, " "), arg);
	else
		cmdline_key(arg, key, len);
}

static int desired_args(struct ctx *ctx, const struct kernel_config *c, char ***ret);

static int kernel_validate(struct ctx *ctx, void *config)
{
	struct kernel_config *c = config;
	_cleanup_strv_free_ char **args = NULL;

	validate_cpus(ctx, &c->isolcpus, true);
	validate_cpus(ctx, &c->nohz_full, true);
	validate_cpus(ctx, &c->rcu_nocbs, false);
	/* One owner per key: a key given twice would fight itself at boot. */
	if (desired_args(ctx, c, &args) < 0)
		return -ENOMEM;
	for (size_t i = 0; args[i]; i++)
		for (size_t j = 0; j < i; j++) {
			char a[256], b[256];

			arg_key(args[i], a, sizeof(a));
			arg_key(args[j], b, sizeof(b));
			if (strcmp(a, b) == 0 && !cmdline_key_repeats(a) && c->args)
				ctx_setting_error(ctx, c->args, "args: %s is also set by this profile ('%s')", a, args[j]);
		}
	return 0;
}

/* The desired command line ------------------------------------------- */

static int push(char ***v, size_t *n, char *s)
{
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	*v = nv;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	return 0;
}

static char *cpus_arg(const char *key, const struct kernel_cpus *k)
{
	char list[1024];

	cpuset_format(&k->set, list, sizeof(list));
	return strdup_printf("%s=%s%s", key, k->flags, list);
}

/* hugepages=N:P,... needs Linux 5.16 or later. */
static bool kernel_has_node_hugepages(struct ctx *ctx)
{
	char rel[128];
	unsigned major = 0, minor = 0;

	if (hr_read_line(&ctx->hr, rel, sizeof(rel), "/proc/sys/kernel/osrelease") < 0 ||
	    sscanf(rel, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 5 || (major == 5 && minor >= 16);
}

static int hugepage_args(struct ctx *ctx, char ***v, size_t *n)
{
	const struct hugepages_config *hp = hugepages_config(ctx);
	uint64_t sizes[64];
	size_t n_sizes = 0;
	int r;

	if (!hp || !hp->boot)
		return 0;
	if (hp->default_kb) {
		char sz[32];

		format_size_kb(hp->default_kb, sz, sizeof(sz));
		r = push(v, n, strdup_printf("default_hugepagesz=%s", sz));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < hp->n_req; i++) {
		bool seen = false;

		for (size_t j = 0; j < n_sizes; j++)
			seen |= sizes[j] == hp->req[i].size_kb;
		if (!seen && n_sizes < ARRAY_SIZE(sizes))
			sizes[n_sizes++] = hp->req[i].size_kb;
	}
	for (size_t s = 0; s < n_sizes; s++) {
		uint64_t total = 0, per_node[1024] = { 0 };
		bool by_node = false;
		char sz[32], nodes[4096] = "";
		size_t off = 0;

		/* Later settings of a size win, as everywhere in a profile. */
		for (size_t i = 0; i < hp->n_req; i++) {
			const struct hugepages_request *rq = &hp->req[i];

			if (rq->size_kb != sizes[s])
				continue;
			if (rq->node >= 0 && rq->node < (int)ARRAY_SIZE(per_node)) {
				by_node = true;
				per_node[rq->node] = rq->pages;
			} else {
				total = rq->pages;
			}
		}
		format_size_kb(sizes[s], sz, sizeof(sz));
		if (by_node) {
			total = 0;
			for (size_t node = 0; node < ARRAY_SIZE(per_node); node++) {
				total += per_node[node];
				if (per_node[node] && off < sizeof(nodes))
					off += (size_t)snprintf(nodes + off, sizeof(nodes) - off, "%s%zu:%" PRIu64,
								off ? "," : "", node, per_node[node]);
			}
			if (!kernel_has_node_hugepages(ctx)) {
				ctx_warn(ctx, "kernel: the running kernel takes no per-node hugepages= (Linux 5.16+); "
					      "reserving %" PRIu64 " %s pages spread over the nodes instead", total, sz);
				by_node = false;
			}
		}
		if (total == 0)
			continue;
		r = by_node ? push(v, n, strdup_printf("hugepagesz=%s hugepages=%s", sz, nodes))
			    : push(v, n, strdup_printf("hugepagesz=%s hugepages=%" PRIu64, sz, total));
		if (r < 0)
			return r;
	}
	return 0;
}

static int desired_args(struct ctx *ctx, const struct kernel_config *c, char ***ret)
{
	_cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
	size_t n = 0;
	int r = 0;

	if (!v)
		return -ENOMEM;
	if (c && c->isolcpus.setting)
		r = push(&v, &n, cpus_arg("isolcpus", &c->isolcpus));
	if (r == 0 && c && c->nohz_full.setting)
		r = push(&v, &n, cpus_arg("nohz_full", &c->nohz_full));
	if (r == 0 && c && c->rcu_nocbs.setting)
		r = push(&v, &n, cpus_arg("rcu_nocbs", &c->rcu_nocbs));
	if (r == 0 && c && c->iommu) {
		const char *vendor = host_cpu_is_amd(ctx) ? "amd_iommu" : "intel_iommu";

		r = push(&v, &n, strdup_printf("%s=%s", vendor, strcmp(c->iommu->value, "off") == 0 ? "off" : "on"));
		if (r == 0 && strcmp(c->iommu->value, "pt") == 0)
			r = push(&v, &n, strdup("iommu=pt"));
	}
	if (r == 0)
		r = hugepage_args(ctx, &v, &n);
	for (char **e = c ? c->extra : NULL; r == 0 && e && *e; e++)
		r = push(&v, &n, strdup(*e));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

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

		arg_key(*d, k, sizeof(k));
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

		if (strchr(*d, ' '))
			continue;
		cmdline_key(*d, key, sizeof(key));
		if (cmdline_key_repeats(key))
			continue;
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
	arg_key(text, key, sizeof(key));
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
	if (a->state != ACTION_OK)
		return 0;
	for (size_t i = 0; i < kb->n_args; i++)
		if (kb->args[i].action->state == ACTION_PENDING) {
			action_set_state(a, ACTION_PENDING, "%s lacks %s: refreshing the bootloader", kb->next_source,
					 kb->args[i].text);
			break;
		}
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
	r = desired_args(ctx, c, &kb->desired);
	if (r == 0)
		r = cmdline_split(host_facts(ctx)->cmdline, &kb->running);
	if (r == 0 && kb->backend)
		r = kb->backend->read_owned(ctx, kb, &kb->owned);
	else if (r == 0 && !(kb->owned = calloc(1, sizeof(char *))))
		r = -ENOMEM;
	if (r < 0 || (!kb->desired[0] && !kb->owned[0])) {
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

		arg_key(*o, key, sizeof(key));
		/* A changed value is reported by the new argument. */
		if (!state_contains(kb->desired, *o) && !desired_has_key(kb, key))
			r = add_arg(ctx, kb, *o, true);
	}
	if (r == 0 && kb->backend)
		r = plan_config(ctx, kb);
	if (kb->n_args == 0)
		kboot_free(kb);
	return r;
}

/* Applying ------------------------------------------------------------ */

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
		action_set_state(a, ACTION_FAILED, "%s", msg ? msg : strerror(-r));
		for (size_t i = 0; i < kb->n_args; i++)
			if (pending[i])
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
