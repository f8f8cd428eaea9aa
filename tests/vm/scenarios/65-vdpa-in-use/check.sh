pid=$(cat /run/vm/vdpa-holder)
node=$(ls -d /sys/bus/vdpa/devices/vdpa0/vhost-vdpa-* | head -n 1)
check_eq message "$(jqr '.actions[0].message' "$OUT/apply.json")" \
	"differs from the profile but is in use: /dev/${node##*/} is open by pid $pid (sleep); not re-creating"
kill "$pid"
wait "$pid" 2>/dev/null
check_eq mac-unchanged "$(/sbin/vdpa -j dev config show vdpa0 | /usr/bin/jq -r .config.vdpa0.mac)" 02:00:00:00:00:20
