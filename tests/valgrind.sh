#!/bin/bash
# HOSTPREP_WRAPPER for the scenario tests' valgrind pass: runs hostprep under
# memcheck.  Invalid reads/writes, uses of uninitialised values and definite
# leaks make it exit 99 with valgrind's report on stderr (tests/lib.sh hp()
# fails the test on 99).  With VALGRIND_EVERY=N and a VALGRIND_COUNTER file,
# only every Nth run goes under valgrind (the others run as they are).
if [ "${VALGRIND_EVERY:-1}" -gt 1 ] && [ -n "${VALGRIND_COUNTER:-}" ]; then
	n=$(flock "$VALGRIND_COUNTER" sh -c 'n=$(($(cat "$1" 2>/dev/null || echo 0) + 1)); echo $n > "$1"; echo $n' _ "$VALGRIND_COUNTER")
	[ $((n % VALGRIND_EVERY)) = 0 ] || exec "$@"
fi
# valgrind 3.19 does not know openat2(2): VALGRIND_SHIM turns hostprep's
# openat2 calls into openat calls (no containment: test-root.sh never runs
# under valgrind).
[ -n "${VALGRIND_SHIM:-}" ] && export LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$VALGRIND_SHIM"
exec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
	--errors-for-leak-kinds=definite --track-origins=no --num-callers=20 "$@"
