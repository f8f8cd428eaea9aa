#!/bin/bash
# Boot test, in the guest (ExecStop= of hostprep-test-shutdown.service, stopped after
# hostprep.service and before the journal):
# hostprep's state and journal, as "S KEY VALUE" lines.  Whether the shutdown is a
# reboot or a poweroff, hostprep-test-at-{reboot,poweroff}.service say later.
exec 3>/dev/ttyS1
s() { printf 'S %s\n' "$*" >&3; }
s begin
s boot_id "$(cat /proc/sys/kernel/random/boot_id)"
timeout 60 systemctl show hostprep.service -p ActiveState -p Result -p ExecMainStatus -p ExecMainCode |
	while IFS= read -r l; do s "show $l"; done
s starts "$(journalctl -b -u hostprep.service -o cat | grep -c '^Starting hostprep.service')"
journalctl -b -u hostprep.service -o cat | while IFS= read -r l; do s "journal $l"; done
s end
