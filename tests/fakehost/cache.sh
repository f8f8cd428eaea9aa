# Sourced by the fake-host generators: a generator run is cached by the
# generator's text, its options and the tree it starts from, because a test
# suite makes the same host hundreds of times.  HOSTPREP_MKHOST_CACHE=0 turns
# the cache off; another value moves it.
#
#   tree_cache "${BASH_SOURCE[0]}" "$@"    (first line of a generator: exits
#                                            when the tree came from the cache)
tree_cache() {
	local script=$1 root=$2 cache=${HOSTPREP_MKHOST_CACHE:-${TMPDIR:-/tmp}/hostprep-mkhost-cache} key tmp
	shift 2
	[ "$cache" != 0 ] && [ -z "${FAKEHOST_FILLING:-}" ] || return 0
	key=$( { cat "$script" "${BASH_SOURCE[0]}"; printf '%s\0' "$@";
		if [ -d "$root" ]; then tar -C "$root" --sort=name -cf - .; fi; } | sha1sum | cut -c1-20)
	if [ ! -d "$cache/$key" ]; then
		mkdir -p "$cache"
		tmp=$(mktemp -d "$cache/.fill.XXXXXX")
		mkdir "$tmp/root"
		if [ -d "$root" ]; then cp -a "$root/." "$tmp/root/"; fi
		FAKEHOST_FILLING=1 "$script" "$tmp/root" "$@"
		# Another run may have filled it meanwhile: either copy is the same.
		mv -T "$tmp/root" "$cache/$key" 2>/dev/null || true
		rm -rf "$tmp"
	fi
	rm -rf "$root"
	mkdir -p "$root"
	cp -a "$cache/$key/." "$root/"
	exit 0
}
