/* sysfs value readers (agent/util.c, used by agent/hostroot.c): numbers,
 * bracketed choices, CPU lists as the kernel prints them. */
#include <stdio.h>

#include "cpulist.h"
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), sel[64], all[512];
	static struct cpuset set;
	uint64_t v;

	if (sysfs_parse_u64(s, &v) == 0)
		FUZZ_ASSERT(s[0] >= '0' && s[0] <= '9');
	if (sysfs_parse_choice(s, sel, sizeof(sel), all, sizeof(all)) == 0) {
		FUZZ_ASSERT(strlen(sel) < sizeof(sel) && !strchr(sel, ']'));
		FUZZ_ASSERT(strlen(all) < sizeof(all) && !strchr(all, '[') && !strchr(all, ']'));
	}
	(void)sysfs_parse_choice(s, NULL, 0, all, 1);
	(void)cpuset_parse(&set, s, NULL);
	free(s);
	return 0;
}
