# Core cycle on a fake two-socket host: audit, apply, idempotence, exit codes,
# JSON contract, lock, hugepages/THP/governor behaviour.

lowlat() {
	profile p.ini <<'INI'
[profile]
name = test
[hugepages]
2M = 1024
1G.node0 = 2
1G.node1 = 2
[thp]
enabled = never
defrag = never
[cpu]
governor = performance|schedutil
cpus = all
INI
}

test_audit_changes_nothing_and_exits_2() {
	mkhost; lowlat; snapshot
	hp -p "$P" audit
	assert_rc 2
	assert_contains "$out" "pending"
	assert_contains "$out" "2M pages node0"
	assert_contains "$out" "0 -> 512"
	assert_unchanged
	assert_eq "$(writes)" "" "kernel-model writes"
	hp -p "$P" apply --dry-run
	assert_rc 2
	assert_unchanged
}

test_apply_then_apply_again_is_idempotent() {
	mkhost; lowlat
	hp -p "$P" apply
	assert_rc 2
	assert_file /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages 512
	assert_file /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages 512
	assert_file /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 1024
	assert_file /sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages 2
	assert_eq "$(cat "$ROOT/sys/kernel/mm/transparent_hugepage/enabled")" "always madvise [never]"
	assert_eq "$(cat "$ROOT/sys/devices/system/cpu/cpufreq/policy7/scaling_governor")" "performance"
	assert_idempotent
}

test_total_spread_remainder_goes_to_lowest_nodes() {
	mkhost --nodes 3 --cpus 6
	profile p.ini <<'INI'
[hugepages]
2M = 7
INI
	hp -p "$P" apply
	assert_rc 2
	assert_file /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages 3
	assert_file /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages 2
	assert_file /sys/devices/system/node/node2/hugepages/hugepages-2048kB/nr_hugepages 2
}

test_total_already_met_is_left_where_the_kernel_put_it() {
	mkhost
	echo 3 > "$ROOT/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages"
	echo 3 > "$ROOT/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
	profile p.ini <<'INI'
[hugepages]
1G = 3
INI
	hp -p "$P" -j apply
	assert_rc 0
	# One action per node (ids as when the total was not met), each ok as it is.
	assert_eq "$(jqo '[.actions[] | "\(.target)=\(.current):\(.state)"] | join(" ")')" \
		"1G pages node0=0:ok 1G pages node1=3:ok"
	assert_eq "$(writes)" "" "writes"
	# A different total is spread by the rule again.
	profile q.ini <<'INI'
[hugepages]
1G = 4
INI
	hp -p "$P" apply
	assert_rc 2
	assert_file /sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages 2
	assert_file /sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages 2
}

test_decrease_is_written_before_increase() {
	mkhost
	profile a.ini <<'INI'
[hugepages]
2M = 100
INI
	hp -p "$P" apply; assert_rc 2
	profile b.ini <<'INI'
[hugepages]
1G = 2
2M = 10
INI
	clear_writes
	hp -p "$P" apply; assert_rc 2
	# Both 2M shrinks come before both 1G grows.
	assert_eq "$(writes | awk '{print $1}' | grep -o 'hugepages-[0-9]*kB' | tr '\n' ' ')" \
		"hugepages-2048kB hugepages-2048kB hugepages-1048576kB hugepages-1048576kB " "write order"
	assert_file /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 10
}

test_partial_hugepages_fail_with_both_numbers() {
	mkhost --limit 1:1048576:3
	profile p.ini <<'INI'
[hugepages]
1G.node0 = 8
1G.node1 = 8
INI
	hp -p "$P" -j apply
	assert_rc 6
	assert_eq "$(jqo '.actions[] | select(.target=="1G pages node1") | .state')" failed
	assert_contains "$(jqo '.actions[] | select(.target=="1G pages node1") | .message')" "asked for 8, the kernel granted 3"
	assert_eq "$(jqo '.actions[] | select(.target=="1G pages node1") | .current')" 3
	assert_eq "$(jqo '.actions[] | select(.target=="1G pages node0") | .state')" changed
	assert_eq "$(jqo '.failed')" true
	assert_eq "$(jqo '.changed')" true
	assert_contains "$(jqo '.warnings[]')" "boot = yes"
	# Only the short node remains to do, and it fails again: exit 4, nothing changed.
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "granted 3"
}

# boot = yes: a reservation still to come is pending-reboot, one already
# running that came short is a failure (tests/scenario/test-boot.sh).

# A node pool that cannot be read is one failed action, planned once (not
# again by the pass that plans the pools that grow): ids stay unique.
test_unreadable_node_pool_is_one_failed_action() {
	mkhost
	rm "$ROOT/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
	profile p.ini <<'INI'
[hugepages]
2M = 64
INI
	hp -p "$P" -j audit
	assert_rc 4
	assert_eq "$(jqo '[.actions[] | .id] | join(",")')" "hugepages:2M pages node1,hugepages:2M pages node0"
	assert_eq "$(action '2M pages node1' state)" failed
	assert_contains "$(action '2M pages node1' message)" "reading nr_hugepages: No such file or directory"
}

test_no_cpufreq_is_unsupported_not_failure() {
	mkhost --no-cpufreq
	profile p.ini <<'INI'
[cpu]
governor = performance
INI
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(jqo '.actions[0].state')" unsupported
	assert_contains "$(jqo '.actions[0].message')" "no cpufreq"
}

test_governor_fallback_and_none_available() {
	mkhost --governors "powersave schedutil"
	profile p.ini <<'INI'
[cpu]
governor = performance|schedutil
cpus = 0-3
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(jqo '.actions[0].target')" "governor cpus 0-3"
	assert_eq "$(jqo '.actions[0].desired')" schedutil
	assert_eq "$(cat "$ROOT/sys/devices/system/cpu/cpufreq/policy3/scaling_governor")" schedutil
	assert_eq "$(cat "$ROOT/sys/devices/system/cpu/cpufreq/policy4/scaling_governor")" powersave
	profile q.ini <<'INI'
[cpu]
governor = performance
INI
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "none of performance is available"
}

test_governor_refused_by_kernel_is_failed() {
	mkhost
	mkdir -p "$ROOT/.kmodel/fail/sys/devices/system/cpu/cpufreq/policy2"
	echo 22 > "$ROOT/.kmodel/fail/sys/devices/system/cpu/cpufreq/policy2/scaling_governor"
	profile p.ini <<'INI'
[cpu]
governor = performance
INI
	hp -p "$P" -j apply
	# Seven policies moved: a change and a failure.
	assert_rc 6
	assert_contains "$(jqo '.actions[0].message')" "policy2: Invalid argument"
	assert_eq "$(cat "$ROOT/sys/devices/system/cpu/cpufreq/policy1/scaling_governor")" performance
}

# An action over several policies where one write fails reports what moved.
test_governor_partial_change_reports_what_moved() {
	mkhost
	mkdir -p "$ROOT/.kmodel/fail/sys/devices/system/cpu/cpufreq/policy7"
	echo 16 > "$ROOT/.kmodel/fail/sys/devices/system/cpu/cpufreq/policy7/scaling_governor"
	profile p.ini <<'INI'
[cpu]
governor = performance
INI
	hp -p "$P" -j apply
	assert_rc 6
	assert_eq "$(jqo '.changed')" true
	assert_eq "$(jqo '.actions[0] | [.state, .previous, .current] | join("|")')" \
		"failed|powersave|performance (cpus 0-6), powersave (cpus 7)"
	assert_eq "$(jqo '.actions[0].message')" "setting governor performance: policy7: Device or resource busy"
	assert_eq "$(cat "$ROOT/sys/devices/system/cpu/cpufreq/policy6/scaling_governor")" performance
	rm "$ROOT/.kmodel/fail/sys/devices/system/cpu/cpufreq/policy7/scaling_governor"
	clear_writes
	hp -p "$P" -j apply
	assert_rc 2
	# One action per chosen governor (a stable id); only the policy not on it is written.
	assert_eq "$(jqo '[.actions[] | .target + "=" + .state] | join(",")')" "governor cpus 0-7=changed"
	assert_eq "$(writes)" "/sys/devices/system/cpu/cpufreq/policy7/scaling_governor performance"
	assert_idempotent
}

test_governor_kernel_eio_is_worded_as_the_errno() {
	mkhost --cpus 2
	mkdir -p "$ROOT/.kmodel/fail/sys/devices/system/cpu/cpufreq/policy1"
	echo 5 > "$ROOT/.kmodel/fail/sys/devices/system/cpu/cpufreq/policy1/scaling_governor"
	profile p.ini <<'INI'
[cpu]
governor = performance
INI
	hp -p "$P" -j apply
	assert_rc 6
	assert_eq "$(jqo '.actions[0].message')" "setting governor performance: policy1: Input/output error"
	assert_eq "$(jqo '.actions[0].current')" "performance (cpus 0), powersave (cpus 1)"
}

# A read error is no answer (found by the fault matrix): a policy whose CPUs
# or governors cannot be read fails naming the error, and a cpufreq directory
# that cannot be listed is no host without cpufreq.
test_governor_read_errors_fail_and_name_the_error() {
	mkhost --cpus 2
	profile p.ini <<'INI'
[cpu]
governor = performance
INI
	INJECT_PATH=$ROOT/sys/devices/system/cpu/cpufreq/policy1/affected_cpus \
		hp_inject 'read:error=EIO:when=1' -p "$P" -j apply
	assert_rc 6
	assert_eq "$(jqo '[.actions[] | .target + "=" + .state + ": " + .message] | join(", ")')" \
		"policy1=failed: cannot read the CPUs of policy1: Input/output error, governor cpus 0=changed: "
	assert_eq "$(cat "$ROOT/sys/devices/system/cpu/cpufreq/policy1/scaling_governor")" powersave
	INJECT_PATH=$ROOT/sys/devices/system/cpu/cpufreq/policy1/scaling_available_governors \
		hp_inject 'read:error=EACCES:when=1' -p "$P" -j apply
	assert_rc 4
	assert_eq "$(jqo '.actions[0].message')" "cannot read the governors of policy1: Permission denied"
	INJECT_PATH=$ROOT/sys/devices/system/cpu/cpufreq hp_inject 'getdents64:error=EIO:when=1' -p "$P" -j apply
	assert_rc 4
	assert_eq "$(jqo '.actions[0].state + ": " + .actions[0].message')" \
		"failed: cannot list /sys/devices/system/cpu/cpufreq: Input/output error"
}

test_thp_on_command_line_is_a_warning() {
	mkhost --cmdline "root=/dev/sda1 transparent_hugepage=always"
	profile p.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" -j audit
	assert_rc 0
	assert_contains "$(jqo '.warnings[0]')" "transparent_hugepage=always"
}

test_no_thp_is_unsupported() {
	mkhost --no-thp
	profile p.ini <<'INI'
[thp]
enabled = never
INI
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(jqo '.actions[0].state')" unsupported
}

test_lock_held_exits_1_naming_holder() {
	mkhost; lowlat; snapshot
	mkdir -p "$ROOT/run"
	exec 9>"$ROOT/run/hostprep.lock"
	flock 9
	# The holder named must be alive: this shell, which holds the lock.
	echo $BASHPID >&9
	hp -p "$P" apply
	exec 9>&-
	assert_rc 1
	assert_contains "$err" "pid $BASHPID"
	assert_eq "$(writes)" "" "writes while locked"
}

test_json_has_the_design_keys() {
	mkhost; lowlat
	hp -p "$P" -j audit
	for k in schema_version version command profile root changed failed reboot_required exit_code pending summary \
		actions capabilities warnings; do
		jq -e "has(\"$k\")" <<<"$out" >/dev/null || fail "missing key $k"
	done
	assert_eq "$(jqo '.command')" audit
	assert_eq "$(jqo '.actions[0] | keys | sort | join(",")')" "current,desired,id,message,module,state,target"
	assert_eq "$(jqo '.capabilities.numa | length')" 2
	assert_eq "$(jqo '.capabilities.cpu.virtualization')" vmx
	assert_eq "$(jqo '.capabilities.hugepages[] | select(.size=="1G") | .nodes | length')" 2
}

test_report_needs_no_profile() {
	mkhost --vendor amd --nodes 4 --cpus 16
	hp -j report
	assert_rc 0
	assert_eq "$(jqo '.capabilities.cpu.vendor')" AuthenticAMD
	assert_eq "$(jqo '.capabilities.cpu.virtualization')" svm
	assert_eq "$(jqo '.capabilities.kvm.module')" kvm_amd
	assert_eq "$(jqo '.capabilities.numa[3].cpus')" 12-15
	assert_eq "$(jqo '.capabilities.thp.enabled')" madvise
	hp report
	assert_rc 0
	assert_contains "$out" "AMD EPYC 7763 64-Core Processor (AuthenticAMD)"
}

test_include_later_values_win() {
	mkhost
	profile base.ini <<'INI'
[thp]
enabled = always
defrag = never
INI
	profile top.ini <<'INI'
[profile]
include = base.ini
[thp]
enabled = never
INI
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(jqo '.actions[] | select(.target=="enabled") | .desired')" never
	assert_eq "$(jqo '.actions[] | select(.target=="defrag") | .desired')" never
}

test_version_and_help() {
	mkhost
	hp version; assert_rc 0; assert_contains "$out" "hostprep "
	hp apply --help; assert_rc 0; assert_contains "$out" "Exit codes"
	hp frobnicate; assert_rc 1; assert_contains "$err" "unknown command"
}

# Every read of the host that fails with an error (not "not there") is said
# with its path, whatever the caller made of it; absent files are not.
test_host_read_error_is_warned_with_its_path() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = never
INI
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(jqo '[.warnings[] | select(startswith("cannot read"))] | length')" 0 "warnings of a clean run"
	INJECT_PATH=$ROOT/sys/kernel/mm/transparent_hugepage/enabled \
		hp_inject 'read:error=EIO:when=1' -p "$P" -j audit
	assert_contains "$(jqo '.warnings | join("\n")')" \
		"cannot read /sys/kernel/mm/transparent_hugepage/enabled: Input/output error"
	assert_contains "$err" \
		"hostprep: warning: cannot read /sys/kernel/mm/transparent_hugepage/enabled: Input/output error"
	# A symlink loop inside the root is an error too, not an absent file (said once).
	rm "$ROOT/sys/kernel/mm/transparent_hugepage/defrag"
	ln -s defrag "$ROOT/sys/kernel/mm/transparent_hugepage/defrag"
	hp -p "$P" -j report
	assert_rc 0
	assert_eq "$(jqo '[.warnings[] | select(. == "cannot read /sys/kernel/mm/transparent_hugepage/defrag: Too many levels of symbolic links")] | length')" 1
}

test_unreadable_hugepage_pool_fails_validation_naming_the_error() {
	mkhost
	profile p.ini <<'INI'
[hugepages]
2M = 16
INI
	rm -rf "$ROOT/sys/kernel/mm/hugepages/hugepages-2048kB"
	ln -s hugepages-2048kB "$ROOT/sys/kernel/mm/hugepages/hugepages-2048kB"
	snapshot
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "p.ini:2: cannot read the 2M hugepage pool (/sys/kernel/mm/hugepages/hugepages-2048kB): Too many levels of symbolic links"
	assert_not_contains "$err" "has no 2M hugepages"
	assert_unchanged
}

# The document cannot be written (a full disk, a closed pipe): said on stderr;
# the exit code still tells what happened to the host.
test_unwritable_standard_output_is_said_and_keeps_the_exit_code() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = never
INI
	set +e
	HOSTPREP_KMODEL_ROOT=$ROOT LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		timeout 60 "$HOSTPREP" -r "$ROOT" -p "$P" -j apply >/dev/full 2>"$T/.err"
	rc=$?
	set -e
	err=$(cat "$T/.err")
	assert_rc 2
	assert_contains "$err" "hostprep: warning: writing the apply output to standard output: No space left on device"
	assert_file /sys/kernel/mm/transparent_hugepage/enabled "always madvise [never]"
}
