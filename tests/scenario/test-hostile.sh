# The hostile corpus: every tests/hostile/*.ini is a bad profile whose first
# line reads "; expect LINE: MESSAGE".  Each one, for apply, audit and
# validate alike, exits 1 with FILE:LINE: and the message on one stderr line,
# prints nothing on stdout, and neither writes (the kernel model's log) nor
# changes the fake host's tree.  One host serves the whole corpus.

# What git cannot hold, made next to the corpus copy: a FIFO, a directory, a
# link to the FIFO, an empty file, a file one byte over the size limit.
hostile_fixtures() {
	local d=$1 max
	max=$(sed -n 's/^#define PROFILE_MAX_BYTES (\([0-9]*\) \* \([0-9]*\))$/\1 * \2/p' "$TESTS_DIR/../agent/profile.h")
	[ -n "$max" ] || fail "PROFILE_MAX_BYTES not found in agent/profile.h"
	mkfifo "$d/fifo"
	mkdir "$d/dir"
	ln -s fifo "$d/link-to-fifo"
	: > "$d/empty.inc"
	head -c $(($max + 1)) /dev/zero | tr '\0' '\n' > "$d/big.inc"
	chmod 0644 "$d"/*.ini "$d"/*.inc
}

test_hostile_corpus() {
	local d=$T/hostile f expect line msg cmd n=0 bad=() cmds=(apply audit validate)
	pcihost
	"$TESTS_DIR/fakehost/add-boot.sh" "$ROOT" grub
	"$TESTS_DIR/fakehost/add-vdpa.sh" "$ROOT"
	mkdir "$d"
	cp "$TESTS_DIR"/hostile/*.ini "$d/"
	hostile_fixtures "$d"
	# A sampled run (valgrind) checks one command per profile, in turn.
	[ -n "${HOSTILE_ONE_COMMAND:-}" ] && cmds=(one)
	clear_writes; snapshot
	for f in "$d"/*.ini; do
		expect=$(head -1 "$f")
		line=$(sed -n 's/^; expect \([0-9]*\): .*/\1/p' <<<"$expect")
		msg=${expect#*: }
		[ -n "$line" ] || { bad+=("$(basename "$f"): no '; expect LINE: MESSAGE' first line"); continue; }
		n=$((n + 1))
		for cmd in "${cmds[@]}"; do
			[ "$cmd" = one ] && { local all=(apply audit validate); cmd=${all[$((n % 3))]}; }
			hp -p "$f" "$cmd"
			local why="" l found=0
			[ "$rc" = 1 ] || why="exit $rc"
			[ -z "$out" ] || why="$why; printed a result"
			while IFS= read -r l; do
				case $l in *"$f:$line: "*"$msg"*) found=1; break ;; esac
			done <<<"$err"
			[ $found = 1 ] || why="$why; no '$f:$line: ...$msg' on stderr"
			[ ! -s "$ROOT/.kmodel/log" ] || { why="$why; wrote: $(head -3 "$ROOT/.kmodel/log")"; clear_writes; }
			[ -z "$why" ] || bad+=("$(basename "$f") $cmd: ${why#; }
        stderr: $(head -3 <<<"$err")")
		done
	done
	echo "$n hostile profiles x ${#cmds[@]} command(s)"
	[ "$n" -ge 100 ] || bad+=("only $n profiles in the corpus")
	[ ${#bad[@]} -eq 0 ] || { printf '%s\n' "${#bad[@]} failure(s):" "${bad[@]}" >&2; out="" err=""; }
	assert_unchanged
	[ ${#bad[@]} -eq 0 ] || fail "${#bad[@]} failure(s) above"
}
