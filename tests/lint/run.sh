#!/bin/bash
# make lint: cppcheck and clang-tidy (Debian's) over agent/, modules/ and the
# fuzz targets, with the checked-in configuration (.clang-tidy,
# tests/lint/cppcheck.supp, tests/lint/hostprep.cfg).  Any finding fails.
# Prints each tool's time; ends with "N passed, N failed".
#   tests/lint/run.sh [FILE.c...]      (default: every source file)
set -uo pipefail
cd "$(dirname "$0")/../.."
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(agent/*.c modules/*.c tests/fuzz/*.c)
pkgs="inih libpci libudev libkmod libnl-3.0 libnl-genl-3.0 json-c"
jobs=${LINT_JOBS:-$(nproc)}
pass=0 failn=0 log=$(mktemp)
t=$SECONDS
if cppcheck --enable=warning,performance,portability --std=c11 --inline-suppr --quiet -j"$jobs" \
	--library=tests/lint/hostprep.cfg --suppressions-list=tests/lint/cppcheck.supp \
	-D_GNU_SOURCE -D__GNUC__ -Iagent -Imodules -Itests/fuzz --error-exitcode=1 \
	--template='{file}:{line}: {severity}: {message} [{id}]' "${files[@]}" >"$log" 2>&1; then
	pass=$((pass + 1)); echo "  ok   cppcheck (${#files[@]} files, $((SECONDS - t))s)"
else
	failn=$((failn + 1)); echo "  FAIL cppcheck ($((SECONDS - t))s)"; grep -v '^ ' "$log" | sed 's/^/      /'
fi
t=$SECONDS
# shellcheck disable=SC2046
if printf '%s\n' "${files[@]}" | xargs -P"$jobs" -I{} clang-tidy --quiet {} -- -std=c11 -D_GNU_SOURCE \
	-Iagent -Imodules -Itests/fuzz $(pkg-config --cflags $pkgs) >"$log" 2>&1; then
	pass=$((pass + 1)); echo "  ok   clang-tidy (${#files[@]} files, $((SECONDS - t))s)"
else
	failn=$((failn + 1)); echo "  FAIL clang-tidy ($((SECONDS - t))s)"
	grep -E '(warning|error):' "$log" | sort -u | sed 's/^/      /'
fi
rm -f "$log"
echo "$pass passed, $failn failed"
[ "$failn" = 0 ]
