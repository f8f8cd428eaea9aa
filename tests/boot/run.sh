#!/usr/bin/env bash
# The boot test (make check-boot): a Debian root with systemd as PID 1, hostprep
# installed with `make install DESTDIR=...` and enabled, booted under QEMU (TCG) on
# the VM suite's kernel and hardware.  Each boot's kernel command line is read from
# the image (/etc/kernel/cmdline, the kernel-cmdline backend's file), so "arguments
# written -> reboot -> arguments running" is real; the guest's reboot ends QEMU
# (-no-reboot) and the harness boots the image again.  The guest reports over its
# second serial port (tests/boot/guest).  Prints phase times, one PASS/FAIL line per
# check and "N passed, N failed".
#
# usage: tests/boot/run.sh
# environment: HOSTPREP (the binary make install installs: ./hostprep),
#   HOSTPREP_BOOT_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/hostprep-boot),
#   HOSTPREP_BOOT_TIMEOUT (seconds per boot, default 600), HOSTPREP_BOOT_KEEP=1 (keep the
#   work dir), HOSTPREP_VM_CACHE (the VM suite's kernel cache, shared).  See README.md.
set -euo pipefail
export LC_ALL=C

bhere=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
btop=$(cd "$bhere/../.." && pwd)

# The VM suite's kernel (download through the meta-package, unpack, modules): its
# functions and cache.
# shellcheck source=../vm/run.sh
. "$btop/tests/vm/run.sh"

HOSTPREP=${HOSTPREP:-$btop/hostprep}
BCACHE=${HOSTPREP_BOOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostprep-boot}
BOOT_TIMEOUT=${HOSTPREP_BOOT_TIMEOUT:-600}
KEEP=${HOSTPREP_BOOT_KEEP:-0}
# Bump when the root's recipe changes (packages are keyed by their versions anyway).
ROOT_RECIPE=1
# The image's first command line: no IOMMU, hugepage or isolation arguments.
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can
# time out ("timer doesn't work through Interrupt-remapped IO-APIC", a panic).
FIRST_CMDLINE="root=/dev/vda rw console=ttyS0 panic=-1 loglevel=4 no_timer_check"
# The root disk's PCI address (refused by the failing profile: the host needs it).
ROOT_DISK_ADDR=0x5

npass=0 nfail=0
log() { printf 'boot: %s\n' "$*"; }
die() {
	printf 'boot: error: %s\n' "$*" >&2
	printf '%d passed, %d failed\n' "$npass" "$((nfail + 1))"
	KEEP=1
	exit 1
}
phase_begin() { phase_name=$1; phase_t0=$EPOCHREALTIME; }
phase_end() {
	awk -v n="$phase_name" -v a="$phase_t0" -v b="$EPOCHREALTIME" -v note="${1:-}" \
		'BEGIN { printf "boot: phase %-16s %6.1f s%s\n", n, b - a, (note != "" ? "  (" note ")" : "") }'
}
pass() { printf 'PASS boot/%s\n' "$1"; npass=$((npass + 1)); }
fail() { printf 'FAIL boot/%s: %s\n' "$1" "$2"; nfail=$((nfail + 1)); }
check_eq() {	# NAME GOT WANT [WHAT]
	if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "${4:+$4: }got '$2', want '$3'"; fi
}
check() {	# NAME REASON COMMAND...
	local n=$1 r=$2
	shift 2
	if "$@" >/dev/null 2>&1; then pass "$n"; else fail "$n" "$r"; fi
}

check_boot_deps() {
	local missing=() p
	for p in $(grep -hv '^#' "$bhere/deps.txt" "$btop/tests/vm/deps.txt"); do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
	done
	((${#missing[@]} == 0)) ||
		die "missing host packages: ${missing[*]} (make deps installs them; this script installs nothing)"
}

# --- the root: mmdebstrap, cached by the versions apt resolves -------------------------

# Packages of the root: systemd as PID 1, udev, kmod, pci.ids and the packages of the
# libraries hostprep links (ldd + dpkg -S).
root_packages() {
	local libs
	libs=$(ldd "$HOSTPREP" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
	# libkmod and libnl are dlopen()ed on first use (agent/libkmod-lazy.c,
	# agent/libnl-lazy.c): ldd cannot see them.
	for so in libkmod.so.2 libnl-3.so.200 libnl-genl-3.so.200 libnl-route-3.so.200; do
		libs+=" $(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ && !n++ { print $NF }')"
	done
	{
		printf '%s\n' systemd systemd-sysv udev kmod pci.ids
		# one dpkg run; a library may be known under /lib or /usr/lib (merged /usr)
		# shellcheck disable=SC2046 # a word list
		{ dpkg -S $libs $(for l in $libs; do readlink -f "$l"; done) 2>/dev/null || true; } | cut -d: -f1
	} | grep -v '^$' | sort -u | tr '\n' ' '
}

apt_sources() {
	local f
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		[[ -s $f ]] && { printf '%s\n' "$f"; return 0; }
	done
	return 1
}

# "pkg=version" of everything the root's packages pull in, as apt resolves it now.
resolved_versions() {
	# shellcheck disable=SC2086 # a word list
	apt-get -s -o Dir::State::status=/dev/null install $1 2>/dev/null |
		sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p' | sort
}

phase_root() {
	phase_begin root
	local pkgs sources suite versions key note=cached n old
	pkgs=$(root_packages)
	sources=$(apt_sources) || die "no apt sources (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)"
	suite=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	[[ -n $suite ]] || die "no VERSION_CODENAME in /etc/os-release"
	versions=$(resolved_versions "$pkgs")
	if [[ -z $versions ]]; then
		apt_update_once || die "apt-get update failed"
		versions=$(resolved_versions "$pkgs")
	fi
	[[ -n $versions ]] || die "apt cannot resolve the root's packages: $pkgs"
	key=$(printf '%s\n' "$ROOT_RECIPE" "$suite" "$pkgs" "$versions" | sha256sum | cut -c1-16)
	ROOTFS=$BCACHE/root-$key
	ROOT_KEY=$key
	if [[ ! -e $ROOTFS/.complete ]]; then
		rm -rf "$ROOTFS.tmp"
		# shellcheck disable=SC2086 # a word list
		mmdebstrap --quiet --mode=root --variant=minbase --include="$(tr ' ' ',' <<<"${pkgs% }")" \
			--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
			--dpkgopt='path-exclude=/usr/share/locale/*' \
			"$suite" "$ROOTFS.tmp" "$sources" >"$WORK/mmdebstrap.log" 2>&1 ||
			{ tail -n 20 "$WORK/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $WORK/mmdebstrap.log)"; }
		touch "$ROOTFS.tmp/.complete"
		mv "$ROOTFS.tmp" "$ROOTFS"
		n=$(wc -l <<<"$versions")
		note="mmdebstrap, $n packages, $(du -sm "$ROOTFS" | cut -f1) MiB"
		for old in "$BCACHE"/root-*; do
			[[ $old != "$ROOTFS" && -d $old ]] && rm -rf "$old"
		done
	fi
	phase_end "$note"
}

# --- the initramfs: busybox mounting the root disk (cached by kernel) ------------------

phase_initrd() {
	phase_begin initrd
	local st note=cached m kind path rel a
	INITRD=$BCACHE/initrd-$KVER.cpio
	if [[ ! -s $INITRD ]]; then
		st=$WORK/initrd
		rm -rf "$st"
		mkdir -p "$st"/{bin,proc,sys,dev,newroot,lib/modules}
		install -m 0755 "$(command -v busybox)" "$st/bin/busybox"
		# only the applets /init uses (linking every applet would replace busybox itself)
		for a in sh mount umount insmod switch_root sleep mkdir cat poweroff; do ln -s busybox "$st/bin/$a"; done
		: >"$st/modules.load"
		for m in virtio_blk ext4; do
			while read -r kind path _; do
				[[ $kind == insmod ]] || continue
				rel=${path#"$KROOT/lib/modules/"}
				rel=${rel%.xz}
				rel=${rel%.zst}
				grep -qxF "$rel" "$st/modules.load" && continue
				mkdir -p "$(dirname "$st/lib/modules/$rel")"
				case $path in
				*.xz) xz -dc "$path" >"$st/lib/modules/$rel" ;;
				*.zst) zstd -qdc "$path" >"$st/lib/modules/$rel" ;;
				*) cp "$path" "$st/lib/modules/$rel" ;;
				esac
				printf '%s\n' "$rel" >>"$st/modules.load"
			done < <(modprobe -d "$KROOT" -S "$KVER" --show-depends "$m")
		done
		install -m 0755 "$bhere/guest/init" "$st/init"
		(cd "$st" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --quiet) >"$INITRD.tmp"
		mv "$INITRD.tmp" "$INITRD"
		note="$(du -k "$INITRD" | cut -f1) KiB"
	fi
	phase_end "$note"
}

# --- the image: root + hostprep (make install) + modules + test units -------------------

make_overlay() {
	local o=$1 f
	mkdir -p "$o"
	# hostprep as an operator installs it
	make -s -C "$btop" install DESTDIR="$o" PREFIX=/usr >"$WORK/install.log" 2>&1 ||
		{ cat "$WORK/install.log" >&2; die "make install DESTDIR=$o failed"; }
	install -D -m 0644 "$bhere/profiles/ready.ini" "$o/etc/hostprep/profile.ini"
	# kernel modules of the VM suite's list, decompressed, with their dependencies
	STAGE=$o
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		install -D -m 0644 "$KROOT/lib/modules/$KVER/$f" "$o/lib/modules/$KVER/$f"
	done
	while read -r f _; do
		[[ -z $f || $f == \#* ]] && continue
		hp_add_module "$f" || die "cannot add module $f"
	done <"$btop/tests/vm/modules.list"
	depmod -b "$o" "$KVER"
	# the boot's configuration and the test's units
	mkdir -p "$o/etc/kernel" "$o/usr/local/lib/hostprep-test" "$o/etc/systemd/system"
	printf '%s\n' "$FIRST_CMDLINE" >"$o/etc/kernel/cmdline"
	printf '/dev/vda / ext4 rw 0 1\n' >"$o/etc/fstab"
	printf 'hostprep-boot-test\n' >"$o/etc/hostname"
	# a fixed machine id: not systemd's first boot (no firstboot prompts on the console)
	printf '5c1b0e6d2f7a4b8e9d3c2a1b0f9e8d7c\n' >"$o/etc/machine-id"
	install -m 0755 "$bhere/guest/report.sh" "$bhere/guest/at-shutdown.sh" "$o/usr/local/lib/hostprep-test/"
	for f in hostprep-test-report.service hostprep-test-shutdown.service hostprep-test-at-reboot.service \
		hostprep-test-at-poweroff.service libvirtd.service late-nvme.service; do
		install -m 0644 "$bhere/guest/$f" "$o/etc/systemd/system/$f"
	done
}

phase_image() {
	phase_begin image
	local o=$WORK/overlay stage=$WORK/stage key note=cached
	make_overlay "$o"
	key=$( (
		printf '%s %s\n' "$ROOT_KEY" "$KVER"
		cd "$o" && find . \( -type f -o -type l \) -print0 | sort -z | xargs -0 sha256sum 2>/dev/null
		find . -type l -printf '%p -> %l\n' | sort
	) | sha256sum | cut -c1-16)
	IMAGE_CACHED=$BCACHE/image-$key.img
	if [[ ! -s $IMAGE_CACHED ]]; then
		rm -rf "$stage"
		mkdir -p "$stage"
		cp -a "$ROOTFS/." "$stage/"
		rm -f "$stage/.complete"
		# merged /usr: /lib is a link in the root; keep it one
		tar -C "$o" -cf - . | tar -C "$stage" -xf - --keep-directory-symlink
		systemctl --root="$stage" enable hostprep.service hostprep-test-report.service \
			hostprep-test-shutdown.service hostprep-test-at-reboot.service hostprep-test-at-poweroff.service \
			libvirtd.service >/dev/null 2>&1 ||
			die "systemctl --root enable failed"
		# systemd's update units (hwdb, ldconfig) would run at the first boot of a new
		# image: seconds of TCG time that test nothing of hostprep's
		touch "$stage/etc/.updated" "$stage/var/.updated"
		rm -f "$BCACHE"/image-*.img
		truncate -s 2G "$IMAGE_CACHED.tmp"
		mke2fs -q -t ext4 -L root -d "$stage" "$IMAGE_CACHED.tmp" ||
			die "mke2fs -d $stage failed"
		mv "$IMAGE_CACHED.tmp" "$IMAGE_CACHED"
		rm -rf "$stage"
		note="built, $(du -m "$IMAGE_CACHED" | cut -f1) MiB used of 2 GiB"
	fi
	cp --sparse=always "$IMAGE_CACHED" "$WORK/disk.img"
	phase_end "$note"
}

# --- boots ---------------------------------------------------------------------------

image_cat() { debugfs -R "cat $1" "$WORK/disk.img" 2>/dev/null; }

# boot_vm NAME: one QEMU run of the image with the command line the image holds now;
# leaves NAME.console and NAME.res (the result lines, without the tty's CR).
boot_vm() {
	local name=$1 cmdline rc=0
	cmdline=$(image_cat /etc/kernel/cmdline | head -n 1)
	[[ -n $cmdline ]] || die "$name: no /etc/kernel/cmdline in the image"
	printf '%s\n' "$cmdline" >"$WORK/$name.cmdline"
	phase_begin "boot-$name"
	: >"$WORK/$name.console"
	: >"$WORK/$name.results"
	timeout -k 10 "$BOOT_TIMEOUT" qemu-system-x86_64 \
		-machine q35,kernel-irqchip=split -accel tcg -cpu max -smp 2,sockets=2,cores=1,threads=1 -m 4G \
		-device intel-iommu,intremap=on \
		-object memory-backend-ram,id=m0,size=2G -object memory-backend-ram,id=m1,size=2G \
		-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 \
		-device pcie-root-port,id=rp1,chassis=1,slot=1 -device pcie-root-port,id=rp2,chassis=2,slot=2 \
		-device nvme-subsys,id=subsys0,nqn=subsys0 \
		-device nvme,bus=rp1,id=nvme0,serial=deadbeef,subsys=subsys0,sriov_max_vfs=4,sriov_vq_flexible=8,sriov_vi_flexible=4 \
		-device e1000e,bus=rp2,id=nic0,romfile= \
		-drive "file=$WORK/disk.img,format=raw,if=none,id=root,cache=unsafe" \
		-device "virtio-blk-pci,drive=root,bus=pcie.0,addr=$ROOT_DISK_ADDR" \
		-nographic -vga none -nic none -no-reboot -monitor none \
		-serial "file:$WORK/$name.console" -serial "file:$WORK/$name.results" \
		-kernel "$KROOT/boot/vmlinuz-$KVER" -initrd "$INITRD" -append "$cmdline" \
		</dev/null >"$WORK/$name.qemu" 2>&1 || rc=$?
	tr -d '\r' <"$WORK/$name.results" >"$WORK/$name.res"
	if ((rc == 124)); then phase_end "killed after $BOOT_TIMEOUT s"; else phase_end "qemu exit $rc"; fi
	BOOT_RC=$rc
}

# Values from a boot's results: rv NAME KEY (R lines, first), sv NAME KEY (S lines),
# show NAME UNIT PROP (systemctl show of the reporter), lines NAME PREFIX (all, joined).
rv() { sed -n "s/^R $2 //p; s/^R $2\$//p" "$WORK/$1.res" | head -n 1; }
sv() { sed -n "s/^S $2 //p; s/^S $2\$//p" "$WORK/$1.res" | head -n 1; }
show() { sed -n "s/^R show $2 $3=//p" "$WORK/$1.res" | head -n 1; }
sshow() { sed -n "s/^S show $2=//p" "$WORK/$1.res" | head -n 1; }
lines() { sed -n "s/^$2 //p" "$WORK/$1.res"; }
audit_doc() { sed -n 's/^J //p' "$WORK/$1.res"; }

# The boot ended as it should have: its results arrived (and the reporter ran to
# its end, unless the boot was for a reboot).  Non-zero when there is nothing more
# to check.
check_boot_ended() {	# NAME reboot|poweroff
	local name=$1 want=$2
	if ((BOOT_RC != 0)); then
		fail "$name/qemu" "qemu exit $BOOT_RC ($(tail -n 2 "$WORK/$name.qemu" | tr '\n' ' '))"
	fi
	if ! grep -q '^S end' "$WORK/$name.res"; then
		fail "$name/results" "no shutdown report from the guest (console: $(tr -d '\r' <"$WORK/$name.console" |
			grep -m 1 -E 'Kernel panic|BUG:|Oops|cannot mount' || echo 'see below'))"
		return 1
	fi
	check_eq "$name/shutdown-for" "$(sed -n 's/^S shutdown-for //p' "$WORK/$name.res" | tr '\n' ' ')" "$want " \
		"what the shutdown was for"
	if [[ $want == poweroff ]] && ! grep -q '^R end' "$WORK/$name.res"; then
		fail "$name/reporter" "the reporter did not finish (no 'R end')"
		return 1
	fi
}

check_converged_boot() {	# NAME: a later boot with the ready profile
	local n=$1 cmdline desired d missing=
	check_boot_ended "$n" poweroff || return 0
	cmdline=" $(rv "$n" cmdline) "
	check_eq "$n/unit-succeeded" "$(show "$n" hostprep.service ActiveState) $(show "$n" hostprep.service Result)" \
		"active success" "hostprep.service"
	check "$n/unit-exit" "ExecMainStatus $(show "$n" hostprep.service ExecMainStatus)" \
		grep -qxE 'R show hostprep.service ExecMainStatus=(0|2)' "$WORK/$n.res"
	check_eq "$n/unit-ran-once" "$(rv "$n" starts)" 1
	# every kernel argument of the profile runs (from hostprep's own audit)
	desired=$(audit_doc "$n" | jq -r '.actions[] | select(.module == "kernel" and .desired != null and
		.target != "reboot" and (.target | startswith("/") | not)) | .desired')
	if [[ -z $desired ]]; then
		fail "$n/kernel-arguments" "no kernel arguments in the audit document"
		desired=none-known
	fi
	while IFS= read -r d; do
		[[ -z $d || $cmdline == *" $d "* ]] || missing+=" '$d'"
	done <<<"$desired"
	check_eq "$n/kernel-arguments-running" "${missing:-none missing}" "none missing" "/proc/cmdline$cmdline"
	check_eq "$n/cmdline-from-image" "$(rv "$n" cmdline)" "$(cat "$WORK/$n.cmdline")"
	check_eq "$n/numvfs" "$(rv "$n" numvfs)" 2
	check_eq "$n/vfs-on-vfio" "$(lines "$n" 'R vf' | cut -d' ' -f2 | tr '\n' ' ')" "vfio-pci vfio-pci "
	check_eq "$n/nic-on-vfio" "$(rv "$n" nic | cut -d' ' -f2)" vfio-pci
	check_eq "$n/boot-1G-page" "$(rv "$n" hugepages-1G-node1)" 1
	check_eq "$n/failed-units" "$(rv "$n" failed)" ""
	check_eq "$n/ready-target" "$(show "$n" hostprep-ready.target ActiveState)" active
	check_eq "$n/ready-file" "$(rv "$n" ready-check)" ok "sha256sum -c /run/hostprep/ready"
	check_order "$n"
	check_eq "$n/audit" "$(rv "$n" audit-rc)" 0 "hostprep audit after the boot ($(lines "$n" 'R audit-err' | head -n 2 | tr '\n' ' '))"
	check_eq "$n/tainted" "$(rv "$n" tainted)" 0 "/proc/sys/kernel/tainted"
	check_eq "$n/no-guard" "$(lines "$n" 'R record' | grep -c '^reboot-guard' || true)" 0 "reboot guard left"
}

# hostprep's run ended (its main process exited: a failed unit never becomes
# active) before network-pre.target was reached and before the stand-in libvirtd
# started.
check_order() {
	local n=$1 hp np lv
	hp=$(show "$n" hostprep.service ExecMainExitTimestampMonotonic)
	np=$(show "$n" network-pre.target ActiveEnterTimestampMonotonic)
	lv=$(show "$n" libvirtd.service InactiveExitTimestampMonotonic)
	check "$n/before-network-pre" "hostprep ended at ${hp:-?} us, network-pre.target reached at ${np:-?} us" \
		test "${hp:-0}" -gt 0 -a "${np:-0}" -gt 0 -a "${hp:-0}" -le "${np:-0}"
	check "$n/before-libvirtd" "hostprep ended at ${hp:-?} us, libvirtd started at ${lv:-?} us" \
		test "${hp:-0}" -gt 0 -a "${lv:-0}" -gt 0 -a "${hp:-0}" -le "${lv:-0}"
}

boots_ready_profile() {
	local n=first cmd
	# 1: the arguments are written and the host reboots, once; the report reaches the
	# journal before the shutdown stops the unit.
	boot_vm "$n"
	check_boot_ended "$n" reboot || return 0
	check_eq "$n/unit-ran-once" "$(sv "$n" starts)" 1
	check_eq "$n/unit-succeeded" "$(sshow "$n" Result) $(sshow "$n" ExecMainStatus)" "success 2" \
		"hostprep.service at the shutdown"
	check "$n/report-in-journal" "the report's reboot action is not in the journal" \
		grep -q '^S journal .*rebooting for .*iommu=pt' "$WORK/$n.res"
	cmd=$(image_cat /etc/kernel/cmdline)
	check "$n/arguments-written" "/etc/kernel/cmdline after the first boot: $cmd" \
		grep -q "iommu=pt.*hugepagesz=1G hugepages=1:1" <<<"$cmd"
	check "$n/guard-written" "no /var/lib/hostprep/reboot-guard" grep -q '^cmdline=' <(image_cat /var/lib/hostprep/reboot-guard)
	check_eq "$n/first-boot-recorded" "$(image_cat /var/lib/hostprep/first-boot)" "boot_id=$(sv "$n" boot_id)"
	# 2: the arguments run, the unit converges the runtime settings, no reboot
	boot_vm second
	check_converged_boot second
	# 3: the same again; hostprep never reboots after the first boot
	boot_vm third
	check_converged_boot third
	if grep -q '^R end' "$WORK/third.res"; then
		check_eq third/first-boot-unchanged "$(image_cat /var/lib/hostprep/first-boot)" "boot_id=$(sv first boot_id)"
	fi
}

# The image changed offline (debugfs): PATH gets the content of FILE, mode MODE.
image_put() {	# FILE PATH MODE
	chmod "$3" "$1"
	debugfs -w -f - "$WORK/disk.img" >/dev/null 2>&1 <<EOF
rm $2
write $1 $2
EOF
	[[ $(image_cat "$2") == "$(cat "$1")" ]] || die "cannot write $2 into the image"
}

boot_failing_profile() {
	local n=failing d=$WORK/failing-files hp_start late_at
	mkdir -p "$d"
	cp "$bhere/profiles/failing.ini" "$d/profile.ini"
	image_put "$d/profile.ini" /etc/hostprep/profile.ini 0644
	# nvme comes late: blacklisted for udev's coldplug, loaded 4 s after its trigger
	printf 'blacklist nvme\n' >"$d/late.conf"
	image_put "$d/late.conf" /etc/modprobe.d/boot-test-late.conf 0644
	debugfs -w -R "mkdir /etc/systemd/system/hostprep.service.d" "$WORK/disk.img" >/dev/null 2>&1
	# the bound on the device wait, as an operator sets it: a drop-in; and the late
	# driver's loader, started as hostprep starts
	printf '%s\n' '[Service]' 'ExecStartPre=/bin/systemctl start --no-block late-nvme.service' 'ExecStart=' \
		'ExecStart=/usr/sbin/hostprep apply --reboot=first-boot --device-timeout=40' >"$d/wait.conf"
	image_put "$d/wait.conf" /etc/systemd/system/hostprep.service.d/boot-test.conf 0644
	boot_vm "$n"
	check_boot_ended "$n" poweroff || return 0
	check_eq "$n/unit-failed" "$(show "$n" hostprep.service ActiveState) $(show "$n" hostprep.service Result)" \
		"failed exit-code" "hostprep.service"
	check "$n/unit-exit" "ExecMainStatus $(show "$n" hostprep.service ExecMainStatus)" \
		grep -qxE 'R show hostprep.service ExecMainStatus=(4|6)' "$WORK/$n.res"
	check "$n/journal-err-never" "journalctl -p err -u hostprep lacks 'no device matches 0000:09:00.0'" \
		grep -q '^R journal-err .*no device matches 0000:09:00.0' "$WORK/$n.res"
	check "$n/journal-err-refused" "journalctl -p err -u hostprep lacks the refused root disk" \
		grep -q "^R journal-err .*0000:00:0${ROOT_DISK_ADDR#0x}.0.*the host depends on it" "$WORK/$n.res"
	check "$n/never-waited" "the journal lacks the bounded wait naming 0000:09:00.0" \
		grep -q '^R journal .*devices: waited 40 s for 0000:09:00.0 (\[sriov 0000:09:00.0\] at /etc/hostprep/profile.ini:' "$WORK/$n.res"
	# the late PF: its driver came after hostprep started, and its VFs were made
	hp_start=$(show "$n" hostprep.service InactiveExitTimestampMonotonic)
	late_at=$(lines "$n" 'R late' | sed -n 's/^loading nvme at \([0-9.]*\) s$/\1/p' | head -n 1)
	check "$n/late-driver-was-late" "nvme loaded at ${late_at:-?} s, hostprep started at ${hp_start:-?} us" \
		awk -v l="${late_at:-0}" -v h="${hp_start:-0}" 'BEGIN { exit !(l > 0 && h > 0 && l * 1000000 > h) }'
	check_eq "$n/late-numvfs" "$(rv "$n" numvfs)" 2
	check_eq "$n/late-vfs-on-vfio" "$(lines "$n" 'R vf' | cut -d' ' -f2 | tr '\n' ' ')" "vfio-pci vfio-pci "
	check_eq "$n/ready-target" "$(show "$n" hostprep-ready.target ActiveState)" inactive
	check_eq "$n/ready-file" "$(rv "$n" ready-check)" absent
	check_eq "$n/failed-units" "$(rv "$n" failed)" "hostprep.service "
	check_order "$n"
}

show_boot() {	# NAME: console and results of a boot, for a failure
	printf '\nboot: ---- %s: guest console (%s) ----\n' "$1" "$WORK/$1.console"
	tr -d '\r' <"$WORK/$1.console" | tail -n 80
	printf 'boot: ---- %s: results ----\n' "$1"
	grep -v '^J ' "$WORK/$1.res" || true
	printf 'boot: ---- end of %s ----\n' "$1"
}

cleanup() {
	[[ -n ${WORK:-} && -d $WORK && $KEEP != 1 ]] && rm -rf "$WORK"
	return 0
}

boot_main() {
	check_boot_deps
	[[ -x $HOSTPREP ]] || die "no hostprep binary at $HOSTPREP (run make first, or set HOSTPREP)"
	HOSTPREP=$(realpath "$HOSTPREP")
	mkdir -p "$BCACHE" "$CACHE"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/hostprep-boot.XXXXXX")
	trap cleanup EXIT
	log "hostprep $HOSTPREP, cache $BCACHE (kernel: $CACHE), work $WORK"
	local t0=$EPOCHREALTIME n before
	# one run at a time fills the caches; the boots need no lock
	exec 9>"$CACHE/.lock"
	flock 9
	phase_download
	phase_unpack
	exec 9>&-
	exec 9>"$BCACHE/.lock"
	flock 9
	phase_root
	phase_initrd
	phase_image
	exec 9>&-
	before=$nfail
	boots_ready_profile
	boot_failing_profile
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "boot: total %.1f s\n", b - a }'
	if ((nfail > before)); then
		for n in first second third failing; do [[ -e $WORK/$n.res ]] && show_boot "$n"; done
		printf 'boot: work dir kept: %s\n' "$WORK"
		KEEP=1
	fi
	printf '%d passed, %d failed\n' "$npass" "$nfail"
	((nfail == 0))
}

boot_main "$@"
