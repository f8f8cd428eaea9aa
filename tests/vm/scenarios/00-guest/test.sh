# The guest is what the other scenarios assume; checked without hostprep, so that a
# harness or QEMU problem shows up here rather than as an agent failure.
check_eq kernel "$(uname -r)" "$(ls /lib/modules)" "running kernel vs initramfs modules"
check_eq numa-nodes "$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)" 2
check_eq node0-cpus "$(cat /sys/devices/system/node/node0/cpulist)" 0
check_eq node1-cpus "$(cat /sys/devices/system/node/node1/cpulist)" 1
check iommu-groups "no IOMMU groups (intel_iommu=on not honoured?)" \
	test -n "$(ls /sys/kernel/iommu_groups 2>/dev/null)"
check_eq boot-1G-pages "$(attr /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages)" 1 \
	"1 GiB pages reserved by hugepagesz=1G hugepages=1"
check_eq default-hugepage-size "$(sed -n 's/^Hugepagesize: *//p' /proc/meminfo)" "2048 kB"
nvme=$(grep -l 0x010802 /sys/bus/pci/devices/*/class | head -n 1)
nvme=${nvme%/class}
check_eq nvme-sriov-totalvfs "$(attr "$nvme/sriov_totalvfs")" 4 "NVMe PF ${nvme##*/}"
check_eq nvme-driver "$(basename "$(readlink "$nvme/driver")")" nvme "coldplug"
check modprobe-is-kmod "/sbin/modprobe is not kmod's" sh -c '/sbin/modprobe --version | grep -q kmod'
