#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hostroot.h"
#include "macro.h"
#include "route-nl.h"

static void nl_socket_freep(struct nl_sock **sk) { if (*sk) nl_socket_free(*sk); }
static void nl_cache_freep(struct nl_cache **c) { if (*c) nl_cache_free(*c); }

static int push_unique(char ***v, const char *s)
{
	size_t n = strv_length(*v);

	for (size_t i = 0; i < n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	return strv_push(v, &n, strdup(s));
}

struct walk {
	char ***ifaces, ***unknown;
	int err;
};

static void on_route(struct nl_object *obj, void *data)
{
	struct rtnl_route *route = (struct rtnl_route *)obj;
	struct walk *w = data;
	struct nl_addr *dst = rtnl_route_get_dst(route);
	int n = rtnl_route_get_nnexthops(route), found = 0;
	uint8_t family = rtnl_route_get_family(route);

	/* Unicast defaults only: blackhole, unreachable and prohibit carry nothing. */
	if ((family != AF_INET && family != AF_INET6) || rtnl_route_get_type(route) != RTN_UNICAST ||
	    (dst && nl_addr_get_prefixlen(dst) != 0) || w->err < 0)
		return;
	for (int i = 0; i < n; i++) {
		char name[IF_NAMESIZE];
		int ifindex = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, i));
		int r;

		if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, name))
			continue;
		found++;
		if (strcmp(name, "lo") != 0 && (r = push_unique(w->ifaces, name)) < 0)
			w->err = r;
	}
	if (!found) {
		char line[128];
		int r;

		snprintf(line, sizeof(line), "an IPv%c default route in table %u", family == AF_INET ? '4' : '6',
			 rtnl_route_get_table(route));
		if ((r = push_unique(w->unknown, line)) < 0)
			w->err = r;
	}
}

int route_nl_default_ifaces(char ***ret, char ***unknown)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	_cleanup_strv_free_ char **ifaces = NULL, **unk = NULL;
	struct walk w = { &ifaces, &unk, 0 };
	int r = libnl_route_open();

	if (r < 0)
		return r;
	sk = nl_socket_alloc();
	ifaces = calloc(1, sizeof(char *));
	unk = calloc(1, sizeof(char *));
	if (!sk || !ifaces || !unk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0)
		return -ENOTCONN;
	/* A dump with no table filter: every table, VRFs included. */
	r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
	if (r < 0)
		return r == -NLE_NOMEM ? -ENOMEM : -EIO;
	nl_cache_foreach(cache, on_route, &w);
	if (w.err < 0)
		return w.err;
	*ret = TAKE_PTR(ifaces);
	*unknown = TAKE_PTR(unk);
	return 0;
}
