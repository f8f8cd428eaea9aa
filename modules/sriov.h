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

/* Records: one line per PF hostprep set, in /var/lib/hostprep/sriov.
 * "ADDR N": hostprep set N VFs.  "ADDR N was M": a change from M (the count
 * hostprep owned before, 0 for none) to N was under way when a run stopped;
 * either count is hostprep's.  The line is written with the intent before
 * sriov_numvfs is, and settled to what the kernel holds after the write. */
struct sriov_record {
	char addr[PCI_ADDR_MAX];
	unsigned count, was;
	bool unfinished;
};

/* sriov-apply.c */
int sriov_record_parse(const char *line, struct sriov_record *ret);
/* The record of pf among the lines of the record file: 0, or -ENOENT. */
int sriov_record_find(char *const *lines, const char *pf, struct sriov_record *ret);
/* count VFs on the PF are hostprep's by this record. */
bool sriov_record_owns(const struct sriov_record *r, unsigned count);
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
