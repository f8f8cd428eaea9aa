# Bad profiles: each exits 1 with FILE:LINE on stderr and touches nothing,
# for apply, audit and validate alike.

test_unknown_section() { mkhost; bad_profile 2 "unknown section [hugepage]" <<'INI'
[thp]
[hugepage]
2M = 4
INI
}
test_unknown_key() { mkhost; bad_profile 3 "unknown key 'enable' in [thp]" <<'INI'
[thp]
enabled = never
enable = never
INI
}
test_bad_thp_value() { mkhost; bad_profile 2 "enabled: expected always, madvise or never" <<'INI'
[thp]
enabled = sometimes
INI
}
test_thp_value_host_lacks() {
	mkhost
	echo "always [madvise]" > "$ROOT/sys/kernel/mm/transparent_hugepage/enabled"
	bad_profile 2 "this kernel offers always madvise" <<'INI'
[thp]
enabled = never
INI
}
test_hugepage_size_host_lacks() { mkhost --sizes 2048; bad_profile 3 "this host has no 1G hugepages" <<'INI'
[hugepages]
2M = 4
1G = 2
INI
}
test_hugepage_node_host_lacks() { mkhost --nodes 2; bad_profile 2 "this host has no NUMA node 5" <<'INI'
[hugepages]
2M.node5 = 4
INI
}
test_hugepage_count_not_a_number() { mkhost; bad_profile 2 "'lots' is not a page count" <<'INI'
[hugepages]
2M = lots
INI
}
test_hugepage_bad_size_key() { mkhost; bad_profile 2 "unknown key '3Q'" <<'INI'
[hugepages]
3Q = 1
INI
}
test_hugepage_total_and_node_mixed() { mkhost; bad_profile 3 "give a total or per-node counts" <<'INI'
[hugepages]
2M = 8
2M.node0 = 4
INI
}
test_hugepage_default_without_boot() { mkhost; bad_profile 2 "default needs boot = yes" <<'INI'
[hugepages]
default = 1G
INI
}
test_bad_boolean() { mkhost; bad_profile 2 "boot: expected yes or no" <<'INI'
[hugepages]
boot = perhaps
INI
}
test_cpu_list_bad_syntax() { mkhost; bad_profile 3 "cpus: range 7-3 runs backwards" <<'INI'
[cpu]
governor = performance
cpus = 7-3
INI
}
test_cpu_not_on_host() { mkhost --cpus 8; bad_profile 3 "cpus: 4-11 is not within this host's CPUs (0-7)" <<'INI'
[cpu]
governor = performance
cpus = 4-11
INI
}
test_governor_bad_name() { mkhost; bad_profile 2 "'../x' is not a governor name" <<'INI'
[cpu]
governor = performance|../x
INI
}
test_key_outside_section() { mkhost; bad_profile 1 "'governor' is outside any [section]" <<'INI'
governor = performance
INI
}
test_syntax_error() { mkhost; bad_profile 2 "syntax error" <<'INI'
[thp]
enabled never
INI
}
test_section_takes_no_name() { mkhost; bad_profile 1 "[thp] takes no name" <<'INI'
[thp extra]
enabled = never
INI
}
test_line_too_long_is_an_error_not_cut() {
	mkhost
	{ echo "[cpu]"; printf 'governor = performance|%0220d\n' 0; } | bad_profile 2 "longer than the 198 this parser holds"
}
test_include_loop() {
	mkhost
	profile a.ini <<'INI'
[profile]
include = bad.ini
INI
	profile bad.ini <<'INI'
[profile]
include = a.ini
INI
	hp -p "$P" apply
	assert_rc 1
	# The include that closes the loop is the one named.
	assert_contains "$err" "$T/a.ini:2: include loop: $T/bad.ini is already being read"
}
test_include_missing_names_the_including_line() { mkhost; bad_profile 3 "cannot open" <<'INI'
[thp]
[profile]
include = nowhere.ini
INI
}
test_errors_in_include_name_the_included_file() {
	mkhost
	profile inc.ini <<'INI'
[thp]
enabled = bogus
INI
	profile top.ini <<'INI'
[profile]
include = inc.ini
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "$T/inc.ini:2: enabled: expected"
}
test_all_errors_are_reported_not_just_the_first() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = bogus
defrag = bogus
[nosuch]
INI
	hp -p "$P" validate
	assert_rc 1
	assert_contains "$err" "p.ini:2:"
	assert_contains "$err" "p.ini:3:"
	assert_contains "$err" "p.ini:4:"
	assert_contains "$err" "3 error(s)"
}
test_profile_writable_by_others_is_refused_as_root() {
	[ "$(id -u)" = 0 ] || return 0
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = never
INI
	chmod 0666 "$P"
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "must be owned by root and not writable by group or others"
	chmod 0644 "$P"; chown 65534 "$P"
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "owner 65534"
}
test_missing_profile() {
	mkhost
	hp -p "$T/none.ini" apply
	assert_rc 1
	assert_contains "$err" "cannot open $T/none.ini"
}
test_validate_good_profile() {
	mkhost
	profile p.ini <<'INI'
[hugepages]
2M = 4
INI
	hp -p "$P" validate
	assert_rc 0
	assert_contains "$out" "valid"
	hp -p "$P" -j validate
	assert_eq "$(jqo .valid)" true
}
test_bad_root() {
	ROOT=$T/does-not-exist
	hp report
	assert_rc 1
	assert_contains "$err" "does-not-exist"
}

# Errors found at different stages (a module's value check, inih's syntax
# check, an unknown section) come out in the order of the lines.
test_errors_follow_line_order() {
	mkhost
	profile bad.ini <<'INI'
[thp]
enabled = sometimes
[hugepage]
this line is not a key value
INI
	hp -p "$P" validate
	assert_rc 1
	lines=$(grep -oE "bad.ini:[0-9]+:" <<<"$err" | cut -d: -f2 | tr '\n' ' ')
	assert_eq "$lines" "2 3 4 " "error lines in stderr order"
}

# A read error is no end of file.  With EIO injected on hostprep's first read()
# of the profile (or of an include) of a converged host, apply must exit 1
# naming the file and the error, and leave everything it set up in place:
# an empty profile would undo it all.
converged_host() {
	pcihost
	"$TESTS_DIR/fakehost/add-boot.sh" "$ROOT" grub
	profile inc.ini <<'INI'
[vfio]
devices = 0000:65:00.0, 65:00.1
INI
	profile p.ini <<'INI'
[profile]
include = inc.ini
[kernel]
args = skew_tick=1
[kvm]
nested = yes
[sriov ens1f0]
numvfs = 4
INI
	hp -p "$P" apply
	assert_rc 2
	hp -p "$P" apply
	assert_rc 0
	[ -f "$ROOT/etc/default/grub.d/99-hostprep.cfg" ] || fail "no grub drop-in after apply"
	[ -f "$ROOT/etc/modprobe.d/hostprep-kvm.conf" ] || fail "no modprobe.d file after apply"
	assert_file /sys/bus/pci/devices/0000:03:00.0/sriov_numvfs 4
	assert_eq "$(driver_of 0000:65:00.0)" vfio-pci
}
# traced_hp FILE STRACE-ARGS... -- HOSTPREP-ARGS...: hostprep under strace with
# the kernel model; $nth = the ordinal of its first read() of FILE.  (ASan's
# leak checker cannot run under ptrace: it is off for these runs.)
traced_hp() {
	local file=$1 sargs=() ; shift
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done; shift
	set +e
	timeout 60 strace -qq -o "$T/.trace" -e trace=read -y "${sargs[@]}" \
		-E HOSTPREP_KMODEL_ROOT="$ROOT" -E LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		${ASAN_OPTIONS:+-E ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"} \
		"$HOSTPREP" -r "$ROOT" "$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	set -e
	out=$(cat "$T/.out"); err=$(cat "$T/.err")
	nth=$(grep -E '^read\(' "$T/.trace" | grep -n -F "<$file>" | head -1 | cut -d: -f1)
}
read_error_leaves_the_host_alone() {
	local file=$1
	converged_host
	traced_hp "$file" -- -p "$P" apply
	assert_rc 0
	[ -n "$nth" ] || fail "no read() of $file in the trace"
	clear_writes; snapshot
	traced_hp "$file" -e inject=read:error=EIO:when="$nth" -- -p "$P" apply
	assert_rc 1
	assert_contains "$err" "$file"
	assert_contains "$err" "Input/output error"
	assert_eq "$(writes)" "" "writes after a read error"
	assert_unchanged
	assert_eq "$(cat "$ROOT/.kmodel/calls" 2>/dev/null | grep -c update-grub)" 1 "update-grub runs"
}
test_read_error_on_the_profile_is_not_end_of_file() { read_error_leaves_the_host_alone "$T/p.ini"; }
test_read_error_on_an_include_is_not_end_of_file() { read_error_leaves_the_host_alone "$T/inc.ini"; }

# -p naming a FIFO, a directory or a device: refused before opening (a FIFO
# would block forever), exit 1 at once.
test_profile_that_is_no_regular_file_is_refused_without_opening() {
	mkhost
	mkfifo "$T/p.fifo"; mkdir "$T/dir"
	for p in "$T/p.fifo" "$T/dir" /dev/null /dev/zero; do
		snapshot
		hp -p "$p" apply
		assert_rc 1
		assert_contains "$err" "$p is not a regular file"
		[ -z "$out" ] || fail "apply printed a result for $p"
		assert_unchanged
	done
}

# With boot = yes a size the host does not list must be one the CPU can
# reserve at boot: 1G needs pdpe1gb.
test_boot_page_size_needs_the_cpu_flag() {
	mkhost --sizes 2048
	profile p.ini <<'INI'
[hugepages]
1G = 2
boot = yes
INI
	hp -p "$P" validate
	assert_rc 0
	sed -i 's/ pdpe1gb//' "$ROOT/proc/cpuinfo"
	bad_profile 2 "this host has no 1G hugepages, and its CPU cannot reserve them at boot" <<'INI'
[hugepages]
1G = 2
boot = yes
INI
}
