# Devices that come late, as at boot while udev's coldplug still loads drivers:
# the NVMe PF's driver and the e1000e (so its interface) are loaded 3 s after
# hostprep starts.  apply waits for what the profile names (the PF with its
# driver, the interface) instead of failing "no driver bound" / "no device
# matches"; a device that never comes fails after the bounded wait, named.
# Leaves the PF at 0 VFs and the e1000e on e1000e (the state before). An interface
# selector in [vfio] names the device only while its driver holds it: the second run
# names it by address.
pf=0000:01:00.0 nic=0000:02:00.0
ifname=$(ls /sys/bus/pci/devices/$nic/net 2>/dev/null | head -n 1)
check_eq have-ifname "${ifname:+yes}" yes "the e1000e's interface before the test"
/sbin/rmmod nvme e1000e
check no-driver-before "the PF still has a driver" test ! -e /sys/bus/pci/devices/$pf/driver
check no-ifname-before "$ifname still exists" test ! -e "/sys/class/net/$ifname"

cat >"$OUT/late.ini" <<INI
[sriov 01:00.0]
numvfs = 1
autoprobe = no
[vfio]
devices = $ifname
INI
(sleep 3; /sbin/modprobe nvme; /sbin/modprobe e1000e) &
read -r t0 _ </proc/uptime
hp -j -p "$OUT/late.ini" apply >"$OUT/late.json" 2>"$OUT/late.err"
rc=$?
read -r t1 _ </proc/uptime
wait
sed 's/^/  stderr: /' "$OUT/late.err"
check_eq late-exit "$rc" 2 "apply with late drivers ($(head -c 300 "$OUT/late.err" | tr '\n' ' '))"
waited=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a >= 2.5 && b - a < 30) ? "yes" : "no (" b - a " s)" }')
check_eq late-waited "$waited" yes "apply ran until the drivers came (3 s), bounded"
check_eq late-numvfs "$(attr /sys/bus/pci/devices/$pf/sriov_numvfs)" 1
check_eq late-nic-on-vfio "$(basename "$(readlink /sys/bus/pci/devices/$nic/driver)")" vfio-pci
check_eq late-no-warnings "$(jqr '.warnings | length' "$OUT/late.json")" 0
# Succeeded, nothing left for a reboot: the readiness marker names the profile.
check_eq ready-file "$(cat /run/hostprep/ready 2>&1)" "$(sha256sum "$OUT/late.ini")"
# Again, the e1000e named by its address: its interface went with its driver.
sed "s/^devices = .*/devices = $nic/" "$OUT/late.ini" >"$OUT/again.ini"
hp -j -p "$OUT/again.ini" apply >"$OUT/again.json" 2>&1
check_eq late-again "$?" 0 "apply again: $(jqr '[.actions[] | select(.state != "ok") | "\(.target) \(.state) \(.message)"] | join("; ")' "$OUT/again.json")"

# Back to the state before: both sections dropped.
printf '[thp]\nenabled = madvise\n' >"$OUT/drop.ini"
hp -j -p "$OUT/drop.ini" apply >"$OUT/drop.json" 2>&1
check_eq drop-exit "$?" 2
check_eq drop-numvfs "$(attr /sys/bus/pci/devices/$pf/sriov_numvfs)" 0
check_eq drop-nic "$(basename "$(readlink /sys/bus/pci/devices/$nic/driver)")" e1000e

# A VF of a PF the same profile names: this run makes it, so it is not waited for.
cat >"$OUT/vf.ini" <<INI
[sriov 01:00.0]
numvfs = 1
autoprobe = no
[vfio]
devices = 0000:01:00.1
INI
read -r t0 _ </proc/uptime
hp -j -p "$OUT/vf.ini" --device-timeout=20 apply >"$OUT/vf.json" 2>"$OUT/vf.err"
rc=$?
read -r t1 _ </proc/uptime
check_eq vf-exit "$rc" 2 "apply naming a VF it creates ($(head -c 300 "$OUT/vf.err" | tr '\n' ' '))"
check_eq vf-no-wait "$(jqr '.warnings | length' "$OUT/vf.json")" 0 "warnings: $(jqr '.warnings | join("; ")' "$OUT/vf.json")"
waited=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a < 15) ? "yes" : "no (" b - a " s)" }')
check_eq vf-not-waited "$waited" yes "apply did not wait for the VF"
check_eq vf-on-vfio "$(basename "$(readlink /sys/bus/pci/devices/0000:01:00.1/driver)")" vfio-pci
# Back: the VF leaves vfio-pci first (its record goes), then the VFs go.
sed '/^\[vfio\]/,$d' "$OUT/vf.ini" >"$OUT/vf-sriov-only.ini"
hp -j -p "$OUT/vf-sriov-only.ini" apply >"$OUT/vf-back.json" 2>&1
check_eq vf-back "$?" 2 "the VF back from vfio-pci"
hp -j -p "$OUT/drop.ini" apply >"$OUT/drop2.json" 2>&1
check_eq vf-drop "$(attr /sys/bus/pci/devices/$pf/sriov_numvfs)" 0
check vf-records-gone "records left in /var/lib/hostprep" sh -c '! ls /var/lib/hostprep/sriov /var/lib/hostprep/vfio 2>/dev/null'

# A device that never comes: the wait ends at --device-timeout and names it.
cat >"$OUT/never.ini" <<INI
[sriov 0000:09:00.0]
numvfs = 1
INI
read -r t0 _ </proc/uptime
hp -j -p "$OUT/never.ini" --device-timeout=2 apply >"$OUT/never.json" 2>"$OUT/never.err"
rc=$?
read -r t1 _ </proc/uptime
check_eq never-exit "$rc" 4
check ready-withdrawn "/run/hostprep/ready left after a failed apply" test ! -e /run/hostprep/ready
jvars "$OUT/never.json" '{w: (.warnings | join("|")), m: ([.actions[] | select(.state == "failed") | .message] | join("|"))}'
case $j_w in
*"devices: waited 2 s for 0000:09:00.0 ([sriov 0000:09:00.0] at $OUT/never.ini:1): 0000:09:00.0 is not present"*) pass never-warning ;;
*) fail never-warning "warnings: $j_w" ;;
esac
check_eq never-failed "$j_m" "no device matches 0000:09:00.0"
check never-stderr "stderr lacks the wait" grep -q "waited 2 s for 0000:09:00.0" "$OUT/never.err"
waited=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a >= 2 && b - a < 10) ? "yes" : "no (" b - a " s)" }')
check_eq never-bounded "$waited" yes "the wait took --device-timeout"
