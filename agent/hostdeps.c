#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdeps.h"
#include "hostroot.h"
#include "route-nl.h"
#include "util.h"

#define MAX_DEPTH 8

static bool strv_contains(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

static int strv_add_unique(char ***v, const char *s)
{
	size_t n = strv_length(*v);

	return strv_contains(*v, s) ? 0 : strv_push(v, &n, strdup(s));
}

int route_default_ifaces_v4(const char *text, char ***ret)
{
	_cleanup_strv_free_ char **lines = strv_split(text, "\n");
	_cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
	int r;

	if (!lines || !v)
		return -ENOMEM;
	for (char **l = lines; *l; l++) {
		char iface[64], dest[16], gw[16], mask[16];
		unsigned flags;

		/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
		if (sscanf(*l, "%63s %15s %15s %x %*s %*s %*s %15s", iface, dest, gw, &flags, mask) != 5)
			continue;   /* the header */
		if (strcmp(dest, "00000000") != 0 || strcmp(mask, "00000000") != 0 || !(flags & 0x1))
			continue;
		if ((r = strv_add_unique(&v, iface)) < 0)
			return r;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

int route_default_ifaces_v6(const char *text, char ***ret)
{
	_cleanup_strv_free_ char **lines = strv_split(text, "\n");
	_cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
	int r;

	if (!lines || !v)
		return -ENOMEM;
	for (char **l = lines; *l; l++) {
		char dest[40], plen[4], iface[64];
		unsigned flags;

		/* dest plen src splen nexthop metric refcnt use flags iface */
		if (sscanf(*l, "%39s %3s %*s %*s %*s %*s %*s %*s %x %63s", dest, plen, &flags, iface) != 4)
			continue;
		if (strspn(dest, "0") != 32 || strcmp(plen, "00") != 0 || strcmp(iface, "lo") == 0)
			continue;
		/* RTF_UP set, RTF_REJECT (unreachable) not. */
		if (!(flags & 0x1) || (flags & 0x200))
			continue;
		if ((r = strv_add_unique(&v, iface)) < 0)
			return r;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* /proc/mounts escapes blanks as \040. */
static void unescape_octal(char *s)
{
	char *o = s;

	for (char *i = s; *i; i++) {
		if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' && i[3] >= '0' && i[3] <= '7') {
			*o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
			i += 3;
		} else {
			*o++ = *i;
		}
	}
	*o = '\0';
}

/* "259:3" */
static int parse_devno(const char *s, unsigned *major, unsigned *minor)
{
	char maj[16];
	const char *colon = strchr(s, ':');
	uint64_t a, b;

	if (!colon || (size_t)(colon - s) >= sizeof(maj))
		return -EINVAL;
	snprintf(maj, sizeof(maj), "%.*s", (int)(colon - s), s);
	if (parse_u64_range(maj, 0, UINT_MAX, &a) < 0 || parse_u64_range(colon + 1, 0, UINT_MAX, &b) < 0)
		return -EINVAL;
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return 0;
}

static int parse_mount(const char *line, bool mountinfo, struct mount_entry *m)
{
	_cleanup_strv_free_ char **f = strv_split(line, " ");
	size_t n = strv_length(f), dash = 6;

	if (!f)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	if (!mountinfo) {
		/* SOURCE MOUNTPOINT FSTYPE OPTIONS FREQ PASSNO */
		if (n < 3)
			return -EINVAL;
		snprintf(m->source, sizeof(m->source), "%s", f[0]);
		snprintf(m->point, sizeof(m->point), "%s", f[1]);
		snprintf(m->fstype, sizeof(m->fstype), "%s", f[2]);
	} else {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS */
		while (dash < n && strcmp(f[dash], "-") != 0)
			dash++;
		if (n < 7 || dash + 2 >= n || parse_devno(f[2], &m->major, &m->minor) < 0)
			return -EINVAL;
		m->devno = true;
		snprintf(m->point, sizeof(m->point), "%s", f[4]);
		snprintf(m->fstype, sizeof(m->fstype), "%s", f[dash + 1]);
		snprintf(m->source, sizeof(m->source), "%s", f[dash + 2]);
	}
	unescape_octal(m->source);
	unescape_octal(m->point);
	return 0;
}

int mounts_find(const char *text, bool mountinfo, const char *path, bool containing, struct mount_entry *ret)
{
	_cleanup_strv_free_ char **lines = strv_split(text, "\n");
	size_t best = 0;
	int r = -ENOENT;

	if (!lines)
		return -ENOMEM;
	/* The last match wins: a later mount hides the earlier one. */
	for (char **l = lines; *l; l++) {
		struct mount_entry m;
		size_t ml;

		if (parse_mount(*l, mountinfo, &m) < 0)
			continue;
		ml = strlen(m.point);
		if (!containing && strcmp(m.point, path) != 0)
			continue;
		if (containing && (strncmp(path, m.point, ml) != 0 || (ml > 1 && path[ml] != '/' && path[ml]) || ml < best))
			continue;
		best = ml;
		*ret = m;
		r = 0;
	}
	return r;
}

int mounts_source(const char *text, const char *mountpoint, char *buf, size_t len)
{
	struct mount_entry m;
	int r = mounts_find(text, false, mountpoint, false, &m);

	if (r < 0)
		return r;
	return (size_t)snprintf(buf, len, "%s", m.source) < len ? 0 : -ENAMETOOLONG;
}

static int add_dep(struct hostdeps *d, const char *addr, const char *reason)
{
	struct hostdep *nv;

	if (hostdeps_reason(d, addr))
		return 0;
	nv = realloc(d->v, (d->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	d->v = nv;
	snprintf(nv[d->n].addr, sizeof(nv[d->n].addr), "%s", addr);
	snprintf(nv[d->n].reason, sizeof(nv[d->n].reason), "%s", reason);
	d->n++;
	return 0;
}

/* An interface and, through lower_* links and brif/, every interface under it. */
static int add_iface(const struct hostroot *hr, struct hostdeps *d, char ***seen, const char *ifname,
		     const char *top, int depth)
{
	_cleanup_strv_free_ char **entries = NULL, **ports = NULL;
	char target[4096], addr[PCI_ADDR_MAX], reason[256];
	int r;

	if (depth > MAX_DEPTH || !path_component_valid(ifname) || strv_contains(*seen, ifname))
		return 0;
	if ((r = strv_add_unique(seen, ifname)) < 0)
		return r;
	if (strcmp(ifname, top) == 0)
		snprintf(reason, sizeof(reason), "carries the default route (%s)", ifname);
	else
		snprintf(reason, sizeof(reason), "carries the default route (%s, under %s)", ifname, top);
	if (hr_readlink(hr, target, sizeof(target), false, "/sys/class/net/%s", ifname) == 0 &&
	    pci_addr_in_path(target, addr, sizeof(addr)) == 0 && (r = add_dep(d, addr, reason)) < 0)
		return r;
	if (hr_list(hr, &entries, "/sys/class/net/%s", ifname) == 0)
		for (char **e = entries; *e; e++)
			if (strncmp(*e, "lower_", 6) == 0 && (r = add_iface(hr, d, seen, *e + 6, top, depth + 1)) < 0)
				return r;
	if (hr_list(hr, &ports, "/sys/class/net/%s/brif", ifname) == 0)
		for (char **p = ports; *p; p++)
			if ((r = add_iface(hr, d, seen, *p, top, depth + 1)) < 0)
				return r;
	return 0;
}

/* On the real root every routing table over rtnetlink; under another root
 * (and when netlink fails) the files, which show the main table only. */
static int add_routes(const struct hostroot *hr, struct hostdeps *d)
{
	_cleanup_strv_free_ char **seen = calloc(1, sizeof(char *));
	const char *files[] = { "/proc/net/route", "/proc/net/ipv6_route" };
	int ret = 0, r;

	if (!seen)
		return -ENOMEM;
	if (hr->is_real) {
		_cleanup_strv_free_ char **ifaces = NULL, **unknown = NULL;

		r = route_nl_default_ifaces(&ifaces, &unknown);
		if (r == -ENOMEM)
			return r;
		if (r == 0) {
			for (char **u = unknown; *u; u++) {
				char line[256];

				snprintf(line, sizeof(line), "cannot tell which interface carries %s; that interface is "
					 "not protected", *u);
				RET_GATHER(ret, strv_add_unique(&d->warnings, line));
			}
			for (char **f = ifaces; *f; f++)
				RET_GATHER(ret, add_iface(hr, d, &seen, *f, *f, 0));
			return ret;
		}
		RET_GATHER(ret, strv_add_unique(&d->warnings, "reading the routing tables over rtnetlink failed: only "
					       "the main table (/proc/net/route) was read"));
	}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *text = NULL;
		_cleanup_strv_free_ char **ifaces = NULL;

		r = hr_read(hr, &text, "%s", files[i]);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			/* Not "no default route": the rail fails closed (hostdeps_refusal). */
			char line[256];

			snprintf(line, sizeof(line), "%s: %s", files[i], strerror(-r));
			RET_GATHER(ret, strv_add_unique(&d->unread_routes, line));
			continue;
		}
		r = i == 0 ? route_default_ifaces_v4(text, &ifaces) : route_default_ifaces_v6(text, &ifaces);
		if (r < 0)
			return r;
		for (char **f = ifaces; *f; f++)
			RET_GATHER(ret, add_iface(hr, d, &seen, *f, *f, 0));
	}
	return ret;
}

/* The /sys/block disk that is name or holds partition name. */
static int find_disk(const struct hostroot *hr, const char *name, char *disk, size_t len)
{
	_cleanup_strv_free_ char **disks = NULL;

	if (hr_exists(hr, "/sys/block/%s", name)) {
		snprintf(disk, len, "%s", name);
		return 0;
	}
	if (hr_list(hr, &disks, "/sys/block") < 0)
		return -ENOENT;
	for (char **k = disks; *k; k++)
		if (hr_exists(hr, "/sys/block/%s/%s/partition", *k, name)) {
			snprintf(disk, len, "%s", *k);
			return 0;
		}
	return -ENOENT;
}

/* The component of path before its last one: ".../nvme-subsys0/nvme0n1" → nvme-subsys0. */
static int parent_name(const char *path, char *buf, size_t len)
{
	const char *end = strrchr(path, '/'), *start;

	if (!end || end == path)
		return -ENOENT;
	for (start = end; start > path && start[-1] != '/'; start--)
		;
	return (size_t)snprintf(buf, len, "%.*s", (int)(end - start), start) < len ? 0 : -ENAMETOOLONG;
}

/* NVMe native multipath: the namespace sits under a virtual subsystem that
 * links every controller (PCI devices) reaching it. */
static int add_nvme_subsystem(const struct hostroot *hr, struct hostdeps *d, const char *target, const char *reason)
{
	_cleanup_strv_free_ char **entries = NULL;
	char subsys[256];
	int found = 0, r;

	if (parent_name(target, subsys, sizeof(subsys)) < 0 || !path_component_valid(subsys) ||
	    hr_list(hr, &entries, "/sys/class/nvme-subsystem/%s", subsys) < 0)
		return -ENOENT;
	for (char **e = entries; *e; e++) {
		char link[4096], addr[PCI_ADDR_MAX];
		uint64_t n;

		/* Controllers are nvmeN; the namespaces beside them are nvmeNnM. */
		if (strncmp(*e, "nvme", 4) != 0 || parse_u64_range(*e + 4, 0, UINT_MAX, &n) < 0 ||
		    hr_readlink(hr, link, sizeof(link), false, "/sys/class/nvme-subsystem/%s/%s", subsys, *e) < 0 ||
		    pci_addr_in_path(link, addr, sizeof(addr)) < 0)
			continue;
		if ((r = add_dep(d, addr, reason)) < 0)
			return r;
		found++;
	}
	return found ? 0 : -ENOENT;
}

/* A disk (or the disk of a partition) and, through slaves/, the disks under
 * device-mapper and md.  -ENOENT: no PCI device can be told. */
static int add_block(const struct hostroot *hr, struct hostdeps *d, const char *name, const char *reason, int depth)
{
	_cleanup_strv_free_ char **slaves = NULL;
	char disk[256], target[4096], addr[PCI_ADDR_MAX];
	int ret = 0;

	if (depth > MAX_DEPTH || !path_component_valid(name) || find_disk(hr, name, disk, sizeof(disk)) < 0)
		return -ENOENT;
	if (hr_list(hr, &slaves, "/sys/block/%s/slaves", disk) == 0 && slaves[0]) {
		for (char **s = slaves; *s; s++)
			RET_GATHER(ret, add_block(hr, d, *s, reason, depth + 1));
		return ret;
	}
	if (hr_readlink(hr, target, sizeof(target), false, "/sys/block/%s", disk) < 0)
		return -ENOENT;
	if (pci_addr_in_path(target, addr, sizeof(addr)) == 0)
		return add_dep(d, addr, reason);
	if (strstr(target, "/nvme-subsystem/"))
		return add_nvme_subsystem(hr, d, target, reason);
	/* Memory, not a device: nothing to protect. */
	if (strstr(target, "/devices/virtual/") && (strncmp(disk, "zram", 4) == 0 || strncmp(disk, "ram", 3) == 0))
		return 0;
	/* loop, nbd, iSCSI, Xen, Hyper-V...: what holds the data is no PCI
	 * device this can name. */
	return -ENOENT;
}

/* The kernel's own mapping of a device number: /sys/dev/block/MAJ:MIN. */
static int add_devno(const struct hostroot *hr, struct hostdeps *d, unsigned major, unsigned minor, const char *reason)
{
	char target[4096], name[256];
	const char *base;

	if (hr_readlink(hr, target, sizeof(target), false, "/sys/dev/block/%u:%u", major, minor) < 0)
		return -ENOENT;
	base = strrchr(target, '/');
	if ((size_t)snprintf(name, sizeof(name), "%s", base ? base + 1 : target) >= sizeof(name))
		return -ENOENT;
	if (hr_exists(hr, "/sys/dev/block/%u:%u/partition", major, minor) && parent_name(target, name, sizeof(name)) < 0)
		return -ENOENT;
	return add_block(hr, d, name, reason, 0);
}

/* /dev/mapper/vg-root → ../dm-0 → dm-0; /dev/sda1 → sda1.  Links in /dev
 * point at the nodes in /dev itself. */
static int block_name(const struct hostroot *hr, const char *dev, char *buf, size_t len)
{
	char path[512], target[512];
	const char *base;

	if ((size_t)snprintf(path, sizeof(path), "%s", dev) >= sizeof(path))
		return -ENAMETOOLONG;
	for (int i = 0; i < MAX_DEPTH && hr_readlink(hr, target, sizeof(target), true, "%s", path) == 0; i++)
		if ((size_t)snprintf(path, sizeof(path), "/dev/%s", target) >= sizeof(path))
			break;
	base = strrchr(path, '/');
	return (size_t)snprintf(buf, len, "%s", base ? base + 1 : path) < len ? 0 : -ENAMETOOLONG;
}

/* File systems with no local device behind them. */
static bool no_local_device(const char *fstype)
{
	static const char *const types[] = { "tmpfs", "ramfs", "rootfs", "nfs", "nfs4", "cifs", "smb3", "ceph",
					     "glusterfs", "lustre", "afs", NULL };

	return str_in(fstype, types);
}

/* The PCI devices behind a mount: by its device number (the kernel's own
 * mapping), else by its source's name under /dev.  What cannot be traced is
 * listed in unresolved. */
static int add_mount(const struct hostroot *hr, struct hostdeps *d, const struct mount_entry *m, const char *what)
{
	char name[256], reason[1100], item[1400];
	int r = -ENOENT;

	if (no_local_device(m->fstype))
		return 0;
	snprintf(reason, sizeof(reason), "holds %s (%s)", what, m->source);
	if (m->devno && m->major != 0)
		r = add_devno(hr, d, m->major, m->minor, reason);
	if (r == -ENOENT && strncmp(m->source, "/dev/", 5) == 0 && block_name(hr, m->source, name, sizeof(name)) == 0)
		r = add_block(hr, d, name, reason, 0);
	if (r == -ENOENT || r == -ENAMETOOLONG) {
		if (m->fstype[0])
			snprintf(item, sizeof(item), "%s (%s, %s)", what, m->source, m->fstype);
		else
			snprintf(item, sizeof(item), "%s (%s)", what, m->source);
		return strv_add_unique(&d->unresolved, item);
	}
	return r;
}

static int add_storage(const struct hostroot *hr, struct hostdeps *d)
{
	_cleanup_free_ char *mounts = NULL, *swaps = NULL;
	_cleanup_strv_free_ char **lines = NULL;
	const char *points[] = { "/", "/boot", "/boot/efi" };
	struct mount_entry m;
	bool info = hr_read(hr, &mounts, "/proc/self/mountinfo") == 0;
	int ret = 0, r;

	if (!info && hr_read(hr, &mounts, "/proc/mounts") < 0)
		return strv_add_unique(&d->unresolved, "/ (no /proc/self/mountinfo or /proc/mounts)");
	for (size_t i = 0; i < ARRAY_SIZE(points); i++)
		if (mounts_find(mounts, info, points[i], false, &m) == 0)
			RET_GATHER(ret, add_mount(hr, d, &m, points[i]));
	r = hr_read(hr, &swaps, "/proc/swaps");
	if (r < 0 && r != -ENOENT) {
		char item[128];

		snprintf(item, sizeof(item), "swap (/proc/swaps: %s)", strerror(-r));
		return strv_add_unique(&d->unresolved, item);
	}
	if (r < 0 || !(lines = strv_split(swaps, "\n")))
		return ret;
	for (char **l = lines; *l; l++) {
		char file[1024], type[32];

		if (l == lines || sscanf(*l, "%1023s %31s", file, type) != 2)
			continue;   /* the header */
		unescape_octal(file);
		if (strcmp(type, "partition") == 0) {
			struct mount_entry part = { .fstype = "" };

			snprintf(part.source, sizeof(part.source), "%s", file);
			RET_GATHER(ret, add_mount(hr, d, &part, "swap"));
		} else if (mounts_find(mounts, info, file, true, &m) == 0) {
			RET_GATHER(ret, add_mount(hr, d, &m, "swap"));
		} else {
			RET_GATHER(ret, strv_add_unique(&d->unresolved, "swap (a file on no known mount)"));
		}
	}
	return ret;
}

int hostdeps_collect(const struct hostroot *hr, struct hostdeps *ret)
{
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	ret->unresolved = calloc(1, sizeof(char *));
	ret->unread_routes = calloc(1, sizeof(char *));
	ret->warnings = calloc(1, sizeof(char *));
	if (!ret->unresolved || !ret->unread_routes || !ret->warnings) {
		hostdeps_free(ret);
		return -ENOMEM;
	}
	RET_GATHER(r, add_routes(hr, ret));
	RET_GATHER(r, add_storage(hr, ret));
	if (r == -ENOMEM) {
		hostdeps_free(ret);
		return r;
	}
	return 0;
}

void hostdeps_free(struct hostdeps *d)
{
	free(d->v);
	strv_free(d->unresolved);
	strv_free(d->unread_routes);
	strv_free(d->warnings);
	memset(d, 0, sizeof(*d));
}

const char *hostdeps_reason(const struct hostdeps *d, const char *addr)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].addr, addr) == 0)
			return d->v[i].reason;
	return NULL;
}

long hostdeps_pci_class(const struct hostroot *hr, const char *addr)
{
	char c[32], *end;
	long v;
	int r;

	if (!path_component_valid(addr))
		return -EINVAL;
	r = hr_read_line(hr, c, sizeof(c), "/sys/bus/pci/devices/%s/class", addr);
	if (r < 0)
		return r;
	v = strtol(c, &end, 16);
	return end == c || v < 0 ? -EINVAL : v >> 8;
}

/* PREFIX ITEM, ITEM SUFFIX into buf. */
static const char *list_refusal(char *buf, size_t len, const char *prefix, char *const *items, const char *suffix)
{
	size_t off = (size_t)snprintf(buf, len, "%s", prefix);

	for (char *const *u = items; *u && off < len; u++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", u == items ? "" : ", ", *u);
	if (off < len)
		snprintf(buf + off, len - off, "%s", suffix);
	return buf;
}

const char *hostdeps_refusal(const struct hostdeps *d, const char *addr, long class, char *buf, size_t len)
{
	const char *reason = hostdeps_reason(d, addr);
	bool storage = d->unresolved && d->unresolved[0], routes = d->unread_routes && d->unread_routes[0];

	if (reason || class < 0 || (!storage && !routes))
		return reason;
	if (storage && class >> 8 == 0x01)
		return list_refusal(buf, len, "is a mass-storage controller, and the host's ", d->unresolved,
				    " cannot be traced to a PCI device, so every mass-storage controller may hold it");
	if (routes && class >> 8 == 0x02)
		return list_refusal(buf, len, "is a network controller, and the host's default routes cannot be read (",
				    d->unread_routes, "), so any network controller may carry one");
	return NULL;
}

const char *hostdeps_never_bind(long class, char *buf, size_t len)
{
	/* Unknown is not "no bridge". */
	if (class < 0 && class != -ENOENT) {
		snprintf(buf, len, "cannot read its PCI class: %s", strerror((int)-class));
		return buf;
	}
	if (class != 0x0600 && class != 0x0601)
		return NULL;
	snprintf(buf, len, "it is %s (class %04lx): never bound to vfio-pci, not even with force = yes",
		 class == 0x0600 ? "a host bridge" : "an ISA/LPC bridge", class);
	return buf;
}
