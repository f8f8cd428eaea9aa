# [export]: the Prometheus textfile (checked with promtool) and the Node Feature
# Discovery feature file, written by apply only, atomically, never an action.

PROM=/var/lib/prometheus/node-exporter/hostprep.prom
NFD=/etc/kubernetes/node-feature-discovery/features.d/hostprep

export_profile() {
	profile p.ini <<INI
[profile]
name = fleet-test
[hugepages]
1G.node0 = 2
2M = 64
[sriov 0000:03:00.0]
numvfs = 2
vf_driver = vfio-pci
[vfio]
devices = 0000:03:00.1
[export]
prometheus = yes
nfd = ${1:-yes}
INI
}

# One sample line: metric{labels} value.
sample() { grep -E "^$1 " "$ROOT$PROM" | awk '{print $NF}'; }

test_apply_writes_both_exports() {
	pcihost; "$TESTS_DIR/fakehost/add-vdpa.sh" "$ROOT" --dev vdpa0:vdpasim_net
	export_profile
	hp -p "$P" -j apply
	assert_rc 2
	[ -f "$ROOT$PROM" ] || fail "no textfile at $PROM"
	promtool check metrics < "$ROOT$PROM" >"$T/promtool.log" 2>&1 || fail "promtool: $(cat "$T/promtool.log")"
	assert_eq "$(sample 'hostprep_last_apply_exit_code')" 2 "exit code metric"
	assert_eq "$(sample 'hostprep_last_apply_success')" 1
	assert_eq "$(sample 'hostprep_reboot_required')" 0
	assert_eq "$(sample 'hostprep_drift\{module="hugepages"\}')" 0
	assert_eq "$(sample 'hostprep_actions\{module="sriov",state="changed"\}')" 3
	assert_eq "$(sample 'hostprep_hugepages_reserved_pages\{size="1G",node="0"\}')" 2
	assert_eq "$(sample 'hostprep_hugepages_reserved_pages\{size="2M",node="1"\}')" 32
	assert_eq "$(sample 'hostprep_hugepages_free_pages\{size="1G",node="1"\}')" 0
	assert_eq "$(sample 'hostprep_sriov_vfs\{pf="0000:03:00.0"\}')" 2
	assert_eq "$(sample 'hostprep_sriov_totalvfs\{pf="0000:03:00.0"\}')" 8
	assert_eq "$(sample 'hostprep_vfio_devices')" 3
	assert_eq "$(sample 'hostprep_vfio_device_viable\{address="0000:03:00.1",iommu_group="[0-9]+"\}')" 1
	assert_eq "$(sample 'hostprep_vdpa_devices')" 1
	assert_contains "$(cat "$ROOT$PROM")" 'hostprep_info{version="'
	assert_contains "$(cat "$ROOT$PROM")" 'profile_name="fleet-test"'
	local now; now=$(date +%s)
	[ $(( now - $(sample 'hostprep_last_apply_timestamp_seconds') )) -lt 120 ] || fail "timestamp not now"
	# The feature file: NAME=VALUE lines NFD reads.
	assert_eq "$(cat "$ROOT$NFD")" "hostprep-converged=true
hostprep-profile=fleet-test
hostprep-iommu=true
hostprep-kvm=true
hostprep-nested=false
hostprep-hugepages-2Mi=true
hostprep-hugepages-1Gi=true
hostprep-sriov-vfs-ready=true
hostprep-vfio=true
hostprep-vdpa=true"
	# Exports are not actions: the exit code and the document do not see them.
	assert_eq "$(jqo '[.actions[] | select(.module=="export")] | length')" 0
	# No temp files left beside them.
	assert_eq "$(ls -A "$(dirname "$ROOT$PROM")")" hostprep.prom
	assert_eq "$(ls -A "$(dirname "$ROOT$NFD")")" hostprep
}

test_export_rewrites_on_every_apply_and_never_on_audit() {
	pcihost
	export_profile
	hp -p "$P" apply
	assert_rc 2
	rm "$ROOT$PROM" "$ROOT$NFD"
	hp -p "$P" audit
	assert_rc 0
	[ ! -e "$ROOT$PROM" ] && [ ! -e "$ROOT$NFD" ] || fail "audit wrote an export"
	hp -p "$P" apply --dry-run
	[ ! -e "$ROOT$PROM" ] || fail "apply --dry-run wrote an export"
	# A converged apply still exits 0 and refreshes the result and time.
	hp -p "$P" apply
	assert_rc 0
	assert_eq "$(sample 'hostprep_last_apply_exit_code')" 0
	promtool check metrics < "$ROOT$PROM" >/dev/null 2>&1 || fail "promtool"
}

test_export_reports_failures_and_pending_reboot() {
	mkhost --limit 0:1048576:1
	profile p.ini <<'INI'
[hugepages]
1G.node0 = 4
[export]
prometheus = /srv/metrics/hostprep.prom
nfd = no
INI
	hp -p "$P" apply
	assert_rc 6
	PROM=/srv/metrics/hostprep.prom
	assert_eq "$(sample 'hostprep_last_apply_exit_code')" 6
	assert_eq "$(sample 'hostprep_last_apply_success')" 0
	assert_eq "$(sample 'hostprep_drift\{module="hugepages"\}')" 1
	assert_eq "$(sample 'hostprep_drift\{module="cpu"\}')" 0
	[ ! -e "$ROOT$NFD" ] || fail "nfd = no wrote the feature file"
	promtool check metrics < "$ROOT$PROM" >/dev/null 2>&1 || fail "promtool"
}

test_export_write_failure_is_a_warning() {
	mkhost
	profile p.ini <<'INI'
[thp]
enabled = never
[export]
nfd = /etc/nfd/hostprep
INI
	# A file where the directory should be: the write fails.
	mkdir -p "$ROOT/etc"; echo x > "$ROOT/etc/nfd"
	hp -p "$P" -j apply
	assert_rc 2
	assert_contains "$(jqo '.warnings | join(" ")')" "export nfd: writing /etc/nfd/hostprep"
}

test_export_bad_values_are_profile_errors() {
	mkhost
	bad_profile 2 "nfd: expected yes, no or an absolute file path" <<'INI'
[export]
nfd = ../features
INI
	bad_profile 3 "prometheus: expected yes, no or an absolute file path" <<'INI'
[export]
nfd = yes
prometheus = /var/lib/../../x.prom
INI
	bad_profile 2 "unknown key 'statsd' in [export]" <<'INI'
[export]
statsd = yes
INI
}
