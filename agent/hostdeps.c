#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdeps.h"
#include "hostroot.h"
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

int mounts_source(const char *text, const char *mountpoint, char *buf, size_t len)
{
	_cleanup_strv_free_ char **lines = strv_split(text, "\n");
	int r = -ENOENT;

	if (!lines)
		return -ENOMEM;
	/* The last match wins: a later mount hides the earlier one. */
	for (char **l = lines; *l; l++) {
		char src[1024], mnt[1024];

		if (sscanf(*l, "%1023s %1023s", src, mnt) != 2)
			continue;
		unescape_octal(src);
		unescape_octal(mnt);
		if (strcmp(mnt, mountpoint) != 0)
			continue;
		r = (size_t)snprintf(buf, len, "%s", src) < len ? 0 : -ENAMETOOLONG;
	}
	return r;
}

/* The mount point that holds path: the longest mount point prefix. */
static int mount_of_file(const char *mounts, const char *path, char *src, size_t len)
{
	_cleanup_strv_free_ char **lines = strv_split(mounts, "\n");
	size_t best = 0;
	int r = -ENOENT;

	if (!lines)
		return -ENOMEM;
	for (char **l = lines; *l; l++) {
		char s[1024], m[1024];
		size_t ml;

		if (sscanf(*l, "%1023s %1023s", s, m) != 2)
			continue;
		unescape_octal(s);
		unescape_octal(m);
		ml = strlen(m);
		if (strncmp(path, m, ml) != 0 || (ml > 1 && path[ml] != '/') || ml < best)
			continue;
		best = ml;
		r = (size_t)snprintf(src, len, "%s", s) < len ? 0 : -ENAMETOOLONG;
	}
	return r;
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

static int add_routes(const struct hostroot *hr, struct hostdeps *d)
{
	_cleanup_strv_free_ char **seen = calloc(1, sizeof(char *));
	const char *files[] = { "/proc/net/route", "/proc/net/ipv6_route" };
	int ret = 0;

	if (!seen)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *text = NULL;
		_cleanup_strv_free_ char **ifaces = NULL;
		int r;

		if (hr_read(hr, &text, "%s", files[i]) < 0)
			continue;
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

static int add_block(const struct hostroot *hr, struct hostdeps *d, const char *name, const char *reason, int depth)
{
	_cleanup_strv_free_ char **slaves = NULL;
	char disk[256], target[4096], addr[PCI_ADDR_MAX];
	int ret = 0;

	if (depth > MAX_DEPTH || !path_component_valid(name) || find_disk(hr, name, disk, sizeof(disk)) < 0)
		return -ENOENT;
	/* device-mapper, md: the devices under it. */
	if (hr_list(hr, &slaves, "/sys/block/%s/slaves", disk) == 0 && slaves[0]) {
		for (char **s = slaves; *s; s++)
			RET_GATHER(ret, add_block(hr, d, *s, reason, depth + 1));
		return ret;
	}
	if (hr_readlink(hr, target, sizeof(target), false, "/sys/block/%s", disk) < 0)
		return -ENOENT;
	if (pci_addr_in_path(target, addr, sizeof(addr)) < 0)
		return 0;   /* loop, ram, zram: no PCI device behind it */
	return add_dep(d, addr, reason);
}

/* /dev/mapper/vg-root → ../dm-0 → dm-0; /dev/sda1 → sda1.  Links in /dev
 * point at the nodes in /dev itself. */
static int block_name(const struct hostroot *hr, const char *dev, char *buf, size_t len)
{
	char path[512], target[512];
	const char *base;

	snprintf(path, sizeof(path), "%s", dev);
	for (int i = 0; i < MAX_DEPTH && hr_readlink(hr, target, sizeof(target), true, "%s", path) == 0; i++)
		if ((size_t)snprintf(path, sizeof(path), "/dev/%s", target) >= sizeof(path))
			break;
	base = strrchr(path, '/');
	return (size_t)snprintf(buf, len, "%s", base ? base + 1 : path) < len ? 0 : -ENAMETOOLONG;
}

static int add_source(const struct hostroot *hr, struct hostdeps *d, const char *src, const char *what)
{
	char name[256], reason[256], item[512];
	int r;

	if (strncmp(src, "/dev/", 5) != 0)
		return 0;   /* tmpfs, nfs, ...: nothing local */
	snprintf(reason, sizeof(reason), "holds %s (%s)", what, src);
	r = block_name(hr, src, name, sizeof(name));
	if (r == 0)
		r = add_block(hr, d, name, reason, 0);
	if (r == -ENOENT || r == -ENAMETOOLONG) {
		snprintf(item, sizeof(item), "%s on %s", what, src);
		return strv_add_unique(&d->unresolved, item);
	}
	return r;
}

static int add_storage(const struct hostroot *hr, struct hostdeps *d)
{
	_cleanup_free_ char *mounts = NULL, *swaps = NULL;
	_cleanup_strv_free_ char **lines = NULL;
	const char *points[] = { "/", "/boot", "/boot/efi" };
	char src[1024];
	int ret = 0;

	if (hr_read(hr, &mounts, "/proc/mounts") == 0)
		for (size_t i = 0; i < ARRAY_SIZE(points); i++)
			if (mounts_source(mounts, points[i], src, sizeof(src)) == 0)
				RET_GATHER(ret, add_source(hr, d, src, points[i]));
	if (hr_read(hr, &swaps, "/proc/swaps") < 0 || !(lines = strv_split(swaps, "\n")))
		return ret;
	for (char **l = lines; *l; l++) {
		char file[1024], type[32];

		if (l == lines || sscanf(*l, "%1023s %31s", file, type) != 2)
			continue;   /* the header */
		unescape_octal(file);
		if (strcmp(type, "partition") == 0)
			RET_GATHER(ret, add_source(hr, d, file, "swap"));
		else if (mounts && mount_of_file(mounts, file, src, sizeof(src)) == 0)
			RET_GATHER(ret, add_source(hr, d, src, "swap"));
	}
	return ret;
}

int hostdeps_collect(const struct hostroot *hr, struct hostdeps *ret)
{
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	ret->unresolved = calloc(1, sizeof(char *));
	if (!ret->unresolved)
		return -ENOMEM;
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
	memset(d, 0, sizeof(*d));
}

const char *hostdeps_reason(const struct hostdeps *d, const char *addr)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].addr, addr) == 0)
			return d->v[i].reason;
	return NULL;
}
