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

struct profile {
	char *path;
	char *name;
	struct setting *settings;
	size_t n_settings;
	/* Section headers seen, so that an empty [section] still counts. */
	struct setting *sections;
	size_t n_sections;
	unsigned n_errors;
};

/* Loads path and its includes.  Every problem is logged as FILE:LINE and
 * counted; returns -EINVAL when there was any. */
int profile_load(struct profile *p, const char *path, bool check_owner);
void profile_free(struct profile *p);

/* Log "FILE:LINE: message" against a setting and count it. */
void profile_error(struct profile *p, const struct setting *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Maximum line length accepted (inih's buffer less the newline). */
#define PROFILE_MAX_LINE 199

#endif
