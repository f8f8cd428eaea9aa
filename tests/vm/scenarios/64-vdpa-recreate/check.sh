/sbin/vdpa -j dev config show vdpa0 >"$OUT/config.json" 2>&1
jvars "$OUT/config.json" '{mac: .config.vdpa0.mac, mtu: .config.vdpa0.mtu}'
check_eq mac "$j_mac" 02:00:00:00:00:20
check_eq mtu "$j_mtu" 9000
node=$(ls -d /sys/bus/vdpa/devices/vdpa0/vhost-vdpa-* 2>/dev/null | head -n 1)
check dev-node "no vhost-vdpa node after re-creating" test -c "/dev/${node##*/}"
check_eq message "$(jqr '.actions[0].message' "$OUT/apply.json")" "re-created on vdpasim_net, bound to vhost_vdpa, /dev/${node##*/}"
check_eq recorded "$(cat /var/lib/hostprep/vdpa 2>&1)" "vdpa0 vdpasim_net"
