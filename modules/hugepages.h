/* [hugepages]: shared with the kernel command-line module, which turns
 * "boot = yes" into hugepagesz=/hugepages= arguments. */
#ifndef HOSTPREP_MODULE_HUGEPAGES_H
#define HOSTPREP_MODULE_HUGEPAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

#define HUGEPAGES_NODE_ANY (-1)

struct hugepages_request {
	uint64_t size_kb;
	int node;                  /* HUGEPAGES_NODE_ANY: spread over the nodes */
	uint64_t pages;
	const struct setting *setting;
};

struct hugepages_config {
	struct hugepages_request req[64];
	size_t n_req;
	bool boot;
	uint64_t default_kb;       /* 0: not set */
	const struct setting *boot_setting, *default_setting;
};

/* The [hugepages] config of this run, NULL when the profile has none. */
const struct hugepages_config *hugepages_config(struct ctx *ctx);

#endif
