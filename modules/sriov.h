/* [sriov SELECTOR]: shared by the module (sriov.c: profile, plan, report)
 * and its apply side (sriov-apply.c). */
#ifndef HOSTPREP_MODULE_SRIOV_H
#define HOSTPREP_MODULE_SRIOV_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "pci.h"

#define SRIOV_STATE_NAME "sriov"

enum reset_policy { RESET_IF_UNUSED, RESET_NEVER, RESET_ALWAYS };

/* What an apply function needs about its PF. */
struct pf_job {
	char addr[PCI_ADDR_MAX];
	unsigned want;
	enum reset_policy reset;
	unsigned timeout_s;
	char vf_driver[PCI_DRIVER_MAX];
	bool dropped;
};

/* sriov-apply.c */
/* Why the VFs may not be destroyed now (in buf), or NULL. */
const char *sriov_destroy_refusal(struct ctx *ctx, const struct pf_job *j, unsigned cur, char *buf, size_t len);
/* "2x vfio-pci, 1x none": the drivers of pf's VFs (malloc'ed), NULL on error. */
char *sriov_vf_driver_summary(struct ctx *ctx, const char *pf);
/* The apply functions of the "ADDR numvfs", "ADDR autoprobe" and "ADDR VF
 * driver" actions (a->data: a pf_job). */
int sriov_numvfs_apply(struct ctx *ctx, struct action *a);
int sriov_autoprobe_apply(struct ctx *ctx, struct action *a);
int sriov_vf_driver_apply(struct ctx *ctx, struct action *a);
/* VFs for vfio-pci without an IOMMU group, while the IOMMU argument of this
 * profile waits for the next boot: sets a (the VF driver action) to
 * pending-reboot and returns true. */
bool sriov_vfs_wait_for_iommu(struct ctx *ctx, struct action *a, const struct pf_job *j);

#endif
