# What a person at the console sees: the report in sections with its
# readiness checklist, quiet apply/audit rows, colour, the progress line on a
# terminal, per-command help, and paths printed one way.

# hostprep under a pseudo-terminal (script(1)): $out is what the terminal
# showed (stdout and stderr, CR LF line ends), $rc the exit code.
tty_hp() {
	local cmd
	printf -v cmd '%q ' env HOSTPREP_KMODEL_ROOT="$ROOT" \
		LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" "$HOSTPREP" -r "$ROOT" "$@"
	set +e
	out=$(TERM=${TTY_TERM:-xterm} timeout 60 script -qefc "$cmd" /dev/null)
	rc=$?
	set -e
	err=""
}

# Two 82599 PFs with 8 and 4 VFs on vfio-pci: 12 VFs.
twelve_vfs() {
	pcihost
	profile p.ini <<'INI'
[sriov ens1f0]
numvfs = 8
vf_driver = vfio-pci
[sriov ens1f1]
numvfs = 4
vf_driver = vfio-pci
INI
	hp -p "$P" apply
	assert_rc 2
}

test_report_2pfs_12vfs_one_line_per_pf() {
	twelve_vfs
	hp report
	assert_rc 0
	assert_contains "$out" "0000:03:00.0     ens1f0 ixgbe, 8 of 8 VFs (8 vfio-pci), autoprobe off, Intel Corporation 82599ES"
	assert_contains "$out" "0000:03:00.1     ens1f1 ixgbe, 4 of 8 VFs (4 vfio-pci), autoprobe off"
	assert_contains "$out" "VFs              12 on vfio-pci, 12 of them in viable groups"
	# VF detail only with -v; the old dump gave 4 lines per VF, 8 per vfio device.
	assert_not_contains "$out" "0000:03:10.2"
	[ "$(wc -l <<<"$out")" -le 60 ] || fail "report is $(wc -l <<<"$out") lines"
	for s in "CPU & virtualization" "Confidential computing" IOMMU NUMA "Kernel command line" Hugepages THP \
		cpufreq KVM SR-IOV vfio vDPA "Readiness for a VM host"; do
		grep -qx "$s" <<<"$out" || fail "no section '$s'"
	done
	assert_contains "$out" "vfio-pci devices in viable groups : PASS"
	assert_contains "$out" "SR-IOV VFs                        : PASS"
	# The IOMMU the kernel registered (capabilities.iommu.active), named for people.
	assert_contains "$out" "IOMMU active (Intel VT-d)"
	grep -Eq "^  State +on, [0-9]+ groups, Intel VT-d$" <<<"$out" || fail "no IOMMU state row naming Intel VT-d"
	hp -v report
	assert_contains "$out" "    0000:03:10.2   vfio-pci, IOMMU group 8"
	assert_contains "$out" "  0000:03:11.6     group 14, /dev/vfio/14, viable, Intel Corporation 82599 Ethernet Controller Virtual Function"
}

test_report_human_units_and_cpu_lists() {
	mkhost --cmdline "BOOT_IMAGE=/vmlinuz ro isolcpus=2,3,4,5,6,7 nohz_full=2-7 rcu_nocbs=2-7"
	echo 2-7 > "$ROOT/sys/devices/system/cpu/isolated"
	echo 2-7 > "$ROOT/sys/devices/system/cpu/nohz_full"
	profile p.ini <<'INI'
[hugepages]
1G.node0 = 4
1G.node1 = 2
INI
	hp -p "$P" apply
	assert_rc 2
	echo 1 > "$ROOT/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/free_hugepages"
	LC_ALL=C.UTF-8 hp report
	assert_contains "$out" "node0            CPUs 0-3, 16 GiB"
	assert_contains "$out" "1 GiB pages      6 reserved (6 GiB), 6 free: 4 × 1 GiB free on node0, 1 of 2 × 1 GiB free on node1"
	assert_contains "$out" "Isolated CPUs    2-7 (nohz_full 2-7, rcu_nocbs 2-7)"
	assert_contains "$out" "Isolated CPUs (isolcpus, nohz_full, rcu_nocbs) : PASS"
	assert_not_contains "$out" "memory_kb"
	LC_ALL=C hp report
	assert_contains "$out" "4 x 1 GiB free on node0"
}

test_report_checklist_fails_without_virtualization() {
	mkhost --no-vmx
	hp report
	assert_rc 0
	assert_contains "$out" "Hardware virtualization : FAIL (no vmx or svm CPU flag: enable VT-x or AMD-V in the firmware)"
	assert_contains "$out" "/dev/kvm                : FAIL"
	assert_contains "$out" "IOMMU active            : WARN (off: needed to pass devices to VMs"
}

test_report_checklist_warns_on_mismatched_isolation() {
	mkhost --cmdline "ro isolcpus=2-7 nohz_full=2-5 rcu_nocbs=2-7"
	echo 2-7 > "$ROOT/sys/devices/system/cpu/isolated"
	echo 2-5 > "$ROOT/sys/devices/system/cpu/nohz_full"
	hp report
	assert_contains "$out" "Isolated CPUs (isolcpus, nohz_full, rcu_nocbs) : WARN (isolated 2-7, nohz_full 2-5, rcu_nocbs 2-7: the three should name the same CPUs)"
}

test_report_profile_judges_the_host_and_writes_nothing() {
	pcihost --no-iommu
	profile p.ini <<'INI'
[hugepages]
2M = 512
[thp]
enabled = never
[vfio]
devices = 0000:65:00.0, 0000:65:00.1
INI
	snapshot
	hp -p "$P" report
	assert_rc 0
	assert_contains "$out" "Readiness against $P"
	assert_contains "$out" "Hugepages 2 MiB                   : FAIL (2M pages node0: 0, the profile wants 256)"
	assert_contains "$out" "Transparent hugepages             : FAIL (enabled: madvise, the profile wants never)"
	assert_contains "$out" "IOMMU active                      : FAIL (off, and the profile passes devices to VMs"
	assert_contains "$out" "vfio-pci devices in viable groups : FAIL (0000:65:00.0"
	assert_eq "$(writes)" "" "writes"
	assert_unchanged
	hp -p "$P" -j report
	assert_rc 0
	assert_eq "$(jqo '.exit_code')" 0
	assert_eq "$(jqo '[.actions[] | select(.module == "thp")][0].state')" pending
	hp -j report
	assert_eq "$(jqo '.actions | length')" 0 "actions without --profile"
}

test_report_profile_pass_after_apply() {
	mkhost
	profile p.ini <<'INI'
[hugepages]
2M = 512
[thp]
enabled = never
INI
	hp -p "$P" apply
	assert_rc 2
	hp -p "$P" report
	assert_rc 0
	assert_contains "$out" "Hugepages 2 MiB                : PASS"
	assert_contains "$out" "Transparent hugepages          : PASS"
	assert_not_contains "$out" "FAIL"
}

test_report_invalid_profile_exits_1() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = sometimes
INI
	hp -p "$P" report
	assert_rc 1
	assert_contains "$err" "$P:2: "
	[ -z "$out" ] || fail "printed a report for an invalid profile"
}

test_audit_of_a_converged_host_is_one_line() {
	twelve_vfs
	hp -p "$P" audit
	assert_rc 0
	assert_eq "$out" "audit: 6 actions: 6 ok"
	hp -p "$P" -v audit
	assert_contains "$out" "ok             sriov  0000:03:00.0 numvfs     8"
	assert_contains "$out" "Readiness against $P"
}

test_apply_rows_show_a_change_once() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
vf_driver = vfio-pci
INI
	hp -p "$P" apply
	assert_rc 2
	assert_contains "$out" "0000:03:00.0 numvfs     0 -> 2"
	assert_contains "$out" "0000:03:00.0 VF driver  2x vfio-pci"
	assert_not_contains "$out" "vfio-pci -> 2x"
	assert_contains "$out" "apply: 3 actions: 3 changed"
}

test_long_values_shortened_in_text_full_in_json() {
	mkhost
	"$TESTS_DIR/fakehost/add-boot.sh" "$ROOT" grub
	profile p.ini <<'INI'
[kernel]
isolcpus = managed_irq,domain,2-7
nohz_full = 2-7
rcu_nocbs = 2-7
args = skew_tick=1 nosoftlockup
INI
	LC_ALL=C hp -p "$P" audit
	assert_rc 2
	row=$(grep '^pending *kernel */etc/default/grub.d/99-hostprep.cfg' <<<"$out")
	assert_eq "$row" "pending        kernel  /etc/default/grub.d/99-hostprep.cfg  - -> isolcpus=managed_irq,domain,2-7 nohz_ful..."
	# The same message nine times is said once.
	assert_eq "$(grep -c 'to be added to /etc/default/grub.d/99-hostprep.cfg' <<<"$out")" 1 "message rows"
	hp -p "$P" -j audit
	assert_eq "$(jqo '.actions[] | select(.target == "/etc/default/grub.d/99-hostprep.cfg") | .desired')" \
		"isolcpus=managed_irq,domain,2-7 nohz_full=2-7 rcu_nocbs=2-7 skew_tick=1 nosoftlockup"
}

test_color_only_when_asked_or_on_a_terminal() {
	twelve_vfs
	esc=$'\e['
	hp -p "$P" -v audit
	assert_not_contains "$out" "$esc" "piped output"
	hp -p "$P" -v --color=always audit
	assert_contains "$out" "${esc}32mok${esc}0m"
	hp --color=always report
	assert_contains "$out" "${esc}32mPASS${esc}0m"
	assert_contains "$out" "${esc}33mWARN${esc}0m"
	tty_hp -p "$P" -v audit
	assert_rc 0
	assert_contains "$out" "${esc}32mok${esc}0m" "terminal"
	NO_COLOR=1 tty_hp -p "$P" -v audit
	assert_not_contains "$out" "$esc" "NO_COLOR"
	NO_COLOR=1 tty_hp -p "$P" -v --color=always audit
	assert_contains "$out" "${esc}32mok" "--color=always over NO_COLOR"
	tty_hp -p "$P" -v --color=never audit
	assert_not_contains "$out" "$esc" "--color=never"
	TTY_TERM=dumb tty_hp -p "$P" -v audit
	assert_not_contains "$out" "$esc" "TERM=dumb"
	hp -p "$P" -j --color=always audit
	assert_not_contains "$out" "$esc" "JSON"
	hp --color=sometimes report
	assert_rc 1
	assert_contains "$err" "--color: expected auto, always or never"
}

test_progress_line_on_a_terminal_only() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
INI
	mkdir -p "$ROOT/.kmodel/slow/sys/devices/pci0000:00/0000:03:00.0"
	echo 2 > "$ROOT/.kmodel/slow/sys/devices/pci0000:00/0000:03:00.0/sriov_numvfs"
	cp -a "$ROOT" "$T/second"
	tty_hp -p "$P" apply
	assert_rc 2
	assert_contains "$out" $'\r\e[Ksriov 0000:03:00.0: writing 2 to sriov_numvfs (1 s)'
	assert_contains "$out" $'\r\e[K\e[33mchanged'   # cleared before the rows
	ROOT=$T/second
	hp -p "$P" apply
	assert_rc 2
	assert_not_contains "$err" "sriov_numvfs (" "stderr, not a terminal"
	assert_not_contains "$out" $'\e[K'
}

test_progress_names_the_tool() {
	mkhost
	"$TESTS_DIR/fakehost/add-boot.sh" "$ROOT" grub
	ln -sfn sh "$ROOT/bin/sleep"
	sed -i '2i sleep 2' "$ROOT/usr/sbin/update-grub"
	profile p.ini <<'INI'
[kernel]
args = skew_tick=1
INI
	tty_hp -p "$P" apply
	assert_rc 2
	assert_contains "$out" $'\r\e[Krunning /usr/sbin/update-grub (1 s)'
	tty_hp -q -p "$P" apply
	assert_not_contains "$out" "running /usr/sbin/update-grub" "-q"
}

test_per_command_help_lists_its_own_exit_codes() {
	mkhost
	hp validate --help
	assert_rc 0
	codes=$(sed -n '/^Exit codes:/,$p' <<<"$out" | grep -oE '^  [0-9]' | tr -d ' ' | tr '\n' ' ')
	assert_eq "$codes" "0 1 " "validate exit codes"
	assert_not_contains "$out" "--reboot"
	assert_not_contains "$out" "--dry-run"
	hp audit --help
	assert_eq "$(sed -n '/^Exit codes:/,$p' <<<"$out" | grep -oE '^  [0-9]' | tr -d ' ' | tr '\n' ' ')" "0 2 4 1 " "audit"
	hp apply --help
	assert_eq "$(sed -n '/^Exit codes:/,$p' <<<"$out" | grep -oE '^  [0-9]' | tr -d ' ' | tr '\n' ' ')" "0 2 4 6 1 " "apply"
	assert_contains "$out" "--reboot=WHEN"
	hp report --help
	assert_eq "$(sed -n '/^Exit codes:/,$p' <<<"$out" | grep -oE '^  [0-9]' | tr -d ' ' | tr '\n' ' ')" "0 1 " "report"
	hp version --help
	assert_eq "$(sed -n '/^Exit codes:/,$p' <<<"$out" | grep -oE '^  [0-9]' | tr -d ' ' | tr '\n' ' ')" "0 " "version"
}

test_lock_message_names_the_host_path() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = never
INI
	: > "$ROOT/run/hostprep.lock"
	flock "$ROOT/run/hostprep.lock" sleep 30 &
	holder=$!
	trap 'kill $holder 2>/dev/null || true' EXIT
	for _ in $(seq 50); do flock -n "$ROOT/run/hostprep.lock" true || break; sleep 0.1; done
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "holds /run/hostprep.lock; nothing was changed"
	assert_not_contains "$err" "$ROOT/"
}

test_profile_path_printed_one_way() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = never
defrag = sometimes
INI
	cd "$T"
	hp -p p.ini validate
	assert_rc 1
	assert_contains "$err" "$T/p.ini:3: "
	assert_contains "$err" "$T/p.ini: 1 error(s)"
	assert_not_contains "$err" " p.ini"
	printf '[thp]\nenabled = never\n' > "$T/p.ini"
	hp -p p.ini validate
	assert_rc 0
	assert_eq "$out" "$T/p.ini: valid"
	hp -p p.ini -j audit
	assert_eq "$(jqo '.profile')" "$T/p.ini"
}

test_no_host_path_printed_with_the_root_prefix() {
	twelve_vfs
	"$TESTS_DIR/fakehost/add-boot.sh" "$ROOT" grub
	profile q.ini <<'INI'
[kernel]
iommu = pt
[kvm]
nested = yes
[hugepages]
1G.node0 = 2
boot = yes
[sriov ens1f0]
numvfs = 4
[vfio]
devices = 0000:65:00.0
INI
	for args in "-p $P -v audit" "-p $T/q.ini -v audit" "-p $T/q.ini apply" "-p $T/q.ini -v audit" "-v report"; do
		# shellcheck disable=SC2086
		hp $args
		assert_not_contains "$out" "$ROOT/" "stdout of $args"
		assert_not_contains "$err" "$ROOT/" "stderr of $args"
	done
}
