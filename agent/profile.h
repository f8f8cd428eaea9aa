/* Host profile: INI files (with include=) read into an ordered list of
 * settings, each remembering FILE:LINE.  Later settings of the same key win. */
#ifndef HOSTPREP_PROFILE_H
#define HOSTPREP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

struct setting {
	char *file;
	int line;
	char *section;   /* "hugepages", "sriov" */
	char *instance;  /* "0000:03:00.0" for [sriov 0000:03:00.0], else NULL */
	char *key;
	char *value;
};

/* One problem found in the profile; line 0 when it concerns the whole file. */
struct profile_error {
	char *file;
	int line;
	char *message;
};

struct profile {
	char *path;
	char *name;
	struct setting *settings;
	size_t n_settings, cap_settings;
	/* Section headers seen, so that an empty [section] still counts. */
	struct setting *sections;
	size_t n_sections, cap_sections;
	/* Every problem, in the order found; profile_print_errors() sorts them.
	 * n_errors counts them all, also one that could not be listed (no memory:
	 * logged at once instead) and those past PROFILE_MAX_LISTED (n_unlisted). */
	struct profile_error *errors;
	size_t n_listed;
	unsigned n_errors, n_unlisted;
};

/* Loads path and its includes.  Every problem is logged as FILE:LINE and
 * counted; returns -EINVAL when there was any. */
int profile_load(struct profile *p, const char *path, bool check_owner);
void profile_free(struct profile *p);

/* Record "FILE:LINE: message" against a setting. */
void profile_error(struct profile *p, const struct setting *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Longest line accepted, in bytes without its line ending: inih's buffer
 * (200) less the newline and the NUL it needs.  Longer lines are errors, never
 * cut. */
#define PROFILE_MAX_LINE 198
/* The profile and its includes together, in bytes. */
#define PROFILE_MAX_BYTES (1024 * 1024)
/* include = lines over the whole profile, and how deep they may nest. */
#define PROFILE_MAX_INCLUDES 128
#define PROFILE_MAX_DEPTH 8
/* Errors kept for printing; the others are counted. */
#define PROFILE_MAX_LISTED 100

/* Log every error as FILE:LINE: message, ordered by file (in the order the
 * files were first read) and line, so that output follows the text. */
void profile_print_errors(const struct profile *p);
/* That order: indexes into p->errors (malloc'd, n_listed long), NULL without memory. */
size_t *profile_error_order(const struct profile *p);

#endif
