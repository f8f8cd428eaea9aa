t() { read -r a _ </proc/uptime; echo "T $a $*"; }
t start
find /sys/kernel/mm/hugepages /sys/kernel/mm/transparent_hugepage \
			/sys/devices/system/node/ /sys/devices/system/cpu/cpufreq \
			/sys/module/*/parameters -type f -perm -u=rw -exec grep -H '' {} + >/dev/null 2>&1 ; t find-sys
		for f in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor \
			/proc/sys/vm/nr_hugepages /proc/sys/vm/nr_overcommit_hugepages; do
			[ -f "$f" ] && grep -H '' "$f"
		done >/dev/null; t procsys
		for d in /sys/bus/pci/devices/*; do
			for f in sriov_numvfs sriov_drivers_autoprobe driver_override; do
				[ -f "$d/$f" ] && grep -H '' "$d/$f"
			done
			echo "$d/driver:$(basename "$(readlink "$d/driver")")"
		done >/dev/null; t pci
		ls -1 /sys/bus/vdpa/devices 2>/dev/null | sed 's|^|vdpa device:|' >/dev/null; t vdpa
		sed 's/ .*//; s/^/module:/' /proc/modules >/dev/null; t modules
		find /etc /var/lib /boot /run -path /run/vm -prune -o -type f ! -name '*.lock' \
			-exec md5sum {} + 2>/dev/null | sed 's/^\([^ ]*\)  \(.*\)/\2:md5 \1/' >/dev/null; t md5
ls -l /sys/bus/pci/devices/*/driver; t ls-driver
pass debug
