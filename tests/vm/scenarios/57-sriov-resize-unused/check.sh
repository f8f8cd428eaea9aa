pf=/sys/bus/pci/devices/0000:01:00.0
check_eq numvfs "$(attr $pf/sriov_numvfs)" 3
for i in 0 1 2; do
	check_eq "vf$i-driver" "$(basename "$(readlink $pf/virtfn$i/driver)")" vfio-pci
	g=$(basename "$(readlink $pf/virtfn$i/iommu_group)")
	check "vf$i-dev-vfio" "/dev/vfio/$g is not a character device" test -c /dev/vfio/$g
done
check_eq record "$(cat /var/lib/hostprep/sriov)" "0000:01:00.0 3"
