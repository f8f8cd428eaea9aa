#!/bin/bash
# make bench: what hostprep costs on generated hosts of 100 to 1,000 PCI
# devices (SR-IOV NICs with their VFs, tests/fakehost/add-nics.sh), next to
# lspci on the same tree.  For report, --json report, audit, validate and a
# no-op apply on a converged tree, at every size:
#   wall      median wall time of RUNS runs
#   ratio     median of the per-pair ratios hostprep/lspci, the two run
#             alternately (which one goes first alternates too), so that a
#             load spike from another process hits both sides of a pair
#   RSS       peak resident set (/usr/bin/time -f %M), median
#   syscalls  all system calls of one run (strace -f -c)
#   openat    open/openat/openat2 calls of one run; "twice": how many
#             distinct paths were opened more than once, "sys/proc": how many
#             of them are the host's sysfs or procfs files (BENCH_VERBOSE=1
#             lists them)
#   Minstr    user-space instructions of one run and its child processes
#             (valgrind --tool=callgrind), which do not depend on the
#             machine's load (largest size only; BENCH_INSTR=0 skips them)
# then the time per device at every size, so that a super-linear step shows.
#
#   tests/bench/run.sh [HOSTPREP=build/hostprep] [RUNS=11] [SIZES="100:64:2 ..."]
# SIZES: DEVICES:CPUS:NODES, separated by spaces.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${HOSTPREP:-$PWD/build/hostprep}
kmodel=${KMODEL:-$PWD/build/tests/libkmodel.so}
runs=${RUNS:-11}
sizes=${SIZES:-"100:64:2 250:128:4 500:256:8 1000:512:8"}
instr=${BENCH_INSTR:-1}
command -v valgrind >/dev/null || instr=0
work=$(mktemp -d "${TMPDIR:-/tmp}/hostprep-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
fh=tests/fakehost
commands=("report" "--json report" "audit" "validate" "apply")

# The profile touches every module; PCI devices are named by address.  The
# running command line already carries the kernel arguments (a host that
# rebooted into them), so a converged tree plans nothing.
kargs="isolcpus=managed_irq,domain,2-15 nohz_full=2-15 rcu_nocbs=2-15 intel_iommu=on iommu=pt"
profile() { # ROOT PF_IAVF NUMVFS_IAVF PF_VFIO NUMVFS_VFIO
	cat <<INI
[profile]
name = bench
[kernel]
isolcpus = managed_irq,domain,2-15
nohz_full = 2-15
rcu_nocbs = 2-15
iommu = pt
bootloader = kernel-cmdline
[hugepages]
2M = 1024
[thp]
enabled = never
defrag = never
[cpu]
governor = performance
[kvm]
nested = yes
reload = if-idle
[sriov $2]
numvfs = $3
[sriov $4]
numvfs = $5
vf_driver = vfio-pci
[vfio]
devices = 0000:65:00.0, 0000:65:00.1
[vdpa vdpa0]
mgmtdev = vdpasim_net
driver = vhost_vdpa
INI
}

build_host() { # DIR DEVICES CPUS NODES
	local root=$1
	$fh/mkhost.sh "$root" --cpus "$3" --nodes "$4" \
		--cmdline "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/sda1 ro quiet $kargs"
	$fh/add-pci.sh "$root" --default-route eno1
	$fh/add-nics.sh "$root" --devices "$2"
	$fh/add-vdpa.sh "$root" --dev vdpa0:vdpasim_net
	$fh/add-boot.sh "$root" kernel-cmdline
	: > "$root/run/hostprep.lock"
}

# lspci as the issue names it; the tree's own sysfs, no name lookups over the network.
lspci_args() { echo "lspci -vmm -D -nn -k -A linux-sysfs -O sysfs.path=$root/sys/bus/pci"; }

# Converges the tree with the kernel model (it creates nothing: the VFs are
# there; it binds the GPU and writes the config files), then checks that
# audit and apply find nothing to do.
converge() {
	local rc
	HOSTPREP_KMODEL_ROOT=$root LD_PRELOAD=$kmodel "$bin" -r "$root" -p "$work/profile.ini" apply >/dev/null 2>&1 || true
	rm -f "$root/.kmodel/log"
	rc=0; HOSTPREP_KMODEL_ROOT=$root LD_PRELOAD=$kmodel "$bin" -r "$root" -p "$work/profile.ini" apply \
		>"$work/apply.out" 2>&1 || rc=$?
	if [ "$rc" != 0 ] || [ -s "$root/.kmodel/log" ]; then
		echo "bench: the second apply is no no-op (exit $rc; writes: $(wc -l < "$root/.kmodel/log" 2>/dev/null || echo 0)):" >&2
		grep -v '^ok ' "$work/apply.out" | head -5 >&2
	fi
	rc=0; "$bin" -r "$root" -p "$work/profile.ini" audit >/dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] || echo "bench: audit of the converged tree exits $rc (expected 0)" >&2
}

median() { sort -g | awk '{v[NR] = $1} END {print NR ? (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) : 0}'; }

# timed_run OUT_VAR RSS_FILE CMD...: wall microseconds into OUT_VAR, peak RSS (KiB) appended to RSS_FILE.
timed_run() {
	local var=$1 rssf=$2 t0 t1; shift 2
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M' -o "$work/rss1" "$@" >/dev/null 2>&1 || true
	t1=$EPOCHREALTIME
	printf -v "$var" '%d' $(( 10#${t1/./} - 10#${t0/./} ))
	tail -n 1 "$work/rss1" >> "$rssf"
}

# pairs CMD...: RUNS pairs hostprep CMD / lspci; prints "wall_us lspci_us ratio rss_kib lspci_rss_kib".
pairs() {
	local i th tl
	local -a l
	read -r -a l <<<"$(lspci_args)"
	: > "$work/h"; : > "$work/l"; : > "$work/r"; : > "$work/rss"; : > "$work/lrss"
	for ((i = 0; i < runs; i++)); do
		if ((i % 2 == 0)); then
			timed_run th "$work/rss" "$bin" -r "$root" -p "$work/profile.ini" "$@"
			timed_run tl "$work/lrss" "${l[@]}"
		else
			timed_run tl "$work/lrss" "${l[@]}"
			timed_run th "$work/rss" "$bin" -r "$root" -p "$work/profile.ini" "$@"
		fi
		echo "$th" >> "$work/h"; echo "$tl" >> "$work/l"
		echo "$th $tl" | awk '{printf "%.6f\n", $1 / $2}' >> "$work/r"
	done
	echo "$(median < "$work/h") $(median < "$work/l") $(median < "$work/r") $(median < "$work/rss") $(median < "$work/lrss")"
}

# One strace run: "syscalls openat twice sys/proc-twice".  A file is named
# as the host names it, whether opened under the root, relative to a
# descriptor of the root or by a process chrooted there; O_PATH descriptors
# (which open nothing) count as opens, not as files opened twice.
syscalls() {
	local total opens twice sysproc
	strace -f -qq -c -o "$work/sc" "$@" >/dev/null 2>&1 || true
	total=$(awk '$NF == "total" {print ($4 ~ /^[0-9]+$/) ? $4 : $3}' "$work/sc")
	strace -f -qq -e trace=open,openat,openat2 -o "$work/op" "$@" >/dev/null 2>&1 || true
	opens=$(grep -cE 'open(at2?)?\(' "$work/op" || true)
	grep -v O_PATH "$work/op" | grep -oE 'open(at2?)?\([^"]*"[^"]*"' | sed 's/.*"\(.*\)"/\1/' |
		sed "s|^$root/||; s|^/||; s|^|/|" | sort | uniq -c | awk '$1 > 1' > "$work/twice"
	twice=$(wc -l < "$work/twice")
	sysproc=$(awk '{print $2}' "$work/twice" | grep -cE '^/(sys|proc)/' || true)
	echo "${total:-?} $opens $twice $sysproc"
	if [ -n "${BENCH_VERBOSE:-}" ] && [ "$twice" -gt 0 ]; then sort -rn "$work/twice" | head -20 | sed 's/^/    opened /' >&2; fi
}

# Instructions of a run, its child processes included.  A forked child starts
# with its parent's counters: they are dumped and zeroed at every fork and
# clone, and the dumps summed.  The chroot child (pci enumeration) writes its
# dump inside the root.  Valgrind cannot share memory with a CLONE_VM child,
# so confine.c's fork fallback runs that enumeration a second time: counted
# here, not in a run outside valgrind (about 20 M on the 1,000-device host).
minstr() {
	[ "$instr" = 1 ] && [ "$devices" = "$largest" ] || { echo "-"; return; }
	local d=$work/cg
	rm -rf "$d" "$root$d"; mkdir -p "$d" "$root$d"
	LD_PRELOAD=${VALGRIND_SHIM:-} valgrind --tool=callgrind --dump-before=fork --dump-before=clone \
		--callgrind-out-file="$d/cg.%p" "$@" >/dev/null 2>&1 || true
	cat "$d"/cg.* "$root$d"/cg.* 2>/dev/null |
		awk '/^totals:/ {s += $2; n++} END {if (n) printf "%.1f\n", s / 1e6; else print "-"}'
	rm -rf "$d" "$root$d"
}

machine() {
	local cpu; cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	echo "machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
		"$(. /etc/os-release && echo "$PRETTY_NAME"), $(lspci --version); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

for tool in lspci strace /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }
done
machine
echo "hostprep: $bin; $runs alternating pairs per figure; wall and ratio are medians"
declare -A per_dev ratio_at
largest=${sizes##* }; largest=${largest%%:*}
for spec in $sizes; do
	IFS=: read -r devices cpus nodes <<<"$spec"
	root=$work/h$devices
	build_host "$root" "$devices" "$cpus" "$nodes"
	pfs=($(cd "$root/sys/bus/pci/devices" && grep -l '^154c$' */sriov_vf_device | while IFS=/ read -r d _; do
		echo "$d:$(cat "$d/sriov_numvfs")"; done))
	profile "$root" "${pfs[0]%:*}" "${pfs[0]##*:}" "${pfs[-1]%:*}" "${pfs[-1]##*:}" > "$work/profile.ini"
	chmod 0644 "$work/profile.ini"
	converge
	vfs=$(ls -d "$root"/sys/bus/pci/devices/*/physfn | wc -l)
	vfio=$(ls "$root/sys/bus/pci/drivers/vfio-pci" | grep -c '^0000:' || true)
	echo
	echo "host: $cpus CPUs, $nodes NUMA nodes, $devices PCI devices (${#pfs[@]} X710 PFs, $vfs VFs, $vfio on vfio-pci)"
	printf '%-14s %8s %8s %6s %8s %9s %7s %6s %8s %7s\n' command "wall ms" "lspci ms" ratio "RSS MiB" syscalls openat twice sys/proc Minstr
	for c in "${commands[@]}"; do
		read -r -a args <<<"$c"
		read -r th tl r rss lrss <<<"$(pairs "${args[@]}")"
		per_dev[$c,$devices]=$(echo "$th $devices" | awk '{printf "%.1f", $1 / $2}')
		ratio_at[$c,$devices]=$r
		sc=$(syscalls "$bin" -r "$root" -p "$work/profile.ini" "${args[@]}")
		mi=$(minstr "$bin" -r "$root" -p "$work/profile.ini" "${args[@]}")
		printf '%-14s %8.1f %8.1f %5.2fx %8.1f %9s %7s %6s %8s %7s\n' "$c" "$(echo "$th / 1000" | bc -l)" \
			"$(echo "$tl / 1000" | bc -l)" "$r" "$(echo "$rss / 1024" | bc -l)" $sc "$mi"
		lspci_rss=$lrss lspci_us=$tl
	done
	read -r -a l <<<"$(lspci_args)"
	printf '%-14s %8.1f %8s %6s %8.1f %9s %7s %6s %8s %7s\n' "(lspci)" "$(echo "$lspci_us / 1000" | bc -l)" "" "" \
		"$(echo "$lspci_rss / 1024" | bc -l)" $(syscalls "${l[@]}") "$(minstr "${l[@]}")"
done

echo
echo "time per device (µs, median wall / devices) and ratio to lspci, by host size"
printf '%-14s' command; for spec in $sizes; do printf ' %16s' "${spec%%:*} devices"; done; echo
for c in "${commands[@]}"; do
	printf '%-14s' "$c"
	for spec in $sizes; do d=${spec%%:*}; printf ' %8s %6.2fx' "${per_dev[$c,$d]}" "${ratio_at[$c,$d]}"; done
	echo
done
