/* CPU lists (agent/cpulist.c): "0-3,8-11", "0-15:2/4", "all", "N".  A list
 * that parses formats to a list that parses to the same set. */
#include <stdio.h>

#include "cpulist.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cpuset set, again;
	char err[128], buf[65536];
	unsigned nr_cpus;
	char *s;

	if (size < 2)
		return 0;
	nr_cpus = ((unsigned)data[0] << 8 | data[1]) % (CPUSET_MAX + 2);
	s = fuzz_string(data + 2, size - 2);
	if (cpuset_parse_n(&set, s, nr_cpus, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(cpuset_format(&set, buf, sizeof(buf)) >= 0);
		FUZZ_ASSERT(cpuset_parse_n(&again, buf, 0, err, sizeof(err)) == 0 || cpuset_count(&set) == 0);
		if (cpuset_count(&set))
			FUZZ_ASSERT(cpuset_equal(&set, &again));
		FUZZ_ASSERT(cpuset_span(&set) <= CPUSET_MAX);
		FUZZ_ASSERT(!nr_cpus || cpuset_span(&set) <= nr_cpus || cpuset_span(&set) <= CPUSET_MAX);
	} else {
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)));
	}
	free(s);
	return 0;
}
