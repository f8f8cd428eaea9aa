# Shared helpers for the fake-host scenario tests (bash).  A test file
# defines functions named test_*; tests/run-scenarios.sh runs each in its own
# subshell with a fresh $T (temp dir) and counts the results.
#
#   mkhost [mkhost.sh options]   fake host at $ROOT
#   profile NAME <<EOF ... EOF   write $T/NAME (mode 0644), sets $P
#   hp ARGS...                   run hostprep on $ROOT with the kernel model;
#                                sets $rc, $out (stdout), $err (stderr); under
#                                $HOSTPREP_WRAPPER (tests/valgrind.sh) when set
#   snapshot / assert_unchanged  the whole tree, byte for byte and mtime
#   jqo FILTER                   jq on $out

: "${HOSTPREP:?HOSTPREP must name the binary}"
: "${KMODEL:?KMODEL must name libkmodel.so}"
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() { echo "    FAIL: $*" >&2; [ -n "${out:-}" ] && printf '    stdout: %s\n' "${out:0:3000}" >&2; \
	[ -n "${err:-}" ] && printf '    stderr: %s\n' "${err:0:3000}" >&2; exit 1; }

mkhost() { ROOT=$T/root; "$TESTS_DIR/fakehost/mkhost.sh" "$ROOT" "$@"; }

profile() { P=$T/$1; cat > "$P"; chmod 0644 "$P"; }

hp() {
	local o e a
	o=$T/.out e=$T/.err
	set +e
	HOSTPREP_KMODEL_ROOT=$ROOT LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		timeout 60 ${HOSTPREP_WRAPPER:-} "$HOSTPREP" -r "$ROOT" "$@" >"$o" 2>"$e"
	rc=$?
	set -e
	out=$(cat "$o"); err=$(cat "$e")
	# 99: the sanitizers' or valgrind's exit code for an error they found.
	[ "$rc" != 99 ] || fail "memory error reported (exit 99) for hostprep $*"
}

# hp under strace -f (STRACE-OPTION... -- HOSTPREP-ARG...): fault and signal
# injection; the kernel model is preloaded into hostprep only.  strace's
# output goes to $T/strace.log; a tracee killed by a signal gives 128+N.
hp_strace() {
	local s=() o=$T/.out e=$T/.err
	while [ "$1" != -- ]; do s+=("$1"); shift; done
	shift
	set +e
	# LeakSanitizer cannot run under ptrace.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	HOSTPREP_KMODEL_ROOT=$ROOT timeout 120 strace -f -qq -o "$T/strace.log" \
		-E LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" "${s[@]}" \
		"$HOSTPREP" -r "$ROOT" "$@" >"$o" 2>"$e"
	rc=$?
	set -e
	out=$(cat "$o"); err=$(cat "$e")
	for a in "$@"; do
		if [[ $a == --json || $a =~ ^-[a-zA-Z]*j[a-zA-Z]*$ ]]; then spool_json "$out"; break; fi
	done
}

# Keeps a --json run's stdout for tests/json-check.py, which run-scenarios.sh
# runs on each file's documents: each must be one document valid against
# agent/hostprep.schema.json, with unique action ids.
spool_json() {
	[ -n "${HOSTPREP_JSON_SPOOL:-}" ] || return 0
	printf '%s' "$1" > "$(mktemp "$HOSTPREP_JSON_SPOOL/${HOSTPREP_TEST:-test}.XXXXXX")"
}

assert_rc() { [ "$rc" = "$1" ] || fail "exit code $rc, expected $1"; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-output} does not contain '$2'" ;; esac; }
assert_not_contains() { case "$1" in *"$2"*) fail "${3:-output} contains '$2'" ;; esac; }
assert_file() { assert_eq "$(cat "$ROOT$1")" "$2" "$1"; }
jqo() { jq -r "$@" <<<"$out"; }
# action TARGET KEY: KEY of the action on TARGET in the last JSON output.
action() { jqo ".actions[] | select(.target==\"$1\") | .$2"; }

tree_state() { (cd "$ROOT" && find . -path ./.kmodel -prune -o -path ./run/hostprep.lock -prune -o -print0 | sort -z |
	xargs -0 stat -c '%n %s %Y.%y %a' && find . -path ./.kmodel -prune -o -path ./run/hostprep.lock -prune -o -type f -print0 | sort -z | xargs -0 cat | md5sum); }
snapshot() { tree_state > "$T/.snap"; }
assert_unchanged() { tree_state | diff -u "$T/.snap" - >&2 || fail "the tree changed"; }
# Writes seen by the kernel model since the last clear.
writes() { cat "$ROOT/.kmodel/log" 2>/dev/null || true; }
clear_writes() { rm -f "$ROOT/.kmodel/log"; }
# After an apply that converged the host: apply again exits 0, writes nothing
# and leaves the tree as it was; audit agrees (exit 0).
assert_idempotent() {
	clear_writes; snapshot
	hp -p "$P" apply
	assert_rc 0
	assert_eq "$(writes)" "" "writes on the second apply"
	assert_unchanged
	hp -p "$P" audit
	assert_rc 0
}

# An invalid profile (on stdin): apply, audit and validate each exit 1 with
# FILE:LINE and the message on stderr, print no result and touch nothing.
# bad_profile LINE EXPECTED-MESSAGE <<INI
bad_profile() {
	local line=$1 msg=$2 cmd
	profile bad.ini
	for cmd in apply audit validate; do
		snapshot
		hp -p "$P" "$cmd"
		[ "$rc" = 1 ] || fail "$cmd: exit code $rc, expected 1"
		assert_contains "$err" "$P:$line: " "$cmd stderr"
		assert_contains "$err" "$msg" "$cmd stderr"
		[ -z "$out" ] || fail "$cmd printed a result for an invalid profile"
		assert_unchanged
		assert_eq "$(writes)" "" "writes"
	done
}

# PCI hosts (tests/fakehost/add-pci.sh).  The lock file exists as after any
# earlier run, so snapshots compare only what apply did.
pcihost() { mkhost; "$TESTS_DIR/fakehost/add-pci.sh" "$ROOT" "$@"; : > "$ROOT/run/hostprep.lock"; }
# A process holding /dev/vfio/GROUP open, and the fake root's /proc showing it
# as a process chrooted there sees it (the fd link names /dev/vfio/GROUP): no
# link out of the root.
hold_group() {
	sleep 300 3<"$ROOT/dev/vfio/$1" &
	HOLDER=$!
	trap 'kill $HOLDER 2>/dev/null || true' EXIT
	mkdir -p "$ROOT/proc/$HOLDER/fd"
	echo sleep > "$ROOT/proc/$HOLDER/comm"
	ln -s "/dev/vfio/$1" "$ROOT/proc/$HOLDER/fd/3"
}
# The holder exits: gone from the fake /proc too.
release_group() { kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true; rm -rf "${ROOT:?}/proc/$HOLDER"; }
group_of() { basename "$(readlink "$ROOT/sys/bus/pci/devices/$1/iommu_group")"; }
driver_of() { basename "$(readlink "$ROOT/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null || true; }
# hp under strace: hp_inject 'renameat:signal=SIGKILL:when=2' ARGS...  injects into the
# main process only (children such as the sriov writer run untraced); sets $rc, $out, $err.
# INJECT_PATH=FILE limits it to the calls on that file (strace -P; the kernel model's own
# file operations run in the same process).
hp_inject() {
	local spec=$1 o=$T/.out e=$T/.err
	shift
	set +e
	HOSTPREP_KMODEL_ROOT=$ROOT timeout 60 strace -o /dev/null -qq ${INJECT_PATH:+-P "$INJECT_PATH"} \
		-E LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" -e inject="$spec" \
		${ASAN_OPTIONS:+-E ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"} \
		"$HOSTPREP" -r "$ROOT" "$@" >"$o" 2>"$e"
	rc=$?
	set -e
	out=$(cat "$o"); err=$(cat "$e")
}
