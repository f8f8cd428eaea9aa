# Every example profile in conf/ validates against a generated two-socket host.
test_examples_validate() {
	mkhost --cpus 16 --nodes 2
	local n=0
	for f in "$TESTS_DIR"/../conf/*.ini; do
		cp "$f" "$T/"; chmod 0644 "$T/$(basename "$f")"
		hp -p "$T/$(basename "$f")" validate
		[ "$rc" = 0 ] || fail "$(basename "$f") does not validate"
		n=$((n + 1))
	done
	[ $n -ge 4 ] || fail "only $n example profiles"
}
