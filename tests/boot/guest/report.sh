#!/bin/bash
# Boot test, in the guest (hostprep-test-report.service, Type=simple): once the boot
# is done, write what the host checks to the second serial port, one "R KEY VALUE"
# line each (the audit document as "J" lines), then power off.  A boot that ends
# in a shutdown instead (the first boot's reboot) writes only its state.
exec 3>/dev/ttyS1
r() { printf 'R %s\n' "$*" >&3; }
state=$(systemctl is-system-running --wait 2>/dev/null)
r begin
r state "$state"
case $state in
running | degraded) ;;
*) r end; exit 0 ;;
esac
r boot_id "$(cat /proc/sys/kernel/random/boot_id)"
r cmdline "$(cat /proc/cmdline)"
for u in hostprep.service network-pre.target libvirtd.service hostprep-ready.target; do
	systemctl show "$u" -p ActiveState -p Result -p ExecMainStatus \
		-p ActiveEnterTimestampMonotonic -p InactiveExitTimestampMonotonic -p ExecMainExitTimestampMonotonic |
		while IFS= read -r l; do r "show $u $l"; done
done
r failed "$(systemctl list-units --failed --plain --no-legend | cut -d' ' -f1 | tr '\n' ' ')"
r starts "$(journalctl -b -u hostprep.service -o cat | grep -c '^Starting hostprep.service')"
journalctl -b -u hostprep.service -o cat | while IFS= read -r l; do r "journal $l"; done
journalctl -b -u hostprep.service -p err -o cat | while IFS= read -r l; do r "journal-err $l"; done
journalctl -b -u late-nvme.service -o cat | while IFS= read -r l; do r "late $l"; done
if [ -e /run/hostprep/ready ]; then
	while IFS= read -r l; do r "ready $l"; done </run/hostprep/ready
	if sha256sum -c --quiet /run/hostprep/ready >/dev/null 2>&1; then r ready-check ok; else r ready-check bad; fi
else
	r ready-check absent
fi
pf=/sys/bus/pci/devices/0000:01:00.0
r pf-driver "$(basename "$(readlink $pf/driver 2>/dev/null)" 2>/dev/null)"
r numvfs "$(cat $pf/sriov_numvfs)"
for v in "$pf"/virtfn*; do
	[ -e "$v" ] && r vf "$(basename "$(readlink "$v")") $(basename "$(readlink "$v/driver" 2>/dev/null)" 2>/dev/null)"
done
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10d3 ] &&
		r nic "$(basename "$d") $(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)"
done
r hugepages-1G-node1 "$(cat /sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages)"
r tainted "$(cat /proc/sys/kernel/tainted)"
# the boot is over: nothing more is coming, no device wait
hostprep audit -j --device-timeout=0 >/run/audit.json 2>/run/audit.err
r audit-rc "$?"
while IFS= read -r l; do printf 'J %s\n' "$l" >&3; done </run/audit.json
while IFS= read -r l; do r "audit-err $l"; done </run/audit.err
r security "$(systemd-analyze security hostprep.service --no-pager 2>/dev/null | grep 'Overall exposure')"
systemd-analyze critical-chain hostprep.service --no-pager 2>/dev/null | while IFS= read -r l; do r "chain $l"; done
for f in /var/lib/hostprep/*; do [ -e "$f" ] && r "record $(basename "$f") $(tr '\n' ' ' <"$f")"; done
r end
exec 3>&-
systemctl poweroff
