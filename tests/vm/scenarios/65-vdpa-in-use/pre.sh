node=$(ls -d /sys/bus/vdpa/devices/vdpa0/vhost-vdpa-* | head -n 1)
node=/dev/${node##*/}
# the holder: a shell with the device open on fd 5, killed by check.sh
sh -c "exec 5<>$node; exec sleep 300" &
echo $! >/run/vm/vdpa-holder
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(readlink /proc/$!/fd/5 2>/dev/null)" = "$node" ] && break
	sleep 0.2
done
check holder "no process holds $node" test "$(readlink /proc/$!/fd/5)" = "$node"
