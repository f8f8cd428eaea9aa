h=hugepages-2048kB
check_eq total "$(attr /sys/kernel/mm/hugepages/$h/nr_hugepages)" 64
# the kernel spreads an interleaved request evenly over the 2 nodes
check_eq node0 "$(attr /sys/devices/system/node/node0/hugepages/$h/nr_hugepages)" 32
check_eq node1 "$(attr /sys/devices/system/node/node1/hugepages/$h/nr_hugepages)" 32
check_eq meminfo "$(sed -n 's/^HugePages_Total: *//p' /proc/meminfo)" 64 "HugePages_Total (default size 2M)"
