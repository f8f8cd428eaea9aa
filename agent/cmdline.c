#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "hostroot.h"
#include "util.h"

static char **strv_new(void)
{
	return calloc(1, sizeof(char *));
}

int cmdline_split(const char *line, char ***ret)
{
	_cleanup_strv_free_ char **v = strv_new();
	size_t n = 0;
	const char *p = line;

	if (!v)
		return -ENOMEM;
	for (;;) {
		const char *start;
		bool quoted = false;
		int r;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		start = p;
		for (; *p && (quoted || !isspace((unsigned char)*p)); p++)
			if (*p == '"')
				quoted = !quoted;
		if (quoted)
			return -EINVAL;
		r = strv_push(&v, &n, strndup(start, (size_t)(p - start)));
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

char *cmdline_join(char *const *tokens)
{
	size_t len = 1, off = 0;
	char *s;

	for (char *const *t = tokens; t && *t; t++)
		len += strlen(*t) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	for (char *const *t = tokens; t && *t; t++) {
		size_t l = strlen(*t);

		if (off)
			s[off++] = ' ';
		memcpy(s + off, *t, l);
		off += l;
	}
	s[off] = '\0';
	return s;
}

void cmdline_key(const char *token, char *key, size_t len)
{
	size_t j = 0;

	if (!len)
		return;
	for (const char *c = token; *c && *c != '=' && j + 1 < len; c++) {
		if (*c == '"')
			continue;
		key[j++] = *c == '-' ? '_' : *c;
	}
	key[j] = '\0';
}

bool cmdline_key_repeats(const char *key)
{
	static const char *const repeating[] = { "console", "earlycon", "hugepagesz", "hugepages", NULL };

	return str_in(key, repeating);
}

static bool has_key(const char *token, const char *key)
{
	char k[256];

	cmdline_key(token, k, sizeof(k));
	return strcmp(k, key) == 0;
}

int cmdline_arguments(char *const *tokens, char ***ret)
{
	_cleanup_strv_free_ char **v = strv_new();
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; tokens[i]; i++) {
		char *arg;
		int r;

		if (has_key(tokens[i], "hugepagesz") && tokens[i + 1] && has_key(tokens[i + 1], "hugepages")) {
			arg = strdup_printf("%s %s", tokens[i], tokens[i + 1]);
			i++;
		} else {
			arg = strdup(tokens[i]);
		}
		r = strv_push(&v, &n, arg);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* tokens[i..] starts with the sequence seq. */
static bool seq_at(char *const *tokens, size_t i, char *const *seq)
{
	for (size_t j = 0; seq[j]; j++)
		if (!tokens[i + j] || strcmp(tokens[i + j], seq[j]) != 0)
			return false;
	return true;
}

static enum cmdline_presence find_seq(char *const *tokens, char *const *seq, char **other)
{
	char key[256];
	size_t nseq = strv_length(seq);
	ssize_t last = -1;

	if (nseq == 0)
		return CMDLINE_PRESENT;
	if (nseq > 1) {
		/* A group is keyed by its first token (hugepagesz=1G). */
		for (size_t i = 0; tokens[i]; i++)
			if (strcmp(tokens[i], seq[0]) == 0)
				last = (ssize_t)i;
		if (last < 0)
			return CMDLINE_ABSENT;
		if (seq_at(tokens, (size_t)last, seq))
			return CMDLINE_PRESENT;
		if (other) {
			char *part[8] = { NULL };

			for (size_t j = 0; j < nseq && j + 1 < ARRAY_SIZE(part) && tokens[last + (ssize_t)j]; j++)
				part[j] = tokens[last + (ssize_t)j];
			*other = cmdline_join(part);
		}
		return CMDLINE_OVERRIDDEN;
	}
	cmdline_key(seq[0], key, sizeof(key));
	for (size_t i = 0; tokens[i]; i++) {
		if (cmdline_key_repeats(key) && strcmp(tokens[i], seq[0]) == 0)
			return CMDLINE_PRESENT;
		if (has_key(tokens[i], key))
			last = (ssize_t)i;
	}
	if (last < 0 || cmdline_key_repeats(key))
		return CMDLINE_ABSENT;
	if (strcmp(tokens[last], seq[0]) == 0)
		return CMDLINE_PRESENT;
	if (other)
		*other = strdup(tokens[last]);
	return CMDLINE_OVERRIDDEN;
}

enum cmdline_presence cmdline_find(char *const *tokens, const char *arg, char **other)
{
	_cleanup_strv_free_ char **seq = NULL;

	if (other)
		*other = NULL;
	if (cmdline_split(arg, &seq) < 0)
		return CMDLINE_ABSENT;
	return find_seq(tokens, seq, other);
}

int cmdline_merge(char *const *tokens, char *const *remove, char *const *add, char ***ret)
{
	_cleanup_strv_free_ char **v = strv_new();
	size_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; tokens[i];) {
		size_t skip = 0;

		for (char *const *rm = remove; rm && *rm && !skip; rm++) {
			_cleanup_strv_free_ char **seq = NULL;

			if (cmdline_split(*rm, &seq) < 0)
				return -EINVAL;
			if (seq[0] && seq_at(tokens, i, seq))
				skip = strv_length(seq);
		}
		if (skip) {
			i += skip;
			continue;
		}
		r = strv_push(&v, &n, strdup(tokens[i]));
		if (r < 0)
			return r;
		i++;
	}
	for (char *const *a = add; a && *a; a++) {
		_cleanup_strv_free_ char **seq = NULL;

		r = cmdline_split(*a, &seq);
		if (r < 0)
			return r;
		if (find_seq(v, seq, NULL) == CMDLINE_PRESENT)
			continue;
		for (char **t = seq; *t; t++) {
			r = strv_push(&v, &n, strdup(*t));
			if (r < 0)
				return r;
		}
	}
	*ret = TAKE_PTR(v);
	return 0;
}
