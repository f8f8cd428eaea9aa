/* [vdpa NAME], the apply side: loading modules, creating, re-creating and
 * deleting devices over netlink, binding them to their driver through sysfs. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "kmodules.h"
#include "util.h"
#include "vdpa-nl.h"
#include "vdpa-sysfs.h"
#include "vdpa.h"

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

bool vdpa_driver_registered(struct ctx *ctx, const char *driver)
{
	return hr_is_dir(&ctx->hr, VDPA_BUS_DIR "/drivers/%s", driver);
}

int vdpa_apply_module(struct ctx *ctx, struct action *a)
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

const struct vdpa_mgmtdev *vdpa_find_mgmtdev(const struct vdpa_mgmtdev *m, size_t n, const char *bus,
					     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].bus, bus) == 0 && strcmp(m[i].name, name) == 0)
			return &m[i];
	return NULL;
}

/* Why w cannot go on this host's management devices, or "" when it can. */
void vdpa_mgmtdev_problem(const struct vdpa_want *w, const struct vdpa_mgmtdev *m, size_t n, char *buf, size_t len)
{
	const struct vdpa_mgmtdev *md = vdpa_find_mgmtdev(m, n, w->bus, w->mgmt);
	size_t off;

	buf[0] = '\0';
	if (w->no_match) {
		snprintf(buf, len, "no device matches %s", w->id.text);
	} else if (!md) {
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

void vdpa_bound_message(struct ctx *ctx, const char *name, char *buf, size_t len)
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
	r = vdpa_driver_registered(ctx, driver) ? 0 : kmodules_load(ctx, driver);
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

int vdpa_apply_rebind(struct ctx *ctx, struct action *a)
{
	const struct vdpa_job *j = a->data;
	char msg[512];
	int r = ensure_driver(ctx, a, j->name, j->want->driver);

	if (r < 0 || a->state != ACTION_PENDING)
		return r;
	vdpa_bound_message(ctx, j->name, msg, sizeof(msg));
	action_set_state(a, ACTION_CHANGED, "%s", msg);
	return 0;
}

int vdpa_apply_create(struct ctx *ctx, struct action *a)
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
	vdpa_mgmtdev_problem(w, m, n, msg, sizeof(msg));
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
			(void)vdpa_record(ctx, w->name, w->handle, false);
		return fail(a, r, "creating %s on %s: %s%s", w->name, w->handle, msg,
			    j->kind == JOB_RECREATE ? " (the old device was deleted)" : "");
	}
	r = vdpa_record(ctx, w->name, w->handle, true);
	if (r < 0)
		return fail(a, r, "created, but recording it under /var/lib/hostprep failed: %s", strerror(-r));
	r = vdpa_nl_config_get(nl, w->name, &cfg);
	if (r < 0)
		return fail(a, r, "created, but reading its config back failed: %s", strerror(-r));
	vdpa_describe(w, w->handle, &cfg, w->driver, cur, sizeof(cur));
	action_set_current(a, cur);
	if (!vdpa_config_matches(w, &cfg))
		return fail(a, -EIO, "created, but the device reports %s", cur);
	r = ensure_driver(ctx, a, w->name, w->driver);
	if (r < 0)
		return r;
	vdpa_bound_message(ctx, w->name, bound, sizeof(bound));
	action_set_state(a, ACTION_CHANGED, "%s on %s, %s", j->kind == JOB_RECREATE ? "re-created" : "created",
			 w->handle, bound);
	return 0;
}

int vdpa_apply_delete(struct ctx *ctx, struct action *a)
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
	r = vdpa_record(ctx, j->name, j->handle, false);
	if (r < 0)
		return fail(a, r, "deleted, but updating /var/lib/hostprep failed: %s", strerror(-r));
	action_set_current(a, "absent");
	action_set_state(a, ACTION_CHANGED, "deleted (created by hostprep, no longer in the profile)");
	return 0;
}
