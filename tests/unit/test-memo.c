/* The snapshot's table of files read (agent/snapshot.c): keys by kind and
 * path (common path prefixes stored as one letter), records and contents in
 * an arena, lists outside it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "snapshot.h"

static struct memo_value *keep_read(struct hr_memo *m, const char *path, const char *data)
{
	bool fresh = false;
	struct memo_value *v = memo_slot(m, MEMO_READ, path, &fresh);

	assert_non_null(v);
	assert_true(fresh);
	memo_keep(m, v, 0, data, NULL, 0);
	return v;
}

static const char *lookup(struct hr_memo *m, enum memo_kind kind, const char *path)
{
	bool fresh = true;
	struct memo_value *v = memo_slot(m, kind, path, &fresh);

	assert_non_null(v);
	assert_false(fresh);
	assert_int_equal(v->r, 0);
	return v->data;
}

/* The same rest of a path under two prefixes, and a path that is nothing but
 * a prefix, are different keys; so is one path under two kinds. */
static void test_keys_stay_apart(void **state)
{
	struct hr_memo m = { 0 };
	bool fresh = false;
	struct memo_value *v;

	(void)state;
	keep_read(&m, "/sys/bus/pci/devices/0000:01:00.0/driver", "devices");
	keep_read(&m, "/sys/bus/pci/drivers/0000:01:00.0/driver", "drivers");
	keep_read(&m, "/sys/devices/system/cpu/0000:01:00.0/driver", "cpu");
	keep_read(&m, "/elsewhere/0000:01:00.0/driver", "elsewhere");
	keep_read(&m, "0000:01:00.0/driver", "relative");
	keep_read(&m, "/proc/", "just the prefix");
	keep_read(&m, "/proc", "shorter than the prefix");
	assert_string_equal(lookup(&m, MEMO_READ, "/sys/bus/pci/devices/0000:01:00.0/driver"), "devices");
	assert_string_equal(lookup(&m, MEMO_READ, "/sys/bus/pci/drivers/0000:01:00.0/driver"), "drivers");
	assert_string_equal(lookup(&m, MEMO_READ, "/sys/devices/system/cpu/0000:01:00.0/driver"), "cpu");
	assert_string_equal(lookup(&m, MEMO_READ, "/elsewhere/0000:01:00.0/driver"), "elsewhere");
	assert_string_equal(lookup(&m, MEMO_READ, "0000:01:00.0/driver"), "relative");
	assert_string_equal(lookup(&m, MEMO_READ, "/proc/"), "just the prefix");
	assert_string_equal(lookup(&m, MEMO_READ, "/proc"), "shorter than the prefix");
	/* Another kind of the same path is a slot of its own, not yet known. */
	v = memo_slot(&m, MEMO_LINK, "/sys/bus/pci/devices/0000:01:00.0/driver", &fresh);
	assert_non_null(v);
	assert_true(fresh);
	assert_int_equal(v->r, -EAGAIN);
	memo_clear(&m);
}

/* Thousands of entries through several table growths and arena blocks: each
 * found with its own content, every record aligned for its pointers. */
static void test_many_entries_survive_growth(void **state)
{
	struct hr_memo m = { 0 };
	char path[128], data[64];

	(void)state;
	for (unsigned i = 0; i < 20000; i++) {
		struct memo_value *v;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/0000:%02x:%02x.%u/iommu_group", i / 256, i % 256 / 8,
			 i % 8);
		snprintf(data, sizeof(data), "../../../kernel/iommu_groups/%u%s", i, i % 3 ? "" : "-with-a-longer-tail");
		v = keep_read(&m, path, data);
		assert_int_equal((uintptr_t)v % _Alignof(struct memo_value), 0);
	}
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/0000:%02x:%02x.%u/iommu_group", i / 256, i % 256 / 8,
			 i % 8);
		snprintf(data, sizeof(data), "../../../kernel/iommu_groups/%u%s", i, i % 3 ? "" : "-with-a-longer-tail");
		assert_string_equal(lookup(&m, MEMO_READ, path), data);
	}
	memo_clear(&m);
}

/* Each kind keeps what it is for; a failure is kept as its error; content
 * too big to keep leaves the slot unknown (read again); clearing frees lists
 * and nothing else (valgrind and ASan runs of this test check that). */
static void test_kinds_errors_and_limits(void **state)
{
	struct hr_memo m = { 0 };
	char *const entries[] = { "policy0", "policy1", NULL };
	char *big = malloc(70 * 1024);
	bool fresh = false;
	struct memo_value *v;

	(void)state;
	assert_non_null(big);
	v = memo_slot(&m, MEMO_LIST, "/sys/devices/system/cpu/cpufreq", &fresh);
	memo_keep(&m, v, 0, NULL, entries, 0);
	v = memo_slot(&m, MEMO_STAT, "/sys/devices/system/cpu/cpufreq", &fresh);
	memo_keep(&m, v, 0, NULL, NULL, 040755);
	v = memo_slot(&m, MEMO_READ, "/sys/kernel/mm/transparent_hugepage/enabled", &fresh);
	memo_keep(&m, v, -EIO, NULL, NULL, 0);
	memset(big, 'x', 70 * 1024 - 1);
	big[70 * 1024 - 1] = '\0';
	v = memo_slot(&m, MEMO_READ, "/proc/cpuinfo", &fresh);
	memo_keep(&m, v, 0, big, NULL, 0);

	v = memo_slot(&m, MEMO_LIST, "/sys/devices/system/cpu/cpufreq", &fresh);
	assert_false(fresh);
	assert_string_equal(v->list[0], "policy0");
	assert_string_equal(v->list[1], "policy1");
	assert_null(v->list[2]);
	v = memo_slot(&m, MEMO_STAT, "/sys/devices/system/cpu/cpufreq", &fresh);
	assert_int_equal(v->mode, 040755);
	v = memo_slot(&m, MEMO_READ, "/sys/kernel/mm/transparent_hugepage/enabled", &fresh);
	assert_int_equal(v->r, -EIO);
	v = memo_slot(&m, MEMO_READ, "/proc/cpuinfo", &fresh);
	assert_false(fresh);
	assert_int_equal(v->r, -EAGAIN);
	free(big);
	memo_clear(&m);
	assert_null(m.tab);
	assert_int_equal(m.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_stay_apart),
		cmocka_unit_test(test_many_entries_survive_growth),
		cmocka_unit_test(test_kinds_errors_and_limits),
	};

	return cmocka_run_group_tests_name("memo", tests, NULL, NULL);
}
