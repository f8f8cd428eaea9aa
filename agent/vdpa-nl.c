#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "macro.h"
#include "pci.h"
#include "vdpa-nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Every reply wait is bounded by the socket's receive timeout. */
#define VDPA_NL_TIMEOUT_SEC 10

struct vdpa_nl {
	struct nl_sock *sk;
	int family;
	char extack[256];
};

/* The kernel's table (drivers/vdpa/vdpa.c) plus what its replies carry;
 * string maxlen includes the NUL, so a valid name always fits our buffers. */
const struct nla_policy vdpa_nl_policy[VDPA_ATTR_MAX + 1] = {
	[VDPA_ATTR_MGMTDEV_BUS_NAME] = { .type = NLA_STRING, .maxlen = VDPA_BUS_MAX },
	[VDPA_ATTR_MGMTDEV_DEV_NAME] = { .type = NLA_STRING, .maxlen = VDPA_NAME_MAX },
	[VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES] = { .type = NLA_U64 },
	[VDPA_ATTR_DEV_NAME] = { .type = NLA_STRING, .maxlen = VDPA_NAME_MAX },
	[VDPA_ATTR_DEV_ID] = { .type = NLA_U32 },
	[VDPA_ATTR_DEV_VENDOR_ID] = { .type = NLA_U32 },
	[VDPA_ATTR_DEV_MAX_VQS] = { .type = NLA_U32 },
	[VDPA_ATTR_DEV_MAX_VQ_SIZE] = { .type = NLA_U16 },
	[VDPA_ATTR_DEV_MIN_VQ_SIZE] = { .type = NLA_U16 },
	[VDPA_ATTR_DEV_NET_CFG_MACADDR] = { .type = NLA_UNSPEC, .minlen = 6, .maxlen = 6 },
	[VDPA_ATTR_DEV_NET_CFG_MAX_VQP] = { .type = NLA_U16 },
	[VDPA_ATTR_DEV_NET_CFG_MTU] = { .type = NLA_U16 },
	[VDPA_ATTR_DEV_NEGOTIATED_FEATURES] = { .type = NLA_U64 },
	[VDPA_ATTR_DEV_MGMTDEV_MAX_VQS] = { .type = NLA_U32 },
	[VDPA_ATTR_DEV_SUPPORTED_FEATURES] = { .type = NLA_U64 },
	[VDPA_ATTR_DEV_FEATURES] = { .type = NLA_U64 },
};

static int nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_AGAIN: return -ETIMEDOUT;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_MSGSIZE: return -EMSGSIZE;
	default: return -EIO;
	}
}

void vdpa_handle_format(const char *bus, const char *name, char *buf, size_t len)
{
	if (bus && *bus)
		snprintf(buf, len, "%s/%s", bus, name);
	else
		snprintf(buf, len, "%s", name);
}

static bool all_chars(const char *s, const char *extra, bool lower_only)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(lower_only ? (islower((unsigned char)*s) || isdigit((unsigned char)*s)) : isalnum((unsigned char)*s)) &&
		    !strchr(extra, *s))
			return false;
	return true;
}

int vdpa_handle_parse(const char *s, char bus[VDPA_BUS_MAX], char name[VDPA_NAME_MAX])
{
	const char *slash = strchr(s, '/');

	if (slash) {
		if ((size_t)(slash - s) >= VDPA_BUS_MAX)
			return -EINVAL;
		snprintf(bus, VDPA_BUS_MAX, "%.*s", (int)(slash - s), s);
		if (!all_chars(bus, "_-", true))
			return -EINVAL;
		if (strcmp(bus, "pci") == 0)
			return pci_addr_parse(slash + 1, name, VDPA_NAME_MAX);
		if (strlen(slash + 1) >= VDPA_NAME_MAX || !all_chars(slash + 1, "_.:-", false))
			return -EINVAL;
		snprintf(name, VDPA_NAME_MAX, "%s", slash + 1);
		return 0;
	}
	if (strchr(s, ':')) {
		snprintf(bus, VDPA_BUS_MAX, "pci");
		return pci_addr_parse(s, name, VDPA_NAME_MAX);
	}
	if (strlen(s) >= VDPA_NAME_MAX || !all_chars(s, "_.-", false) || s[0] == '.' || s[0] == '-')
		return -EINVAL;
	bus[0] = '\0';
	snprintf(name, VDPA_NAME_MAX, "%s", s);
	return 0;
}

int mac_parse(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++, s += 3) {
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) || s[2] != (i < 5 ? ':' : '\0'))
			return -EINVAL;
		mac[i] = (uint8_t)strtoul((char[]){ s[0], s[1], '\0' }, NULL, 16);
	}
	return 0;
}

void mac_format(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* Messages ------------------------------------------------------------- */

struct nl_msg *vdpa_msg_new(int family, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd, VDPA_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int vdpa_msg_put_request(struct nl_msg *msg, const struct vdpa_dev_request *req)
{
	if (!req->name || !req->mgmt_name)
		return -EINVAL;
	if ((req->mgmt_bus && *req->mgmt_bus && nla_put_string(msg, VDPA_ATTR_MGMTDEV_BUS_NAME, req->mgmt_bus) < 0) ||
	    nla_put_string(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, req->mgmt_name) < 0 ||
	    nla_put_string(msg, VDPA_ATTR_DEV_NAME, req->name) < 0 ||
	    (req->has_mac && nla_put(msg, VDPA_ATTR_DEV_NET_CFG_MACADDR, 6, req->mac) < 0) ||
	    (req->has_mtu && nla_put_u16(msg, VDPA_ATTR_DEV_NET_CFG_MTU, req->mtu) < 0) ||
	    (req->has_max_vqp && nla_put_u16(msg, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, req->max_vqp) < 0))
		return -EMSGSIZE;
	return 0;
}

static int parse_attrs(struct nl_msg *msg, struct nlattr **tb)
{
	return genlmsg_parse(nlmsg_hdr(msg), 0, tb, VDPA_ATTR_MAX, vdpa_nl_policy) < 0
	       ? -EBADMSG : 0;
}

static void copy_str(char *dst, size_t len, const struct nlattr *a)
{
	snprintf(dst, len, "%s", a ? (const char *)nla_data(a) : "");
}

int vdpa_parse_mgmtdev(struct nl_msg *msg, struct vdpa_mgmtdev *ret)
{
	struct nlattr *tb[VDPA_ATTR_MAX + 1];

	if (parse_attrs(msg, tb) < 0 || !tb[VDPA_ATTR_MGMTDEV_DEV_NAME])
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	copy_str(ret->bus, sizeof(ret->bus), tb[VDPA_ATTR_MGMTDEV_BUS_NAME]);
	copy_str(ret->name, sizeof(ret->name), tb[VDPA_ATTR_MGMTDEV_DEV_NAME]);
	if (tb[VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES])
		ret->classes = nla_get_u64(tb[VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES]);
	if (tb[VDPA_ATTR_DEV_MGMTDEV_MAX_VQS])
		ret->max_vqs = nla_get_u32(tb[VDPA_ATTR_DEV_MGMTDEV_MAX_VQS]);
	if (tb[VDPA_ATTR_DEV_SUPPORTED_FEATURES])
		ret->features = nla_get_u64(tb[VDPA_ATTR_DEV_SUPPORTED_FEATURES]);
	return 0;
}

int vdpa_parse_dev(struct nl_msg *msg, struct vdpa_dev *ret)
{
	struct nlattr *tb[VDPA_ATTR_MAX + 1];

	if (parse_attrs(msg, tb) < 0 || !tb[VDPA_ATTR_DEV_NAME] || !tb[VDPA_ATTR_MGMTDEV_DEV_NAME])
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	copy_str(ret->name, sizeof(ret->name), tb[VDPA_ATTR_DEV_NAME]);
	copy_str(ret->mgmt_bus, sizeof(ret->mgmt_bus), tb[VDPA_ATTR_MGMTDEV_BUS_NAME]);
	copy_str(ret->mgmt_name, sizeof(ret->mgmt_name), tb[VDPA_ATTR_MGMTDEV_DEV_NAME]);
	if (tb[VDPA_ATTR_DEV_ID])
		ret->device_id = nla_get_u32(tb[VDPA_ATTR_DEV_ID]);
	if (tb[VDPA_ATTR_DEV_VENDOR_ID])
		ret->vendor_id = nla_get_u32(tb[VDPA_ATTR_DEV_VENDOR_ID]);
	if (tb[VDPA_ATTR_DEV_MAX_VQS])
		ret->max_vqs = nla_get_u32(tb[VDPA_ATTR_DEV_MAX_VQS]);
	if (tb[VDPA_ATTR_DEV_MAX_VQ_SIZE])
		ret->max_vq_size = nla_get_u16(tb[VDPA_ATTR_DEV_MAX_VQ_SIZE]);
	return 0;
}

int vdpa_parse_config(struct nl_msg *msg, struct vdpa_net_config *ret)
{
	struct nlattr *tb[VDPA_ATTR_MAX + 1];

	if (parse_attrs(msg, tb) < 0 || !tb[VDPA_ATTR_DEV_NAME])
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	if (tb[VDPA_ATTR_DEV_FEATURES])
		ret->features = nla_get_u64(tb[VDPA_ATTR_DEV_FEATURES]);
	if ((ret->has_mac = tb[VDPA_ATTR_DEV_NET_CFG_MACADDR] != NULL))
		memcpy(ret->mac, nla_data(tb[VDPA_ATTR_DEV_NET_CFG_MACADDR]), 6);
	if ((ret->has_mtu = tb[VDPA_ATTR_DEV_NET_CFG_MTU] != NULL))
		ret->mtu = nla_get_u16(tb[VDPA_ATTR_DEV_NET_CFG_MTU]);
	if ((ret->has_max_vqp = tb[VDPA_ATTR_DEV_NET_CFG_MAX_VQP] != NULL))
		ret->max_vqp = nla_get_u16(tb[VDPA_ATTR_DEV_NET_CFG_MAX_VQP]);
	return 0;
}

void vdpa_parse_extack(const struct nlmsghdr *nlh, char *buf, size_t len)
{
	static const struct nla_policy policy[NLMSGERR_ATTR_MAX + 1] = {
		[NLMSGERR_ATTR_MSG] = { .type = NLA_STRING },
	};
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t payload, off = sizeof(*e);

	buf[0] = '\0';
	if (nlh->nlmsg_type != NLMSG_ERROR || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
		return;
	payload = nlh->nlmsg_len - NLMSG_HDRLEN;
	/* Unless capped, the whole request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > sizeof(struct nlmsghdr))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
	if (off >= payload ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)NLMSG_DATA(nlh) + off), (int)(payload - off),
		      policy) < 0 || !tb[NLMSGERR_ATTR_MSG])
		return;
	snprintf(buf, len, "%s", (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

static const char *attr_key(int attr)
{
	switch (attr) {
	case VDPA_ATTR_DEV_NET_CFG_MACADDR: return "mac";
	case VDPA_ATTR_DEV_NET_CFG_MTU: return "mtu";
	case VDPA_ATTR_DEV_NET_CFG_MAX_VQP: return "max_vqp";
	case VDPA_ATTR_DEV_FEATURES: return "device features";
	default: return NULL;
	}
}

int vdpa_unsupported_attrs(const char *extack, char *buf, size_t len)
{
	const char *p = strstr(extack, "not supported: 0x");
	unsigned long long mask;
	size_t off = 0;

	if (!p || sscanf(p, "not supported: 0x%llx", &mask) != 1 || !mask)
		return -ENOENT;
	buf[0] = '\0';
	for (int bit = 0; bit < 64 && off < len; bit++) {
		const char *k;
		int n;

		if (!(mask & (1ULL << bit)))
			continue;
		k = attr_key(bit);
		n = k ? snprintf(buf + off, len - off, "%s%s", off ? ", " : "", k)
		      : snprintf(buf + off, len - off, "%sattribute %d", off ? ", " : "", bit);
		off += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

void vdpa_nl_describe_error(uint8_t cmd, int err, const char *extack, const struct vdpa_dev_request *req,
			    char *buf, size_t len)
{
	char handle[VDPA_HANDLE_MAX], attrs[128];
	const char *name = req && req->name ? req->name : "?";

	vdpa_handle_format(req ? req->mgmt_bus : NULL, req && req->mgmt_name ? req->mgmt_name : "?", handle,
			   sizeof(handle));
	extack = extack ? extack : "";
	switch (err) {
	case -EEXIST:
		snprintf(buf, len, "a vDPA device named %s already exists", name);
		return;
	case -ENODEV:
		if (cmd == VDPA_CMD_DEV_NEW)
			snprintf(buf, len, "management device %s not found", handle);
		else
			snprintf(buf, len, "no vDPA device named %s", name);
		return;
	case -EOPNOTSUPP:
		if (vdpa_unsupported_attrs(extack, attrs, sizeof(attrs)) == 0)
			snprintf(buf, len, "management device %s does not accept %s", handle, attrs);
		else
			snprintf(buf, len, "management device %s refused the request: %s%s%s", handle, strerror(-err),
				 *extack ? ": " : "", extack);
		return;
	case -EPERM:
		snprintf(buf, len, "not permitted (CAP_NET_ADMIN is needed)");
		return;
	default:
		snprintf(buf, len, "%s%s%s", strerror(-err), *extack ? ": " : "", extack);
	}
}

/* Transactions ---------------------------------------------------------- */

struct reply {
	struct vdpa_nl *nl;
	int (*parse)(struct nl_msg *msg, void *item);
	size_t item_size;
	char *items;
	size_t n;
	bool want_one;
	int err;
	bool done;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct reply *rp = arg;
	char *v;
	int r;

	if (!rp->parse || rp->err < 0)
		return NL_OK;
	if (rp->want_one && rp->n == 1)
		return NL_OK;
	v = realloc(rp->items, (rp->n + 1) * rp->item_size);
	if (!v) {
		rp->err = -ENOMEM;
		return NL_OK;
	}
	rp->items = v;
	r = rp->parse(msg, v + rp->n * rp->item_size);
	if (r < 0)
		rp->err = r;
	else
		rp->n++;
	return NL_OK;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	(void)msg;
	((struct reply *)arg)->done = true;
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct reply *rp = arg;

	(void)who;
	rp->err = e->error < 0 ? e->error : -EIO;
	vdpa_parse_extack((const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN), rp->nl->extack,
			  sizeof(rp->nl->extack));
	rp->done = true;
	return NL_STOP;
}

/* Send msg (consumed) and read replies until the dump ends, the ack or an error comes. */
static int transact(struct vdpa_nl *nl, struct nl_msg *msg, struct reply *rp)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int r;

	nl->extack[0] = '\0';
	rp->nl = nl;
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, rp);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, rp);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, rp);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, rp);
	r = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (r < 0) {
		nl_cb_put(cb);
		return nl_errno(r);
	}
	while (!rp->done) {
		r = nl_recvmsgs(nl->sk, cb);
		if (r < 0 && !rp->done) {
			rp->err = rp->err < 0 ? rp->err : nl_errno(r);
			break;
		}
	}
	nl_cb_put(cb);
	return rp->err;
}

static int request(struct vdpa_nl *nl, uint8_t cmd, int flags, const char *dev_name, struct nl_msg **ret)
{
	struct nl_msg *msg = vdpa_msg_new(nl->family, cmd, flags);

	if (!msg)
		return -ENOMEM;
	if (dev_name && nla_put_string(msg, VDPA_ATTR_DEV_NAME, dev_name) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	*ret = msg;
	return 0;
}

int vdpa_nl_open(struct vdpa_nl **ret)
{
	struct vdpa_nl *nl;
	struct timeval tv = { .tv_sec = VDPA_NL_TIMEOUT_SEC };
	int one = 1, r = libnl_genl_open();

	if (r < 0)
		return r;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		free(nl);
		return -ENOMEM;
	}
	r = genl_connect(nl->sk);
	if (r < 0) {
		vdpa_nl_close(nl);
		return nl_errno(r);
	}
	(void)setsockopt(nl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* The kernel says which attribute it refused only in the extended ack. */
	(void)setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, VDPA_GENL_NAME);
	if (nl->family < 0) {
		r = nl_errno(nl->family);
		vdpa_nl_close(nl);
		return r;
	}
	*ret = nl;
	return 0;
}

void vdpa_nl_close(struct vdpa_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

const char *vdpa_nl_extack(const struct vdpa_nl *nl)
{
	return nl->extack;
}

static int dump(struct vdpa_nl *nl, uint8_t cmd, int (*parse)(struct nl_msg *, void *), size_t size,
		void **ret, size_t *n)
{
	struct reply rp = { .parse = parse, .item_size = size };
	struct nl_msg *msg;
	int r = request(nl, cmd, NLM_F_DUMP, NULL, &msg);

	*ret = NULL;
	*n = 0;
	if (r < 0)
		return r;
	r = transact(nl, msg, &rp);
	if (r < 0) {
		free(rp.items);
		return r;
	}
	*ret = rp.items;
	*n = rp.n;
	return 0;
}

static int parse_mgmtdev_item(struct nl_msg *msg, void *item) { return vdpa_parse_mgmtdev(msg, item); }
static int parse_dev_item(struct nl_msg *msg, void *item) { return vdpa_parse_dev(msg, item); }
static int parse_config_item(struct nl_msg *msg, void *item) { return vdpa_parse_config(msg, item); }

int vdpa_nl_mgmtdevs(struct vdpa_nl *nl, struct vdpa_mgmtdev **ret, size_t *n)
{
	void *v = NULL;
	int r = dump(nl, VDPA_CMD_MGMTDEV_GET, parse_mgmtdev_item, sizeof(**ret), &v, n);

	*ret = v;
	return r;
}

int vdpa_nl_devs(struct vdpa_nl *nl, struct vdpa_dev **ret, size_t *n)
{
	void *v = NULL;
	int r = dump(nl, VDPA_CMD_DEV_GET, parse_dev_item, sizeof(**ret), &v, n);

	*ret = v;
	return r;
}

static int get_one(struct vdpa_nl *nl, uint8_t cmd, const char *name, int (*parse)(struct nl_msg *, void *),
		   void *item, size_t size)
{
	struct reply rp = { .parse = parse, .item_size = size, .want_one = true };
	struct nl_msg *msg;
	int r = request(nl, cmd, 0, name, &msg);

	if (r < 0)
		return r;
	r = transact(nl, msg, &rp);
	if (r == 0 && rp.n == 0)
		r = -EBADMSG;
	if (r == 0)
		memcpy(item, rp.items, size);
	free(rp.items);
	return r;
}

int vdpa_nl_dev_get(struct vdpa_nl *nl, const char *name, struct vdpa_dev *ret)
{
	return get_one(nl, VDPA_CMD_DEV_GET, name, parse_dev_item, ret,
		       sizeof(*ret));
}

int vdpa_nl_config_get(struct vdpa_nl *nl, const char *name, struct vdpa_net_config *ret)
{
	return get_one(nl, VDPA_CMD_DEV_CONFIG_GET, name, parse_config_item, ret,
		       sizeof(*ret));
}

int vdpa_nl_dev_new(struct vdpa_nl *nl, const struct vdpa_dev_request *req)
{
	struct reply rp = { 0 };
	struct nl_msg *msg;
	int r = request(nl, VDPA_CMD_DEV_NEW, 0, NULL, &msg);

	if (r < 0)
		return r;
	r = vdpa_msg_put_request(msg, req);
	if (r < 0) {
		nlmsg_free(msg);
		return r;
	}
	return transact(nl, msg, &rp);
}

int vdpa_nl_dev_del(struct vdpa_nl *nl, const char *name)
{
	struct reply rp = { 0 };
	struct nl_msg *msg;
	int r = request(nl, VDPA_CMD_DEV_DEL, 0, name, &msg);

	return r < 0 ? r : transact(nl, msg, &rp);
}
