jvars "$OUT/apply.json" '{a: ([.actions[] | "\(.target)=\(.state)"] | join(",")),
	m: (.actions[] | select(.target == "vdpa1") | .message)}'
check_eq apply-actions "$j_a" "vdpa0=ok,vdpa1=failed"
check_eq apply-message "$j_m" "creating vdpa1 on vdpasim_net: management device vdpasim_net does not accept max_vqp"
check no-vdpa1 "vdpa1 exists" test ! -e /sys/bus/vdpa/devices/vdpa1
