#!/bin/sh
# Runs every scenario under /vm/scenarios in name order (they share one booted kernel)
# and ends with "END <number of result lines>" on the results port.
#
# A scenario directory holds either
#   profile.ini + expect [+ pre.sh] [+ check.sh]   a profile run through audit and apply, or
#   test.sh                                         a free-form script (e.g. report checks).
# expect: "audit=2 apply=2 apply2=0 [audit2=0]"; only the steps listed run, in the order
# audit, apply, apply2, audit2. Checks made for a profile scenario:
#   STEP-exit            the exit code is the one expected
#   STEP-changes-nothing audit always, and any step expected to exit 0, 1 or 4 (the codes
#                        that promise nothing was changed): the snapshot is unchanged
#   json                 every step printed one JSON document with the contract's keys,
#                        and apply's "changed"/"failed" agree with its exit code
#   check.sh's own checks, after the last step.
# shellcheck source=lib.sh
. /vm/lib.sh

exec 3>/dev/ttyS1
: >"$RESULTS"
STEPS="audit apply apply2 audit2"
KEYS='["version","command","profile","root","changed","failed","reboot_required","actions","capabilities","warnings"]'

# run a scenario script in a subshell with the helpers; a non-zero exit is a failure
run_script() {	# run_script CHECKNAME FILE
	_before=$(wc -l <"$RESULTS")
	# shellcheck disable=SC1090,SC1091
	(cd "$DIR" && . /vm/lib.sh && . "$2")
	_rc=$?
	if [ "$_rc" != 0 ]; then
		fail "$1" "$(basename "$2") exited $_rc"
		return 1
	fi
	if [ "$1" != pre ] && [ "$(wc -l <"$RESULTS")" = "$_before" ]; then
		fail "$1" "$(basename "$2") reported no result"
		return 1
	fi
	return 0
}

# run one hostprep step: STEP.json, STEP.err, STEP.rc in $OUT, and one jq pass over the
# output (jq 1.6 takes about 0.4 s to start under TCG) leaving STEP.sum:
#   line 1 "ok" when it is one JSON document with the contract's keys and the command run,
#   line 2 the actions that are not "ok" (for failure messages),
#   line 3 "CHANGED FAILED" (the booleans), then one line per action.
run_step() {	# run_step STEP
	case $1 in audit*) _cmd=audit ;; *) _cmd=apply ;; esac
	say "$SCENARIO: hostprep -j -p profile.ini $_cmd  ($1)"
	hp -j -p "$DIR/profile.ini" "$_cmd" >"$OUT/$1.json" 2>"$OUT/$1.err"
	echo $? >"$OUT/$1.rc"
	/usr/bin/jq -r --argjson k "$KEYS" --arg c "$_cmd" '
		(if (. as $d | $k | all(. as $x | $d | has($x))) and .command == $c then "ok" else "bad" end),
		([.actions[]? | select(.state != "ok") | "\(.module) \(.target) \(.state)" +
			(if (.message // "") != "" then " (\(.message))" else "" end)] | join("; ")),
		"\(.changed) \(.failed)",
		(.actions[]? | tojson)' "$OUT/$1.json" >"$OUT/$1.sum" 2>&1
	sed 's/^/  stderr: /' "$OUT/$1.err"
	sed '1,3d; s/^/  action: /' "$OUT/$1.sum"
	say "$SCENARIO: $1 exited $(cat "$OUT/$1.rc")"
}

run_profile_scenario() {
	_expect=$(sed 's/#.*//' "$DIR/expect" 2>/dev/null)
	for _kv in $_expect; do
		case ${_kv%%=*} in
		audit | apply | apply2 | audit2) ;;
		*) fail expect "unknown key '${_kv%%=*}' in expect (audit, apply, apply2, audit2)"; return ;;
		esac
		case ${_kv#*=} in
		'' | *[!0-9]*) fail expect "'$_kv' is not STEP=EXITCODE"; return ;;
		esac
	done
	[ -n "$_expect" ] || { fail expect "no expect file or it is empty"; return; }
	if [ -f "$DIR/pre.sh" ]; then run_script pre "$DIR/pre.sh" || return; fi

	_jsonbad=
	_prev=$OUT/start.snap
	snapshot >"$_prev"
	for _step in $STEPS; do
		# shellcheck disable=SC2086 # one key=value per line
		_want=$(printf '%s\n' $_expect | sed -n "s/^$_step=//p")
		[ -n "$_want" ] || continue
		run_step "$_step"
		snapshot >"$OUT/$_step.snap"
		_got=$(cat "$OUT/$_step.rc")
		if [ "$_got" = "$_want" ]; then
			pass "$_step-exit"
		else
			fail "$_step-exit" "hostprep ${_step%2} exited $_got, expected $_want; $(sed -n 2p "$OUT/$_step.sum")$(head -c 200 "$OUT/$_step.err" | tr "\n" " " | sed "s/^/; stderr: /")"
		fi
		case $_step:$_want in
		audit*:* | *:0 | *:1 | *:4) same_snapshot "$_step-changes-nothing" "$_prev" "$OUT/$_step.snap" ;;
		esac
		_prev=$OUT/$_step.snap
		[ "$(head -n 1 "$OUT/$_step.sum")" = ok ] || _jsonbad="$_jsonbad $_step"
		# apply: "changed" and "failed" say what the exit code says (bits 2 and 4)
		case $_step:$_got in
		apply*:[0246])
			_cf="$([ $((_got & 2)) = 0 ] && echo false || echo true) $([ $((_got & 4)) = 0 ] && echo false || echo true)"
			[ "$(sed -n 3p "$OUT/$_step.sum")" = "$_cf" ] || _jsonbad="$_jsonbad $_step(changed/failed not '$_cf')"
			;;
		esac
	done
	if [ -z "$_jsonbad" ]; then pass json; else fail json "a contract key missing, the wrong command, or changed/failed not matching the exit code in:$_jsonbad"; fi
	if [ -f "$DIR/check.sh" ]; then run_script check "$DIR/check.sh"; fi
}

say "runner: kernel $(uname -r), $(nproc) cpus"
SCENARIO=vm
pass boot
_v=$(hp version 2>&1)
check_eq hostprep-version "$?" 0 "hostprep version exit code (output: $_v)"

for DIR in /vm/scenarios/*/; do
	[ -d "$DIR" ] || continue
	DIR=${DIR%/}
	SCENARIO=${DIR##*/}
	OUT=/tmp/out/$SCENARIO
	mkdir -p "$OUT"
	export SCENARIO DIR OUT
	say "---- scenario $SCENARIO ----"
	if [ -f "$DIR/profile.ini" ]; then
		run_profile_scenario
	elif [ -f "$DIR/test.sh" ]; then
		run_script test "$DIR/test.sh"
	else
		fail scenario "neither profile.ini nor test.sh in $DIR"
	fi
done

# The kernel's taint flags after everything ran: a WARNING (W) and the like fail the
# suite.  O and E (4096, 8192) come from the suite's own out-of-tree test modules.
SCENARIO=vm
_taint=$(cat /proc/sys/kernel/tainted)
if [ $((_taint & ~12288)) = 0 ]; then
	pass kernel-taint
else
	fail kernel-taint "the kernel is tainted ($_taint): $(dmesg | grep -m 4 -E 'WARNING|BUG|taint|Oops' | tr '\n' ' ')"
fi

# A read of the real kernel's files that failed is warned about ("cannot read PATH:
# ERROR"); none of the scenarios breaks a read, so no document may carry one.
_unread=$(grep -h -o '"cannot read /[^"]*"' /tmp/json/* 2>/dev/null | sort -u | head -n 5 | tr '\n' ' ')
if [ -z "$_unread" ]; then
	pass no-read-errors
else
	fail no-read-errors "warnings about reads that failed on the real kernel: $_unread"
fi

# Every JSON document hostprep printed (hp -j, kept in /tmp/json) goes to the third
# serial port: the host checks each against the schema (tests/json-check.py).
if [ -c /dev/ttyS2 ]; then
	for _f in /tmp/json/*; do
		[ -f "$_f" ] || continue
		printf '@@hostprep-json %s\n' "${_f#/tmp/json/}"
		cat "$_f"
		echo
	done >/dev/ttyS2
fi

say "runner: done, $(grep -c '^PASS' "$RESULTS") passed, $(grep -c '^FAIL' "$RESULTS") failed"
echo "END $(wc -l <"$RESULTS")" >&3
exec 3>&-
