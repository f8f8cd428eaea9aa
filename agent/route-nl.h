/* Default routes of every routing table over rtnetlink (libnl-route-3):
 * /proc/net/route shows the main table only, so a management default route
 * in another table or a VRF would be invisible there. */
#ifndef HOSTPREP_ROUTE_NL_H
#define HOSTPREP_ROUTE_NL_H

/* The interfaces that carry a unicast IPv4 or IPv6 default route, in any
 * table (strv, each once).  *unknown (strv) gets a line for each default
 * route whose outgoing interface cannot be told.  0 or -errno (netlink
 * unavailable, -ELIBACC without libnl). */
int route_nl_default_ifaces(char ***ret, char ***unknown);

/* Loads libnl-3 and libnl-route-3 now (agent/libnl-lazy.c: they are
 * otherwise loaded on first use): 0, or -ELIBACC when they cannot be. */
int libnl_route_open(void);

#endif
