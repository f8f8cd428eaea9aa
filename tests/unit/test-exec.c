/* Running tools: fixed argv, output captured, bounded time, chroot into a
 * root.  Only harmless programs of this machine (/bin/sh -c, /bin/true) run
 * on the real root; the chroot case uses a scratch root with busybox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "exec.h"
#include "hostroot.h"

static struct hostroot real;

static int setup(void **state)
{
	(void)state;
	return hr_init(&real, "/");
}

static int teardown(void **state)
{
	(void)state;
	hr_free(&real);
	return 0;
}

static void test_output_and_status(void **state)
{
	struct exec_result res;
	char buf[64];

	(void)state;
	assert_int_equal(exec_run(&real, (char *const[]){ "/bin/sh", "-c", "echo out; echo err1 >&2; echo err2 >&2; exit 3", NULL },
				  5000, &res), 0);
	assert_int_equal(res.status, 3);
	assert_string_equal(res.out, "out");
	assert_string_equal(res.err, "err1\nerr2");
	assert_string_equal(exec_diagnosis(&res, buf, sizeof(buf)), "err2");
	exec_result_free(&res);
}

static void test_fixed_environment_no_shell(void **state)
{
	struct exec_result res;

	(void)state;
	setenv("HOSTPREP_SECRET", "x", 1);
	/* The argument reaches the program as one word, no shell between. */
	assert_int_equal(exec_run(&real, (char *const[]){ "/bin/sh", "-c", "echo \"$0|$HOSTPREP_SECRET|$PATH\"", "a b;c", NULL },
				  5000, &res), 0);
	assert_string_equal(res.out, "a b;c||/usr/sbin:/usr/bin:/sbin:/bin");
	exec_result_free(&res);
}

static void test_timeout_kills(void **state)
{
	struct exec_result res;
	struct timespec a, b;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(exec_run(&real, (char *const[]){ "/bin/sh", "-c", "echo started; exec sleep 30", NULL }, 300, &res),
			 -ETIME);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 5);
	assert_int_equal(res.status, 128 + 9);
	assert_string_equal(res.out, "started");
	exec_result_free(&res);
}

static void test_missing_program(void **state)
{
	struct exec_result res;
	const char *const none[] = { "/nonexistent/update-grub", NULL };

	(void)state;
	assert_int_equal(exec_run(&real, (char *const[]){ "/nonexistent/update-grub", NULL }, 1000, &res), -ENOENT);
	assert_null(exec_find(&real, none));
}

static void test_chroot_into_root(void **state)
{
	char dir[] = "/tmp/hostprep-exec-XXXXXX", cmd[512];
	struct hostroot hr;
	struct exec_result res;
	const char *const tools[] = { "/usr/sbin/tool", "/bin/sh", NULL };

	(void)state;
	if (geteuid() != 0 || access("/bin/busybox", X_OK) != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/bin && cp /bin/busybox %s/bin/sh && echo inside > %s/marker", dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(hr_init(&hr, dir), 0);
	assert_string_equal(exec_find(&hr, tools), "/bin/sh");
	assert_int_equal(exec_run(&hr, (char *const[]){ "/bin/sh", "-c", "read l < /marker; echo $l; echo x > /made", NULL },
				  5000, &res), 0);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "inside");
	exec_result_free(&res);
	snprintf(cmd, sizeof(cmd), "%s/made", dir);
	assert_int_equal(access(cmd, F_OK), 0);
	hr_free(&hr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_status),
		cmocka_unit_test(test_fixed_environment_no_shell),
		cmocka_unit_test(test_timeout_kills),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_chroot_into_root),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
