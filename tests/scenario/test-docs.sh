# The man pages and the bash completion against the code: mandoc lint, every
# option of --help in hostprep(8) and in the completion, every profile
# section and key the code parses in hostprep.ini(5) (and each documented key
# accepted), make install placing them, and the completion driven as bash
# would drive it.

REPO=$(cd "$TESTS_DIR/.." && pwd)
MAN8=$REPO/agent/hostprep.8
MAN5=$REPO/agent/hostprep.ini.5
COMPLETION=$REPO/agent/hostprep.bash-completion

rendered() { MANWIDTH=200 mandoc -T ascii -O width=200 "$1" | col -b; }

# Every option --help shows, for the tool and for each command: "--name", "-x".
help_options() {
	local c
	for c in "" apply audit report validate version; do
		# shellcheck disable=SC2086
		"$HOSTPREP" $c --help
	done | grep -oE '(^|[ ,])--?[a-z][a-z-]*' | sed 's/^[ ,]*//' | sort -u
}

test_man_pages_are_lint_clean() {
	for m in "$MAN8" "$MAN5"; do
		out=$(mandoc -T lint "$m" 2>&1) || fail "mandoc -T lint $m: $out"
		[ -z "$out" ] || fail "mandoc -T lint $m: $out"
	done
}

test_every_help_option_and_command_is_in_hostprep_8() {
	local page opts
	page=$(rendered "$MAN8")
	opts=$(help_options)
	[ "$(wc -l <<<"$opts")" -ge 16 ] || fail "too few options found in --help: $opts"
	while read -r o; do
		grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<<"$page" || fail "hostprep(8) lacks $o (it is in --help)"
	done <<<"$opts"
	for c in $("$HOSTPREP" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}'); do
		grep -qE "^       $c( |$)" <<<"$page" || fail "hostprep(8) COMMANDS lacks $c"
		sed -n '/^EXIT STATUS/,/^[A-Z]/p' <<<"$page" | grep -qE "^       $c( |$)" || fail "hostprep(8) EXIT STATUS lacks $c"
	done
	# And the other way: every option the page lists is one hostprep knows.
	for o in $(sed -n '/^OPTIONS/,/^[A-Z]/p' <<<"$page" | grep -oE '^       -[a-z], --[a-z-]+|^       --[a-z-]+' | grep -oE -- '--[a-z-]+'); do
		grep -qx -- "$o" <<<"$opts" || fail "hostprep(8) documents $o, which --help does not list"
	done
}

# Profile keys the code parses, as "SECTION KEY": the literals compared with
# the key in modules/*.c and in profile.c's [profile] handler, and the lists of
# every unknown-key error ("expected a, b, c").
code_keys() {
	local s
	for s in $(grep -ho '\.section = "[a-z_]*"' "$REPO"/modules/*.c | cut -d'"' -f2); do
		local f
		f=$(grep -l "\.section = \"$s\"" "$REPO"/modules/*.c)
		# The module's own files: the descriptor's file and those named after it.
		grep -ho 's->key, "[A-Za-z0-9_.]*"' "$f" "$REPO/modules/$s"-*.c 2>/dev/null | cut -d'"' -f2 | sed "s/^/$s /"
	done
	sed -n '/^static int handle_profile_key/,/^}/p' "$REPO/agent/profile.c" | grep -o 'strcmp(name, "[a-z_]*")' |
		cut -d'"' -f2 | sed 's/^/profile /'
	mkhost
	for s in $(grep -ho '\.section = "[a-z_]*"' "$REPO"/modules/*.c | cut -d'"' -f2); do
		case $s in sriov|vdpa) header="[$s x0]" ;; *) header="[$s]" ;; esac
		printf '%s\nno_such_key = 1\n' "$header" > "$T/k.ini"; chmod 0644 "$T/k.ini"
		hp -p "$T/k.ini" validate
		grep -o "unknown key 'no_such_key' in \[$s[^]]*\] (expected [^)]*)" <<<"$err" | sed 's/.*(expected //; s/)$//' |
			tr ',' '\n' | sed "s/^ *//; s/^/$s /"
	done
}

test_every_profile_key_in_the_code_is_in_hostprep_ini_5() {
	local page keys n=0
	page=$(rendered "$MAN5")
	keys=$(code_keys | sort -u)
	while read -r section key; do
		[ -n "$key" ] || continue
		n=$((n + 1))
		grep -qE "^   \[$section[] ]" <<<"$page" || fail "hostprep.ini(5) has no section [$section]"
		# The section's entries: from its heading to the next one.
		sed -n "/^   \[$section[] ]/,/^   \[/p" <<<"$page" | grep -qE "^       $key = " ||
			fail "hostprep.ini(5) [$section] lacks $key (the code parses it)"
	done <<<"$keys"
	[ "$n" -ge 30 ] || fail "only $n keys found in the code: $keys"
}

test_every_key_in_hostprep_ini_5_is_accepted() {
	local page section key n=0
	page=$(rendered "$MAN5")
	mkhost
	while read -r section key; do
		n=$((n + 1))
		case $key in SIZE) key=2M ;; SIZE.nodeN) key=2M.node0 ;; esac
		case $section in sriov|vdpa) header="[$section x0]" ;; *) header="[$section]" ;; esac
		printf '%s\n%s = 1\n' "$header" "$key" > "$T/k.ini"; chmod 0644 "$T/k.ini"
		hp -p "$T/k.ini" validate
		assert_not_contains "$err" "unknown key" "[$section] $key"
		assert_not_contains "$err" "unknown section" "[$section]"
	done < <(awk '/^[A-Z]/ { s = "" } /^   \[/ { s = substr($1, 2); sub(/\]$/, "", s) }
		/^       [A-Za-z_.]+ = / && s { print s, $1 }' <<<"$page")
	[ "$n" -ge 30 ] || fail "only $n keys documented"
}

# complete_words WORD...: COMPREPLY for the last word, one per line, as bash
# computes it with bash-completion loaded and our file sourced.
complete_words() {
	bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"; shift
		complete -p hostprep || exit 1
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		# The line as typed: "=" joins the words around it, as COMP_WORDBREAKS split them.
		COMP_LINE=$1; shift
		for w; do if [ "$w" = = ] || [ "$last" = = ]; then COMP_LINE+=$w; else COMP_LINE+=" $w"; fi; last=$w; done
		COMP_POINT=${#COMP_LINE}
		_hostprep hostprep "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
		printf "%s\n" "${COMPREPLY[@]}"' complete-test "$COMPLETION" "$@"
}

test_completion_offers_commands_options_and_paths() {
	out=$(complete_words hostprep "")
	assert_eq "$(sed 1d <<<"$out" | tr '\n' ' ')" "apply audit report validate version " "commands"
	assert_eq "$(head -1 <<<"$out")" "complete -F _hostprep hostprep" "complete -p"
	out=$(complete_words hostprep au)
	assert_eq "$(sed 1d <<<"$out")" audit
	# Every option of --help completes (--color= and --reboot= take their value).
	local all
	all=$(complete_words hostprep -)
	for o in $(help_options); do
		grep -qxE -- "$o=?" <<<"$all" || fail "completion lacks $o (it is in --help)"
	done
	out=$(complete_words hostprep validate --)
	assert_not_contains "$out" "--reboot=" "validate's options"
	assert_contains "$out" "--profile"
	out=$(complete_words hostprep apply --re)
	assert_eq "$(sed 1d <<<"$out")" "--reboot="
	out=$(complete_words hostprep apply --reboot = i)
	assert_eq "$(sed 1d <<<"$out")" "if-needed"
	out=$(complete_words hostprep --color n)
	assert_eq "$(sed 1d <<<"$out")" "never"
	# As bash splits "--color=" (COMP_WORDBREAKS has "="): the words --color, =, "".
	out=$(complete_words hostprep report --color = "")
	assert_eq "$(sed 1d <<<"$out" | tr '\n' ' ')" "auto always never " "--color="
	mkdir -p "$T/profiles/sub" "$T/roots/host1" "$T/roots/host2"
	: > "$T/profiles/a.ini"; : > "$T/profiles/b.ini"; : > "$T/roots/file"
	out=$(complete_words hostprep audit -p "$T/profiles/")
	assert_eq "$(sed 1d <<<"$out" | sort | tr '\n' ' ')" "$T/profiles/a.ini $T/profiles/b.ini $T/profiles/sub " "--profile files"
	out=$(complete_words hostprep --root "$T/roots/")
	assert_eq "$(sed 1d <<<"$out" | sort | tr '\n' ' ')" "$T/roots/host1 $T/roots/host2 " "--root directories"
	out=$(complete_words hostprep -r "$T/roots" report "")
	assert_eq "$(sed 1d <<<"$out")" "" "nothing after the command"
}

test_make_install_places_pages_and_completion() {
	local d=$T/dest dir
	dir=$(pkg-config --variable=completionsdir bash-completion)
	[ -n "$dir" ] || fail "pkg-config knows no completionsdir"
	make -s -C "$REPO" -o hostprep install DESTDIR="$d" PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null
	cmp "$MAN8" "$d/usr/share/man/man8/hostprep.8" || fail "hostprep.8 not installed"
	cmp "$MAN5" "$d/usr/share/man/man5/hostprep.ini.5" || fail "hostprep.ini.5 not installed"
	cmp "$COMPLETION" "$d$dir/hostprep" || fail "completion not installed into $dir"
}
