/* PCI devices under the host root: selectors, enumeration through libpci
 * (pinned to the sysfs method and the root's /sys/bus/pci), and the sysfs
 * attributes and driver binding the sriov, vfio and vdpa modules share.
 * Device addresses are canonical strings, "0000:03:00.0". */
#ifndef HOSTPREP_PCI_H
#define HOSTPREP_PCI_H

#include <stdbool.h>
#include <stddef.h>

struct hostroot;
struct ctx;

#define PCI_ADDR_MAX 24
#define PCI_DRIVER_MAX 64

enum pci_selector_kind {
	PCI_SEL_ADDRESS,   /* 0000:03:00.0 or 03:00.0 */
	PCI_SEL_IFNAME,    /* ens1f0, through /sys/class/net */
	PCI_SEL_ID,        /* 8086:10fb, every match */
};

struct pci_selector {
	enum pci_selector_kind kind;
	char text[64];              /* as written */
	char addr[PCI_ADDR_MAX];    /* canonical, PCI_SEL_ADDRESS */
	char ifname[16];            /* PCI_SEL_IFNAME */
	unsigned vendor, device;    /* PCI_SEL_ID */
};

/* Pure syntax: -EINVAL for anything that is none of the three forms. */
int pci_selector_parse(const char *s, struct pci_selector *ret);
/* "03:00.0" or "0000:03:00.0" into canonical form; -EINVAL otherwise. */
int pci_addr_parse(const char *s, char *buf, size_t len);
/* Orders canonical addresses numerically (domain, bus, device, function). */
int pci_addr_cmp(const char *a, const char *b);

struct pci_device {
	char addr[PCI_ADDR_MAX];
	unsigned vendor, device;
	unsigned class;             /* base class and subclass: 0x0200 Ethernet */
	const char *name;           /* "Vendor Device", once pci_names() ran: one of the list's names */
};

struct pci_list {
	struct pci_device *dev;
	size_t n;
	char **names;               /* the distinct names, one per vendor:device */
	size_t n_names;
};

/* Every PCI device of the root, in address order.  On a libpci error, err
 * (may be NULL) holds its message and -EIO is returned. */
int pci_enumerate(const struct hostroot *hr, struct pci_list *ret, char *err, size_t err_len);
void pci_list_free(struct pci_list *l);
/* Names ("Vendor Device", as libpci writes them) from pci.ids for dev[].name:
 * one pass over the file for all of them, keeping one name per vendor:device
 * (agent/pci-names.c).  An id the file lacks gets libpci's fallback ("Device
 * 8086:1572").  pci_names_from reads a given file (tests). */
int pci_names(struct pci_list *l);
int pci_names_from(const char *ids, struct pci_list *l);
#define _cleanup_pci_list_ __attribute__((cleanup(pci_list_free)))
const struct pci_device *pci_list_find(const struct pci_list *l, const char *addr);

/* Devices the selector names, in address order; an empty list when none
 * matches.  *ret is a strv. */
int pci_resolve(const struct hostroot *hr, const struct pci_list *all, const struct pci_selector *sel,
		char ***ret);

/* Sysfs attributes of one device. */
bool pci_exists(const struct hostroot *hr, const char *addr);
/* Bound driver, "" when none. */
int pci_driver(const struct hostroot *hr, const char *addr, char *buf, size_t len);
/* IOMMU group number, or -ENOENT (IOMMU off). */
int pci_iommu_group(const struct hostroot *hr, const char *addr);
/* Devices of an IOMMU group, in address order (strv). */
int pci_group_devices(const struct hostroot *hr, int group, char ***ret);
/* Network interfaces of a device (strv, may be empty). */
int pci_netdevs(const struct hostroot *hr, const char *addr, char ***ret);
/* Class 0x06xx: host, PCI and other bridges. */
bool pci_is_bridge(const struct hostroot *hr, const char *addr);
/* VFs of a PF from its virtfnN links, in N order (strv, may be empty). */
int pci_vfs(const struct hostroot *hr, const char *pf, char ***ret);
/* The last PCI address among the components of a sysfs link target:
 * "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/..." → 0000:00:1f.2. */
int pci_addr_in_path(const char *path, char *buf, size_t len);

/* Driver binding the way the kernel documents it: driver_override, unbind
 * from the current driver, drivers_probe; then the driver link is checked.
 * A bind that fails part way is undone: driver_override as it was, the
 * original driver bound again.  On failure step (may be NULL) says which
 * write failed with its error, and what the undoing left ("... (back on
 * ixgbe, driver_override restored)", "...; binding ixgbe again failed (...):
 * the device has no driver now"). */
int pci_bind(struct hostroot *hr, const char *addr, const char *driver, char *step, size_t step_len);
/* Clears driver_override, unbinds, lets the kernel probe the device's own driver. */
int pci_unbind_override(struct hostroot *hr, const char *addr, char *step, size_t step_len);
/* The driver is registered (/sys/bus/pci/drivers/NAME), loading its module
 * when needed: -EOPNOTSUPP under a root other than /. */
int pci_driver_load(struct ctx *ctx, const char *driver);

/* In-use checks: 1 with a reason ("its /dev/vfio/12 is open by pid 42
 * (qemu-system-x86)", "parent of vDPA device vdpa0", "interface eth3 is up"),
 * 0 when unused.  pci_vfio_group_holder: -errno when /proc cannot be read;
 * pci_in_use counts that as in use (the reason says the error). */
int pci_vfio_group_holder(const struct hostroot *hr, int group, char *who, size_t len);
int pci_in_use(const struct hostroot *hr, const char *addr, char *why, size_t len);

/* Waits until ready() holds, at most timeout_ms, woken by kernel uevents
 * (libudev); on a root other than / it checks once (the files there do not
 * change by themselves).  0 or -ETIMEDOUT. */
int pci_wait(const struct hostroot *hr, bool (*ready)(const struct hostroot *hr, const void *data),
	     const void *data, int timeout_ms);
/* Waits, bounded, for udev to finish the events queued so far (real root only). */
void pci_udev_settle(const struct hostroot *hr, int timeout_ms);

/* The IOMMU argument ("intel_iommu=on") this run's profile has pending for the
 * next boot, or NULL: a device without an IOMMU group gets one then. */
const char *pci_iommu_pending(const struct ctx *ctx);

#endif
