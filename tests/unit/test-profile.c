/* Profile loader: sections, instances, includes, later-wins, line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
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

static const char *write_bytes(const char *name, const char *text, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	chmod(path, 0644);
	return path;
}

static bool has_error(const struct profile *p, int line, const char *text)
{
	for (size_t i = 0; i < p->n_listed; i++)
		if (p->errors[i].line == line && strstr(p->errors[i].message, text))
			return true;
	return false;
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

/* The longest line is 198 bytes (inih's 200 less newline and NUL); 199 is
 * refused with its length, never cut. */
static void test_line_length_boundary(void **state)
{
	struct profile p;
	char text[512];
	const struct setting *s;

	(void)state;
	snprintf(text, sizeof(text), "[profile]\ndescription = %0*d\n", 198 - 14, 0);
	assert_int_equal(profile_load(&p, write_file("l198.ini", text), false), 0);
	profile_free(&p);
	snprintf(text, sizeof(text), "[kernel]\nargs = %0*d\n", 199 - 7, 0);
	assert_int_equal(profile_load(&p, write_file("l199.ini", text), false), -22);
	assert_true(has_error(&p, 2, "line is 199 bytes long"));
	profile_free(&p);
	/* CR LF endings are fine; the CR does not count. */
	snprintf(text, sizeof(text), "[kernel]\r\nargs = %0*d\r\n", 198 - 7, 0);
	assert_int_equal(profile_load(&p, write_file("crlf.ini", text), false), 0);
	s = find(&p, "kernel", "args");
	assert_non_null(s);
	assert_int_equal(strlen(s->value), 198 - 7);
	profile_free(&p);
}

/* Section names are kept whole (inih cuts its copy at 49 bytes). */
static void test_long_section_names_are_whole(void **state)
{
	static const char name[] = "a-name-of-sixty-three-characters-for-a-vdpa-device-0123456789ab";
	struct profile p;
	char text[256];
	const struct setting *s;

	(void)state;
	assert_int_equal(strlen(name), 63);
	snprintf(text, sizeof(text), "[vdpa %s]\nmgmtdev = vdpasim_net\n", name);
	assert_int_equal(profile_load(&p, write_file("vdpa.ini", text), false), 0);
	s = find(&p, "vdpa", "mgmtdev");
	assert_non_null(s);
	assert_string_equal(s->instance, name);
	assert_string_equal(p.sections[0].instance, name);
	profile_free(&p);
}

/* Each hostile line is an error on its own line; the good lines around it
 * still load. */
static void test_hostile_lines(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		int line;
		const char *message;
	} cases[] = {
#define C(t, l, m) { t, sizeof(t) - 1, l, m }
		C("[sriov 0000:03:00.0]\nnumvfs = 4\0 99\n", 2, "NUL byte"),
		C("[thp] enabled = never\n", 1, "text after ']'"),
		C("[thp]\renabled = never\r", 1, "carriage return inside the line"),
		C("[thp\nenabled = never\n", 1, "lacks its closing ']'"),
		C("[]\n", 1, "malformed section name"),
		C("[sriov a b]\nnumvfs = 1\n", 1, "is one word"),
		C("[thp]\nenabled: never\n", 2, "not key: value"),
		C("[thp]\n= never\n", 2, "a key is missing"),
		C("[thp]\nenabled never\n", 2, "syntax error"),
		C("[thp]\nenabled ; = never\n", 2, "syntax error"),
		C("[kvm]\nnested = no\n\vnested = yes\n", 3, "control character 0x0b"),
		C("[thp]\nenabled = \x1b[2Jnever\n", 2, "control character 0x1b"),
		C("[thp]\nenabled = n\xc3ver\n", 2, "is no UTF-8"),
		C("[thp]\nenabled = \xc0\xaenever\n", 2, "is no UTF-8"),
		C("[thp]\nenabled = \xed\xa0\x80\n", 2, "is no UTF-8"),
		C("[thp]\nenabled = \xc2\x9bnever\n", 2, "U+009B"),
		C("[thp]\nenabled = never\xe2\x80\xae\n", 2, "U+202E"),
		C("[profile x]\nname = a\n", 1, "[profile] takes no name"),
		C("numvfs = 4\n", 1, "outside any [section]"),
#undef C
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct profile p;

		assert_int_equal(profile_load(&p, write_bytes("hostile.ini", cases[i].text, cases[i].len), false), -22);
		if (!has_error(&p, cases[i].line, cases[i].message)) {
			for (size_t j = 0; j < p.n_listed; j++)
				print_message("case %zu: %d: %s\n", i, p.errors[j].line, p.errors[j].message);
			fail_msg("case %zu: no error '%s' on line %d", i, cases[i].message, cases[i].line);
		}
		/* A key on a bad line never reaches the settings. */
		assert_null(find(&p, "thp", "enabled"));
		profile_free(&p);
	}
}

/* UTF-8 in comments and in the free-text keys is fine, a BOM too. */
static void test_utf8_and_bom(void **state)
{
	struct profile p;

	(void)state;
	assert_int_equal(profile_load(&p, write_file("utf8.ini",
		"\xef\xbb\xbf; h\xc3\xb4te \xe2\x80\x94 commentaire\n[profile]\ndescription = caf\xc3\xa9\n[thp]\nenabled = never\n"),
		false), 0);
	assert_non_null(find(&p, "thp", "enabled"));
	profile_free(&p);
}

/* Later wins over many keys (a table, not a scan per key). */
static void test_later_wins_many_keys(void **state)
{
	struct profile p;
	size_t cap = 3 * 20000 * 24 + 64, n = 0;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n, "[kernel]\n");
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 20000; i++)
			n += (size_t)snprintf(text + n, cap - n, "k%d = %d\n", i, round);
	assert_int_equal(profile_load(&p, write_bytes("many.ini", text, n), false), 0);
	assert_int_equal(p.n_settings, 20000);
	for (size_t i = 0; i < p.n_settings; i++)
		assert_string_equal(p.settings[i].value, "2");
	assert_string_equal(p.settings[0].key, "k0");
	assert_string_equal(p.settings[19999].key, "k19999");
	profile_free(&p);
	free(text);
}

/* The profile and its includes hold at most PROFILE_MAX_BYTES together. */
static void test_size_limit(void **state)
{
	struct profile p;
	size_t n = PROFILE_MAX_BYTES;
	char *text = malloc(n + 1);

	(void)state;
	assert_non_null(text);
	memset(text, '\n', n + 1);
	memcpy(text, "[thp]\nenabled = never\n", 22);
	assert_int_equal(profile_load(&p, write_bytes("max.ini", text, n), false), 0);
	profile_free(&p);
	assert_int_equal(profile_load(&p, write_bytes("over.ini", text, n + 1), false), -22);
	assert_true(has_error(&p, 0, "too large"));
	assert_null(find(&p, "thp", "enabled"));
	profile_free(&p);
	/* Two halves that fit alone but not together. */
	write_bytes("half.ini", text, n / 2 + 1);
	assert_int_equal(profile_load(&p, write_file("halves.ini", "[profile]\ninclude = half.ini\ninclude = half.ini\n"),
				      false), -22);
	assert_true(has_error(&p, 3, "too large"));
	profile_free(&p);
	free(text);
}

/* Errors past PROFILE_MAX_LISTED are counted, not kept. */
static void test_error_list_is_bounded(void **state)
{
	struct profile p;
	char text[4096] = "[thp]\n";

	(void)state;
	for (int i = 0; i < 300; i++)
		strcat(text, "x\n");
	assert_int_equal(profile_load(&p, write_file("errs.ini", text), false), -22);
	assert_int_equal(p.n_errors, 300);
	assert_int_equal(p.n_listed, PROFILE_MAX_LISTED);
	assert_int_equal(p.n_unlisted, 300 - PROFILE_MAX_LISTED);
	profile_free(&p);
}

/* Deep and wide includes stop at their limits. */
static void test_include_limits(void **state)
{
	struct profile p;
	char name[32], text[64];
	char *wide = malloc(64 * (PROFILE_MAX_INCLUDES + 2));

	(void)state;
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "deep%d.ini", i);
		snprintf(text, sizeof(text), "[profile]\ninclude = deep%d.ini\n", i + 1);
		write_file(name, text);
	}
	write_file("deep12.ini", "[thp]\n");
	assert_int_equal(profile_load(&p, write_file("deep0.ini", "[profile]\ninclude = deep1.ini\n"), false), -22);
	assert_true(has_error(&p, 2, "nested deeper than"));
	profile_free(&p);

	write_file("empty.ini", "");
	strcpy(wide, "[profile]\n");
	for (int i = 0; i < PROFILE_MAX_INCLUDES + 1; i++)
		strcat(wide, "include = empty.ini\n");
	assert_int_equal(profile_load(&p, write_file("wide.ini", wide), false), -22);
	assert_true(has_error(&p, PROFILE_MAX_INCLUDES + 2, "more than"));
	assert_int_equal(p.n_errors, 1);
	profile_free(&p);
	free(wide);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_lines_instances),
		cmocka_unit_test(test_include_later_wins),
		cmocka_unit_test(test_errors_are_counted),
		cmocka_unit_test(test_line_length_boundary),
		cmocka_unit_test(test_long_section_names_are_whole),
		cmocka_unit_test(test_hostile_lines),
		cmocka_unit_test(test_utf8_and_bom),
		cmocka_unit_test(test_later_wins_many_keys),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_error_list_is_bounded),
		cmocka_unit_test(test_include_limits),
	};
	return cmocka_run_group_tests_name("profile", tests, setup, teardown);
}
