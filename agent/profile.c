#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "profile.h"
#include "util.h"

#define MAX_INCLUDE_DEPTH 8

struct parse_state {
	struct profile *p;
	FILE *f;
	const char *file;      /* real path of the file being read */
	int line;              /* line number of the line inih is handling */
	const char *stack[MAX_INCLUDE_DEPTH];
	int depth;
	bool check_owner;
};

static int load_file(struct parse_state *st, const char *path, const struct setting *from);

static void vreport(struct profile *p, const char *file, int line, const char *fmt, va_list ap)
{
	struct profile_error *v = realloc(p->errors, (p->n_listed + 1) * sizeof(*v));
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	p->n_errors++;
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

void profile_error(struct profile *p, const struct setting *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, s->file, s->line, fmt, ap);
	va_end(ap);
}

static int split_section(const char *full, char *section, size_t slen, char *instance, size_t ilen);
static int add_setting(struct setting **v, size_t *n, const char *file, int line, const char *section,
		       const char *instance, const char *key, const char *value);

/* inih reports sections only through their keys: note headers here so an
 * empty section (e.g. "[kvm]" with defaults) still counts. */
static void note_section(struct parse_state *st, char *header)
{
	char *e = strchr(header, ']'), sec[64], inst[128];

	if (!e)
		return;
	*e = '\0';
	if (split_section(header, sec, sizeof(sec), inst, sizeof(inst)) == 0 && strcmp(sec, "profile") != 0)
		(void)add_setting(&st->p->sections, &st->p->n_sections, st->file, st->line, sec,
				  *inst ? inst : NULL, NULL, NULL);
	*e = ']';
}

/* fgets-alike for inih that counts lines, refuses lines inih would cut, and
 * strips leading blanks so inih never sees a continuation line. */
static char *reader(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, st->f);
	size_t skip = 0;

	if (n < 0) {
		free(line);
		return NULL;
	}
	st->line++;
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	while (line[skip] == ' ' || line[skip] == '\t')
		skip++;
	if ((size_t)n - skip > PROFILE_MAX_LINE || (int)((size_t)n - skip) >= num - 1) {
		report(st->p, st->file, st->line, "line is %zd bytes long, longer than the %d this parser holds",
		       n, PROFILE_MAX_LINE);
		str[0] = '\n';
		str[1] = '\0';
	} else {
		snprintf(str, (size_t)num, "%s\n", line + skip);
		if (line[skip] == '[')
			note_section(st, line + skip + 1);
	}
	free(line);
	return str;
}

static int add_setting(struct setting **v, size_t *n, const char *file, int line, const char *section,
		       const char *instance, const char *key, const char *value)
{
	struct setting *nv = realloc(*v, (*n + 1) * sizeof(**v));
	struct setting *s;

	if (!nv)
		return -ENOMEM;
	*v = nv;
	s = &nv[*n];
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

static void free_settings(struct setting *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].file);
		free(v[i].section);
		free(v[i].instance);
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

/* "sriov 0000:03:00.0" → section "sriov", instance "0000:03:00.0". */
static int split_section(const char *full, char *section, size_t slen, char *instance, size_t ilen)
{
	size_t n = strcspn(full, " \t");
	const char *rest = full + n;

	if (n == 0 || n >= slen)
		return -EINVAL;
	memcpy(section, full, n);
	section[n] = '\0';
	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (strlen(rest) >= ilen || strpbrk(rest, " \t"))
		return -EINVAL;
	strcpy(instance, rest);
	return 0;
}

static int handle_profile_key(struct parse_state *st, const char *name, const char *value)
{
	struct setting here = { .file = (char *)st->file, .line = st->line };

	if (strcmp(name, "name") == 0) {
		if (st->depth == 1) {
			free(st->p->name);
			st->p->name = strdup(value);
		}
		return 0;
	}
	if (strcmp(name, "description") == 0)
		return 0;
	if (strcmp(name, "include") == 0) {
		char dir[PATH_MAX], path[PATH_MAX * 2];

		if (!*value) {
			report(st->p, st->file, st->line, "include needs a file name");
			return 0;
		}
		snprintf(dir, sizeof(dir), "%s", st->file);
		if (value[0] == '/')
			snprintf(path, sizeof(path), "%s", value);
		else
			snprintf(path, sizeof(path), "%s/%s", dirname(dir), value);
		return load_file(st, path, &here);
	}
	report(st->p, st->file, st->line, "unknown key '%s' in [profile]", name);
	return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char sec[64], inst[128];

	if (!*section) {
		report(st->p, st->file, st->line, "'%s' is outside any [section]", name);
		return 1;
	}
	if (split_section(section, sec, sizeof(sec), inst, sizeof(inst)) < 0) {
		report(st->p, st->file, st->line, "malformed section name [%s]", section);
		return 1;
	}
	if (strcmp(sec, "profile") == 0) {
		if (*inst)
			report(st->p, st->file, st->line, "[profile] takes no name");
		else if (handle_profile_key(st, name, value) == -ENOMEM)
			return 0;
		return 1;
	}
	if (add_setting(&st->p->settings, &st->p->n_settings, st->file, st->line, sec, *inst ? inst : NULL,
			name, value) < 0)
		return 0;
	return 1;
}

static int check_file(struct parse_state *st, const char *path, int fd, const struct setting *from)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode)) {
		report(st->p, from ? from->file : path, from ? from->line : 0, "%s is not a regular file", path);
		return -EINVAL;
	}
	if (st->check_owner && (sb.st_uid != 0 || (sb.st_mode & (S_IWGRP | S_IWOTH)))) {
		report(st->p, from ? from->file : path, from ? from->line : 0,
		       "%s must be owned by root and not writable by group or others (owner %u, mode %04o)", path,
		       (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static int load_file(struct parse_state *st, const char *path, const struct setting *from)
{
	char real[PATH_MAX];
	_cleanup_fclose_ FILE *f = NULL;
	FILE *saved_f = st->f;
	const char *saved_file = st->file;
	int saved_line = st->line, r;

	if (!realpath(path, real)) {
		report(st->p, from ? from->file : path, from ? from->line : 0, "cannot open %s: %s", path,
		       strerror(errno));
		return -ENOENT;
	}
	for (int i = 0; i < st->depth; i++)
		if (strcmp(st->stack[i], real) == 0) {
			report(st->p, from->file, from->line, "include loop: %s is already being read", real);
			return -ELOOP;
		}
	if (st->depth >= MAX_INCLUDE_DEPTH) {
		report(st->p, from->file, from->line, "includes nested deeper than %d", MAX_INCLUDE_DEPTH);
		return -ELOOP;
	}
	f = fopen(real, "re");
	if (!f) {
		report(st->p, from ? from->file : path, from ? from->line : 0, "cannot open %s: %s", path,
		       strerror(errno));
		return -errno;
	}
	r = check_file(st, real, fileno(f), from);
	if (r < 0)
		return r;

	char *file = strdup(real);
	if (!file)
		return -ENOMEM;
	st->stack[st->depth++] = file;
	st->f = f;
	st->file = file;
	st->line = 0;
	r = ini_parse_stream(reader, st, handler, st);
	if (r > 0)
		report(st->p, file, r, "syntax error (expected [section] or key = value)");
	st->depth--;
	st->f = saved_f;
	st->file = saved_file;
	st->line = saved_line;
	free(file);
	return r == -2 ? -ENOMEM : 0;
}

/* Drop settings overridden by a later one with the same section, instance and key. */
static void apply_later_wins(struct profile *p)
{
	size_t out = 0;

	for (size_t i = 0; i < p->n_settings; i++) {
		struct setting *s = &p->settings[i];
		bool overridden = false;

		for (size_t j = i + 1; j < p->n_settings && !overridden; j++) {
			struct setting *t = &p->settings[j];
			overridden = strcmp(s->section, t->section) == 0 && strcmp(s->key, t->key) == 0 &&
				     ((!s->instance && !t->instance) ||
				      (s->instance && t->instance && strcmp(s->instance, t->instance) == 0));
		}
		if (overridden) {
			free(s->file), free(s->section), free(s->instance), free(s->key), free(s->value);
			continue;
		}
		p->settings[out++] = *s;
	}
	p->n_settings = out;
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
	if (r == -ENOMEM)
		return r;
	apply_later_wins(p);
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
