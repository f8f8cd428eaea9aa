#include <ctype.h>
#include <errno.h>
#include <libudev.h>
#include <pci/pci.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "confine.h"
#include "engine.h"
#include "hostroot.h"
#include "kmodules.h"
#include "log.h"
#include "pci.h"
#include "progress.h"

/* Selectors --------------------------------------------------------------- */

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int pci_addr_parse(const char *s, char *buf, size_t len)
{
	unsigned long domain = 0;
	unsigned bus, dev, fn;
	const char *p = s;
	size_t dlen = strcspn(s, ":");

	/* Domain present when there are two colons. */
	if (strchr(s, ':') && strchr(strchr(s, ':') + 1, ':')) {
		if (dlen < 4 || dlen > 8 || !hex_run(s, dlen))
			return -EINVAL;
		domain = strtoul(s, NULL, 16);
		p = s + dlen + 1;
	}
	/* BB:DD.F exactly. */
	if (strlen(p) != 7 || !hex_run(p, 2) || p[2] != ':' || !hex_run(p + 3, 2) || p[5] != '.' ||
	    p[6] < '0' || p[6] > '7')
		return -EINVAL;
	bus = (unsigned)strtoul(p, NULL, 16);
	dev = (unsigned)strtoul(p + 3, NULL, 16);
	fn = (unsigned)(p[6] - '0');
	if (dev > 0x1f)
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%04lx:%02x:%02x.%x", domain, bus, dev, fn) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *c = s; *c; c++)
		if (!isgraph((unsigned char)*c) || *c == '/' || *c == ':' || *c == ',')
			return false;
	return true;
}

int pci_selector_parse(const char *s, struct pci_selector *ret)
{
	struct pci_selector sel = { 0 };

	if (!s || strlen(s) >= sizeof(sel.text))
		return -EINVAL;
	strcpy(sel.text, s);
	if (strlen(s) == 9 && hex_run(s, 4) && s[4] == ':' && hex_run(s + 5, 4)) {
		sel.kind = PCI_SEL_ID;
		sel.vendor = (unsigned)strtoul(s, NULL, 16);
		sel.device = (unsigned)strtoul(s + 5, NULL, 16);
	} else if (strchr(s, ':')) {
		if (pci_addr_parse(s, sel.addr, sizeof(sel.addr)) < 0)
			return -EINVAL;
		sel.kind = PCI_SEL_ADDRESS;
	} else if (ifname_valid(s)) {
		sel.kind = PCI_SEL_IFNAME;
		strcpy(sel.ifname, s);
	} else {
		return -EINVAL;
	}
	*ret = sel;
	return 0;
}

static unsigned hex_digit(char c)
{
	return (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

/* "DDDD:BB:DD.F" into its four numbers, by hand: sorting a thousand devices
 * compares addresses some ten thousand times. */
static int addr_split(const char *s, unsigned long v[4])
{
	static const char seps[4] = { ':', ':', '.', '\0' };

	for (int i = 0; i < 4; i++) {
		const char *start = s;

		v[i] = 0;
		for (; isxdigit((unsigned char)*s); s++) {
			if (s - start == 8)
				return -EINVAL;
			v[i] = v[i] * 16 + hex_digit(*s);
		}
		if (s == start || *s != seps[i])
			return -EINVAL;
		s++;
	}
	return 0;
}

int pci_addr_cmp(const char *a, const char *b)
{
	unsigned long x[4], y[4];

	if (addr_split(a, x) < 0 || addr_split(b, y) < 0)
		return strcmp(a, b);
	for (int i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

static int cmp_addr_strv(const void *a, const void *b)
{
	return pci_addr_cmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_device(const void *a, const void *b)
{
	return pci_addr_cmp(((const struct pci_device *)a)->addr, ((const struct pci_device *)b)->addr);
}

int pci_addr_in_path(const char *path, char *buf, size_t len)
{
	const char *p = path;
	bool found = false;

	while (*p) {
		size_t n = strcspn(p, "/");
		char comp[64], canon[PCI_ADDR_MAX];

		if (n > 0 && n < sizeof(comp)) {
			memcpy(comp, p, n);
			comp[n] = '\0';
			/* Only the full form: "pci0000:00" and "0:0:0:0" are not devices. */
			if (strchr(comp, '.') && strchr(comp, ':') != strrchr(comp, ':') &&
			    pci_addr_parse(comp, canon, sizeof(canon)) == 0) {
				if ((size_t)snprintf(buf, len, "%s", canon) >= len)
					return -ENAMETOOLONG;
				found = true;
			}
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return found ? 0 : -ENOENT;
}

/* Enumeration through libpci -------------------------------------------- */

/* libpci's error callback must not return: it jumps back to the caller. */
static _Thread_local jmp_buf *libpci_jump;
static _Thread_local char libpci_error[512];

static __attribute__((noreturn, format(printf, 1, 2))) void libpci_on_error(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vsnprintf(libpci_error, sizeof(libpci_error), msg, ap);
	va_end(ap);
	longjmp(*libpci_jump, 1);
}

static __attribute__((format(printf, 1, 2))) void libpci_on_warning(char *msg, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	log_debug("libpci: %s", buf);
}

static __attribute__((format(printf, 1, 2))) void libpci_on_debug(char *msg, ...)
{
	(void)msg;
}

static int enumerate(struct pci_access *a, struct pci_list *out)
{
	struct pci_dev *d;
	size_t n = 0;

	pci_init(a);
	pci_scan_bus(a);
	for (d = a->devices; d; d = d->next)
		n++;
	out->dev = calloc(n ? n : 1, sizeof(*out->dev));
	if (!out->dev)
		return -ENOMEM;
	for (d = a->devices; d; d = d->next) {
		struct pci_device *p = &out->dev[out->n];

		pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS);
		snprintf(p->addr, sizeof(p->addr), "%04x:%02x:%02x.%x", (unsigned)d->domain, d->bus, d->dev, d->func);
		p->vendor = d->vendor_id;
		p->device = d->device_id;
		p->class = d->device_class;
		out->n++;
	}
	qsort(out->dev, out->n, sizeof(*out->dev), cmp_device);
	return 0;
}

/* What a scan hands back, whole, from wherever it ran. */
struct enum_reply {
	int r;
	char err[512];               /* libpci's message when r < 0 */
	size_t n;
	struct pci_device dev[];
};

/* The scan, under /sys/bus/pci as this process sees it: the real root, or
 * a child chrooted into another root (agent/confine.c). */
static struct pci_access *access_new(void)
{
	struct pci_access *a = pci_alloc();

	if (!a)
		return NULL;
	a->error = libpci_on_error;
	a->warning = libpci_on_warning;
	a->debug = libpci_on_debug;
	/* Pinned: no silent fall back to /proc/bus/pci or port I/O. */
	a->method = PCI_ACCESS_SYS_BUS_PCI;
	/* No ~/.pciids-cache: names come from pci.ids alone. */
	(void)pci_set_param(a, "net.cache_name", "");
	return a;
}

static int enum_run(void *arg, void **out, size_t *out_len)
{
	struct pci_access *a = access_new();
	jmp_buf jump;
	/* Written between setjmp and a possible longjmp: kept in memory. */
	struct pci_list list = { 0 }, *volatile l = &list;
	struct enum_reply *rep;
	char err[512] = "";
	int r;

	(void)arg;
	if (!a)
		return -ENOMEM;
	libpci_jump = &jump;
	if (setjmp(jump)) {
		snprintf(err, sizeof(err), "%s", libpci_error);
		pci_list_free(l);
		r = -EIO;
	} else {
		if (pci_set_param(a, "sysfs.path", "/sys/bus/pci") < 0) {
			snprintf(libpci_error, sizeof(libpci_error), "libpci has no sysfs.path parameter");
			longjmp(jump, 1);
		}
		r = enumerate(a, l);
	}
	libpci_jump = NULL;
	/* Here: in a child, libpci's descriptors must be closed by the child. */
	pci_cleanup(a);
	if (r == -ENOMEM)
		return r;
	*out_len = sizeof(*rep) + l->n * sizeof(rep->dev[0]);
	rep = calloc(1, *out_len);
	if (!rep) {
		pci_list_free(l);
		return -ENOMEM;
	}
	rep->r = r;
	snprintf(rep->err, sizeof(rep->err), "%s", err);
	rep->n = l->n;
	if (l->n)
		memcpy(rep->dev, l->dev, l->n * sizeof(rep->dev[0]));
	pci_list_free(l);
	*out = rep;
	return 0;
}

int pci_enumerate(const struct hostroot *hr, struct pci_list *ret, char *err, size_t err_len)
{
	_cleanup_free_ struct enum_reply *rep = NULL;
	void *res = NULL;
	size_t len = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = confine_call(hr, enum_run, NULL, &res, &len);
	rep = res;
	if (r == 0 && (len < sizeof(*rep) || len != sizeof(*rep) + rep->n * sizeof(rep->dev[0])))
		r = -EIO;
	if (r == 0 && rep->r < 0) {
		if (err)
			snprintf(err, err_len, "%s", rep->err);
		r = rep->r;
	} else if (r < 0) {
		if (err)
			snprintf(err, err_len, "listing the PCI devices: %s", strerror(-r));
	} else if (!(ret->dev = malloc(rep->n ? rep->n * sizeof(rep->dev[0]) : 1))) {
		r = -ENOMEM;
	} else {
		memcpy(ret->dev, rep->dev, rep->n * sizeof(rep->dev[0]));
		ret->n = rep->n;
	}
	return r;
}

void pci_list_free(struct pci_list *l)
{
	if (!l)
		return;
	free(l->dev);
	strv_free(l->names);
	*l = (struct pci_list){ 0 };
}

const struct pci_device *pci_list_find(const struct pci_list *l, const char *addr)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->dev[i].addr, addr) == 0)
			return &l->dev[i];
	return NULL;
}

int pci_resolve(const struct hostroot *hr, const struct pci_list *all, const struct pci_selector *sel, char ***ret)
{
	_cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
	size_t n = 0;
	char target[4096], addr[PCI_ADDR_MAX];
	int r;

	if (!v)
		return -ENOMEM;
	switch (sel->kind) {
	case PCI_SEL_ADDRESS:
		if (pci_exists(hr, sel->addr) && (r = strv_push(&v, &n, strdup(sel->addr))) < 0)
			return r;
		break;
	case PCI_SEL_IFNAME:
		/* /sys/class/net/IF → ../../devices/pci0000:00/0000:02:00.0[/virtio0]/net/IF */
		if (!path_component_valid(sel->ifname))
			return -EINVAL;
		if (hr_readlink(hr, target, sizeof(target), false, "/sys/class/net/%s", sel->ifname) == 0 &&
		    pci_addr_in_path(target, addr, sizeof(addr)) == 0 && pci_exists(hr, addr) &&
		    (r = strv_push(&v, &n, strdup(addr))) < 0)
			return r;
		break;
	case PCI_SEL_ID:
		if (!all)
			return -EIO;
		for (size_t i = 0; i < all->n; i++)
			if (all->dev[i].vendor == sel->vendor && all->dev[i].device == sel->device &&
			    (r = strv_push(&v, &n, strdup(all->dev[i].addr))) < 0)
				return r;
		break;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* Attributes ---------------------------------------------------------------- */

bool pci_exists(const struct hostroot *hr, const char *addr)
{
	return path_component_valid(addr) && hr_exists(hr, "/sys/bus/pci/devices/%s", addr);
}

int pci_driver(const struct hostroot *hr, const char *addr, char *buf, size_t len)
{
	int r;

	if (!path_component_valid(addr))
		return -EINVAL;
	r = hr_readlink(hr, buf, len, true, "/sys/bus/pci/devices/%s/driver", addr);
	if (r == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return r;
}

int pci_iommu_group(const struct hostroot *hr, const char *addr)
{
	char g[32], *end;
	long v;
	int r;

	if (!path_component_valid(addr))
		return -EINVAL;
	r = hr_readlink(hr, g, sizeof(g), true, "/sys/bus/pci/devices/%s/iommu_group", addr);
	if (r < 0)
		return r;
	v = strtol(g, &end, 10);
	return *end || end == g || v < 0 || v > 1 << 24 ? -EINVAL : (int)v;
}

int pci_group_devices(const struct hostroot *hr, int group, char ***ret)
{
	int r = hr_list(hr, ret, "/sys/kernel/iommu_groups/%d/devices", group);

	if (r < 0)
		return r;
	qsort(*ret, strv_length(*ret), sizeof(char *), cmp_addr_strv);
	return 0;
}

int pci_netdevs(const struct hostroot *hr, const char *addr, char ***ret)
{
	int r;

	if (!path_component_valid(addr))
		return -EINVAL;
	r = hr_list(hr, ret, "/sys/bus/pci/devices/%s/net", addr);
	if (r == -ENOENT) {
		*ret = calloc(1, sizeof(char *));
		return *ret ? 0 : -ENOMEM;
	}
	return r;
}

bool pci_is_bridge(const struct hostroot *hr, const char *addr)
{
	char c[32];

	return path_component_valid(addr) &&
	       hr_read_line(hr, c, sizeof(c), "/sys/bus/pci/devices/%s/class", addr) == 0 &&
	       (strtoul(c, NULL, 16) >> 16) == 0x06;
}

/* "virtfnN", a PF's link to its VF N: checked by hand, not with sscanf, for
 * each of the PF directory's fifty-odd entries, several times per apply. */
static bool is_virtfn(const char *name)
{
	size_t digits;

	if (strncmp(name, "virtfn", 6) != 0)
		return false;
	digits = strspn(name + 6, "0123456789");
	return digits > 0 && name[6 + digits] == '\0';
}

int pci_vfs(const struct hostroot *hr, const char *pf, char ***ret)
{
	_cleanup_strv_free_ char **entries = NULL;
	_cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
	size_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	if (!path_component_valid(pf))
		return -EINVAL;
	r = hr_list(hr, &entries, "/sys/bus/pci/devices/%s", pf);
	if (r < 0)
		return r;
	/* hr_list sorts in version order: virtfn2 before virtfn10. */
	for (char **e = entries; *e; e++) {
		char vf[PCI_ADDR_MAX];

		if (!is_virtfn(*e))
			continue;
		if (hr_readlink(hr, vf, sizeof(vf), true, "/sys/bus/pci/devices/%s/%s", pf, *e) < 0)
			continue;
		if ((r = strv_push(&v, &n, strdup(vf))) < 0)
			return r;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* Binding ------------------------------------------------------------------- */

struct bound_to {
	const char *addr, *driver;
};

static bool is_bound_to(const struct hostroot *hr, const void *data)
{
	const struct bound_to *b = data;
	char drv[PCI_DRIVER_MAX];

	return pci_driver(hr, b->addr, drv, sizeof(drv)) == 0 && strcmp(drv, b->driver) == 0;
}

#define STEP(...) do { if (step) snprintf(step, step_len, __VA_ARGS__); } while (0)

/* "(null)" and "" are both no override. */
static void read_override(const struct hostroot *hr, const char *addr, char *buf, size_t len)
{
	if (hr_read_line(hr, buf, len, "/sys/bus/pci/devices/%s/driver_override", addr) < 0 || strcmp(buf, "(null)") == 0)
		buf[0] = '\0';
}

/* After a bind that failed part way: driver_override back to old (cleared
 * when ""), the device back on original (driverless when "").  Says what
 * came of it in out; 0 when the device is as it was. */
static int bind_undo(struct hostroot *hr, const char *addr, const char *old, const char *original, char *out, size_t len)
{
	struct bound_to want = { addr, original };
	char cur[PCI_DRIVER_MAX], ov[PCI_DRIVER_MAX];
	bool rebound = false;
	int r, ret = 0;

	out[0] = '\0';
	/* An empty write does not reach the kernel; a newline clears the override. */
	r = hr_write_attr(hr, old[0] ? old : "\n", NULL, 0, "/sys/bus/pci/devices/%s/driver_override", addr);
	read_override(hr, addr, ov, sizeof(ov));
	if (r < 0 || strcmp(ov, old) != 0) {
		snprintf(out, len, "; restoring driver_override failed (%s): it reads %s", r < 0 ? strerror(-r) : "read back",
			 ov[0] ? ov : "(null)");
		RET_GATHER(ret, r < 0 ? r : -EIO);
	}
	if (pci_driver(hr, addr, cur, sizeof(cur)) < 0)
		cur[0] = '\0';
	if (strcmp(cur, original) != 0 && cur[0])
		(void)hr_write_attr(hr, addr, NULL, 0, "/sys/bus/pci/drivers/%s/unbind", cur);
	if (original[0] && strcmp(cur, original) != 0) {
		rebound = true;
		/* The driver's own bind file names it; drivers_probe is the fall back. */
		r = hr_write_attr(hr, addr, NULL, 0, "/sys/bus/pci/drivers/%s/bind", original);
		if (r < 0 && !is_bound_to(hr, &want))
			(void)hr_write_attr(hr, addr, NULL, 0, "/sys/bus/pci/drivers_probe");
		if (pci_wait(hr, is_bound_to, &want, 10000) < 0) {
			if (pci_driver(hr, addr, cur, sizeof(cur)) < 0)
				cur[0] = '\0';
			snprintf(out + strlen(out), len - strlen(out), "; binding %s again failed (%s): %s", original,
				 r < 0 ? strerror(-r) : "not bound after probing",
				 cur[0] ? "the device is on another driver now" : "the device has no driver now");
			RET_GATHER(ret, -ENODEV);
		}
	}
	if (ret == 0 && original[0])
		snprintf(out, len, " (%s %s, driver_override restored)", rebound ? "back on" : "still on", original);
	else if (ret == 0)
		snprintf(out, len, " (without a driver as before, driver_override restored)");
	return ret;
}

int pci_bind(struct hostroot *hr, const char *addr, const char *driver, char *step, size_t step_len)
{
	char cur[PCI_DRIVER_MAX], rb[PCI_DRIVER_MAX], old[PCI_DRIVER_MAX], undo[512], what[256];
	struct bound_to want = { addr, driver };
	int r;

	if (!path_component_valid(addr) || !path_component_valid(driver))
		return -EINVAL;
	read_override(hr, addr, old, sizeof(old));
	r = pci_driver(hr, addr, cur, sizeof(cur));
	if (r < 0) {
		STEP("reading the driver link: %s", strerror(-r));
		return r;
	}
	r = hr_write_attr(hr, driver, rb, sizeof(rb), "/sys/bus/pci/devices/%s/driver_override", addr);
	if (r == 0 && strcmp(rb, driver) != 0)
		r = -EIO;
	if (r < 0) {
		(void)bind_undo(hr, addr, old, cur, undo, sizeof(undo));
		STEP("writing driver_override: %s", strerror(-r));
		return r;
	}
	if (strcmp(cur, driver) == 0)
		return 0;
	if (cur[0] && (r = hr_write_attr(hr, addr, NULL, 0, "/sys/bus/pci/drivers/%s/unbind", cur)) < 0) {
		snprintf(what, sizeof(what), "unbinding from %s: %s", cur, strerror(-r));
	} else if ((r = hr_write_attr(hr, addr, NULL, 0, "/sys/bus/pci/drivers_probe")) < 0) {
		snprintf(what, sizeof(what), "writing drivers_probe: %s", strerror(-r));
	} else {
		char now[PCI_DRIVER_MAX];
		PROGRESS("%s: waiting for %s to take the device", addr, driver);

		if (pci_wait(hr, is_bound_to, &want, 10000) == 0)
			return 0;
		if (pci_driver(hr, addr, now, sizeof(now)) < 0)
			now[0] = '\0';
		snprintf(what, sizeof(what), "probing: the device is bound to %s, not %s", now[0] ? now : "no driver", driver);
		r = -ENODEV;
	}
	(void)bind_undo(hr, addr, old, cur, undo, sizeof(undo));
	STEP("%s%s", what, undo);
	return r;
}

int pci_unbind_override(struct hostroot *hr, const char *addr, char *step, size_t step_len)
{
	char cur[PCI_DRIVER_MAX];
	int r;

	if (!path_component_valid(addr))
		return -EINVAL;
	/* An empty write does not reach the kernel; a newline clears the override. */
	r = hr_write_attr(hr, "\n", NULL, 0, "/sys/bus/pci/devices/%s/driver_override", addr);
	if (r < 0) {
		STEP("clearing driver_override");
		return r;
	}
	r = pci_driver(hr, addr, cur, sizeof(cur));
	if (r < 0) {
		STEP("reading the driver link");
		return r;
	}
	if (cur[0] && (r = hr_write_attr(hr, addr, NULL, 0, "/sys/bus/pci/drivers/%s/unbind", cur)) < 0) {
		STEP("unbinding from %s", cur);
		return r;
	}
	r = hr_write_attr(hr, addr, NULL, 0, "/sys/bus/pci/drivers_probe");
	if (r < 0)
		STEP("writing drivers_probe");
	return r;
}

int pci_driver_load(struct ctx *ctx, const char *driver)
{
	int r;

	if (!path_component_valid(driver))
		return -EINVAL;
	if (hr_is_dir(&ctx->hr, "/sys/bus/pci/drivers/%s", driver))
		return 0;
	r = kmodules_load(ctx, driver);
	if (r < 0)
		return r;
	/* Module init registers the driver before it returns. */
	return hr_is_dir(&ctx->hr, "/sys/bus/pci/drivers/%s", driver) ? 0 : -ENOENT;
}

/* In use --------------------------------------------------------------------- */

int pci_vfio_group_holder(const struct hostroot *hr, int group, char *who, size_t len)
{
	char node[64], comm[64];
	long pid;

	snprintf(node, sizeof(node), "/dev/vfio/%d", group);
	pid = hr_node_holder(hr, node, comm, sizeof(comm));
	if (pid <= 0)
		return (int)pid;
	snprintf(who, len, "pid %ld (%s)", pid, comm);
	return 1;
}

static int vdpa_child(const struct hostroot *hr, const char *addr, char *name, size_t len)
{
	_cleanup_strv_free_ char **devs = NULL;

	if (hr_list(hr, &devs, "/sys/bus/vdpa/devices") < 0)
		return 0;
	for (char **d = devs; *d; d++) {
		char target[4096], parent[PCI_ADDR_MAX];

		/* ../../../devices/pci0000:00/0000:03:00.2/vdpa0: the parent is the PCI device. */
		if (hr_readlink(hr, target, sizeof(target), false, "/sys/bus/vdpa/devices/%s", *d) == 0 &&
		    pci_addr_in_path(target, parent, sizeof(parent)) == 0 && strcmp(parent, addr) == 0) {
			snprintf(name, len, "%s", *d);
			return 1;
		}
	}
	return 0;
}

static bool netdev_up(const struct hostroot *hr, const char *addr, const char *ifname)
{
	char v[32];

	if (hr_read_line(hr, v, sizeof(v), "/sys/bus/pci/devices/%s/net/%s/operstate", addr, ifname) == 0 &&
	    strcmp(v, "up") == 0)
		return true;
	/* Administratively up (IFF_UP) counts too: someone configured it. */
	return hr_read_line(hr, v, sizeof(v), "/sys/bus/pci/devices/%s/net/%s/flags", addr, ifname) == 0 &&
	       (strtoul(v, NULL, 16) & 0x1);
}

int pci_in_use(const struct hostroot *hr, const char *addr, char *why, size_t len)
{
	_cleanup_strv_free_ char **nets = NULL;
	char drv[PCI_DRIVER_MAX], who[128];
	int group, r;

	/* What cannot be told counts as in use. */
	if (pci_driver(hr, addr, drv, sizeof(drv)) == 0 && strcmp(drv, "vfio-pci") == 0 &&
	    (group = pci_iommu_group(hr, addr)) >= 0 && (r = pci_vfio_group_holder(hr, group, who, sizeof(who))) != 0) {
		if (r < 0)
			snprintf(why, len, "whether its /dev/vfio/%d is open cannot be told: %s", group, strerror(-r));
		else
			snprintf(why, len, "its /dev/vfio/%d is open by %s", group, who);
		return 1;
	}
	if (vdpa_child(hr, addr, who, sizeof(who)) > 0) {
		snprintf(why, len, "it is the parent of vDPA device %s", who);
		return 1;
	}
	if (pci_netdevs(hr, addr, &nets) == 0)
		for (char **n = nets; *n; n++)
			if (path_component_valid(*n) && netdev_up(hr, addr, *n)) {
				snprintf(why, len, "its interface %s is up", *n);
				return 1;
			}
	return 0;
}

/* Waiting --------------------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void udev_unrefp(struct udev **u) { if (*u) udev_unref(*u); }
static void udev_monitor_unrefp(struct udev_monitor **m) { if (*m) udev_monitor_unref(*m); }
static void udev_queue_unrefp(struct udev_queue **q) { if (*q) udev_queue_unref(*q); }

int pci_wait(const struct hostroot *hr, bool (*ready)(const struct hostroot *hr, const void *data),
	     const void *data, int timeout_ms)
{
	_cleanup_(udev_unrefp) struct udev *udev = NULL;
	_cleanup_(udev_monitor_unrefp) struct udev_monitor *mon = NULL;
	long long deadline = now_ms() + timeout_ms;
	/* A wait polls the live host, never the run's snapshot of it. */
	struct hostroot live = *hr;

	live.memo = NULL;
	hr = &live;
	if (ready(hr, data))
		return 0;
	if (!hr->is_real)
		return -ETIMEDOUT;
	udev = udev_new();
	mon = udev ? udev_monitor_new_from_netlink(udev, "kernel") : NULL;
	if (!mon || udev_monitor_enable_receiving(mon) < 0) {
		log_debug("pci: no uevent monitor; checking once");
		return ready(hr, data) ? 0 : -ETIMEDOUT;
	}
	for (;;) {
		struct pollfd pfd = { .fd = udev_monitor_get_fd(mon), .events = POLLIN };
		long long left;

		/* Checked after the monitor is on, so no event is missed in between. */
		if (ready(hr, data))
			return 0;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) > 0) {
			struct udev_device *d = udev_monitor_receive_device(mon);
			if (d)
				udev_device_unref(d);
		}
	}
}

void pci_udev_settle(const struct hostroot *hr, int timeout_ms)
{
	_cleanup_(udev_unrefp) struct udev *udev = NULL;
	_cleanup_(udev_queue_unrefp) struct udev_queue *q = NULL;
	long long deadline = now_ms() + timeout_ms;
	int fd;

	if (!hr->is_real)
		return;
	udev = udev_new();
	q = udev ? udev_queue_new(udev) : NULL;
	if (!q || udev_queue_get_queue_is_empty(q))
		return;
	fd = udev_queue_get_fd(q);
	PROGRESS("waiting for udev to settle");
	while (fd >= 0 && !udev_queue_get_queue_is_empty(q)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();

		if (left <= 0) {
			log_debug("pci: udev still busy after %d ms", timeout_ms);
			return;
		}
		if (poll(&pfd, 1, (int)left) > 0)
			udev_queue_flush(q);
	}
}

const char *pci_iommu_pending(const struct ctx *ctx)
{
	static const char *const keys[] = { "intel_iommu", "amd_iommu" };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *arg = engine_boot_arg_pending(ctx, keys[i]);

		if (arg && strcmp(arg + strlen(keys[i]), "=off") != 0)
			return arg;
	}
	return NULL;
}
