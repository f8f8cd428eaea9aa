#!/bin/bash
# make bench: wall time and peak memory of hostprep on a small and a large
# generated host (the large one: 512 CPUs, 8 NUMA nodes).  Median of N runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-11}
bin=$PWD/build/hostprep kmodel=$PWD/build/tests/libkmodel.so
work=$(mktemp -d /tmp/hostprep-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/profile.ini" <<'INI'
[hugepages]
2M = 1024
[thp]
enabled = never
defrag = never
[cpu]
governor = performance
INI
chmod 0644 "$work/profile.ini"

measure() { # name root args...
	local name=$1 root=$2; shift 2
	local times=() rss=() i
	for ((i = 0; i < runs; i++)); do
		local t0 t1
		t0=$(date +%s%N)
		HOSTPREP_KMODEL_ROOT=$root LD_PRELOAD=$kmodel /usr/bin/time -f '%M' -o "$work/rss" \
			"$bin" -r "$root" -p "$work/profile.ini" "$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		times+=($(( (t1 - t0) / 1000 ))); rss+=($(tail -n 1 "$work/rss"))
	done
	local mt mr
	mt=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( runs / 2 + 1 ))p")
	mr=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n "$(( runs / 2 + 1 ))p")
	printf '%-34s %8.1f ms %8.1f MiB\n' "$name" "$(echo "$mt / 1000" | bc -l)" "$(echo "$mr / 1024" | bc -l)"
}

tests/fakehost/mkhost.sh "$work/small" --cpus 8 --nodes 2
tests/fakehost/mkhost.sh "$work/big" --cpus 512 --nodes 8
printf '%-34s %11s %12s\n' "command (median of $runs)" wall "peak RSS"
for host in small big; do
	measure "report --json ($host)" "$work/$host" -j report
	measure "audit ($host)" "$work/$host" audit
	cp -a "$work/$host" "$work/$host-apply"
	measure "apply, converged ($host)" "$work/$host-apply" apply
done
