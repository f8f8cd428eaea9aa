# [sriov]: VF creation, autoprobe order, VF drivers, the N→M policy with VFs
# in use, the bounded write, records and rollback, selectors.  Fake PCI
# devices come from tests/fakehost/add-pci.sh (see its header for the list).

PF=/sys/bus/pci/devices/0000:03:00.0

two_vfs() {
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
vf_driver = vfio-pci
INI
}

test_sriov_create_sets_autoprobe_first_binds_vfs_and_is_idempotent() {
	pcihost; two_vfs
	hp -p "$P" -j apply
	assert_rc 2
	assert_file $PF/sriov_numvfs 2
	assert_file $PF/sriov_drivers_autoprobe 0
	# autoprobe is written before numvfs, and no VF driver ever probed them.
	assert_eq "$(writes | grep -n 'sriov_' | cut -d' ' -f1 | sed 's|.*/||' | tr '\n' ' ')" \
		"sriov_drivers_autoprobe sriov_numvfs " "write order"
	assert_not_contains "$(writes)" "ixgbevf"
	for vf in 0000:03:10.0 0000:03:10.2; do
		assert_eq "$(driver_of $vf)" vfio-pci "$vf driver"
		[ -e "$ROOT/dev/vfio/$(group_of $vf)" ] || fail "no /dev/vfio node for $vf"
	done
	assert_eq "$(readlink "$ROOT/sys/bus/pci/devices/0000:03:10.2/physfn" | xargs basename)" 0000:03:00.0 physfn
	assert_eq "$(cat "$ROOT/var/lib/hostprep/sriov")" "0000:03:00.0 2" "record"
	assert_eq "$(jqo '[.actions[].target] | join(",")')" \
		"0000:03:00.0 autoprobe,0000:03:00.0 numvfs,0000:03:00.0 VF driver" "actions"
	assert_eq "$(jqo '.actions[2].current')" "2x vfio-pci"
	assert_eq "$(jqo '.capabilities.sriov[0].vfs | map(.driver) | join(",")')" "vfio-pci,vfio-pci"
	assert_eq "$(jqo '.capabilities.sriov[0].name')" "Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network Connection"
	assert_idempotent
}

test_sriov_audit_writes_nothing() {
	pcihost; two_vfs; snapshot
	hp -p "$P" audit
	assert_rc 2
	assert_contains "$out" "0 -> 2"
	assert_contains "$out" "yes -> no"
	assert_eq "$(writes)" "" "writes"
	assert_unchanged
}

test_sriov_autoprobe_yes_lets_the_vf_driver_probe() {
	pcihost
	profile p.ini <<'INI'
[sriov ens1f0]
numvfs = 3
autoprobe = yes
vf_driver = ixgbevf
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(driver_of 0000:03:10.4)" ixgbevf
	# The kernel probed them: no binding writes were needed.
	assert_not_contains "$(writes)" "driver_override"
	assert_eq "$(jqo '.actions[] | select(.target=="0000:03:00.0 VF driver") | .state')" changed
	hp -p "$P" apply
	assert_rc 0
}

test_sriov_n_to_m_goes_through_zero_when_unused() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	profile q.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 3
vf_driver = vfio-pci
INI
	clear_writes
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(writes | grep sriov_numvfs | cut -d' ' -f2 | tr '\n' ' ')" "0 3 " "numvfs writes"
	assert_file $PF/sriov_numvfs 3
	assert_eq "$(jqo '.actions[] | select(.target=="0000:03:00.0 VF driver") | .current')" "3x vfio-pci"
	assert_eq "$(cat "$ROOT/var/lib/hostprep/sriov")" "0000:03:00.0 3" "record"
}

test_sriov_n_to_m_refused_while_a_vf_group_is_open() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	hold_group "$(group_of 0000:03:10.2)"
	profile q.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 3
INI
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(jqo '.actions[] | select(.target=="0000:03:00.0 numvfs") | .message')" \
		"VF 0000:03:10.2 is in use: its /dev/vfio/$(group_of 0000:03:10.2) is open by pid $HOLDER (sleep)"
	clear_writes; snapshot
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "keeping them"
	assert_eq "$(writes)" "" "writes"
	assert_unchanged
	# Once the VM is gone, the change goes through.
	release_group
	hp -p "$P" apply
	assert_rc 2
	assert_file $PF/sriov_numvfs 3
}

test_sriov_n_to_m_refused_when_a_vf_interface_is_up() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
autoprobe = yes
INI
	hp -p "$P" apply; assert_rc 2
	mkdir -p "$ROOT/sys/bus/pci/devices/0000:03:10.0/net/enp3s16"
	echo up > "$ROOT/sys/bus/pci/devices/0000:03:10.0/net/enp3s16/operstate"
	echo 0x1003 > "$ROOT/sys/bus/pci/devices/0000:03:10.0/net/enp3s16/flags"
	sed -i 's/numvfs = 2/numvfs = 4/' "$P"
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "VF 0000:03:10.0 is in use: its interface enp3s16 is up"
	assert_file $PF/sriov_numvfs 2
}

test_sriov_n_to_m_refused_for_a_vdpa_parent() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 1
INI
	hp -p "$P" apply; assert_rc 2
	mkdir -p "$ROOT/sys/devices/pci0000:00/0000:03:10.0/vdpa0" "$ROOT/sys/bus/vdpa/devices"
	ln -sr "$ROOT/sys/devices/pci0000:00/0000:03:10.0/vdpa0" "$ROOT/sys/bus/vdpa/devices/vdpa0"
	sed -i 's/numvfs = 1/numvfs = 2/' "$P"
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "VF 0000:03:10.0 is in use: it is the parent of vDPA device vdpa0"
}

test_sriov_reset_never_and_always() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	hold_group "$(group_of 0000:03:10.0)"
	profile never.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 4
reset = never
INI
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "changing 2 to 4 VFs goes through 0, which destroys them, and reset = never"
	profile always.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 4
reset = always
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_file $PF/sriov_numvfs 4
	assert_contains "$(jqo '.warnings[0]')" "reset = always: removing the VFs although VF 0000:03:10.0 is in use"
}

test_sriov_kernel_refusal_is_reported() {
	pcihost; two_vfs
	mkdir -p "$ROOT/.kmodel/fail/sys/devices/pci0000:00/0000:03:00.0"
	echo 16 > "$ROOT/.kmodel/fail/sys/devices/pci0000:00/0000:03:00.0/sriov_numvfs"
	hp -p "$P" -j apply
	assert_rc 6
	assert_eq "$(jqo '.actions[1].state')" failed
	assert_eq "$(jqo '.actions[1].message')" "writing 2 to sriov_numvfs: Device or resource busy"
	[ ! -e "$ROOT/var/lib/hostprep/sriov" ] || fail "a PF recorded although nothing was created"
}

test_sriov_slow_write_is_bounded_and_reported() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
timeout = 1
INI
	mkdir -p "$ROOT/.kmodel/slow/sys/devices/pci0000:00/0000:03:00.0"
	# The driver takes 8 s; the run gives up after 1.  The margin covers a
	# loaded machine and valgrind's start-up (the valgrind pass runs this too).
	echo 8 > "$ROOT/.kmodel/slow/sys/devices/pci0000:00/0000:03:00.0/sriov_numvfs"
	start=$(date +%s%N)
	hp -p "$P" apply
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	assert_rc 4
	assert_contains "$err" "writing 2 to sriov_numvfs did not return within 1 s"
	[ "$elapsed" -lt 6500 ] || fail "apply took ${elapsed} ms, the timeout is 1 s and the write 8 s"
	# The child that waits for the driver keeps the lock until the write returns.
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "holds"
	flock -w 20 "$ROOT/run/hostprep.lock" true || fail "the writer did not finish"
	assert_file $PF/sriov_numvfs 2
	rm "$ROOT/.kmodel/slow/sys/devices/pci0000:00/0000:03:00.0/sriov_numvfs"
	# The next run records what the writer did (see the record tests below).
	hp -p "$P" apply
	assert_rc 2
	hp -p "$P" apply
	assert_rc 0
}

test_sriov_dropped_pf_goes_back_to_zero() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	profile empty.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(jqo '.actions[] | select(.module=="sriov") | .message')" \
		"dropped from the profile; hostprep created these VFs"
	hp -p "$P" apply
	assert_rc 2
	assert_file $PF/sriov_numvfs 0
	[ ! -e "$ROOT/dev/vfio/7" ] || fail "the VF's vfio node is still there"
	[ ! -e "$ROOT/var/lib/hostprep/sriov" ] || fail "record not removed"
	hp -p "$P" apply
	assert_rc 0
}

test_sriov_dropped_pf_is_kept_while_a_vf_is_in_use() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	hold_group "$(group_of 0000:03:10.0)"
	profile empty.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "dropped from the profile, but VF 0000:03:10.0 is in use"
	assert_file $PF/sriov_numvfs 2
}

test_sriov_vfs_made_by_someone_else_are_not_removed() {
	pcihost
	echo 0 > "$ROOT$PF/sriov_drivers_autoprobe"
	# Another tool creates 3 VFs through the same kernel model.
	HOSTPREP_KMODEL_ROOT=$ROOT LD_PRELOAD=$KMODEL python3 -c \
		'import os,sys; os.write(os.open(sys.argv[1], os.O_WRONLY), b"3")' "$ROOT$PF/sriov_numvfs"
	assert_file $PF/sriov_numvfs 3
	profile p.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" apply
	assert_rc 0
	assert_file $PF/sriov_numvfs 3
}

test_sriov_selector_by_id_configures_every_match() {
	pcihost
	profile p.ini <<'INI'
[sriov 8086:10fb]
numvfs = 1
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(jqo '[.actions[].target] | join(",")')" "0000:03:00.0 numvfs,0000:03:00.1 numvfs"
	assert_file /sys/bus/pci/devices/0000:03:00.1/sriov_numvfs 1
	[ -d "$ROOT/sys/bus/pci/devices/0000:03:10.1" ] || fail "VF of 03:00.1 missing"
}

test_sriov_selector_short_address_and_interface() {
	pcihost
	profile p.ini <<'INI'
[sriov 04:00.0]
numvfs = 2
[sriov ens1f1]
numvfs = 1
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_file /sys/bus/pci/devices/0000:04:00.0/sriov_numvfs 2
	assert_file /sys/bus/pci/devices/0000:03:00.1/sriov_numvfs 1
	# The NVMe VFs: offset 1, stride 1.
	assert_eq "$(driver_of 0000:04:00.1)" nvme
}

test_sriov_no_match_is_a_failed_action() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:09:00.0]
numvfs = 2
[sriov 15b3:1017]
numvfs = 2
[sriov eth7]
numvfs = 2
INI
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(jqo '[.actions[].message] | join("|")')" \
		"no device matches 0000:09:00.0|no device matches 15b3:1017|no device matches eth7"
}

test_sriov_bad_selector_names_the_line_and_touches_nothing() {
	pcihost; snapshot
	profile p.ini <<'INI'
[thp]
enabled = never

[sriov 03:00]
numvfs = 2
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "p.ini:4: [sriov 03:00]: not a PCI address"
	assert_unchanged
	assert_eq "$(writes)" "" "writes"
}

test_sriov_validate_errors_name_the_line() {
	pcihost; snapshot
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 9
[sriov eno1]
numvfs = 1
[sriov 04:00.0]
autoprobe = no
[sriov 0000:03:00.1]
numvfs = 1
reset = sometimes
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "p.ini:9: reset: expected if-unused, never or always, got 'sometimes'"
	sed -i '/reset = sometimes/d' "$P"
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "p.ini:2: numvfs: 0000:03:00.0 (Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network Connection) offers at most 8 VFs"
	assert_contains "$err" "p.ini:3: [sriov eno1]: 0000:02:00.0 (Intel Corporation 82574L Gigabit Network Connection) has no SR-IOV capability"
	assert_contains "$err" "p.ini:5: [sriov 04:00.0] needs numvfs"
	assert_unchanged
}

test_sriov_same_pf_twice_is_an_error() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 1
[sriov ens1f0]
numvfs = 2
INI
	hp -p "$P" validate
	assert_rc 1
	assert_contains "$err" "p.ini:3: [sriov ens1f0] names 0000:03:00.0, as [sriov] at $P:1 does"
}

test_sriov_vfio_module_missing_is_skipped_on_a_fake_root() {
	pcihost --no-vfio-module; two_vfs
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(jqo '.actions[2].state')" skipped
	assert_contains "$(jqo '.actions[2].message')" "vfio-pci is not loaded"
	assert_eq "$(driver_of 0000:03:10.0)" ""
}

test_sriov_report_lists_pfs_and_vfs_like_lspci() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	hp -j report
	assert_rc 0
	assert_eq "$(jqo '[.capabilities.sriov[].address] | join(",")')" "0000:03:00.0,0000:03:00.1,0000:04:00.0"
	assert_eq "$(jqo '.capabilities.sriov[0] | [.totalvfs, .numvfs, .autoprobe] | join(",")')" "8,2,false"
	assert_eq "$(jqo '.capabilities.sriov[0].vfs[1] | [.address, .driver, .iommu_group] | join(",")')" \
		"0000:03:10.2,vfio-pci,$(group_of 0000:03:10.2)"
	if command -v lspci >/dev/null; then
		assert_contains "$(lspci -A linux-sysfs -O sysfs.path="$ROOT/sys/bus/pci" -s 03:10.2 2>/dev/null)" \
			"82599 Ethernet Controller Virtual Function"
	fi
}

test_sriov_id_selector_skips_vfs_with_the_same_id() {
	pcihost
	# QEMU's NVMe VFs carry the PF's own id, 1b36:0010.
	profile p.ini <<'INI'
[sriov 1b36:0010]
numvfs = 2
INI
	hp -p "$P" apply
	assert_rc 2
	[ -d "$ROOT/sys/bus/pci/devices/0000:04:00.2" ] || fail "VFs not created"
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(jqo '[.actions[].target] | join(",")')" "0000:04:00.0 numvfs"
}

test_sriov_explicit_zero_keeps_vfs_in_use() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	hold_group "$(group_of 0000:03:10.0)"
	sed -i 's/numvfs = 2/numvfs = 0/' "$P"
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "removing the 2 VFs, but VF 0000:03:10.0 is in use"
	assert_file $PF/sriov_numvfs 2
	release_group
	hp -p "$P" apply
	assert_rc 2
	assert_file $PF/sriov_numvfs 0
	[ ! -e "$ROOT/var/lib/hostprep/sriov" ] || fail "record left at 0 VFs"
}

test_sriov_libpci_error_is_reported_not_fatal() {
	pcihost
	# A device without its vendor attribute: libpci's default error handler would exit(1).
	rm "$ROOT/sys/devices/pci0000:00/0000:02:00.0/vendor"
	profile p.ini <<'INI'
[sriov 8086:10fb]
numvfs = 1
[thp]
enabled = never
INI
	hp -p "$P" -j apply
	assert_rc 6
	assert_contains "$(jqo '.actions[] | select(.target=="8086:10fb") | .message')" \
		"listing PCI devices failed: Cannot open /sys/bus/pci/devices/0000:02:00.0/vendor"
	assert_eq "$(jqo '.actions[] | select(.target=="enabled") | .state')" changed
	assert_eq "$(jqo '.capabilities.sriov | length')" 0
}

# Records: written with the intent before the sriov_numvfs write and settled
# after it, so that no run can leave VFs of hostprep's without a record.
SLOW=.kmodel/slow/sys/devices/pci0000:00/0000:03:00.0/sriov_numvfs
two_plain_vfs() {
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
INI
}
drop_pf() {
	profile empty.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" apply
	assert_rc 2
	assert_file $PF/sriov_numvfs 0
	[ ! -e "$ROOT/var/lib/hostprep/sriov" ] || fail "record left: $(cat "$ROOT/var/lib/hostprep/sriov")"
}

# The writer child finished 2 VFs after apply stopped waiting for it: the
# intent was recorded before the write; the next apply settles it.
writer_done_then_settled() {
	flock -w 10 "$ROOT/run/hostprep.lock" true || fail "the writer did not finish"
	assert_file $PF/sriov_numvfs 2
	assert_file /var/lib/hostprep/sriov "0000:03:00.0 2 was 0"
	rm "$ROOT/$SLOW"
	hp -p "$P" apply
	assert_rc 2
	assert_contains "$out" "unfinished record"
	assert_file /var/lib/hostprep/sriov "0000:03:00.0 2"
	hp -p "$P" apply
	assert_rc 0
	drop_pf
}

test_sriov_record_survives_a_write_that_outlives_the_timeout() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
timeout = 1
INI
	mkdir -p "$ROOT/${SLOW%/*}"; echo 3 > "$ROOT/$SLOW"
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "did not return within 1 s"
	writer_done_then_settled
}

test_sriov_record_survives_a_kill_while_waiting_for_the_writer() {
	pcihost
	two_plain_vfs
	mkdir -p "$ROOT/${SLOW%/*}"; echo 2 > "$ROOT/$SLOW"
	# SIGKILL when apply starts waiting for the writer child (its first poll).
	hp_inject 'poll:signal=SIGKILL:when=1' -p "$P" apply
	assert_eq "$rc" 137 "exit status of the killed apply"
	writer_done_then_settled
}

# SIGKILL at each rename of an apply that creates VFs: the intent record, then
# the settled one.  The next apply converges, the one after changes nothing,
# and dropping the PF still removes the VFs.
test_sriov_record_survives_a_kill_at_every_rename() {
	for n in 1 2; do
		rm -rf "$T/root"; pcihost
		two_plain_vfs
		hp_inject "renameat:signal=SIGKILL:when=$n" -p "$P" apply
		assert_eq "$rc" 137 "exit status of the apply killed at rename $n"
		hp -p "$P" -j apply
		[ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "kill at rename $n: the next apply exits $rc"
		assert_file $PF/sriov_numvfs 2
		assert_file /var/lib/hostprep/sriov "0000:03:00.0 2"
		hp -p "$P" apply
		assert_rc 0
		drop_pf
	done
}

test_sriov_record_write_failure_is_a_failed_action() {
	pcihost
	two_plain_vfs
	# /var/lib/hostprep cannot hold files.
	: > "$ROOT/var/lib/hostprep"
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(jqo '.actions[0].state')" failed
	assert_contains "$(jqo '.actions[0].message')" "recording 0000:03:00.0 in /var/lib/hostprep/sriov"
	assert_file $PF/sriov_numvfs 0
	assert_eq "$(writes)" "" "sysfs writes"
}

test_sriov_record_settle_failure_after_the_write_is_exit_6() {
	pcihost
	two_plain_vfs
	hp_inject 'renameat:error=EROFS:when=2' -p "$P" -j apply
	assert_rc 6
	assert_eq "$(jqo '.actions[0] | [.state, .previous, .current] | join(",")')" "failed,0,2"
	assert_contains "$(jqo '.actions[0].message')" "Read-only file system"
	assert_file $PF/sriov_numvfs 2
	# The intent record is there: dropping the PF removes the VFs.
	drop_pf
}

test_sriov_unfinished_record_is_settled_by_the_next_apply() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	# As an apply killed between the write and the settled record leaves it.
	echo "0000:03:00.0 2 was 0" > "$ROOT/var/lib/hostprep/sriov"
	hp -p "$P" -j audit
	assert_rc 2
	assert_contains "$(jqo '.actions[] | select(.target=="0000:03:00.0 numvfs") | .message')" "unfinished record"
	hp -p "$P" apply
	assert_rc 2
	assert_file /var/lib/hostprep/sriov "0000:03:00.0 2"
	assert_idempotent
}

test_sriov_unfinished_record_of_a_dropped_pf_with_no_vfs_is_removed() {
	pcihost
	mkdir -p "$ROOT/var/lib/hostprep"
	# An apply killed after recording its intent, before writing sriov_numvfs.
	echo "0000:03:00.0 2 was 0" > "$ROOT/var/lib/hostprep/sriov"
	profile p.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" apply
	assert_rc 2
	[ ! -e "$ROOT/var/lib/hostprep/sriov" ] || fail "record left"
	assert_idempotent
}

test_sriov_record_survives_a_kill_between_the_writes_of_a_resize() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	sed -i 's/numvfs = 2/numvfs = 3/' "$P"
	# 2 → 0 → 3: killed when it starts waiting for the second write.
	hp_inject 'poll:signal=SIGKILL:when=2' -p "$P" apply
	assert_eq "$rc" 137 "exit status of the killed apply"
	flock -w 10 "$ROOT/run/hostprep.lock" true || fail "the writer did not finish"
	assert_file $PF/sriov_numvfs 3
	assert_file /var/lib/hostprep/sriov "0000:03:00.0 3 was 2"
	drop_pf
	assert_idempotent
}

# A read error is no answer (found by the fault matrix): named, not taken for
# a device without SR-IOV.
test_sriov_read_errors_are_named_not_taken_for_no_sriov() {
	pcihost; two_vfs
	INJECT_PATH=$ROOT/sys/devices/pci0000:00/0000:03:00.0/sriov_totalvfs hp_inject 'read:error=EIO:when=1' -p "$P" -j apply
	assert_rc 1
	assert_contains "$err" "[sriov 0000:03:00.0]: cannot read sriov_totalvfs of 0000:03:00.0: Input/output error"
	INJECT_PATH=$ROOT/sys/devices/pci0000:00/0000:03:00.0/sriov_drivers_autoprobe hp_inject 'read:error=EIO:when=1' -p "$P" -j apply
	assert_eq "$(jqo '.actions[] | select(.target == "0000:03:00.0 autoprobe") | .message')" \
		"cannot read sriov_drivers_autoprobe: Input/output error"
	rm -rf "$ROOT"; pcihost
	INJECT_PATH=$ROOT/sys/devices/pci0000:00/0000:03:00.0/sriov_numvfs hp_inject 'read:error=EIO:when=1' -p "$P" -j apply
	assert_rc 6
	assert_eq "$(jqo '.actions[] | select(.target == "0000:03:00.0 numvfs") | .message')" \
		"cannot read sriov_numvfs: Input/output error"
	assert_file $PF/sriov_numvfs 0
	# After the write, the VFs are listed from the PF's directory.
	rm -rf "$ROOT"; pcihost
	INJECT_PATH=$ROOT/sys/devices/pci0000:00/0000:03:00.0 hp_inject 'getdents64:error=EIO:when=1' -p "$P" -j apply
	assert_rc 6
	assert_eq "$(jqo '.actions[] | select(.target == "0000:03:00.0 numvfs") | .message')" \
		"cannot list the VFs: Input/output error"
}

# Whether a VF's group is open cannot be told (/proc unreadable): in use, not
# free (found by the fault matrix).
test_sriov_vf_whose_use_cannot_be_told_is_kept() {
	pcihost; two_vfs
	hp -p "$P" apply; assert_rc 2
	profile q.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 3
INI
	clear_writes
	INJECT_PATH=$ROOT/proc hp_inject 'getdents64:error=EIO:when=1+' -p "$P" -j apply
	assert_rc 4
	assert_contains "$(jqo '.actions[] | select(.target=="0000:03:00.0 numvfs") | .message')" \
		"VF 0000:03:10.0 is in use: whether its /dev/vfio/$(group_of 0000:03:10.0) is open cannot be told: Input/output error"
	assert_eq "$(writes)" "" "writes"
	assert_file $PF/sriov_numvfs 2
}

# The writer child's answer that cannot be read is no "the write failed with
# EIO" (found by the fault matrix): the message says the answer was lost, and
# what the kernel holds is read back and recorded.
test_sriov_unreadable_writer_answer_is_named() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
INI
	# The answer is hostprep's 4-byte read on a pipe: which read is it?
	cp -a "$ROOT" "$T/probe"
	HOSTPREP_KMODEL_ROOT=$T/probe strace -qq -y -o "$T/reads" -e trace=read \
		-E LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		"$HOSTPREP" -r "$T/probe" -p "$P" apply >/dev/null 2>&1 || true
	n=$(awk '/^read\(/ { n++ } /^read\([0-9]+<pipe:.*, 4\) += 4/ { print n; exit }' "$T/reads")
	[ -n "$n" ] || fail "no 4-byte read on a pipe in $(cat "$T/reads")"
	hp_inject "read:error=EBUSY:when=$n" -p "$P" -j apply
	# The VFs were made: a change, and a failure.
	assert_rc 6
	assert_eq "$(jqo '.actions[] | select(.target == "0000:03:00.0 numvfs") | .message')" \
		"writing 2 to sriov_numvfs: the writer's answer could not be read (Device or resource busy); sriov_numvfs is read back"
	assert_file $PF/sriov_numvfs 2
	assert_eq "$(cat "$ROOT/var/lib/hostprep/sriov")" "0000:03:00.0 2" "record"
	hp -p "$P" apply
	assert_rc 0
}
