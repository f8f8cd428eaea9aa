/* [vdpa NAME]: a vDPA net device created over generic netlink on a management
 * device, bound to vhost_vdpa (for VMs) or virtio_vdpa (for the host).
 * Devices hostprep created are recorded; one dropped from the profile is
 * deleted when nothing uses it.  Under a root other than "/" there is no
 * netlink: what sysfs shows is reported and creation is skipped.  The keys
 * are parsed in vdpa-profile.c, the planned actions applied in vdpa-apply.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "state.h"
#include "util.h"
#include "vdpa-nl.h"
#include "vdpa-sysfs.h"
#include "vdpa.h"

#define STATE_NAME "vdpa"

/* Descriptions and records ------------------------------------------------ */

/* A config nobody could read (no netlink under --root). */
static const struct vdpa_net_config unknown_config;

/* Descriptions: "mgmtdev=vdpasim_net mac=02:00:00:00:00:10 mtu=9000 driver=vhost_vdpa",
 * only with the keys the profile sets, so that current equals desired when converged;
 * cfg NULL describes the profile's values. */
void vdpa_describe(const struct vdpa_want *w, const char *handle, const struct vdpa_net_config *cfg,
		   const char *driver, char *buf, size_t len)
{
	char mac[32] = "?", mtu[16] = "?", vqp[16] = "?";
	size_t off;

	if (!cfg || cfg->has_mac)
		mac_format(cfg ? cfg->mac : w->mac, mac, sizeof(mac));
	if (!cfg || cfg->has_mtu)
		snprintf(mtu, sizeof(mtu), "%u", (unsigned)(cfg ? cfg->mtu : w->mtu));
	/* Without VIRTIO_NET_F_MQ/RSS the kernel reports no max_vqp: one pair. */
	if (!cfg || cfg != &unknown_config)
		snprintf(vqp, sizeof(vqp), "%u", (unsigned)(!cfg ? w->max_vqp : cfg->has_max_vqp ? cfg->max_vqp : 1));
	off = (size_t)snprintf(buf, len, "mgmtdev=%s", handle);
	if (w->has_mac && off < len)
		off += (size_t)snprintf(buf + off, len - off, " mac=%s", mac);
	if (w->has_mtu && off < len)
		off += (size_t)snprintf(buf + off, len - off, " mtu=%s", mtu);
	if (w->has_max_vqp && off < len)
		off += (size_t)snprintf(buf + off, len - off, " max_vqp=%s", vqp);
	if (off < len)
		snprintf(buf + off, len - off, " driver=%s", driver && *driver ? driver : "none");
}

bool vdpa_config_matches(const struct vdpa_want *w, const struct vdpa_net_config *cfg)
{
	return (!w->has_mac || (cfg->has_mac && memcmp(cfg->mac, w->mac, 6) == 0)) &&
	       (!w->has_mtu || (cfg->has_mtu && cfg->mtu == w->mtu)) &&
	       (!w->has_max_vqp || (cfg->has_max_vqp ? cfg->max_vqp : 1) == w->max_vqp);
}

/* Ownership records: "NAME HANDLE", one per device hostprep created. */
int vdpa_record(struct ctx *ctx, const char *name, const char *handle, bool add)
{
	_cleanup_free_ char *line = strdup_printf("%s %s", name, handle);

	if (!line)
		return -ENOMEM;
	return state_set_keyed(&ctx->hr, STATE_NAME, name, add ? line : NULL, false);
}

static const char *recorded_handle(char *const *owned, const char *name)
{
	size_t l = strlen(name);

	for (; owned && *owned; owned++)
		if (strncmp(*owned, name, l) == 0 && (*owned)[l] == ' ')
			return *owned + l + 1;
	return NULL;
}

static struct action *job_action(struct ctx *ctx, enum job_kind kind, const struct vdpa_want *w, const char *name,
				 const char *handle, const char *current, const char *desired, action_apply_fn fn)
{
	struct action *a = plan_action(ctx, name, current, desired, fn);
	struct vdpa_job *j;

	if (!a)
		return NULL;
	j = calloc(1, sizeof(*j));
	if (!j) {
		action_set_state(a, ACTION_FAILED, "out of memory");
		return a;
	}
	*j = (struct vdpa_job){ .kind = kind, .want = w };
	snprintf(j->name, sizeof(j->name), "%s", name);
	snprintf(j->handle, sizeof(j->handle), "%s", handle ? handle : "");
	a->data = j;
	a->free_data = free;
	return a;
}

/* Plan -------------------------------------------------------------------- */

/* A kernel module gets an action of its own, planned once, before the first
 * device that needs it: loading it is a change even if that device then fails. */
static void plan_module(struct ctx *ctx, const char *name)
{
	char target[64];
	struct action *a;

	snprintf(target, sizeof(target), "module %s", name);
	for (size_t i = 0; i < ctx->n_actions; i++)
		if (strcmp(ctx->actions[i]->module, "vdpa") == 0 && strcmp(ctx->actions[i]->target, target) == 0)
			return;
	a = plan_action(ctx, target, "not loaded", "loaded", vdpa_apply_module);
	if (!a)
		return;
	a->data = (void *)name;   /* a static string */
	if (!ctx->hr.is_real)
		action_set_state(a, ACTION_SKIPPED, "modules cannot be loaded under --root %s", ctx->hr.dir);
}

static bool in_profile(const struct vdpa_config *c, const char *name)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (strcmp(c->want[i].name, name) == 0)
			return true;
	return false;
}

/* The device's action, after the module actions it needs when it is pending. */
static void plan_job(struct ctx *ctx, enum job_kind kind, const struct vdpa_want *w, const char *current,
		     const char *desired, enum action_state state, const char *msg)
{
	struct action *a;

	if (state == ACTION_PENDING && !vdpa_driver_registered(ctx, w->driver))
		plan_module(ctx, w->driver);
	a = job_action(ctx, kind, w, w->name, NULL, current, desired,
		       kind == JOB_REBIND ? vdpa_apply_rebind : vdpa_apply_create);
	if (a && a->state != ACTION_FAILED)
		action_set_state(a, state, "%s", msg);
}

/* Netlink is for the running kernel only: under another root, sysfs tells what it can. */
static void plan_offline(struct ctx *ctx, const struct vdpa_config *c, char *const *owned)
{
	for (char *const *o = owned; o && *o; o++) {
		char name[VDPA_NAME_MAX], handle[VDPA_HANDLE_MAX];

		if (sscanf(*o, "%127s %159s", name, handle) != 2 || in_profile(c, name) ||
		    !vdpa_sysfs_exists(&ctx->hr, name))
			continue;
		action_set_state(plan_action(ctx, name, "present", "absent", NULL), ACTION_SKIPPED,
				 "would delete it (created by hostprep, no longer in the profile); netlink is not "
				 "available under --root %s", ctx->hr.dir);
	}
	for (size_t i = 0; c && i < c->n; i++) {
		const struct vdpa_want *w = &c->want[i];
		char desired[512], current[512], handle[VDPA_HANDLE_MAX] = "", drv[64] = "", bound[512];
		struct action *a;

		vdpa_describe(w, w->handle, NULL, w->driver, desired, sizeof(desired));
		if (w->no_match) {
			action_set_state(plan_action(ctx, w->name, NULL, desired, NULL), ACTION_FAILED,
					 "no device matches %s", w->id.text);
			continue;
		}
		if (!vdpa_sysfs_exists(&ctx->hr, w->name)) {
			action_set_state(plan_action(ctx, w->name, "absent", desired, NULL), ACTION_SKIPPED,
					 "would create it on %s; netlink is not available under --root %s", w->handle,
					 ctx->hr.dir);
			continue;
		}
		(void)vdpa_sysfs_mgmtdev(&ctx->hr, w->name, handle, sizeof(handle));
		(void)vdpa_sysfs_driver(&ctx->hr, w->name, drv, sizeof(drv));
		vdpa_describe(w, handle[0] ? handle : "?", &unknown_config, drv, current, sizeof(current));
		if (strcmp(handle, w->handle) != 0) {
			a = plan_action(ctx, w->name, current, desired, NULL);
			if (w->recreate)
				action_set_state(a, ACTION_SKIPPED, "exists on another management device; would re-create "
						 "it, but netlink is not available under --root %s", ctx->hr.dir);
			else
				action_set_state(a, ACTION_FAILED, "exists on management device %s, not %s; set recreate "
						 "= yes to delete and re-create it", handle[0] ? handle : "?", w->handle);
			continue;
		}
		if (strcmp(drv, w->driver) != 0) {
			char msg[256];

			snprintf(msg, sizeof(msg), "rebind to %s; mac, mtu and max_vqp cannot be read under --root "
				 "(netlink only)", w->driver);
			plan_job(ctx, JOB_REBIND, w, current, desired, ACTION_PENDING, msg);
			continue;
		}
		vdpa_bound_message(ctx, w->name, bound, sizeof(bound));
		action_set_state(plan_action(ctx, w->name, current, desired, NULL), ACTION_SKIPPED,
				 "present on %s, %s; mac, mtu and max_vqp cannot be read under --root (netlink only)",
				 handle, bound);
	}
}

static void plan_want(struct ctx *ctx, struct vdpa_nl *nl, const struct vdpa_want *w, const struct vdpa_mgmtdev *m,
		      size_t nm, const struct vdpa_dev *devs, size_t nd)
{
	const struct vdpa_dev *d = NULL;
	struct vdpa_net_config cfg = { 0 };
	char desired[512], current[512], handle[VDPA_HANDLE_MAX], drv[64] = "", problem[1024], msg[1200];
	int r;

	vdpa_describe(w, w->handle, NULL, w->driver, desired, sizeof(desired));
	for (size_t i = 0; i < nd; i++)
		if (strcmp(devs[i].name, w->name) == 0)
			d = &devs[i];
	vdpa_mgmtdev_problem(w, m, nm, problem, sizeof(problem));
	if (!d) {
		if (!problem[0])
			plan_job(ctx, JOB_CREATE, w, "absent", desired, ACTION_PENDING, "create");
		else if (strcmp(w->bus, "pci") == 0 && !w->no_match && !vdpa_find_mgmtdev(m, nm, w->bus, w->mgmt) &&
			 !hr_exists(&ctx->hr, "/sys/bus/pci/devices/%s", w->mgmt))
			plan_job(ctx, JOB_CREATE, w, "absent", desired, ACTION_PENDING,
				 "the PCI device does not exist yet (an SR-IOV VF of this run?); apply checks again");
		else
			plan_job(ctx, JOB_CREATE, w, "absent", desired, ACTION_FAILED, problem);
		return;
	}
	vdpa_handle_format(d->mgmt_bus, d->mgmt_name, handle, sizeof(handle));
	(void)vdpa_sysfs_driver(&ctx->hr, w->name, drv, sizeof(drv));
	r = vdpa_nl_config_get(nl, w->name, &cfg);
	vdpa_describe(w, handle, r == 0 ? &cfg : &unknown_config, drv, current, sizeof(current));
	if (r == 0 && strcmp(handle, w->handle) == 0 && vdpa_config_matches(w, &cfg)) {
		if (strcmp(drv, w->driver) == 0) {
			vdpa_bound_message(ctx, w->name, msg, sizeof(msg));
			action_set_state(plan_action(ctx, w->name, desired, desired, NULL), ACTION_OK, "%s", msg);
			return;
		}
		snprintf(msg, sizeof(msg), "rebind from %s to %s", drv[0] ? drv : "no driver", w->driver);
		plan_job(ctx, JOB_REBIND, w, current, desired, ACTION_PENDING, msg);
		return;
	}
	/* Same name, another configuration: a conflict. */
	if (!w->recreate) {
		if (r < 0)
			snprintf(msg, sizeof(msg), "exists, but its config is unreadable (%s); set recreate = yes to delete "
				 "and re-create it", strerror(-r));
		else
			snprintf(msg, sizeof(msg), "exists with another configuration; set recreate = yes to delete and "
				 "re-create it");
		plan_job(ctx, JOB_RECREATE, w, current, desired, ACTION_FAILED, msg);
	} else if (vdpa_sysfs_in_use(&ctx->hr, w->name, problem, sizeof(problem)) > 0) {
		snprintf(msg, sizeof(msg), "differs from the profile but is in use: %s; not re-creating", problem);
		plan_job(ctx, JOB_RECREATE, w, current, desired, ACTION_FAILED, msg);
	} else if (problem[0]) {
		snprintf(msg, sizeof(msg), "differs from the profile and cannot be re-created: %s", problem);
		plan_job(ctx, JOB_RECREATE, w, current, desired, ACTION_FAILED, msg);
	} else {
		plan_job(ctx, JOB_RECREATE, w, current, desired, ACTION_PENDING, "re-create (recreate = yes; not in use)");
	}
}

static void plan_drop(struct ctx *ctx, const char *name, const char *handle, const struct vdpa_dev *devs, size_t nd)
{
	char why[512], dh[VDPA_HANDLE_MAX];
	struct action *a;

	for (size_t i = 0; i < nd; i++) {
		if (strcmp(devs[i].name, name) != 0)
			continue;
		vdpa_handle_format(devs[i].mgmt_bus, devs[i].mgmt_name, dh, sizeof(dh));
		if (strcmp(dh, handle) != 0)
			return;   /* a device of that name on another management device is not ours */
		a = job_action(ctx, JOB_DELETE, NULL, name, handle, "present", "absent", vdpa_apply_delete);
		if (vdpa_sysfs_in_use(&ctx->hr, name, why, sizeof(why)) > 0)
			action_set_state(a, ACTION_FAILED, "no longer in the profile, but in use: %s; not deleting it", why);
		else
			action_set_state(a, ACTION_PENDING, "created by hostprep, no longer in the profile: delete");
		return;
	}
}

static int vdpa_plan(struct ctx *ctx, void *config)
{
	const struct vdpa_config *c = config;
	_cleanup_strv_free_ char **owned = NULL;
	_cleanup_vdpa_nl_ struct vdpa_nl *nl = NULL;
	_cleanup_free_ struct vdpa_mgmtdev *m = NULL;
	_cleanup_free_ struct vdpa_dev *devs = NULL;
	size_t nm = 0, nd = 0;
	int r = state_load(&ctx->hr, STATE_NAME, &owned);

	if (r < 0) {
		ctx_warn(ctx, "vdpa: reading /var/lib/hostprep/%s: %s; devices dropped from the profile are kept",
			 STATE_NAME, strerror(-r));
		owned = NULL;
	}
	if ((!c || !c->n) && (!owned || !owned[0]))
		return 0;
	if (!ctx->hr.is_real) {
		plan_offline(ctx, c, owned);
		return 0;
	}
	r = vdpa_nl_open(&nl);
	if (r == 0)
		r = vdpa_nl_mgmtdevs(nl, &m, &nm);
	if (r == 0)
		r = vdpa_nl_devs(nl, &devs, &nd);
	for (char *const *o = owned; r == 0 && o && *o; o++) {
		char name[VDPA_NAME_MAX], handle[VDPA_HANDLE_MAX];

		if (sscanf(*o, "%127s %159s", name, handle) == 2 && !in_profile(c, name))
			plan_drop(ctx, name, handle, devs, nd);
	}
	for (size_t i = 0; c && i < c->n; i++) {
		const struct vdpa_want *w = &c->want[i];
		char desired[512], msg[256];

		if (r == 0) {
			plan_want(ctx, nl, w, m, nm, devs, nd);
			continue;
		}
		vdpa_describe(w, w->handle, NULL, w->driver, desired, sizeof(desired));
		if (r == -ENOENT) {
			plan_module(ctx, "vdpa");
			plan_job(ctx, JOB_CREATE, w, "absent", desired, ACTION_PENDING, "create (after loading vdpa)");
			continue;
		}
		snprintf(msg, sizeof(msg), "reading vDPA devices over netlink: %s", strerror(-r));
		plan_job(ctx, JOB_CREATE, w, "absent", desired, ACTION_FAILED, msg);
	}
	return 0;
}

/* Report ------------------------------------------------------------------ */

static struct json_object *classes_json(uint64_t classes)
{
	struct json_object *arr = json_object_new_array();

	for (int bit = 0; bit < 64; bit++) {
		char other[32];

		if (!(classes & (1ULL << bit)))
			continue;
		snprintf(other, sizeof(other), "virtio-%d", bit);
		json_object_array_add(arr, json_object_new_string(bit == VDPA_VIRTIO_ID_NET ? "net" :
								 bit == VDPA_VIRTIO_ID_BLOCK ? "block" : other));
	}
	return arr;
}

static struct json_object *device_json(struct ctx *ctx, const char *name, const char *handle,
				       const struct vdpa_net_config *cfg, char *const *owned)
{
	struct json_object *o = json_object_new_object();
	char drv[64] = "", node[300], mac[32];
	const char *rec = recorded_handle(owned, name);

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "mgmtdev", handle && *handle ? json_object_new_string(handle) : NULL);
	json_object_object_add(o, "driver", vdpa_sysfs_driver(&ctx->hr, name, drv, sizeof(drv)) == 0 && drv[0]
					    ? json_object_new_string(drv) : NULL);
	if (cfg && cfg->has_mac)
		mac_format(cfg->mac, mac, sizeof(mac));
	json_object_object_add(o, "mac", cfg && cfg->has_mac ? json_object_new_string(mac) : NULL);
	json_object_object_add(o, "mtu", cfg && cfg->has_mtu ? json_object_new_int(cfg->mtu) : NULL);
	json_object_object_add(o, "max_vqp", !cfg ? NULL : json_object_new_int(cfg->has_max_vqp ? cfg->max_vqp : 1));
	json_object_object_add(o, "dev", vdpa_sysfs_vhost_dev(&ctx->hr, name, node, sizeof(node)) == 0
					 ? json_object_new_string(node) : NULL);
	json_object_object_add(o, "interface", vdpa_sysfs_netdev(&ctx->hr, name, node, sizeof(node)) == 0
					       ? json_object_new_string(node) : NULL);
	json_object_object_add(o, "created_by_hostprep", json_object_new_boolean(rec && handle && strcmp(rec, handle) == 0));
	return o;
}

static void vdpa_report(struct ctx *ctx, struct json_object *caps)
{
	struct json_object *o = json_object_new_object(), *mj = NULL, *dj = json_object_new_array();
	_cleanup_strv_free_ char **owned = NULL, **names = NULL;
	_cleanup_vdpa_nl_ struct vdpa_nl *nl = NULL;
	_cleanup_free_ struct vdpa_mgmtdev *m = NULL;
	_cleanup_free_ struct vdpa_dev *devs = NULL;
	size_t nm = 0, nd = 0;
	bool available;

	if (state_load(&ctx->hr, STATE_NAME, &owned) < 0)
		owned = NULL;
	if (ctx->hr.is_real) {
		/* Reporting never loads modules: without the family there is nothing to list. */
		available = vdpa_nl_open(&nl) == 0 && vdpa_nl_mgmtdevs(nl, &m, &nm) == 0 && vdpa_nl_devs(nl, &devs, &nd) == 0;
		mj = json_object_new_array();
		for (size_t i = 0; available && i < nm; i++) {
			struct json_object *e = json_object_new_object();
			char h[VDPA_HANDLE_MAX], f[32];

			vdpa_handle_format(m[i].bus, m[i].name, h, sizeof(h));
			snprintf(f, sizeof(f), "0x%" PRIx64, m[i].features);
			json_object_object_add(e, "name", json_object_new_string(h));
			json_object_object_add(e, "classes", classes_json(m[i].classes));
			json_object_object_add(e, "max_vqs", json_object_new_int64(m[i].max_vqs));
			json_object_object_add(e, "supported_features", json_object_new_string(f));
			json_object_array_add(mj, e);
		}
		for (size_t i = 0; available && i < nd; i++) {
			struct vdpa_net_config cfg;
			char h[VDPA_HANDLE_MAX];
			bool net = devs[i].device_id == VDPA_VIRTIO_ID_NET && vdpa_nl_config_get(nl, devs[i].name, &cfg) == 0;

			if (!path_component_valid(devs[i].name))
				continue;
			vdpa_handle_format(devs[i].mgmt_bus, devs[i].mgmt_name, h, sizeof(h));
			json_object_array_add(dj, device_json(ctx, devs[i].name, h, net ? &cfg : NULL, owned));
		}
	} else {
		/* Management devices and device config exist only over netlink. */
		available = hr_is_dir(&ctx->hr, VDPA_BUS_DIR);
		if (vdpa_sysfs_devices(&ctx->hr, &names) == 0)
			for (char **n = names; *n; n++) {
				char h[VDPA_HANDLE_MAX] = "";

				(void)vdpa_sysfs_mgmtdev(&ctx->hr, *n, h, sizeof(h));
				json_object_array_add(dj, device_json(ctx, *n, h, NULL, owned));
			}
	}
	json_object_object_add(o, "available", json_object_new_boolean(available));
	json_object_object_add(o, "source", json_object_new_string(ctx->hr.is_real ? "netlink" : "sysfs"));
	json_object_object_add(o, "management_devices", mj);
	json_object_object_add(o, "devices", dj);
	json_object_object_add(caps, "vdpa", o);
}

const struct module module_vdpa = {
	.name = "vdpa",
	.section = "vdpa",
	.instanced = true,
	.config_size = sizeof(struct vdpa_config),
	.parse = vdpa_parse,
	.validate = vdpa_validate,
	.plan = vdpa_plan,
	.report = vdpa_report,
	.free_config = vdpa_free_config,
};
