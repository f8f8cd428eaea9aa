# The JSON contract (schema_version 1): one document on every --json run, exit 1
# included; stable action ids; audit says what would change; --wait for the lock.
# Every document printed here is also checked against agent/hostprep.schema.json
# (tests/lib.sh spools them, tests/json-check.py validates them per file).

lowlat() {
	profile p.ini <<'INI'
[hugepages]
2M = 64
[thp]
enabled = never
[cpu]
governor = performance
INI
}

# The error document: exit 1, one JSON document naming FILE:LINE for each error.
assert_error_doc() {
	assert_rc 1
	[ -n "$out" ] && jq -e . <<<"$out" >/dev/null || fail "stdout is not one JSON document"
	assert_eq "$(jqo '.schema_version')" 1 "schema_version"
	assert_eq "$(jqo '.exit_code')" 1 "exit_code"
	[ "$(jqo '.errors | length')" -ge 1 ] || fail "no errors listed"
}

test_invalid_profile_prints_an_error_document() {
	mkhost
	profile bad.ini <<'INI'
[thp]
enabled = sometimes
[cpu]
frequency = 3
[hugepages]
2M = many
INI
	local cmd
	for cmd in apply audit validate; do
		snapshot
		hp -p "$P" -j "$cmd"
		assert_error_doc
		assert_eq "$(jqo '.command')" "$cmd" "command"
		assert_eq "$(jqo '[.errors[].line] | join(",")')" "2,4,6" "errors in line order"
		assert_eq "$(jqo '[.errors[].file] | unique | join(",")')" "$P" "file"
		assert_contains "$(jqo '.errors[1].message')" "frequency"
		assert_unchanged
		assert_eq "$(writes)" "" "writes"
	done
	assert_eq "$(jqo '.valid')" false "validate: valid"
}

test_missing_profile_prints_an_error_document() {
	mkhost
	hp -p "$T/nowhere.ini" -j apply
	assert_error_doc
	assert_eq "$(jqo '.errors[0].file')" "$T/nowhere.ini"
	assert_eq "$(jqo '.errors[0].line')" null
	assert_contains "$(jqo '.errors[0].message')" "No such file"
}

test_lock_held_prints_an_error_document() {
	mkhost; lowlat
	exec 9>"$ROOT/run/hostprep.lock"
	flock 9
	echo $$ >&9   # a live process: a dead pid is never named
	hp -p "$P" -j apply
	exec 9>&-
	assert_error_doc
	assert_contains "$(jqo '.errors[0].message')" "pid $$"
	assert_eq "$(writes)" "" "writes while locked"
}

test_usage_errors_print_an_error_document() {
	mkhost; lowlat
	hp -j frobnicate
	assert_error_doc
	assert_eq "$(jqo '.command')" null
	assert_contains "$(jqo '.errors[0].message')" "unknown command 'frobnicate'"
	# -j after the bad option still gets a document.
	hp --frobnicate -j apply
	assert_error_doc
	assert_contains "$(jqo '.errors[0].message')" "--frobnicate"
	hp -p "$P" -j --dry-run audit
	assert_error_doc
	assert_eq "$(jqo '.command')" audit
	hp -p "$P" -j --reboot=sometimes apply
	assert_error_doc
	hp -p "$P" -j apply extra
	assert_error_doc
	hp -j apply -p
	assert_error_doc
	assert_contains "$(jqo '.errors[0].message')" "option '-p' needs a value"
	hp -j apply --reboot
	assert_error_doc
	assert_contains "$(jqo '.errors[0].message')" "option '--reboot' needs a value"
	hp -j -x apply
	assert_error_doc
	assert_contains "$(jqo '.errors[0].message')" "unknown option '-x'"
}

test_bad_root_prints_an_error_document() {
	lowlat
	HOSTPREP_KMODEL_ROOT=$T/none LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		"$HOSTPREP" -r "$T/none" -p "$P" -j audit >"$T/o" 2>"$T/e" && rc=0 || rc=$?
	out=$(cat "$T/o"); err=$(cat "$T/e")
	spool_json "$out"
	assert_error_doc
	assert_contains "$(jqo '.errors[0].message')" "$T/none"
}

test_version_json() {
	mkhost
	hp -j version
	assert_rc 0
	assert_eq "$(jqo '.schema_version')" 1
	assert_eq "$(jqo '.command')" version
	assert_eq "$(jqo '.exit_code')" 0
	assert_contains "$(jqo '.modules | join(" ")')" "hugepages"
	assert_eq "$(jqo '.version')" "$(hp version; echo "${out#hostprep }")"
}

test_validate_json_valid() {
	mkhost; lowlat
	hp -p "$P" -j validate
	assert_rc 0
	assert_eq "$(jqo '.valid')" true
	assert_eq "$(jqo '.errors | length')" 0
	assert_eq "$(jqo '.exit_code')" 0
	assert_eq "$(jqo '.schema_version')" 1
}

test_documents_carry_schema_version_and_action_ids() {
	mkhost; lowlat
	local cmd
	for cmd in audit apply report; do
		hp -p "$P" -j "$cmd"
		assert_eq "$(jqo '.schema_version')" 1 "$cmd schema_version"
		assert_eq "$(jqo '[.actions[] | select(.id == null)] | length')" 0 "$cmd actions without id"
	done
	hp -p "$P" -j audit
	assert_eq "$(jqo '.actions[] | select(.target=="enabled") | .id')" "thp:enabled"
}

# Audit says what apply would change: pending N beside exit 2, a count per state.
test_audit_says_what_would_change() {
	mkhost; lowlat
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(jqo '.pending')" 4 "pending"
	assert_eq "$(jqo '.summary.pending')" 4 "summary.pending"
	assert_eq "$(jqo '.summary.ok')" 0 "summary.ok"
	assert_eq "$(jqo '.summary | keys | length')" 8 "every state counted"
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(jqo '.pending')" 0
	assert_eq "$(jqo '.summary.changed')" 4
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(jqo '.pending')" 0
	assert_eq "$(jqo '.summary.ok')" 4
}

ids() { jqo '[.actions[].id] | join(" ")'; }

# Governor policies in different states are one action, same id before and after.
test_governor_action_id_does_not_follow_the_state() {
	mkhost
	echo performance > "$ROOT/sys/devices/system/cpu/cpufreq/policy3/scaling_governor"
	echo performance > "$ROOT/sys/devices/system/cpu/cpufreq/policy4/scaling_governor"
	profile p.ini <<'INI'
[cpu]
governor = performance
INI
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(ids)" "cpu:governor cpus 0-7"
	assert_eq "$(jqo '.actions[0].current')" "powersave (cpus 0-2,5-7), performance (cpus 3-4)"
	clear_writes
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(ids)" "cpu:governor cpus 0-7"
	assert_eq "$(jqo '.actions[0].current')" performance
	# Policies already on the governor are not written again.
	assert_not_contains "$(writes)" "policy3/"
	assert_contains "$(writes)" "policy2/"
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(ids)" "cpu:governor cpus 0-7"
}

test_hugepages_total_ids_do_not_follow_the_state() {
	mkhost
	profile p.ini <<'INI'
[hugepages]
2M = 4
INI
	hp -p "$P" -j audit
	local before; before=$(ids)
	assert_eq "$before" "hugepages:2M pages node0 hugepages:2M pages node1"
	hp -p "$P" -j apply
	assert_eq "$(ids)" "$before"
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(ids)" "$before"
	assert_eq "$(jqo '[.actions[].current] | join(",")')" "2,2"
}

# --wait: a second apply waits (bounded) for the lock instead of exiting 1.
hp_background() {
	HOSTPREP_KMODEL_ROOT=$ROOT LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$KMODEL" \
		timeout 60 "$HOSTPREP" -r "$ROOT" "$@" >"$T/.bg.out" 2>"$T/.bg.err" 9>&- &
	BG=$!
}

test_wait_takes_the_lock_when_the_holder_ends() {
	mkhost; lowlat
	exec 9>"$ROOT/run/hostprep.lock"
	flock 9
	echo $$ >&9   # a live process: a dead pid is never named
	hp_background -p "$P" -v -j --wait=30 apply
	# Release only once hostprep says it waits, so that it really waited.
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q "waiting" "$T/.bg.err" 2>/dev/null && break
		kill -0 $BG 2>/dev/null || break
		sleep 0.1
	done
	grep -q "pid $$" "$T/.bg.err" || { exec 9>&-; wait $BG; fail "no waiting message: $(cat "$T/.bg.err")"; }
	exec 9>&-
	wait $BG && rc=0 || rc=$?
	out=$(cat "$T/.bg.out"); err=$(cat "$T/.bg.err")
	spool_json "$out"
	assert_rc 2
	assert_eq "$(jqo '.command')" apply
}

test_wait_is_bounded() {
	mkhost; lowlat
	exec 9>"$ROOT/run/hostprep.lock"
	flock 9
	echo $$ >&9   # a live process: a dead pid is never named
	local t0 t1
	t0=$(date +%s%N)
	hp -p "$P" -j --wait=1 apply
	t1=$(date +%s%N)
	exec 9>&-
	assert_error_doc
	assert_contains "$(jqo '.errors[0].message')" "pid $$"
	[ $(( (t1 - t0) / 1000000 )) -ge 1000 ] || fail "gave up after $(( (t1 - t0) / 1000000 )) ms, before the 1 s wait"
	[ $(( (t1 - t0) / 1000000 )) -lt 20000 ] || fail "waited $(( (t1 - t0) / 1000000 )) ms for --wait=1"
	assert_eq "$(writes)" "" "writes while locked"
	# Without --wait: at once.
	hp -p "$P" --wait=0 apply
	assert_rc 2
	hp -p "$P" -j --wait=-1 apply
	assert_error_doc
	hp -p "$P" -j --wait audit
	assert_error_doc
}
