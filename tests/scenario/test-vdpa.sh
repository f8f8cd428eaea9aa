# [vdpa NAME] on fake hosts. Netlink exists only for the running kernel, so under
# --root the agent reads /sys/bus/vdpa, says the rest is unknown, skips creation and
# deletion, and can still rebind drivers (sysfs writes, modelled by kmodel-vdpa.c).
# Creation, config read-back, recreate and delete run in the VM suite.

# (the lock file exists already, so that apply's only change to the tree is its own)
vdpa_host() { mkhost; "$TESTS_DIR/fakehost/add-vdpa.sh" "$ROOT" "$@"; : > "$ROOT/run/hostprep.lock"; }
act() { jqo ".actions[] | select(.module == \"vdpa\" and .target == \"$1\") | .$2"; }

test_vdpa_absent_device_creation_is_skipped_not_done() {
	vdpa_host
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
mac = 02:00:00:00:00:10
mtu = 9000
INI
	snapshot
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(act vdpa0 state)" skipped
	assert_eq "$(act vdpa0 current)" absent
	assert_eq "$(act vdpa0 desired)" "mgmtdev=vdpasim_net mac=02:00:00:00:00:10 mtu=9000 driver=vhost_vdpa"
	assert_contains "$(act vdpa0 message)" "would create it on vdpasim_net; netlink is not available under --root"
	for i in 1 2; do
		hp -p "$P" -j apply
		assert_rc 0
		assert_eq "$(act vdpa0 state)" skipped
		assert_eq "$(jqo .changed)" false
	done
	assert_unchanged
	assert_eq "$(writes)" "" "writes"
}

test_vdpa_audit_reads_sysfs_and_says_the_rest_is_unknown() {
	vdpa_host --dev vdpa0:vdpasim_net
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
mac = 02:00:00:00:00:10
max_vqp = 1
INI
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(act vdpa0 state)" skipped
	assert_eq "$(act vdpa0 current)" "mgmtdev=vdpasim_net mac=? max_vqp=? driver=vhost_vdpa"
	assert_contains "$(act vdpa0 message)" "present on vdpasim_net, bound to vhost_vdpa, /dev/vhost-vdpa-0"
	assert_contains "$(act vdpa0 message)" "mac, mtu and max_vqp cannot be read under --root (netlink only)"
	assert_eq "$(jqo .capabilities.vdpa.source)" sysfs
	assert_eq "$(jqo .capabilities.vdpa.available)" true
	assert_eq "$(jqo .capabilities.vdpa.management_devices)" null
	assert_eq "$(jqo '.capabilities.vdpa.devices[0] | [.name, .mgmtdev, .driver, .dev, .mac, .created_by_hostprep] | map(tostring) | join(" ")')" \
		"vdpa0 vdpasim_net vhost_vdpa /dev/vhost-vdpa-0 null false"
}

test_vdpa_report_pci_parent_and_virtio_interface() {
	vdpa_host --dev vf0:pci/0000:03:00.2:virtio_vdpa --dev sim0:vdpasim_net:none
	hp -j report
	assert_rc 0
	assert_eq "$(jqo '.capabilities.vdpa.devices | map(.name) | join(" ")')" "sim0 vf0"
	assert_eq "$(jqo '.capabilities.vdpa.devices[1] | [.mgmtdev, .driver, .interface, .dev] | map(tostring) | join(" ")')" \
		"pci/0000:03:00.2 virtio_vdpa eth10 null"
	assert_eq "$(jqo '.capabilities.vdpa.devices[0].driver')" null
	hp report
	assert_contains "$out" "on pci/0000:03:00.2, virtio_vdpa, eth10"
}

test_vdpa_report_without_vdpa_bus() {
	vdpa_host --no-bus
	hp -j report
	assert_rc 0
	assert_eq "$(jqo .capabilities.vdpa.available)" false
	assert_eq "$(jqo '.capabilities.vdpa.devices | length')" 0
}

test_vdpa_rebind_to_vhost_vdpa_then_idempotent() {
	vdpa_host --dev vdpa0:vdpasim_net:virtio_vdpa
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
INI
	snapshot
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(act vdpa0 state)" pending
	assert_eq "$(act vdpa0 current)" "mgmtdev=vdpasim_net driver=virtio_vdpa"
	assert_contains "$(act vdpa0 message)" "rebind to vhost_vdpa"
	assert_unchanged
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(act vdpa0 state)" changed
	assert_eq "$(act vdpa0 message)" "bound to vhost_vdpa, /dev/vhost-vdpa-0"
	assert_eq "$(writes)" "/sys/devices/vdpasim_net/vdpa0/driver_override vhost_vdpa
/sys/bus/vdpa/drivers/virtio_vdpa/unbind vdpa0
/sys/bus/vdpa/drivers/vhost_vdpa/bind vdpa0" "writes"
	assert_eq "$(basename "$(readlink "$ROOT/sys/bus/vdpa/devices/vdpa0/driver")")" vhost_vdpa
	[ -e "$ROOT/dev/vhost-vdpa-0" ] || fail "no /dev/vhost-vdpa-0"
	[ ! -e "$ROOT/sys/bus/vdpa/devices/vdpa0/virtio9" ] || fail "virtio child left behind"
	clear_writes; snapshot
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(act vdpa0 state)" skipped
	assert_eq "$(writes)" "" "writes on the second apply"
	assert_unchanged
}

test_vdpa_rebind_to_virtio_vdpa() {
	vdpa_host --dev vdpa0:vdpasim_net
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
driver = virtio_vdpa
INI
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(act vdpa0 message)" "bound to virtio_vdpa, interface eth9"
	[ ! -e "$ROOT/dev/vhost-vdpa-0" ] || fail "/dev/vhost-vdpa-0 left behind"
}

test_vdpa_open_vhost_device_is_not_rebound() {
	vdpa_host --dev vdpa0:vdpasim_net --open 4242:/dev/vhost-vdpa-0
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
driver = virtio_vdpa
INI
	snapshot
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(act vdpa0 state)" failed
	assert_contains "$(act vdpa0 message)" "in use: /dev/vhost-vdpa-0 is open by pid 4242 (qemu-system-x86); not rebinding"
	assert_contains "$err" "vdpa vdpa0: "
	assert_eq "$(writes)" "" "writes"
	assert_unchanged
}

test_vdpa_up_interface_is_not_rebound() {
	vdpa_host --dev vdpa0:vdpasim_net:virtio_vdpa --up eth10
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
INI
	hp -p "$P" -j apply
	assert_rc 4
	assert_contains "$(act vdpa0 message)" "in use: its interface eth10 is up"
	assert_eq "$(writes)" "" "writes"
}

test_vdpa_refused_bind_is_a_failure_naming_the_step() {
	vdpa_host --dev vdpa0:vdpasim_net:none
	mkdir -p "$ROOT/.kmodel/fail/sys/bus/vdpa/drivers/vhost_vdpa"
	echo 19 > "$ROOT/.kmodel/fail/sys/bus/vdpa/drivers/vhost_vdpa/bind"
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
INI
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(act vdpa0 message)" "binding to vhost_vdpa vdpa0: No such device"
}

test_vdpa_driver_module_not_loaded_is_skipped_under_root() {
	vdpa_host --dev vdpa0:vdpasim_net:virtio_vdpa --unloaded vhost_vdpa
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
INI
	snapshot
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(jqo '[.actions[] | .target] | join(",")')" "module vhost_vdpa,vdpa0"
	assert_eq "$(act "module vhost_vdpa" state)" skipped
	assert_contains "$(act "module vhost_vdpa" message)" "modules cannot be loaded under --root"
	assert_eq "$(act vdpa0 state)" skipped
	assert_contains "$(act vdpa0 message)" "vhost_vdpa is not loaded and modules cannot be loaded under --root"
	assert_eq "$(writes)" "" "writes"
	assert_unchanged
}

test_vdpa_device_on_another_mgmtdev_is_a_conflict() {
	vdpa_host --dev vdpa0:pci/0000:03:00.2
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
INI
	hp -p "$P" -j audit
	assert_rc 4
	assert_eq "$(act vdpa0 state)" failed
	assert_eq "$(act vdpa0 current)" "mgmtdev=pci/0000:03:00.2 driver=vhost_vdpa"
	assert_contains "$(act vdpa0 message)" "exists on management device pci/0000:03:00.2, not vdpasim_net; set recreate = yes"
	profile q.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
recreate = yes
INI
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(act vdpa0 state)" skipped
	assert_contains "$(act vdpa0 message)" "would re-create it"
}

test_vdpa_dropped_device_is_deleted_only_if_hostprep_created_it() {
	vdpa_host --dev vdpa0:vdpasim_net --dev mine:vdpasim_net
	mkdir -p "$ROOT/var/lib/hostprep"
	printf 'mine vdpasim_net\ngone vdpasim_net\n' > "$ROOT/var/lib/hostprep/vdpa"
	profile p.ini <<'INI'
[thp]
enabled = madvise
INI
	snapshot
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(jqo '[.actions[] | select(.module == "vdpa") | .target] | join(" ")')" mine
	assert_eq "$(act mine state)" skipped
	assert_contains "$(act mine message)" "would delete it (created by hostprep, no longer in the profile)"
	assert_eq "$(jqo '.capabilities.vdpa.devices | map("\(.name)=\(.created_by_hostprep)") | join(" ")')" \
		"mine=true vdpa0=false"
	hp -p "$P" -j apply
	assert_rc 0
	assert_unchanged
}

test_vdpa_mgmtdev_forms_are_accepted_and_normalised() {
	vdpa_host
	profile p.ini <<'INI'
[vdpa a]
mgmtdev = pci/0000:03:00.2
[vdpa b]
mgmtdev = 0000:3B:00.7
[vdpa c]
mgmtdev = 03:00.2
[vdpa d]
mgmtdev = auxiliary/mlx5_core.sf.2
[vdpa e.1]
mgmtdev = vduse
max_vqp = 32768
mtu = 68
mac = 02:AB:cd:00:00:01
recreate = no
driver = virtio_vdpa
INI
	hp -p "$P" validate
	assert_rc 0
	hp -p "$P" -j audit
	assert_rc 0
	assert_eq "$(jqo '[.actions[] | .desired] | join(",")')" \
"mgmtdev=pci/0000:03:00.2 driver=vhost_vdpa,mgmtdev=pci/0000:3b:00.7 driver=vhost_vdpa,mgmtdev=pci/0000:03:00.2 driver=vhost_vdpa,\
mgmtdev=auxiliary/mlx5_core.sf.2 driver=vhost_vdpa,mgmtdev=vduse mac=02:ab:cd:00:00:01 mtu=68 max_vqp=32768 driver=virtio_vdpa"
}

# Bad profiles: exit 1, FILE:LINE, nothing touched (apply, audit and validate).
vdpa_bad() {
	vdpa_host --dev vdpa0:vdpasim_net:virtio_vdpa
	bad_profile "$@"
}

test_vdpa_bad_name() { vdpa_bad 2 "[vdpa -x]: a device name is 1 to 63 letters" <<'INI'
[thp]
[vdpa -x]
mgmtdev = vdpasim_net
INI
}
test_vdpa_bad_name_chars() { vdpa_bad 1 "[vdpa a*b]: a device name" <<'INI'
[vdpa a*b]
mgmtdev = vdpasim_net
INI
}
test_vdpa_missing_mgmtdev() { vdpa_bad 3 "[vdpa vdpa1]: mgmtdev is required" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
[vdpa vdpa1]
mac = 02:00:00:00:00:01
INI
}
test_vdpa_empty_section_needs_mgmtdev() { vdpa_bad 1 "[vdpa vdpa0]: mgmtdev is required" <<'INI'
[vdpa vdpa0]
INI
}
test_vdpa_section_needs_a_name() { vdpa_bad 1 "[vdpa] needs a name" <<'INI'
[vdpa]
mgmtdev = vdpasim_net
INI
}
test_vdpa_bad_mac() { vdpa_bad 3 "mac: '02:00:00:00:00' is not a MAC address" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
mac = 02:00:00:00:00
INI
}
test_vdpa_bad_mac_hex() { vdpa_bad 3 "mac: '02:00:00:00:00:0g' is not a MAC address" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
mac = 02:00:00:00:00:0g
INI
}
test_vdpa_multicast_mac() { vdpa_bad 3 "mac: 01:00:5e:00:00:01 is a multicast address" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
mac = 01:00:5e:00:00:01
INI
}
test_vdpa_zero_mac() { vdpa_bad 3 "mac: 00:00:00:00:00:00 is not an address" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
mac = 00:00:00:00:00:00
INI
}
test_vdpa_mtu_too_small() { vdpa_bad 3 "mtu: '67' is not an MTU (68 to 65535)" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
mtu = 67
INI
}
test_vdpa_mtu_too_large() { vdpa_bad 3 "mtu: '65536' is not an MTU" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
mtu = 65536
INI
}
test_vdpa_max_vqp_zero() { vdpa_bad 3 "max_vqp: '0' is not a number of queue pairs (1 to 32768)" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
max_vqp = 0
INI
}
test_vdpa_max_vqp_too_large() { vdpa_bad 3 "max_vqp: '32769' is not a number of queue pairs" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
max_vqp = 32769
INI
}
test_vdpa_unknown_driver() { vdpa_bad 3 "driver: expected vhost_vdpa or virtio_vdpa, got 'vfio-pci'" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
driver = vfio-pci
INI
}
test_vdpa_bad_recreate() { vdpa_bad 3 "recreate: expected yes or no, got 'maybe'" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
recreate = maybe
INI
}
test_vdpa_unknown_key() { vdpa_bad 3 "unknown key 'queues' in [vdpa vdpa0]" <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
queues = 4
INI
}
test_vdpa_bad_mgmtdev_forms() {
	local m
	for m in pci/0000:03:00 pci/0000:03:20.0 pci/0000:03:00.8 0000:03:00.2.1 "pci/" "/x" "a b" "-sim" "PCI!/x"; do
		vdpa_bad 2 "mgmtdev: '$m' is not a management device" <<INI
[vdpa vdpa0]
mgmtdev = $m
INI
	done
}

# mgmtdev as a PCI selector: an interface name stands for its PCI device,
# vendor:device must match exactly one device, no match is a failed action.
test_vdpa_mgmtdev_pci_selectors() {
	vdpa_host
	"$TESTS_DIR/fakehost/add-pci.sh" "$ROOT"
	profile p.ini <<'INI'
[vdpa v0]
mgmtdev = ens1f0
[vdpa v1]
mgmtdev = 1b36:0010
[vdpa v2]
mgmtdev = vdpasim_net
INI
	hp -p "$P" -j audit
	assert_rc 0
	assert_contains "$(act v0 message)" "would create it on pci/0000:03:00.0"
	assert_contains "$(act v1 message)" "would create it on pci/0000:04:00.0"
	assert_contains "$(act v2 message)" "would create it on vdpasim_net"
	profile q.ini <<'INI'
[vdpa v0]
mgmtdev = abcd:1234
INI
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(act v0 state)" failed
	assert_eq "$(act v0 message)" "no device matches abcd:1234"
	bad_profile 2 "mgmtdev: 8086:10fb matches 2 devices (0000:03:00.0, 0000:03:00.1); name one by its address" <<'INI'
[vdpa v0]
mgmtdev = 8086:10fb
INI
}

# Whether /dev/vhost-vdpa-0 is open cannot be told (/proc unreadable): in use,
# not rebound (found by the fault matrix).
test_vdpa_device_whose_use_cannot_be_told_is_not_rebound() {
	vdpa_host --dev vdpa0:vdpasim_net
	profile p.ini <<'INI'
[vdpa vdpa0]
mgmtdev = vdpasim_net
driver = virtio_vdpa
INI
	INJECT_PATH=$ROOT/proc hp_inject 'getdents64:error=EIO:when=1+' -p "$P" -j apply
	assert_rc 4
	assert_contains "$(act vdpa0 message)" \
		"in use: whether /dev/vhost-vdpa-0 is open cannot be told: Input/output error; not rebinding"
	assert_eq "$(writes)" "" "writes"
}
