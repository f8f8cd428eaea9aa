/* Waiting for the devices a profile names (see devwait.h).  Woken by kernel
 * uevents and, when udevd runs, by udev's own events (a device udev has
 * finished with); everything is checked again after each burst of events. */
#include <errno.h>
#include <libudev.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devwait.h"
#include "engine.h"
#include "log.h"
#include "pci.h"
#include "util.h"

#define MAX_WANTS 256

struct want {
	struct pci_selector sel;
	bool pf;                   /* [sriov]: a PF, needs its driver */
	bool driver;               /* needs a driver bound */
	bool maybe_vf;             /* [vfio], [vdpa]: may be a VF of a named PF */
	const struct setting *where;
	char missing[192];         /* what is not there yet */
};

struct wait_list {
	struct want w[MAX_WANTS];
	size_t n;
	struct udev *udev;         /* set when udevd runs: devices must be done by udev */
};

static void add(struct wait_list *l, const char *text, bool pf, bool maybe_vf, const struct setting *where)
{
	struct pci_selector sel;

	/* A malformed selector is the module's to report. */
	if (l->n >= MAX_WANTS || pci_selector_parse(text, &sel) < 0)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->w[i].sel.text, sel.text) == 0 && l->w[i].pf == pf)
			return;
	l->w[l->n++] = (struct want){ .sel = sel, .pf = pf, .driver = pf || !maybe_vf, .maybe_vf = maybe_vf,
				      .where = where };
}

static bool overridden(const struct profile *p, size_t i)
{
	const struct setting *s = &p->settings[i];

	for (size_t k = i + 1; k < p->n_settings; k++) {
		const struct setting *t = &p->settings[k];

		if (strcmp(t->section, s->section) == 0 && strcmp(t->key, s->key) == 0 &&
		    streq_ptr(t->instance, s->instance))
			return true;
	}
	return false;
}

static void collect(const struct profile *p, struct wait_list *l)
{
	for (size_t i = 0; i < p->n_sections; i++)
		if (strcmp(p->sections[i].section, "sriov") == 0 && p->sections[i].instance)
			add(l, p->sections[i].instance, true, false, &p->sections[i]);
	for (size_t i = 0; i < p->n_settings; i++) {
		const struct setting *s = &p->settings[i];

		if (overridden(p, i))
			continue;
		if (strcmp(s->section, "vfio") == 0 && strcmp(s->key, "devices") == 0) {
			_cleanup_strv_free_ char **items = strv_split(s->value, ",");

			for (char **it = items; it && *it; it++)
				add(l, *it, false, true, s);
		} else if (strcmp(s->section, "vdpa") == 0 && strcmp(s->key, "mgmtdev") == 0) {
			/* pci/ADDRESS, an address or vendor:device; a bare word may be a
			 * bus-less management device (vdpasim_net), not an interface. */
			const char *v = strncmp(s->value, "pci/", 4) == 0 ? s->value + 4 : s->value;

			if (strchr(v, ':') && !strchr(v, '/')) {
				add(l, v, false, true, s);
				l->w[l->n - 1].driver = true;
			}
		}
	}
}

/* A hexadecimal id attribute ("0x8086") of a device. */
static int read_id(const struct hostroot *hr, const char *addr, const char *attr, uint64_t *ret)
{
	char line[32], *end;
	int r = hr_read_line(hr, line, sizeof(line), "/sys/bus/pci/devices/%s/%s", addr, attr);

	if (r < 0)
		return r;
	errno = 0;
	*ret = strtoull(line, &end, 16);
	return errno || end == line || *end ? -EINVAL : 0;
}

/* Devices a selector names now.  vendor:device from the ids in sysfs: checked
 * after every burst of events at boot, so no libpci scan (and pci.ids parse). */
static int resolve(const struct hostroot *hr, const struct pci_selector *sel, char ***ret)
{
	_cleanup_strv_free_ char **all = NULL, **v = calloc(1, sizeof(char *));
	size_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	if (sel->kind != PCI_SEL_ID)
		return pci_resolve(hr, NULL, sel, ret);
	if ((r = hr_list(hr, &all, "/sys/bus/pci/devices")) < 0)
		return r;
	for (char **d = all; *d; d++) {
		uint64_t vendor, device;

		if (read_id(hr, *d, "vendor", &vendor) == 0 && read_id(hr, *d, "device", &device) == 0 &&
		    vendor == sel->vendor &&
		    device == sel->device && (r = strv_push(&v, &n, strdup(*d))) < 0)
			return r;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* The device is one this run's [sriov] sections create: an address in a
 * named PF's VF range, or the id its VFs carry. */
static bool vf_of_named_pf(const struct hostroot *hr, const struct wait_list *l, const struct want *w)
{
	for (size_t i = 0; i < l->n; i++) {
		_cleanup_strv_free_ char **pfs = NULL;

		if (!l->w[i].pf || resolve(hr, &l->w[i].sel, &pfs) < 0)
			continue;
		for (char **pf = pfs; *pf; pf++) {
			uint64_t offset, stride, total, vendor, vf_device;
			unsigned dom, bus, dev, fn, rid;
			char addr[PCI_ADDR_MAX];

			if (hr_read_u64(hr, &total, "/sys/bus/pci/devices/%s/sriov_totalvfs", *pf) < 0)
				continue;
			if (w->sel.kind == PCI_SEL_ID) {
				if (read_id(hr, *pf, "vendor", &vendor) == 0 && read_id(hr, *pf, "sriov_vf_device", &vf_device) == 0 &&
				    vendor == w->sel.vendor && vf_device == w->sel.device)
					return true;
				continue;
			}
			if (w->sel.kind != PCI_SEL_ADDRESS || sscanf(*pf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4 ||
			    hr_read_u64(hr, &offset, "/sys/bus/pci/devices/%s/sriov_offset", *pf) < 0 ||
			    hr_read_u64(hr, &stride, "/sys/bus/pci/devices/%s/sriov_stride", *pf) < 0)
				continue;
			/* Routing ID of VF n: the PF's + offset + n * stride. */
			for (uint64_t n = 0; n < total; n++) {
				rid = (bus << 8 | dev << 3 | fn) + (unsigned)(offset + n * stride);
				snprintf(addr, sizeof(addr), "%04x:%02x:%02x.%x", dom, rid >> 8 & 0xff, rid >> 3 & 0x1f, rid & 7);
				if (strcmp(addr, w->sel.addr) == 0)
					return true;
			}
		}
	}
	return false;
}

static bool udev_done(const struct wait_list *l, const char *addr)
{
	char syspath[64];
	struct udev_device *d;
	bool done;

	if (!l->udev)
		return true;
	snprintf(syspath, sizeof(syspath), "/sys/bus/pci/devices/%s", addr);
	d = udev_device_new_from_syspath(l->udev, syspath);
	done = d && udev_device_get_is_initialized(d) > 0;
	if (d)
		udev_device_unref(d);
	return done;
}

/* One device of a want is ready; otherwise w->missing says why. */
static bool device_ready(const struct hostroot *hr, const struct wait_list *l, struct want *w, const char *addr)
{
	char drv[PCI_DRIVER_MAX];

	if (w->driver && (pci_driver(hr, addr, drv, sizeof(drv)) < 0 || !drv[0])) {
		snprintf(w->missing, sizeof(w->missing), "%s is present, but no driver is bound to it", addr);
		return false;
	}
	if (!udev_done(l, addr)) {
		snprintf(w->missing, sizeof(w->missing), "udev has not finished with %s", addr);
		return false;
	}
	return true;
}

static bool want_ready(const struct hostroot *hr, const struct wait_list *l, struct want *w)
{
	_cleanup_strv_free_ char **devs = NULL;
	size_t n = 0;

	w->missing[0] = '\0';
	if (resolve(hr, &w->sel, &devs) < 0)
		return true;   /* nothing to wait for that we can tell; the module reports */
	for (char **d = devs; *d; d++) {
		/* A vendor:device selector of [sriov] skips VFs, as the module does. */
		if (w->pf && w->sel.kind == PCI_SEL_ID && hr_exists(hr, "/sys/bus/pci/devices/%s/physfn", *d))
			continue;
		n++;
		if (!device_ready(hr, l, w, *d))
			return false;
	}
	if (n > 0)
		return true;
	if (w->maybe_vf && vf_of_named_pf(hr, l, w))
		return true;
	if (w->sel.kind == PCI_SEL_IFNAME)
		snprintf(w->missing, sizeof(w->missing), "no interface %s", w->sel.ifname);
	else if (w->sel.kind == PCI_SEL_ID)
		snprintf(w->missing, sizeof(w->missing), "no device %04x:%04x", w->sel.vendor, w->sel.device);
	else
		snprintf(w->missing, sizeof(w->missing), "%s is not present", w->sel.addr);
	return false;
}

static bool all_ready(struct ctx *ctx, struct wait_list *l)
{
	bool ready = true;

	for (size_t i = 0; i < l->n; i++)
		ready &= want_ready(&ctx->hr, l, &l->w[i]);
	return ready;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only PCI and network events: a boot's coldplug sends thousands of others. */
static struct udev_monitor *monitor(struct udev *udev, const char *name)
{
	struct udev_monitor *m = udev_monitor_new_from_netlink(udev, name);

	if (m && (udev_monitor_filter_add_match_subsystem_devtype(m, "pci", NULL) < 0 ||
		  udev_monitor_filter_add_match_subsystem_devtype(m, "net", NULL) < 0 ||
		  udev_monitor_enable_receiving(m) < 0)) {
		udev_monitor_unref(m);
		return NULL;
	}
	return m;
}

/* Until every want is ready or the deadline passes; true when ready. */
static bool wait_events(struct ctx *ctx, struct wait_list *l, struct udev *udev, long long deadline)
{
	struct udev_monitor *mon[2] = { monitor(udev, "kernel"), l->udev ? monitor(udev, "udev") : NULL };
	bool ready = false;

	/* Checked once the monitors listen, so that no event is missed in between. */
	for (ready = all_ready(ctx, l); !ready;) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		long long left = deadline - now_ms();

		if (left <= 0)
			break;
		for (int i = 0; i < 2; i++)
			if (mon[i])
				pfd[n++] = (struct pollfd){ .fd = udev_monitor_get_fd(mon[i]), .events = POLLIN };
		/* Events wake us; checking every second as well covers events lost to a
		 * full netlink buffer during coldplug. */
		if (poll(pfd, n, left < 1000 ? (int)left : 1000) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++)
			for (struct udev_device *d; mon[i] && (d = udev_monitor_receive_device(mon[i]));)
				udev_device_unref(d);
		ready = all_ready(ctx, l);
	}
	for (int i = 0; i < 2; i++)
		if (mon[i])
			udev_monitor_unref(mon[i]);
	return ready;
}

void devwait_profile(struct ctx *ctx, int timeout_ms)
{
	_cleanup_free_ struct wait_list *l = calloc(1, sizeof(*l));
	struct udev *udev = NULL;
	struct udev_queue *q = NULL;
	long long t0 = now_ms();
	bool ready;

	if (!l || !ctx->hr.is_real || !ctx->profile)
		return;
	collect(ctx->profile, l);
	if (l->n == 0)
		return;
	udev = udev_new();
	q = udev ? udev_queue_new(udev) : NULL;
	if (q && udev_queue_get_udev_is_active(q))
		l->udev = udev;
	if (q)
		udev_queue_unref(q);
	if (all_ready(ctx, l) || timeout_ms <= 0 || !udev) {
		if (udev)
			udev_unref(udev);
		return;   /* what is missing now, the modules report */
	}
	ready = wait_events(ctx, l, udev, t0 + timeout_ms);
	udev_unref(udev);
	if (ready) {
		log_info("devices: the devices the profile names were ready after %.1f s", (double)(now_ms() - t0) / 1000);
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct want *w = &l->w[i];

		if (!w->missing[0])
			continue;
		if (w->where->instance)
			ctx_warn(ctx, "devices: waited %d s for %s ([%s %s] at %s:%d): %s", timeout_ms / 1000, w->sel.text,
				 w->where->section, w->where->instance, w->where->file, w->where->line, w->missing);
		else
			ctx_warn(ctx, "devices: waited %d s for %s ([%s] %s at %s:%d): %s", timeout_ms / 1000, w->sel.text,
				 w->where->section, w->where->key, w->where->file, w->where->line, w->missing);
	}
}
