#!/bin/bash
# make demo: the whole cycle on a generated two-socket host, never on this
# machine.  audit → apply → audit → report with conf/low-latency.ini plus
# 12 VFs on two SR-IOV ports for VMs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d /tmp/hostprep-demo.XXXXXX)
# node1 can only find 2 free 1G pages at runtime, as a fragmented host would.
tests/fakehost/mkhost.sh "$root" --cpus 16 --nodes 2 --limit 1:1048576:2
# Debian's grub layout, with a stand-in update-grub that hostprep runs chrooted in the fake root.
tests/fakehost/add-boot.sh "$root" grub
# PCI devices: two 82599 SR-IOV ports (ens1f0, ens1f1), a GPU, disks, an IOMMU.
tests/fakehost/add-pci.sh "$root"
{
	cat conf/low-latency.ini
	printf '\n; 12 VFs for VMs on the two ports (tests/fakehost/add-pci.sh)\n'
	printf '[sriov ens1f0]\nnumvfs = 8\nvf_driver = vfio-pci\n\n[sriov ens1f1]\nnumvfs = 4\nvf_driver = vfio-pci\n'
} > "$root/profile.ini"
chmod 0644 "$root/profile.ini"
run() {
	echo; echo "\$ hostprep --root $root -p profile.ini $*"
	set +e
	HOSTPREP_KMODEL_ROOT=$root LD_PRELOAD=$PWD/build/tests/libkmodel.so build/hostprep --root "$root" -p "$root/profile.ini" "$@"
	echo "(exit $?)"
	set -e
}
echo "fake host: $root (16 CPUs, 2 NUMA nodes, Debian grub, 2 SR-IOV ports; the test-only kernel model answers the writes)"
run audit
run apply
run audit
run report
echo; echo "The kernel arguments went to the grub drop-in hostprep owns:"
cat "$root/etc/default/grub.d/99-hostprep.cfg"
echo; echo "The fake host stays in $root; remove it with: rm -rf $root"
