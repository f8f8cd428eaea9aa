check_eq driver "$(basename "$(readlink /sys/bus/vdpa/devices/vdpa0/driver)")" virtio_vdpa
jvars "$OUT/apply.json" '{a: ([.actions[] | "\(.target)=\(.state)"] | join(",")), m: (.actions[] | select(.target == "vdpa0") | .message)}'
check_eq apply-actions "$j_a" "module virtio_vdpa=changed,vdpa0=changed"
ifname=$(ls /sys/bus/vdpa/devices/vdpa0/virtio*/net 2>/dev/null | head -n 1)
check interface "no net interface under vdpa0" test -n "$ifname"
check_eq message "$j_m" "bound to virtio_vdpa, interface $ifname"
check_eq interface-mac "$(cat /sys/class/net/$ifname/address 2>&1)" 02:00:00:00:00:20
check_eq override "$(cat /sys/bus/vdpa/devices/vdpa0/driver_override)" virtio_vdpa
