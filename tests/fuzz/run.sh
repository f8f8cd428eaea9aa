#!/bin/bash
# Runs the libFuzzer targets: first every saved finding (tests/fuzz/regress/NAME/*,
# each once), then fuzzing for SECONDS per target from the seeds
# (tests/fuzz/seeds/NAME) and the corpus earlier runs grew (BUILD/corpus/NAME).
# Prints time and executions per target; ends with "N passed, N failed".
#   tests/fuzz/run.sh BUILD SECONDS [NAME...]
set -uo pipefail
cd "$(dirname "$0")/../.."
build=$1 seconds=$2; shift 2
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(ls "$build"/fuzz-* 2>/dev/null | sed 's|.*/fuzz-||'))
[ ${#names[@]} -gt 0 ] || { echo "no fuzz targets in $build"; echo "0 passed, 1 failed"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
pass=0 failn=0 total_runs=0 t0=$SECONDS
log=$(mktemp)
for n in "${names[@]}"; do
	bin=$build/fuzz-$n seeds=tests/fuzz/seeds/$n regress=tests/fuzz/regress/$n work=$build/corpus/$n
	mkdir -p "$work" "$build/artifacts"
	if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
		if "$bin" "$regress"/* >"$log" 2>&1; then
			pass=$((pass + 1)); echo "  ok   fuzz-$n regressions ($(ls "$regress" | wc -l) inputs)"
		else
			failn=$((failn + 1)); echo "  FAIL fuzz-$n regressions"; tail -30 "$log" | sed 's/^/      /'
		fi
	fi
	t=$SECONDS
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$n-" "$work" ${seeds:+$([ -d "$seeds" ] && echo "$seeds")} >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	runs=${runs:-0}; total_runs=$((total_runs + runs))
	took=$((SECONDS - t))
	msg="fuzz-$n: $runs executions in ${took}s ($((runs / (took > 0 ? took : 1)))/s), corpus $(ls "$work" | wc -l)"
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "  ok   $msg"
	else
		failn=$((failn + 1)); echo "  FAIL $msg"
		grep -E 'ERROR|SUMMARY|invariant failed|runtime error|Test unit written' "$log" | head -8 | sed 's/^/      /'
		echo "      (reproduce: $bin FILE; keep the input under $regress/ with the fix)"
	fi
done
rm -f "$log"
echo "fuzzing: ${#names[@]} targets, $total_runs executions in $((SECONDS - t0))s"
echo "$pass passed, $failn failed"
[ "$failn" = 0 ]
