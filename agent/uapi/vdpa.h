/* The kernel's vDPA generic netlink interface: family, commands, attributes.
 *
 * Pinned here and written against Linux 6.12's include/uapi/linux/vdpa.h (the
 * numbering below is the kernel's enum order; checked against Debian's
 * linux-source-6.12 6.12.117).  Do not include <linux/vdpa.h> instead: Debian 12's
 * linux-libc-dev (6.1) lacks VDPA_CMD_DEV_ATTR_SET and, after VDPA_ATTR_DEV_FEATURES,
 * has VDPA_ATTR_VDPA_DEV_SUPPORTED_FEATURES where 6.12 has the block-device
 * attributes, so VDPA_ATTR_MAX differs.  Only append, never renumber. */
#ifndef HOSTPREP_UAPI_VDPA_H
#define HOSTPREP_UAPI_VDPA_H

#define VDPA_GENL_NAME "vdpa"
#define VDPA_GENL_VERSION 0x1

enum vdpa_command {
	VDPA_CMD_UNSPEC,
	VDPA_CMD_MGMTDEV_NEW,
	VDPA_CMD_MGMTDEV_GET,           /* can dump */
	VDPA_CMD_DEV_NEW,
	VDPA_CMD_DEV_DEL,
	VDPA_CMD_DEV_GET,               /* can dump */
	VDPA_CMD_DEV_CONFIG_GET,        /* can dump */
	VDPA_CMD_DEV_VSTATS_GET,
	VDPA_CMD_DEV_ATTR_SET,
};

enum vdpa_attr {
	VDPA_ATTR_UNSPEC,
	VDPA_ATTR_PAD = VDPA_ATTR_UNSPEC,       /* 64-bit alignment padding */

	/* optional bus name + device name: the management device's handle */
	VDPA_ATTR_MGMTDEV_BUS_NAME,             /* string */
	VDPA_ATTR_MGMTDEV_DEV_NAME,             /* string */
	VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES,    /* u64, bit N = virtio device id N */

	VDPA_ATTR_DEV_NAME,                     /* string */
	VDPA_ATTR_DEV_ID,                       /* u32 */
	VDPA_ATTR_DEV_VENDOR_ID,                /* u32 */
	VDPA_ATTR_DEV_MAX_VQS,                  /* u32 */
	VDPA_ATTR_DEV_MAX_VQ_SIZE,              /* u16 */
	VDPA_ATTR_DEV_MIN_VQ_SIZE,              /* u16 */

	VDPA_ATTR_DEV_NET_CFG_MACADDR,          /* binary, 6 bytes */
	VDPA_ATTR_DEV_NET_STATUS,               /* u8 in the header; the kernel sends u16 */
	VDPA_ATTR_DEV_NET_CFG_MAX_VQP,          /* u16 */
	VDPA_ATTR_DEV_NET_CFG_MTU,              /* u16 */

	VDPA_ATTR_DEV_NEGOTIATED_FEATURES,      /* u64 */
	VDPA_ATTR_DEV_MGMTDEV_MAX_VQS,          /* u32 */
	VDPA_ATTR_DEV_SUPPORTED_FEATURES,       /* u64, of the management device */

	VDPA_ATTR_DEV_QUEUE_INDEX,              /* u32 */
	VDPA_ATTR_DEV_VENDOR_ATTR_NAME,         /* string */
	VDPA_ATTR_DEV_VENDOR_ATTR_VALUE,        /* u64 */

	VDPA_ATTR_DEV_FEATURES,                 /* u64, provisioned to the device */

	/* 6.12 (not in 6.1's copy) */
	VDPA_ATTR_DEV_BLK_CFG_CAPACITY,         /* u64 */
	VDPA_ATTR_DEV_BLK_CFG_SIZE_MAX,         /* u32 */
	VDPA_ATTR_DEV_BLK_CFG_BLK_SIZE,         /* u32 */
	VDPA_ATTR_DEV_BLK_CFG_SEG_MAX,          /* u32 */
	VDPA_ATTR_DEV_BLK_CFG_NUM_QUEUES,       /* u16 */
	VDPA_ATTR_DEV_BLK_CFG_PHY_BLK_EXP,      /* u8 */
	VDPA_ATTR_DEV_BLK_CFG_ALIGN_OFFSET,     /* u8 */
	VDPA_ATTR_DEV_BLK_CFG_MIN_IO_SIZE,      /* u16 */
	VDPA_ATTR_DEV_BLK_CFG_OPT_IO_SIZE,      /* u32 */
	VDPA_ATTR_DEV_BLK_CFG_MAX_DISCARD_SEC,  /* u32 */
	VDPA_ATTR_DEV_BLK_CFG_MAX_DISCARD_SEG,  /* u32 */
	VDPA_ATTR_DEV_BLK_CFG_DISCARD_SEC_ALIGN, /* u32 */
	VDPA_ATTR_DEV_BLK_CFG_MAX_WRITE_ZEROES_SEC, /* u32 */
	VDPA_ATTR_DEV_BLK_CFG_MAX_WRITE_ZEROES_SEG, /* u32 */
	VDPA_ATTR_DEV_BLK_READ_ONLY,            /* u8 */
	VDPA_ATTR_DEV_BLK_FLUSH,                /* u8 */

	VDPA_ATTR_MAX,                          /* one past the last; new ones go above */
};

/* Virtio device ids used as class bits (include/uapi/linux/virtio_ids.h). */
#define VDPA_VIRTIO_ID_NET 1
#define VDPA_VIRTIO_ID_BLOCK 2

/* Virtio-net feature bits that decide which config fields the kernel reports. */
#define VDPA_VIRTIO_NET_F_MTU 3
#define VDPA_VIRTIO_NET_F_MAC 5
#define VDPA_VIRTIO_NET_F_MQ 22
#define VDPA_VIRTIO_NET_F_RSS 60

#endif
