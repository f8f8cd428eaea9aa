/* Bracketed-choice attributes ("always [madvise] never"): a write selects one
 * of the listed words, anything else is EINVAL, as in the kernel. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kmodel.h"

static ssize_t choice(int fd, const char *path, const char *value, size_t len)
{
	char cur[512], word[64], out[600] = "";
	size_t vl = strcspn(value, "\n");
	FILE *f = fopen(path, "re");
	int found = 0;

	if (!f)
		return -errno;
	if (!fgets(cur, sizeof(cur), f))
		cur[0] = '\0';
	fclose(f);
	if (vl == 0 || vl >= sizeof(word))
		return -EINVAL;
	snprintf(word, sizeof(word), "%.*s", (int)vl, value);
	for (char *save = NULL, *t = strtok_r(cur, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		char bare[64];
		snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(t + (t[0] == '['), "]"), t + (t[0] == '['));
		found |= strcmp(bare, word) == 0;
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s%s%s", out[0] ? " " : "",
			 strcmp(bare, word) == 0 ? "[" : "", bare, strcmp(bare, word) == 0 ? "]" : "");
	}
	if (!found)
		return -EINVAL;
	strcat(out, "\n");
	return kmodel_write_fd(fd, out) < 0 ? -EIO : (ssize_t)len;
}

const struct kmodel_rule kmodel_choice_rules[] = {
	{ "/sys/kernel/mm/transparent_hugepage/enabled", choice },
	{ "/sys/kernel/mm/transparent_hugepage/defrag", choice },
	{ NULL, NULL },
};
