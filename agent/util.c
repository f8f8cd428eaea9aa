#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hostroot.h"
#include "util.h"

int parse_size_kb(const char *s, uint64_t *kb)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "k", 1 }, { "kb", 1 }, { "kib", 1 },
		{ "m", 1024 }, { "mb", 1024 }, { "mib", 1024 },
		{ "g", 1024 * 1024 }, { "gb", 1024 * 1024 }, { "gib", 1024 * 1024 },
	};
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v == 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcasecmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -ERANGE;
			*kb = v * units[i].mult;
			return 0;
		}
	return -EINVAL;
}

void format_size_kb(uint64_t kb, char *buf, size_t len)
{
	if (kb % (1024 * 1024) == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(kb / (1024 * 1024)));
	else if (kb % 1024 == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(kb / 1024));
	else
		snprintf(buf, len, "%llukB", (unsigned long long)kb);
}

int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };

	if (str_in(s, yes))
		*ret = true;
	else if (str_in(s, no))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

int parse_u64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

bool str_in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

bool word_in(const char *w, const char *list)
{
	size_t l = strlen(w);

	for (const char *p = list; (p = strstr(p, w)); p += l)
		if ((p == list || isspace((unsigned char)p[-1])) && (p[l] == '\0' || isspace((unsigned char)p[l])))
			return true;
	return false;
}

bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

char *strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

int sysfs_parse_u64(const char *line, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)line[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(line, &end, 10);
	if (errno || (*end && *end != ' '))
		return -EINVAL;
	*ret = v;
	return 0;
}

int sysfs_parse_choice(const char *line, char *sel, size_t sel_len, char *all, size_t all_len)
{
	const char *o = strchr(line, '['), *c = o ? strchr(o, ']') : NULL;

	if (sel) {
		if (!o || !c || (size_t)(c - o - 1) >= sel_len)
			return -EINVAL;
		memcpy(sel, o + 1, (size_t)(c - o - 1));
		sel[c - o - 1] = '\0';
	}
	if (all && all_len) {
		size_t j = 0;

		for (size_t i = 0; line[i] && j + 1 < all_len; i++)
			if (line[i] != '[' && line[i] != ']')
				all[j++] = line[i];
		all[j] = '\0';
	}
	return 0;
}

size_t utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;
	uint32_t c, min;

	if (len == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0)
		n = 2, c = u[0] & 0x1f, min = 0x80;
	else if ((u[0] & 0xf0) == 0xe0)
		n = 3, c = u[0] & 0x0f, min = 0x800;
	else if ((u[0] & 0xf8) == 0xf0)
		n = 4, c = u[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

char **strv_split(const char *s, const char *sep)
{
	_cleanup_free_ char *copy = strdup(s);
	char **v = calloc(strlen(s) / 2 + 2, sizeof(char *));
	size_t n = 0;
	char *save = NULL;

	if (!copy || !v) {
		free(v);
		return NULL;
	}
	for (char *t = strtok_r(copy, sep, &save); t; t = strtok_r(NULL, sep, &save)) {
		char *e;

		while (isspace((unsigned char)*t))
			t++;
		e = t + strlen(t);
		while (e > t && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*t)
			continue;
		v[n] = strdup(t);
		if (!v[n]) {
			strv_free(v);
			return NULL;
		}
		n++;
	}
	return v;
}
