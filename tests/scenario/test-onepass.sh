# One pass over the host (agent/snapshot.c), counted with strace: no sysfs or
# procfs file is opened twice in a run, the bus is listed once and only when
# something needs the list, and the capabilities are gathered only when they
# are printed.  (How long a run takes is the benchmark's business.)

# opened ARGS...: hostprep ARGS under strace; $T/opened gets every file
# opened (open/openat/openat2; O_PATH descriptors, which open nothing, left
# out), one per line, in order, as the host names it: "/sys/...", whether
# it was opened as ROOT/sys/..., relative to a descriptor of the root
# ("sys/...") or by a process chrooted there; sets $rc.
opened() {
	set +e
	# (ASan's leak checker cannot run under ptrace: off for these runs.)
	HOSTPREP_KMODEL_ROOT=$ROOT LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=open,openat,openat2 -o "$T/strace" "$HOSTPREP" -r "$ROOT" "$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	set -e
	grep -v O_PATH "$T/strace" | grep -oE 'open(at2?)?\([^"]*"[^"]*"' | sed 's/.*"\(.*\)"/\1/' |
		sed "s|^$ROOT/||; s|^/||; s|^|/|" > "$T/opened"
}

# read_bytes FILE ARGS...: hostprep ARGS under strace; $bytes gets how many
# bytes its read() calls took from the root's FILE (e.g. proc/cpuinfo); sets
# $rc and $out too.
read_bytes() {
	local file=$1
	shift
	set +e
	HOSTPREP_KMODEL_ROOT=$ROOT LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -y -e trace=read -o "$T/reads" "$HOSTPREP" -r "$ROOT" "$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	set -e
	out=$(cat "$T/.out")
	bytes=$(grep -F "$file>" "$T/reads" | sed -n 's/.*= \([0-9]*\)$/\1/p' | awk '{ s += $1 } END { print s + 0 }')
}

# The sysfs and procfs files of the host that were opened more than once.
# libkmod reads /proc/cmdline itself (module options given on the kernel
# command line) whenever the run asks it for a module's options: that second
# read is its own.  AddressSanitizer's runtime reads /proc/self/maps itself.
opened_twice() {
	grep -E '^/(sys|proc)/' "$T/opened" | grep -vx /proc/cmdline |
		if [ -n "${SANITIZER_PRELOAD:-}" ]; then grep -vx /proc/self/maps; else cat; fi | sort | uniq -d
}

# Every module, PCI devices by vendor:device so that plan lists the bus too.
every_module() {
	profile p.ini <<'INI'
[kernel]
isolcpus = 2-3
iommu = pt
bootloader = none
[hugepages]
2M = 64
[thp]
enabled = never
[cpu]
governor = performance
[kvm]
nested = yes
reload = if-idle
[sriov 8086:10fb]
numvfs = 2
vf_driver = vfio-pci
[vfio]
devices = 10de:1b80, 10de:10f0
[vdpa vdpa0]
mgmtdev = vdpasim_net
INI
}

test_no_sysfs_or_proc_file_is_opened_twice_in_a_run() {
	# Booted with the profile's arguments already, so that apply converges.
	mkhost --cmdline "root=/dev/sda1 ro isolcpus=2-3 intel_iommu=on iommu=pt"
	"$TESTS_DIR/fakehost/add-pci.sh" "$ROOT"; "$TESTS_DIR/fakehost/add-vdpa.sh" "$ROOT"; every_module
	check_runs() {
		for run in "$@"; do
			# shellcheck disable=SC2086
			opened -p "$P" $run
			[ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "$run: exit code $rc: $(cat "$T/.err")"
			[ -z "$(opened_twice)" ] || fail "$run opened these more than once: $(opened_twice | tr '\n' ' ')"
		done
	}
	check_runs "-j audit" "audit -v" "-j report" "validate"
	# An apply that changes the host reads back what it wrote, and its report
	# reads the host as it is now; once converged, a run reads each file once.
	hp -p "$P" apply
	assert_rc 2
	check_runs "-j apply" "apply" "-j audit"
	assert_rc 0
}

test_the_bus_is_listed_once_per_run_and_only_when_needed() {
	pcihost; every_module
	opened -p "$P" -j audit
	# libpci reads every device's vendor: once, for selectors and report alike.
	assert_eq "$(grep -c '/0000:02:00.0/vendor$' "$T/opened")" 1 "opens of an unrelated device's vendor"
	profile a.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
[vfio]
devices = 0000:65:00.0, 0000:65:00.1
INI
	for cmd in audit apply validate; do
		opened -p "$P" "$cmd"
		assert_eq "$(grep -c '/0000:02:00.0/vendor$' "$T/opened")" 0 "$cmd: opens of an unrelated device's vendor"
	done
	# The report lists it (it names every PF and every device on vfio-pci).
	opened -p "$P" -j audit
	assert_eq "$(grep -c '/0000:02:00.0/vendor$' "$T/opened")" 1 "-j audit: opens of an unrelated device's vendor"
}

# The CPU's vendor, model and flags come from the first CPU's block: the rest
# of a big host's /proc/cpuinfo (a megabyte at 512 CPUs, each block computed by
# the kernel as it is read) is not read.
test_cpuinfo_is_read_only_as_far_as_the_facts() {
	mkhost --cpus 256
	local size
	size=$(stat -c %s "$ROOT/proc/cpuinfo")
	[ "$size" -gt 32768 ] || fail "the fake /proc/cpuinfo has only $size bytes"
	read_bytes proc/cpuinfo -j report
	assert_rc 0
	[ "$bytes" -gt 0 ] && [ "$bytes" -le 16384 ] || fail "read $bytes bytes of a $size-byte /proc/cpuinfo"
	assert_eq "$(jqo .capabilities.cpu.vendor)" GenuineIntel
}

# A fact missing from the first block is looked for in the next ones, and a
# line longer than the reading buffer is passed over, not cut into lines.
test_cpuinfo_facts_past_a_long_line_and_past_the_first_block() {
	mkhost --cpus 64
	local rest
	rest=$(grep -v '^model name' "$ROOT/proc/cpuinfo")
	{
		# Cut into 16,383-byte reads, this line's third piece would begin with
		# "vendor_id".
		printf 'notes\t: %svendor_id\t: Bogus\n' "$(head -c 32758 /dev/zero | tr '\0' x)"
		printf '%s\n\nprocessor\t: 64\nmodel name\t: Late Model CPU\n' "$rest"
	} > "$ROOT/proc/cpuinfo"
	hp -j report
	assert_rc 0
	assert_eq "$(jqo .capabilities.cpu.vendor)" GenuineIntel
	assert_eq "$(jqo .capabilities.cpu.model)" "Late Model CPU"
}

# pci.ids is read only by a run that prints a device's name.
test_pci_ids_only_when_a_name_is_printed() {
	pcihost; every_module
	opened -p "$P" audit
	assert_not_contains "$(cat "$T/opened")" "pci.ids" "files opened by a text audit listing the bus"
	assert_contains "$(cat "$T/opened")" "/0000:02:00.0/vendor" "files opened by a text audit listing the bus"
	opened report
	assert_rc 0
	assert_eq "$(grep -c 'pci\.ids' "$T/opened")" 1 "opens of pci.ids by report"
}

test_capabilities_are_gathered_only_when_printed() {
	mkhost; profile p.ini <<'INI'
[thp]
enabled = never
INI
	# /proc/meminfo and the NUMA nodes' meminfo serve the report only.
	opened -p "$P" audit
	assert_rc 2
	assert_not_contains "$(cat "$T/opened")" "/proc/meminfo" "files opened by a text audit"
	assert_not_contains "$(cat "$T/opened")" "/node0/meminfo" "files opened by a text audit"
	assert_not_contains "$(cat "$T/.out")" "Hugepages" "text audit"
	opened -p "$P" -v audit
	assert_contains "$(cat "$T/opened")" "/proc/meminfo" "files opened by audit -v"
	# (The check can fail: what was opened is all there.)
	assert_contains "$(cat "$T/opened")" "/sys/kernel/mm/transparent_hugepage/enabled" "files opened by audit -v"
	assert_contains "$(cat "$T/.out")" "Hugepages" "audit -v"
	opened -p "$P" -j audit
	assert_contains "$(cat "$T/opened")" "/node0/meminfo" "files opened by a JSON audit"
	opened -p "$P" apply
	assert_rc 2
	assert_not_contains "$(cat "$T/opened")" "/proc/meminfo" "files opened by a text apply"
}

test_host_facts_are_read_only_when_needed() {
	pcihost; profile a.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
INI
	# No kernel arguments wanted nor owned: the plan needs no host facts.
	for cmd in audit apply; do
		opened -p "$P" "$cmd"
		assert_not_contains "$(cat "$T/opened")" "/proc/cpuinfo" "files opened by a text $cmd"
	done
	# The report gives them.
	opened -p "$P" -j audit
	assert_contains "$(cat "$T/opened")" "/proc/cpuinfo" "files opened by a JSON audit"
}
