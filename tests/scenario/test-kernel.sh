# [kernel]: the kernel command line through the grub, grubby and kernel-cmdline
# backends (test doubles inside the fake root, run chrooted), three states per
# argument, overrides, removal, the reboot guard, profile errors.

boot() { "$TESTS_DIR/fakehost/add-boot.sh" "$ROOT" "$@"; }
calls() { cat "$ROOT/.kmodel/calls" 2>/dev/null || true; }
clear_calls() { rm -f "$ROOT/.kmodel/calls"; }
grub_linux() { grep -m1 "^	linux" "$ROOT/boot/grub/grub.cfg"; }
arg() { jqo ".actions[] | select(.module==\"kernel\" and .target==\"$1\") | .$2"; }
# A reboot as far as hostprep can tell: a new running command line and boot id.
simulate_boot() { echo "$1" > "$ROOT/proc/cmdline"; echo "$2" > "$ROOT/proc/sys/kernel/random/boot_id"; }

isolation() {
	profile p.ini <<'INI'
[kernel]
isolcpus = managed_irq,domain,2-7
nohz_full = 2-7
iommu = pt
args = skew_tick=1
INI
}

test_grub_audit_writes_nothing_and_lists_every_argument() {
	mkhost; boot grub; isolation; snapshot
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(arg isolcpus state)" pending
	assert_eq "$(arg isolcpus desired)" "isolcpus=managed_irq,domain,2-7"
	assert_eq "$(arg intel_iommu desired)" "intel_iommu=on"
	assert_eq "$(arg iommu desired)" "iommu=pt"
	assert_eq "$(arg skew_tick next_boot)" null
	assert_eq "$(arg /etc/default/grub.d/99-hostprep.cfg state)" pending
	assert_unchanged
	assert_eq "$(calls)" "" "tools run by audit"
}

test_grub_apply_then_pending_reboot_and_idempotent() {
	mkhost; boot grub; isolation
	hp -p "$P" -j apply
	assert_rc 2
	assert_contains "$(cat "$ROOT/etc/default/grub.d/99-hostprep.cfg")" \
		'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX isolcpus=managed_irq,domain,2-7 nohz_full=2-7 intel_iommu=on iommu=pt skew_tick=1"'
	assert_eq "$(calls)" "update-grub " "tools run"
	assert_contains "$(grub_linux)" "ro  isolcpus=managed_irq,domain,2-7 nohz_full=2-7 intel_iommu=on iommu=pt skew_tick=1 quiet"
	# Three states: desired, next boot (read back from grub.cfg), running (/proc/cmdline).
	assert_eq "$(arg nohz_full state)" pending-reboot
	assert_eq "$(arg nohz_full next_boot)" "nohz_full=2-7"
	assert_eq "$(arg nohz_full running)" null
	assert_eq "$(arg nohz_full bootloader)" grub
	assert_contains "$(arg nohz_full message)" "default entry 'Debian GNU/Linux'"
	assert_eq "$(jqo '.reboot_required')" true
	[ ! -e "$ROOT/run/reboot-required" ] || fail "reboot-required created under --root"
	clear_calls; clear_writes; snapshot
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(calls)" "" "tools run by the second apply"
	assert_unchanged
	assert_eq "$(arg isolcpus state)" pending-reboot
	hp -p "$P" audit
	assert_rc 0
}

test_grub_args_already_running_are_ok_after_apply() {
	mkhost --cmdline "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro isolcpus=managed_irq,domain,2-7 nohz_full=2-7 intel_iommu=on iommu=pt skew_tick=1 quiet"
	boot grub; isolation
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(arg isolcpus state)" changed
	assert_eq "$(arg isolcpus running)" "isolcpus=managed_irq,domain,2-7"
	assert_eq "$(jqo '.reboot_required')" false
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(jqo '[.actions[] | select(.module=="kernel") | .state] | unique | join(",")')" ok
}

test_grub_later_dropin_override_is_named_not_a_reboot_loop() {
	mkhost; boot grub; isolation
	printf 'GRUB_CMDLINE_LINUX="console=ttyS0,115200"\n' > "$ROOT/etc/default/grub.d/99-zz-serial.cfg"
	hp -p "$P" -j apply --reboot=if-needed
	assert_rc 6
	assert_eq "$(arg isolcpus state)" failed
	assert_contains "$(arg isolcpus message)" "/etc/default/grub.d/99-zz-serial.cfg replaces the command line"
	assert_eq "$(jqo '[.actions[] | select(.target=="reboot")] | length')" 0
	assert_not_contains "$(calls)" "systemctl"
	# Known now without running update-grub again: plain failure, nothing written.
	clear_calls; snapshot
	hp -p "$P" -j apply --reboot=if-needed
	assert_rc 4
	assert_contains "$(arg skew_tick message)" "99-zz-serial.cfg"
	assert_eq "$(calls)" "" "tools run"
	assert_unchanged
}

test_grub_conflicting_value_warns_and_later_one_fails_naming_file() {
	mkhost; boot grub --cmdline-linux "isolcpus=1"; isolation
	hp -p "$P" -j apply
	assert_rc 2
	# Ours is appended to GRUB_CMDLINE_LINUX, so it comes later and wins.
	assert_contains "$(jqo '.warnings[]')" "isolcpus is also set to 'isolcpus=1' in /etc/default/grub"
	assert_eq "$(arg isolcpus state)" pending-reboot
	# GRUB_CMDLINE_LINUX_DEFAULT follows ours on the linux line: it overrides.
	sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT="quiet"/GRUB_CMDLINE_LINUX_DEFAULT="quiet nohz_full=1"/' "$ROOT/etc/default/grub"
	chroot "$ROOT" /usr/sbin/update-grub
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(arg nohz_full state)" failed
	assert_contains "$(arg nohz_full message)" "overridden by 'nohz_full=1' later on the command line, from /etc/default/grub"
	assert_eq "$(arg nohz_full next_boot)" "nohz_full=1"
}

test_grub_profile_change_removes_exactly_what_it_dropped() {
	mkhost --cmdline "root=/dev/sda1 ro quiet skew_tick=1 iommu=pt intel_iommu=on"
	boot grub; isolation
	hp -p "$P" apply; assert_rc 2
	profile q.ini <<'INI'
[kernel]
iommu = pt
isolcpus = 2-5
INI
	clear_calls
	hp -p "$P" -j apply
	assert_rc 2
	assert_contains "$(cat "$ROOT/etc/default/grub.d/99-hostprep.cfg")" '"$GRUB_CMDLINE_LINUX isolcpus=2-5 intel_iommu=on iommu=pt"'
	assert_not_contains "$(grub_linux)" "skew_tick"
	assert_not_contains "$(grub_linux)" "nohz_full"
	# Still running until the reboot.
	assert_eq "$(arg skew_tick state)" pending-reboot
	assert_contains "$(arg skew_tick message)" "the running kernel still has it"
	assert_eq "$(arg nohz_full state)" changed
	# A changed value is one argument, not a removal plus an addition.
	assert_eq "$(jqo '[.actions[] | select(.target=="isolcpus")] | length')" 1
	assert_eq "$(arg isolcpus desired)" "isolcpus=2-5"
	# No [kernel] at all: the drop-in goes, grub.cfg is regenerated.
	profile r.ini <<'INI'
[thp]
enabled = madvise
INI
	clear_calls
	hp -p "$P" -j apply
	assert_rc 2
	[ ! -e "$ROOT/etc/default/grub.d/99-hostprep.cfg" ] || fail "drop-in left behind"
	assert_eq "$(calls)" "update-grub " "tools run"
	assert_contains "$(grub_linux)" "ro  quiet"
	hp -p "$P" apply; assert_rc 0
}

test_grub_update_failure_reports_stderr() {
	mkhost; boot grub; isolation
	echo "/usr/sbin/grub-probe: error: failed to get canonical path of /dev/sda1." > "$ROOT/etc/hostprep-test/update-grub.fail"
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(arg /etc/default/grub.d/99-hostprep.cfg state)" failed
	assert_contains "$(arg /etc/default/grub.d/99-hostprep.cfg message)" \
		"update-grub exited with status 1: /usr/sbin/grub-probe: error: failed to get canonical path"
	assert_eq "$(arg isolcpus state)" failed
	assert_contains "$err" "grub-probe"
}

test_grub_default_entry_from_grub_default_and_saved_entry() {
	mkhost; boot grub --grub-default "1>2"; isolation
	hp -p "$P" -j audit
	assert_contains "$(arg isolcpus message)" "to be added"
	hp -p "$P" -j apply
	assert_contains "$(arg isolcpus message)" "default entry 'Debian GNU/Linux, with Linux 5.10.0-old-amd64'"
	sed -i 's/^GRUB_DEFAULT=.*/GRUB_DEFAULT=saved/' "$ROOT/etc/default/grub"
	printf '# GRUB Environment Block\nsaved_entry=gnulinux-advanced-1234>gnulinux-6.1.0-13-amd64-recovery-1234\n' > "$ROOT/boot/grub/grubenv"
	chroot "$ROOT" /usr/sbin/update-grub
	hp -p "$P" -j audit
	assert_contains "$(arg isolcpus message)" "(recovery mode)"
	assert_eq "$(arg isolcpus state)" pending-reboot
}

test_grubby_bls_records_owned_args_and_removes_only_those() {
	mkhost; boot bls
	profile p.ini <<'INI'
[kernel]
isolcpus = 2-7
args = quiet skew_tick=1
INI
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(arg quiet state)" ok
	assert_eq "$(calls)" "grubby --info=DEFAULT" "tools run by audit"
	clear_calls
	hp -p "$P" -j apply
	assert_rc 2
	assert_contains "$(calls)" "grubby --update-kernel=ALL --args=isolcpus=2-7 quiet skew_tick=1"
	assert_eq "$(arg isolcpus state)" pending-reboot
	assert_contains "$(arg isolcpus message)" "grubby --info=DEFAULT (/boot/vmlinuz-6.1.0-13-amd64)"
	assert_eq "$(grep ^options "$ROOT"/boot/loader/entries/*.conf)" "options root=/dev/sda1 ro quiet isolcpus=2-7 skew_tick=1"
	# quiet was there before: not ours.
	assert_eq "$(cat "$ROOT/var/lib/hostprep/kernel-args")" "isolcpus=2-7
skew_tick=1"
	clear_calls; snapshot
	hp -p "$P" apply; assert_rc 0
	assert_eq "$(calls)" "grubby --info=DEFAULT" "tools run by the second apply"
	assert_unchanged
	profile q.ini <<'INI'
[kernel]
isolcpus = 2-7
INI
	clear_calls
	hp -p "$P" -j apply
	assert_rc 2
	assert_contains "$(calls)" "grubby --update-kernel=ALL --args=isolcpus=2-7 --remove-args=skew_tick=1"
	assert_eq "$(grep ^options "$ROOT"/boot/loader/entries/*.conf)" "options root=/dev/sda1 ro quiet isolcpus=2-7"
	assert_eq "$(arg skew_tick state)" changed
	assert_eq "$(cat "$ROOT/var/lib/hostprep/kernel-args")" "isolcpus=2-7"
}

test_kernel_cmdline_file_keeps_foreign_tokens() {
	mkhost; boot kernel-cmdline
	echo "root=/dev/sda1 ro quiet mitigations=off" > "$ROOT/etc/kernel/cmdline"
	profile p.ini <<'INI'
[kernel]
nohz_full = 4-7
args = mitigations=off
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_file /etc/kernel/cmdline "root=/dev/sda1 ro quiet mitigations=off nohz_full=4-7"
	assert_eq "$(arg nohz_full state)" pending-reboot
	assert_contains "$(arg nohz_full message)" "/etc/kernel/cmdline (no loader entry for 6.1.0-13-amd64 found)"
	assert_file /var/lib/hostprep/kernel-args "nohz_full=4-7"
	hp -p "$P" apply; assert_rc 0
	profile q.ini <<'INI'
[kernel]
bootloader = kernel-cmdline
INI
	hp -p "$P" -j apply
	assert_rc 2
	# mitigations=off was the host's before hostprep came: it stays.
	assert_file /etc/kernel/cmdline "root=/dev/sda1 ro quiet mitigations=off"
	[ ! -e "$ROOT/var/lib/hostprep/kernel-args" ] || fail "empty record left behind"
}

test_kernel_cmdline_refreshes_the_loader_entry() {
	mkhost; boot kernel-cmdline --entry
	profile p.ini <<'INI'
[kernel]
rcu_nocbs = 1-7
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(calls)" "kernel-install add 6.1.0-13-amd64 /boot/vmlinuz-6.1.0-13-amd64" "tools run"
	assert_eq "$(arg rcu_nocbs next_boot)" "rcu_nocbs=1-7"
	assert_contains "$(arg rcu_nocbs message)" "/boot/loader/entries/0123456789abcdef-6.1.0-13-amd64.conf"
}

test_auto_picks_by_files_and_none_warns() {
	mkhost; boot kernel-cmdline; boot grub; isolation
	hp -p "$P" -j audit
	assert_eq "$(arg isolcpus bootloader)" kernel-cmdline
	rm "$ROOT/etc/kernel/cmdline"
	hp -p "$P" -j audit
	assert_eq "$(arg isolcpus bootloader)" grub
	assert_eq "$(jqo '.capabilities.bootloader.name')" grub
	rm -rf "$ROOT"; mkhost
	hp -p "$P" -j audit
	assert_rc 4
	assert_eq "$(arg isolcpus bootloader)" none
	assert_contains "$(jqo '.warnings[]')" "no bootloader found"
}

test_none_reports_running_state_only() {
	mkhost --cmdline "root=/dev/sda1 ro hugepagesz=1G hugepages=0:2,1:2 default_hugepagesz=1G"
	profile p.ini <<'INI'
[kernel]
bootloader = none
[hugepages]
1G.node0 = 2
1G.node1 = 2
boot = yes
default = 1G
INI
	hp -p "$P" -j audit
	assert_eq "$(arg hugepagesz=1G state)" ok
	assert_eq "$(arg hugepagesz=1G running)" "hugepagesz=1G hugepages=0:2,1:2"
	assert_eq "$(arg default_hugepagesz state)" ok
	profile q.ini <<'INI'
[kernel]
bootloader = none
isolcpus = 4-7
INI
	hp -p "$P" -j apply
	assert_rc 4
	assert_contains "$(arg isolcpus message)" "bootloader = none"
	snapshot
	hp -p "$P" -j apply
	assert_rc 4
	assert_unchanged
}

test_boot_hugepages_per_node_needs_linux_5_16() {
	mkhost; boot grub
	echo 5.10.0-28-amd64 > "$ROOT/proc/sys/kernel/osrelease"
	profile p.ini <<'INI'
[hugepages]
1G.node0 = 3
1G.node1 = 1
2M = 512
boot = yes
INI
	hp -p "$P" -j audit
	assert_eq "$(arg hugepagesz=1G desired)" "hugepagesz=1G hugepages=4"
	assert_eq "$(arg hugepagesz=2M desired)" "hugepagesz=2M hugepages=512"
	assert_contains "$(jqo '.warnings[]')" "reserving 4 1G pages spread over the nodes"
}

# IOMMU arguments by the firmware table the kernel itself goes by (ACPI DMAR:
# Intel VT-d; IVRS: AMD-Vi, on by default), never by the CPU vendor.
iommu() { profile p.ini <<INI
[kernel]
iommu = $1
INI
}
iommu_args() { jqo '[.actions[] | select(.module=="kernel" and (.target | test("iommu"))) | .desired] | join(" ")'; }

test_iommu_amd_vi_on_adds_nothing_pt_and_off_are_valid() {
	mkhost --vendor amd; boot grub
	iommu on
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(iommu_args)" "" "arguments for iommu = on"
	assert_not_contains "$out" "amd_iommu=on"
	iommu pt
	hp -p "$P" -j audit
	assert_eq "$(iommu_args)" "iommu=pt" "arguments for iommu = pt"
	iommu off
	hp -p "$P" -j audit
	assert_eq "$(iommu_args)" "amd_iommu=off" "arguments for iommu = off"
}

test_iommu_follows_the_dmar_table_not_the_cpu_vendor() {
	# QEMU under TCG: the CPU says AMD, the emulated IOMMU is Intel's.
	mkhost --vendor amd --iommu-table dmar; boot grub
	iommu pt
	hp -p "$P" -j audit
	assert_eq "$(iommu_args)" "intel_iommu=on iommu=pt"
	iommu off
	hp -p "$P" -j audit
	assert_eq "$(iommu_args)" "intel_iommu=off"
}

test_iommu_without_a_firmware_table_warns_and_adds_nothing() {
	mkhost --iommu-table none; boot grub
	iommu pt
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(iommu_args)" ""
	assert_contains "$(jqo '.warnings[]')" "the firmware describes no IOMMU (no ACPI DMAR or IVRS table)"
}

test_iommu_without_acpi_tables_goes_by_the_cpu_vendor() {
	# An image prepared offline: no /sys/firmware/acpi to go by.
	mkhost --vendor amd --iommu-table absent; boot grub
	iommu pt
	hp -p "$P" -j audit
	assert_eq "$(iommu_args)" "iommu=pt"
	assert_contains "$(jqo '.warnings[]')" "no ACPI tables under /sys/firmware/acpi/tables: going by the CPU vendor (AuthenticAMD)"
	rm -rf "$T/root"; mkhost --iommu-table absent; boot grub
	hp -p "$P" -j audit
	assert_eq "$(iommu_args)" "intel_iommu=on iommu=pt"
}

test_iommu_report_names_the_active_iommu() {
	pcihost
	hp -j report
	assert_eq "$(jqo '.capabilities.iommu | [.enabled, .firmware_table, .active, (.units | join(","))] | join("|")')" \
		"true|DMAR|intel-vt-d|dmar0"
	rm -rf "$T/root"; mkhost --vendor amd; "$TESTS_DIR/fakehost/add-pci.sh" "$ROOT"
	hp -j report
	assert_eq "$(jqo '.capabilities.iommu | [.firmware_table, .active, (.units | join(","))] | join("|")')" \
		"IVRS|amd-vi|ivhd0"
	rm -rf "$T/root"; mkhost --iommu-table none
	hp -j report
	assert_eq "$(jqo '.capabilities.iommu | [.enabled, .firmware_table, .active, (.units | join(","))] | join("|")')" \
		"false|||"
}

test_reboot_guard_across_two_simulated_boots() {
	mkhost; boot grub; isolation
	hp -p "$P" -j apply --reboot=if-needed
	assert_rc 2
	assert_eq "$(arg reboot state)" changed
	assert_contains "$(arg reboot message)" "rebooting for isolcpus=managed_irq,domain,2-7"
	assert_eq "$(calls)" "update-grub 
systemctl reboot --no-block" "tools run"
	assert_contains "$(cat "$ROOT/var/lib/hostprep/reboot-guard")" "boot_id=6b1d2c1e-0000-4000-8000-000000000001"
	# The reboot did not happen yet (same boot): asking again is not a second reboot.
	clear_calls
	hp -p "$P" -j apply --reboot=if-needed
	assert_rc 2
	assert_eq "$(calls)" "systemctl reboot --no-block" "tools run"
	# Boot 2 came up with the old command line (say, another entry booted).
	simulate_boot "root=/dev/sda1 ro quiet" 6b1d2c1e-0000-4000-8000-000000000002
	clear_calls
	hp -p "$P" -j apply --reboot=if-needed
	assert_rc 4
	assert_eq "$(arg reboot state)" failed
	assert_contains "$(arg reboot message)" "not rebooting again"
	assert_contains "$(arg reboot message)" "booted with 'root=/dev/sda1 ro quiet'"
	assert_contains "$(arg reboot message)" "isolcpus=managed_irq,domain,2-7 nohz_full=2-7"
	assert_eq "$(calls)" "" "tools run"
	# Boot 3 has them: the guard goes away and nothing reboots.
	simulate_boot "$(grub_linux | sed 's/^\tlinux\t[^ ]* //')" 6b1d2c1e-0000-4000-8000-000000000003
	hp -p "$P" -j apply --reboot=if-needed
	assert_rc 0
	assert_eq "$(jqo '.reboot_required')" false
	[ ! -e "$ROOT/var/lib/hostprep/reboot-guard" ] || fail "guard left behind"
	assert_eq "$(calls)" "" "tools run"
}

test_reboot_never_is_the_default_and_option_checks() {
	mkhost; boot grub; isolation
	hp -p "$P" -j apply
	assert_eq "$(jqo '[.actions[] | select(.target=="reboot")] | length')" 0
	assert_eq "$(calls)" "update-grub " "tools run"
	hp -p "$P" audit --reboot=if-needed
	assert_rc 1
	assert_contains "$err" "--reboot goes with apply"
	hp -p "$P" apply --reboot=sometimes
	assert_rc 1
	assert_contains "$err" "expected never, if-needed or first-boot"
}

test_profile_errors_name_file_line_and_touch_nothing() {
	mkhost --cpus 8; boot grub; snapshot
	profile a.ini <<'INI'
[kernel]
isolcpus = 2-11
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "a.ini:2: isolcpus: CPUs outside this host's CPUs (0-7)"
	profile all.ini <<'INI'
[kernel]
nohz_full = 0-7
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "all.ini:2: nohz_full: takes every CPU"
	profile b.ini <<'INI'
[kernel]
nohz_full = 1-7
iommu = maybe
bootloader = lilo
args = isolcpus=3 "unterminated
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "b.ini:3: iommu: expected off, on or pt, got 'maybe'"
	assert_contains "$err" "b.ini:4: bootloader: expected auto, grub, grubby, kernel-cmdline or none"
	assert_contains "$err" "b.ini:5: args: unterminated quote"
	profile c.ini <<'INI'
[kernel]
isolcpus = domain,0-3
args = isolcpus=5
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "c.ini:3: args: isolcpus is also set by this profile"
	profile d.ini <<'INI'
[kernel]
isolcpus = domain,0-3
INI
	hp -p "$P" -j audit
	assert_rc 2
	assert_contains "$(jqo '.warnings[]')" "d.ini:2: isolcpus includes CPU 0"
	assert_unchanged
}

test_grub_quoted_argument_round_trips_through_the_shell() {
	mkhost; boot grub
	profile p.ini <<'INI'
[kernel]
args = acpi_osi="!Windows 2020" dyndbg=$x`y`
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_contains "$(cat "$ROOT/etc/default/grub.d/99-hostprep.cfg")" 'acpi_osi=\"!Windows 2020\" dyndbg=\$x\`y\`"'
	assert_contains "$(grub_linux)" 'acpi_osi="!Windows 2020" dyndbg=$x`y`'
	assert_eq "$(arg acpi_osi state)" pending-reboot
	assert_eq "$(arg acpi_osi next_boot)" 'acpi_osi="!Windows 2020"'
	assert_eq "$(arg dyndbg state)" pending-reboot
	hp -p "$P" apply
	assert_rc 0
}

# The kernel-args record is written before the configuration changes (what may
# become ours) and after (what is ours): a SIGKILL at any rename leaves a
# record that still names every argument hostprep put there, so dropping one
# from the profile removes it.
two_args() {
	profile p.ini <<'INI'
[kernel]
nohz_full = 4-7
rcu_nocbs = 4-7
INI
}
drop_rcu_nocbs() {
	profile q.ini <<'INI'
[kernel]
nohz_full = 4-7
INI
	hp -p "$P" apply
	assert_rc 2
}

# nohz_full and rcu_nocbs applied, then the profile swaps rcu_nocbs for
# isolcpus: the record before names all three, the record after two.
swap_args() {
	hp -p "$P" apply; assert_rc 2
	profile r.ini <<'INI'
[kernel]
nohz_full = 4-7
isolcpus = 2-3
INI
}
drop_isolcpus() {
	profile s.ini <<'INI'
[kernel]
nohz_full = 4-7
INI
	hp -p "$P" apply
	assert_rc 2
}

# kill_at_renames "1 2" SETUP FILE-AFTER RECORD-AFTER FILE-AFTER-DROP DROP:
# for each rename N, a fresh host made by SETUP, apply killed at rename N; the
# next apply converges to FILE-AFTER and RECORD-AFTER, the one after changes
# nothing, and DROP (a profile change) leaves FILE-AFTER-DROP.
kill_at_renames() {
	local n
	for n in $1; do
		rm -rf "$T/root"; $2
		hp_inject "renameat:signal=SIGKILL:when=$n" -p "$P" apply
		assert_eq "$rc" 137 "exit status of the apply killed at rename $n ($2)"
		hp -p "$P" apply
		[ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "kill at rename $n ($2): the next apply exits $rc"
		assert_file /etc/kernel/cmdline "$3"
		assert_file /var/lib/hostprep/kernel-args "$4"
		hp -p "$P" apply
		assert_rc 0
		$6
		assert_file /etc/kernel/cmdline "$5"
	done
}
create_two() { mkhost; boot kernel-cmdline; two_args; }
change_one() { mkhost; boot kernel-cmdline; two_args; swap_args; }

test_kernel_cmdline_record_survives_a_kill_at_every_rename() {
	kill_at_renames "1 2" create_two "root=/dev/sda1 ro quiet nohz_full=4-7 rcu_nocbs=4-7" "nohz_full=4-7
rcu_nocbs=4-7" "root=/dev/sda1 ro quiet nohz_full=4-7" drop_rcu_nocbs
	assert_file /var/lib/hostprep/kernel-args "nohz_full=4-7"
	# A change: the record before, /etc/kernel/cmdline, the record after.
	kill_at_renames "1 2 3" change_one "root=/dev/sda1 ro quiet nohz_full=4-7 isolcpus=2-3" "isolcpus=2-3
nohz_full=4-7" "root=/dev/sda1 ro quiet nohz_full=4-7" drop_isolcpus
}

test_grubby_record_survives_a_kill_at_every_rename() {
	mkhost; boot bls; two_args
	hp_inject "renameat:signal=SIGKILL:when=1" -p "$P" apply
	assert_eq "$rc" 137 "exit status of the apply killed at the record"
	hp -p "$P" apply
	assert_rc 2
	assert_file /var/lib/hostprep/kernel-args "nohz_full=4-7
rcu_nocbs=4-7"
	hp -p "$P" apply
	assert_rc 0
	# A change: the record before, grubby, the record after.
	for n in 1 2; do
		rm -rf "$T/root"; mkhost; boot bls; two_args; swap_args
		hp_inject "renameat:signal=SIGKILL:when=$n" -p "$P" apply
		assert_eq "$rc" 137 "exit status of the change killed at rename $n"
		hp -p "$P" apply
		[ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "change killed at rename $n: the next apply exits $rc"
		assert_eq "$(grep ^options "$ROOT"/boot/loader/entries/*.conf)" \
			"options root=/dev/sda1 ro quiet nohz_full=4-7 isolcpus=2-3"
		assert_file /var/lib/hostprep/kernel-args "isolcpus=2-3
nohz_full=4-7"
		hp -p "$P" apply
		assert_rc 0
		drop_isolcpus
		assert_eq "$(grep ^options "$ROOT"/boot/loader/entries/*.conf)" "options root=/dev/sda1 ro quiet nohz_full=4-7"
	done
}

test_kernel_cmdline_record_write_failure_is_a_failed_action() {
	mkhost; boot kernel-cmdline; two_args
	# The first rename is the record, before /etc/kernel/cmdline.
	hp_inject 'renameat:error=EROFS:when=1' -p "$P" -j apply
	assert_rc 4
	assert_eq "$(arg /etc/kernel/cmdline state)" failed
	assert_contains "$(arg /etc/kernel/cmdline message)" \
		"recording our arguments under /var/lib/hostprep: Read-only file system"
	assert_file /etc/kernel/cmdline "root=/dev/sda1 ro quiet"
}

test_kernel_unreadable_record_is_a_failed_action_not_an_empty_one() {
	mkhost; boot kernel-cmdline; two_args
	hp -p "$P" apply; assert_rc 2
	# /var/lib/hostprep cannot be read: nothing may be taken for "owns nothing".
	mv "$ROOT/var/lib/hostprep" "$ROOT/var/lib/hostprep.d"; : > "$ROOT/var/lib/hostprep"
	drop_rcu() { profile q.ini <<'INI'
[kernel]
nohz_full = 4-7
INI
	}
	drop_rcu; snapshot
	hp -p "$P" -j apply
	assert_rc 4
	assert_contains "$(arg /etc/kernel/cmdline message)" "reading what hostprep owns in /etc/kernel/cmdline"
	assert_unchanged
}

test_kernel_cmdline_final_record_failure_after_the_write_is_exit_6() {
	mkhost; boot kernel-cmdline; two_args; swap_args
	# Renames: the record before, /etc/kernel/cmdline, the record after.
	hp_inject 'renameat:error=EROFS:when=3' -p "$P" -j apply
	assert_rc 6
	assert_eq "$(arg /etc/kernel/cmdline state)" failed
	assert_contains "$(arg /etc/kernel/cmdline message)" "Read-only file system"
	assert_eq "$(arg isolcpus state)" pending-reboot
	assert_file /etc/kernel/cmdline "root=/dev/sda1 ro quiet nohz_full=4-7 isolcpus=2-3"
	hp -p "$P" apply
	assert_rc 2
	assert_file /var/lib/hostprep/kernel-args "isolcpus=2-3
nohz_full=4-7"
	assert_idempotent
	drop_isolcpus
	assert_file /etc/kernel/cmdline "root=/dev/sda1 ro quiet nohz_full=4-7"
}
