#!/bin/bash
# Runs every test_* function of the given scenario files, each in a subshell
# with its own temp dir; prints one line per test and "N passed, N failed".
set -uo pipefail
pass=0 failn=0 failed=()
for file in "$@"; do
	for t in $(bash -c "source '$file' >/dev/null 2>&1; declare -F" | awk '$3 ~ /^test_/ {print $3}'); do
		T=$(mktemp -d /tmp/hostprep-test.XXXXXX)
		if ( set -e; export T; source "$(dirname "$0")/lib.sh"; source "$file"; "$t" ) >"$T.log" 2>&1; then
			pass=$((pass + 1)); echo "  ok   $(basename "$file" .sh) $t"
		else
			failn=$((failn + 1)); failed+=("$(basename "$file" .sh) $t"); echo "  FAIL $(basename "$file" .sh) $t"
			sed 's/^/      /' "$T.log"
		fi
		rm -rf "$T" "$T.log"
	done
done
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $failn failed"
[ "$failn" = 0 ]
