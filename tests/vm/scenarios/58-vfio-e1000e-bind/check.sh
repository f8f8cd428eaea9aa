d=/sys/bus/pci/devices/0000:02:00.0
g=$(basename "$(readlink $d/iommu_group)")
check_eq driver "$(basename "$(readlink $d/driver)")" vfio-pci
check_eq override "$(attr $d/driver_override)" vfio-pci
check dev-vfio "/dev/vfio/$g is not a character device" test -c /dev/vfio/$g
check_eq record "$(cat /var/lib/hostprep/vfio)" "0000:02:00.0 e1000e"
jvars "$OUT/apply2.json" '.capabilities.vfio.devices[] | select(.address == "0000:02:00.0") |
	{group: .iommu_group, node: .dev_node_present, viable, name}'
check_eq report-group "$j_group" "$g"
check_eq report-node "$j_node" true
check_eq report-viable "$j_viable" true
check_eq report-name "$j_name" "Intel Corporation 82574L Gigabit Network Connection"
