/* [kernel], the profile side: parsing and checking the keys, and the
 * arguments they stand for (with [hugepages] boot = yes), in order. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "engine.h"
#include "hugepages.h"
#include "kernel.h"
#include "util.h"

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

int kernel_parse(struct ctx *ctx, void *config, const struct setting *s)
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

void kernel_free_config(void *config)
{
	strv_free(((struct kernel_config *)config)->extra);
}

/* IOMMU ------------------------------------------------------------- */

/* Which IOMMU the kernel will find: the ACPI table it goes by, not the CPU
 * vendor (QEMU under TCG has an AMD CPU and an Intel IOMMU). */
enum iommu_kind { IOMMU_INTEL, IOMMU_AMD, IOMMU_NONE, IOMMU_UNKNOWN };

static enum iommu_kind iommu_kind(struct ctx *ctx)
{
	if (hr_exists(&ctx->hr, "/sys/firmware/acpi/tables/DMAR"))
		return IOMMU_INTEL;
	if (hr_exists(&ctx->hr, "/sys/firmware/acpi/tables/IVRS"))
		return IOMMU_AMD;
	if (hr_is_dir(&ctx->hr, "/sys/firmware/acpi/tables"))
		return IOMMU_NONE;
	return IOMMU_UNKNOWN;
}

static void warn_iommu(struct ctx *ctx, const struct kernel_config *c)
{
	enum iommu_kind k = iommu_kind(ctx);

	if (!c->iommu)
		return;
	if (k == IOMMU_NONE && strcmp(c->iommu->value, "off") != 0)
		ctx_warn(ctx, "%s:%d: iommu = %s: the firmware describes no IOMMU (no ACPI DMAR or IVRS table): enable "
			 "VT-d or AMD-Vi in the firmware setup; no argument added", c->iommu->file, c->iommu->line,
			 c->iommu->value);
	else if (k == IOMMU_UNKNOWN)
		ctx_warn(ctx, "%s:%d: iommu = %s: no ACPI tables under /sys/firmware/acpi/tables: going by the CPU "
			 "vendor (%s)", c->iommu->file, c->iommu->line, c->iommu->value,
			 host_facts(ctx)->vendor[0] ? host_facts(ctx)->vendor : "unknown");
}

/* Only values the kernel takes: intel_iommu=on|off; the AMD driver is on
 * by default and knows no amd_iommu=on; iommu=pt for either. */
static int iommu_args(struct ctx *ctx, const char *mode, char ***v, size_t *n)
{
	enum iommu_kind k = iommu_kind(ctx);
	bool off = strcmp(mode, "off") == 0;
	int r = 0;

	if (k == IOMMU_UNKNOWN)
		k = host_cpu_is_amd(ctx) ? IOMMU_AMD : IOMMU_INTEL;
	if (k == IOMMU_NONE)
		return 0;
	if (k == IOMMU_INTEL)
		r = strv_push(v, n, strdup(off ? "intel_iommu=off" : "intel_iommu=on"));
	else if (off)
		r = strv_push(v, n, strdup("amd_iommu=off"));
	if (r == 0 && strcmp(mode, "pt") == 0)
		r = strv_push(v, n, strdup("iommu=pt"));
	return r;
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
void kernel_arg_key(const char *arg, char *key, size_t len)
{
	_cleanup_strv_free_ char **tokens = NULL;

	if (cmdline_split(arg, &tokens) == 0 && tokens[0] && tokens[1])
		snprintf(key, len, "%s", tokens[0]);
	else
		cmdline_key(arg, key, len);
}

int kernel_validate(struct ctx *ctx, void *config)
{
	struct kernel_config *c = config;
	_cleanup_strv_free_ char **args = NULL;

	validate_cpus(ctx, &c->isolcpus, true);
	validate_cpus(ctx, &c->nohz_full, true);
	validate_cpus(ctx, &c->rcu_nocbs, false);
	warn_iommu(ctx, c);
	/* One owner per key: a key given twice would fight itself at boot. */
	if (kernel_desired_args(ctx, c, &args) < 0)
		return -ENOMEM;
	for (size_t i = 0; args[i]; i++)
		for (size_t j = 0; j < i; j++) {
			char a[256], b[256];

			kernel_arg_key(args[i], a, sizeof(a));
			kernel_arg_key(args[j], b, sizeof(b));
			if (strcmp(a, b) == 0 && !cmdline_key_repeats(a) && c->args)
				ctx_setting_error(ctx, c->args, "args: %s is also set by this profile ('%s')", a, args[j]);
		}
	return 0;
}

/* The desired command line ------------------------------------------- */

static char *cpus_arg(const char *key, const struct kernel_cpus *k)
{
	char list[1024];

	cpuset_format(&k->set, list, sizeof(list));
	return strdup_printf("%s=%s%s", key, k->flags, list);
}

/* hugepages=N:P,... needs Linux 5.16 or later. */
static bool kernel_has_node_hugepages(struct ctx *ctx)
{
	unsigned major = 0, minor = 0;

	if (sscanf(host_facts(ctx)->release, "%u.%u", &major, &minor) != 2)
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
		r = strv_push(v, n, strdup_printf("default_hugepagesz=%s", sz));
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
		r = by_node ? strv_push(v, n, strdup_printf("hugepagesz=%s hugepages=%s", sz, nodes))
			    : strv_push(v, n, strdup_printf("hugepagesz=%s hugepages=%" PRIu64, sz, total));
		if (r < 0)
			return r;
	}
	return 0;
}

int kernel_desired_args(struct ctx *ctx, const struct kernel_config *c, char ***ret)
{
	_cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
	size_t n = 0;
	int r = 0;

	if (!v)
		return -ENOMEM;
	if (c && c->isolcpus.setting)
		r = strv_push(&v, &n, cpus_arg("isolcpus", &c->isolcpus));
	if (r == 0 && c && c->nohz_full.setting)
		r = strv_push(&v, &n, cpus_arg("nohz_full", &c->nohz_full));
	if (r == 0 && c && c->rcu_nocbs.setting)
		r = strv_push(&v, &n, cpus_arg("rcu_nocbs", &c->rcu_nocbs));
	if (r == 0 && c && c->iommu)
		r = iommu_args(ctx, c->iommu->value, &v, &n);
	if (r == 0)
		r = hugepage_args(ctx, &v, &n);
	for (char **e = c ? c->extra : NULL; r == 0 && e && *e; e++)
		r = strv_push(&v, &n, strdup(*e));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}
