#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpulist.h"

void cpuset_zero(struct cpuset *set) { memset(set, 0, sizeof(*set)); }

void cpuset_set(struct cpuset *set, unsigned cpu)
{
	if (cpu < CPUSET_MAX)
		set->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

void cpuset_set_range(struct cpuset *set, unsigned first, unsigned last)
{
	if (last >= CPUSET_MAX)
		last = CPUSET_MAX - 1;
	while (first <= last) {
		unsigned end = first | 63;   /* last bit of first's word */
		uint64_t mask = ~UINT64_C(0) << (first % 64);

		if (end > last) {
			mask &= ~UINT64_C(0) >> (63 - last % 64);
			end = last;
		}
		set->bits[first / 64] |= mask;
		first = end + 1;
	}
}

void cpuset_or(struct cpuset *set, const struct cpuset *other)
{
	for (size_t i = 0; i < CPUSET_MAX / 64; i++)
		set->bits[i] |= other->bits[i];
}

bool cpuset_isset(const struct cpuset *set, unsigned cpu)
{
	return cpu < CPUSET_MAX && (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned cpuset_count(const struct cpuset *set)
{
	unsigned n = 0;

	for (size_t i = 0; i < CPUSET_MAX / 64; i++)
		n += (unsigned)__builtin_popcountll(set->bits[i]);
	return n;
}

bool cpuset_is_subset(const struct cpuset *sub, const struct cpuset *super)
{
	for (size_t i = 0; i < CPUSET_MAX / 64; i++)
		if (sub->bits[i] & ~super->bits[i])
			return false;
	return true;
}

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

unsigned cpuset_span(const struct cpuset *set)
{
	for (size_t i = CPUSET_MAX / 64; i-- > 0;)
		if (set->bits[i])
			return (unsigned)(i * 64 + 64 - (size_t)__builtin_clzll(set->bits[i]));
	return 0;
}

#define FAIL(...) do { if (err) snprintf(err, err_len, __VA_ARGS__); return -EINVAL; } while (0)

static int parse_cpu(const char **p, unsigned nr_cpus, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (**p == 'N') {
		if (!nr_cpus)
			return -EINVAL;
		(*p)++;
		*ret = nr_cpus - 1;
		return 0;
	}
	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v >= CPUSET_MAX)
		return -ERANGE;
	*p = end;
	*ret = (unsigned)v;
	return 0;
}

int cpuset_parse_n(struct cpuset *set, const char *s, unsigned nr_cpus, char *err, size_t err_len)
{
	const char *p = s;

	cpuset_zero(set);
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		FAIL("empty CPU list");
	if (strcmp(p, "all") == 0) {
		if (!nr_cpus)
			FAIL("'all' needs the host's CPU count");
		cpuset_set_range(set, 0, nr_cpus - 1);
		return 0;
	}
	for (;;) {
		unsigned a, b, used = 1, group = 1;

		if (parse_cpu(&p, nr_cpus, &a) < 0)
			FAIL("bad CPU number at '%.16s'", p);
		b = a;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, nr_cpus, &b) < 0)
				FAIL("bad range end at '%.16s'", p);
			if (b < a)
				FAIL("range %u-%u runs backwards", a, b);
			if (*p == ':') {
				p++;
				if (parse_cpu(&p, 0, &used) < 0 || *p != '/')
					FAIL("bad group syntax, expected ':used/group'");
				p++;
				if (parse_cpu(&p, 0, &group) < 0 || used == 0 || group == 0 || used > group)
					FAIL("bad group sizes, need 0 < used <= group");
			}
		}
		if (used == group)
			cpuset_set_range(set, a, b);
		else
			for (unsigned c = a; c <= b; c++)
				if ((c - a) % group < used)
					cpuset_set(set, c);
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return 0;
		if (*p != ',')
			FAIL("unexpected '%c' in CPU list", *p);
		p++;
		while (isspace((unsigned char)*p))
			p++;
	}
}

int cpuset_format(const struct cpuset *set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned start = cpuset_next(set, 0); start < CPUSET_MAX;) {
		unsigned end = cpuset_next_clear(set, start) - 1;   /* last of the run */
		int n;

		if (start == end)
			n = snprintf(buf + off, len - off, "%s%u", off ? "," : "", start);
		else
			n = snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "", start, end);
		if (n < 0 || (size_t)n >= len - off)
			return -ENAMETOOLONG;
		off += (size_t)n;
		start = cpuset_next(set, end + 1);
	}
	return 0;
}
