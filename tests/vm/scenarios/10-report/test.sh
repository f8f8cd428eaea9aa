# `hostprep report --json` on the real kernel, every field cross-checked against the
# guest's own files (read here with busybox, not with hostprep).
J=$OUT/report.json
hp report -j >"$J" 2>"$OUT/report.err"
check_eq exit "$?" 0 "hostprep report -j exit code ($(head -c 200 "$OUT/report.err"))"
check json "not one JSON document with command \"report\" and no actions" \
	/usr/bin/jq -e '.command == "report" and (.actions | length) == 0 and .failed == false' "$J"
j() { jqr "$1" "$J"; }

# CPU: vendor, model and the virtualization extension the guest's CPU really shows
# (QEMU's TCG "max" CPU is an AMD one with svm: do not assume none)
cpuinfo() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -n 1; }
check_eq cpu-vendor "$(j .capabilities.cpu.vendor)" "$(cpuinfo vendor_id)"
check_eq cpu-model "$(j .capabilities.cpu.model)" "$(cpuinfo 'model name')"
case " $(cpuinfo flags) " in
*" vmx "*) virt=vmx ;;
*" svm "*) virt=svm ;;
*) virt=none ;;
esac
check_eq cpu-virtualization "$(j '.capabilities.cpu.virtualization // "none"')" "$virt"
check_eq cpu-online "$(j .capabilities.cpu.online)" "$(cat /sys/devices/system/cpu/online)"

# KVM: /dev/kvm and the vendor module the coldplug loaded
if [ -c /dev/kvm ]; then kvm=true; else kvm=false; fi
check_eq kvm-dev "$(j .capabilities.kvm.dev_kvm)" "$kvm"
mod=$(sed -n 's/^\(kvm_intel\|kvm_amd\) .*/\1/p' /proc/modules)
check_eq kvm-module "$(j '.capabilities.kvm.module // ""')" "$mod"
if [ -n "$mod" ]; then
	check_eq kvm-nested "$(j .capabilities.kvm.nested)" "$(cat /sys/module/$mod/parameters/nested)"
fi

# IOMMU: on (intel_iommu=on), with the kernel's group count
if [ -n "$(ls /sys/class/iommu 2>/dev/null)" ]; then on=true; else on=false; fi
check_eq iommu-enabled "$(j .capabilities.iommu.enabled)" "$on"
check_eq iommu-groups "$(j .capabilities.iommu.groups)" "$(ls /sys/kernel/iommu_groups | wc -l)"

# NUMA: every node with its CPUs and memory
nodes=$(cd /sys/devices/system/node && ls -d node[0-9]* | sed 's/node//' | sort -n)
check_eq numa-nodes "$(j '[.capabilities.numa[].node] | map(tostring) | join(" ")')" "$(echo $nodes)"
for n in $nodes; do
	d=/sys/devices/system/node/node$n
	check_eq "numa-node$n-cpus" "$(j ".capabilities.numa[] | select(.node == $n) | .cpus")" "$(cat $d/cpulist)"
	check_eq "numa-node$n-memory" "$(j ".capabilities.numa[] | select(.node == $n) | .memory_kb")" \
		"$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' $d/meminfo)"
done

# hugepages: every size, total and per node, and the default size
sizes=$(ls /sys/kernel/mm/hugepages | sed 's/hugepages-\([0-9]*\)kB/\1/' | sort -n)
check_eq hugepage-sizes "$(j '[.capabilities.hugepages[].size_kb] | sort | map(tostring) | join(" ")')" "$(echo $sizes)"
for kb in $sizes; do
	h="hugepages-${kb}kB"
	sel=".capabilities.hugepages[] | select(.size_kb == $kb)"
	check_eq "hugepages-${kb}kB-total" "$(j "$sel | .total")" "$(cat /sys/kernel/mm/hugepages/$h/nr_hugepages)"
	check_eq "hugepages-${kb}kB-free" "$(j "$sel | .free")" "$(cat /sys/kernel/mm/hugepages/$h/free_hugepages)"
	got= want=
	for n in $nodes; do
		got="$got $n:$(j "$sel | .nodes[] | select(.node == $n) | .total")"
		want="$want $n:$(cat /sys/devices/system/node/node$n/hugepages/$h/nr_hugepages)"
	done
	check_eq "hugepages-${kb}kB-per-node" "$got" "$want"
done
kb=$(sed -n 's/^Hugepagesize: *\([0-9]*\) kB/\1/p' /proc/meminfo)
case $kb in 2048) def=2M ;; 1048576) def=1G ;; *) def=${kb}k ;; esac
check_eq hugepages-default "$(j .capabilities.hugepages_default)" "$def"

# THP modes
check_eq thp-enabled "$(j .capabilities.thp.enabled)" "$(selected /sys/kernel/mm/transparent_hugepage/enabled)"
check_eq thp-defrag "$(j .capabilities.thp.defrag)" "$(selected /sys/kernel/mm/transparent_hugepage/defrag)"

# kernel release and command line
check_eq kernel-release "$(j .capabilities.kernel.release)" "$(uname -r)"
check_eq kernel-cmdline "$(j .capabilities.kernel.cmdline)" "$(cat /proc/cmdline)"

# the text form works too and says the same release
text=$(hp report 2>&1)
check text "hostprep report (text) failed or does not name the kernel release: $(echo "$text" | head -n 3)" \
	sh -c 'echo "$1" | grep -qF "$2"' - "$text" "$(uname -r)"
