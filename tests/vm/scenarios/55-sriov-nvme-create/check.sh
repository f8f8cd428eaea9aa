# Leaves 2 VFs on vfio-pci for 56 and 57.
pf=/sys/bus/pci/devices/0000:01:00.0
check_eq numvfs "$(attr $pf/sriov_numvfs)" 2
check_eq autoprobe "$(attr $pf/sriov_drivers_autoprobe)" 0
groups=
for i in 0 1; do
	vf=$(basename "$(readlink $pf/virtfn$i)")
	g=$(basename "$(readlink $pf/virtfn$i/iommu_group)")
	groups="$groups $g"
	check_eq "vf$i-driver" "$(basename "$(readlink $pf/virtfn$i/driver)")" vfio-pci "$vf"
	check "vf$i-dev-vfio" "/dev/vfio/$g is not a character device" test -c /dev/vfio/$g
	check_eq "vf$i-override" "$(attr $pf/virtfn$i/driver_override)" vfio-pci
done
check_eq record "$(cat /var/lib/hostprep/sriov)" "0000:01:00.0 2"
jvars "$OUT/apply2.json" '.capabilities.sriov[] | select(.address == "0000:01:00.0") |
	{numvfs, autoprobe, drivers: ([.vfs[].driver] | join(",")), groups: ([.vfs[].iommu_group | tostring] | join(" ")), name}'
check_eq report-numvfs "$j_numvfs" 2
check_eq report-autoprobe "$j_autoprobe" false
check_eq report-vf-drivers "$j_drivers" vfio-pci,vfio-pci
check_eq report-vf-groups "$j_groups" "${groups# }"
check_eq report-name "$j_name" "Red Hat, Inc. QEMU NVM Express Controller" "name from pci.ids"
