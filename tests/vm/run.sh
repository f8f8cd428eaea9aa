#!/usr/bin/env bash
# The real-kernel end-to-end suite: boots Debian's bookworm 6.12 kernel under QEMU (TCG)
# with a minimal initramfs (busybox, kmod, iproute2, jq, hostprep and tests/vm/guest) and
# runs every scenario of tests/vm/scenarios against the guest's real sysfs. The guest
# writes one result line per check to its second serial port; this script reads them,
# prints them and ends with "N passed, N failed".
#
# usage: tests/vm/run.sh [SCENARIO...]      (glob patterns on scenario directory names)
# environment: HOSTPREP (the binary, default ./hostprep), HOSTPREP_VM_CACHE,
#   HOSTPREP_VM_TIMEOUT (seconds, default 900), HOSTPREP_VM_KEEP=1 (keep the work dir),
#   HOSTPREP_VM_KERNEL (meta-package, default linux-image-6.12-amd64). See README.md.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

HOSTPREP=${HOSTPREP:-$top/hostprep}
CACHE=${HOSTPREP_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostprep}
KERNEL_META=${HOSTPREP_VM_KERNEL:-linux-image-6.12-amd64}
VM_TIMEOUT=${HOSTPREP_VM_TIMEOUT:-900}
KEEP=${HOSTPREP_VM_KEEP:-0}

# Guest hardware: q35 with an emulated Intel IOMMU, 2 CPUs in 2 NUMA nodes of 2 GiB (one
# socket each: two threads of one core on different nodes taint the kernel),
# an NVMe controller with SR-IOV (QEMU 7.2's only SR-IOV device) and an e1000e NIC.
# One 1 GiB page is reserved at boot so scenarios can compare runtime and boot reservations.
# no_timer_check: under TCG on a loaded host the IO-APIC timer check can time out and
# panic ("timer doesn't work through Interrupt-remapped IO-APIC").
VM_CMDLINE="console=ttyS0 panic=-1 loglevel=4 no_timer_check intel_iommu=on iommu=pt default_hugepagesz=2M hugepagesz=1G hugepages=1"

log() { printf 'vm: %s\n' "$*"; }
die() {
	printf 'vm: error: %s\n' "$*" >&2
	printf '0 passed, 1 failed\n'
	exit 1
}

phase_t0=
phase_begin() { phase_name=$1; phase_t0=$EPOCHREALTIME; }
phase_end() {
	local t1=$EPOCHREALTIME
	awk -v n="$phase_name" -v a="$phase_t0" -v b="$t1" -v note="${1:-}" \
		'BEGIN { printf "vm: phase %-16s %6.1f s%s\n", n, b - a, (note != "" ? "  (" note ")" : "") }'
}

check_deps() {
	local missing=() p cmd
	while read -r p; do
		[[ -z $p || $p == \#* ]] && continue
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
	done <"$here/deps.txt"
	((${#missing[@]} == 0)) ||
		die "missing host packages: ${missing[*]} (install them with 'make deps' or 'apt-get install ${missing[*]}'; this script installs nothing)"
	for cmd in apt-get apt-cache dpkg timeout ldd; do
		command -v "$cmd" >/dev/null || die "missing command: $cmd"
	done
}

# --- Debian packages, cached under $CACHE/debs ----------------------------------------

# once per run, also when called from a $(...) subshell or a hook
apt_update_once() {
	[[ -e $WORK/apt-updated ]] && return 0
	touch "$WORK/apt-updated"
	printf 'vm: running apt-get update (package lists missing or stale)\n' >&2
	apt-get update -qq >/dev/null || { printf 'vm: error: apt-get update failed\n' >&2; return 1; }
}

# hp_fetch_deb PKG: print the path of PKG's .deb in the cache, downloading it if needed.
# Hooks in extra-build.d/ may call it (e.g. for linux-source-6.12).
hp_fetch_deb() {
	local pkg=$1 line file size dir=$CACHE/debs
	line=$(apt-get download --print-uris "$pkg" 2>/dev/null) || line=
	if [[ -z $line ]]; then
		apt_update_once || return 1
		line=$(apt-get download --print-uris "$pkg" 2>/dev/null) || line=
		[[ -n $line ]] || { printf 'vm: error: %s is not known to apt\n' "$pkg" >&2; return 1; }
	fi
	read -r _ file size _ <<<"$line"	# 'URI' FILE SIZE SHA256:...
	if [[ -f $dir/$file && $(stat -c %s "$dir/$file") == "$size" ]]; then
		printf '%s\n' "$dir/$file"
		return 0
	fi
	mkdir -p "$dir/partial"
	rm -f "$dir/partial/$file"
	# apt-get download checks the hash against the signed lists; as root it warns that
	# the _apt user cannot write here, which is harmless.
	(cd "$dir/partial" && apt-get download -q "$pkg") >&2 2> >(grep -v 'unsandboxed as root' >&2) ||
		{ printf 'vm: error: apt-get download %s failed\n' "$pkg" >&2; return 1; }
	[[ -f $dir/partial/$file ]] || { printf 'vm: error: apt-get download %s left no %s\n' "$pkg" "$file" >&2; return 1; }
	mv "$dir/partial/$file" "$dir/$file"
	printf '%s\n' "$dir/$file"
}

# The kernel ABI package behind the meta-package, e.g. linux-image-6.12.117+deb12-amd64.
resolve_kernel_pkg() {
	apt-cache depends "$KERNEL_META" 2>/dev/null |
		awk '!found && $1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; found = 1 }'
}

# --- initramfs helpers (exported to extra-build.d hooks) -------------------------------

# hp_add_file SRC [DEST [MODE]]: copy one file into the initramfs.
hp_add_file() {
	local src=$1 dest=${2:-$1} mode=${3:-0644}
	install -D -m "$mode" "$src" "$STAGE$dest"
}

# hp_add_bin SRC [DEST]: copy a program and every shared library ldd lists for it,
# including the dynamic loader, to the same paths in the initramfs.
hp_add_bin() {
	local src=$1 dest=${2:-$1} lib
	install -D -m 0755 "$src" "$STAGE$dest"
	for lib in $(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[[ -e $STAGE$lib ]] || install -D -m 0755 "$lib" "$STAGE$lib"
	done
}

# hp_add_module NAME: copy a kernel module and its dependencies, decompressed.
hp_add_module() {
	local name=$1 deps kind path rel
	deps=$(modprobe -d "$KROOT" -S "$KVER" --show-depends "$name" 2>&1) ||
		{ printf 'vm: error: module %s: %s\n' "$name" "$deps" >&2; return 1; }
	while read -r kind path _; do
		[[ $kind == insmod ]] || continue
		rel=${path#"$KROOT"}
		case $rel in
		*.ko.xz) [[ -e $STAGE${rel%.xz} ]] || { mkdir -p "$(dirname "$STAGE$rel")" && xz -dc "$path" >"$STAGE${rel%.xz}"; } ;;
		*.ko.zst) [[ -e $STAGE${rel%.zst} ]] || { mkdir -p "$(dirname "$STAGE$rel")" && zstd -qdc "$path" >"$STAGE${rel%.zst}"; } ;;
		*.ko) [[ -e $STAGE$rel ]] || install -D -m 0644 "$path" "$STAGE$rel" ;;
		*) printf 'vm: error: module %s: unexpected file %s\n' "$name" "$path" >&2; return 1 ;;
		esac
	done <<<"$deps"
}

# --- phases -----------------------------------------------------------------------------

select_scenarios() {
	local d name pat matched
	scenarios=()
	for d in "$here"/scenarios/*/; do
		name=$(basename "$d")
		if (($# == 0)); then scenarios+=("$name"); continue; fi
		for pat in "$@"; do
			# shellcheck disable=SC2053 # glob match on purpose
			[[ $name == $pat ]] && { scenarios+=("$name"); break; }
		done
	done
	for pat in "$@"; do
		matched=0
		# shellcheck disable=SC2053 # glob match on purpose
		for name in "${scenarios[@]}"; do [[ $name == $pat ]] && matched=1; done
		((matched)) || die "no scenario matches '$pat' (see $here/scenarios)"
	done
	((${#scenarios[@]} > 0)) || die "no scenarios under $here/scenarios"
}

phase_download() {
	phase_begin download
	KPKG=$(resolve_kernel_pkg)
	if [[ -z $KPKG ]]; then
		apt_update_once || die "no package lists and apt-get update failed"
		KPKG=$(resolve_kernel_pkg)
	fi
	[[ -n $KPKG ]] || die "cannot resolve the kernel package behind $KERNEL_META with apt-cache depends"
	if ! KDEB=$(hp_fetch_deb "$KPKG"); then
		# the ABI package named by stale lists may be gone from the mirror
		[[ -e $WORK/apt-updated ]] && die "cannot download $KPKG"
		apt_update_once || die "cannot download $KPKG"
		KPKG=$(resolve_kernel_pkg)
		KDEB=$(hp_fetch_deb "$KPKG") || die "cannot download $KPKG"
	fi
	KVER=${KPKG#linux-image-}
	phase_end "$(basename "$KDEB")"
}

phase_unpack() {
	phase_begin unpack
	local name note=cached old
	name=$(basename "$KDEB" .deb)
	KROOT=$CACHE/kernel/$name
	if [[ ! -e $KROOT/.complete ]]; then
		note="dpkg -x + depmod"
		rm -rf "$KROOT.tmp"
		mkdir -p "$KROOT.tmp"
		dpkg -x "$KDEB" "$KROOT.tmp"
		[[ -f $KROOT.tmp/boot/vmlinuz-$KVER && -d $KROOT.tmp/lib/modules/$KVER ]] ||
			die "$KDEB does not hold boot/vmlinuz-$KVER and lib/modules/$KVER"
		# Debian's package has no modules.dep (its postinst makes it); the host's kmod
		# needs one to resolve module dependencies.
		depmod -b "$KROOT.tmp" "$KVER"
		touch "$KROOT.tmp/.complete"
		rm -rf "$KROOT"
		mv "$KROOT.tmp" "$KROOT"
		# keep one kernel: drop what older ABI packages left in the cache
		for old in "$CACHE"/kernel/*/ "$CACHE"/debs/linux-image-*.deb; do
			old=${old%/}
			[[ -e $old && $old != "$KROOT" && $old != "$KDEB" ]] && rm -rf "$old"
		done
	fi
	phase_end "$note, $KVER"
}

phase_initramfs() {
	phase_begin initramfs
	STAGE=$WORK/root
	local d f applet hook m kmoddir so lib
	mkdir -p "$STAGE"/usr/{bin,sbin,lib,lib64} "$STAGE"/{dev,proc,sys,run,tmp,root,mnt} \
		"$STAGE"/etc/modprobe.d "$STAGE"/var/lib "$STAGE"/vm
	for d in bin sbin lib lib64; do ln -s "usr/$d" "$STAGE/$d"; done

	# busybox for everything but what kmod and iproute2 provide
	hp_add_bin "$(command -v busybox)" /usr/bin/busybox
	hp_add_bin /usr/bin/kmod /usr/bin/kmod
	for f in modprobe depmod insmod rmmod lsmod modinfo; do ln -s ../bin/kmod "$STAGE/usr/sbin/$f"; done
	hp_add_bin "$(command -v ip)" /usr/sbin/ip
	hp_add_bin "$(command -v vdpa)" /usr/sbin/vdpa
	hp_add_bin "$(command -v jq)" /usr/bin/jq
	for applet in $(busybox --list); do
		[[ -e $STAGE/usr/bin/$applet || -e $STAGE/usr/sbin/$applet ]] && continue
		ln -s busybox "$STAGE/usr/bin/$applet"
	done
	[[ -f /usr/share/misc/pci.ids ]] && hp_add_file /usr/share/misc/pci.ids

	# the program under test, and libkmod and libnl, which it dlopen()s on first
	# use (agent/libkmod-lazy.c, agent/libnl-lazy.c): ldd cannot see those.
	hp_add_bin "$HOSTPREP" /usr/sbin/hostprep
	for so in libkmod.so.2 libnl-3.so.200 libnl-genl-3.so.200 libnl-route-3.so.200; do
		lib=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ && !n++ { print $NF }')
		[[ -n $lib ]] || die "$so not found (ldconfig -p)"
		hp_add_bin "$lib"
	done

	# kernel modules
	kmoddir=/lib/modules/$KVER
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		hp_add_file "$KROOT$kmoddir/$f" "$kmoddir/$f"
	done
	while read -r m _; do
		[[ -z $m || $m == \#* ]] && continue
		hp_add_module "$m" || die "cannot add module $m (tests/vm/modules.list)"
	done <"$here/modules.list"

	# optional build steps (e.g. out-of-tree modules); see extra-build.d/README
	export KVER KROOT CACHE STAGE WORK
	export -f hp_fetch_deb hp_add_file hp_add_bin hp_add_module apt_update_once log
	for hook in "$here"/extra-build.d/*.sh; do
		[[ -e $hook ]] || continue
		log "extra build: $(basename "$hook")"
		bash -c 'set -euo pipefail; . "$1"' hook "$hook" || die "extra build step $hook failed"
	done
	depmod -b "$STAGE" "$KVER"

	# the guest side: /init, the runner and the selected scenarios
	hp_add_file "$here/guest/init" /init 0755
	for f in "$here"/guest/*.sh; do hp_add_file "$f" "/vm/$(basename "$f")" 0755; done
	for f in "${scenarios[@]}"; do
		mkdir -p "$STAGE/vm/scenarios"
		cp -R "$here/scenarios/$f" "$STAGE/vm/scenarios/$f"
	done
	chmod -R go-w "$STAGE/vm"

	(cd "$STAGE" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) >"$WORK/initrd.cpio"
	INITRD=$WORK/initrd.cpio
	phase_end "$(du -m "$INITRD" | cut -f1) MiB uncompressed, ${#scenarios[@]} scenario(s)"
}

phase_boot() {
	phase_begin boot+scenarios
	local rc=0
	: >"$WORK/console.log"
	: >"$WORK/results.log"
	: >"$WORK/json.log"
	timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
		-machine q35,kernel-irqchip=split -accel tcg -cpu max -smp 2,sockets=2,cores=1,threads=1 -m 4G \
		-device intel-iommu,intremap=on \
		-object memory-backend-ram,id=m0,size=2G -object memory-backend-ram,id=m1,size=2G \
		-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 \
		-device pcie-root-port,id=rp1,chassis=1,slot=1 -device pcie-root-port,id=rp2,chassis=2,slot=2 \
		-device nvme-subsys,id=subsys0,nqn=subsys0 \
		-device nvme,bus=rp1,id=nvme0,serial=deadbeef,subsys=subsys0,sriov_max_vfs=4,sriov_vq_flexible=8,sriov_vi_flexible=4 \
		-device e1000e,bus=rp2,id=nic0,romfile= \
		-nographic -vga none -nic none -no-reboot -monitor none \
		-serial "file:$WORK/console.log" -serial "file:$WORK/results.log" -serial "file:$WORK/json.log" \
		-kernel "$KROOT/boot/vmlinuz-$KVER" -initrd "$INITRD" -append "$VM_CMDLINE" \
		</dev/null >"$WORK/qemu.log" 2>&1 || rc=$?
	QEMU_RC=$rc
	if ((rc == 124)); then
		phase_end "qemu killed after ${VM_TIMEOUT} s"
	else
		phase_end "qemu exit $rc"
	fi
}

# Kernel warnings and taints on the guest console (kernel lines only: "[   1.234567] ..."):
# each is a failure, so that a bad guest configuration or a kernel bug the agent provokes
# surfaces.  The suite's own out-of-tree test modules (vdpa_sim) taint the kernel on
# purpose: those lines pass.  At loglevel=4 WARN()s do not reach the console; the
# guest's runner checks /proc/sys/kernel/tainted for them (vm/kernel-taint).
kernel_trouble() {
	tr -d '\r' <"$1" | grep -E '^\[ *[0-9]+\.[0-9]{6}\] ' |
		grep -E 'WARNING: |BUG: |Oops|Kernel panic|taints kernel|tainting kernel|Tainted: ' |
		grep -vE 'loading out-of-tree module taints kernel|module verification failed: signature and/or required key missing - tainting kernel' |
		grep -vE 'Tainted: [G ]+[OE ]*[0-9]' || true
}

# Read the guest's result lines; count; fail on a missing end marker.
report_results() {
	local line npass=0 nfail=0 nlines=0 end='' reason trouble
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		"PASS "*) ((++npass)); ((++nlines)); printf '%s\n' "$line" ;;
		"FAIL "*) ((++nfail)); ((++nlines)); printf '%s\n' "$line" ;;
		"END "*) end=${line#END } ;;
		"") ;;
		*) printf 'vm: guest: %s\n' "$line" ;;
		esac
	done <"$WORK/results.log"
	if [[ -z $end ]]; then
		reason="the guest did not finish"
		((QEMU_RC == 124)) && reason+=" (qemu timed out after ${VM_TIMEOUT} s; raise HOSTPREP_VM_TIMEOUT if the machine is slow)"
		((QEMU_RC != 124 && QEMU_RC != 0)) && reason+=" (qemu exit $QEMU_RC: $(tail -n 3 "$WORK/qemu.log" | tr '\n' ' '))"
		printf 'FAIL vm/end-marker: %s\n' "$reason"
		((++nfail))
	elif [[ $end != "$nlines" ]]; then
		printf 'FAIL vm/result-count: the guest sent %s result lines, %s arrived\n' "$end" "$nlines"
		((++nfail))
	fi
	trouble=$(kernel_trouble "$WORK/console.log")
	if [[ -n $trouble ]]; then
		printf 'FAIL vm/kernel-warnings: %s\n' "$(head -n 3 <<<"$trouble" | tr '\n' ' ')"
		((++nfail))
	else
		printf 'PASS vm/kernel-warnings\n'
		((++npass))
	fi
	check_json_documents || ((++nfail))
	if ((nfail > 0)); then
		printf '\nvm: ---- guest console (%s) ----\n' "$WORK/console.log"
		tr -d '\r' <"$WORK/console.log"
		printf 'vm: ---- end of guest console; work dir kept: %s ----\n\n' "$WORK"
		KEEP=1
	fi
	printf '%d passed, %d failed\n' "$npass" "$nfail"
	((nfail == 0))
}

# The guest's JSON documents (third serial port, "@@hostprep-json SCENARIO/FILE"
# before each) against the schema, as the fake-host scenarios' are.
check_json_documents() {
	local dir=$WORK/json n
	mkdir -p "$dir"
	awk -v d="$dir" '/^@@hostprep-json / { if (f) close(f); n = $2; gsub(/[^A-Za-z0-9._-]/, "_", n); f = d "/" n; next }
		f { sub(/\r$/, ""); print > f }' "$WORK/json.log"
	n=$(find "$dir" -type f | wc -l)
	((n > 0)) || return 0
	if /usr/bin/python3 "$top/tests/json-check.py" "$top/agent/hostprep.schema.json" "$dir" >"$WORK/json-check.log" 2>&1; then
		printf 'PASS vm/json-schema (%d documents)\n' "$n"
		((++npass))
		return 0
	fi
	printf 'FAIL vm/json-schema: %s\n' "$(head -n 20 "$WORK/json-check.log" | tr '\n' ' ')"
	return 1
}

cleanup() {
	[[ -n ${WORK:-} && -d $WORK && $KEEP != 1 ]] && rm -rf "$WORK"
	return 0
}

main() {
	check_deps
	[[ -x $HOSTPREP ]] || die "no hostprep binary at $HOSTPREP (run make first, or set HOSTPREP)"
	HOSTPREP=$(realpath "$HOSTPREP")
	select_scenarios "$@"
	mkdir -p "$CACHE"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/hostprep-vm.XXXXXX")
	trap cleanup EXIT
	log "hostprep $HOSTPREP, cache $CACHE, work $WORK"
	local t0=$EPOCHREALTIME
	# one run at a time fills the cache; the boot itself needs no lock
	exec 9>"$CACHE/.lock"
	flock 9
	phase_download
	phase_unpack
	phase_initramfs
	exec 9>&-
	phase_boot
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "vm: total %.1f s\n", b - a }'
	report_results
}

# Sourced (tests/boot/run.sh reuses the kernel download and unpack): define only.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
fi
