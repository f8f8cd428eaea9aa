/* vDPA devices as sysfs shows them under the host root: the bus's devices,
 * their driver, their management device (the parent device), the vhost-vdpa
 * character device, whether something uses them, and driver rebinding.
 * This is all that is known about vDPA under a root other than "/"
 * (management devices and device config exist only over netlink). */
#ifndef HOSTPREP_VDPA_SYSFS_H
#define HOSTPREP_VDPA_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

#include "hostroot.h"

#define VDPA_BUS_DIR "/sys/bus/vdpa"

/* Device names on the vdpa bus (an empty list without the bus). */
int vdpa_sysfs_devices(const struct hostroot *hr, char ***ret);
bool vdpa_sysfs_exists(const struct hostroot *hr, const char *name);
/* Bound driver's name, "" when unbound. */
int vdpa_sysfs_driver(const struct hostroot *hr, const char *name, char *buf, size_t len);
/* The management device's handle from the parent device: "pci/0000:03:00.2",
 * "auxiliary/mlx5_core.sf.2", or "vdpasim_net" for a parent on no bus. */
int vdpa_sysfs_mgmtdev(const struct hostroot *hr, const char *name, char *buf, size_t len);
/* "/dev/vhost-vdpa-N" when bound to vhost_vdpa, else -ENOENT. */
int vdpa_sysfs_vhost_dev(const struct hostroot *hr, const char *name, char *buf, size_t len);
/* The net interface virtio_vdpa made of it, else -ENOENT. */
int vdpa_sysfs_netdev(const struct hostroot *hr, const char *name, char *buf, size_t len);
/* 1 when in use (why says by whom: a process holding /dev/vhost-vdpa-N open,
 * found through /proc/PID/fd, or its virtio_vdpa interface being up) or when
 * that cannot be told (why says the error), 0 when not. */
int vdpa_sysfs_in_use(const struct hostroot *hr, const char *name, char *why, size_t len);
/* Bind to driver: driver_override, unbind from the current driver, bind.
 * On failure step names the write that failed. */
int vdpa_sysfs_bind(struct hostroot *hr, const char *name, const char *driver, char *step, size_t len);

#endif
