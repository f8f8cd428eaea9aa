/* [vdpa NAME]: a vDPA net device created over generic netlink on a management
 * device, bound to vhost_vdpa (for VMs) or virtio_vdpa (for the host).
 * Devices hostprep created are recorded; one dropped from the profile is
 * deleted when nothing uses it.  Under a root other than "/" there is no
 * netlink: what sysfs shows is reported and creation is skipped. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "kmodules.h"
#include "state.h"
#include "util.h"
#include "vdpa-nl.h"
#include "vdpa-sysfs.h"

#define STATE_NAME "vdpa"
#define DEV_NAME_MAX 63
#define MTU_MIN 68                 /* the kernel's policy minimum */
#define MAX_VQP_MAX 0x8000         /* virtio-net's limit on queue pairs */

struct vdpa_want {
	char *name;
	char bus[VDPA_BUS_MAX], mgmt[VDPA_NAME_MAX];
	char handle[VDPA_HANDLE_MAX];
	bool has_mac, has_mtu, has_max_vqp;
	uint8_t mac[6];
	uint16_t mtu, max_vqp;
	const char *driver;
	bool recreate;
};

struct vdpa_config {
	struct vdpa_want *want;
	size_t n;
	bool headers_checked;
};

enum job_kind { JOB_CREATE, JOB_RECREATE, JOB_REBIND, JOB_DELETE };

struct vdpa_job {
	enum job_kind kind;
	const struct vdpa_want *want;    /* NULL for JOB_DELETE */
	char name[VDPA_NAME_MAX];
	char handle[VDPA_HANDLE_MAX];    /* JOB_DELETE: the recorded management device */
};

static const char *const drivers[] = { "vhost_vdpa", "virtio_vdpa", NULL };

/* Profile ------------------------------------------------------------------ */

static bool dev_name_valid(const char *s)
{
	if (!path_component_valid(s) || strlen(s) > DEV_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    !strchr("_.-", *s))
			return false;
	return true;
}

static bool has_key(const struct profile *p, const char *instance, const char *key)
{
	for (size_t i = 0; i < p->n_settings; i++) {
		const struct setting *s = &p->settings[i];

		if (strcmp(s->section, "vdpa") == 0 && streq_ptr(s->instance, instance) && strcmp(s->key, key) == 0)
			return true;
	}
	return false;
}

/* Names and the one required key, checked once for every [vdpa NAME] header. */
static void check_headers(struct ctx *ctx, struct vdpa_config *c)
{
	const struct profile *p = ctx->profile;

	if (c->headers_checked)
		return;
	c->headers_checked = true;
	for (size_t i = 0; i < p->n_sections; i++) {
		const struct setting *h = &p->sections[i];
		bool first = true;

		if (strcmp(h->section, "vdpa") != 0 || !h->instance)
			continue;
		for (size_t j = 0; j < i; j++)
			first &= !(strcmp(p->sections[j].section, "vdpa") == 0 &&
				   streq_ptr(p->sections[j].instance, h->instance));
		if (!first)
			continue;
		if (!dev_name_valid(h->instance))
			ctx_setting_error(ctx, h, "[vdpa %s]: a device name is 1 to %d letters, digits, '_', '.' or '-' "
					  "(not starting with '.' or '-')", h->instance, DEV_NAME_MAX);
		else if (!has_key(p, h->instance, "mgmtdev"))
			ctx_setting_error(ctx, h, "[vdpa %s]: mgmtdev is required (e.g. pci/0000:03:00.2 or vdpasim_net)",
					  h->instance);
	}
}

static struct vdpa_want *want_get(struct vdpa_config *c, const char *name)
{
	struct vdpa_want *v;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->want[i].name, name) == 0)
			return &c->want[i];
	v = realloc(c->want, (c->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->want = v;
	v = &c->want[c->n];
	*v = (struct vdpa_want){ .name = strdup(name), .driver = drivers[0] };
	if (!v->name)
		return NULL;
	c->n++;
	return v;
}

static int vdpa_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct vdpa_config *c = config;
	struct vdpa_want *w;
	uint64_t v;

	check_headers(ctx, c);
	if (!dev_name_valid(s->instance))
		return -EINVAL;   /* reported at the header */
	w = want_get(c, s->instance);
	if (!w)
		return -ENOMEM;
	if (strcmp(s->key, "mgmtdev") == 0) {
		/* PCI addresses are parsed here for now; interface names and the other selector
		 * forms come with the shared PCI selector (agent/pci.h) when it lands. */
		if (vdpa_handle_parse(s->value, w->bus, w->mgmt) < 0)
			goto bad;
		vdpa_handle_format(w->bus, w->mgmt, w->handle, sizeof(w->handle));
	} else if (strcmp(s->key, "mac") == 0) {
		if (mac_parse(s->value, w->mac) < 0)
			goto bad;
		if (w->mac[0] & 1) {
			ctx_setting_error(ctx, s, "mac: %s is a multicast address", s->value);
			return -EINVAL;
		}
		if (!(w->mac[0] | w->mac[1] | w->mac[2] | w->mac[3] | w->mac[4] | w->mac[5])) {
			ctx_setting_error(ctx, s, "mac: 00:00:00:00:00:00 is not an address");
			return -EINVAL;
		}
		w->has_mac = true;
	} else if (strcmp(s->key, "mtu") == 0) {
		if (parse_u64_range(s->value, MTU_MIN, UINT16_MAX, &v) < 0)
			goto bad;
		w->mtu = (uint16_t)v;
		w->has_mtu = true;
	} else if (strcmp(s->key, "max_vqp") == 0) {
		if (parse_u64_range(s->value, 1, MAX_VQP_MAX, &v) < 0)
			goto bad;
		w->max_vqp = (uint16_t)v;
		w->has_max_vqp = true;
	} else if (strcmp(s->key, "driver") == 0) {
		if (!str_in(s->value, drivers))
			goto bad;
		w->driver = strcmp(s->value, drivers[0]) == 0 ? drivers[0] : drivers[1];
	} else if (strcmp(s->key, "recreate") == 0) {
		if (parse_bool(s->value, &w->recreate) < 0)
			goto bad;
	} else {
		ctx_setting_error(ctx, s, "unknown key '%s' in [vdpa %s] (expected mgmtdev, mac, mtu, max_vqp, driver, "
				  "recreate)", s->key, s->instance);
		return -EINVAL;
	}
	return 0;
bad:
	if (strcmp(s->key, "mgmtdev") == 0)
		ctx_setting_error(ctx, s, "mgmtdev: '%s' is not a management device (pci/DOMAIN:BUS:DEV.FN, a PCI "
				  "address, BUS/NAME, or a bus-less name such as vdpasim_net)", s->value);
	else if (strcmp(s->key, "mac") == 0)
		ctx_setting_error(ctx, s, "mac: '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", s->value);
	else if (strcmp(s->key, "mtu") == 0)
		ctx_setting_error(ctx, s, "mtu: '%s' is not an MTU (%d to %d)", s->value, MTU_MIN, UINT16_MAX);
	else if (strcmp(s->key, "max_vqp") == 0)
		ctx_setting_error(ctx, s, "max_vqp: '%s' is not a number of queue pairs (1 to %d)", s->value, MAX_VQP_MAX);
	else if (strcmp(s->key, "driver") == 0)
		ctx_setting_error(ctx, s, "driver: expected vhost_vdpa or virtio_vdpa, got '%s'", s->value);
	else
		ctx_setting_error(ctx, s, "recreate: expected yes or no, got '%s'", s->value);
	return -EINVAL;
}

/* Only reached for a profile whose [vdpa] sections are all empty: parse never ran. */
static int vdpa_validate(struct ctx *ctx, void *config)
{
	check_headers(ctx, config);
	return 0;
}

static void vdpa_free_config(void *config)
{
	struct vdpa_config *c = config;

	for (size_t i = 0; i < c->n; i++)
		free(c->want[i].name);
	free(c->want);
}

/* A config nobody could read (no netlink under --root). */
static const struct vdpa_net_config unknown_config;

/* Descriptions: "mgmtdev=vdpasim_net mac=02:00:00:00:00:10 mtu=9000 driver=vhost_vdpa",
 * only with the keys the profile sets, so that current equals desired when converged;
 * cfg NULL describes the profile's values. */
static void describe(const struct vdpa_want *w, const char *handle, const struct vdpa_net_config *cfg,
		     const char *driver, char *buf, size_t len)
{
	char mac[32] = "?", mtu[16] = "?", vqp[16] = "?";
	size_t off;

	if (!cfg || cfg->has_mac)
		mac_format(cfg ? cfg->mac : w->mac, mac, sizeof(mac));
	if (!cfg || cfg->has_mtu)
		snprintf(mtu, sizeof(mtu), "%u", cfg ? cfg->mtu : w->mtu);
	/* Without VIRTIO_NET_F_MQ/RSS the kernel reports no max_vqp: one pair. */
	if (!cfg || cfg != &unknown_config)
		snprintf(vqp, sizeof(vqp), "%u", !cfg ? w->max_vqp : cfg->has_max_vqp ? cfg->max_vqp : 1);
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

static bool config_matches(const struct vdpa_want *w, const struct vdpa_net_config *cfg)
{
	return (!w->has_mac || (cfg->has_mac && memcmp(cfg->mac, w->mac, 6) == 0)) &&
	       (!w->has_mtu || (cfg->has_mtu && cfg->mtu == w->mtu)) &&
	       (!w->has_max_vqp || (cfg->has_max_vqp ? cfg->max_vqp : 1) == w->max_vqp);
}

/* Ownership records: "NAME HANDLE", one per device hostprep created. */
static int record(struct ctx *ctx, const char *name, const char *handle, bool add)
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

/* Apply ------------------------------------------------------------------- */

static int fail(struct action *a, int r, const char *fmt, ...) PRINTF_FMT(3, 4);
static int fail(struct action *a, int r, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	action_set_state(a, ACTION_FAILED, "%s", msg);
	return r < 0 ? r : -EIO;
}

/* The family; the vdpa module was loaded by its own action (plan_module). */
static int open_family(struct action *a, struct vdpa_nl **nl)
{
	int r = vdpa_nl_open(nl);

	if (r == -ENOENT)
		return fail(a, r, "this kernel has no vDPA support (no vdpa generic netlink family)");
	if (r < 0)
		return fail(a, r, "opening the vdpa generic netlink family: %s", strerror(-r));
	return 0;
}

static bool driver_registered(struct ctx *ctx, const char *driver)
{
	return hr_is_dir(&ctx->hr, VDPA_BUS_DIR "/drivers/%s", driver);
}

static int apply_module(struct ctx *ctx, struct action *a)
{
	const char *name = a->data;
	int r = kmodules_load(ctx, name);

	if (r == -ENOENT)
		return fail(a, r, "no %s module in this kernel%s", name,
			    strcmp(name, "vdpa") == 0 ? ": it has no vDPA support" : "");
	if (r < 0)
		return fail(a, r, "loading %s: %s", name, strerror(-r));
	action_set_current(a, "loaded");
	return 0;
}

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
	a = plan_action(ctx, target, "not loaded", "loaded", apply_module);
	if (!a)
		return;
	a->data = (void *)name;   /* a static string */
	if (!ctx->hr.is_real)
		action_set_state(a, ACTION_SKIPPED, "modules cannot be loaded under --root %s", ctx->hr.dir);
}

static const struct vdpa_mgmtdev *find_mgmtdev(const struct vdpa_mgmtdev *m, size_t n, const char *bus,
					       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].bus, bus) == 0 && strcmp(m[i].name, name) == 0)
			return &m[i];
	return NULL;
}

/* Why w cannot go on this host's management devices, or "" when it can. */
static void mgmtdev_problem(const struct vdpa_want *w, const struct vdpa_mgmtdev *m, size_t n, char *buf, size_t len)
{
	const struct vdpa_mgmtdev *md = find_mgmtdev(m, n, w->bus, w->mgmt);
	size_t off;

	buf[0] = '\0';
	if (!md) {
		off = (size_t)snprintf(buf, len, "management device %s not found (present:", w->handle);
		for (size_t i = 0; i < n && off < len; i++) {
			char h[VDPA_HANDLE_MAX];

			vdpa_handle_format(m[i].bus, m[i].name, h, sizeof(h));
			off += (size_t)snprintf(buf + off, len - off, " %s", h);
		}
		if (off < len)
			snprintf(buf + off, len - off, "%s)", n ? "" : " none");
	} else if (!(md->classes & (1ULL << VDPA_VIRTIO_ID_NET))) {
		snprintf(buf, len, "management device %s offers no virtio-net devices (classes 0x%" PRIx64 ")", w->handle,
			 md->classes);
	} else if (w->has_max_vqp && md->max_vqs && 2u * w->max_vqp > md->max_vqs) {
		snprintf(buf, len, "max_vqp %u needs %u queues; management device %s offers %" PRIu32, w->max_vqp,
			 2u * w->max_vqp, w->handle, md->max_vqs);
	}
}

static void bound_message(struct ctx *ctx, const char *name, char *buf, size_t len)
{
	char drv[64] = "", node[300];

	(void)vdpa_sysfs_driver(&ctx->hr, name, drv, sizeof(drv));
	if (vdpa_sysfs_vhost_dev(&ctx->hr, name, node, sizeof(node)) == 0)
		snprintf(buf, len, "bound to %s, %s%s", drv, node, hr_exists(&ctx->hr, "%s", node) ? "" : " (not in /dev)");
	else if (vdpa_sysfs_netdev(&ctx->hr, name, node, sizeof(node)) == 0)
		snprintf(buf, len, "bound to %s, interface %s", drv, node);
	else
		snprintf(buf, len, "bound to %s", drv[0] ? drv : "no driver");
}

/* Bind name to the driver the profile asks for, loading it first. */
static int ensure_driver(struct ctx *ctx, struct action *a, const char *name, const char *driver)
{
	char cur[64] = "", step[128], why[512];
	int r;

	r = vdpa_sysfs_driver(&ctx->hr, name, cur, sizeof(cur));
	if (r < 0)
		return fail(a, r, "reading the driver of %s: %s", name, strerror(-r));
	if (strcmp(cur, driver) == 0)
		return 0;
	r = vdpa_sysfs_in_use(&ctx->hr, name, why, sizeof(why));
	if (r > 0)
		return fail(a, -EBUSY, "bound to %s and in use: %s; not rebinding", cur, why);
	r = driver_registered(ctx, driver) ? 0 : kmodules_load(ctx, driver);
	if (r == -EOPNOTSUPP) {
		action_set_state(a, ACTION_SKIPPED, "%s is not loaded and modules cannot be loaded under --root %s",
				 driver, ctx->hr.dir);
		return 0;
	}
	if (r < 0)
		return fail(a, r, "loading %s: %s", driver, strerror(-r));
	r = vdpa_sysfs_bind(&ctx->hr, name, driver, step, sizeof(step));
	if (r < 0)
		return fail(a, r, "%s %s: %s", step, name, strerror(-r));
	r = vdpa_sysfs_driver(&ctx->hr, name, cur, sizeof(cur));
	if (r < 0 || strcmp(cur, driver) != 0)
		return fail(a, -EIO, "bound %s to %s, but it reads back %s", name, driver, r < 0 ? "unreadable" : cur[0] ? cur : "unbound");
	return 0;
}

static int apply_rebind(struct ctx *ctx, struct action *a)
{
	const struct vdpa_job *j = a->data;
	char msg[512];
	int r = ensure_driver(ctx, a, j->name, j->want->driver);

	if (r < 0 || a->state != ACTION_PENDING)
		return r;
	bound_message(ctx, j->name, msg, sizeof(msg));
	action_set_state(a, ACTION_CHANGED, "%s", msg);
	return 0;
}

static int apply_create(struct ctx *ctx, struct action *a)
{
	const struct vdpa_job *j = a->data;
	const struct vdpa_want *w = j->want;
	_cleanup_vdpa_nl_ struct vdpa_nl *nl = NULL;
	_cleanup_free_ struct vdpa_mgmtdev *m = NULL;
	struct vdpa_dev_request req = {
		.name = w->name, .mgmt_bus = w->bus, .mgmt_name = w->mgmt,
		.has_mac = w->has_mac, .has_mtu = w->has_mtu, .has_max_vqp = w->has_max_vqp,
		.mtu = w->mtu, .max_vqp = w->max_vqp,
	};
	struct vdpa_net_config cfg;
	char msg[1024], cur[512], bound[512];
	size_t n;
	int r;

	memcpy(req.mac, w->mac, 6);
	r = open_family(a, &nl);
	if (r < 0)
		return r;
	/* Loaded (by its action) before the device exists, so the device binds to it on creation. */
	r = kmodules_load(ctx, w->driver);
	if (r < 0)
		return fail(a, r, "loading %s: %s", w->driver, strerror(-r));
	r = vdpa_nl_mgmtdevs(nl, &m, &n);
	if (r < 0)
		return fail(a, r, "listing vDPA management devices: %s", strerror(-r));
	mgmtdev_problem(w, m, n, msg, sizeof(msg));
	if (msg[0])
		return fail(a, -ENODEV, "%s", msg);
	if (j->kind == JOB_RECREATE) {
		r = vdpa_sysfs_in_use(&ctx->hr, w->name, msg, sizeof(msg));
		if (r > 0)
			return fail(a, -EBUSY, "differs from the profile but is in use: %s; not re-creating", msg);
		r = vdpa_nl_dev_del(nl, w->name);
		if (r < 0) {
			vdpa_nl_describe_error(VDPA_CMD_DEV_DEL, r, vdpa_nl_extack(nl), &req, msg, sizeof(msg));
			return fail(a, r, "deleting it to re-create: %s", msg);
		}
	}
	r = vdpa_nl_dev_new(nl, &req);
	if (r < 0) {
		vdpa_nl_describe_error(VDPA_CMD_DEV_NEW, r, vdpa_nl_extack(nl), &req, msg, sizeof(msg));
		if (j->kind == JOB_RECREATE)
			(void)record(ctx, w->name, w->handle, false);
		return fail(a, r, "creating %s on %s: %s%s", w->name, w->handle, msg,
			    j->kind == JOB_RECREATE ? " (the old device was deleted)" : "");
	}
	r = record(ctx, w->name, w->handle, true);
	if (r < 0)
		return fail(a, r, "created, but recording it under /var/lib/hostprep failed: %s", strerror(-r));
	r = vdpa_nl_config_get(nl, w->name, &cfg);
	if (r < 0)
		return fail(a, r, "created, but reading its config back failed: %s", strerror(-r));
	describe(w, w->handle, &cfg, w->driver, cur, sizeof(cur));
	action_set_current(a, cur);
	if (!config_matches(w, &cfg))
		return fail(a, -EIO, "created, but the device reports %s", cur);
	r = ensure_driver(ctx, a, w->name, w->driver);
	if (r < 0)
		return r;
	bound_message(ctx, w->name, bound, sizeof(bound));
	action_set_state(a, ACTION_CHANGED, "%s on %s, %s", j->kind == JOB_RECREATE ? "re-created" : "created",
			 w->handle, bound);
	return 0;
}

static int apply_delete(struct ctx *ctx, struct action *a)
{
	const struct vdpa_job *j = a->data;
	_cleanup_vdpa_nl_ struct vdpa_nl *nl = NULL;
	struct vdpa_dev_request req = { .name = j->name };
	struct vdpa_dev d = { 0 };
	char msg[512], handle[VDPA_HANDLE_MAX];
	int r = vdpa_nl_open(&nl);

	if (r < 0)
		return fail(a, r, "opening the vdpa generic netlink family: %s", strerror(-r));
	/* Still the device hostprep made? */
	r = vdpa_nl_dev_get(nl, j->name, &d);
	if (r < 0 && r != -ENODEV)
		return fail(a, r, "reading it: %s", strerror(-r));
	vdpa_handle_format(d.mgmt_bus, d.mgmt_name, handle, sizeof(handle));
	if (r == 0 && strcmp(handle, j->handle) != 0)
		return fail(a, -EEXIST, "now on management device %s, not %s as recorded; not deleting it", handle,
			    j->handle);
	r = vdpa_sysfs_in_use(&ctx->hr, j->name, msg, sizeof(msg));
	if (r > 0)
		return fail(a, -EBUSY, "in use: %s; not deleting it", msg);
	r = vdpa_nl_dev_del(nl, j->name);
	if (r < 0 && r != -ENODEV) {
		vdpa_nl_describe_error(VDPA_CMD_DEV_DEL, r, vdpa_nl_extack(nl), &req, msg, sizeof(msg));
		return fail(a, r, "deleting: %s", msg);
	}
	r = record(ctx, j->name, j->handle, false);
	if (r < 0)
		return fail(a, r, "deleted, but updating /var/lib/hostprep failed: %s", strerror(-r));
	action_set_current(a, "absent");
	action_set_state(a, ACTION_CHANGED, "deleted (created by hostprep, no longer in the profile)");
	return 0;
}

/* Plan -------------------------------------------------------------------- */

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

	if (state == ACTION_PENDING && !driver_registered(ctx, w->driver))
		plan_module(ctx, w->driver);
	a = job_action(ctx, kind, w, w->name, NULL, current, desired, kind == JOB_REBIND ? apply_rebind : apply_create);
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

		describe(w, w->handle, NULL, w->driver, desired, sizeof(desired));
		if (!vdpa_sysfs_exists(&ctx->hr, w->name)) {
			action_set_state(plan_action(ctx, w->name, "absent", desired, NULL), ACTION_SKIPPED,
					 "would create it on %s; netlink is not available under --root %s", w->handle,
					 ctx->hr.dir);
			continue;
		}
		(void)vdpa_sysfs_mgmtdev(&ctx->hr, w->name, handle, sizeof(handle));
		(void)vdpa_sysfs_driver(&ctx->hr, w->name, drv, sizeof(drv));
		describe(w, handle[0] ? handle : "?", &unknown_config, drv, current, sizeof(current));
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
		bound_message(ctx, w->name, bound, sizeof(bound));
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

	describe(w, w->handle, NULL, w->driver, desired, sizeof(desired));
	for (size_t i = 0; i < nd; i++)
		if (strcmp(devs[i].name, w->name) == 0)
			d = &devs[i];
	mgmtdev_problem(w, m, nm, problem, sizeof(problem));
	if (!d) {
		if (!problem[0])
			plan_job(ctx, JOB_CREATE, w, "absent", desired, ACTION_PENDING, "create");
		else if (strcmp(w->bus, "pci") == 0 && !find_mgmtdev(m, nm, w->bus, w->mgmt) &&
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
	describe(w, handle, r == 0 ? &cfg : &unknown_config, drv, current, sizeof(current));
	if (r == 0 && strcmp(handle, w->handle) == 0 && config_matches(w, &cfg)) {
		if (strcmp(drv, w->driver) == 0) {
			bound_message(ctx, w->name, msg, sizeof(msg));
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
		a = job_action(ctx, JOB_DELETE, NULL, name, handle, "present", "absent", apply_delete);
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
		describe(w, w->handle, NULL, w->driver, desired, sizeof(desired));
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
