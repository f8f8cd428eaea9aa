# Helpers for the guest runner and for scenario scripts (pre.sh, check.sh, test.sh).
# Plain busybox sh. Results go to fd 3 (the second serial port, opened by runner.sh) as
# "PASS name" or "FAIL name: reason", and to the console; every result is also counted
# in $RESULTS so the runner can tell the host how many lines it sent.
#
# Variables set for scenario scripts: SCENARIO (name), DIR (its directory, also the cwd),
# OUT (a directory holding STEP.json, STEP.err and STEP.rc for every hostprep step run).

HOSTPREP=/usr/sbin/hostprep
RESULTS=/run/vm/results
HOSTPREP_TIMEOUT=120

say() { read -r _up _ </proc/uptime; echo "[$_up] vm: $*"; }

_result() {	# _result PASS|FAIL NAME [REASON]
	_name=$2
	[ -n "${SCENARIO:-}" ] && _name="$SCENARIO/$_name"
	_name=$(printf '%s' "$_name" | tr -c 'A-Za-z0-9._/+=-' '_')
	if [ "$1" = PASS ]; then
		_line="PASS $_name"
	else
		_line="FAIL $_name: $(printf '%s' "$3" | tr '\n\r\t' '   ' | cut -c1-400 | sed 's/ *$//')"
	fi
	echo "$_line" >&3
	echo "$_line" >>"$RESULTS"
	echo "$_line"
}
pass() { _result PASS "$1"; }
fail() { _result FAIL "$1" "$2"; }

# check_eq NAME GOT WANT [WHAT]
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "${4:+$4: }got '$2', want '$3'"; fi
}

# check NAME REASON COMMAND...: pass when COMMAND succeeds (its stdout is dropped)
check() {
	_n=$1 _r=$2
	shift 2
	if "$@" >/dev/null; then pass "$_n"; else fail "$_n" "$_r"; fi
}

# hp ARGS...: run hostprep with a time limit; stdout/stderr as they are. With -j/--json,
# a copy of stdout goes to /tmp/json for the host's schema check (runner.sh sends them).
hp() {
	case " $* " in
	*" -j "* | *" --json "*)
		mkdir -p /tmp/json
		_hpj=$(mktemp "/tmp/json/${SCENARIO:-vm}.XXXXXX")
		timeout "$HOSTPREP_TIMEOUT" "$HOSTPREP" "$@" >"$_hpj"
		_hprc=$?
		cat "$_hpj"
		return $_hprc
		;;
	esac
	timeout "$HOSTPREP_TIMEOUT" "$HOSTPREP" "$@"
}

# jqr FILTER FILE: jq -r, errors to the console. jq 1.6 needs about 0.4 s to start under
# TCG: to read many values from one document, use jvars.
jqr() { /usr/bin/jq -r "$1" "$2"; }

# jvars FILE PROGRAM: PROGRAM makes one object; each key K becomes the shell variable j_K
# (strings as they are, anything else as JSON, e.g. true, 3, null). One jq run.
jvars() {
	_jv=$(/usr/bin/jq -r "($2)"' | to_entries[] |
		"j_\(.key)=\(.value | if type == "string" then . else tojson end | @sh)"' "$1") || return 1
	eval "$_jv"
}

# attr FILE: a sysfs attribute's first line
attr() { head -n 1 "$1" 2>/dev/null; }

# selected FILE: the [bracketed] word of a sysfs choice attribute ("always [madvise] never")
selected() { sed -n 's/.*\[\(.*\)\].*/\1/p' "$1"; }

# snapshot: print the state hostprep could change, one "path:value" line each, sorted.
# Only readable and writable attributes (counters such as free_hugepages are read-only and
# would change by themselves), file contents under /etc, /var/lib, /boot and /run (but
# /run/vm, the harness's own, lock files, which hold the last holder's pid, and hostprep's
# readiness marker under /run/hostprep, which follows the last apply's profile), the loaded
# modules, PCI driver bindings and vDPA devices (names, drivers, config: mac, mtu, ...).
# Extend it when a module gains new targets.
# shellcheck disable=SC2012 # sysfs names are plain
snapshot() {
	{
		find /sys/kernel/mm/hugepages /sys/kernel/mm/transparent_hugepage \
			/sys/devices/system/node/ /sys/devices/system/cpu/cpufreq \
			/sys/module/*/parameters -type f -perm -u=rw -exec grep -H '' {} + 2>/dev/null
		grep -H '' /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor \
			/proc/sys/vm/nr_hugepages /proc/sys/vm/nr_overcommit_hugepages 2>/dev/null
		_pci=/sys/bus/pci/devices
		grep -H '' $_pci/*/sriov_numvfs $_pci/*/sriov_drivers_autoprobe $_pci/*/driver_override 2>/dev/null
		ls -l $_pci/*/driver 2>/dev/null | sed 's|.* \(/sys/[^ ]*\) -> .*/|\1:|'
		ls -1 /sys/bus/vdpa/devices 2>/dev/null | sed 's|^|vdpa device:|'
		ls -l /sys/bus/vdpa/devices/*/driver 2>/dev/null | sed 's|.* \(/sys/[^ ]*\) -> .*/|\1:|'
		grep -H '' /sys/bus/vdpa/devices/*/driver_override 2>/dev/null
		[ -d /sys/bus/vdpa ] && /sbin/vdpa dev config show 2>/dev/null | sed 's|^|vdpa config:|'
		sed 's/ .*//; s/^/module:/' /proc/modules
		find /etc /var/lib /boot /run -path /run/vm -prune -o -path /run/hostprep -prune -o -type f ! -name '*.lock' \
			-exec md5sum {} + 2>/dev/null |
			sed 's/^\([^ ]*\)  \(.*\)/\2:md5 \1/'
	} | sort
}

# same_snapshot NAME BEFORE AFTER: one result, the differences as the reason
same_snapshot() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		diff "$2" "$3" >"$3.diff"
		cat "$3.diff"
		fail "$1" "changed: $(grep '^[-+][^-+]' "$3.diff" | head -n 6 | tr '\n' ' ')"
	fi
}
