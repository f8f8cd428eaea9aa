# Root containment (issue 10 item 1): under --root every path resolves inside
# the root, symlinks included, as for a process chrooted there — an absolute
# link is relative to the root, ".." stops at it.  Each place the agent writes
# is replaced in turn by a link out of the root (absolute, and ../../..) to a
# copy of itself outside; nothing outside may change.  Then the leftovers of
# item 9: stale temp files and the pid the lock names.

# Never under valgrind: valgrind 3.19 lacks openat2, and its shim
# (tests/valgrind.sh) does not confine.
unset HOSTPREP_WRAPPER

# A host with every module's files: PCI devices, a bootloader, a vDPA device.
full_host() {
	mkhost
	"$TESTS_DIR/fakehost/add-pci.sh" "$ROOT"
	"$TESTS_DIR/fakehost/add-boot.sh" "$ROOT" "${1:-grub}"
	"$TESTS_DIR/fakehost/add-vdpa.sh" "$ROOT" --dev vdpa0:vdpasim_net
	: > "$ROOT/run/hostprep.lock"
}

# Names, sizes, mtimes, modes and contents of a tree outside the root.
outside_state() {
	(cd "$1" && find . -print0 | sort -z | xargs -0 stat -c '%n %s %Y.%y %a' &&
		find . -type f -print0 | sort -z | xargs -0 cat | md5sum)
}

# escape FORM PATH: PATH (below the root) becomes a link out of the root to a
# copy of itself under $T/outside: FORM abs links to the absolute path, rel
# climbs out with ../../..
escape() {
	local form=$1 p=$2 target
	mkdir -p "$(dirname "$T/outside/$p")"
	if [ -e "$ROOT/$p" ] || [ -L "$ROOT/$p" ]; then
		cp -a "$ROOT/$p" "$T/outside/$p"
		rm -rf "${ROOT:?}/$p"
	elif [ "${ESCAPE_FILE:-}" ]; then
		echo "$ESCAPE_FILE" > "$T/outside/$p"
	else
		mkdir -p "$T/outside/$p"
	fi
	case $form in
	abs) target=$T/outside/$p ;;
	rel) target=$(realpath -m --relative-to="$(dirname "$ROOT/$p")" "$T/outside/$p") ;;
	esac
	case $target in /*|../*) ;; *) fail "escape: $target leaves nothing" ;; esac
	ln -s "$target" "$ROOT/$p"
	outside_state "$T/outside" > "$T/.outside"
}

# escape_case PATH PROFILE [BOOTLOADER]: apply with PATH linked out of the
# root, in both forms, on a fresh host each time.
escape_case() {
	local p=$1 prof=$2 layout=${3:-grub} form bad=""
	for form in abs rel; do
		rm -rf "${T:?}/root" "$T/outside"
		full_host "$layout"
		escape "$form" "$p"
		hp -p "$prof" apply
		case $rc in 0|1|2|4|6) ;; *) fail "$form link $p: exit code $rc" ;; esac
		outside_state "$T/outside" | diff -u "$T/.outside" - >&2 || bad+=" $form"
	done
	[ -z "$bad" ] || fail "$p linked out of the root ($bad): a file outside the root changed"
}

test_escape_grub_dropin_directory() {
	profile p.ini <<'INI'
[kernel]
nohz_full = 2-7
bootloader = grub
INI
	escape_case etc/default/grub.d "$P"
}

test_escape_etc_kernel_directory() {
	profile p.ini <<'INI'
[kernel]
nohz_full = 2-7
bootloader = kernel-cmdline
INI
	escape_case etc/kernel "$P" kernel-cmdline
}

test_escape_modprobe_directory() {
	profile p.ini <<'INI'
[kvm]
nested = yes
INI
	escape_case etc/modprobe.d "$P"
}

test_escape_records_directory() {
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
INI
	escape_case var/lib/hostprep "$P"
}

test_escape_run_directory_of_the_lock() {
	profile p.ini <<'INI'
[thp]
enabled = never
INI
	escape_case run "$P"
}

test_escape_thp_attribute() {
	profile p.ini <<'INI'
[thp]
enabled = never
defrag = never
INI
	escape_case sys/kernel/mm/transparent_hugepage/enabled "$P"
}

test_escape_nr_hugepages() {
	profile p.ini <<'INI'
[hugepages]
2M.node0 = 4
INI
	escape_case sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages "$P"
}

test_escape_cpufreq_policy_directory() {
	profile p.ini <<'INI'
[cpu]
governor = performance
INI
	escape_case sys/devices/system/cpu/cpufreq/policy0 "$P"
}

vfio_profile() { profile p.ini <<'INI'
[vfio]
devices = 0000:65:00.0, 0000:65:00.1
INI
}

test_escape_driver_override() {
	vfio_profile
	escape_case sys/devices/pci0000:00/0000:65:00.0/driver_override "$P"
}

test_escape_driver_unbind() {
	vfio_profile
	escape_case sys/bus/pci/drivers/nouveau/unbind "$P"
}

test_escape_drivers_probe() {
	vfio_profile
	escape_case sys/bus/pci/drivers_probe "$P"
}

test_escape_sriov_numvfs() {
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
INI
	escape_case sys/devices/pci0000:00/0000:03:00.0/sriov_numvfs "$P"
}

test_escape_sriov_autoprobe() {
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
autoprobe = no
INI
	escape_case sys/devices/pci0000:00/0000:03:00.0/sriov_drivers_autoprobe "$P"
}

test_escape_vdpa_driver_bind() {
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
driver = virtio_vdpa
INI
	escape_case sys/bus/vdpa/drivers/virtio_vdpa/bind "$P"
}

# A link as the record file: replaced by our file (rename does not follow it).
test_escape_record_file_itself() {
	profile p.ini <<'INI'
[vfio]
devices = 0000:65:00.0, 0000:65:00.1
INI
	ESCAPE_FILE="0000:02:00.0 e1000e" escape_case var/lib/hostprep/vfio "$P"
}

# report printed an outside file linked as proc/cmdline.
test_escape_report_reads_nothing_outside() {
	local form bad=""
	for form in abs rel; do
		rm -rf "${T:?}/root" "$T/outside"
		mkhost
		escape "$form" proc/cmdline
		echo "OUTSIDE-MARKER=1" > "$T/outside/proc/cmdline"
		hp -j report
		case "$out$err" in *OUTSIDE-MARKER*) bad+=" $form" ;; esac
	done
	[ -z "$bad" ] || fail "report printed the outside file linked as proc/cmdline ($bad)"
}

# libpci and libkmod open files themselves: they run chrooted into the root.
test_escape_libpci_reads_stay_inside() {
	local form bad=""
	for form in abs rel; do
		rm -rf "${T:?}/root" "$T/outside"
		full_host
		escape "$form" sys/devices/pci0000:00/0000:03:00.0/device
		echo 0x1572 > "$T/outside/sys/devices/pci0000:00/0000:03:00.0/device"   # an X710
		hp -j report
		case "$out" in *X710*) bad+=" $form" ;; esac
	done
	[ -z "$bad" ] || fail "libpci read a device id linked out of the root ($bad)"
}

test_escape_libkmod_reads_stay_inside() {
	local form bad=""
	profile p.ini <<'INI'
[kvm]
nested = yes
INI
	for form in abs rel; do
		rm -rf "${T:?}/root" "$T/outside"
		mkhost
		mkdir -p "$ROOT/etc/modprobe.d"
		ESCAPE_FILE="options kvm_intel nested=0" escape "$form" etc/modprobe.d/zz-outside.conf
		hp -j -p "$P" apply
		case "$out$err" in *zz-outside*) bad+=" $form" ;; esac
		[ "$rc" = 2 ] || bad+=" $form(exit code $rc)"
	done
	[ -z "$bad" ] || fail "libkmod read a modprobe.d file linked out of the root ($bad)"
}

# Without CAP_SYS_CHROOT (not root) the confined reads go through a user
# namespace of hostprep's own.
test_report_on_a_root_as_an_unprivileged_user() {
	full_host
	chmod 0755 "$T"
	set +e
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$HOSTPREP" -r "$ROOT" -j report 2>"$T/.err")
	rc=$?
	set -e
	err=$(cat "$T/.err")
	assert_rc 0
	assert_eq "$(jqo '.capabilities.sriov[] | select(.address=="0000:03:00.0") | .name')" \
		"Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network Connection"
}

# The other side: an absolute link is followed inside the root, and ".." past
# the root stops at it, as in a chroot.  (The targets also exist under $T, so
# that a binary that escapes changes only the test's own files.)
test_absolute_link_resolves_inside_the_root() {
	local d
	profile p.ini <<'INI'
[kvm]
nested = yes
INI
	mkhost
	d=$T/outside/modprobe.d
	mkdir -p "$d" "$ROOT$d" "$ROOT/etc"
	ln -s "$d" "$ROOT/etc/modprobe.d"
	hp -p "$P" apply
	assert_rc 2
	assert_contains "$(cat "$ROOT$d/hostprep-kvm.conf")" "options kvm_intel nested=1"
	[ -z "$(ls -A "$d")" ] || fail "written outside the root"
	rm "$ROOT/etc/modprobe.d"
	ln -s "../../../../../../../../../../..$d" "$ROOT/etc/modprobe.d"
	hp -p "$P" apply
	assert_rc 0
	[ -z "$(ls -A "$d")" ] || fail "written outside the root"
}

# The tripwire: one audit, apply and report with a profile that touches every
# module, traced: every path hostprep touched lies inside the root or is one
# of the program's own files.  Then the same on a root laced with links out of
# it at every place the first run touched: nothing outside read or changed.
everything_profile() {
	profile p.ini < "$TESTS_DIR/fault/everything.ini"
}

# traced CMD...: hostprep under strace, then every path checked.
traced() {
	local allowed=(/etc/ld.so.cache /etc/ld.so.preload /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu
		/usr/share/misc/pci.ids /usr/share/misc/pci.ids.gz /dev/null /proc/self/fd
		"$HOSTPREP" "$KMODEL" "$P")
	# AddressSanitizer's runtime reads its own process files.
	[ -n "${SANITIZER_PRELOAD:-}" ] && allowed+=("$SANITIZER_PRELOAD" /usr/lib/gcc /proc/self/maps
		/proc/self/status /proc/self/cmdline /proc/self/environ /proc/self/exe /proc/self/auxv
		/proc/self/task)
	hp_strace -y -s 4096 -e trace=%file,clone,clone3,fork,vfork -- -p "$P" "$@"
	case $rc in 0|1|2|4|6) ;; *) fail "$*: exit code $rc" ;; esac
	/usr/bin/python3 "$TESTS_DIR/fault/paths-inside.py" "$ROOT" "$T/strace.log" "${allowed[@]}" > "$T/.paths" ||
		{ cat "$T/.paths" >&2; fail "$*: hostprep touched paths outside the root"; }
}

test_tripwire_every_path_stays_inside_the_root() {
	local cmd
	everything_profile
	full_host
	for cmd in audit apply report; do
		traced "$cmd"
		cat "$T/strace.log" >> "$T/touched.log"
	done
	assert_contains "$(cat "$T/.paths")" "all inside"
	# The laced root: the same host, every file and directory the runs touched a link out of it.
	rm -rf "${T:?}/root"
	full_host
	grep -o "<$ROOT/[^>]*>" "$T/touched.log" | sed "s|^<$ROOT/||; s|>\$||" |
		/usr/bin/python3 "$TESTS_DIR/fault/lace.py" "$ROOT" "$T/outside" \
			etc/modprobe.d var/lib/hostprep run etc/default/grub.d > "$T/.laced"
	[ "$(cat "$T/.laced")" -gt 100 ] || fail "only $(cat "$T/.laced") places laced"
	echo "laced $(cat "$T/.laced") places"
	echo "OUTSIDE-MARKER" >> "$T/outside/proc/cmdline"
	outside_state "$T/outside" > "$T/.outside"
	for cmd in audit apply report; do
		traced -j "$cmd"
		assert_not_contains "$out" OUTSIDE-MARKER "$cmd output"
	done
	outside_state "$T/outside" | diff -u "$T/.outside" - >&2 || fail "a file outside the root changed"
}

# A kernel without openat2() (< 5.6) cannot confine a root: refused, clearly.
test_root_refused_without_openat2() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = never
INI
	snapshot
	hp_strace -e trace=openat2 -e inject=openat2:error=ENOSYS -- -p "$P" apply
	assert_rc 1
	assert_contains "$err" "needs openat2() (Linux 5.6 or later)"
	assert_unchanged
}

# Item 9: a kill between the temp file's write and its rename leaves
# NAME.hostprep-XXXXXX; the next apply removes it.
temps() { find "$ROOT" -name '*.hostprep-*' -not -path '*/.kmodel/*' | sort; }

test_stale_temp_file_is_removed_by_the_next_apply() {
	mkhost
	profile p.ini <<'INI'
[kvm]
nested = yes
INI
	hp_strace -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=SIGKILL:when=1 -- -p "$P" apply
	assert_rc 137
	[ -n "$(temps)" ] || fail "the kill left no temp file: the test proves nothing"
	[ ! -e "$ROOT/etc/modprobe.d/hostprep-kvm.conf" ] || fail "renamed before the kill"
	hp -v -p "$P" apply
	assert_rc 2
	assert_eq "$(temps)" "" "temp files after the next apply"
	assert_contains "$(cat "$ROOT/etc/modprobe.d/hostprep-kvm.conf")" "options kvm_intel nested=1"
	assert_contains "$err" "left by an interrupted run"
	assert_idempotent
}

test_stale_temp_file_is_removed_when_the_file_goes_away() {
	mkhost
	profile p.ini <<'INI'
[kvm]
nested = yes
INI
	hp -p "$P" apply
	assert_rc 2
	sed -i 's/nested = yes/nested = no/' "$P"
	hp_strace -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=SIGKILL:when=1 -- -p "$P" apply
	assert_rc 137
	[ -n "$(temps)" ] || fail "the kill left no temp file"
	# The section goes: the file is removed, and the temp file with it.
	profile p.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" apply
	assert_rc 2
	assert_eq "$(temps)" "" "temp files after the next apply"
	[ ! -e "$ROOT/etc/modprobe.d/hostprep-kvm.conf" ] || fail "our file is still there"
}

# Item 9: the lock file never names pid 0.  The holder is held up between
# taking the lock and writing its pid; a second apply in that window must not
# say "pid 0".
# The lock file is held by some process (an flock in /proc/locks on its inode).
lock_held() {
	local ino
	ino=$(stat -c %i "$ROOT/run/hostprep.lock" 2>/dev/null) || return 1
	grep -qE "FLOCK +ADVISORY +WRITE +[0-9]+ [0-9a-f]+:[0-9a-f]+:$ino " /proc/locks
}

test_lock_never_names_pid_0() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = never
INI
	(
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		HOSTPREP_KMODEL_ROOT=$ROOT strace -f -qq -o /dev/null -e trace=pwrite64 \
			-e inject=pwrite64:delay_enter=3000000:when=1 \
			-E LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
			"$HOSTPREP" -r "$ROOT" -p "$P" apply >/dev/null 2>&1
	) &
	first=$!
	# Bounded: until the first run holds the lock, seen in /proc/locks (trying
	# the lock ourselves could make the first run find it taken).
	for _ in $(seq 600); do lock_held && break; sleep 0.05; done
	lock_held || fail "the first apply never took the lock"
	hp -p "$P" apply
	wait $first || true
	assert_rc 1
	assert_not_contains "$err" "pid 0)"
	assert_contains "$err" "another hostprep run"
}

# Item 9: while the sriov writer child of a finished run still holds the lock,
# the lock names that child, not its exited parent.
test_lock_names_the_writer_child_not_its_exited_parent() {
	full_host
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
timeout = 1
INI
	mkdir -p "$ROOT/.kmodel/slow/sys/devices/pci0000:00/0000:03:00.0"
	echo 4 > "$ROOT/.kmodel/slow/sys/devices/pci0000:00/0000:03:00.0/sriov_numvfs"
	hp -p "$P" apply
	assert_rc 4
	child=$(grep -o 'pid [0-9]* waits for it' <<<"$err" | cut -d' ' -f2)
	[ -n "$child" ] || fail "no writer pid in the message"
	kill -0 "$child" || fail "the writer child is gone already"
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "another hostprep run (pid $child) holds"
	flock -w 10 "$ROOT/run/hostprep.lock" true || fail "the writer did not finish"
}
