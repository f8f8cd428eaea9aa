/* [cpu]: the cpufreq governor, first available of a '|' list, per policy. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "util.h"

#define CPUFREQ_DIR "/sys/devices/system/cpu/cpufreq"

struct cpu_config {
	const struct setting *governor, *cpus;
	char **choices;            /* governor list in order of preference */
	struct cpuset set;
	bool all;
};

/* Policies given the same governor form one action; they may have different
 * governors now.  Grouping by the chosen governor only keeps the action's
 * target and id the same from one run to the next. */
struct governor_group {
	char **policies;
	char **currents;           /* each policy's governor when planned */
	size_t n;
};

static int cpu_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct cpu_config *c = config;

	if (strcmp(s->key, "governor") == 0) {
		strv_free(c->choices);
		c->choices = strv_split(s->value, "|");
		if (!c->choices)
			return -ENOMEM;
		if (!c->choices[0]) {
			ctx_setting_error(ctx, s, "governor: expected a name or a '|' list");
			return -EINVAL;
		}
		for (char **g = c->choices; *g; g++)
			if (!path_component_valid(*g) || strpbrk(*g, " \t")) {
				ctx_setting_error(ctx, s, "governor: '%s' is not a governor name", *g);
				return -EINVAL;
			}
		c->governor = s;
		return 0;
	}
	if (strcmp(s->key, "cpus") == 0) {
		char err[128];

		c->cpus = s;
		c->all = strcmp(s->value, "all") == 0;
		if (!c->all && cpuset_parse(&c->set, s->value, err) < 0) {
			ctx_setting_error(ctx, s, "cpus: %s", err);
			return -EINVAL;
		}
		return 0;
	}
	ctx_setting_error(ctx, s, "unknown key '%s' in [cpu] (expected governor, cpus)", s->key);
	return -EINVAL;
}

static int cpu_validate(struct ctx *ctx, void *config)
{
	struct cpu_config *c = config;
	const struct host_facts *h = host_facts(ctx);

	if (c->cpus && !c->governor)
		ctx_setting_error(ctx, c->cpus, "cpus without governor has no effect");
	if (c->cpus && !c->all && h->nr_cpus && !cpuset_is_subset(&c->set, &h->possible)) {
		char have[256];

		cpuset_format(&h->possible, have, sizeof(have));
		ctx_setting_error(ctx, c->cpus, "cpus: %s is not within this host's CPUs (%s)", c->cpus->value, have);
	}
	return 0;
}

static void free_group(void *p)
{
	struct governor_group *g = p;

	for (size_t i = 0; i < g->n; i++) {
		free(g->policies[i]);
		free(g->currents[i]);
	}
	free(g->policies);
	free(g->currents);
	free(g);
}

static int read_space_cpus(struct ctx *ctx, const char *policy, struct cpuset *set);

/* CPUs per governor, governors in order of first appearance. */
struct gov_cpus {
	char governor[64];
	struct cpuset cpus;
};

static size_t gov_cpus_add(struct gov_cpus *v, size_t n, size_t max, const char *gov, const struct cpuset *cpus)
{
	size_t k;

	for (k = 0; k < n && strcmp(v[k].governor, gov) != 0; k++)
		;
	if (k == n) {
		if (n == max)
			return n;
		snprintf(v[n].governor, sizeof(v[n].governor), "%s", gov);
		cpuset_zero(&v[n++].cpus);
	}
	cpuset_foreach(c, cpus) cpuset_set(&v[k].cpus, c);
	return n;
}

/* "performance" when one governor, else "performance (cpus 0-6), powersave (cpus 7)". */
static void format_gov_cpus(const struct gov_cpus *v, size_t n, char *buf, size_t len)
{
	buf[0] = '\0';
	if (n == 1) {
		snprintf(buf, len, "%s", v[0].governor);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		char list[256];

		cpuset_format(&v[k].cpus, list, sizeof(list));
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s (cpus %s)", k ? ", " : "", v[k].governor, list);
	}
}

/* The governors the group's policies read now. */
static char *governors_now(struct ctx *ctx, const struct governor_group *g)
{
	struct gov_cpus seen[16];
	char out[1024];
	size_t n = 0;

	for (size_t i = 0; i < g->n; i++) {
		char gov[64];
		struct cpuset cpus;

		if (hr_read_line(&ctx->hr, gov, sizeof(gov), CPUFREQ_DIR "/%s/scaling_governor", g->policies[i]) < 0)
			snprintf(gov, sizeof(gov), "unreadable");
		if (read_space_cpus(ctx, g->policies[i], &cpus) < 0)
			cpuset_zero(&cpus);
		n = gov_cpus_add(seen, n, ARRAY_SIZE(seen), gov, &cpus);
	}
	format_gov_cpus(seen, n, out, sizeof(out));
	return strdup(out);
}

static int gov_apply(struct ctx *ctx, struct action *a)
{
	struct governor_group *g = a->data;
	_cleanup_free_ char *now = NULL;
	int ret = 0;
	char bad[512] = "";

	for (size_t i = 0; i < g->n; i++) {
		char rb[64], why[128];
		int r;

		if (streq_ptr(g->currents[i], a->desired))
			continue;   /* already on it: no write */
		r = hr_write_attr(&ctx->hr, a->desired, rb, sizeof(rb), CPUFREQ_DIR "/%s/scaling_governor",
				      g->policies[i]);

		if (r < 0)
			snprintf(why, sizeof(why), "%s", strerror(-r));
		else if (strcmp(rb, a->desired) != 0)
			snprintf(why, sizeof(why), "the kernel took it, but it reads back %s", rb);
		else
			continue;
		snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%s: %s", bad[0] ? "; " : "", g->policies[i], why);
		RET_GATHER(ret, r < 0 ? r : -EIO);
	}
	/* What the policies read now: some may have moved before one failed. */
	now = governors_now(ctx, g);
	action_set_current(a, now);
	if (ret < 0)
		action_set_state(a, ACTION_FAILED, "setting governor %s: %s", a->desired, bad);
	return ret;
}

/* affected_cpus and related_cpus are space-separated, not cpu lists. */
static int read_space_cpus(struct ctx *ctx, const char *policy, struct cpuset *set)
{
	_cleanup_free_ char *s = NULL;
	char *save = NULL;
	int r = hr_read(&ctx->hr, &s, CPUFREQ_DIR "/%s/affected_cpus", policy);

	if (r == -ENOENT)
		r = hr_read(&ctx->hr, &s, CPUFREQ_DIR "/%s/related_cpus", policy);
	if (r < 0)
		return r;
	cpuset_zero(set);
	for (char *t = strtok_r(s, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		uint64_t cpu;

		if (parse_u64_range(t, 0, UINT_MAX, &cpu) < 0)
			return -EINVAL;
		cpuset_set(set, (unsigned)cpu);
	}
	return 0;
}

/* A policy's CPUs are a list, not a struct cpuset: a cpuset is 1 KiB, and a
 * 512-policy host would hold half a megabyte of them for a few CPUs each. */
struct policy_plan {
	char name[32];
	char current[64];
	const char *chosen;
	unsigned *cpus;
	size_t n_cpus;
};

static int policy_keep_cpus(struct policy_plan *p, const struct cpuset *set)
{
	size_t n = 0;

	cpuset_foreach(c, set) n++;
	p->cpus = calloc(n ? n : 1, sizeof(*p->cpus));
	if (!p->cpus)
		return -ENOMEM;
	cpuset_foreach(c, set) p->cpus[p->n_cpus++] = c;
	return 0;
}

static void policy_add_cpus(const struct policy_plan *p, struct cpuset *set)
{
	for (size_t k = 0; k < p->n_cpus; k++)
		cpuset_set(set, p->cpus[k]);
}

/* The group's current governors as planned (format_gov_cpus). */
static void describe_currents(const struct policy_plan *p, const bool *in_group, size_t n, char *buf, size_t len)
{
	struct gov_cpus seen[16];
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (in_group[i]) {
			struct cpuset cpus;

			cpuset_zero(&cpus);
			policy_add_cpus(&p[i], &cpus);
			k = gov_cpus_add(seen, k, ARRAY_SIZE(seen), p[i].current, &cpus);
		}
	format_gov_cpus(seen, k, buf, len);
}

static int plan_groups(struct ctx *ctx, struct policy_plan *p, size_t n)
{
	_cleanup_free_ bool *done = calloc(n, sizeof(bool));
	_cleanup_free_ bool *in_group = calloc(n, sizeof(bool));

	if (!done || !in_group)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct governor_group *g;
		struct cpuset cpus;
		char target[300], list[256], current[1024];
		struct action *a;
		bool oom = false;

		if (done[i])
			continue;
		g = calloc(1, sizeof(*g));
		if (g) {
			g->policies = calloc(n, sizeof(char *));
			g->currents = calloc(n, sizeof(char *));
		}
		if (!g || !g->policies || !g->currents) {
			if (g)
				free_group(g);
			return -ENOMEM;
		}
		cpuset_zero(&cpus);
		for (size_t j = i; j < n; j++) {
			in_group[j] = !done[j] && strcmp(p[j].chosen, p[i].chosen) == 0;
			if (!in_group[j])
				continue;
			done[j] = true;
			g->policies[g->n] = strdup(p[j].name);
			g->currents[g->n] = strdup(p[j].current);
			oom |= !g->policies[g->n] || !g->currents[g->n];
			g->n++;
			policy_add_cpus(&p[j], &cpus);
		}
		cpuset_format(&cpus, list, sizeof(list));
		snprintf(target, sizeof(target), "governor cpus %s", list);
		describe_currents(p, in_group, n, current, sizeof(current));
		memset(in_group, 0, n * sizeof(bool));
		a = oom ? NULL : plan_action(ctx, target, current, p[i].chosen, gov_apply);
		if (!a) {
			free_group(g);
			return -ENOMEM;
		}
		a->data = g;
		a->free_data = free_group;
	}
	return 0;
}

static int cpu_plan(struct ctx *ctx, void *config)
{
	struct cpu_config *c = config;
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ struct policy_plan *plans = NULL;
	size_t n = 0;
	bool oom = false;
	int r;

	if (!c || !c->governor)
		return 0;
	r = hr_list(&ctx->hr, &names, CPUFREQ_DIR);
	if (r < 0 && r != -ENOENT) {
		action_set_state(plan_action(ctx, "governor", NULL, c->governor->value, NULL), ACTION_FAILED,
				 "cannot list %s: %s", CPUFREQ_DIR, strerror(-r));
		return 0;
	}
	if (r < 0 || !names[0]) {
		/* Virtual machines and some servers expose no cpufreq at all. */
		action_set_state(plan_action(ctx, "governor", NULL, c->governor->value, NULL), ACTION_UNSUPPORTED,
				 "no cpufreq on this host (%s is missing or empty)", CPUFREQ_DIR);
		return 0;
	}
	plans = calloc(strv_length(names), sizeof(*plans));
	if (!plans)
		return -ENOMEM;
	for (char **pn = names; *pn; pn++) {
		struct policy_plan *p = &plans[n];
		struct cpuset cpus;
		char avail[512];
		bool wanted = false;

		if (strncmp(*pn, "policy", 6) != 0)
			continue;
		snprintf(p->name, sizeof(p->name), "%s", *pn);
		if ((r = read_space_cpus(ctx, *pn, &cpus)) < 0) {
			action_set_state(plan_action(ctx, *pn, NULL, c->governor->value, NULL), ACTION_FAILED,
					 "cannot read the CPUs of %s: %s", *pn, strerror(-r));
			continue;
		}
		cpuset_foreach(cpu, &cpus) wanted |= !c->cpus || c->all || cpuset_isset(&c->set, cpu);
		if (!wanted)
			continue;
		if ((r = hr_read_line(&ctx->hr, p->current, sizeof(p->current), CPUFREQ_DIR "/%s/scaling_governor",
				      *pn)) < 0 ||
		    (r = hr_read_line(&ctx->hr, avail, sizeof(avail), CPUFREQ_DIR "/%s/scaling_available_governors",
				      *pn)) < 0) {
			action_set_state(plan_action(ctx, *pn, NULL, c->governor->value, NULL), ACTION_FAILED,
					 "cannot read the governors of %s: %s", *pn, strerror(-r));
			continue;
		}
		for (char **g = c->choices; *g && !p->chosen; g++)
			if (word_in(*g, avail))
				p->chosen = *g;
		if (!p->chosen) {
			action_set_state(plan_action(ctx, *pn, p->current, c->governor->value, NULL), ACTION_FAILED,
					 "none of %s is available (%s offers: %s)", c->governor->value, *pn, avail);
			continue;
		}
		if (policy_keep_cpus(p, &cpus) < 0) {
			oom = true;
			break;
		}
		n++;
	}
	r = oom ? -ENOMEM : plan_groups(ctx, plans, n);
	for (size_t i = 0; i < n; i++)
		free(plans[i].cpus);
	return r;
}

/* Governor per CPU range: one entry per governor in use. */
static void cpu_report(struct ctx *ctx, struct json_object *caps)
{
	_cleanup_strv_free_ char **names = NULL;
	struct json_object *arr = json_object_new_array();
	struct gov_cpus groups[16];
	size_t n = 0;

	if (hr_list(&ctx->hr, &names, CPUFREQ_DIR) == 0)
		for (char **pn = names; *pn; pn++) {
			struct cpuset cpus;
			char gov[64];

			if (strncmp(*pn, "policy", 6) != 0 || read_space_cpus(ctx, *pn, &cpus) < 0 ||
			    hr_read_line(&ctx->hr, gov, sizeof(gov), CPUFREQ_DIR "/%s/scaling_governor", *pn) < 0)
				continue;
			n = gov_cpus_add(groups, n, ARRAY_SIZE(groups), gov, &cpus);
		}
	for (size_t g = 0; g < n; g++) {
		struct json_object *o = json_object_new_object();
		char list[1024];

		cpuset_format(&groups[g].cpus, list, sizeof(list));
		json_object_object_add(o, "governor", json_object_new_string(groups[g].governor));
		json_object_object_add(o, "cpus", json_object_new_string(list));
		json_object_array_add(arr, o);
	}
	json_object_object_add(caps, "cpufreq", arr);
}

static void cpu_free(void *config)
{
	strv_free(((struct cpu_config *)config)->choices);
}

const struct module module_cpu = {
	.name = "cpu",
	.section = "cpu",
	.config_size = sizeof(struct cpu_config),
	.parse = cpu_parse,
	.validate = cpu_validate,
	.plan = cpu_plan,
	.report = cpu_report,
	.free_config = cpu_free,
};
