/* The modules, in the order they plan and apply.  Adding a feature is one
 * file in modules/ and one line here. */
#include <stddef.h>

#include "engine.h"

extern const struct module module_system, module_hugepages, module_thp, module_cpu;
extern const struct module module_kernel, module_kvm;
extern const struct module module_sriov, module_vfio;
extern const struct module module_vdpa;
extern const struct module module_export;

const struct module *const modules[] = {
	&module_system,        /* report only: CPU, virtualization, IOMMU, NUMA, kernel */
	&module_kernel,        /* first: [hugepages] boot = yes relies on it */
	&module_hugepages,
	&module_thp,
	&module_cpu,
	&module_kvm,
	&module_sriov,         /* PCI: VFs first ... */
	&module_vfio,          /* ... then vfio-pci binding, VFs included */
	&module_vdpa,          /* after sriov/vfio: VFs can be management devices */
	&module_export,        /* last: exports what every other module left */
	NULL,
};
