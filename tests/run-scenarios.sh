#!/bin/bash
# Runs every test_* function of the given scenario files, each in a subshell
# with its own temp dir; prints one line per test and "N passed, N failed".
set -uo pipefail
pass=0 failn=0 failed=()
# JSON documents the tests print (tests/lib.sh spool_json), checked per file.
schema=$(cd "$(dirname "$0")/.." && pwd)/agent/hostprep.schema.json
export HOSTPREP_JSON_SPOOL
for file in "$@"; do
	HOSTPREP_JSON_SPOOL=$(mktemp -d /tmp/hostprep-json.XXXXXX)
	for t in $(bash -c "source '$file' >/dev/null 2>&1; declare -F" | awk '$3 ~ /^test_/ {print $3}'); do
		T=$(mktemp -d /tmp/hostprep-test.XXXXXX)
		if ( set -e; export T HOSTPREP_TEST="$(basename "$file" .sh).$t"; source "$(dirname "$0")/lib.sh"; source "$file"; "$t" ) >"$T.log" 2>&1; then
			pass=$((pass + 1)); echo "  ok   $(basename "$file" .sh) $t"
		else
			failn=$((failn + 1)); failed+=("$(basename "$file" .sh) $t"); echo "  FAIL $(basename "$file" .sh) $t"
			sed 's/^/      /' "$T.log"
		fi
		rm -rf "$T" "$T.log"
	done
	if /usr/bin/python3 "$(dirname "$0")/json-check.py" "$schema" "$HOSTPREP_JSON_SPOOL" >"$HOSTPREP_JSON_SPOOL.log" 2>&1; then
		pass=$((pass + 1)); echo "  ok   $(basename "$file" .sh) json-schema ($(ls "$HOSTPREP_JSON_SPOOL" | wc -l) documents)"
	else
		failn=$((failn + 1)); failed+=("$(basename "$file" .sh) json-schema"); echo "  FAIL $(basename "$file" .sh) json-schema"
		sed 's/^/      /' "$HOSTPREP_JSON_SPOOL.log"
	fi
	rm -rf "$HOSTPREP_JSON_SPOOL" "$HOSTPREP_JSON_SPOOL.log"
done
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $failn failed"
[ "$failn" = 0 ]
