/* CPU sets and the kernel's cpu-list syntax ("0-3,8-11", "0-15:2/4", "all", "N"). */
#ifndef HOSTPREP_CPULIST_H
#define HOSTPREP_CPULIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPUSET_MAX 8192

struct cpuset {
	uint64_t bits[CPUSET_MAX / 64];
};

/* nr_cpus gives meaning to "all" and "N" (last CPU); 0 refuses them.
 * On error, err (may be NULL) holds a reason. */
int cpuset_parse_n(struct cpuset *set, const char *s, unsigned nr_cpus, char *err, size_t err_len);
static inline int cpuset_parse(struct cpuset *set, const char *s, char *err)
{
	return cpuset_parse_n(set, s, 0, err, err ? 128 : 0);
}
int cpuset_format(const struct cpuset *set, char *buf, size_t len);

void cpuset_zero(struct cpuset *set);
void cpuset_set(struct cpuset *set, unsigned cpu);
bool cpuset_isset(const struct cpuset *set, unsigned cpu);
unsigned cpuset_count(const struct cpuset *set);
bool cpuset_is_subset(const struct cpuset *sub, const struct cpuset *super);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
/* Highest CPU + 1, 0 when empty. */
unsigned cpuset_span(const struct cpuset *set);
/* cpu names the loop variable: it cannot be parenthesized. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define cpuset_foreach(cpu, set) \
	for (unsigned cpu = 0; cpu < CPUSET_MAX; cpu++) if (cpuset_isset((set), cpu))
/* NOLINTEND(bugprone-macro-parentheses) */

#endif
