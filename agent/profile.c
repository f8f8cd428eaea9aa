#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "profile.h"
#include "util.h"

/* One file being read: its whole text (read before parsing, so that a read
 * error is an error and not an early end of file) and the section its lines
 * are in, kept here at full length (inih's own copy is cut at 49 bytes). */
struct source {
	const char *file;          /* real path */
	char *text;
	size_t len, pos;
	int line;                  /* number of the line inih is handling */
	char *section, *instance;  /* NULL before the first [section] */
	bool section_bad;          /* its header was reported: its keys are skipped */
};

struct parse_state {
	struct profile *p;
	struct source *src;
	const char *stack[PROFILE_MAX_DEPTH];
	int depth;
	size_t bytes;              /* read so far, over every file */
	unsigned includes;
	bool check_owner;
};

static int load_file(struct parse_state *st, const char *path, const struct setting *from);

static void vreport(struct profile *p, const char *file, int line, const char *fmt, va_list ap)
{
	struct profile_error *v;
	char msg[1024];

	p->n_errors++;
	if (p->n_listed >= PROFILE_MAX_LISTED) {
		p->n_unlisted++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	v = realloc(p->errors, (p->n_listed + 1) * sizeof(*v));
	if (!v) {
		log_error("%s:%d: %s", file, line, msg);
		return;
	}
	p->errors = v;
	v[p->n_listed++] = (struct profile_error){ .file = strdup(file), .line = line, .message = strdup(msg) };
}

static void report(struct profile *p, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report(struct profile *p, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, file, line, fmt, ap);
	va_end(ap);
}

/* An error on the line being read. */
static void line_error(struct parse_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_error(struct parse_state *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(st->p, st->src->file, st->src->line, fmt, ap);
	va_end(ap);
}

void profile_error(struct profile *p, const struct setting *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, s->file, s->line, fmt, ap);
	va_end(ap);
}

static int add_setting(struct setting **v, size_t *n, size_t *cap, const char *file, int line,
		       const char *section, const char *instance, const char *key, const char *value)
{
	struct setting *s;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct setting *nv = realloc(*v, c * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	s = &(*v)[*n];
	*s = (struct setting){
		.file = strdup(file), .line = line, .section = strdup(section),
		.instance = instance ? strdup(instance) : NULL,
		.key = key ? strdup(key) : NULL, .value = value ? strdup(value) : NULL,
	};
	(*n)++;
	if (!s->file || !s->section || (instance && !s->instance) || (key && !s->key) || (value && !s->value))
		return -ENOMEM;
	return 0;
}

static void free_setting(struct setting *s)
{
	free(s->file);
	free(s->section);
	free(s->instance);
	free(s->key);
	free(s->value);
}

static void free_settings(struct setting *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_setting(&v[i]);
	free(v);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Bidirectional-text controls: they make a line display as something it is
 * not ("Trojan Source"). */
static bool is_bidi_control(uint32_t cp)
{
	return cp == 0x061c || (cp >= 0x200e && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* What no profile line may hold: a NUL (C strings would cut the line
 * there), a CR inside the line (a file with CR line endings would be read
 * as one line), other control characters, bytes that are no UTF-8.  Then
 * the length. */
static int check_line(struct parse_state *st, const char *line, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)line[i];
		uint32_t cp;
		size_t k;

		if (c == '\0') {
			line_error(st, "NUL byte in the line (column %zu)", i + 1);
			return -EINVAL;
		}
		if (c == '\r') {
			line_error(st, "carriage return inside the line (CR line endings? lines end with LF or CR LF)");
			return -EINVAL;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			line_error(st, "control character 0x%02x in the line (column %zu)", c, i + 1);
			return -EINVAL;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		k = utf8_decode(line + i, n - i, &cp);
		if (k == 0) {
			line_error(st, "byte 0x%02x at column %zu is no UTF-8", c, i + 1);
			return -EINVAL;
		}
		if (cp < 0xa0 || is_bidi_control(cp)) {
			line_error(st, "control character U+%04X in the line (column %zu)", (unsigned)cp, i + 1);
			return -EINVAL;
		}
		i += k;
	}
	if (n > PROFILE_MAX_LINE) {
		line_error(st, "line is %zu bytes long, longer than the %d this parser holds", n, PROFILE_MAX_LINE);
		return -EINVAL;
	}
	return 0;
}

/* "[sriov 0000:03:00.0]  ; comment": the section and its instance, kept at
 * full length in src; anything but a comment after ']' is an error. */
static int section_line(struct parse_state *st, const char *line, size_t n)
{
	struct source *src = st->src;
	const char *close = memchr(line, ']', n), *end = line + n, *a, *b, *c, *d;

	free(src->section);
	free(src->instance);
	src->section = src->instance = NULL;
	src->section_bad = true;
	if (!close) {
		line_error(st, "section line lacks its closing ']'");
		return 0;
	}
	for (a = close + 1; a < end && is_blank(*a); a++)
		;
	if (a < end && *a != ';' && *a != '#') {
		line_error(st, "text after ']' on a section line: '%.*s' (a key goes on a line of its own)",
			   (int)(end - a), a);
		return 0;
	}
	for (a = line + 1; a < close && is_blank(*a); a++)
		;
	for (d = close; d > a && is_blank(d[-1]); d--)
		;
	for (b = a; b < d && !is_blank(*b); b++)
		;
	for (c = b; c < d && is_blank(*c); c++)
		;
	if (a == d || memchr(a, '[', (size_t)(d - a))) {
		line_error(st, "malformed section name [%.*s]", (int)(close - line - 1), line + 1);
		return 0;
	}
	for (const char *x = c; x < d; x++)
		if (is_blank(*x)) {
			line_error(st, "malformed section name [%.*s]: the name after '%.*s' is one word",
				   (int)(close - line - 1), line + 1, (int)(b - a), a);
			return 0;
		}
	src->section = strndup(a, (size_t)(b - a));
	src->instance = c < d ? strndup(c, (size_t)(d - c)) : NULL;
	if (!src->section || (c < d && !src->instance))
		return -ENOMEM;
	if (strcmp(src->section, "profile") == 0) {
		if (src->instance) {
			line_error(st, "[profile] takes no name");
			return 0;
		}
	} else if (add_setting(&st->p->sections, &st->p->n_sections, &st->p->cap_sections, src->file, src->line,
			       src->section, src->instance, NULL, NULL) < 0) {
		return -ENOMEM;
	}
	src->section_bad = false;
	return 0;
}

/* A key line as inih splits it: at the first '=' or ':' unless an inline
 * comment (';' after a blank) comes first.  Only '=' is ours. */
static int check_key_line(struct parse_state *st, const char *line, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (line[i] == '=') {
			if (i == 0)
				line_error(st, "a key is missing before '='");
			return i == 0 ? -EINVAL : 0;
		}
		if (line[i] == ':') {
			line_error(st, "syntax error: expected key = value, not key: value");
			return -EINVAL;
		}
		if (line[i] == ';' && i > 0 && is_blank(line[i - 1]))
			break;
	}
	line_error(st, "syntax error (expected [section] or key = value)");
	return -EINVAL;
}

/* fgets-alike for inih, over the text already read: counts lines, and hands
 * inih only lines that passed the checks above, without leading blanks (so
 * that inih never takes one for a continuation line).  Lines with an error,
 * section lines (kept in src), blank lines and comments reach inih as empty
 * lines. */
static char *reader(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	struct source *src = st->src;
	const char *line, *nl;
	size_t n;

	if (src->pos >= src->len || num < 3)
		return NULL;
	line = src->text + src->pos;
	nl = memchr(line, '\n', src->len - src->pos);
	n = nl ? (size_t)(nl - line) : src->len - src->pos;
	src->pos += n + (nl ? 1 : 0);
	src->line++;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (src->line == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3, n -= 3;
	strcpy(str, "\n");
	if (check_line(st, line, n) < 0)
		return str;
	while (n > 0 && is_blank(*line))
		line++, n--;
	while (n > 0 && is_blank(line[n - 1]))
		n--;
	if (n == 0 || *line == ';' || *line == '#')
		return str;
	if (*line == '[') {
		if (section_line(st, line, n) < 0)
			return NULL;   /* no memory: stop reading */
		return str;
	}
	if (check_key_line(st, line, n) < 0)
		return str;
	if (n + 2 > (size_t)num) {
		line_error(st, "line is %zu bytes long, longer than the %d this parser holds", n, num - 2);
		return str;
	}
	memcpy(str, line, n);
	strcpy(str + n, "\n");
	return str;
}

static int handle_profile_key(struct parse_state *st, const char *name, const char *value)
{
	struct setting here = { .file = (char *)st->src->file, .line = st->src->line };

	if (strcmp(name, "name") == 0) {
		if (st->depth == 1) {
			free(st->p->name);
			st->p->name = strdup(value);
			if (!st->p->name)
				return -ENOMEM;
		}
		return 0;
	}
	if (strcmp(name, "description") == 0)
		return 0;
	if (strcmp(name, "include") == 0) {
		char dir[PATH_MAX], path[PATH_MAX * 2];

		if (!*value) {
			line_error(st, "include needs a file name");
			return 0;
		}
		snprintf(dir, sizeof(dir), "%s", st->src->file);
		if (value[0] == '/')
			snprintf(path, sizeof(path), "%s", value);
		else
			snprintf(path, sizeof(path), "%s/%s", dirname(dir), value);
		return load_file(st, path, &here);
	}
	line_error(st, "unknown key '%s' in [profile]", name);
	return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	struct source *src = st->src;

	(void)section;   /* cut at 49 bytes by inih: src holds it whole */
	if (src->section_bad)
		return 1;
	if (!src->section) {
		line_error(st, "'%s' is outside any [section]", name);
		return 1;
	}
	if (strcmp(src->section, "profile") == 0)
		return handle_profile_key(st, name, value) == -ENOMEM ? 0 : 1;
	if (add_setting(&st->p->settings, &st->p->n_settings, &st->p->cap_settings, src->file, src->line,
			src->section, src->instance, name, value) < 0)
		return 0;
	return 1;
}

/* The whole text of a regular file, counted against the profile's size
 * limit.  Errors are reported at (at_file, at_line): the include line, or the
 * file itself for the top profile. */
static int read_text(struct parse_state *st, const char *real, const char *at_file, int at_line, char **ret,
		     size_t *ret_len)
{
	size_t budget = PROFILE_MAX_BYTES - st->bytes, len = 0, cap;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat before, sb;

	/* Checked before opening: opening a FIFO blocks, opening a device may act. */
	if (stat(real, &before) < 0) {
		report(st->p, at_file, at_line, "cannot open %s: %s", real, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(before.st_mode)) {
		report(st->p, at_file, at_line, "%s is not a regular file", real);
		return -EINVAL;
	}
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		report(st->p, at_file, at_line, "cannot open %s: %s", real, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &sb) < 0) {
		report(st->p, at_file, at_line, "cannot read %s: %s", real, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_dev != before.st_dev || sb.st_ino != before.st_ino) {
		report(st->p, at_file, at_line, "%s was replaced while being opened", real);
		return -EINVAL;
	}
	if (st->check_owner && (sb.st_uid != 0 || (sb.st_mode & (S_IWGRP | S_IWOTH)))) {
		report(st->p, at_file, at_line,
		       "%s must be owned by root and not writable by group or others (owner %u, mode %04o)", real,
		       (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	if ((uint64_t)sb.st_size > budget)
		goto too_large;
	cap = (size_t)sb.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (len == cap) {   /* the file grew, or its size was not told */
			char *nb;

			if (len > budget)
				goto too_large;
			cap = cap * 2 > budget + 1 ? budget + 1 : cap * 2;
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			report(st->p, at_file, at_line, "cannot read %s: %s", real, strerror(errno));
			return -errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > budget)
		goto too_large;
	st->bytes += len;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
too_large:
	report(st->p, at_file, at_line, "%s is too large: a profile and its includes hold at most %d bytes together",
	       real, PROFILE_MAX_BYTES);
	return -EFBIG;
}

static int load_file(struct parse_state *st, const char *path, const struct setting *from)
{
	const char *at_file = from ? from->file : path;
	int at_line = from ? from->line : 0, r;
	char real[PATH_MAX];
	struct source src = { 0 }, *saved = st->src;

	if (!realpath(path, real)) {
		report(st->p, at_file, at_line, "cannot open %s: %s", path, strerror(errno));
		return -ENOENT;
	}
	for (int i = 0; i < st->depth; i++)
		if (strcmp(st->stack[i], real) == 0) {
			report(st->p, at_file, at_line, "include loop: %s is already being read", real);
			return -ELOOP;
		}
	if (st->depth >= PROFILE_MAX_DEPTH) {
		report(st->p, at_file, at_line, "includes nested deeper than %d", PROFILE_MAX_DEPTH);
		return -ELOOP;
	}
	if (from && ++st->includes > PROFILE_MAX_INCLUDES) {
		if (st->includes == PROFILE_MAX_INCLUDES + 1)
			report(st->p, at_file, at_line, "more than %d includes", PROFILE_MAX_INCLUDES);
		return -E2BIG;
	}
	src.file = strdup(real);
	if (!src.file)
		return -ENOMEM;
	r = read_text(st, real, at_file, at_line, &src.text, &src.len);
	if (r == 0) {
		st->stack[st->depth++] = src.file;
		st->src = &src;
		r = ini_parse_stream(reader, st, handler, st);
		if (r > 0)
			report(st->p, src.file, r, "syntax error (expected [section] or key = value)");
		r = r == -2 ? -ENOMEM : 0;
		st->depth--;
		st->src = saved;
	}
	free(src.text);
	free(src.section);
	free(src.instance);
	free((char *)src.file);
	return r;
}

/* Settings keyed by (section, instance, key), for later-wins in linear time. */
static uint64_t setting_hash(const struct setting *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	const char *parts[] = { s->section, s->instance ? s->instance : "", s->key };

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		for (const char *c = parts[i]; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;   /* no byte of a string: parts stay apart */
	}
	return h;
}

static bool same_key(const struct setting *s, const struct setting *t)
{
	return strcmp(s->section, t->section) == 0 && strcmp(s->key, t->key) == 0 && streq_ptr(s->instance, t->instance);
}

/* Drop settings overridden by a later one with the same section, instance
 * and key.  An open-addressing table maps each key to its last setting. */
static int apply_later_wins(struct profile *p)
{
	size_t size = 16, out = 0;
	_cleanup_free_ size_t *slot = NULL;   /* index + 1; 0 = empty */

	while (size < p->n_settings * 2)
		size *= 2;
	slot = calloc(size, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_settings; i++) {
		size_t h = (size_t)setting_hash(&p->settings[i]) & (size - 1);

		while (slot[h] && !same_key(&p->settings[slot[h] - 1], &p->settings[i]))
			h = (h + 1) & (size - 1);
		slot[h] = i + 1;
	}
	for (size_t i = 0; i < p->n_settings; i++) {
		size_t h = (size_t)setting_hash(&p->settings[i]) & (size - 1);

		while (!same_key(&p->settings[slot[h] - 1], &p->settings[i]))
			h = (h + 1) & (size - 1);
		if (slot[h] - 1 != i) {
			free_setting(&p->settings[i]);
			continue;
		}
		p->settings[out++] = p->settings[i];
	}
	p->n_settings = out;
	return 0;
}

int profile_load(struct profile *p, const char *path, bool check_owner)
{
	struct parse_state st = { .p = p, .check_owner = check_owner };
	int r;

	memset(p, 0, sizeof(*p));
	p->path = strdup(path);
	if (!p->path)
		return -ENOMEM;
	r = load_file(&st, path, NULL);
	if (r == -ENOMEM || apply_later_wins(p) < 0)
		return -ENOMEM;
	return p->n_errors ? -EINVAL : 0;
}

struct error_key {
	size_t file_rank;          /* index of the first error of the same file */
	size_t index;
	int line;
};

static int cmp_error_key(const void *a, const void *b)
{
	const struct error_key *x = a, *y = b;

	if (x->file_rank != y->file_rank)
		return x->file_rank < y->file_rank ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Files come in the order of their first error (which follows the include
 * order), lines in order within a file, equal lines in the order found. */
size_t *profile_error_order(const struct profile *p)
{
	_cleanup_free_ struct error_key *keys = calloc(p->n_listed + 1, sizeof(*keys));
	size_t *order = calloc(p->n_listed + 1, sizeof(*order));

	if (!keys || !order) {
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < p->n_listed; i++) {
		keys[i] = (struct error_key){ .file_rank = i, .index = i, .line = p->errors[i].line };
		/* Errors of one file are mostly adjacent: look back for the file's rank. */
		for (size_t j = i; j-- > 0;)
			if (streq_ptr(p->errors[j].file, p->errors[i].file)) {
				keys[i].file_rank = keys[j].file_rank;
				break;
			}
	}
	qsort(keys, p->n_listed, sizeof(*keys), cmp_error_key);
	for (size_t i = 0; i < p->n_listed; i++)
		order[i] = keys[i].index;
	return order;
}

void profile_print_errors(const struct profile *p)
{
	_cleanup_free_ size_t *order = profile_error_order(p);

	if (!order)
		return;
	for (size_t i = 0; i < p->n_listed; i++) {
		const struct profile_error *e = &p->errors[order[i]];
		const char *file = e->file ? e->file : "?", *msg = e->message ? e->message : "(no memory for the text)";

		if (e->line > 0)
			log_error("%s:%d: %s", file, e->line, msg);
		else
			log_error("%s: %s", file, msg);
	}
	if (p->n_unlisted)
		log_error("%s: %u more error(s) not shown", p->path ? p->path : "?", p->n_unlisted);
}

void profile_free(struct profile *p)
{
	for (size_t i = 0; i < p->n_listed; i++) {
		free(p->errors[i].file);
		free(p->errors[i].message);
	}
	free(p->errors);
	free_settings(p->settings, p->n_settings);
	free_settings(p->sections, p->n_sections);
	free(p->path);
	free(p->name);
	memset(p, 0, sizeof(*p));
}
