/* Compact JSON records: an object with a fixed set of scalar members, kept
 * as a json-c array of its values and written out as the object.  json-c
 * gives every object a 16-slot hash table (640 bytes); a host's thousand VFs
 * in a report were 0.6 MB of them.  A record reads back through jrec_get(),
 * which also answers for ordinary objects. */
#ifndef HOSTPREP_JREC_H
#define HOSTPREP_JREC_H

#include <json-c/json.h>
#include <stddef.h>

struct jrec_shape {
	const char *const *keys;   /* the members, in output order */
	size_t n;
};

/* A record of shape (which must outlive it), every member null. */
struct json_object *jrec_new(const struct jrec_shape *shape);
/* Sets member key to value (a string, integer, boolean, or NULL for null;
 * the record takes the reference).  -EINVAL for another kind of value or a
 * key not in the shape (value is released). */
int jrec_set(struct json_object *rec, const char *key, struct json_object *value);
/* Member key of a record or of an ordinary object; NULL when absent or null. */
struct json_object *jrec_get(struct json_object *o, const char *key);

#endif
