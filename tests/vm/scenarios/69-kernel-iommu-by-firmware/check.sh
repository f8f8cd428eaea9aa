check dmar-table "the guest has no /sys/firmware/acpi/tables/DMAR" test -e /sys/firmware/acpi/tables/DMAR
jvars "$OUT/audit.json" '{vendor: .capabilities.cpu.vendor, table: .capabilities.iommu.firmware_table,
	active: .capabilities.iommu.active, units: (.capabilities.iommu.units | join(" ")),
	args: ([.actions[] | select(.module == "kernel") | .desired + "=" + .state] | join(" "))}'
check_eq cpu-vendor "$j_vendor" AuthenticAMD "the point of this scenario: an AMD CPU"
check_eq firmware-table "$j_table" DMAR
check_eq active "$j_active" intel-vt-d
check_eq units "$j_units" "$(ls /sys/class/iommu | tr '\n' ' ' | sed 's/ $//')"
check_eq arguments "$j_args" "intel_iommu=on=ok iommu=pt=ok"
