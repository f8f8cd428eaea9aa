# A "VM" holds the second VF's VFIO group open; 2 → 3 must be refused and nothing change.
g=$(basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/virtfn1/iommu_group)")
( exec 3</dev/vfio/"$g"; exec sleep 600 ) &
echo $! >"$OUT/holder.pid"
echo "$g" >"$OUT/holder.group"
