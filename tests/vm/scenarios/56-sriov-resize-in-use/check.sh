pid=$(cat "$OUT/holder.pid") g=$(cat "$OUT/holder.group")
check_eq numvfs "$(attr /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs)" 2 "VFs kept"
msg=$(jqr '.actions[] | select(.target == "0000:01:00.0 numvfs") | .message' "$OUT/apply.json")
check refused-names-holder "message: $msg" sh -c 'case "$1" in *"is in use: its /dev/vfio/'"$g"' is open by pid '"$pid"'"*) ;; *) exit 1 ;; esac' - "$msg"
kill -9 "$pid"
# bounded: the holder's fds are gone once it has died
i=0
while [ -e "/proc/$pid/fd/3" ] && [ $i -lt 100 ]; do usleep 20000; i=$((i + 1)); done
check holder-gone "pid $pid still holds /dev/vfio/$g" test ! -e "/proc/$pid/fd/3"
