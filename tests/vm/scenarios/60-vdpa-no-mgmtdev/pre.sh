# the state this scenario starts from: no vdpa module, no "vdpa" genl family
check no-vdpa-before "vdpa is loaded already" sh -c '! grep -q "^vdpa " /proc/modules'
