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
#   json                 every step printed one JSON document with the contract's keys
#   check.sh's own checks, after the last step.
. /vm/lib.sh

exec 3>/dev/ttyS1
: >"$RESULTS"
STEPS="audit apply apply2 audit2"
KEYS='["version","command","profile","root","changed","failed","reboot_required","actions","capabilities","warnings"]'

# run a scenario script in a subshell with the helpers; a non-zero exit is a failure
run_script() {	# run_script CHECKNAME FILE
	_before=$(wc -l <"$RESULTS")
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

# run one hostprep step; prints what it did to the console
run_step() {	# run_step STEP
	case $1 in audit*) _cmd=audit ;; *) _cmd=apply ;; esac
	say "$SCENARIO: hostprep -j -p profile.ini $_cmd  ($1)"
	hp -j -p "$DIR/profile.ini" "$_cmd" >"$OUT/$1.json" 2>"$OUT/$1.err"
	echo $? >"$OUT/$1.rc"
	sed 's/^/  stderr: /' "$OUT/$1.err"
	/usr/bin/jq -c '.actions[]?' "$OUT/$1.json" 2>/dev/null | sed 's/^/  action: /'
	say "$SCENARIO: $1 exited $(cat "$OUT/$1.rc")"
}

# the actions that are not "ok", for failure messages
not_ok() {
	/usr/bin/jq -r '[.actions[]? | select(.state != "ok") | "\(.module) \(.target) \(.state)" +
		(if (.message // "") != "" then " (\(.message))" else "" end)] | join("; ")' "$1" 2>/dev/null
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
	for _step in $STEPS; do
		_want=$(printf '%s\n' $_expect | sed -n "s/^$_step=//p")
		[ -n "$_want" ] || continue
		snapshot >"$OUT/$_step.before"
		run_step "$_step"
		snapshot >"$OUT/$_step.after"
		_got=$(cat "$OUT/$_step.rc")
		if [ "$_got" = "$_want" ]; then
			pass "$_step-exit"
		else
			fail "$_step-exit" "hostprep ${_step%2} exited $_got, expected $_want; $(not_ok "$OUT/$_step.json") $(head -c 200 "$OUT/$_step.err" | tr '\n' ' ')"
		fi
		case $_step:$_want in
		audit*:* | *:0 | *:1 | *:4) same_snapshot "$_step-changes-nothing" "$OUT/$_step.before" "$OUT/$_step.after" ;;
		esac
		/usr/bin/jq -e --argjson k "$KEYS" --arg c "${_step%2}" \
			'. as $d | ($k | all(. as $x | $d | has($x))) and .command == $c' \
			"$OUT/$_step.json" >/dev/null 2>&1 || _jsonbad="$_jsonbad $_step"
	done
	if [ -z "$_jsonbad" ]; then pass json; else fail json "not one JSON document with the contract's keys and the right command:$_jsonbad"; fi
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

say "runner: done, $(grep -c '^PASS' "$RESULTS") passed, $(grep -c '^FAIL' "$RESULTS") failed"
echo "END $(wc -l <"$RESULTS")" >&3
exec 3>&-
