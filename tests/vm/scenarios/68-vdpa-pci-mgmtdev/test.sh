# PCI management devices: one that does not exist yet (a VF this run may create) is pending
# in audit and fails in apply; a PCI device that exists but offers no vDPA (the e1000e) fails
# at once, also when named by its vendor:device (resolved through libpci on the real sysfs).
# The profile names the NIC's real address, so it is written here.
nic=$(grep -l 0x020000 /sys/bus/pci/devices/*/class | head -n 1)
nic=${nic%/class}
nic=${nic##*/}
P=$OUT/profile.ini
ids=$(cat "/sys/bus/pci/devices/$nic/vendor" "/sys/bus/pci/devices/$nic/device" | sed 's/^0x//' | tr '\n' ':')
printf '[vdpa vf9]\nmgmtdev = pci/0000:0f:1f.7\n[vdpa nic0]\nmgmtdev = %s\n[vdpa nic1]\nmgmtdev = %s\n' \
	"$nic" "${ids%:}" >"$P"
chmod 0644 "$P"
for step in audit apply; do
	hp -j -p "$P" "$step" >"$OUT/$step.json" 2>"$OUT/$step.err"
	check_eq "$step-exit" "$?" 4 "hostprep $step ($(head -c 200 "$OUT/$step.err"))"
	jvars "$OUT/$step.json" '{vf: (.actions[] | select(.target == "vf9") | "\(.state): \(.message)"),
		nic: (.actions[] | select(.target == "nic0") | "\(.state): \(.message)"),
		nic1: (.actions[] | select(.target == "nic1") | "\(.state): \(.message)")}'
	check_eq "$step-nic0" "$j_nic" "failed: management device pci/$nic not found (present: vdpasim_net)"
	check_eq "$step-nic1-by-id" "$j_nic1" "failed: management device pci/$nic not found (present: vdpasim_net)"
	if [ "$step" = audit ]; then
		check_eq audit-vf9 "$j_vf" "pending: the PCI device does not exist yet (an SR-IOV VF of this run?); apply checks again"
	else
		check_eq apply-vf9 "$j_vf" "failed: management device pci/0000:0f:1f.7 not found (present: vdpasim_net)"
	fi
done
check_eq no-devices "$(ls /sys/bus/vdpa/devices | wc -l)" 0
check no-record "/var/lib/hostprep/vdpa exists" test ! -e /var/lib/hostprep/vdpa
