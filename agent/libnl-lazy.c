/* libnl, loaded on first use.  libnl-3, libnl-genl-3 and libnl-route-3 were
 * 0.5 MiB of resident memory and their relocations in every run, while only
 * the real root's default routes (route-nl.c) and vDPA devices (vdpa-nl.c)
 * use them, never under --root.  The binary is not linked with libnl: these
 * functions stand for the libnl calls those two files make, and the first one
 * dlopen()s libnl-3 and the library of its family.  libnl_route_open() and
 * libnl_genl_open() load them ahead, so that a caller can tell "no libnl"
 * from a netlink error.  (test-vdpa-nl, which calls libnl itself, links
 * libnl as well: see the Makefile.) */
#include <dlfcn.h>
#include <errno.h>
#include <netlink/cache.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lazy.h"
#include "log.h"
#include "route-nl.h"
#include "vdpa-nl.h"

enum { CORE, GENL, ROUTE };

/* RTLD_LOCAL is enough: libnl-genl-3 and libnl-route-3 name libnl-3 as a
 * dependency (DT_NEEDED), so the loader binds their libnl-3 calls within
 * their own dependency tree (to the copy already loaded, whatever its flags),
 * and a handle's dlsym() finds its library's symbols.  Nothing else needs
 * libnl's names in the global scope, where they could interpose on or be
 * interposed by what is loaded later.  libnl-3 is opened first, on its own
 * handle, for the core functions. */
static const char *const sonames[] = {
	[CORE] = "libnl-3.so.200",
	[GENL] = "libnl-genl-3.so.200",
	[ROUTE] = "libnl-route-3.so.200",
};
static void *libs[3];

static int open_one(int which)
{
	static bool failed[3];

	if (libs[which])
		return 0;
	if (failed[which])
		return -ELIBACC;
	libs[which] = dlopen(sonames[which], RTLD_NOW | RTLD_LOCAL);
	if (!libs[which]) {
		failed[which] = true;
		log_error("loading %s: %s", sonames[which], dlerror());
		return -ELIBACC;
	}
	return 0;
}

/* libnl-3, then the family's library (CORE alone for a core function). */
static int open_lib(int which)
{
	int r = open_one(CORE);

	return r == 0 && which != CORE ? open_one(which) : r;
}

int libnl_genl_open(void)
{
	return open_lib(GENL);
}

int libnl_route_open(void)
{
	return open_lib(ROUTE);
}

static void *sym(int which, const char *name)
{
	void *f = open_lib(which) == 0 ? dlsym(libs[which], name) : NULL;

	if (libs[which] && !f)
		log_error("%s has no %s", sonames[which], name);
	return f;
}

static void *sym_CORE(const char *name) { return sym(CORE, name); }
static void *sym_GENL(const char *name) { return sym(GENL, name); }
static void *sym_ROUTE(const char *name) { return sym(ROUTE, name); }

/* The real function, looked up once in its library, or the value libnl
 * returns for a failure. */
#define FORWARD(which, ...) LAZY_FORWARD(sym_##which, __VA_ARGS__)
#define FORWARD_VOID(which, ...) LAZY_FORWARD_VOID(sym_##which, __VA_ARGS__)

/* libnl-3: sockets, callbacks, messages, attributes, caches, addresses. */
FORWARD(CORE, struct nl_sock *, nl_socket_alloc, (void), (), NULL)
FORWARD_VOID(CORE, nl_socket_free, (struct nl_sock *sk), (sk))
FORWARD(CORE, int, nl_socket_get_fd, (const struct nl_sock *sk), (sk), -1)
FORWARD(CORE, int, nl_connect, (struct nl_sock *sk, int protocol), (sk, protocol), -NLE_FAILURE)
FORWARD(CORE, int, nl_send_auto, (struct nl_sock *sk, struct nl_msg *msg), (sk, msg), -NLE_FAILURE)
FORWARD(CORE, int, nl_recvmsgs, (struct nl_sock *sk, struct nl_cb *cb), (sk, cb), -NLE_FAILURE)
FORWARD(CORE, struct nl_cb *, nl_cb_alloc, (enum nl_cb_kind kind), (kind), NULL)
FORWARD(CORE, int, nl_cb_set,
	(struct nl_cb *cb, enum nl_cb_type type, enum nl_cb_kind kind, nl_recvmsg_msg_cb_t func, void *arg),
	(cb, type, kind, func, arg), -NLE_FAILURE)
FORWARD(CORE, int, nl_cb_err, (struct nl_cb *cb, enum nl_cb_kind kind, nl_recvmsg_err_cb_t func, void *arg),
	(cb, kind, func, arg), -NLE_FAILURE)
FORWARD_VOID(CORE, nl_cb_put, (struct nl_cb *cb), (cb))
FORWARD(CORE, struct nl_msg *, nlmsg_alloc, (void), (), NULL)
FORWARD_VOID(CORE, nlmsg_free, (struct nl_msg *msg), (msg))
FORWARD(CORE, struct nlmsghdr *, nlmsg_hdr, (struct nl_msg *msg), (msg), NULL)
FORWARD(CORE, int, nla_parse,
	(struct nlattr **tb, int maxtype, struct nlattr *head, int len, const struct nla_policy *policy),
	(tb, maxtype, head, len, policy), -NLE_FAILURE)
FORWARD(CORE, void *, nla_data, (const struct nlattr *nla), (nla), NULL)
FORWARD(CORE, uint16_t, nla_get_u16, (const struct nlattr *nla), (nla), 0)
FORWARD(CORE, uint32_t, nla_get_u32, (const struct nlattr *nla), (nla), 0)
FORWARD(CORE, uint64_t, nla_get_u64, (const struct nlattr *nla), (nla), 0)
FORWARD(CORE, int, nla_put, (struct nl_msg *msg, int attrtype, int datalen, const void *data),
	(msg, attrtype, datalen, data), -NLE_FAILURE)
FORWARD(CORE, int, nla_put_string, (struct nl_msg *msg, int attrtype, const char *str), (msg, attrtype, str),
	-NLE_FAILURE)
FORWARD(CORE, int, nla_put_u16, (struct nl_msg *msg, int attrtype, uint16_t value), (msg, attrtype, value),
	-NLE_FAILURE)
FORWARD_VOID(CORE, nl_cache_foreach, (struct nl_cache *cache, void (*cb)(struct nl_object *obj, void *arg), void *arg),
	     (cache, cb, arg))
FORWARD_VOID(CORE, nl_cache_free, (struct nl_cache *cache), (cache))
FORWARD(CORE, unsigned int, nl_addr_get_prefixlen, (const struct nl_addr *addr), (addr), 0)

/* libnl-genl-3: the vdpa family (vdpa-nl.c). */
FORWARD(GENL, int, genl_connect, (struct nl_sock *sk), (sk), -NLE_FAILURE)
FORWARD(GENL, int, genl_ctrl_resolve, (struct nl_sock *sk, const char *name), (sk, name), -NLE_FAILURE)
FORWARD(GENL, void *, genlmsg_put,
	(struct nl_msg *msg, uint32_t port, uint32_t seq, int family, int hdrlen, int flags, uint8_t cmd,
	 uint8_t version),
	(msg, port, seq, family, hdrlen, flags, cmd, version), NULL)
FORWARD(GENL, int, genlmsg_parse,
	(struct nlmsghdr *nlh, int hdrlen, struct nlattr **tb, int maxtype, const struct nla_policy *policy),
	(nlh, hdrlen, tb, maxtype, policy), -NLE_FAILURE)

/* libnl-route-3: default routes (route-nl.c). */
FORWARD(ROUTE, int, rtnl_route_alloc_cache, (struct nl_sock *sk, int family, int flags, struct nl_cache **result),
	(sk, family, flags, result), -NLE_FAILURE)
FORWARD(ROUTE, struct nl_addr *, rtnl_route_get_dst, (struct rtnl_route *route), (route), NULL)
FORWARD(ROUTE, uint8_t, rtnl_route_get_family, (struct rtnl_route *route), (route), AF_UNSPEC)
FORWARD(ROUTE, uint8_t, rtnl_route_get_type, (struct rtnl_route *route), (route), 0)
FORWARD(ROUTE, uint32_t, rtnl_route_get_table, (struct rtnl_route *route), (route), 0)
FORWARD(ROUTE, int, rtnl_route_get_nnexthops, (struct rtnl_route *route), (route), 0)
FORWARD(ROUTE, struct rtnl_nexthop *, rtnl_route_nexthop_n, (struct rtnl_route *route, int n), (route, n), NULL)
FORWARD(ROUTE, int, rtnl_route_nh_get_ifindex, (struct rtnl_nexthop *nh), (nh), 0)
