/* [vfio]: bind devices to vfio-pci (driver_override, unbind, drivers_probe),
 * refusing devices the host depends on or whose IOMMU group could not be
 * given to a VM, unless force = yes; a device dropped from the profile goes
 * back to its own driver. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hostdeps.h"
#include "log.h"
#include "pci.h"
#include "state.h"
#include "util.h"

#define STATE_NAME "vfio"
#define VFIO "vfio-pci"
#define MAX_SELECTORS 128

struct refusal {
	char addr[PCI_ADDR_MAX];
	char reason[512];
	bool forced;
};

struct vfio_config {
	const struct setting *devices_s, *force_s;
	struct pci_selector sel[MAX_SELECTORS];
	size_t n_sel;
	bool force;
	/* Filled by plan, shown by report. */
	struct refusal *refused;
	size_t n_refused;
};

struct vfio_job {
	char addr[PCI_ADDR_MAX];
	char original[PCI_DRIVER_MAX];   /* driver before hostprep, "none" */
};

static int vfio_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct vfio_config *c = config;

	if (strcmp(s->key, "devices") == 0) {
		_cleanup_strv_free_ char **items = strv_split(s->value, ",");

		if (!items)
			return -ENOMEM;
		c->n_sel = 0;
		c->devices_s = s;
		for (char **i = items; *i; i++) {
			if (c->n_sel >= MAX_SELECTORS) {
				ctx_setting_error(ctx, s, "devices: more than %d selectors", MAX_SELECTORS);
				return -EINVAL;
			}
			if (pci_selector_parse(*i, &c->sel[c->n_sel]) < 0) {
				ctx_setting_error(ctx, s, "devices: '%s' is not a PCI address (0000:03:00.0 or 03:00.0), "
						  "an interface name or vendor:device", *i);
				return -EINVAL;
			}
			c->n_sel++;
		}
		return 0;
	}
	if (strcmp(s->key, "force") == 0) {
		if (parse_bool(s->value, &c->force) < 0) {
			ctx_setting_error(ctx, s, "force: expected yes or no, got '%s'", s->value);
			return -EINVAL;
		}
		c->force_s = s;
		return 0;
	}
	ctx_setting_error(ctx, s, "unknown key '%s' in [vfio] (expected devices, force)", s->key);
	return -EINVAL;
}

static void vfio_free(void *config)
{
	free(((struct vfio_config *)config)->refused);
}

static bool in_strv(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

static int strv_append(char ***v, const char *s)
{
	size_t n = strv_length(*v);

	return strv_push(v, &n, strdup(s));
}

/* The class of a device libpci already read, when the run listed the bus. */
static bool is_bridge(struct ctx *ctx, const char *addr)
{
	const struct pci_device *d = snap_pci_listed(ctx) ? snap_pci_device(ctx, addr) : NULL;

	return d ? d->class >> 8 == 0x06 : pci_is_bridge(&ctx->hr, addr);
}

/* Group members that keep a VM from owning the group: endpoints on a host
 * driver that the profile does not bind too, or whose driver cannot be read.
 * Bridges and driverless devices are fine.  -errno: the group cannot be listed. */
static int group_blockers(struct ctx *ctx, int group, char *const *together, char *buf, size_t len)
{
	_cleanup_strv_free_ char **members = NULL;
	int n = 0, r;

	buf[0] = '\0';
	if ((r = pci_group_devices(&ctx->hr, group, &members)) < 0)
		return r;
	for (char **m = members; *m; m++) {
		char drv[PCI_DRIVER_MAX];

		if (in_strv(together, *m) || is_bridge(ctx, *m))
			continue;
		if ((r = pci_driver(&ctx->hr, *m, drv, sizeof(drv))) < 0)
			snprintf(drv, sizeof(drv), "driver unknown: %s", strerror(-r));
		else if (!drv[0] || strcmp(drv, VFIO) == 0 || strcmp(drv, "pci-stub") == 0)
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s (%s)", n ? ", " : "", *m, drv);
		n++;
	}
	return n;
}

/* Base class and subclass: from the run's PCI list when the bus was listed
 * (libpci read it), else from sysfs. */
static long device_class(struct ctx *ctx, const char *addr)
{
	const struct pci_device *d = snap_pci_listed(ctx) ? snap_pci_device(ctx, addr) : NULL;

	return d ? (long)d->class : hostdeps_pci_class(&ctx->hr, addr);
}

/* Why the device must not go to vfio-pci, or NULL.  *next_boot: only
 * because the IOMMU this profile turns on is not running yet. */
static const char *refusal(struct ctx *ctx, const struct hostdeps *deps, const char *addr, char *const *together,
			   char *buf, size_t len, bool *next_boot)
{
	char blockers[384];
	char depbuf[512];
	const char *dep, *iommu;
	uint64_t vfs;
	int g = pci_iommu_group(&ctx->hr, addr), r;

	*next_boot = false;
	if (g < 0 && (iommu = pci_iommu_pending(ctx))) {
		snprintf(buf, len, "it has no IOMMU group yet: the IOMMU comes with the next boot (%s, pending in this profile)",
			 iommu);
		*next_boot = true;
		return buf;
	}
	if (g < 0) {
		snprintf(buf, len, "it has no IOMMU group: the IOMMU is off (set [kernel] iommu = on or pt, then reboot)");
		return buf;
	}
	if ((r = group_blockers(ctx, g, together, blockers, sizeof(blockers))) < 0) {
		snprintf(buf, len, "cannot list IOMMU group %d: %s", g, strerror(-r));
		return buf;
	}
	if (r > 0) {
		snprintf(buf, len, "IOMMU group %d also holds %s on a host driver: list it in devices too, or unbind it",
			 g, blockers);
		return buf;
	}
	if ((dep = hostdeps_refusal(deps, addr, device_class(ctx, addr), depbuf, sizeof(depbuf)))) {
		snprintf(buf, len, "the host depends on it: it %s", dep);
		return buf;
	}
	r = hr_read_u64(&ctx->hr, &vfs, "/sys/bus/pci/devices/%s/sriov_numvfs", addr);
	if (r < 0 && r != -ENOENT) {
		snprintf(buf, len, "cannot read its sriov_numvfs: %s", strerror(-r));
		return buf;
	}
	if (r == 0 && vfs > 0) {
		snprintf(buf, len, "it has %llu VFs, which unbinding its driver destroys", (unsigned long long)vfs);
		return buf;
	}
	return NULL;
}

/* The first original driver of a device is the one kept. */
static int record_update(struct ctx *ctx, const char *addr, const char *line)
{
	return state_set_keyed(&ctx->hr, STATE_NAME, addr, line, true);
}

static bool node_present(const struct hostroot *hr, const void *data)
{
	return hr_exists(hr, "/dev/vfio/%d", *(const int *)data);
}

/* The device is on vfio-pci or its driver_override says vfio-pci. */
static bool vfio_trace(const struct hostroot *hr, const char *addr)
{
	char drv[PCI_DRIVER_MAX], ov[PCI_DRIVER_MAX];

	if (pci_driver(hr, addr, drv, sizeof(drv)) == 0 && strcmp(drv, VFIO) == 0)
		return true;
	return hr_read_line(hr, ov, sizeof(ov), "/sys/bus/pci/devices/%s/driver_override", addr) == 0 &&
	       strcmp(ov, VFIO) == 0;
}

/* A device that stays on a host driver while a group sibling went to
 * vfio-pci leaves that group unusable for a VM: say so. */
static void group_note(struct ctx *ctx, const char *addr, char *why, size_t len)
{
	_cleanup_strv_free_ char **members = NULL;
	char drv[PCI_DRIVER_MAX];
	int g = pci_iommu_group(&ctx->hr, addr);

	if (g < 0 || pci_group_devices(&ctx->hr, g, &members) < 0 || pci_driver(&ctx->hr, addr, drv, sizeof(drv)) < 0 ||
	    !drv[0] || strcmp(drv, VFIO) == 0)
		return;
	for (char **m = members; *m; m++) {
		char other[PCI_DRIVER_MAX];

		if (strcmp(*m, addr) != 0 && pci_driver(&ctx->hr, *m, other, sizeof(other)) == 0 &&
		    strcmp(other, VFIO) == 0) {
			snprintf(why + strlen(why), len - strlen(why), "; IOMMU group %d is not viable while it stays on %s",
				 g, drv);
			return;
		}
	}
}

/* Records, binds, checks the node.  -EOPNOTSUPP: vfio-pci is not loaded
 * under a root other than /.  why says what failed. */
static int bind_device(struct ctx *ctx, const char *addr, const char *original, char *why, size_t len)
{
	char step[512], line[128];
	int r, r2, g;

	r = pci_driver_load(ctx, VFIO);
	if (r == -EOPNOTSUPP) {
		snprintf(why, len, VFIO " is not loaded, and modules are loaded only on the real root");
		return r;
	}
	if (r < 0) {
		snprintf(why, len, "loading " VFIO ": %s", strerror(-r));
		return r;
	}
	/* Recorded first, so that a bind that fails half way can still be undone. */
	snprintf(line, sizeof(line), "%s %s", addr, original);
	r = record_update(ctx, addr, line);
	if (r < 0) {
		snprintf(why, len, "recording it in /var/lib/hostprep/" STATE_NAME ": %s", strerror(-r));
		return r;
	}
	r = pci_bind(&ctx->hr, addr, VFIO, step, sizeof(step));
	if (r < 0) {
		snprintf(why, len, "%s", step);
		/* pci_bind undid what it could: the record claims only a device
		 * that still carries vfio-pci. */
		if (!vfio_trace(&ctx->hr, addr) && (r2 = record_update(ctx, addr, NULL)) < 0)
			snprintf(why + strlen(why), len - strlen(why), "; updating /var/lib/hostprep/" STATE_NAME ": %s",
				 strerror(-r2));
		group_note(ctx, addr, why, len);
		return r;
	}
	g = pci_iommu_group(&ctx->hr, addr);
	if (g < 0 || pci_wait(&ctx->hr, node_present, &g, 5000) < 0) {
		snprintf(why, len, "bound to " VFIO ", but /dev/vfio/%d did not appear", g);
		return -ENODEV;
	}
	return 0;
}

static int bind_apply(struct ctx *ctx, struct action *a)
{
	const struct vfio_job *j = a->data;
	char why[1024], drv[PCI_DRIVER_MAX];
	int r = bind_device(ctx, j->addr, j->original, why, sizeof(why));

	if (pci_driver(&ctx->hr, j->addr, drv, sizeof(drv)) == 0) {
		/* An override left behind is a change too: show it. */
		_cleanup_free_ char *cur = strcmp(drv, VFIO) != 0 && vfio_trace(&ctx->hr, j->addr)
			? strdup_printf("%s (driver_override " VFIO ")", drv[0] ? drv : "none") : NULL;

		action_set_current(a, cur ? cur : drv[0] ? drv : "none");
	}
	if (r == -EOPNOTSUPP)
		action_set_state(a, ACTION_SKIPPED, "%s", why);
	else if (r < 0)
		action_set_state(a, ACTION_FAILED, "%s", why);
	return r == -EOPNOTSUPP ? 0 : r;
}

struct driver_is {
	const char *addr, *driver;
};

static bool has_driver(const struct hostroot *hr, const void *data)
{
	const struct driver_is *d = data;
	char drv[PCI_DRIVER_MAX];

	return pci_driver(hr, d->addr, drv, sizeof(drv)) == 0 && strcmp(drv, d->driver) == 0;
}

static const char *group_holder(struct ctx *ctx, const char *addr, char *buf, size_t len)
{
	char who[128];
	int g = pci_iommu_group(&ctx->hr, addr), r;

	if (g < 0 || (r = pci_vfio_group_holder(&ctx->hr, g, who, sizeof(who))) == 0)
		return NULL;
	if (r < 0)
		snprintf(buf, len, "dropped from the profile, but whether its /dev/vfio/%d is open cannot be told (%s): "
			 "keeping it on " VFIO, g, strerror(-r));
	else
		snprintf(buf, len, "dropped from the profile, but its /dev/vfio/%d is open by %s: keeping it on " VFIO, g,
			 who);
	return buf;
}

static int restore_apply(struct ctx *ctx, struct action *a)
{
	const struct vfio_job *j = a->data;
	struct driver_is want = { j->addr, j->original };
	char step[256], buf[256], drv[PCI_DRIVER_MAX];
	int r;

	if (group_holder(ctx, j->addr, buf, sizeof(buf))) {
		action_set_state(a, ACTION_FAILED, "%s", buf);
		return -EBUSY;
	}
	r = pci_unbind_override(&ctx->hr, j->addr, step, sizeof(step));
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "%s: %s", step, strerror(-r));
		return r;
	}
	if (strcmp(j->original, "none") != 0)
		(void)pci_wait(&ctx->hr, has_driver, &want, 10000);
	if (pci_driver(&ctx->hr, j->addr, drv, sizeof(drv)) < 0)
		drv[0] = '\0';
	action_set_current(a, drv[0] ? drv : "none");
	r = record_update(ctx, j->addr, NULL);
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "released from " VFIO ", but updating /var/lib/hostprep/" STATE_NAME
				 ": %s", strerror(-r));
		return r;
	}
	if (strcmp(a->current, j->original) != 0) {
		action_set_state(a, ACTION_FAILED, "released from " VFIO ", but the kernel bound it to %s, not %s",
				 a->current, j->original);
		return -ENODEV;
	}
	return 0;
}

static struct action *job_action(struct ctx *ctx, const char *addr, const char *cur, const char *want,
				 action_apply_fn fn, const char *original)
{
	struct action *a = plan_action(ctx, addr, cur, want, fn);
	struct vfio_job *j;

	if (!a)
		return NULL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	snprintf(j->addr, sizeof(j->addr), "%s", addr);
	snprintf(j->original, sizeof(j->original), "%s", original);
	a->data = j;
	a->free_data = free;
	return a;
}

static int add_refusal(struct vfio_config *c, const char *addr, const char *reason, bool forced)
{
	struct refusal *nv = realloc(c->refused, (c->n_refused + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	c->refused = nv;
	snprintf(nv[c->n_refused].addr, sizeof(nv[c->n_refused].addr), "%s", addr);
	snprintf(nv[c->n_refused].reason, sizeof(nv[c->n_refused].reason), "%s", reason);
	nv[c->n_refused++].forced = forced;
	return 0;
}

extern const struct module module_vfio;

/* A selector that matches nothing yet while [sriov] is about to create VFs:
 * resolved when applied, after the VFs exist. */
struct deferred {
	struct pci_selector sel;
	bool force;
};

static bool vfs_coming(const struct ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_actions; i++) {
		const struct action *a = ctx->actions[i];
		size_t l = strlen(a->target);

		if (strcmp(a->module, "sriov") == 0 && a->state == ACTION_PENDING && l > 7 &&
		    strcmp(a->target + l - 7, " numvfs") == 0)
			return true;
	}
	return false;
}

#define APPEND(buf, ...) snprintf((buf) + strlen(buf), sizeof(buf) - strlen(buf), __VA_ARGS__)

static int deferred_apply(struct ctx *ctx, struct action *a)
{
	const struct deferred *d = a->data;
	struct vfio_config *c = ctx_module_config(ctx, &module_vfio);
	const struct pci_list *all = NULL;
	struct hostdeps deps = { 0 };
	_cleanup_strv_free_ char **devs = NULL;
	char bound[1024] = "", failures[2048] = "", err[256] = "", next_boot[1024] = "";
	int ret = 0, r;

	/* Listed now, after the VFs exist (the snapshot was read again since). */
	if (d->sel.kind == PCI_SEL_ID && !(all = snap_pci(ctx, err, sizeof(err)))) {
		action_set_state(a, ACTION_FAILED, "listing PCI devices: %s", err);
		return -EIO;
	}
	r = pci_resolve(&ctx->hr, all, &d->sel, &devs);
	if (r < 0 || !devs[0]) {
		action_set_state(a, ACTION_FAILED, "no device matches %s, also after creating the VFs", d->sel.text);
		return r < 0 ? r : -ENODEV;
	}
	if ((r = hostdeps_collect(&ctx->hr, &deps)) < 0)
		return r;
	for (char **dev = devs; *dev; dev++) {
		char drv[PCI_DRIVER_MAX], buf[512], why[1024];
		const char *no;
		bool after_reboot;

		if (pci_driver(&ctx->hr, *dev, drv, sizeof(drv)) == 0 && strcmp(drv, VFIO) == 0) {
			APPEND(bound, "%s%s", bound[0] ? ", " : "", *dev);
			continue;
		}
		if ((no = hostdeps_never_bind(device_class(ctx, *dev), buf, sizeof(buf)))) {
			if (c)
				(void)add_refusal(c, *dev, no, false);
			APPEND(failures, "%s%s: refused: %s", failures[0] ? "; " : "", *dev, no);
			RET_GATHER(ret, -EPERM);
			continue;
		}
		no = refusal(ctx, &deps, *dev, devs, buf, sizeof(buf), &after_reboot);
		if (no && after_reboot) {
			APPEND(next_boot, "%s%s", next_boot[0] ? ", " : "", *dev);
			continue;
		}
		if (no) {
			if (c)
				(void)add_refusal(c, *dev, no, d->force);
			if (!d->force) {
				APPEND(failures, "%s%s: refused: %s", failures[0] ? "; " : "", *dev, no);
				RET_GATHER(ret, -EPERM);
				continue;
			}
			ctx_warn(ctx, "vfio %s: force = yes: binding although %s", *dev, no);
		}
		r = bind_device(ctx, *dev, drv[0] ? drv : "none", why, sizeof(why));
		if (r == -EOPNOTSUPP) {
			hostdeps_free(&deps);
			action_set_state(a, ACTION_SKIPPED, "%s", why);
			return 0;
		}
		if (r < 0) {
			APPEND(failures, "%s%s: %s", failures[0] ? "; " : "", *dev, why);
			RET_GATHER(ret, r);
		} else {
			APPEND(bound, "%s%s", bound[0] ? ", " : "", *dev);
		}
	}
	hostdeps_free(&deps);
	action_set_current(a, bound[0] ? bound : "none");
	if (ret < 0)
		action_set_state(a, ACTION_FAILED, "%s", failures);
	else if (next_boot[0])
		action_set_state(a, ACTION_PENDING_REBOOT, "%s: no IOMMU group yet, the IOMMU comes with the next boot (%s, "
				 "pending in this profile)", next_boot, pci_iommu_pending(ctx));
	return ret;
}

static int plan_device(struct ctx *ctx, struct vfio_config *c, const struct hostdeps *deps, const char *addr,
		       char *const *wanted)
{
	char drv[PCI_DRIVER_MAX], buf[512];
	const char *why;
	struct action *a;
	bool next_boot;
	int r = pci_driver(&ctx->hr, addr, drv, sizeof(drv));

	if (r < 0) {
		action_set_state(plan_action(ctx, addr, NULL, VFIO, NULL), ACTION_FAILED, "reading its driver: %s",
				 strerror(-r));
		return 0;
	}
	a = job_action(ctx, addr, drv[0] ? drv : "none", VFIO, bind_apply, drv[0] ? drv : "none");
	if (!a)
		return -ENOMEM;
	if (a->state != ACTION_PENDING)
		return 0;
	if ((why = hostdeps_never_bind(device_class(ctx, addr), buf, sizeof(buf)))) {
		action_set_state(a, ACTION_FAILED, "refused: %s", why);
		return add_refusal(c, addr, why, false);
	}
	why = refusal(ctx, deps, addr, wanted, buf, sizeof(buf), &next_boot);
	if (why && next_boot) {
		action_set_state(a, ACTION_PENDING_REBOOT, "%s", why);
		return 0;
	}
	if (why && !c->force) {
		action_set_state(a, ACTION_FAILED, "refused: %s (force = yes overrides)", why);
		return add_refusal(c, addr, why, false);
	}
	if (why) {
		ctx_warn(ctx, "vfio %s: force = yes: binding although %s", addr, why);
		return add_refusal(c, addr, why, true);
	}
	if (!ctx->hr.is_real && !hr_is_dir(&ctx->hr, "/sys/bus/pci/drivers/" VFIO))
		action_set_state(a, ACTION_SKIPPED, VFIO " is not loaded, and modules are loaded only on the real root");
	return 0;
}

/* A device hostprep bound that the profile no longer lists goes back. */
static int plan_restore(struct ctx *ctx, const char *line, char *const *wanted)
{
	char addr[PCI_ADDR_MAX], original[PCI_DRIVER_MAX], drv[PCI_DRIVER_MAX], ov[PCI_DRIVER_MAX], buf[256];
	struct action *a;

	if (sscanf(line, "%23s %63s", addr, original) != 2 || in_strv(wanted, addr) || !pci_exists(&ctx->hr, addr) ||
	    !path_component_valid(original))
		return 0;
	if (pci_driver(&ctx->hr, addr, drv, sizeof(drv)) < 0)
		return 0;
	if (hr_read_line(&ctx->hr, ov, sizeof(ov), "/sys/bus/pci/devices/%s/driver_override", addr) < 0)
		ov[0] = '\0';
	/* Someone else moved it since: nothing of hostprep's is left to undo. */
	if (strcmp(drv, VFIO) != 0 && strcmp(ov, VFIO) != 0)
		return 0;
	a = job_action(ctx, addr, drv[0] ? drv : "none", original, restore_apply, original);
	if (!a)
		return -ENOMEM;
	if (group_holder(ctx, addr, buf, sizeof(buf)))
		action_set_state(a, ACTION_FAILED, "%s", buf);
	else
		action_set_state(a, ACTION_PENDING, "dropped from the profile; back to its own driver");
	return 0;
}

static int vfio_plan(struct ctx *ctx, void *config)
{
	struct vfio_config *c = config;
	const struct pci_list *all = NULL;
	struct hostdeps deps = { 0 };
	_cleanup_strv_free_ char **wanted = calloc(1, sizeof(char *));
	_cleanup_strv_free_ char **record = NULL;
	char err[512] = "";
	int ret = 0, r;

	if (!wanted)
		return -ENOMEM;
	for (size_t i = 0; c && i < c->n_sel; i++) {
		_cleanup_strv_free_ char **devs = NULL;

		/* Only a vendor:device selector lists the bus. */
		if (c->sel[i].kind == PCI_SEL_ID && !all && !(all = snap_pci(ctx, err, sizeof(err))))
			ctx_warn(ctx, "vfio: listing PCI devices: %s", err);
		r = pci_resolve(&ctx->hr, all, &c->sel[i], &devs);
		if (r == 0 && !devs[0] && vfs_coming(ctx)) {
			struct action *a = plan_action(ctx, c->sel[i].text, NULL, VFIO, deferred_apply);
			struct deferred *d = calloc(1, sizeof(*d));

			if (!a || !d) {
				free(d);
				r = -ENOMEM;
				goto out;
			}
			*d = (struct deferred){ .sel = c->sel[i], .force = c->force };
			a->data = d;
			a->free_data = free;
			action_set_state(a, ACTION_PENDING, "no such device yet: resolved once [sriov] has created the VFs");
			continue;
		}
		if (r < 0 || !devs[0]) {
			action_set_state(plan_action(ctx, c->sel[i].text, NULL, VFIO, NULL), ACTION_FAILED,
					 r < 0 ? "listing PCI devices failed: %s" : "no device matches %s",
					 r < 0 ? err : c->sel[i].text);
			continue;
		}
		for (char **d = devs; *d; d++)
			if (!in_strv(wanted, *d) && (r = strv_append(&wanted, *d)) < 0)
				goto out;
	}
	if (wanted[0] && (r = hostdeps_collect(&ctx->hr, &deps)) < 0)
		goto out;
	for (char **w = deps.warnings; w && *w; w++)
		ctx_warn(ctx, "vfio: %s", *w);
	for (char **u = deps.unresolved; u && *u; u++)
		ctx_warn(ctx, "vfio: cannot tell which PCI device holds %s; every mass-storage controller is refused "
			 "unless force = yes", *u);
	for (char **u = deps.unread_routes; u && *u; u++)
		ctx_warn(ctx, "vfio: cannot read %s; every network controller is refused unless force = yes", *u);
	for (char **d = wanted; *d; d++)
		if ((r = plan_device(ctx, c, &deps, *d, wanted)) < 0)
			goto out;
	r = state_load(&ctx->hr, STATE_NAME, &record);
	if (r < 0) {
		ctx_warn(ctx, "vfio: reading /var/lib/hostprep/" STATE_NAME ": %s", strerror(-r));
		r = 0;
		goto out;
	}
	for (char **l = record; *l; l++)
		RET_GATHER(ret, plan_restore(ctx, *l, wanted));
	r = 0;
out:
	hostdeps_free(&deps);
	RET_GATHER(ret, r);
	return ret;
}

static int cmp_addr(const void *a, const void *b)
{
	return pci_addr_cmp(*(char *const *)a, *(char *const *)b);
}

/* Every member is a bridge, driverless, or on vfio-pci/pci-stub. */
static bool group_viable(struct ctx *ctx, int group, struct json_object *blocking)
{
	char buf[512];
	int n = group_blockers(ctx, group, NULL, buf, sizeof(buf));

	if (n > 0)
		json_object_array_add(blocking, json_object_new_string(buf));
	return n == 0;
}

static void vfio_report(struct ctx *ctx, struct json_object *caps)
{
	struct vfio_config *c = ctx_module_config(ctx, ctx->current);
	struct json_object *o = json_object_new_object(), *devs = json_object_new_array(), *refused = json_object_new_array();
	_cleanup_strv_free_ char **bound = NULL;

	json_object_object_add(o, "driver_loaded", json_object_new_boolean(hr_is_dir(&ctx->hr, "/sys/bus/pci/drivers/" VFIO)));
	/* The driver's directory lists the devices bound to it: no need to ask each of the bus's. */
	if (hr_list(&ctx->hr, &bound, "/sys/bus/pci/drivers/" VFIO) == 0)
		qsort(bound, strv_length(bound), sizeof(char *), cmp_addr);
	for (char **b = bound; b && *b; b++) {
		const struct pci_device *dev;
		struct json_object *d, *blocking;
		char node[32], addr[PCI_ADDR_MAX];
		int g;

		if (pci_addr_parse(*b, addr, sizeof(addr)) < 0 || strcmp(addr, *b) != 0)
			continue;   /* bind, unbind, new_id, module, ... */
		dev = snap_pci_device(ctx, addr);
		g = pci_iommu_group(&ctx->hr, addr);
		d = json_object_new_object();
		blocking = json_object_new_array();
		json_object_object_add(d, "address", json_object_new_string(addr));
		json_object_object_add(d, "name", json_object_new_string(dev ? snap_pci_name(ctx, dev) : "?"));
		json_object_object_add(d, "iommu_group", g < 0 ? NULL : json_object_new_int(g));
		snprintf(node, sizeof(node), "/dev/vfio/%d", g);
		json_object_object_add(d, "dev_node", g < 0 ? NULL : json_object_new_string(node));
		json_object_object_add(d, "dev_node_present", json_object_new_boolean(g >= 0 && hr_exists(&ctx->hr, "%s", node)));
		json_object_object_add(d, "viable", json_object_new_boolean(g >= 0 && group_viable(ctx, g, blocking)));
		json_object_object_add(d, "blocking", blocking);
		json_object_array_add(devs, d);
	}
	for (size_t i = 0; c && i < c->n_refused; i++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "address", json_object_new_string(c->refused[i].addr));
		json_object_object_add(r, "reason", json_object_new_string(c->refused[i].reason));
		json_object_object_add(r, "forced", json_object_new_boolean(c->refused[i].forced));
		json_object_array_add(refused, r);
	}
	json_object_object_add(o, "devices", devs);
	json_object_object_add(o, "refused", refused);
	json_object_object_add(caps, "vfio", o);
}

const struct module module_vfio = {
	.name = "vfio",
	.section = "vfio",
	.config_size = sizeof(struct vfio_config),
	.parse = vfio_parse,
	.plan = vfio_plan,
	.report = vfio_report,
	.free_config = vfio_free,
};
