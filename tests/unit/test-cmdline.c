/* Kernel command-line tokenising, argument grouping, presence and merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmdline.h"
#include "hostroot.h"

static char **split(const char *s)
{
	char **v = NULL;

	assert_int_equal(cmdline_split(s, &v), 0);
	return v;
}

static void assert_joined(char **v, const char *want)
{
	char *j = cmdline_join(v);

	assert_string_equal(j, want);
	free(j);
}

static void test_split_quotes_and_spaces(void **state)
{
	char **v = split("  BOOT_IMAGE=/vmlinuz  root=UUID=1 acpi_osi=\"!Windows 2020\" \"dyndbg=file a.c +p\"\tquiet ");

	(void)state;
	assert_int_equal(strv_length(v), 5);
	assert_string_equal(v[0], "BOOT_IMAGE=/vmlinuz");
	assert_string_equal(v[1], "root=UUID=1");
	assert_string_equal(v[2], "acpi_osi=\"!Windows 2020\"");
	assert_string_equal(v[3], "\"dyndbg=file a.c +p\"");
	assert_string_equal(v[4], "quiet");
	strv_free(v);
	v = split("");
	assert_null(v[0]);
	assert_joined(v, "");
	strv_free(v);
	assert_int_equal(cmdline_split("a=\"open", &v), -EINVAL);
}

static void test_keys(void **state)
{
	char k[64];

	(void)state;
	cmdline_key("isolcpus=managed_irq,2-7", k, sizeof(k));
	assert_string_equal(k, "isolcpus");
	cmdline_key("quiet", k, sizeof(k));
	assert_string_equal(k, "quiet");
	cmdline_key("kvm-intel.nested=1", k, sizeof(k));
	assert_string_equal(k, "kvm_intel.nested");
	cmdline_key("\"dyndbg=file a.c +p\"", k, sizeof(k));
	assert_string_equal(k, "dyndbg");
	cmdline_key("root=UUID=x=y", k, sizeof(k));
	assert_string_equal(k, "root");
	assert_true(cmdline_key_repeats("console"));
	assert_false(cmdline_key_repeats("isolcpus"));
}

static void test_arguments_group_hugepages(void **state)
{
	char **t = split("default_hugepagesz=1G hugepagesz=1G hugepages=8 hugepagesz=2M hugepages=0:512,1:512 hugepagesz=4M quiet");
	char **a = NULL;

	(void)state;
	assert_int_equal(cmdline_arguments(t, &a), 0);
	assert_int_equal(strv_length(a), 5);
	assert_string_equal(a[0], "default_hugepagesz=1G");
	assert_string_equal(a[1], "hugepagesz=1G hugepages=8");
	assert_string_equal(a[2], "hugepagesz=2M hugepages=0:512,1:512");
	assert_string_equal(a[3], "hugepagesz=4M");   /* no count follows: on its own */
	assert_string_equal(a[4], "quiet");
	strv_free(a);
	strv_free(t);
}

static void test_find_last_value_wins(void **state)
{
	char **t = split("ro isolcpus=1 quiet isolcpus=2-7 nohz_full=2-7 nohz-full=3 console=tty0 console=ttyS0");
	char *other = NULL;

	(void)state;
	assert_int_equal(cmdline_find(t, "isolcpus=2-7", &other), CMDLINE_PRESENT);
	assert_null(other);
	assert_int_equal(cmdline_find(t, "isolcpus=1", &other), CMDLINE_OVERRIDDEN);
	assert_string_equal(other, "isolcpus=2-7");
	free(other);
	/* '-' and '_' are one in keys. */
	assert_int_equal(cmdline_find(t, "nohz_full=2-7", &other), CMDLINE_OVERRIDDEN);
	assert_string_equal(other, "nohz-full=3");
	free(other);
	assert_int_equal(cmdline_find(t, "quiet", NULL), CMDLINE_PRESENT);
	assert_int_equal(cmdline_find(t, "splash", NULL), CMDLINE_ABSENT);
	/* Repeating keys: any occurrence counts, none overrides. */
	assert_int_equal(cmdline_find(t, "console=tty0", NULL), CMDLINE_PRESENT);
	assert_int_equal(cmdline_find(t, "console=ttyS1", NULL), CMDLINE_ABSENT);
	strv_free(t);
}

static void test_find_groups_in_sequence(void **state)
{
	char **t = split("hugepagesz=2M hugepages=1024 hugepagesz=1G hugepages=4 quiet");
	char *other = NULL;

	(void)state;
	assert_int_equal(cmdline_find(t, "hugepagesz=1G hugepages=4", NULL), CMDLINE_PRESENT);
	assert_int_equal(cmdline_find(t, "hugepagesz=2M hugepages=1024", NULL), CMDLINE_PRESENT);
	/* hugepages=4 exists, but belongs to 1G: not a 2M reservation. */
	assert_int_equal(cmdline_find(t, "hugepagesz=2M hugepages=4", &other), CMDLINE_OVERRIDDEN);
	assert_string_equal(other, "hugepagesz=2M hugepages=1024");
	free(other);
	assert_int_equal(cmdline_find(t, "hugepagesz=16G hugepages=1", NULL), CMDLINE_ABSENT);
	strv_free(t);
	/* A group cut short by the end of the line. */
	t = split("quiet hugepagesz=1G");
	assert_int_equal(cmdline_find(t, "hugepagesz=1G hugepages=2", &other), CMDLINE_OVERRIDDEN);
	assert_string_equal(other, "hugepagesz=1G");
	free(other);
	strv_free(t);
}

static void test_merge_removes_owned_and_appends_missing(void **state)
{
	char **t = split("root=/dev/sda1 ro quiet isolcpus=2-5 hugepagesz=1G hugepages=2 mitigations=off");
	char *remove[] = { "isolcpus=2-5", "hugepagesz=1G hugepages=2", "not=there", NULL };
	char *add[] = { "isolcpus=2-7", "quiet", "hugepagesz=1G hugepages=8", NULL };
	char **m = NULL, **again = NULL;

	(void)state;
	assert_int_equal(cmdline_merge(t, remove, add, &m), 0);
	assert_joined(m, "root=/dev/sda1 ro quiet mitigations=off isolcpus=2-7 hugepagesz=1G hugepages=8");
	/* Merging again changes nothing. */
	assert_int_equal(cmdline_merge(m, remove, add, &again), 0);
	assert_joined(again, "root=/dev/sda1 ro quiet mitigations=off isolcpus=2-7 hugepagesz=1G hugepages=8");
	strv_free(again);
	strv_free(m);
	/* An overridden argument is appended again so that it comes last. */
	strv_free(t);
	t = split("isolcpus=2-7 isolcpus=1");
	assert_int_equal(cmdline_merge(t, NULL, (char *[]){ "isolcpus=2-7", NULL }, &m), 0);
	assert_joined(m, "isolcpus=2-7 isolcpus=1 isolcpus=2-7");
	strv_free(m);
	strv_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_quotes_and_spaces),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_arguments_group_hugepages),
		cmocka_unit_test(test_find_last_value_wins),
		cmocka_unit_test(test_find_groups_in_sequence),
		cmocka_unit_test(test_merge_removes_owned_and_appends_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
