h=hugepages-2048kB
check_eq node0 "$(attr /sys/devices/system/node/node0/hugepages/$h/nr_hugepages)" 48
check_eq node1 "$(attr /sys/devices/system/node/node1/hugepages/$h/nr_hugepages)" 16
check_eq total "$(attr /sys/kernel/mm/hugepages/$h/nr_hugepages)" 64
