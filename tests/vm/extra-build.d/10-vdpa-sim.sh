# Sourced by tests/vm/run.sh while it builds the initramfs (KVER, KROOT, CACHE, STAGE and
# the hp_* helpers are set). vDPA for the guest: vdpa, vhost_vdpa and virtio_vdpa come
# with Debian's kernel; the simulator does not (CONFIG_VDPA_SIM and CONFIG_VHOST_RING are
# off), so vringh, vdpa_sim and vdpa_sim_net are built here out of tree from
# linux-source-6.12 of exactly the image's version, against its linux-headers. The
# downloads and the built modules stay in $CACHE; a second run only copies files.

# virtio_net: what virtio_vdpa's device needs (the kernel asks /sbin/modprobe for it)
for m in vdpa vhost_vdpa virtio_vdpa virtio_net; do
	hp_add_module "$m"
done

# The image's package version (KROOT is $CACHE/kernel/PACKAGE_VERSION_ARCH).
kimage=$(basename "$KROOT")
kdebver=${kimage#*_}
kdebver=${kdebver%_*}
kabi=${KVER%-amd64}                     # 6.12.117+deb12
kseries=$(echo "$KVER" | cut -d. -f1,2) # 6.12
simdir=$CACHE/extra/$KVER/vdpa_sim
simmods="vringh vdpa_sim vdpa_sim_net"

vdpa_sim_build() {
	local work src hdr d f
	for f in "linux-source-$kseries=$kdebver" "linux-headers-$KVER=$kdebver" \
		"linux-headers-$kabi-common=$kdebver" "linux-kbuild-$kabi=$kdebver"; do
		d=$(hp_fetch_deb "$f") || return 1
		debs+=("$d")
	done
	work=$WORK/vdpa-sim
	rm -rf "$work"
	mkdir -p "$work/root"
	for d in "${debs[@]:1}"; do dpkg -x "$d" "$work/root"; done
	hdr=$work/root/usr/src/linux-headers-$KVER
	# The headers' Makefile includes the -common one by its installed, absolute path.
	sed -i "s|/usr/src/|$work/root/usr/src/|" "$hdr/Makefile"
	src=linux-source-$kseries
	mkdir -p "$work/build"
	dpkg-deb --fsys-tarfile "${debs[0]}" | tar -xO "./usr/src/$src.tar.xz" |
		tar -xJ -C "$work" "$src/drivers/vhost/vringh.c" "$src/drivers/vdpa/vdpa_sim"
	cp "$work/$src/drivers/vhost/vringh.c" "$work/$src"/drivers/vdpa/vdpa_sim/vdpa_sim{.c,.h,_net.c} "$work/build/"
	echo "obj-m += vringh.o vdpa_sim.o vdpa_sim_net.o" >"$work/build/Kbuild"
	# CONFIG_DEBUG_INFO_BTF_MODULES= : no BTF for these modules, so no pahole needed.
	make -s -C "$hdr" M="$work/build" CONFIG_DEBUG_INFO_BTF_MODULES= -j"$(nproc)" modules >&2 ||
		{ echo "vdpa-sim: building the simulator modules failed" >&2; return 1; }
	rm -rf "$simdir"
	mkdir -p "$simdir"
	for f in $simmods; do cp "$work/build/$f.ko" "$simdir/"; done
	echo "$kdebver" >"$simdir/.complete"
	rm -rf "$work"
}

if [[ $(cat "$simdir/.complete" 2>/dev/null) != "$kdebver" ]]; then
	log "vdpa-sim: building vringh, vdpa_sim, vdpa_sim_net for $KVER ($kdebver)"
	debs=()
	vdpa_sim_build
fi
for m in $simmods; do
	hp_add_file "$simdir/$m.ko" "/lib/modules/$KVER/extra/$m.ko"
done
