# iproute2's view of what hostprep made
/sbin/vdpa -j dev show vdpa0 >"$OUT/dev.json" 2>&1
/sbin/vdpa -j dev config show vdpa0 >"$OUT/config.json" 2>&1
jvars "$OUT/dev.json" '{mgmt: .dev.vdpa0.mgmtdev, type: .dev.vdpa0.type}'
check_eq vdpa-dev-mgmtdev "$j_mgmt" vdpasim_net
check_eq vdpa-dev-type "$j_type" network
jvars "$OUT/config.json" '{mac: .config.vdpa0.mac, mtu: .config.vdpa0.mtu}'
check_eq vdpa-config-mac "$j_mac" 02:00:00:00:00:10
check_eq vdpa-config-mtu "$j_mtu" 9000
check_eq driver "$(basename "$(readlink /sys/bus/vdpa/devices/vdpa0/driver)")" vhost_vdpa
node=$(ls -d /sys/bus/vdpa/devices/vdpa0/vhost-vdpa-* 2>/dev/null | head -n 1)
node=/dev/${node##*/}
check dev-node "$node is not a character device" test -c "$node"
check_eq recorded "$(cat /var/lib/hostprep/vdpa 2>&1)" "vdpa0 vdpasim_net"
# hostprep's own account: the apply message and the report
jvars "$OUT/apply.json" '{msg: (.actions[] | select(.target == "vdpa0") | .message),
	a: ([.actions[] | "\(.target)=\(.state)"] | join(","))}'
check_eq apply-actions "$j_a" "vdpa0=changed"
check_eq apply-message "$j_msg" "created on vdpasim_net, bound to vhost_vdpa, $node"
jvars "$OUT/apply2.json" '{cur: (.actions[] | select(.target == "vdpa0") | .current), st: (.actions[] | select(.target == "vdpa0") | .state)}'
check_eq apply2-current "$j_cur" "mgmtdev=vdpasim_net mac=02:00:00:00:00:10 mtu=9000 driver=vhost_vdpa"
check_eq apply2-state "$j_st" ok
hp report -j >"$OUT/report.json" 2>"$OUT/report.err"
/sbin/vdpa -j mgmtdev show >"$OUT/mgmtdev.json" 2>&1
jvars "$OUT/mgmtdev.json" '{vqs: .mgmtdev.vdpasim_net.max_supported_vqs, cls: (.mgmtdev.vdpasim_net.supported_classes | join(","))}'
jvars "$OUT/report.json" '{m: ([.capabilities.vdpa.management_devices[] | "\(.name) \(.classes | join(",")) \(.max_vqs)"] | join(";")),
	d: ([.capabilities.vdpa.devices[] | "\(.name) \(.mgmtdev) \(.driver) \(.mac) \(.mtu) \(.max_vqp) \(.dev) \(.created_by_hostprep)"] | join(";"))}'
check_eq report-mgmtdevs "$j_m" "vdpasim_net $j_cls $j_vqs"
check_eq report-devices "$j_d" "vdpa0 vdpasim_net vhost_vdpa 02:00:00:00:00:10 9000 1 $node true"
