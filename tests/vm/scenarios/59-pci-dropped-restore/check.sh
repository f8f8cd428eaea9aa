d=/sys/bus/pci/devices/0000:02:00.0
check_eq e1000e-driver "$(basename "$(readlink $d/driver)")" e1000e
check_eq e1000e-override "$(attr $d/driver_override)" "(null)"
check_eq numvfs "$(attr /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs)" 0
check records-gone "records left in /var/lib/hostprep" sh -c '! ls /var/lib/hostprep/sriov /var/lib/hostprep/vfio 2>/dev/null'
