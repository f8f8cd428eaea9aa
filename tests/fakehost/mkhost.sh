#!/bin/bash
# Generate a fake host tree for `hostprep --root`.  Everything the agent reads
# under /sys, /proc, /etc, /boot, /run and /var/lib is plain files here; the
# kernel's reactions to writes come from the test-only model (kmodel.c).
#
#   mkhost.sh ROOT [--cpus N] [--nodes N] [--vendor intel|amd] [--no-cpufreq]
#             [--governors "performance powersave"] [--governor powersave]
#             [--sizes "2048 1048576"] [--no-thp] [--thp madvise]
#             [--cmdline "..."] [--limit NODE:SIZE_KB:PAGES]... [--vmx|--no-vmx]
#             [--iommu-table dmar|ivrs|none|absent]
#
# ACPI tables under /sys/firmware/acpi/tables: DMAR (Intel VT-d) on an Intel
# host, IVRS (AMD-Vi) on an AMD one, unless --iommu-table says otherwise
# (none: tables but no IOMMU table, as with VT-d off in the firmware; absent: no
# /sys/firmware/acpi at all, as in an image prepared offline).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/cache.sh"
tree_cache "${BASH_SOURCE[0]}" "$@"

root=$1; shift
cpus=8 nodes=2 vendor=intel cpufreq=1 governors="performance powersave schedutil" governor=powersave
sizes="2048 1048576" thp=1 thp_mode=madvise cmdline="BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/sda1 ro quiet"
virt=vmx limits=() iommu_table=""
while [ $# -gt 0 ]; do
	case $1 in
	--cpus) cpus=$2; shift ;;
	--nodes) nodes=$2; shift ;;
	--vendor) vendor=$2; shift ;;
	--no-cpufreq) cpufreq=0 ;;
	--governors) governors=$2; shift ;;
	--governor) governor=$2; shift ;;
	--sizes) sizes=$2; shift ;;
	--no-thp) thp=0 ;;
	--thp) thp_mode=$2; shift ;;
	--cmdline) cmdline=$2; shift ;;
	--limit) limits+=("$2"); shift ;;
	--no-vmx) virt=none ;;
	--iommu-table) iommu_table=$2; shift ;;
	*) echo "mkhost: unknown option $1" >&2; exit 1 ;;
	esac
	shift
done

put() { [ -d "$root/${1%/*}" ] || mkdir -p "$root/${1%/*}"; printf '%s\n' "$2" > "$root/$1"; }

mkdir -p "$root"/{etc,boot,run,var/lib,dev,tmp,.kmodel}
[ "$vendor" = amd ] && { vid=AuthenticAMD model="AMD EPYC 7763 64-Core Processor"; [ $virt = vmx ] && virt=svm; } \
	|| { vid=GenuineIntel model="Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"; }
flags="fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc"
[ $virt != none ] && flags="$flags $virt"

# CPUs, spread over the nodes in contiguous blocks.
per_node=$(( (cpus + nodes - 1) / nodes ))
info=""
for ((c = 0; c < cpus; c++)); do
	info+="processor	: $c
vendor_id	: $vid
model name	: $model
physical id	: $(( c / per_node ))
flags		: $flags

"
	mkdir -p "$root/sys/devices/system/cpu/cpu$c/topology"
	put "sys/devices/system/cpu/cpu$c/online" 1
	if [ $cpufreq = 1 ]; then
		p=sys/devices/system/cpu/cpufreq/policy$c
		put $p/affected_cpus "$c"
		put $p/related_cpus "$c"
		put $p/scaling_available_governors "$governors"
		put $p/scaling_governor "$governor"
		put $p/scaling_driver intel_cpufreq
		ln -sfn ../cpufreq/policy$c "$root/sys/devices/system/cpu/cpu$c/cpufreq"
	fi
done
mkdir -p "$root/proc"; printf "%s" "$info" > "$root/proc/cpuinfo"
put sys/devices/system/cpu/possible "0-$((cpus - 1))"
put sys/devices/system/cpu/present "0-$((cpus - 1))"
put sys/devices/system/cpu/online "0-$((cpus - 1))"
put sys/devices/system/cpu/isolated ""
put sys/devices/system/cpu/nohz_full "(null)"

# NUMA nodes and hugepage pools.
mem_kb=$(( 16 * 1024 * 1024 ))
for ((n = 0; n < nodes; n++)); do
	first=$(( n * per_node )); last=$(( first + per_node - 1 )); [ $last -ge $cpus ] && last=$((cpus - 1))
	d=sys/devices/system/node/node$n
	put $d/cpulist "$first-$last"
	put $d/meminfo "Node $n MemTotal:       $mem_kb kB
Node $n MemFree:        $(( mem_kb - 1048576 )) kB"
	for s in $sizes; do
		for f in nr_hugepages free_hugepages surplus_hugepages; do put $d/hugepages/hugepages-${s}kB/$f 0; done
	done
done
put sys/devices/system/node/online "0-$((nodes - 1))"
put sys/devices/system/node/possible "0-$((nodes - 1))"
for s in $sizes; do
	for f in nr_hugepages free_hugepages resv_hugepages surplus_hugepages nr_overcommit_hugepages; do
		put sys/kernel/mm/hugepages/hugepages-${s}kB/$f 0
	done
done
for l in "${limits[@]}"; do
	IFS=: read -r node size pages <<<"$l"
	put ".kmodel/hugepages/node$node-${size}kB.max" "$pages"
done

if [ $thp = 1 ]; then
	e="always madvise never"; put sys/kernel/mm/transparent_hugepage/enabled "${e/$thp_mode/[$thp_mode]}"
	put sys/kernel/mm/transparent_hugepage/defrag "always defer defer+madvise [madvise] never"
fi

# ACPI tables: the signature is what the kernel, and hostprep, go by.
[ -z "$iommu_table" ] && { [ "$vendor" = amd ] && iommu_table=ivrs || iommu_table=dmar; }
if [ "$iommu_table" != absent ]; then
	for t in APIC FACP MCFG $( [ "$iommu_table" = dmar ] && echo DMAR; [ "$iommu_table" = ivrs ] && echo IVRS ); do
		put sys/firmware/acpi/tables/$t "$t"
	done
fi

put proc/cmdline "$cmdline"
put proc/meminfo "MemTotal:       $(( mem_kb * nodes )) kB
MemFree:        $(( mem_kb * nodes - 2097152 )) kB
HugePages_Total:       0
Hugepagesize:       2048 kB"
put proc/sys/kernel/osrelease "6.1.0-13-amd64"
# Interrupt chips without the IR- prefix: no interrupt remapping (add-pci.sh turns it on with the IOMMU).
put proc/interrupts "            CPU0
   0:         44   IO-APIC    2-edge      timer
  24:          0   PCI-MSI 65536-edge      ahci[0000:00:1f.2]"
put proc/sys/kernel/random/boot_id "6b1d2c1e-0000-4000-8000-000000000001"
put proc/mounts "/dev/sda1 / ext4 rw,relatime 0 0
/dev/sda2 /boot ext4 rw,relatime 0 0
proc /proc proc rw 0 0
sysfs /sys sysfs rw 0 0"
put proc/swaps "Filename				Type		Size		Used		Priority"
put proc/net/route "Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT"
put proc/net/ipv6_route ""
mkdir -p "$root/sys/kernel/iommu_groups" "$root/sys/bus/pci/devices" "$root/sys/bus/pci/drivers" "$root/sys/class/net"

kvm=kvm_intel; [ "$vendor" = amd ] && kvm=kvm_amd
put sys/module/kvm/refcnt 1
put sys/module/$kvm/parameters/nested N
put sys/module/$kvm/refcnt 0
[ $virt != none ] && : > "$root/dev/kvm"
exit 0
