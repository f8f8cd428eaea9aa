#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostroot.h"
#include "state.h"
#include "util.h"

#define STATE_DIR "/var/lib/hostprep"

int state_load(const struct hostroot *hr, const char *name, char ***ret)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (!path_component_valid(name))
		return -EINVAL;
	r = hr_read(hr, &text, STATE_DIR "/%s", name);
	if (r == -ENOENT)
		*ret = calloc(1, sizeof(char *));
	else if (r < 0)
		return r;
	else
		*ret = strv_split(text, "\n");
	return *ret ? 0 : -ENOMEM;
}

int state_save(struct hostroot *hr, const char *name, char *const *items)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 1, off = 0;

	if (!path_component_valid(name))
		return -EINVAL;
	if (!items || !items[0])
		return hr_unlink(hr, STATE_DIR "/%s", name);
	for (char *const *i = items; *i; i++)
		len += strlen(*i) + 1;
	text = malloc(len);
	if (!text)
		return -ENOMEM;
	for (char *const *i = items; *i; i++)
		off += (size_t)sprintf(text + off, "%s\n", *i);
	text[off] = '\0';
	{
		_cleanup_free_ char *old = NULL;

		if (hr_read(hr, &old, STATE_DIR "/%s", name) == 0 && strlen(old) + 1 == off &&
		    strncmp(old, text, off - 1) == 0)
			return 0;
	}
	return hr_replace_file(hr, text, 0644, STATE_DIR "/%s", name);
}

bool state_contains(char *const *items, const char *item)
{
	for (; items && *items; items++)
		if (strcmp(*items, item) == 0)
			return true;
	return false;
}

int state_set_keyed(struct hostroot *hr, const char *name, const char *key, const char *line, bool keep_existing)
{
	_cleanup_strv_free_ char **old = NULL;
	_cleanup_strv_free_ char **items = NULL;
	size_t n = 0, kl = strlen(key);
	int r = state_load(hr, name, &old);

	if (r < 0)
		return r;
	items = calloc(strv_length(old) + 2, sizeof(char *));
	if (!items)
		return -ENOMEM;
	for (char **o = old; *o; o++) {
		if (strncmp(*o, key, kl) == 0 && ((*o)[kl] == ' ' || (*o)[kl] == '\0')) {
			if (line && keep_existing)
				return 0;
			continue;
		}
		if (!(items[n++] = strdup(*o)))
			return -ENOMEM;
	}
	if (line && !(items[n++] = strdup(line)))
		return -ENOMEM;
	return state_save(hr, name, items);
}
