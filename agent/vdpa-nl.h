/* Client of the kernel's "vdpa" generic netlink family (libnl-genl-3):
 * management devices, devices and their net config; create and delete.
 * Functions return 0 or -errno (the kernel's own errno for refused requests);
 * the kernel's extended-ack message of the last refused request is kept for
 * the caller's error message.  Replies are validated against vdpa_nl_policy. */
#ifndef HOSTPREP_VDPA_NL_H
#define HOSTPREP_VDPA_NL_H

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/vdpa.h"

#define VDPA_BUS_MAX 32
#define VDPA_NAME_MAX 128    /* device and management device names, with the NUL */
#define VDPA_HANDLE_MAX (VDPA_BUS_MAX + VDPA_NAME_MAX)

struct vdpa_mgmtdev {
	char bus[VDPA_BUS_MAX];      /* "" for a bus-less management device (vdpasim_net) */
	char name[VDPA_NAME_MAX];
	uint64_t classes;            /* bit N: virtio device id N (1 = net) */
	uint32_t max_vqs;
	uint64_t features;
};

struct vdpa_dev {
	char name[VDPA_NAME_MAX];
	char mgmt_bus[VDPA_BUS_MAX];
	char mgmt_name[VDPA_NAME_MAX];
	uint32_t device_id;          /* virtio device id */
	uint32_t vendor_id;
	uint32_t max_vqs;
	uint16_t max_vq_size;
};

/* A net device's config as the kernel reports it: mac only with
 * VIRTIO_NET_F_MAC, mtu only with F_MTU, max_vqp only with F_MQ or F_RSS. */
struct vdpa_net_config {
	uint64_t features;
	bool has_mac, has_mtu, has_max_vqp;
	uint8_t mac[6];
	uint16_t mtu;
	uint16_t max_vqp;
};

/* VDPA_CMD_DEV_NEW: has_* mark the optional attributes. */
struct vdpa_dev_request {
	const char *name;
	const char *mgmt_bus;        /* NULL or "" for a bus-less management device */
	const char *mgmt_name;
	bool has_mac, has_mtu, has_max_vqp;
	uint8_t mac[6];
	uint16_t mtu;
	uint16_t max_vqp;
};

struct vdpa_nl;

/* Connect and resolve the family: -ENOENT when the kernel has no "vdpa"
 * family (module not loaded, or no CONFIG_VDPA), -ELIBACC when libnl cannot
 * be loaded. */
int vdpa_nl_open(struct vdpa_nl **ret);
/* Loads libnl-3 and libnl-genl-3 now (agent/libnl-lazy.c: they are otherwise
 * loaded on first use): 0, or -ELIBACC when they cannot be. */
int libnl_genl_open(void);
void vdpa_nl_close(struct vdpa_nl *nl);
static inline void vdpa_nl_closep(struct vdpa_nl **nl) { vdpa_nl_close(*nl); }
#define _cleanup_vdpa_nl_ __attribute__((cleanup(vdpa_nl_closep)))

/* Dumps; *ret is malloc'ed (NULL when *n is 0). */
int vdpa_nl_mgmtdevs(struct vdpa_nl *nl, struct vdpa_mgmtdev **ret, size_t *n);
int vdpa_nl_devs(struct vdpa_nl *nl, struct vdpa_dev **ret, size_t *n);
/* One device: -ENODEV when there is none of that name. */
int vdpa_nl_dev_get(struct vdpa_nl *nl, const char *name, struct vdpa_dev *ret);
int vdpa_nl_config_get(struct vdpa_nl *nl, const char *name, struct vdpa_net_config *ret);
int vdpa_nl_dev_new(struct vdpa_nl *nl, const struct vdpa_dev_request *req);
int vdpa_nl_dev_del(struct vdpa_nl *nl, const char *name);
/* The kernel's message for the last refused request, "" when it sent none. */
const char *vdpa_nl_extack(const struct vdpa_nl *nl);

/* One sentence for a refused request (cmd is VDPA_CMD_DEV_NEW or _DEV_DEL),
 * naming the device, the management device or the attribute concerned. */
void vdpa_nl_describe_error(uint8_t cmd, int err, const char *extack, const struct vdpa_dev_request *req,
			    char *buf, size_t len);

/* Management device handles as the kernel and iproute2 write them:
 * "pci/0000:03:00.2" or "vdpasim_net". */
void vdpa_handle_format(const char *bus, const char *name, char *buf, size_t len);
/* The reverse, for profile values: "pci/DOMAIN:BUS:DEV.FN", a bare PCI address
 * ("0000:03:00.2", "03:00.2": bus "pci", domain 0000 added), "BUS/NAME", or a
 * bus-less name.  PCI addresses come back in the kernel's lowercase form.
 * -EINVAL on anything else. */
int vdpa_handle_parse(const char *s, char bus[VDPA_BUS_MAX], char name[VDPA_NAME_MAX]);
int mac_parse(const char *s, uint8_t mac[6]);
void mac_format(const uint8_t mac[6], char *buf, size_t len);

/* The pieces below are exposed for the unit tests. */
extern const struct nla_policy vdpa_nl_policy[VDPA_ATTR_MAX + 1];
/* A request of the family: genl header with cmd and version. */
struct nl_msg *vdpa_msg_new(int family, uint8_t cmd, int flags);
int vdpa_msg_put_request(struct nl_msg *msg, const struct vdpa_dev_request *req);
int vdpa_parse_mgmtdev(struct nl_msg *msg, struct vdpa_mgmtdev *ret);
int vdpa_parse_dev(struct nl_msg *msg, struct vdpa_dev *ret);
int vdpa_parse_config(struct nl_msg *msg, struct vdpa_net_config *ret);
/* The extended-ack message of an NLMSG_ERROR message into buf ("" if none). */
void vdpa_parse_extack(const struct nlmsghdr *nlh, char *buf, size_t len);
/* "Some provided attributes are not supported: 0x2000" → "max_vqp"; -ENOENT
 * when the message carries no such mask. */
int vdpa_unsupported_attrs(const char *extack, char *buf, size_t len);

#endif
