/* Pure parsers: CPU lists, sizes, booleans, ranges, bracketed choices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpulist.h"
#include "hostroot.h"
#include "util.h"

static void assert_cpulist(const char *in, unsigned nr, const char *want)
{
	struct cpuset s;
	char err[128] = "", out[256];

	assert_int_equal(cpuset_parse_n(&s, in, nr, err, sizeof(err)), 0);
	assert_int_equal(cpuset_format(&s, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void assert_cpulist_bad(const char *in, unsigned nr, const char *why)
{
	struct cpuset s;
	char err[128] = "";

	assert_int_equal(cpuset_parse_n(&s, in, nr, err, sizeof(err)), -22);
	assert_non_null(strstr(err, why));
}

static void test_cpulist_forms(void **state)
{
	(void)state;
	assert_cpulist("0", 0, "0");
	assert_cpulist("0-3,8-11", 0, "0-3,8-11");
	assert_cpulist("3,1,2", 0, "1-3");
	assert_cpulist("0-15:2/4", 0, "0-1,4-5,8-9,12-13");
	assert_cpulist("0-7:1/2", 0, "0,2,4,6");
	assert_cpulist("all", 8, "0-7");
	assert_cpulist("4-N", 8, "4-7");
	assert_cpulist(" 1 , 2 ", 0, "1-2");
	assert_cpulist("8191", 0, "8191");
}

static void test_cpulist_errors(void **state)
{
	(void)state;
	assert_cpulist_bad("", 0, "empty");
	assert_cpulist_bad("all", 0, "CPU count");
	assert_cpulist_bad("3-1", 0, "backwards");
	assert_cpulist_bad("0-3:5/4", 0, "group sizes");
	assert_cpulist_bad("0-3:2", 0, "group syntax");
	assert_cpulist_bad("1;2", 0, "unexpected");
	assert_cpulist_bad("a", 0, "bad CPU");
	assert_cpulist_bad("8192", 0, "bad CPU");
	assert_cpulist_bad("N", 0, "bad CPU");
	assert_cpulist_bad("1,", 0, "bad CPU");
}

static void test_cpuset_ops(void **state)
{
	struct cpuset a, b;

	(void)state;
	assert_int_equal(cpuset_parse(&a, "0-3", NULL), 0);
	assert_int_equal(cpuset_parse(&b, "0-7", NULL), 0);
	assert_true(cpuset_is_subset(&a, &b));
	assert_false(cpuset_is_subset(&b, &a));
	assert_int_equal(cpuset_count(&b), 8);
	assert_int_equal(cpuset_span(&a), 4);
	assert_false(cpuset_equal(&a, &b));
}

/* Ranges and iteration work a word at a time: check them across word edges. */
static void test_cpuset_words(void **state)
{
	static const unsigned want[] = { 0, 63, 64, 65, 127, 128, 4000, 8191 };
	struct cpuset s, t;
	size_t n = 0;
	char out[256];

	(void)state;
	cpuset_zero(&s);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cpuset_set(&s, want[i]);
	cpuset_foreach(cpu, &s) {
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_int_equal(cpu, want[n++]);
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	assert_int_equal(cpuset_format(&s, out, sizeof(out)), 0);
	assert_string_equal(out, "0,63-65,127-128,4000,8191");
	assert_int_equal(cpuset_next(&s, 66), 127);
	assert_int_equal(cpuset_next(&s, 8191), 8191);
	assert_int_equal(cpuset_next_clear(&s, 63), 66);
	cpuset_zero(&t);
	assert_int_equal(cpuset_next(&t, 0), CPUSET_MAX);
	cpuset_foreach(cpu, &t)
		fail_msg("CPU %u in an empty set", cpu);
	cpuset_set_range(&t, 60, 200);
	assert_int_equal(cpuset_count(&t), 141);
	assert_int_equal(cpuset_format(&t, out, sizeof(out)), 0);
	assert_string_equal(out, "60-200");
	cpuset_set_range(&t, 8100, 8191);
	assert_int_equal(cpuset_next_clear(&t, 8100), CPUSET_MAX);
	cpuset_or(&t, &s);
	assert_int_equal(cpuset_format(&t, out, sizeof(out)), 0);
	assert_string_equal(out, "0,60-200,4000,8100-8191");
	assert_cpulist("0-255", 0, "0-255");
	assert_cpulist("62-129:3/4", 0, "62-64,66-68,70-72,74-76,78-80,82-84,86-88,90-92,94-96,98-100,102-104,106-108,"
		       "110-112,114-116,118-120,122-124,126-128");
	assert_cpulist("all", 512, "0-511");
}

static void test_sizes(void **state)
{
	uint64_t kb;
	char buf[32];

	(void)state;
	assert_int_equal(parse_size_kb("2M", &kb), 0);
	assert_int_equal(kb, 2048);
	assert_int_equal(parse_size_kb("2048kB", &kb), 0);
	assert_int_equal(kb, 2048);
	assert_int_equal(parse_size_kb("1G", &kb), 0);
	assert_int_equal(kb, 1048576);
	assert_int_equal(parse_size_kb("1GiB", &kb), 0);
	assert_int_equal(parse_size_kb("64k", &kb), 0);
	assert_int_equal(kb, 64);
	assert_int_equal(parse_size_kb("2X", &kb), -22);
	assert_int_equal(parse_size_kb("M", &kb), -22);
	assert_int_equal(parse_size_kb("0M", &kb), -22);
	assert_int_equal(parse_size_kb("-2M", &kb), -22);
	format_size_kb(1048576, buf, sizeof(buf));
	assert_string_equal(buf, "1G");
	format_size_kb(2048, buf, sizeof(buf));
	assert_string_equal(buf, "2M");
	format_size_kb(64, buf, sizeof(buf));
	assert_string_equal(buf, "64kB");
}

static void test_bool_range_words(void **state)
{
	bool b;
	uint64_t v;

	(void)state;
	assert_int_equal(parse_bool("yes", &b), 0);
	assert_true(b);
	assert_int_equal(parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(parse_bool("maybe", &b), -22);
	assert_int_equal(parse_u64_range("8", 0, 10, &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(parse_u64_range("11", 0, 10, &v), -34);
	assert_int_equal(parse_u64_range("1x", 0, 10, &v), -22);
	assert_int_equal(parse_u64_range("-1", 0, 10, &v), -22);
	assert_true(word_in("madvise", "always madvise never"));
	assert_false(word_in("advise", "always madvise never"));
	assert_true(word_in("never", "always madvise never"));
}

static void test_split(void **state)
{
	char **v = strv_split(" performance | schedutil ||", "|");

	(void)state;
	assert_non_null(v);
	assert_int_equal(strv_length(v), 2);
	assert_string_equal(v[0], "performance");
	assert_string_equal(v[1], "schedutil");
	strv_free(v);
}

static void test_choice_and_paths(void **state)
{
	char dir[] = "/tmp/hostprep-unit-XXXXXX", path[4200], sel[32], all[128];
	struct hostroot hr;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(hr_init(&hr, dir), 0);
	assert_false(hr.is_real);
	assert_int_equal(hr_mkdir_p(&hr, "/sys/kernel/mm/transparent_hugepage"), 0);
	assert_int_equal(hr_path(&hr, path, sizeof(path), "/sys/kernel/mm/transparent_hugepage/enabled"), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("always [madvise] never\n", f);
	fclose(f);
	assert_int_equal(hr_read_choice(&hr, sel, sizeof(sel), all, sizeof(all),
					"/sys/kernel/mm/transparent_hugepage/enabled"), 0);
	assert_string_equal(sel, "madvise");
	assert_string_equal(all, "always madvise never");
	/* A path that climbs out of the root is refused before any access. */
	assert_int_equal(hr_path(&hr, path, sizeof(path), "/sys/../etc/passwd"), -22);
	assert_int_equal(hr_path(&hr, path, sizeof(path), "relative"), -22);
	assert_int_equal(hr_path(&hr, path, sizeof(path), "/sys/..a/ok"), 0);
	assert_false(path_component_valid(".."));
	assert_false(path_component_valid("a/b"));
	assert_false(path_component_valid(""));
	assert_true(path_component_valid("vdpa0"));
	/* Atomic replace creates parents and leaves no temp file behind. */
	assert_int_equal(hr_replace_file(&hr, "x=1\n", 0644, "/etc/hostprep/test.conf"), 0);
	assert_int_equal(hr_read_line(&hr, sel, sizeof(sel), "/etc/hostprep/test.conf"), 0);
	assert_string_equal(sel, "x=1");
	{
		char **names = NULL;
		assert_int_equal(hr_list(&hr, &names, "/etc/hostprep"), 0);
		assert_int_equal(strv_length(names), 1);
		strv_free(names);
	}
	/* A read that fails for another reason than "not there" is kept, once per path. */
	{
		char *text = NULL;
		const char *failed;
		size_t i = 0;
		int err;

		assert_int_equal(hr_read(&hr, &text, "/etc/hostprep/missing"), -ENOENT);
		assert_int_equal(hr_read(&hr, &text, "/etc/hostprep/test.conf/below"), -ENOTDIR);
		assert_false(hr_unread_next(&hr, &i, &failed, &err));
		assert_int_equal(hr_read(&hr, &text, "/etc/hostprep"), -EISDIR);
		assert_int_equal(hr_read(&hr, &text, "/etc/hostprep"), -EISDIR);
		assert_true(hr_unread_next(&hr, &i, &failed, &err));
		assert_string_equal(failed, "/etc/hostprep");
		assert_int_equal(err, EISDIR);
		assert_false(hr_unread_next(&hr, &i, &failed, &err));
	}
	hr_free(&hr);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpulist_forms),
		cmocka_unit_test(test_cpulist_errors),
		cmocka_unit_test(test_cpuset_ops),
		cmocka_unit_test(test_cpuset_words),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bool_range_words),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_choice_and_paths),
	};
	return cmocka_run_group_tests_name("parsers", tests, NULL, NULL);
}
