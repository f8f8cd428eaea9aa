/* PCI devices the host itself depends on: the ones behind the interfaces that
 * carry a default route (with the lowers of bonds, bridges and VLANs) and
 * behind the block devices of /, /boot, /boot/efi and active swap.  Read
 * from files, so they follow --root. */
#ifndef HOSTPREP_HOSTDEPS_H
#define HOSTPREP_HOSTDEPS_H

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
	char **unresolved;        /* what could not be traced to a device (strv) */
};

int hostdeps_collect(const struct hostroot *hr, struct hostdeps *ret);
void hostdeps_free(struct hostdeps *d);
/* Why the host needs addr, or NULL. */
const char *hostdeps_reason(const struct hostdeps *d, const char *addr);

/* Pure parsers (exported for the unit tests): interfaces with a default
 * route in /proc/net/route and /proc/net/ipv6_route text (strv). */
int route_default_ifaces_v4(const char *text, char ***ret);
int route_default_ifaces_v6(const char *text, char ***ret);
/* Mount source of a mount point in /proc/mounts text; -ENOENT when not mounted. */
int mounts_source(const char *text, const char *mountpoint, char *buf, size_t len);

#endif
