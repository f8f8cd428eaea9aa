/* Kernel command lines (agent/cmdline.c).  The input is three lines: the
 * command line, the arguments to remove, the arguments to add.  Splitting a
 * joined line gives the same tokens; after a merge every added argument is
 * present. */
#include <stdio.h>

#include "cmdline.h"
#include "fuzz.h"
#include "hostroot.h"

static bool same(char *const *a, char *const *b)
{
	size_t i = 0;

	for (; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return !a[i] && !b[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *parts[3] = { s, (char *)"", (char *)"" }, *joined;
	char **tokens = NULL, **again = NULL, **remove = NULL, **add = NULL, **rargs = NULL, **aargs = NULL, **merged = NULL;
	char key[256];

	for (int i = 1; i < 3; i++) {
		char *nl = strchr(parts[i - 1], '\n');

		if (!nl)
			break;
		*nl = '\0';
		parts[i] = nl + 1;
	}
	if (cmdline_split(parts[0], &tokens) < 0)
		goto out;
	joined = cmdline_join(tokens);
	FUZZ_ASSERT(joined);
	FUZZ_ASSERT(cmdline_split(joined, &again) == 0 && same(tokens, again));
	free(joined);
	for (char **t = tokens; *t; t++) {
		cmdline_key(*t, key, sizeof(key));
		(void)cmdline_key_repeats(key);
	}
	if (cmdline_split(parts[1], &remove) < 0 || cmdline_split(parts[2], &add) < 0 ||
	    cmdline_arguments(remove, &rargs) < 0 || cmdline_arguments(add, &aargs) < 0)
		goto out;
	if (cmdline_merge(tokens, rargs, aargs, &merged) == 0) {
		for (char **a = aargs; *a; a++) {
			char *other = NULL;
			enum cmdline_presence p = cmdline_find(merged, *a, &other);

			/* A later repeat of the same key in add may win over *a. */
			FUZZ_ASSERT(p != CMDLINE_ABSENT);
			free(other);
		}
	}
out:
	strv_free(tokens);
	strv_free(again);
	strv_free(remove);
	strv_free(add);
	strv_free(rargs);
	strv_free(aargs);
	strv_free(merged);
	free(s);
	return 0;
}
