/* PCI devices the host itself depends on: the ones behind the interfaces that
 * carry a default route in any routing table (rtnetlink on the real root,
 * /proc/net/route and ipv6_route under --root; with the lowers of bonds,
 * bridges and VLANs) and
 * behind the block devices of /, /boot, /boot/efi and active swap (by their
 * device numbers in /proc/self/mountinfo through /sys/dev/block, and through
 * device-mapper and md slaves).  Read from files, so they follow --root.
 * What cannot be traced fails closed: every mass-storage controller counts
 * as a dependency then. */
#ifndef HOSTPREP_HOSTDEPS_H
#define HOSTPREP_HOSTDEPS_H

#include <stdbool.h>
#include <stddef.h>

#include "pci.h"

struct hostroot;

struct hostdep {
	char addr[PCI_ADDR_MAX];
	char reason[256];         /* "carries the default route (eth0 under bond0)" */
};

struct hostdeps {
	struct hostdep *v;
	size_t n;
	char **unresolved;        /* storage that could not be traced to a device (strv) */
	char **unread_routes;     /* route files that could not be read: "FILE: error" (strv) */
	char **warnings;          /* about routes that could not be read or traced (strv) */
};

int hostdeps_collect(const struct hostroot *hr, struct hostdeps *ret);
void hostdeps_free(struct hostdeps *d);
/* Why the host needs addr, or NULL. */
const char *hostdeps_reason(const struct hostdeps *d, const char *addr);
/* A device's PCI base class and subclass (0x0108 NVMe) from sysfs, or -errno. */
long hostdeps_pci_class(const struct hostroot *hr, const char *addr);
/* The same as hostdeps_reason, or when some storage could not be traced and
 * addr (of class, as above; negative: unknown) is a mass-storage controller
 * (base class 01), or the routes could not be read and addr is a network
 * controller (02), why that refuses it (in buf). */
const char *hostdeps_refusal(const struct hostdeps *d, const char *addr, long class, char *buf, size_t len);
/* Why a device of class is never to leave its host driver, not even with
 * force: host bridges and ISA/LPC bridges (0600, 0601), and a class that
 * could not be read (-errno other than -ENOENT).  NULL otherwise. */
const char *hostdeps_never_bind(long class, char *buf, size_t len);

/* Pure parsers (exported for the unit tests): interfaces with a default
 * route in /proc/net/route and /proc/net/ipv6_route text (strv). */
int route_default_ifaces_v4(const char *text, char ***ret);
int route_default_ifaces_v6(const char *text, char ***ret);
/* Mount source of a mount point in /proc/mounts text; -ENOENT when not mounted. */
int mounts_source(const char *text, const char *mountpoint, char *buf, size_t len);

struct mount_entry {
	char source[1024], point[1024], fstype[64];
	unsigned major, minor;
	bool devno;               /* major:minor known (mountinfo) */
};
/* The mount at path (the last one: it hides the earlier ones) in
 * /proc/self/mountinfo text (mountinfo) or /proc/mounts text; with
 * containing, the mount that holds the path (the longest mount point that
 * prefixes it).  -ENOENT when none. */
int mounts_find(const char *text, bool mountinfo, const char *path, bool containing, struct mount_entry *ret);

#endif
