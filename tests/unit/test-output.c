/* Text output from hand-made documents: units, CPU lists, command-line
 * values, colour decisions, action rows, and the checklist's verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "output.h"
#include "output-text.h"

static char *render(void (*fn)(FILE *, struct json_object *), const char *json)
{
	struct json_object *doc = json_tokener_parse(json);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(doc);
	assert_non_null(f);
	fn(f, doc);
	fclose(f);
	json_object_put(doc);
	return buf;
}

static void print_text(FILE *f, struct json_object *doc) { output_print(f, doc, false); }
static void print_checks(FILE *f, struct json_object *doc) { text_checks(f, doc); }

#define assert_has(hay, needle) \
	do { if (!strstr((hay), (needle))) fail_msg("missing '%s' in:\n%s", (needle), (hay)); } while (0)
#define assert_lacks(hay, needle) \
	do { if (strstr((hay), (needle))) fail_msg("unexpected '%s' in:\n%s", (needle), (hay)); } while (0)

static void test_sizes(void **state)
{
	char b[32];

	(void)state;
	text_size_kb(16777216, b, sizeof(b));
	assert_string_equal(b, "16 GiB");
	text_size_kb(1536, b, sizeof(b));
	assert_string_equal(b, "1.5 MiB");
	text_size_kb(2048, b, sizeof(b));
	assert_string_equal(b, "2 MiB");
	text_size_kb(4, b, sizeof(b));
	assert_string_equal(b, "4 KiB");
	text_size_kb(3ULL << 30, b, sizeof(b));
	assert_string_equal(b, "3 TiB");
}

static void test_cpu_lists_and_cmdline(void **state)
{
	char b[64];

	(void)state;
	text_cpulist("0,1,2,3,8", b, sizeof(b));
	assert_string_equal(b, "0-3,8");
	text_cpulist("", b, sizeof(b));
	assert_string_equal(b, "none");
	text_cpulist("(null)", b, sizeof(b));
	assert_string_equal(b, "none");
	text_cpulist(NULL, b, sizeof(b));
	assert_string_equal(b, "none");
	text_cmdline_value("ro rcu_nocbs=1-3 xrcu_nocbs=9 rcu_nocbs rcu_nocbs=2-3 quiet", "rcu_nocbs", b, sizeof(b));
	assert_string_equal(b, "2-3");   /* the last one counts, as for the kernel */
	text_cmdline_value("ro quiet", "rcu_nocbs", b, sizeof(b));
	assert_string_equal(b, "");
}

static void test_color_decision(void **state)
{
	enum color_mode m;
	int p[2], pty;

	(void)state;
	assert_int_equal(color_mode_parse("auto", &m), 0);
	assert_int_equal(m, COLOR_AUTO);
	assert_int_equal(color_mode_parse("always", &m), 0);
	assert_int_equal(m, COLOR_ALWAYS);
	assert_int_equal(color_mode_parse("yes", &m), -EINVAL);
	assert_int_equal(pipe(p), 0);
	setenv("TERM", "xterm", 1);
	unsetenv("NO_COLOR");
	assert_false(color_wanted(COLOR_AUTO, p[1]));
	assert_true(color_wanted(COLOR_ALWAYS, p[1]));
	pty = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(pty >= 0);
	assert_true(color_wanted(COLOR_AUTO, pty));
	assert_false(color_wanted(COLOR_NEVER, pty));
	setenv("NO_COLOR", "", 1);
	assert_true(color_wanted(COLOR_AUTO, pty));   /* empty: as if unset */
	setenv("NO_COLOR", "1", 1);
	assert_false(color_wanted(COLOR_AUTO, pty));
	assert_true(color_wanted(COLOR_ALWAYS, pty));
	unsetenv("NO_COLOR");
	setenv("TERM", "dumb", 1);
	assert_false(color_wanted(COLOR_AUTO, pty));
	close(pty);
	close(p[0]);
	close(p[1]);
}

static const char *const rows_doc =
	"{ \"command\": \"apply\", \"reboot_required\": true, \"actions\": ["
	"{ \"module\": \"kernel\", \"target\": \"isolcpus\", \"state\": \"pending-reboot\", \"current\": null,"
	"  \"desired\": \"isolcpus=2-7\", \"message\": \"in grub.cfg; the running kernel lacks it\" },"
	"{ \"module\": \"kernel\", \"target\": \"nohz_full\", \"state\": \"pending-reboot\", \"current\": null,"
	"  \"desired\": \"nohz_full=2-7\", \"message\": \"in grub.cfg; the running kernel lacks it\" },"
	"{ \"module\": \"thp\", \"target\": \"enabled\", \"state\": \"ok\", \"current\": \"never\", \"desired\": \"never\" },"
	"{ \"module\": \"sriov\", \"target\": \"VF driver\", \"state\": \"changed\", \"current\": \"8x vfio-pci\","
	"  \"desired\": \"8x vfio-pci\" },"
	"{ \"module\": \"hugepages\", \"target\": \"1G pages node1\", \"state\": \"failed\", \"previous\": \"0\","
	"  \"current\": \"2\", \"desired\": \"4\", \"message\": \"asked for 4, the kernel granted 2\" },"
	"{ \"module\": \"kernel\", \"target\": \"cfg\", \"state\": \"pending\", \"current\": null,"
	"  \"desired\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9bbbbbbbbbbbbbbbb\" } ],"
	"\"warnings\": [] }";

static void test_rows(void **state)
{
	char *out;

	(void)state;
	setenv("LC_ALL", "C.UTF-8", 1);
	log_threshold = LOG_WARN;
	out = render(print_text, rows_doc);
	assert_lacks(out, "enabled");                               /* ok rows need -v */
	assert_has(out, "VF driver       8x vfio-pci\n");           /* not "X -> X" */
	assert_has(out, "0 -> 2");                                   /* previous -> current */
	assert_has(out, "- -> isolcpus=2-7");
	assert_has(out, "\"\n");                                     /* the repeated message */
	assert_has(out, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u2026");  /* é not split */
	assert_has(out, "apply: 6 actions: 1 ok, 1 pending, 1 changed, 2 pending-reboot, 1 failed; reboot required\n");
	free(out);
	log_threshold = LOG_INFO;
	out = render(print_text, rows_doc);
	assert_has(out, "ok             thp");
	free(out);
	log_threshold = LOG_WARN;
	unsetenv("LC_ALL");
}

static void test_checklist_without_profile(void **state)
{
	char *out;

	(void)state;
	out = render(print_checks,
		"{ \"command\": \"report\", \"profile\": null, \"actions\": [], \"capabilities\": {"
		" \"cpu\": { \"virtualization\": \"none\" }, \"kvm\": { \"dev_kvm\": false, \"module\": null,"
		" \"nested_state\": \"unavailable\" }, \"iommu\": { \"enabled\": true, \"groups\": 3,"
		" \"interrupt_remapping\": false }, \"hugepages\": [ { \"size\": \"2M\", \"size_kb\": 2048,"
		" \"total\": 8, \"free\": 0 } ], \"kernel\": { \"isolated_cpus\": \"\", \"nohz_full\": null,"
		" \"cmdline\": \"ro\" }, \"vfio\": { \"devices\": [ { \"address\": \"0000:65:00.0\", \"viable\": false,"
		" \"blocking\": [ \"IOMMU group 1 also holds 0000:65:00.1 (snd_hda_intel)\" ] } ], \"refused\": [] } } }");
	assert_has(out, "Readiness for a VM host\n");
	assert_has(out, "Hardware virtualization           : FAIL (no vmx or svm CPU flag");
	assert_has(out, "/dev/kvm                          : FAIL (missing: load kvm_intel or kvm_amd)");
	assert_has(out, "IOMMU active                      : PASS\n");
	assert_has(out, "Interrupt remapping               : WARN (off: vfio refuses");
	assert_has(out, "Hugepages 2 MiB                   : WARN (all 8 pages are in use)");
	assert_has(out, "vfio-pci devices in viable groups : FAIL (0000:65:00.0: IOMMU group 1 also holds");
	assert_lacks(out, "Isolated CPUs");   /* nothing isolated, no profile: no line */
	free(out);
}

static void test_checklist_with_profile(void **state)
{
	char *out;

	(void)state;
	out = render(print_checks,
		"{ \"command\": \"report\", \"profile\": \"/p.ini\", \"actions\": ["
		" { \"module\": \"kernel\", \"target\": \"intel_iommu\", \"state\": \"pending-reboot\", \"desired\": \"intel_iommu=on\" },"
		" { \"module\": \"kernel\", \"target\": \"default_hugepagesz\", \"state\": \"ok\", \"desired\": \"default_hugepagesz=1G\" },"
		" { \"module\": \"hugepages\", \"target\": \"1G pages node0\", \"state\": \"pending\", \"current\": \"0\", \"desired\": \"4\" },"
		" { \"module\": \"devices\", \"target\": \"ens9\", \"state\": \"failed\", \"message\": \"did not appear within 30 s\" },"
		" { \"module\": \"thp\", \"target\": \"enabled\", \"state\": \"unsupported\", \"message\": \"no THP\" } ],"
		" \"capabilities\": { \"cpu\": { \"virtualization\": \"svm\" }, \"kvm\": { \"dev_kvm\": true,"
		" \"nested_state\": \"off\" }, \"iommu\": { \"enabled\": false, \"active\": \"amd-vi\" } } }");
	assert_has(out, "Readiness against /p.ini\n");
	assert_has(out, "Hardware virtualization (AMD-V) : PASS\n");
	assert_has(out, "IOMMU active (AMD-Vi)           : WARN (intel_iommu: takes effect after a reboot)");
	assert_has(out, "Hugepages 1 GiB                 : FAIL (1G pages node0: 0, the profile wants 4)");
	assert_has(out, "Transparent hugepages           : WARN (enabled: unsupported: no THP)");
	assert_has(out, "devices                         : FAIL (ens9: did not appear within 30 s)");
	assert_lacks(out, "Nested");   /* the profile does not ask for it */
	free(out);

	/* A value not there yet, and a long one cut as in the rows. */
	setenv("LC_ALL", "C", 1);
	out = render(print_checks,
		"{ \"command\": \"report\", \"profile\": \"/p.ini\", \"actions\": ["
		" { \"module\": \"kvm\", \"target\": \"/etc/modprobe.d/hostprep-kvm.conf\", \"state\": \"pending\","
		"   \"current\": null, \"desired\": \"options kvm_intel nested=1 ept=1 enable_apicv=1 x=1\" } ],"
		" \"capabilities\": { \"kvm\": { \"nested_state\": \"off\" } } }");
	assert_has(out, "Nested virtualization   : FAIL (/etc/modprobe.d/hostprep-kvm.conf: not set, "
			"the profile wants options kvm_intel nested=1 ept=1 enable_...)");
	free(out);
	unsetenv("LC_ALL");

	/* A profile that turns the IOMMU off passes on a host where it is off. */
	out = render(print_checks,
		"{ \"command\": \"report\", \"profile\": \"/p.ini\", \"actions\": ["
		" { \"module\": \"kernel\", \"target\": \"intel_iommu\", \"state\": \"ok\", \"desired\": \"intel_iommu=off\" } ],"
		" \"capabilities\": { \"iommu\": { \"enabled\": false } } }");
	assert_has(out, "IOMMU active            : PASS\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_cpu_lists_and_cmdline),
		cmocka_unit_test(test_color_decision),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_checklist_without_profile),
		cmocka_unit_test(test_checklist_with_profile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
