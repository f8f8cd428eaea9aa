# [vfio]: binding with driver_override + unbind + drivers_probe, the safety
# rails (IOMMU off, group siblings, default route, root/boot/swap disks, PFs
# with VFs) and force, rollback of dropped devices, selectors, the report.

vfio() { profile p.ini <<INI
[vfio]
devices = $1
${2:-}
INI
}

test_vfio_binds_a_whole_group_and_is_idempotent() {
	pcihost; vfio "0000:65:00.0, 65:00.1"
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(driver_of 0000:65:00.0)" vfio-pci
	assert_eq "$(driver_of 0000:65:00.1)" vfio-pci
	assert_file /sys/bus/pci/devices/0000:65:00.0/driver_override vfio-pci
	[ -e "$ROOT/dev/vfio/1" ] || fail "no /dev/vfio/1"
	# The documented sequence, not new_id.
	assert_eq "$(writes | grep 65:00.0 | awk '{print $1}' | sed 's|.*/0000:65:00.0/||; s|/sys/bus/pci/||' | tr '\n' ' ')" \
		"driver_override drivers/nouveau/unbind drivers_probe " "bind sequence"
	assert_not_contains "$(writes)" new_id
	assert_eq "$(cat "$ROOT/var/lib/hostprep/vfio")" "0000:65:00.0 nouveau
0000:65:00.1 snd_hda_intel" "record"
	# The root port shares group 1 and stays on pcieport: bridges are fine.
	assert_eq "$(driver_of 0000:00:01.0)" pcieport
	assert_eq "$(jqo '.capabilities.vfio.devices | map(.address + "=" + (.viable|tostring) + "," + .dev_node) | join(" ")')" \
		"0000:65:00.0=true,/dev/vfio/1 0000:65:00.1=true,/dev/vfio/1"
	assert_idempotent
}

test_vfio_group_sibling_on_a_host_driver_is_refused_unless_forced() {
	pcihost; vfio 10de:1b80; snapshot
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(action 0000:65:00.0 message)" \
		"refused: IOMMU group 1 also holds 0000:65:00.1 (snd_hda_intel) on a host driver: list it in devices too, or unbind it (force = yes overrides)"
	assert_eq "$(jqo '.capabilities.vfio.refused[0].address')" 0000:65:00.0
	assert_unchanged
	assert_eq "$(writes)" "" "writes"
	vfio 10de:1b80 "force = yes"
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(driver_of 0000:65:00.0)" vfio-pci
	assert_contains "$(jqo '.warnings[0]')" "force = yes: binding although IOMMU group 1 also holds 0000:65:00.1"
	assert_eq "$(jqo '.capabilities.vfio.refused[0].forced')" true
	assert_eq "$(jqo '.capabilities.vfio.devices[0].viable')" false
	assert_eq "$(jqo '.capabilities.vfio.devices[0].blocking[0]')" "0000:65:00.1 (snd_hda_intel)"
}

test_vfio_without_iommu_group_is_refused() {
	pcihost --no-iommu; vfio 0000:65:00.0,0000:65:00.1
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:65:00.0 message)" "it has no IOMMU group: the IOMMU is off (set [kernel] iommu = on or pt, then reboot)"
}

test_vfio_default_route_interface_is_refused() {
	pcihost --default-route eno1; vfio eno1
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(action 0000:02:00.0 message)" \
		"refused: the host depends on it: it carries the default route (eno1) (force = yes overrides)"
	assert_eq "$(driver_of 0000:02:00.0)" e1000e
}

test_vfio_ipv6_default_route_is_refused() {
	pcihost --default-route6 ens1f0; vfio 0000:03:00.0
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:03:00.0 message)" "carries the default route (ens1f0)"
}

test_vfio_lowers_of_bond_bridge_and_vlan_are_refused() {
	pcihost --bond bond0:eno1,ens1f0 --vlan bond0.100:bond0 --bridge br0:bond0.100 --default-route br0
	vfio "0000:02:00.0, 0000:03:00.0, 0000:03:00.1"
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:02:00.0 message)" "carries the default route (eno1, under br0)"
	assert_contains "$(action 0000:03:00.0 message)" "carries the default route (ens1f0, under br0)"
	assert_eq "$(action 0000:03:00.1 state)" pending
}

test_vfio_root_boot_and_swap_disks_are_refused() {
	pcihost --swap /dev/nvme0n1p1; vfio "00:1f.2, 04:00.0"
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:00:1f.2 message)" "the host depends on it: it holds / (/dev/sda1)"
	assert_contains "$(action 0000:04:00.0 message)" "it holds swap (/dev/nvme0n1p1)"
}

test_vfio_root_on_device_mapper_is_traced_to_the_disk() {
	pcihost --root-on /dev/mapper/vg-root
	mkdir -p "$ROOT/sys/devices/virtual/block/dm-0/slaves" "$ROOT/dev/mapper"
	ln -sr "$ROOT/sys/devices/pci0000:00/0000:04:00.0/nvme/nvme0/block/nvme0n1/nvme0n1p1" \
		"$ROOT/sys/devices/virtual/block/dm-0/slaves/nvme0n1p1"
	ln -sr "$ROOT/sys/devices/virtual/block/dm-0" "$ROOT/sys/block/dm-0"
	ln -s ../dm-0 "$ROOT/dev/mapper/vg-root"
	vfio 1b36:0010
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:04:00.0 message)" "it holds / (/dev/mapper/vg-root)"
}

# The root-disk rail fails closed: / traced through /proc/self/mountinfo's
# device number and /sys/dev/block, and when a needed source cannot be traced,
# every mass-storage controller (PCI class 01) is refused unless forced.
test_vfio_dev_root_is_traced_by_its_device_number() {
	pcihost --root-on /dev/root --root-devno 8:1; vfio "00:1f.2, 04:00.0"
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:00:1f.2 message)" "the host depends on it: it holds / (/dev/root)"
	assert_eq "$(action 0000:04:00.0 state)" pending
	assert_eq "$(jqo '.warnings | length')" 0
}

test_vfio_untraceable_root_refuses_every_mass_storage_controller() {
	pcihost --root-on rpool/ROOT/debian --root-fstype zfs; vfio "04:00.0, 03:00.1"
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(jqo '.warnings[0]')" "cannot tell which PCI device holds / (rpool/ROOT/debian, zfs)"
	assert_eq "$(action 0000:04:00.0 message)" "refused: the host depends on it: it is a mass-storage controller, and the host's / (rpool/ROOT/debian, zfs) cannot be traced to a PCI device, so every mass-storage controller may hold it (force = yes overrides)"
	# Not mass storage: no reason to refuse it.
	assert_eq "$(action 0000:03:00.1 state)" pending
	vfio "04:00.0" "force = yes"
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(driver_of 0000:04:00.0)" vfio-pci
	assert_contains "$(jqo '.warnings[]')" "force = yes: binding although the host depends on it: it is a mass-storage controller"
}

test_vfio_dev_root_without_its_device_is_untraceable() {
	# /dev/root with a device number /sys/dev/block does not know.
	pcihost --root-on /dev/root --root-devno 8:9; vfio "04:00.0"
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:04:00.0 message)" "the host's / (/dev/root, ext4) cannot be traced"
}

test_vfio_iscsi_root_is_untraceable_and_fails_closed() {
	pcihost --root-on /dev/sdb1 --root-devno 8:17
	d=sys/devices/platform/host3/session1/target3:0:0/3:0:0:0/block/sdb
	mkdir -p "$ROOT/$d/sdb1"; echo 1 > "$ROOT/$d/sdb1/partition"
	ln -sr "$ROOT/$d" "$ROOT/sys/block/sdb"
	ln -sr "$ROOT/$d/sdb1" "$ROOT/sys/dev/block/8:17"
	vfio "04:00.0"
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:04:00.0 message)" "the host's / (/dev/sdb1, ext4) cannot be traced"
}

test_vfio_md_root_is_traced_to_every_member() {
	# RAID1 over sda3 and nvme0n1p1; / is its first partition, md0p1.
	pcihost --root-on /dev/md0p1 --root-devno 259:8
	d=sys/devices/virtual/block/md0
	mkdir -p "$ROOT/$d/slaves" "$ROOT/$d/md0p1"; echo 1 > "$ROOT/$d/md0p1/partition"
	ln -sr "$ROOT/sys/class/block/sda3" "$ROOT/$d/slaves/sda3"
	ln -sr "$ROOT/sys/class/block/nvme0n1p1" "$ROOT/$d/slaves/nvme0n1p1"
	ln -sr "$ROOT/$d" "$ROOT/sys/block/md0"
	ln -sr "$ROOT/$d/md0p1" "$ROOT/sys/dev/block/259:8"
	vfio "04:00.0, 00:1f.2"
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:04:00.0 message)" "it holds / (/dev/md0p1)"
	assert_contains "$(action 0000:00:1f.2 message)" "it holds / (/dev/md0p1)"
}

test_vfio_nvme_multipath_root_is_traced_to_its_controllers() {
	# Native NVMe multipath: the namespace hangs off a virtual subsystem.
	pcihost --root-on /dev/nvme0n1 --root-devno 259:5
	d=sys/devices/virtual/nvme-subsystem/nvme-subsys0
	mkdir -p "$ROOT/$d/nvme0n1" "$ROOT/sys/class/nvme-subsystem"
	ln -sr "$ROOT/sys/devices/pci0000:00/0000:04:00.0/nvme/nvme0" "$ROOT/$d/nvme0"
	ln -sr "$ROOT/$d" "$ROOT/sys/class/nvme-subsystem/nvme-subsys0"
	ln -sr "$ROOT/$d/nvme0n1" "$ROOT/sys/dev/block/259:5"
	ln -sfnr "$ROOT/$d/nvme0n1" "$ROOT/sys/block/nvme0n1"
	vfio "04:00.0"
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:04:00.0 message)" "it holds / (/dev/nvme0n1)"
}

test_vfio_mounts_file_is_the_fallback_without_mountinfo() {
	pcihost --no-mountinfo; vfio "00:1f.2"
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:00:1f.2 message)" "it holds / (/dev/sda1)"
}

test_vfio_host_and_isa_bridges_are_never_bound_even_forced() {
	pcihost --device 0000:00:1f.0:8086:a0c8:060100:-:7
	vfio "00:00.0, 00:1f.0" "force = yes"; snapshot
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(action 0000:00:00.0 message)" \
		"refused: it is a host bridge (class 0600): never bound to vfio-pci, not even with force = yes"
	assert_eq "$(action 0000:00:1f.0 message)" \
		"refused: it is an ISA/LPC bridge (class 0601): never bound to vfio-pci, not even with force = yes"
	assert_eq "$(jqo '[.capabilities.vfio.refused[].forced] | join(",")')" "false,false"
	assert_eq "$(writes)" "" "writes"
	assert_unchanged
}

test_vfio_pf_with_vfs_is_refused() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.1]
numvfs = 2
INI
	hp -p "$P" apply; assert_rc 2
	vfio 0000:03:00.1
	hp -p "$P" -j audit
	assert_rc 4
	assert_contains "$(action 0000:03:00.1 message)" "it has 2 VFs, which unbinding its driver destroys"
}

test_vfio_dropped_device_goes_back_to_its_driver() {
	pcihost; vfio ens1f1
	hp -p "$P" apply; assert_rc 2
	assert_eq "$(driver_of 0000:03:00.1)" vfio-pci
	profile empty.ini <<'INI'
[vfio]
devices = 0000:65:00.0, 0000:65:00.1
INI
	clear_writes
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(action 0000:03:00.1 current)" ixgbe
	assert_eq "$(action 0000:03:00.1 desired)" ixgbe
	assert_eq "$(driver_of 0000:03:00.1)" ixgbe
	assert_file /sys/bus/pci/devices/0000:03:00.1/driver_override "(null)"
	assert_contains "$(writes)" "/sys/bus/pci/drivers/vfio-pci/unbind 0000:03:00.1"
	assert_not_contains "$(cat "$ROOT/var/lib/hostprep/vfio")" 0000:03:00.1
	hp -p "$P" apply
	assert_rc 0
}

test_vfio_section_removed_entirely_restores_every_device() {
	pcihost; vfio "65:00.0, 65:00.1"
	hp -p "$P" apply; assert_rc 2
	profile none.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" apply
	assert_rc 2
	assert_eq "$(driver_of 0000:65:00.0)" nouveau
	assert_eq "$(driver_of 0000:65:00.1)" snd_hda_intel
	[ ! -e "$ROOT/dev/vfio/1" ] || fail "/dev/vfio/1 still there"
	[ ! -e "$ROOT/var/lib/hostprep/vfio" ] || fail "record left"
}

test_vfio_dropped_device_stays_while_its_group_is_open() {
	pcihost; vfio 0000:03:00.1
	hp -p "$P" apply; assert_rc 2
	hold_group 5
	profile none.ini <<'INI'
[thp]
enabled = madvise
INI
	hp -p "$P" apply
	assert_rc 4
	assert_contains "$err" "dropped from the profile, but its /dev/vfio/5 is open by pid $HOLDER (sleep): keeping it on vfio-pci"
	assert_eq "$(driver_of 0000:03:00.1)" vfio-pci
}

test_vfio_device_moved_by_someone_else_is_left_alone() {
	pcihost; vfio 0000:03:00.1
	hp -p "$P" apply; assert_rc 2
	# An operator put it back by hand.
	HOSTPREP_KMODEL_ROOT=$ROOT LD_PRELOAD=$KMODEL python3 -c '
import os, sys
def w(p, v): os.write(os.open(sys.argv[1] + p, os.O_WRONLY), v.encode())
w("/sys/bus/pci/devices/0000:03:00.1/driver_override", "\n")
w("/sys/bus/pci/drivers/vfio-pci/unbind", "0000:03:00.1")
w("/sys/bus/pci/drivers_probe", "0000:03:00.1")' "$ROOT"
	assert_eq "$(driver_of 0000:03:00.1)" ixgbe
	profile none.ini <<'INI'
[thp]
enabled = madvise
INI
	clear_writes
	hp -p "$P" apply
	assert_rc 0
	assert_eq "$(writes)" "" "writes"
}

# A bind that fails half way puts the device back: driver_override as it was,
# the original driver bound again, no record claiming it.
fail_write() { mkdir -p "$ROOT/.kmodel/fail${1%/*}"; echo "$2" > "$ROOT/.kmodel/fail$1"; }

test_vfio_failed_probe_restores_the_original_driver_and_drops_the_record() {
	pcihost; vfio 0000:03:00.1
	fail_write /sys/bus/pci/drivers_probe 19
	hp -p "$P" -j apply
	# Unbound from ixgbe, the probe failed, ixgbe bound again: nothing moved.
	assert_rc 4
	assert_eq "$(action 0000:03:00.1 message)" \
		"writing drivers_probe: No such device (back on ixgbe, driver_override restored)"
	assert_eq "$(action 0000:03:00.1 current)" ixgbe
	assert_eq "$(jqo .changed)" false
	assert_eq "$(driver_of 0000:03:00.1)" ixgbe
	assert_file /sys/bus/pci/devices/0000:03:00.1/driver_override "(null)"
	[ ! -e "$ROOT/var/lib/hostprep/vfio" ] || fail "record left: $(cat "$ROOT/var/lib/hostprep/vfio")"
	rm "$ROOT/.kmodel/fail/sys/bus/pci/drivers_probe"
	hp -p "$P" apply
	assert_rc 2
	assert_eq "$(driver_of 0000:03:00.1)" vfio-pci
}

test_vfio_failed_unbind_restores_the_override() {
	pcihost; vfio 0000:03:00.1
	fail_write /sys/bus/pci/drivers/ixgbe/unbind 16
	hp -p "$P" -j apply
	assert_file /sys/bus/pci/devices/0000:03:00.1/driver_override "(null)"
	[ ! -e "$ROOT/var/lib/hostprep/vfio" ] || fail "record left"
	assert_rc 4
	assert_eq "$(action 0000:03:00.1 message)" \
		"unbinding from ixgbe: Device or resource busy (still on ixgbe, driver_override restored)"
	assert_eq "$(driver_of 0000:03:00.1)" ixgbe
}

test_vfio_failed_restore_is_a_change() {
	pcihost; vfio 0000:03:00.1
	fail_write /sys/bus/pci/drivers_probe 19
	fail_write /sys/bus/pci/drivers/ixgbe/bind 19
	hp -p "$P" -j apply
	# Unbound from ixgbe and nothing could bind it again: a change and a failure.
	assert_rc 6
	assert_eq "$(action 0000:03:00.1 current)" none
	assert_eq "$(action 0000:03:00.1 previous)" ixgbe
	assert_contains "$(action 0000:03:00.1 message)" \
		"writing drivers_probe: No such device; binding ixgbe again failed (No such device): the device has no driver now"
	assert_file /sys/bus/pci/devices/0000:03:00.1/driver_override "(null)"
	[ ! -e "$ROOT/var/lib/hostprep/vfio" ] || fail "record left"
}

test_vfio_two_function_group_with_a_failing_sibling() {
	pcihost; vfio "65:00.0, 65:00.1"
	fail_write /sys/bus/pci/drivers/snd_hda_intel/unbind 16
	hp -p "$P" -j apply
	assert_file /sys/bus/pci/devices/0000:65:00.1/driver_override "(null)"
	assert_file /var/lib/hostprep/vfio "0000:65:00.0 nouveau"
	assert_rc 6
	assert_eq "$(action 0000:65:00.0 state)" changed
	assert_eq "$(driver_of 0000:65:00.0)" vfio-pci
	assert_eq "$(action 0000:65:00.1 state)" failed
	assert_contains "$(action 0000:65:00.1 message)" \
		"unbinding from snd_hda_intel: Device or resource busy (still on snd_hda_intel, driver_override restored)"
	assert_contains "$(action 0000:65:00.1 message)" "IOMMU group 1 is not viable while it stays on snd_hda_intel"
	assert_eq "$(driver_of 0000:65:00.1)" snd_hda_intel
	assert_file /sys/bus/pci/devices/0000:65:00.1/driver_override "(null)"
	assert_file /var/lib/hostprep/vfio "0000:65:00.0 nouveau"
	assert_eq "$(jqo '.capabilities.vfio.devices[0].viable')" false
	# Once the sibling lets go, the next apply completes the group.
	rm "$ROOT/.kmodel/fail/sys/bus/pci/drivers/snd_hda_intel/unbind"
	hp -p "$P" apply
	assert_rc 2
	assert_eq "$(driver_of 0000:65:00.1)" vfio-pci
	assert_idempotent
}

test_vfio_device_that_does_not_bind_is_failed() {
	pcihost
	# Forced past "no IOMMU group": vfio-pci's probe then fails; ixgbe takes it back.
	rm "$ROOT/sys/devices/pci0000:00/0000:03:00.1/iommu_group"
	vfio 0000:03:00.1 "force = yes"
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(action 0000:03:00.1 message)" \
		"probing: the device is bound to no driver, not vfio-pci (back on ixgbe, driver_override restored)"
	assert_eq "$(action 0000:03:00.1 current)" ixgbe
	assert_file /sys/bus/pci/devices/0000:03:00.1/driver_override "(null)"
}

test_vfio_selectors_no_match_and_malformed() {
	pcihost; vfio "0000:0a:00.0, 15b3:1017, eth9"
	hp -p "$P" -j apply
	assert_rc 4
	assert_eq "$(jqo '[.actions[].message] | join("|")')" \
		"no device matches 0000:0a:00.0|no device matches 15b3:1017|no device matches eth9"
	snapshot
	vfio "0000:03:00.1, 3:0.1"
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "p.ini:2: devices: '3:0.1' is not a PCI address"
	vfio "eno1" "force = maybe"
	hp -p "$P" apply
	assert_rc 1
	assert_contains "$err" "p.ini:3: force: expected yes or no, got 'maybe'"
	assert_unchanged
}

test_vfio_module_not_loaded_is_skipped_on_a_fake_root() {
	pcihost --no-vfio-module; vfio 0000:03:00.1
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(action 0000:03:00.1 state)" skipped
	assert_eq "$(driver_of 0000:03:00.1)" ixgbe
}

test_vfio_vf_ids_resolve_after_sriov_creates_the_vfs() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 2
autoprobe = no
[vfio]
devices = 8086:10ed
INI
	hp -p "$P" -j audit
	assert_rc 2
	assert_eq "$(action 8086:10ed message)" "no such device yet: resolved once [sriov] has created the VFs"
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(action 8086:10ed current)" "0000:03:10.0, 0000:03:10.2"
	assert_eq "$(driver_of 0000:03:10.2)" vfio-pci
	assert_contains "$(cat "$ROOT/var/lib/hostprep/vfio")" "0000:03:10.2 none"
	hp -p "$P" -j apply
	assert_rc 0
	assert_eq "$(jqo '[.actions[] | select(.module=="vfio") | .target] | join(",")')" "0000:03:10.0,0000:03:10.2"
}

test_vfio_id_without_match_and_no_vfs_coming_fails_at_once() {
	pcihost
	profile p.ini <<'INI'
[sriov 0000:03:00.0]
numvfs = 0
[vfio]
devices = 8086:10ed
INI
	hp -p "$P" -j audit
	assert_rc 4
	assert_eq "$(action 8086:10ed message)" "no device matches 8086:10ed"
}

test_vfio_restore_whose_record_update_fails_is_failed() {
	pcihost; vfio 0000:03:00.1
	hp -p "$P" apply; assert_rc 2
	profile none.ini <<'INI'
[thp]
enabled = madvise
INI
	# The record's last line goes: an unlink.
	# unlinkat(descriptor of /var/lib/hostprep, "vfio"): strace -P matches it by the descriptor.
	INJECT_PATH=$ROOT/var/lib/hostprep hp_inject 'unlinkat:error=EROFS:when=1' -p "$P" -j apply
	# Back on ixgbe (a change), but the record still claims it: a failure too.
	assert_rc 6
	assert_eq "$(action 0000:03:00.1 state)" failed
	assert_contains "$(action 0000:03:00.1 message)" "updating /var/lib/hostprep/vfio: Read-only file system"
	assert_eq "$(driver_of 0000:03:00.1)" ixgbe
	hp -p "$P" apply
	assert_rc 0
}

# A read error is no answer (found by the fault matrix, tests/fault/matrix.py):
# the rails fail closed on it and name it.
test_vfio_unreadable_routing_table_refuses_every_network_controller() {
	pcihost --default-route eno1; vfio "eno1, 65:00.0, 65:00.1"
	INJECT_PATH=$ROOT/proc/net/route hp_inject 'read:error=EIO:when=1' -p "$P" -j apply
	assert_rc 6
	assert_eq "$(action 0000:02:00.0 message)" "refused: the host depends on it: it is a network controller, and the host's default routes cannot be read (/proc/net/route: Input/output error), so any network controller may carry one (force = yes overrides)"
	assert_eq "$(driver_of 0000:02:00.0)" e1000e
	assert_contains "$(jqo '.warnings | join(" ")')" "vfio: cannot read /proc/net/route: Input/output error; every network controller is refused unless force = yes"
	# Not a network controller: bound.
	assert_eq "$(driver_of 0000:65:00.0)" vfio-pci
}

test_vfio_unreadable_iommu_group_or_class_is_refused() {
	pcihost; vfio 10de:1b80
	INJECT_PATH=$ROOT/sys/kernel/iommu_groups/1/devices hp_inject 'getdents64:error=EIO:when=1+' -p "$P" -j apply
	assert_rc 4
	assert_eq "$(action 0000:65:00.0 message)" "refused: cannot list IOMMU group 1: Input/output error (force = yes overrides)"
	assert_eq "$(driver_of 0000:65:00.0)" nouveau
	# Storage that cannot be traced refuses mass-storage controllers: a class
	# that cannot be read is refused too, even with force.
	rm -rf "$ROOT"; pcihost --root-on rpool/ROOT/debian --root-fstype zfs; vfio 04:00.0 "force = yes"
	INJECT_PATH=$ROOT/sys/devices/pci0000:00/0000:04:00.0/class hp_inject 'read:error=EIO:when=1+' -p "$P" -j apply
	assert_rc 4
	assert_eq "$(action 0000:04:00.0 message)" "refused: cannot read its PCI class: Input/output error"
	assert_eq "$(driver_of 0000:04:00.0)" nvme
}

test_vfio_unreadable_swaps_refuse_every_mass_storage_controller() {
	pcihost --swap /dev/nvme0n1p1; vfio 04:00.0
	INJECT_PATH=$ROOT/proc/swaps hp_inject 'read:error=EIO:when=1' -p "$P" -j apply
	assert_rc 4
	assert_eq "$(action 0000:04:00.0 message)" "refused: the host depends on it: it is a mass-storage controller, and the host's swap (/proc/swaps: Input/output error) cannot be traced to a PCI device, so every mass-storage controller may hold it (force = yes overrides)"
	assert_eq "$(driver_of 0000:04:00.0)" nvme
}

test_vfio_unreadable_vf_count_is_refused() {
	pcihost; vfio 0000:03:00.1
	INJECT_PATH=$ROOT/sys/devices/pci0000:00/0000:03:00.1/sriov_numvfs hp_inject 'read:error=EIO:when=1+' -p "$P" -j apply
	assert_rc 4
	assert_eq "$(action 0000:03:00.1 message)" "refused: cannot read its sriov_numvfs: Input/output error (force = yes overrides)"
	assert_eq "$(driver_of 0000:03:00.1)" ixgbe
}

test_vfio_dropped_device_whose_group_use_cannot_be_told_stays() {
	pcihost; vfio 0000:03:00.1
	hp -p "$P" apply; assert_rc 2
	profile none.ini <<'INI'
[thp]
enabled = madvise
INI
	INJECT_PATH=$ROOT/proc hp_inject 'getdents64:error=EIO:when=1+' -p "$P" -j apply
	assert_rc 4
	assert_contains "$err" "dropped from the profile, but whether its /dev/vfio/5 is open cannot be told (Input/output error): keeping it on vfio-pci"
	assert_eq "$(driver_of 0000:03:00.1)" vfio-pci
}
