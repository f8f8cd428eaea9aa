#!/bin/bash
# The test command behind `make check`: unit tests (cmocka), fake-host
# scenarios, the fault and crash matrices (tests/fault/matrix.py), the Ansible role, the real-kernel VM suite, the systemd boot test (tests/boot), lint
# (cppcheck, clang-tidy), the fuzz targets briefly, unit + scenarios again under ASan+UBSan (build-san), the
# scenarios with hostprep under valgrind; one closing "N passed, N failed".
# Each part prints its time.
#   tests/run-all.sh BUILD_DIR [unit|scenario|matrix|ansible|vm|boot|lint|fuzz|sanitize|valgrind]...
# FUZZ_CHECK_SECONDS (per target, default 10) and VALGRIND_EVERY (valgrind on
# every Nth hostprep run of the scenarios, default 3; 1 = all) size the last parts.
set -uo pipefail
cd "$(dirname "$0")/.."
build=$1; shift
parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(unit scenario matrix ansible vm boot lint fuzz sanitize valgrind)
export HOSTPREP=$PWD/$build/hostprep KMODEL=$PWD/$build/tests/libkmodel.so
if [ "$build" = build-san ]; then
	# The sanitizer runtime must come first when the kernel model is preloaded.
	export SANITIZER_PRELOAD=$(gcc -print-file-name=libasan.so)
	# Exit 99 on a finding: hostprep's own codes stop at 6 (tests/lib.sh hp() fails on 99).
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
fi
# Scenario files over two workers (the machine has two cores); one log.
scenarios_parallel() {
	local dir; dir=$(mktemp -d)
	ls tests/scenario/test-*.sh | xargs -P2 -I{} sh -c 'tests/run-scenarios.sh "$1" > "$2/$(basename "$1").log" 2>&1' _ {} "$dir"
	cat "$dir"/*.log | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
	cat "$dir"/*.log | grep -E '^[0-9]+ passed, [0-9]+ failed$' |
		awk '{p+=$1; f+=$3} END {print p+0 " passed, " f+0 " failed"}'
	rm -rf "$dir"
}
total_pass=0 total_fail=0
count() { # last "N passed, N failed" line of a log
	local l; l=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	[ -n "$l" ] || { total_fail=$((total_fail + 1)); echo "  (no summary line: counted as one failure)"; return; }
	total_pass=$((total_pass + $(echo "$l" | cut -d' ' -f1))); total_fail=$((total_fail + $(echo "$l" | cut -d' ' -f3)))
}
log=$(mktemp)
for part in "${parts[@]}"; do
	echo "== $part"
	part_t0=$SECONDS
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
	matrix)
		# Fault and crash matrices (tests/fault/matrix.py): FAULT_BUDGET / CRASH_BUDGET runs, or all.
		/usr/bin/python3 tests/fault/matrix.py all 2>&1 | tee "$log"; count "$log" ;;
	ansible)
		tests/ansible/run.sh | tee "$log"; count "$log" ;;
	vm)
		if [ -x tests/vm/run.sh ]; then
			tests/vm/run.sh 2>&1 | tee "$log"; count "$log"
		else
			echo "  tests/vm/run.sh missing"; total_fail=$((total_fail + 1))
		fi ;;
	lint)
		tests/lint/run.sh 2>&1 | tee "$log"; count "$log" ;;
	fuzz)
		tests/fuzz/run.sh build-fuzz "${FUZZ_CHECK_SECONDS:-10}" 2>&1 | tee "$log"; count "$log" ;;
	sanitize)
		[ "$build" = build-san ] && { echo "  (this run is the sanitizer build)"; continue; }
		tests/run-all.sh build-san unit >"$log" 2>&1; grep -vE '^(== |[0-9]+ passed, [0-9]+ failed$)' "$log"
		grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1 > "$log.u"; count "$log.u"; cat "$log.u"
		( export HOSTPREP=$PWD/build-san/hostprep KMODEL=$PWD/build-san/tests/libkmodel.so \
			SANITIZER_PRELOAD=$(gcc -print-file-name=libasan.so) \
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
		  scenarios_parallel ) | tee "$log"; count "$log"; rm -f "$log.u" ;;
	valgrind)
		( export HOSTPREP_WRAPPER=$PWD/tests/valgrind.sh VALGRIND_EVERY=${VALGRIND_EVERY:-3} \
			VALGRIND_SHIM=$PWD/$build/tests/valgrind-openat2.so \
			VALGRIND_COUNTER=$(mktemp) HOSTILE_ONE_COMMAND=1
		  scenarios_parallel; rm -f "$VALGRIND_COUNTER" ) | tee "$log"; count "$log" ;;
	boot)
		if [ -x tests/boot/run.sh ]; then
			tests/boot/run.sh 2>&1 | tee "$log"; count "$log"
		else
			echo "  tests/boot/run.sh missing"; total_fail=$((total_fail + 1))
		fi ;;
	esac
	echo "== $part: $((SECONDS - part_t0))s"
done
rm -f "$log"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
