# [kvm]: nested virtualization and module options through
# /etc/modprobe.d/hostprep-kvm.conf, effective options read by libkmod under the
# root, conflicting files named, reload policy by refcount, the nested report.

kvm_param() { mkdir -p "$ROOT/sys/module/$1/parameters"; echo "$3" > "$ROOT/sys/module/$1/parameters/$2"; }
act() { jqo ".actions[] | select(.module==\"kvm\" and .target==\"$1\") | .$2"; }
CONF=/etc/modprobe.d/hostprep-kvm.conf

nested() {
	profile p.ini <<INI
[kvm]
nested = yes
${1:+reload = $1}
INI
}

test_nested_idle_module_writes_conf_and_plans_reload() {
	mkhost; nested if-idle; snapshot
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(act $CONF state)" pending
	assert_eq "$(act $CONF desired)" "options kvm_intel nested=1"
	# Idle, but under --root modules are not reloaded: audit says what apply does.
	assert_eq "$(act 'kvm_intel nested' state)" skipped
	assert_eq "$(act 'kvm_intel nested' current)" N
	assert_eq "$(act 'kvm_intel nested' desired)" Y
	assert_contains "$(act 'kvm_intel nested' message)" "under --root"
	assert_eq "$(jqo '.capabilities.kvm.nested_state')" off
	assert_unchanged
	hp -p "$P" -j apply
	assert_rc 2
	assert_contains "$(cat "$ROOT$CONF")" "options kvm_intel nested=1"
	# Module load/unload is for the real root only.
	assert_eq "$(act 'kvm_intel nested' state)" skipped
	assert_contains "$(act 'kvm_intel nested' message)" "under --root"
	assert_eq "$(jqo '.capabilities.kvm.nested_state')" pending
	assert_eq "$(jqo '.capabilities.kvm.nested')" N
	clear_writes; snapshot
	hp -p "$P" apply
	assert_rc 0
	assert_unchanged
}

# Audit plans what apply does: under --root the module is not reloaded, so
# audit must not promise a reload (and exit 2 for ever after apply).
test_audit_and_apply_agree_on_reload_under_root() {
	mkhost; nested if-idle
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(act 'kvm_intel nested' state)" skipped
	assert_contains "$(act 'kvm_intel nested' message)" "under --root"
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(act 'kvm_intel nested' state)" skipped
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(act 'kvm_intel nested' state)" skipped
	assert_contains "$(act 'kvm_intel nested' message)" "under --root"
	assert_idempotent
}

test_nested_in_use_is_pending_reload_with_refcount() {
	mkhost; echo 2 > "$ROOT/sys/module/kvm_intel/refcnt"; nested if-idle
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(act 'kvm_intel nested' state)" pending-reload
	assert_contains "$(act 'kvm_intel nested' message)" "in use (refcount 2)"
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(act 'kvm_intel nested' state)" pending-reload
}

test_reload_never_is_the_default() {
	mkhost; nested
	hp -p "$P" -j apply
	assert_eq "$(act 'kvm_intel nested' state)" pending-reload
	assert_contains "$(act 'kvm_intel nested' message)" "reload = never"
}

test_nested_module_not_loaded_and_already_active() {
	mkhost; rm -r "$ROOT/sys/module/kvm_intel"; nested if-idle
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(act 'kvm_intel nested' state)" skipped
	assert_contains "$(act 'kvm_intel nested' message)" "not loaded"
	assert_eq "$(jqo '.capabilities.kvm.nested_state')" unavailable
	assert_eq "$(jqo '.capabilities.kvm.module')" null
	mkhost; kvm_param kvm_intel nested Y
	hp -p "$P" -j apply
	assert_eq "$(act 'kvm_intel nested' state)" ok
	assert_eq "$(jqo '.capabilities.kvm.nested_state')" active
}

test_amd_uses_kvm_amd_and_its_notation() {
	mkhost --vendor amd; kvm_param kvm_amd nested 0; nested if-idle
	hp -p "$P" -j audit
	assert_eq "$(act $CONF desired)" "options kvm_amd nested=1"
	assert_eq "$(act 'kvm_amd nested' current)" 0
	assert_eq "$(act 'kvm_amd nested' desired)" 1
}

test_no_virtualization_is_unsupported() {
	mkhost --no-vmx; nested if-idle
	hp -p "$P" -j apply
	assert_eq "$(act 'kvm_intel nested' state)" unsupported
	assert_eq "$(jqo '.capabilities.kvm.dev_kvm')" false
}

test_conflicting_modprobe_file_after_ours_fails_naming_it() {
	mkhost; nested if-idle
	mkdir -p "$ROOT/etc/modprobe.d" "$ROOT/lib/modprobe.d"
	# kvm.conf sorts after hostprep-kvm.conf: modprobe passes its value last.
	echo "options kvm-intel nested=0 ept=1" > "$ROOT/etc/modprobe.d/kvm.conf"
	hp -p "$P" -j audit
	assert_rc 4
	assert_eq "$(act $CONF state)" failed
	assert_contains "$(act $CONF message)" "/etc/modprobe.d/kvm.conf sets kvm_intel nested=0 after $CONF"
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(act 'kvm_intel nested' state)" failed
	assert_contains "$(act 'kvm_intel nested' message)" "not reloading"
	# One sorting before ours only warns; libkmod sees ours last.
	mv "$ROOT/etc/modprobe.d/kvm.conf" "$ROOT/lib/modprobe.d/00-vendor.conf"
	hp -p "$P" -j apply
	assert_rc 2
	assert_contains "$(jqo '.warnings[]')" "/lib/modprobe.d/00-vendor.conf also sets kvm_intel nested=0"
	assert_eq "$(act $CONF state)" changed
	# A same-named file in /etc hides the one in /lib, as in modprobe.
	echo "options kvm_intel nested=0" > "$ROOT/lib/modprobe.d/hostprep-kvm.conf"
	hp -p "$P" -j apply
	assert_rc 0
}

test_options_are_written_per_module_and_validated() {
	mkhost; kvm_param kvm ignore_msrs N; kvm_param kvm_intel ept Y
	profile p.ini <<'INI'
[kvm]
nested = no
options = kvm.ignore_msrs=1 ept=1 kvm.report_ignored_msrs=0
INI
	kvm_param kvm report_ignored_msrs Y
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(grep -v '^#' "$ROOT$CONF")" "options kvm_intel nested=0 ept=1
options kvm ignore_msrs=1 report_ignored_msrs=0"
	assert_eq "$(act 'kvm_intel nested' state)" ok
	snapshot
	profile q.ini <<'INI'
[kvm]
options = kvm.no_such_param=1 kvm_intel.nested=1
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "q.ini:2: options: set nested with 'nested = yes|no'"
	profile r.ini <<'INI'
[kvm]
options = kvm.no_such_param=1
reload = sometimes
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "r.ini:3: reload: expected if-idle or never"
	profile s.ini <<'INI'
[kvm]
options = kvm.no_such_param=1 foo.bar=1 x=$(id)
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "s.ini:2: options: 'foo.bar=1': module must be kvm, kvm_intel or kvm_amd"
	profile t.ini <<'INI'
[kvm]
options = kvm.no_such_param=1
INI
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "t.ini:2: options: kvm has no parameter 'no_such_param'"
	assert_unchanged
}

test_section_removed_removes_our_file() {
	mkhost; nested if-idle
	hp -p "$P" apply; assert_rc 2
	profile q.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(act $CONF state)" changed
	[ ! -e "$ROOT$CONF" ] || fail "$CONF left behind"
	hp -p "$P" apply; assert_rc 0
}
