/* Profile loader: sections, instances, includes, later-wins, line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "profile.h"

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0644);
	return path;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hostprep-profile-XXXXXX");
	log_threshold = -1;   /* errors are counted, not printed */
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static const struct setting *find(const struct profile *p, const char *section, const char *key)
{
	for (size_t i = 0; i < p->n_settings; i++)
		if (strcmp(p->settings[i].section, section) == 0 && strcmp(p->settings[i].key, key) == 0)
			return &p->settings[i];
	return NULL;
}

static void test_sections_lines_instances(void **state)
{
	struct profile p;
	const struct setting *s;

	(void)state;
	assert_int_equal(profile_load(&p, write_file("a.ini",
		"; comment\n[profile]\nname = demo\n\n[thp]\nenabled = never ; inline\n"
		"  [sriov 0000:03:00.0]\n  numvfs = 4\n[kvm]\n"), false), 0);
	assert_string_equal(p.name, "demo");
	s = find(&p, "thp", "enabled");
	assert_non_null(s);
	assert_string_equal(s->value, "never");
	assert_int_equal(s->line, 6);
	s = find(&p, "sriov", "numvfs");
	assert_non_null(s);
	assert_string_equal(s->instance, "0000:03:00.0");
	assert_int_equal(s->line, 8);
	/* An empty section still counts. */
	assert_int_equal(p.n_sections, 3);
	assert_string_equal(p.sections[2].section, "kvm");
	assert_int_equal(p.sections[2].line, 9);
	profile_free(&p);
}

static void test_include_later_wins(void **state)
{
	struct profile p;
	const struct setting *s;

	(void)state;
	write_file("base.ini", "[thp]\nenabled = always\ndefrag = madvise\n");
	assert_int_equal(profile_load(&p, write_file("top.ini",
		"[thp]\ndefrag = never\n[profile]\ninclude = base.ini\n[thp]\nenabled = never\n"), false), 0);
	s = find(&p, "thp", "enabled");
	assert_string_equal(s->value, "never");
	assert_non_null(strstr(s->file, "top.ini"));
	s = find(&p, "thp", "defrag");
	/* base.ini was included after "defrag = never", so its value wins. */
	assert_string_equal(s->value, "madvise");
	assert_non_null(strstr(s->file, "base.ini"));
	assert_int_equal(s->line, 3);
	assert_int_equal(p.n_settings, 2);
	profile_free(&p);
}

static void test_errors_are_counted(void **state)
{
	struct profile p;
	char longline[300];

	(void)state;
	write_file("loop1.ini", "[profile]\ninclude = loop2.ini\n");
	write_file("loop2.ini", "[profile]\ninclude = loop1.ini\n");
	assert_int_equal(profile_load(&p, write_file("loop0.ini", "[profile]\ninclude = loop1.ini\n"), false), -22);
	assert_int_equal(p.n_errors, 1);
	profile_free(&p);

	assert_int_equal(profile_load(&p, write_file("missing.ini", "[profile]\ninclude = nope.ini\n"), false), -22);
	profile_free(&p);

	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "args = ", 7);
	longline[250] = '\0';
	{
		char text[400];
		snprintf(text, sizeof(text), "[kernel]\n%s\n", longline);
		assert_int_equal(profile_load(&p, write_file("long.ini", text), false), -22);
		/* Nothing of the long line reaches the settings. */
		assert_null(find(&p, "kernel", "args"));
		profile_free(&p);
	}

	assert_int_equal(profile_load(&p, write_file("nosec.ini", "key = value\n"), false), -22);
	profile_free(&p);
	assert_int_equal(profile_load(&p, write_file("syntax.ini", "[thp]\nthis is not a key value\n"), false), -22);
	profile_free(&p);
	assert_int_equal(profile_load(&p, write_file("badsec.ini", "[sriov a b]\nnumvfs = 1\n"), false), -22);
	profile_free(&p);
	assert_int_equal(profile_load(&p, write_file("pkey.ini", "[profile]\ncolour = red\n"), false), -22);
	profile_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_lines_instances),
		cmocka_unit_test(test_include_later_wins),
		cmocka_unit_test(test_errors_are_counted),
	};
	return cmocka_run_group_tests_name("profile", tests, setup, teardown);
}
