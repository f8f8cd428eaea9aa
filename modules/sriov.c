/* [sriov SELECTOR]: VFs of a PF — count, sriov_drivers_autoprobe, the VFs'
 * driver — and the policy for changing a count: the kernel refuses N→M
 * (both nonzero) with EBUSY, and going through 0 destroys the VFs.  The
 * planned actions are applied in sriov-apply.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "jrec.h"
#include "pci.h"
#include "sriov.h"
#include "state.h"
#include "util.h"

#define MAX_PFS 64
#define MAX_NUMVFS 65535
#define DEFAULT_TIMEOUT_S 120

static const char *const reset_names[] = { "if-unused", "never", "always", NULL };

struct pf_config {
	const char *instance;          /* the selector as written */
	const struct setting *header;  /* [sriov SELECTOR] */
	struct pci_selector sel;
	bool bad_selector;
	const struct setting *numvfs_s, *autoprobe_s, *vf_driver_s, *reset_s, *timeout_s;
	unsigned numvfs;
	bool autoprobe;
	char vf_driver[PCI_DRIVER_MAX];
	enum reset_policy reset;
	unsigned timeout_s_value;
};

struct sriov_config {
	struct pf_config pf[MAX_PFS];
	size_t n;
};

static const struct setting *section_header(struct ctx *ctx, const char *instance)
{
	for (size_t i = 0; i < ctx->profile->n_sections; i++) {
		const struct setting *s = &ctx->profile->sections[i];

		if (strcmp(s->section, "sriov") == 0 && s->instance && strcmp(s->instance, instance) == 0)
			return s;
	}
	return NULL;
}

static struct pf_config *pf_for(struct ctx *ctx, struct sriov_config *c, const struct setting *s)
{
	struct pf_config *pf;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->pf[i].instance, s->instance) == 0)
			return &c->pf[i];
	if (c->n >= MAX_PFS) {
		ctx_setting_error(ctx, s, "too many [sriov] sections (at most %d)", MAX_PFS);
		return NULL;
	}
	pf = &c->pf[c->n++];
	pf->instance = s->instance;
	pf->header = section_header(ctx, s->instance);
	if (!pf->header)
		pf->header = s;
	pf->reset = RESET_IF_UNUSED;
	pf->timeout_s_value = DEFAULT_TIMEOUT_S;
	if (pci_selector_parse(s->instance, &pf->sel) < 0) {
		pf->bad_selector = true;
		ctx_setting_error(ctx, pf->header,
				  "[sriov %s]: not a PCI address (0000:03:00.0 or 03:00.0), an interface name or vendor:device",
				  s->instance);
	}
	return pf;
}

static int sriov_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct pf_config *pf = pf_for(ctx, config, s);
	uint64_t v;

	if (!pf || pf->bad_selector)
		return -EINVAL;
	if (strcmp(s->key, "numvfs") == 0) {
		if (parse_u64_range(s->value, 0, MAX_NUMVFS, &v) < 0) {
			ctx_setting_error(ctx, s, "numvfs: '%s' is not a VF count", s->value);
			return -EINVAL;
		}
		pf->numvfs = (unsigned)v;
		pf->numvfs_s = s;
	} else if (strcmp(s->key, "autoprobe") == 0) {
		if (parse_bool(s->value, &pf->autoprobe) < 0) {
			ctx_setting_error(ctx, s, "autoprobe: expected yes or no, got '%s'", s->value);
			return -EINVAL;
		}
		pf->autoprobe_s = s;
	} else if (strcmp(s->key, "vf_driver") == 0) {
		if (!path_component_valid(s->value) || strlen(s->value) >= sizeof(pf->vf_driver) ||
		    strpbrk(s->value, " \t,")) {
			ctx_setting_error(ctx, s, "vf_driver: '%s' is not a driver name", s->value);
			return -EINVAL;
		}
		strcpy(pf->vf_driver, s->value);
		pf->vf_driver_s = s;
	} else if (strcmp(s->key, "reset") == 0) {
		size_t i;

		for (i = 0; reset_names[i] && strcmp(reset_names[i], s->value) != 0; i++)
			;
		if (!reset_names[i]) {
			ctx_setting_error(ctx, s, "reset: expected if-unused, never or always, got '%s'", s->value);
			return -EINVAL;
		}
		pf->reset = (enum reset_policy)i;
		pf->reset_s = s;
	} else if (strcmp(s->key, "timeout") == 0) {
		if (parse_u64_range(s->value, 1, 3600, &v) < 0) {
			ctx_setting_error(ctx, s, "timeout: '%s' is not a number of seconds (1 to 3600)", s->value);
			return -EINVAL;
		}
		pf->timeout_s_value = (unsigned)v;
		pf->timeout_s = s;
	} else {
		ctx_setting_error(ctx, s, "unknown key '%s' in [sriov] (expected numvfs, autoprobe, vf_driver, reset, timeout)",
				  s->key);
		return -EINVAL;
	}
	return 0;
}

/* For messages only: the bus is listed (and pci.ids read) when one is printed. */
static const char *device_name(struct ctx *ctx, const char *addr)
{
	const struct pci_device *d = snap_pci_device(ctx, addr);

	return d ? snap_pci_name(ctx, d) : "?";
}

/* The PFs a selector names.  VFs often share their PF's vendor:device
 * (QEMU's NVMe does): a vendor:device selector skips them.  Only that form
 * lists the bus; on a libpci error, err says why. */
static int resolve_pfs(struct ctx *ctx, const struct pci_selector *sel, char ***ret, char *err, size_t err_len)
{
	const struct pci_list *all = NULL;
	char **devs = NULL;
	int r;

	if (sel->kind == PCI_SEL_ID && !(all = snap_pci(ctx, err, err_len)))
		return -EIO;
	r = pci_resolve(&ctx->hr, all, sel, &devs);
	if (r < 0)
		return r;
	if (sel->kind == PCI_SEL_ID) {
		char **keep = devs;

		for (char **d = devs; *d; d++)
			if (hr_exists(&ctx->hr, "/sys/bus/pci/devices/%s/physfn", *d))
				free(*d);
			else
				*keep++ = *d;
		*keep = NULL;
	}
	*ret = devs;
	return 0;
}

static int sriov_validate(struct ctx *ctx, void *config)
{
	struct sriov_config *c = config;
	struct {
		char addr[PCI_ADDR_MAX];
		const struct setting *header;
	} seen[MAX_PFS * 4];
	size_t n_seen = 0;
	int r;

	/* A section without keys never reached parse. */
	for (size_t i = 0; i < ctx->profile->n_sections; i++) {
		const struct setting *s = &ctx->profile->sections[i];
		bool known = false;

		if (strcmp(s->section, "sriov") != 0 || !s->instance)
			continue;
		for (size_t k = 0; k < c->n; k++)
			known |= strcmp(c->pf[k].instance, s->instance) == 0 && c->pf[k].numvfs_s;
		if (!known)
			ctx_setting_error(ctx, s, "[sriov %s] needs numvfs", s->instance);
	}
	for (size_t i = 0; i < c->n; i++) {
		struct pf_config *pf = &c->pf[i];
		_cleanup_strv_free_ char **devs = NULL;

		if (resolve_pfs(ctx, &pf->sel, &devs, NULL, 0) < 0)
			continue;   /* planned as a failed action */
		for (char **d = devs; *d; d++) {
			uint64_t total;

			for (size_t k = 0; k < n_seen; k++)
				if (strcmp(seen[k].addr, *d) == 0)
					ctx_setting_error(ctx, pf->header, "[sriov %s] names %s, as [sriov] at %s:%d does",
							  pf->instance, *d, seen[k].header->file, seen[k].header->line);
			if (n_seen < ARRAY_SIZE(seen)) {
				snprintf(seen[n_seen].addr, sizeof(seen[n_seen].addr), "%s", *d);
				seen[n_seen++].header = pf->header;
			}
			r = hr_read_u64(&ctx->hr, &total, "/sys/bus/pci/devices/%s/sriov_totalvfs", *d);
			if (r == -ENOENT) {
				ctx_setting_error(ctx, pf->header, "[sriov %s]: %s (%s) has no SR-IOV capability",
						  pf->instance, *d, device_name(ctx, *d));
				continue;
			}
			if (r < 0) {
				ctx_setting_error(ctx, pf->header, "[sriov %s]: cannot read sriov_totalvfs of %s: %s",
						  pf->instance, *d, strerror(-r));
				continue;
			}
			if (pf->numvfs_s && pf->numvfs > total)
				ctx_setting_error(ctx, pf->numvfs_s, "numvfs: %s (%s) offers at most %llu VFs (sriov_totalvfs)",
						  *d, device_name(ctx, *d), (unsigned long long)total);
		}
	}
	return 0;
}

static struct action *job_action(struct ctx *ctx, const char *target, const char *cur, const char *want,
				 action_apply_fn fn, const struct pf_job *job)
{
	struct action *a = plan_action(ctx, target, cur, want, fn);
	struct pf_job *copy;

	if (!a)
		return NULL;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return NULL;
	*copy = *job;
	a->data = copy;
	a->free_data = free;
	return a;
}

static int plan_pf(struct ctx *ctx, const struct pf_config *pf, const char *addr, char *const *record)
{
	struct pf_job job = { .want = pf->numvfs, .reset = pf->reset, .timeout_s = pf->timeout_s_value };
	char target[128], cur_s[32], want_s[32], why[640];
	_cleanup_free_ char *drivers_now = NULL, *drivers_want = NULL;
	struct action *a;
	struct sriov_record rec;
	uint64_t cur;
	int r;
	char ap[8];
	bool to_vfio = strcmp(pf->vf_driver, "vfio-pci") == 0;
	/* VFs going to vfio-pci must not be probed by their own driver first. */
	bool want_autoprobe = pf->autoprobe_s ? pf->autoprobe : !to_vfio;

	snprintf(job.addr, sizeof(job.addr), "%s", addr);
	snprintf(job.vf_driver, sizeof(job.vf_driver), "%s", pf->vf_driver);
	if (pf->autoprobe_s || to_vfio) {
		snprintf(target, sizeof(target), "%s autoprobe", addr);
		r = hr_read_line(&ctx->hr, ap, sizeof(ap), "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", addr);
		if (r < 0) {
			action_set_state(plan_action(ctx, target, NULL, want_autoprobe ? "yes" : "no", NULL), ACTION_FAILED,
					 r == -ENOENT ? "no sriov_drivers_autoprobe" : "cannot read sriov_drivers_autoprobe: %s",
					 strerror(-r));
		} else if (!job_action(ctx, target, strcmp(ap, "0") == 0 ? "no" : "yes", want_autoprobe ? "yes" : "no",
				       sriov_autoprobe_apply, &job)) {
			return -ENOMEM;
		}
	}

	snprintf(target, sizeof(target), "%s numvfs", addr);
	snprintf(want_s, sizeof(want_s), "%u", pf->numvfs);
	r = hr_read_u64(&ctx->hr, &cur, "/sys/bus/pci/devices/%s/sriov_numvfs", addr);
	if (r == -ENOENT) {
		action_set_state(plan_action(ctx, target, NULL, want_s, NULL), ACTION_FAILED,
				 "%s has no sriov_numvfs (no SR-IOV)", addr);
		return 0;
	}
	if (r < 0) {
		action_set_state(plan_action(ctx, target, NULL, want_s, NULL), ACTION_FAILED,
				 "cannot read sriov_numvfs: %s", strerror(-r));
		return 0;
	}
	snprintf(cur_s, sizeof(cur_s), "%llu", (unsigned long long)cur);
	a = job_action(ctx, target, cur_s, want_s, sriov_numvfs_apply, &job);
	if (!a)
		return -ENOMEM;
	if (a->state == ACTION_PENDING && sriov_destroy_refusal(ctx, &job, (unsigned)cur, why, sizeof(why)))
		action_set_state(a, ACTION_FAILED, "%s", why);
	else if (a->state == ACTION_OK && sriov_record_find(record, addr, &rec) == 0 && rec.unfinished)
		action_set_state(a, ACTION_PENDING, "unfinished record '%s %u was %u' (an earlier run stopped before "
				 "recording the result): recording %llu", addr, rec.count, rec.was, (unsigned long long)cur);

	if (!pf->vf_driver[0] || pf->numvfs == 0)
		return 0;
	snprintf(target, sizeof(target), "%s VF driver", addr);
	drivers_now = cur > 0 ? sriov_vf_driver_summary(ctx, addr) : NULL;
	drivers_want = strdup_printf("%ux %s", pf->numvfs, pf->vf_driver);
	if (!drivers_want)
		return -ENOMEM;
	a = job_action(ctx, target, drivers_now, drivers_want, sriov_vf_driver_apply, &job);
	if (!a)
		return -ENOMEM;
	if (a->state == ACTION_PENDING && cur > 0)
		(void)sriov_vfs_wait_for_iommu(ctx, a, &job);
	if (a->state == ACTION_PENDING && !ctx->hr.is_real &&
	    !hr_is_dir(&ctx->hr, "/sys/bus/pci/drivers/%s", pf->vf_driver))
		action_set_state(a, ACTION_SKIPPED, "%s is not loaded, and modules are loaded only on the real root",
				 pf->vf_driver);
	return 0;
}

static bool in_strv(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

/* A PF hostprep configured that the profile no longer names goes back to 0;
 * with no VFs left, its record goes. */
static int plan_dropped(struct ctx *ctx, const char *line, char *const *wanted)
{
	char target[128], cur_s[32], why[640];
	struct sriov_record rec;
	uint64_t cur;
	struct pf_job job = { .want = 0, .reset = RESET_IF_UNUSED, .timeout_s = DEFAULT_TIMEOUT_S, .dropped = true };
	struct action *a;

	if (sriov_record_parse(line, &rec) < 0 || in_strv(wanted, rec.addr) || !pci_exists(&ctx->hr, rec.addr))
		return 0;
	if (hr_read_u64(&ctx->hr, &cur, "/sys/bus/pci/devices/%s/sriov_numvfs", rec.addr) < 0)
		return 0;
	if (cur > 0 && !sriov_record_owns(&rec, (unsigned)cur)) {
		ctx_warn(ctx, "sriov %s: dropped from the profile, but it has %llu VFs where hostprep set %u: leaving them",
			 rec.addr, (unsigned long long)cur, rec.count);
		return 0;
	}
	snprintf(job.addr, sizeof(job.addr), "%s", rec.addr);
	snprintf(target, sizeof(target), "%s numvfs", rec.addr);
	snprintf(cur_s, sizeof(cur_s), "%llu", (unsigned long long)cur);
	a = job_action(ctx, target, cur_s, "0", sriov_numvfs_apply, &job);
	if (!a)
		return -ENOMEM;
	if (cur == 0)
		action_set_state(a, ACTION_PENDING, "dropped from the profile and no VFs left: removing its record");
	else if (sriov_destroy_refusal(ctx, &job, (unsigned)cur, why, sizeof(why)))
		action_set_state(a, ACTION_FAILED, "%s", why);
	else
		action_set_state(a, ACTION_PENDING, "dropped from the profile; hostprep created these VFs");
	return 0;
}

static int sriov_plan(struct ctx *ctx, void *config)
{
	struct sriov_config *c = config;
	_cleanup_strv_free_ char **record = NULL;
	_cleanup_strv_free_ char **wanted = calloc(1, sizeof(char *));
	char err[512] = "";
	int ret = 0, r;

	if (!wanted)
		return -ENOMEM;
	r = state_load(&ctx->hr, SRIOV_STATE_NAME, &record);
	if (r < 0)
		ctx_warn(ctx, "sriov: reading /var/lib/hostprep/%s: %s", SRIOV_STATE_NAME, strerror(-r));
	for (size_t i = 0; c && i < c->n; i++) {
		struct pf_config *pf = &c->pf[i];
		_cleanup_strv_free_ char **devs = NULL;

		r = resolve_pfs(ctx, &pf->sel, &devs, err, sizeof(err));
		if (r < 0 || !devs[0]) {
			action_set_state(plan_action(ctx, pf->instance, NULL, NULL, NULL), ACTION_FAILED,
					 r < 0 ? "listing PCI devices failed: %s" : "no device matches %s",
					 r < 0 ? err : pf->instance);
			continue;
		}
		for (char **d = devs; *d; d++) {
			size_t n = strv_length(wanted);

			if (strv_push(&wanted, &n, strdup(*d)) < 0)
				return -ENOMEM;
			RET_GATHER(ret, plan_pf(ctx, pf, *d, record));
		}
	}
	for (char **l = record; l && *l; l++)
		RET_GATHER(ret, plan_dropped(ctx, *l, wanted));
	return ret;
}

static struct json_object *netdevs_json(struct ctx *ctx, const char *addr)
{
	_cleanup_strv_free_ char **names = NULL;
	struct json_object *arr = json_object_new_array();

	if (pci_netdevs(&ctx->hr, addr, &names) == 0)
		for (char **n = names; *n; n++)
			json_object_array_add(arr, json_object_new_string(*n));
	return arr;
}

/* A host can have a thousand VFs: each is a compact record (agent/jrec.h),
 * and VFs on the same driver share its string. */
static const char *const vf_keys[] = { "address", "driver", "iommu_group" };
static const struct jrec_shape vf_shape = { vf_keys, ARRAY_SIZE(vf_keys) };

static struct json_object *vf_driver(struct json_object **last, const char *drv)
{
	if (!drv[0])
		return NULL;
	if (!*last || strcmp(json_object_get_string(*last), drv) != 0) {
		json_object_put(*last);
		*last = json_object_new_string(drv);
	}
	return json_object_get(*last);
}

static void sriov_report(struct ctx *ctx, struct json_object *caps)
{
	const struct pci_list *all = snap_pci(ctx, NULL, 0);
	struct json_object *pfs = json_object_new_array(), *last_drv = NULL;

	for (size_t i = 0; all && i < all->n; i++) {
		const char *addr = all->dev[i].addr;
		_cleanup_strv_free_ char **vfs = NULL;
		struct json_object *o, *arr;
		uint64_t total, num;
		char ap[8], drv[PCI_DRIVER_MAX];

		if (hr_read_u64(&ctx->hr, &total, "/sys/bus/pci/devices/%s/sriov_totalvfs", addr) < 0)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "address", json_object_new_string(addr));
		json_object_object_add(o, "name", json_object_new_string(snap_pci_name(ctx, &all->dev[i])));
		json_object_object_add(o, "interfaces", netdevs_json(ctx, addr));
		json_object_object_add(o, "driver", pci_driver(&ctx->hr, addr, drv, sizeof(drv)) == 0 && drv[0]
						 ? json_object_new_string(drv) : NULL);
		json_object_object_add(o, "totalvfs", json_object_new_int64((int64_t)total));
		json_object_object_add(o, "numvfs", hr_read_u64(&ctx->hr, &num, "/sys/bus/pci/devices/%s/sriov_numvfs", addr) < 0
						 ? NULL : json_object_new_int64((int64_t)num));
		json_object_object_add(o, "autoprobe",
				       hr_read_line(&ctx->hr, ap, sizeof(ap), "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", addr) < 0
				       ? NULL : json_object_new_boolean(strcmp(ap, "0") != 0));
		arr = json_object_new_array();
		if (pci_vfs(&ctx->hr, addr, &vfs) == 0)
			for (char **v = vfs; *v; v++) {
				struct json_object *vo = jrec_new(&vf_shape);
				int g = pci_iommu_group(&ctx->hr, *v);

				(void)jrec_set(vo, "address", json_object_new_string(*v));
				(void)jrec_set(vo, "driver",
					       pci_driver(&ctx->hr, *v, drv, sizeof(drv)) == 0 ? vf_driver(&last_drv, drv) : NULL);
				(void)jrec_set(vo, "iommu_group", g < 0 ? NULL : json_object_new_int(g));
				json_object_array_add(arr, vo);
			}
		json_object_object_add(o, "vfs", arr);
		json_object_array_add(pfs, o);
	}
	json_object_put(last_drv);
	json_object_object_add(caps, "sriov", pfs);
}

const struct module module_sriov = {
	.name = "sriov",
	.section = "sriov",
	.instanced = true,
	.config_size = sizeof(struct sriov_config),
	.parse = sriov_parse,
	.validate = sriov_validate,
	.plan = sriov_plan,
	.report = sriov_report,
};
