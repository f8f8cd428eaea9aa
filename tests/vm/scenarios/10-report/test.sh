# `hostprep report --json` on the real kernel, every field cross-checked against the
# guest's own files (read here with busybox, not with hostprep).
J=$OUT/report.json
hp report -j >"$J" 2>"$OUT/report.err"
check_eq exit "$?" 0 "hostprep report -j exit code ($(head -c 200 "$OUT/report.err"))"
jvars "$J" '.capabilities as $c | {
	json: (.command == "report" and (.actions | length) == 0 and .failed == false),
	vendor: $c.cpu.vendor, model: $c.cpu.model, virt: ($c.cpu.virtualization // "none"),
	online: $c.cpu.online,
	kvm_dev: $c.kvm.dev_kvm, kvm_module: ($c.kvm.module // ""), kvm_nested: $c.kvm.nested,
	iommu_enabled: $c.iommu.enabled, iommu_groups: $c.iommu.groups, iommu_ir: $c.iommu.interrupt_remapping,
	nodes: ([$c.numa[].node] | map(tostring) | join(" ")),
	sizes: ([$c.hugepages[].size_kb] | sort | map(tostring) | join(" ")),
	hp_default: $c.hugepages_default,
	thp_enabled: $c.thp.enabled, thp_defrag: $c.thp.defrag,
	release: $c.kernel.release, cmdline: $c.kernel.cmdline
} + ([$c.numa[] | {"cpus\(.node)": .cpus, "mem\(.node)": .memory_kb}] | add)
  + ([$c.hugepages[] | {"total\(.size_kb)": .total, "free\(.size_kb)": .free,
	"nodes\(.size_kb)": ([.nodes[] | "\(.node):\(.total)"] | join(" "))}] | add)'
check_eq json "$j_json" true "one JSON document with command \"report\", no actions, not failed"

# CPU: vendor, model and the virtualization extension the guest's CPU really shows
# (QEMU's TCG "max" CPU is an AMD one with svm: do not assume none)
cpuinfo() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -n 1; }
check_eq cpu-vendor "$j_vendor" "$(cpuinfo vendor_id)"
check_eq cpu-model "$j_model" "$(cpuinfo 'model name')"
case " $(cpuinfo flags) " in
*" vmx "*) virt=vmx ;;
*" svm "*) virt=svm ;;
*) virt=none ;;
esac
check_eq cpu-virtualization "$j_virt" "$virt"
check_eq cpu-online "$j_online" "$(cat /sys/devices/system/cpu/online)"

# KVM: /dev/kvm and the vendor module the coldplug loaded
if [ -c /dev/kvm ]; then kvm=true; else kvm=false; fi
check_eq kvm-dev "$j_kvm_dev" "$kvm"
mod=$(sed -n 's/^\(kvm_intel\|kvm_amd\) .*/\1/p' /proc/modules)
check_eq kvm-module "$j_kvm_module" "$mod"
if [ -n "$mod" ]; then
	check_eq kvm-nested "$j_kvm_nested" "$(cat /sys/module/$mod/parameters/nested)"
fi

# IOMMU: on (intel_iommu=on), with the kernel's group count
if [ -n "$(ls /sys/class/iommu 2>/dev/null)" ]; then on=true; else on=false; fi
check_eq iommu-enabled "$j_iommu_enabled" "$on"
check_eq iommu-groups "$j_iommu_groups" "$(ls /sys/kernel/iommu_groups | wc -l)"
# interrupt remapping: the kernel's interrupt chips carry the IR- prefix
if grep -q ' IR-' /proc/interrupts; then ir=true; else ir=false; fi
check_eq iommu-interrupt-remapping "$j_iommu_ir" "$ir"

# NUMA: every node with its CPUs and memory
nodes=$(cd /sys/devices/system/node && ls -d node[0-9]* | sed 's/node//' | sort -n)
check_eq numa-nodes "$j_nodes" "$(echo $nodes)"
for n in $nodes; do
	d=/sys/devices/system/node/node$n
	eval "cpus=\$j_cpus$n mem=\$j_mem$n"
	check_eq "numa-node$n-cpus" "$cpus" "$(cat $d/cpulist)"
	check_eq "numa-node$n-memory" "$mem" "$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' $d/meminfo)"
done

# hugepages: every size, total and per node, and the default size
sizes=$(ls /sys/kernel/mm/hugepages | sed 's/hugepages-\([0-9]*\)kB/\1/' | sort -n)
check_eq hugepage-sizes "$j_sizes" "$(echo $sizes)"
for kb in $sizes; do
	h=/sys/kernel/mm/hugepages/hugepages-${kb}kB
	eval "total=\$j_total$kb free=\$j_free$kb pernode=\$j_nodes$kb"
	check_eq "hugepages-${kb}kB-total" "$total" "$(cat $h/nr_hugepages)"
	check_eq "hugepages-${kb}kB-free" "$free" "$(cat $h/free_hugepages)"
	want=
	for n in $nodes; do
		want="$want $n:$(cat /sys/devices/system/node/node$n/hugepages/hugepages-${kb}kB/nr_hugepages)"
	done
	check_eq "hugepages-${kb}kB-per-node" "$pernode" "${want# }"
done
kb=$(sed -n 's/^Hugepagesize: *\([0-9]*\) kB/\1/p' /proc/meminfo)
case $kb in 2048) def=2M ;; 1048576) def=1G ;; *) def=${kb}k ;; esac
check_eq hugepages-default "$j_hp_default" "$def"

# THP modes
check_eq thp-enabled "$j_thp_enabled" "$(selected /sys/kernel/mm/transparent_hugepage/enabled)"
check_eq thp-defrag "$j_thp_defrag" "$(selected /sys/kernel/mm/transparent_hugepage/defrag)"

# kernel release and command line
check_eq kernel-release "$j_release" "$(uname -r)"
check_eq kernel-cmdline "$j_cmdline" "$(cat /proc/cmdline)"

# the text form works too and names the same release
text=$(hp report 2>&1)
check text "hostprep report (text) failed or does not name the kernel release: $(echo "$text" | head -n 3)" \
	sh -c 'echo "$1" | grep -qF "$2"' - "$text" "$(uname -r)"
# its checklist agrees with the kernel: the IOMMU is on (intel_iommu=on), /dev/kvm as found
check text-iommu "the checklist does not pass the IOMMU: $(echo "$text" | grep 'IOMMU active')" \
	sh -c 'echo "$1" | grep -qE "^  IOMMU active.* : PASS"' - "$text"
if [ "$kvm" = true ]; then want=PASS; else want=FAIL; fi
check text-kvm "the checklist says $(echo "$text" | grep '/dev/kvm *:'), /dev/kvm present: $kvm" \
	sh -c 'echo "$1" | grep -qE "^  /dev/kvm +: $2"' - "$text" "$want"
