/sbin/modprobe vdpa_sim_net
check mgmtdev-present "vdpasim_net is not a management device" sh -c '/sbin/vdpa mgmtdev show | grep -q vdpasim_net'
