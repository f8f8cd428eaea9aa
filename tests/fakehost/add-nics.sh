#!/bin/bash
# Add SR-IOV NICs with their VFs to a fake host made by mkhost.sh and
# add-pci.sh, until the tree holds --devices PCI devices: the layout of a
# server full of Intel X710 cards (i40e PFs, iavf VFs) as the kernel shows it.
#
#   add-nics.sh ROOT --devices N [--vfs-per-pf N] [--vfio N]
#
# Each card is a root port 0000:00:DD.F with one PF at 0000:BB:00.0 behind it
# (8086:1572, i40e, interface ensXf0, sriov_totalvfs 64, sriov_offset 16,
# sriov_stride 1) and its VFs at BB:02.0, BB:02.1, ... (8086:154c), each with
# physfn/virtfnN links, its own IOMMU group and an iavf interface; cards are
# spread over the NUMA nodes.  The last --vfio VFs (default: those of the last
# PF) are on vfio-pci with their /dev/vfio/GROUP node, their PFs with
# autoprobe 0.  The
# kernel model's id table learns both ids.  Files are written by one Python
# process (/usr/bin/python3): a shell loop forks too often for 1,000 devices.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/cache.sh"
tree_cache "${BASH_SOURCE[0]}" "$@"

root=$1; shift
devices="" per_pf=58 vfio=""
while [ $# -gt 0 ]; do
	case $1 in
	--devices) devices=$2; shift ;;
	--vfs-per-pf) per_pf=$2; shift ;;
	--vfio) vfio=$2; shift ;;
	*) echo "add-nics: unknown option $1" >&2; exit 1 ;;
	esac
	shift
done
[ -n "$devices" ] || { echo "add-nics: --devices N is required" >&2; exit 1; }
[ -d "$root/sys/bus/pci/devices" ] || { echo "add-nics: run add-pci.sh on $root first" >&2; exit 1; }
exec /usr/bin/python3 - "$root" "$devices" "$per_pf" "${vfio:--1}" <<'PY'
import os, sys

root, want, per_pf, n_vfio = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
PF_ID, VF_ID, TOTALVFS, OFFSET = "1572", "154c", 64, 16
per_pf = max(1, min(per_pf, TOTALVFS))

def path(rel):
    return os.path.join(root, rel)

def put(rel, value, mode="w"):
    os.makedirs(os.path.dirname(path(rel)), exist_ok=True)
    with open(path(rel), mode) as f:
        f.write(value)

def link(target_rel, name_rel):
    """A relative symlink, both paths below the root, as sysfs has them."""
    d = os.path.dirname(path(name_rel))
    os.makedirs(d, exist_ok=True)
    if os.path.lexists(path(name_rel)):
        os.unlink(path(name_rel))
    os.symlink(os.path.relpath(path(target_rel), d), path(name_rel))

def config(vendor, device, cls, header=0):
    v, d, c = int(vendor, 16), int(device, 16), int(cls, 16)
    b = bytearray(64)
    b[0:4] = bytes([v & 0xff, v >> 8, d & 0xff, d >> 8])
    b[4:6] = b"\x06\x04"
    b[6], b[8] = 0x10, 0x01
    b[9:12] = bytes([c & 0xff, (c >> 8) & 0xff, c >> 16])
    b[14] = header
    return bytes(b)

group = [max([int(g) for g in os.listdir(path("sys/kernel/iommu_groups")) if g.isdigit()] + [-1]) + 1]
nodes = sorted(int(n[4:]) for n in os.listdir(path("sys/devices/system/node"))
               if n.startswith("node") and n[4:].isdigit()) if os.path.isdir(path("sys/devices/system/node")) else []

def driver(name):
    d = "sys/bus/pci/drivers/" + name
    os.makedirs(path(d), exist_ok=True)
    for f in ("bind", "unbind", "new_id", "remove_id", "uevent"):
        if not os.path.exists(path(d + "/" + f)):
            put(d + "/" + f, "")
    os.makedirs(path("sys/module/" + name.replace("-", "_")), exist_ok=True)

def pcidev(parent, addr, vendor, device, cls, drv, node, header=0):
    d = "%s/%s" % (parent, addr)
    for attr, val in (("vendor", "0x" + vendor), ("device", "0x" + device), ("class", "0x" + cls),
                      ("subsystem_vendor", "0x" + vendor), ("subsystem_device", "0x0000"), ("irq", "0"),
                      ("numa_node", str(node)), ("enable", "1"), ("driver_override", "(null)")):
        put(d + "/" + attr, val + "\n")
    put(d + "/resource", "0x0000000000000000 0x0000000000000000 0x0000000000000000\n" * 7)
    put(d + "/config", config(vendor, device, cls, header), "wb")
    link("sys/bus/pci", d + "/subsystem")
    link(d, "sys/bus/pci/devices/" + addr)
    if drv:
        link("sys/bus/pci/drivers/" + drv, d + "/driver")
        link(d, "sys/bus/pci/drivers/%s/%s" % (drv, addr))
    g = group[0]
    group[0] += 1
    link(d, "sys/kernel/iommu_groups/%d/devices/%s" % (g, addr))
    link("sys/kernel/iommu_groups/%d" % g, d + "/iommu_group")
    return d, g

def netdev(devdir, ifname):
    d = devdir + "/net/" + ifname
    put(d + "/operstate", "down\n")
    put(d + "/flags", "0x1002\n")
    put(d + "/address", "52:54:00:%02x:%02x:%02x\n" % (len(ifname), hash(ifname) & 0xff, (hash(ifname) >> 8) & 0xff))
    link(d, "sys/class/net/" + ifname)

have = len(os.listdir(path("sys/bus/pci/devices")))
left = want - have
if left < 3:
    sys.exit("add-nics: the tree already holds %d devices, %d asked" % (have, want))
# Cards: a root port and a PF each, then VFs; the VFs spread evenly.
cards = max(1, -(-left // (per_pf + 2)))
vfs_total = left - 2 * cards
if vfs_total > cards * TOTALVFS:
    sys.exit("add-nics: %d devices do not fit in %d cards" % (want, cards))
counts = [vfs_total // cards + (1 if c < vfs_total % cards else 0) for c in range(cards)]
if n_vfio < 0:
    n_vfio = counts[-1]
first_vfio = vfs_total - min(n_vfio, vfs_total)

for drv in ("pcieport", "i40e", "iavf", "vfio-pci"):
    driver(drv)
os.makedirs(path("dev/vfio"), exist_ok=True)
if not os.path.exists(path("dev/vfio/vfio")):
    put("dev/vfio/vfio", "")
with open(path(".kmodel/pci/ids"), "a") as f:
    f.write("8086:%s i40e\n8086:%s iavf\n" % (PF_ID, VF_ID))

bus_numbers = [b for b in range(0x10, 0x100) if b not in (0x65,)]
vf_seen = 0
for c in range(cards):
    port = "0000:00:%02x.%x" % (0x02 + c // 8, c % 8)
    node = nodes[c * len(nodes) // cards] if nodes else -1
    port_dir, _ = pcidev("sys/devices/pci0000:00", port, "8086", "2030", "060400", "pcieport", node, 1)
    bus = bus_numbers[c]
    pf = "0000:%02x:00.0" % bus
    pf_dir, _ = pcidev(port_dir, pf, "8086", PF_ID, "020000", "i40e", node)
    vfio_here = any(vf_seen + i >= first_vfio for i in range(counts[c]))
    for attr, val in (("sriov_totalvfs", TOTALVFS), ("sriov_numvfs", counts[c]),
                      ("sriov_drivers_autoprobe", 0 if vfio_here else 1), ("sriov_vf_device", VF_ID),
                      ("sriov_offset", OFFSET), ("sriov_stride", 1)):
        put(pf_dir + "/" + attr, "%s\n" % val)
    netdev(pf_dir, "ens%df0" % (c + 2))
    for i in range(counts[c]):
        rid = OFFSET + i
        vf = "0000:%02x:%02x.%x" % (bus, rid >> 3, rid & 7)
        on_vfio = vf_seen >= first_vfio
        vf_dir, g = pcidev(port_dir, vf, "8086", VF_ID, "020000", "vfio-pci" if on_vfio else "iavf", node)
        link(pf_dir, vf_dir + "/physfn")
        link(vf_dir, "%s/virtfn%d" % (pf_dir, i))
        if on_vfio:
            put("dev/vfio/%d" % g, "")
        else:
            netdev(vf_dir, "ens%df0v%d" % (c + 2, i))
        vf_seen += 1
PY
