# The first-boot path: actions whose precondition is a kernel argument this
# profile has pending for the next boot, hugepages reserved at boot (audit and
# apply agree), the reboot asked for after the report, the first-boot policy.

boot() { "$TESTS_DIR/fakehost/add-boot.sh" "$ROOT" "$@"; }
calls() { cat "$ROOT/.kmodel/calls" 2>/dev/null || true; }
clear_calls() { rm -f "$ROOT/.kmodel/calls"; }
simulate_boot() { echo "$1" > "$ROOT/proc/cmdline"; echo "$2" > "$ROOT/proc/sys/kernel/random/boot_id"; }

# Defect 1: a first boot with the IOMMU off, a profile that turns it on and
# binds devices.  The binds wait for the next boot; nothing fails.
test_vfio_with_the_iommu_pending_in_this_profile_is_pending_reboot() {
	pcihost --no-iommu; boot kernel-cmdline
	profile p.ini <<'INI'
[kernel]
iommu = on
[vfio]
devices = 0000:65:00.0, 0000:65:00.1
INI
	snapshot
	hp -p "$P" -j audit
	assert_rc 2
	assert_unchanged
	assert_eq "$(action 0000:65:00.0 state)" pending-reboot
	assert_contains "$(action 0000:65:00.0 message)" "the IOMMU comes with the next boot (intel_iommu=on"
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(jqo .failed)" false
	assert_eq "$(action intel_iommu state)" pending-reboot
	assert_eq "$(action 0000:65:00.0 state)" pending-reboot
	assert_eq "$(action 0000:65:00.1 state)" pending-reboot
	assert_eq "$(driver_of 0000:65:00.0)" nouveau
	assert_eq "$(jqo .reboot_required)" true
	# Same boot, nothing more to write: exit 0 for apply and audit alike.
	assert_idempotent
	# Without the argument in the profile, the refusal stands.
	profile q.ini <<'INI'
[vfio]
devices = 0000:65:00.0, 0000:65:00.1
INI
	hp -p "$P" -j audit
	assert_rc 4
	assert_eq "$(action 0000:65:00.0 state)" failed
	assert_contains "$(action 0000:65:00.0 message)" "it has no IOMMU group: the IOMMU is off"
}

test_vfio_with_iommu_off_in_the_profile_stays_refused() {
	pcihost --no-iommu; boot kernel-cmdline
	profile p.ini <<'INI'
[kernel]
iommu = off
[vfio]
devices = 0000:65:00.0, 0000:65:00.1
INI
	hp -p "$P" -j audit
	assert_eq "$(action 0000:65:00.0 state)" failed
}

# VFs for vfio-pci on a host whose IOMMU the profile turns on: the VFs are made
# now, their binding waits for the next boot.
test_sriov_vfs_for_vfio_with_the_iommu_pending_are_pending_reboot() {
	pcihost --no-iommu; boot kernel-cmdline
	profile p.ini <<'INI'
[kernel]
iommu = pt
[sriov 0000:03:00.0]
numvfs = 2
vf_driver = vfio-pci
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(jqo .failed)" false
	assert_eq "$(action '0000:03:00.0 numvfs' state)" changed
	assert_eq "$(action '0000:03:00.0 VF driver' state)" pending-reboot
	assert_contains "$(action '0000:03:00.0 VF driver' message)" "the IOMMU comes with the next boot"
	assert_idempotent
}

# Defect 2: boot = yes and the boot-time reservation still to come.  Audit and
# apply agree on pending-reboot, and no run writes nr_hugepages for it.
test_hugepages_the_next_boot_reserves_are_pending_reboot_without_writes() {
	mkhost --limit 0:1048576:1 --limit 1:1048576:1; boot kernel-cmdline
	profile p.ini <<'INI'
[hugepages]
1G.node0 = 4
boot = yes
INI
	snapshot
	hp -p "$P" -j audit
	assert_rc 2
	assert_unchanged
	assert_eq "$(action 'hugepagesz=1G' state)" pending
	assert_eq "$(action '1G pages node0' state)" pending-reboot
	assert_contains "$(action '1G pages node0' message)" "the next boot reserves them (hugepagesz=1G hugepages=0:4)"
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(action '1G pages node0' state)" pending-reboot
	assert_not_contains "$(writes)" nr_hugepages "writes"
	assert_idempotent
	# Booted with the reservation and it holds: nothing pending.
	simulate_boot "root=/dev/sda1 ro quiet hugepagesz=1G hugepages=0:4" 6b1d2c1e-0000-4000-8000-000000000002
	echo 4 > "$ROOT/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages"
	echo 4 > "$ROOT/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(action '1G pages node0' state)" ok
}

# The boot-time reservation is running and still short: another boot gives the
# same, so it is a failure, and audit says apply would write (exit 2).
test_hugepages_short_with_the_reservation_running_fail_and_audit_agrees() {
	mkhost --limit 0:1048576:1 --cmdline "root=/dev/sda1 ro hugepagesz=1G hugepages=0:4"
	profile p.ini <<'INI'
[kernel]
bootloader = none
[hugepages]
1G.node0 = 4
boot = yes
INI
	hp -p "$P" -j apply
	assert_rc 6
	assert_eq "$(action '1G pages node0' state)" failed
	assert_contains "$(action '1G pages node0' message)" "asked for 4, the kernel granted 1"
	hp -p "$P" -j audit
	assert_rc 2
	clear_writes
	hp -p "$P" -j apply
	assert_rc 4
	assert_contains "$(writes)" nr_hugepages
}

isolation() {
	profile p.ini <<'INI'
[kernel]
isolcpus = 2-7
INI
}

# hostprep as the unit runs it, stdout into a file inside the root, so that
# the systemctl double can see how much of the report was out when it ran.
hp_report_in_root() {
	set +e
	HOSTPREP_KMODEL_ROOT=$ROOT LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		timeout 60 "$HOSTPREP" -r "$ROOT" "$@" >"$ROOT/report.json" 2>"$T/.err"
	rc=$?
	set -e
	out=$(cat "$ROOT/report.json"); err=$(cat "$T/.err")
}

# Defect 4: the reboot is asked for after the report is printed, and without
# blocking (the unit's own shutdown must find it done).
test_reboot_is_asked_for_after_the_report_without_blocking() {
	mkhost; boot kernel-cmdline; isolation
	cat > "$ROOT/usr/bin/systemctl" <<'SH'
#!/bin/sh
echo "systemctl $*" >> /.kmodel/calls
cp /report.json /.kmodel/report-at-reboot
SH
	hp_report_in_root -p "$P" -j apply --reboot=if-needed
	assert_rc 2
	assert_eq "$(calls)" "systemctl reboot --no-block" "tools run"
	assert_eq "$(jq -r '.actions[] | select(.target=="reboot") | .state' "$ROOT/.kmodel/report-at-reboot")" changed \
		"the report as it was when systemctl ran"
	assert_contains "$(action reboot message)" "rebooting for isolcpus=2-7"
	assert_contains "$(cat "$ROOT/var/lib/hostprep/reboot-guard")" "cmdline=isolcpus=2-7"
}

test_a_refused_reboot_request_is_an_error_after_the_report() {
	mkhost; boot kernel-cmdline; isolation
	echo "Failed to reboot system: Access denied" > "$ROOT/etc/hostprep-test/systemctl.fail"
	hp -p "$P" -j apply --reboot=if-needed
	assert_rc 6
	assert_eq "$(jqo .exit_code)" 2
	assert_contains "$err" "reboot: /usr/bin/systemctl reboot --no-block exited with status 1: Failed to reboot system: Access denied"
}

# --reboot=first-boot: if-needed during the first boot-time run only.
test_first_boot_policy_reboots_once_and_never_on_later_boots() {
	mkhost; boot kernel-cmdline; isolation
	hp -p "$P" -j apply --reboot=first-boot
	assert_rc 2
	assert_eq "$(action reboot state)" changed
	assert_eq "$(calls)" "systemctl reboot --no-block" "tools run"
	assert_file /var/lib/hostprep/first-boot "boot_id=6b1d2c1e-0000-4000-8000-000000000001"
	# The unit started again before the reboot happened: still the first boot.
	clear_calls
	hp -p "$P" -j apply --reboot=first-boot
	assert_rc 2
	assert_eq "$(calls)" "systemctl reboot --no-block" "tools run"
	# Boot 2 runs the arguments: nothing to do, the guard goes.
	simulate_boot "root=/dev/sda1 ro quiet isolcpus=2-7" 6b1d2c1e-0000-4000-8000-000000000002
	clear_calls
	hp -p "$P" -j apply --reboot=first-boot
	assert_rc 0
	assert_eq "$(calls)" "" "tools run"
	[ ! -e "$ROOT/var/lib/hostprep/reboot-guard" ] || fail "guard left behind"
	# A later profile wants another argument: written, pending, but no reboot.
	profile p.ini <<'INI'
[kernel]
isolcpus = 2-7
nohz_full = 2-7
INI
	hp -p "$P" -j apply --reboot=first-boot
	assert_rc 2
	assert_eq "$(action nohz_full state)" pending-reboot
	assert_eq "$(jqo '[.actions[] | select(.target=="reboot")] | length')" 0
	assert_eq "$(calls)" "" "tools run"
	assert_file /var/lib/hostprep/first-boot "boot_id=6b1d2c1e-0000-4000-8000-000000000001"
}

test_device_timeout_option_is_checked() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = never
INI
	hp -p "$P" audit --device-timeout=soon
	assert_rc 1
	assert_contains "$err" "--device-timeout: expected seconds (0 to 3600), got 'soon'"
	hp -p "$P" audit --device-timeout=0
	assert_rc 2
}

# Journal priorities: <3> on error lines when stderr is the journal stream
# (JOURNAL_STREAM names its device and inode), nothing otherwise.
test_journal_priorities_when_stderr_is_the_journal() {
	mkhost --governors "powersave"
	profile p.ini <<'INI'
[cpu]
governor = performance
INI
	: > "$T/journal"
	set +e
	JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal") HOSTPREP_KMODEL_ROOT=$ROOT LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		"$HOSTPREP" -r "$ROOT" -p "$P" apply >/dev/null 2>>"$T/journal"
	set -e
	assert_contains "$(cat "$T/journal")" "<3>hostprep: error: cpu "
	# Another stream (stderr redirected away from the journal): plain lines.
	JOURNAL_STREAM=1:2 hp -p "$P" apply
	assert_contains "$err" "hostprep: error: cpu "
	assert_not_contains "$err" "<3>"
}
