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
/* CPUs first to last, both included. */
void cpuset_set_range(struct cpuset *set, unsigned first, unsigned last);
bool cpuset_isset(const struct cpuset *set, unsigned cpu);
/* set |= other */
void cpuset_or(struct cpuset *set, const struct cpuset *other);
unsigned cpuset_count(const struct cpuset *set);
bool cpuset_is_subset(const struct cpuset *sub, const struct cpuset *super);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
/* Highest CPU + 1, 0 when empty. */
unsigned cpuset_span(const struct cpuset *set);

/* The first CPU >= from that is set (cpuset_next) or clear (cpuset_next_clear),
 * CPUSET_MAX when there is none: a word at a time, not a bit at a time. */
static inline unsigned cpuset_scan(const struct cpuset *set, unsigned from, uint64_t flip)
{
	size_t i = from / 64;
	uint64_t w;

	if (from >= CPUSET_MAX)
		return CPUSET_MAX;
	w = (set->bits[i] ^ flip) & (~UINT64_C(0) << (from % 64));
	while (!w) {
		if (++i == CPUSET_MAX / 64)
			return CPUSET_MAX;
		w = set->bits[i] ^ flip;
	}
	return (unsigned)(i * 64 + (size_t)__builtin_ctzll(w));
}
static inline unsigned cpuset_next(const struct cpuset *set, unsigned from)
{
	return cpuset_scan(set, from, 0);
}
static inline unsigned cpuset_next_clear(const struct cpuset *set, unsigned from)
{
	return cpuset_scan(set, from, ~UINT64_C(0));
}
/* cpu names the loop variable: it cannot be parenthesized. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define cpuset_foreach(cpu, set) \
	for (unsigned cpu = cpuset_next((set), 0); cpu < CPUSET_MAX; cpu = cpuset_next((set), cpu + 1))
/* NOLINTEND(bugprone-macro-parentheses) */

#endif
