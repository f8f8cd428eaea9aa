#!/bin/bash
# The test command behind `make check`: unit tests (cmocka), fake-host
# scenarios, the Ansible role, and the real-kernel VM suite; one closing
# "N passed, N failed".
#   tests/run-all.sh BUILD_DIR [unit|scenario|ansible|vm]...
set -uo pipefail
cd "$(dirname "$0")/.."
build=$1; shift
parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(unit scenario ansible vm)
export HOSTPREP=$PWD/$build/hostprep KMODEL=$PWD/$build/tests/libkmodel.so
if [ "$build" = build-san ]; then
	# The sanitizer runtime must come first when the kernel model is preloaded.
	export SANITIZER_PRELOAD=$(gcc -print-file-name=libasan.so)
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
total_pass=0 total_fail=0
count() { # last "N passed, N failed" line of a log
	local l; l=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	[ -n "$l" ] || { total_fail=$((total_fail + 1)); echo "  (no summary line: counted as one failure)"; return; }
	total_pass=$((total_pass + $(echo "$l" | cut -d' ' -f1))); total_fail=$((total_fail + $(echo "$l" | cut -d' ' -f3)))
}
log=$(mktemp)
for part in "${parts[@]}"; do
	echo "== $part"
	case $part in
	unit)
		p=0 f=0
		for t in "$build"/tests/test-*; do
			[ -x "$t" ] || continue
			"$t" >"$log" 2>&1; rc=$?
			n=$(grep -oE '^\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
			m=$(grep -oE '^\[  FAILED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
			[ $rc -ne 0 ] && [ "$m" = 0 ] && m=1
			p=$((p + n)); f=$((f + m))
			[ $rc -ne 0 ] && cat "$log" || echo "  $(basename "$t"): $n passed"
		done
		echo "$p passed, $f failed" >"$log"; cat "$log"; count "$log" ;;
	scenario)
		tests/run-scenarios.sh tests/scenario/test-*.sh | tee "$log"; count "$log" ;;
	ansible)
		tests/ansible/run.sh | tee "$log"; count "$log" ;;
	vm)
		if [ -x tests/vm/run.sh ]; then
			tests/vm/run.sh 2>&1 | tee "$log"; count "$log"
		else
			echo "  tests/vm/run.sh missing"; total_fail=$((total_fail + 1))
		fi ;;
	esac
done
rm -f "$log"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
