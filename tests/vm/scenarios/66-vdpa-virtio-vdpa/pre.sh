# udev loads virtio_net for the virtio device virtio_vdpa makes; the guest has no udev.
/sbin/modprobe virtio_net
check virtio-net "virtio_net did not load" grep -q '^virtio_net ' /proc/modules
