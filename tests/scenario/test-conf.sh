# Every example profile in conf/ validates against a generated two-socket
# host with the PCI devices and vDPA bus the examples name.
test_examples_validate() {
	mkhost --cpus 16 --nodes 2
	"$TESTS_DIR/fakehost/add-pci.sh" "$ROOT"
	"$TESTS_DIR/fakehost/add-vdpa.sh" "$ROOT"
	local n=0
	for f in "$TESTS_DIR"/../conf/*.ini; do
		cp "$f" "$T/"; chmod 0644 "$T/$(basename "$f")"
		hp -p "$T/$(basename "$f")" validate
		[ "$rc" = 0 ] || fail "$(basename "$f") does not validate"
		n=$((n + 1))
	done
	[ $n -ge 5 ] || fail "only $n example profiles"
}

# full.ini shows every key: each key a module parses appears in it.
test_full_example_names_every_section() {
	local s
	for s in profile hugepages thp cpu kernel kvm sriov vfio vdpa export; do
		grep -q "^\[$s[] ]" "$TESTS_DIR/../conf/full.ini" || fail "full.ini lacks [$s]"
	done
}

# The demo's profile on the demo's host (Debian grub): audit 2, apply 2 with the
# kernel arguments pending a reboot, apply again 0.
test_low_latency_cycle() {
	mkhost --cpus 16 --nodes 2
	"$TESTS_DIR/fakehost/add-boot.sh" "$ROOT" grub
	cp "$TESTS_DIR/../conf/low-latency.ini" "$T/p.ini"; chmod 0644 "$T/p.ini"; P=$T/p.ini
	hp -p "$P" audit
	assert_rc 2
	hp -p "$P" -j apply
	assert_rc 2
	assert_eq "$(jqo '[.actions[] | select(.module=="hugepages")] | length')" 2
	assert_eq "$(jqo '.actions[] | select(.target=="isolcpus") | .state')" pending-reboot
	assert_eq "$(jqo .reboot_required)" true
	assert_contains "$(cat "$ROOT/etc/default/grub.d/99-hostprep.cfg")" "isolcpus=managed_irq,domain,2-15"
	hp -p "$P" apply
	assert_rc 0
}
