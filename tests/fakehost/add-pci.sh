#!/bin/bash
# Add PCI devices, drivers, IOMMU groups, network interfaces, block devices and
# routes to a fake host made by mkhost.sh.  The files are the ones lspci/libpci
# and the kernel expose; every symlink is relative so it resolves under ROOT.
#
#   add-pci.sh ROOT [--no-iommu] [--no-vfio-module] [--default-route IF] [--default-route6 IF]
#              [--bond NAME:IF1,IF2] [--bridge NAME:IF1,...] [--vlan NAME:LOWER]
#              [--root-on SOURCE] [--root-devno MAJ:MIN] [--root-fstype TYPE] [--no-mountinfo]
#              [--swap DEV] [--swapfile PATH] [--totalvfs N] [--device ADDR:VVVV:DDDD:CLASS:DRIVER:GROUP]...
#
# Mounts are in /proc/self/mountinfo (with each source's MAJ:MIN, which
# /sys/dev/block maps to the device, as the kernel does) and /proc/mounts;
# --no-mountinfo leaves only /proc/mounts.  MAJ:MIN follows the source's name
# (sdaN 8:N, nvme0n1pN 259:N, /dev/mapper/* and dm-N 253:N, anything else 0:40,
# an anonymous device as ZFS, NFS or tmpfs have); --root-devno overrides it for /
# (e.g. --root-on /dev/root --root-devno 8:1, a kernel booted without initramfs).
#
# Default devices (address  ids  driver  group):
#   0000:00:00.0  8086:3e0f host bridge       -          0
#   0000:00:01.0  8086:1901 PCIe root port    pcieport   1
#   0000:00:1f.2  8086:a102 SATA AHCI         ahci       2   sda: sda1 (/), sda2 (/boot), sda3
#   0000:02:00.0  8086:10d3 82574L NIC        e1000e     3   eno1
#   0000:03:00.0  8086:10fb 82599 SR-IOV PF   ixgbe      4   ens1f0, 8 VFs 8086:10ed (03:10.0, 03:10.2, ...)
#   0000:03:00.1  8086:10fb 82599 SR-IOV PF   ixgbe      5   ens1f1, 8 VFs (03:10.1, 03:10.3, ...)
#   0000:04:00.0  1b36:0010 QEMU NVMe SR-IOV  nvme       6   nvme0n1 (p1), 4 VFs 1b36:0010 (04:00.1, ...)
#   0000:65:00.0  10de:1b80 GTX 1080 GPU      nouveau    1   with its audio function and the root port
#   0000:65:00.1  10de:10f0 GP104 audio       snd_hda_intel 1
# The kernel model binds drivers by the id table .kmodel/pci/ids ("VVVV:DDDD driver").
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/cache.sh"
tree_cache "${BASH_SOURCE[0]}" "$@"

root=$1; shift
iommu=1 vfio=1 totalvfs=8 route4="" route6="" root_dev=/dev/sda1 root_devno="" root_fstype=ext4 mountinfo=1
swap="" swapfile=""
bonds=() bridges=() vlans=() extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--no-iommu) iommu=0 ;;
	--no-vfio-module) vfio=0 ;;
	--default-route) route4=$2; shift ;;
	--default-route6) route6=$2; shift ;;
	--bond) bonds+=("$2"); shift ;;
	--bridge) bridges+=("$2"); shift ;;
	--vlan) vlans+=("$2"); shift ;;
	--root-on) root_dev=$2; shift ;;
	--root-devno) root_devno=$2; shift ;;
	--root-fstype) root_fstype=$2; shift ;;
	--no-mountinfo) mountinfo=0 ;;
	--swap) swap=$2; shift ;;
	--swapfile) swapfile=$2; shift ;;
	--totalvfs) totalvfs=$2; shift ;;
	--device) extra+=("$2"); shift ;;
	*) echo "add-pci: unknown option $1" >&2; exit 1 ;;
	esac
	shift
done

put() { [ -d "$root/${1%/*}" ] || mkdir -p "$root/${1%/*}"; printf '%s\n' "$2" > "$root/$1"; }
# link TARGET NAME, both relative to the root; the link itself is relative.
link() { mkdir -p "$(dirname "$root/$2")"; ln -sfnr "$root/$1" "$root/$2"; }

driver() {
	local d=sys/bus/pci/drivers/$1
	mkdir -p "$root/$d"
	for f in bind unbind new_id remove_id uevent; do [ -e "$root/$d/$f" ] || : > "$root/$d/$f"; done
	mkdir -p "$root/sys/module/${1//-/_}"
}

# Config space header: ids, class, header type (1 for a PCI-to-PCI bridge).
config() { # VENDOR DEVICE CLASS
	local v=$1 d=$2 c=$3 ht=00
	[ "${c:0:4}" = 0604 ] && ht=01
	printf "\\x${v:2:2}\\x${v:0:2}\\x${d:2:2}\\x${d:0:2}\\x06\\x04\\x10\\x00\\x01\\x${c:4:2}\\x${c:2:2}\\x${c:0:2}\\x00\\x00\\x$ht\\x00"
	head -c 48 /dev/zero
}

# pcidev ADDR VENDOR DEVICE CLASS DRIVER|- GROUP
pcidev() {
	local a=$1 v=$2 d=$3 c=$4 drv=$5 g=$6 dir=sys/devices/pci0000:00/$1
	put $dir/vendor "0x$v"
	put $dir/device "0x$d"
	put $dir/class "0x$c"
	put $dir/subsystem_vendor "0x$v"
	put $dir/subsystem_device "0x0000"
	put $dir/irq 0
	put $dir/numa_node -1
	put $dir/enable 1
	put $dir/driver_override "(null)"
	# Six BARs and the ROM, no blank line at the end (libpci refuses one).
	printf '0x0000000000000000 0x0000000000000000 0x0000000000000000\n%.0s' 1 2 3 4 5 6 7 > "$root/$dir/resource"
	config "$v" "$d" "$c" > "$root/$dir/config"
	link sys/bus/pci $dir/subsystem
	link $dir sys/bus/pci/devices/$a
	if [ "$drv" != - ]; then
		driver "$drv"
		link sys/bus/pci/drivers/$drv $dir/driver
		link $dir sys/bus/pci/drivers/$drv/$a
	fi
	if [ $iommu = 1 ]; then
		link $dir sys/kernel/iommu_groups/$g/devices/$a
		link sys/kernel/iommu_groups/$g $dir/iommu_group
	fi
}

# The IOMMU unit the kernel registered (/sys/class/iommu), named as the
# firmware's table makes the kernel name it: dmarN for VT-d, ivhdN for AMD-Vi.
if [ $iommu = 1 ]; then
	unit=dmar0; [ -e "$root/sys/firmware/acpi/tables/IVRS" ] && unit=ivhd0
	mkdir -p "$root/sys/devices/virtual/iommu/$unit"
	link sys/devices/virtual/iommu/$unit sys/class/iommu/$unit
fi

ids() { mkdir -p "$root/.kmodel/pci"; printf '%s %s\n' "$1" "$2" >> "$root/.kmodel/pci/ids"; }

# netdev ADDR|virtual IFNAME [operstate] [flags]
netdev() {
	local dir
	if [ "$1" = virtual ]; then dir=sys/devices/virtual/net/$2; else dir=sys/devices/pci0000:00/$1/net/$2; fi
	put $dir/operstate "${3:-up}"
	put $dir/flags "${4:-0x1003}"
	put $dir/address "52:54:00:$(printf '%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))"
	link $dir sys/class/net/$2
}

sriov() { # ADDR TOTAL VF_DEVICE OFFSET STRIDE
	local dir=sys/devices/pci0000:00/$1
	put $dir/sriov_totalvfs "$2"
	put $dir/sriov_numvfs 0
	put $dir/sriov_drivers_autoprobe 1
	put $dir/sriov_vf_device "$3"
	put $dir/sriov_offset "$4"
	put $dir/sriov_stride "$5"
}

# block DEVICE_DIR DISK MAJ:MIN [PARTITIONS...]: the disk and its partitions
# (minors counted up from the disk's), each with its dev attribute and its
# /sys/dev/block/MAJ:MIN link.
block() {
	local dir=$1/block/$2 disk=$2 maj=${3%:*} min=${3#*:} i=0; shift 3
	put $dir/size 1000000
	put $dir/removable 0
	put $dir/dev "$maj:$min"
	mkdir -p "$root/$dir/slaves" "$root/$dir/holders"
	link $dir sys/block/$disk
	link $dir sys/class/block/$disk
	link $dir sys/dev/block/$maj:$min
	for p in "$@"; do
		i=$((i + 1))
		put $dir/$p/partition "${p##*[a-z]}"
		put $dir/$p/dev "$maj:$((min + i))"
		link $dir/$p sys/class/block/$p
		link $dir/$p sys/dev/block/$maj:$((min + i))
	done
}

# The MAJ:MIN a mount of SOURCE shows (see the header).
devno() {
	case $1 in
	/dev/sd[a-z][0-9]*) echo "8:${1##*[a-z]}" ;;
	/dev/nvme0n1p*) echo "259:${1##*p}" ;;
	/dev/nvme0n1) echo 259:0 ;;
	/dev/dm-*) echo "253:${1#/dev/dm-}" ;;
	/dev/mapper/*) echo 253:0 ;;
	*) echo 0:40 ;;
	esac
}

mkdir -p "$root/sys/bus/pci/drivers" "$root/sys/bus/pci/devices" "$root/sys/kernel/iommu_groups" "$root/sys/block" \
	"$root/sys/class/block" "$root/sys/class/net" "$root/dev"
: > "$root/sys/bus/pci/drivers_probe"
: > "$root/sys/bus/pci/rescan"
[ -e "$root/.kmodel/pci/ids" ] || { mkdir -p "$root/.kmodel/pci"; : > "$root/.kmodel/pci/ids"; }
# Without an IOMMU the kernel model gives new VFs no IOMMU group either.
[ $iommu = 1 ] || : > "$root/.kmodel/pci/no-iommu"

pcidev 0000:00:00.0 8086 3e0f 060000 - 0
pcidev 0000:00:01.0 8086 1901 060400 pcieport 1
pcidev 0000:00:1f.2 8086 a102 010601 ahci 2
pcidev 0000:02:00.0 8086 10d3 020000 e1000e 3
pcidev 0000:03:00.0 8086 10fb 020000 ixgbe 4
pcidev 0000:03:00.1 8086 10fb 020000 ixgbe 5
pcidev 0000:04:00.0 1b36 0010 010802 nvme 6
pcidev 0000:65:00.0 10de 1b80 030000 nouveau 1
pcidev 0000:65:00.1 10de 10f0 040300 snd_hda_intel 1
ids 8086:1901 pcieport; ids 8086:a102 ahci; ids 8086:10d3 e1000e; ids 8086:10fb ixgbe; ids 8086:10ed ixgbevf
ids 1b36:0010 nvme; ids 10de:1b80 nouveau; ids 10de:10f0 snd_hda_intel
driver ixgbevf
sriov 0000:03:00.0 "$totalvfs" 10ed 128 2
sriov 0000:03:00.1 "$totalvfs" 10ed 128 2
sriov 0000:04:00.0 4 0010 1 1
netdev 0000:02:00.0 eno1
netdev 0000:03:00.0 ens1f0
netdev 0000:03:00.1 ens1f1 down 0x1002
netdev virtual lo unknown 0x9
for e in "${extra[@]}"; do
	IFS=: read -r dom bus devfn v d c drv g <<<"$e"
	pcidev "$dom:$bus:$devfn" "$v" "$d" "$c" "$drv" "$g"
	[ "$drv" != - ] && ids "$v:$d" "$drv"
done

if [ $vfio = 1 ]; then
	driver vfio-pci
	mkdir -p "$root/dev/vfio"; : > "$root/dev/vfio/vfio"
fi

# Disks: sda behind the AHCI controller, nvme0n1 behind the NVMe controller.
block sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0 sda 8:0 sda1 sda2 sda3
block sys/devices/pci0000:00/0000:04:00.0/nvme/nvme0 nvme0n1 259:0 nvme0n1p1
# SOURCE MOUNTPOINT FSTYPE MAJ:MIN
mount_list=("$root_dev / $root_fstype ${root_devno:-$(devno "$root_dev")}" "/dev/sda2 /boot ext4 8:2"
	"proc /proc proc 0:22" "sysfs /sys sysfs 0:21" "tmpfs /run tmpfs 0:24")
mounts="" info="" id=21
for m in "${mount_list[@]}"; do
	read -r src mnt type dev <<<"$m"
	mounts+="$src $mnt $type rw,relatime 0 0"$'\n'
	info+="$id 1 $dev / $mnt rw,relatime shared:$id - $type $src rw"$'\n'
	id=$((id + 1))
done
put proc/mounts "${mounts%$'\n'}"
rm -f "$root/proc/self/mountinfo"
[ $mountinfo = 1 ] && put proc/self/mountinfo "${info%$'\n'}"
swaps="Filename				Type		Size		Used		Priority"
[ -n "$swap" ] && swaps+="
$swap                               partition	8388604		0		-2"
[ -n "$swapfile" ] && swaps+="
$swapfile                               file	8388604		0		-3"
put proc/swaps "$swaps"

# Stacked interfaces: lower_* links for bonds and VLANs, brif/ for bridges.
for b in "${bonds[@]}"; do
	name=${b%%:*}; netdev virtual "$name"
	IFS=, read -ra lowers <<<"${b#*:}"
	for l in "${lowers[@]}"; do link "$(readlink -f "$root/sys/class/net/$l" | sed "s|^$root/||")" sys/devices/virtual/net/$name/lower_$l; done
done
for b in "${vlans[@]}"; do
	name=${b%%:*} l=${b#*:}; netdev virtual "$name"
	link "$(readlink -f "$root/sys/class/net/$l" | sed "s|^$root/||")" sys/devices/virtual/net/$name/lower_$l
done
for b in "${bridges[@]}"; do
	name=${b%%:*}; netdev virtual "$name"
	IFS=, read -ra ports <<<"${b#*:}"
	for l in "${ports[@]}"; do link "$(readlink -f "$root/sys/class/net/$l" | sed "s|^$root/||")" sys/devices/virtual/net/$name/brif/$l; done
done

# With the IOMMU, interrupt remapping: the chips carry the IR- prefix.
[ $iommu = 1 ] && put proc/interrupts "            CPU0
   0:         44   IR-IO-APIC    2-edge      timer
  24:          0   IR-PCI-MSI 65536-edge      ahci[0000:00:1f.2]"
routes="Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT"
[ -n "$route4" ] && routes+="
$route4	00000000	0102A8C0	0003	0	0	100	00000000	0	0	0
$route4	0002A8C0	00000000	0001	0	0	100	00FFFFFF	0	0	0"
put proc/net/route "$routes"
r6="fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eno1
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo"
[ -n "$route6" ] && r6+="
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00450003 $route6"
put proc/net/ipv6_route "$r6"
exit 0
