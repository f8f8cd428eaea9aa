/* What hostprep did before: one record per module under /var/lib/hostprep,
 * one item per line, so that a later run undoes only what it owns. */
#ifndef HOSTPREP_STATE_H
#define HOSTPREP_STATE_H

#include <stdbool.h>

struct hostroot;

/* Missing record → empty list. */
int state_load(const struct hostroot *hr, const char *name, char ***ret);
/* Atomic replace; an empty list removes the record. */
int state_save(struct hostroot *hr, const char *name, char *const *items);
bool state_contains(char *const *items, const char *item);
/* Records made of "KEY ..." lines: replace the line of key by line, or remove
 * it when line is NULL.  keep_existing: an existing line of key stays as it is. */
int state_set_keyed(struct hostroot *hr, const char *name, const char *key, const char *line, bool keep_existing);

#endif
