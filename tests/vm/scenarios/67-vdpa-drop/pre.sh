/sbin/vdpa dev add name manual0 mgmtdev vdpasim_net
check manual0 "vdpa dev add manual0 failed" test -e /sys/bus/vdpa/devices/manual0
