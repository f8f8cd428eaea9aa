jvars "$OUT/audit.json" '{a: ([.actions[] | "\(.target)=\(.state)"] | join(",")),
	m: (.actions[] | select(.target == "vdpa0") | .message)}'
check_eq audit-actions "$j_a" "module vdpa=pending,module vhost_vdpa=pending,vdpa0=pending"
check_eq audit-message "$j_m" "create (after loading vdpa)"
jvars "$OUT/apply.json" '{a: ([.actions[] | "\(.target)=\(.state)"] | join(",")),
	m: (.actions[] | select(.target == "vdpa0") | .message)}'
check_eq apply-actions "$j_a" "module vdpa=changed,module vhost_vdpa=changed,vdpa0=failed"
check_eq apply-message "$j_m" "management device vdpasim_net not found (present: none)"
check vdpa-loaded "the vdpa module is not loaded" grep -q '^vdpa ' /proc/modules
check vhost-vdpa-loaded "vhost_vdpa is not loaded" test -d /sys/bus/vdpa/drivers/vhost_vdpa
