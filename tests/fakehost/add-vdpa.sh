#!/bin/bash
# Add vDPA to a fake host made by mkhost.sh: the vdpa bus with its two drivers,
# their modules, and devices laid out as the kernel does (the device under its
# management device, a link from /sys/bus/vdpa/devices, the driver link, a
# vhost-vdpa-N child and /dev node or a virtio child with a net interface).
# Management devices and device config are not in sysfs: netlink only.
#
#   add-vdpa.sh ROOT [--no-bus] [--unloaded MODULE]...
#                    [--dev NAME:MGMTDEV[:DRIVER]]...   MGMTDEV: vdpasim_net or pci/0000:03:00.2;
#                                                       DRIVER: vhost_vdpa (default), virtio_vdpa, none
#                    [--open PID:DEVNODE]...            a process holding /dev/vhost-vdpa-N open
#                    [--up IFNAME]...                   a virtio_vdpa interface that is up
set -euo pipefail

root=$1; shift
bus=1 unloaded=() devs=() opens=() ups=()
while [ $# -gt 0 ]; do
	case $1 in
	--no-bus) bus=0 ;;
	--unloaded) unloaded+=("$2"); shift ;;
	--dev) devs+=("$2"); shift ;;
	--open) opens+=("$2"); shift ;;
	--up) ups+=("$2"); shift ;;
	*) echo "add-vdpa: unknown option $1" >&2; exit 1 ;;
	esac
	shift
done

put() { mkdir -p "$(dirname "$root/$1")"; printf '%s\n' "$2" > "$root/$1"; }
# relative symlink: link LINK (below root) -> TARGET (below root)
rlink() { mkdir -p "$(dirname "$root/$1")" "$root/$2"; ln -sfn "$(realpath -m --relative-to="$(dirname "$root/$1")" "$root/$2")" "$root/$1"; }

unloaded() { local u; for u in "${unloaded[@]}"; do [ "$u" = "$1" ] && return 0; done; return 1; }
[ $bus = 1 ] || exit 0
for d in vhost_vdpa virtio_vdpa; do
	unloaded $d && continue   # a driver registers with the bus when its module loads
	mkdir -p "$root/sys/bus/vdpa/drivers/$d"
	: > "$root/sys/bus/vdpa/drivers/$d/bind"; : > "$root/sys/bus/vdpa/drivers/$d/unbind"
done
mkdir -p "$root/sys/bus/vdpa/devices"
put sys/bus/vdpa/drivers_autoprobe 1
: > "$root/sys/bus/vdpa/drivers_probe"
for m in vdpa vhost_vdpa virtio_vdpa vhost vhost_iotlb; do
	unloaded $m || put "sys/module/$m/refcnt" 0
done

vhost_n=0 virtio_n=0
for spec in "${devs[@]}"; do
	IFS=: read -r name mgmt driver <<<"$spec"
	# the PCI form has colons of its own: NAME:pci/DDDD:BB:DD.F[:DRIVER]
	case $spec in
	*:pci/*) name=${spec%%:*}; rest=${spec#*:pci/}; bdf=$(cut -d: -f1-3 <<<"$rest"); driver=$(cut -s -d: -f4 <<<"$rest")
		parent=sys/devices/pci0000:00/$bdf
		rlink "$parent/subsystem" sys/bus/pci
		rlink "sys/bus/pci/devices/$bdf" "$parent" ;;
	*) parent=sys/devices/$mgmt; mkdir -p "$root/$parent" ;;
	esac
	driver=${driver:-vhost_vdpa}
	dev=$parent/$name
	put "$dev/driver_override" "(null)"
	put "$dev/uevent" "DRIVER=$driver"
	rlink "sys/bus/vdpa/devices/$name" "$dev"
	case $driver in
	vhost_vdpa)
		rlink "$dev/driver" sys/bus/vdpa/drivers/vhost_vdpa
		put "$dev/vhost-vdpa-$vhost_n/dev" "511:$vhost_n"
		: > "$root/dev/vhost-vdpa-$vhost_n"
		vhost_n=$((vhost_n + 1)) ;;
	virtio_vdpa)
		rlink "$dev/driver" sys/bus/vdpa/drivers/virtio_vdpa
		ifname=eth$((virtio_n + 10))
		mkdir -p "$root/$dev/virtio$virtio_n/net/$ifname"
		put "sys/class/net/$ifname/flags" 0x1002
		virtio_n=$((virtio_n + 1)) ;;
	none) ;;
	*) echo "add-vdpa: unknown driver $driver" >&2; exit 1 ;;
	esac
done

for o in "${opens[@]}"; do
	pid=${o%%:*} node=${o#*:}
	mkdir -p "$root/proc/$pid/fd"
	put "proc/$pid/comm" qemu-system-x86
	ln -sfn /dev/null "$root/proc/$pid/fd/0"
	ln -sfn "$node" "$root/proc/$pid/fd/7"
done
for i in "${ups[@]}"; do put "sys/class/net/$i/flags" 0x1003; done
exit 0
