#include <errno.h>
#include <inttypes.h>
#include <json-c/printbuf.h>
#include <stdio.h>
#include <string.h>

#include "jrec.h"

/* A record is an array whose user data is its shape: nothing else here gives
 * an array user data (json-c itself gives it only to doubles). */
static const struct jrec_shape *shape_of(struct json_object *o)
{
	return o && json_object_is_type(o, json_type_array) ? json_object_get_userdata(o) : NULL;
}

static void indent(struct printbuf *pb, int level, int flags)
{
	if (!(flags & JSON_C_TO_STRING_PRETTY))
		return;
	for (int i = 0; i < level; i++)
		if (flags & JSON_C_TO_STRING_PRETTY_TAB)
			printbuf_strappend(pb, "\t");
		else
			printbuf_strappend(pb, "  ");
}

/* As json-c escapes a string (json_escape_str): the same bytes out. */
static void put_string(struct printbuf *pb, const char *s, int flags)
{
	static const char hex[] = "0123456789abcdef";

	printbuf_strappend(pb, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7];

		switch (*p) {
		case '\b': printbuf_strappend(pb, "\\b"); break;
		case '\n': printbuf_strappend(pb, "\\n"); break;
		case '\r': printbuf_strappend(pb, "\\r"); break;
		case '\t': printbuf_strappend(pb, "\\t"); break;
		case '\f': printbuf_strappend(pb, "\\f"); break;
		case '"': printbuf_strappend(pb, "\\\""); break;
		case '\\': printbuf_strappend(pb, "\\\\"); break;
		case '/':
			if (flags & JSON_C_TO_STRING_NOSLASHESCAPE)
				printbuf_strappend(pb, "/");
			else
				printbuf_strappend(pb, "\\/");
			break;
		default:
			if (*p < ' ') {
				snprintf(esc, sizeof(esc), "\\u00%c%c", hex[*p >> 4], hex[*p & 0xf]);
				printbuf_memappend(pb, esc, 6);
			} else {
				printbuf_memappend(pb, (const char *)p, 1);
			}
		}
	}
	printbuf_strappend(pb, "\"");
}

static void put_value(struct printbuf *pb, struct json_object *v, int flags)
{
	char num[32];

	switch (v ? json_object_get_type(v) : json_type_null) {
	case json_type_string:
		put_string(pb, json_object_get_string(v), flags);
		break;
	case json_type_int:
		snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(v));
		printbuf_memappend(pb, num, (int)strlen(num));
		break;
	case json_type_boolean:
		if (json_object_get_boolean(v))
			printbuf_strappend(pb, "true");
		else
			printbuf_strappend(pb, "false");
		break;
	default:   /* jrec_set lets nothing else in */
		printbuf_strappend(pb, "null");
	}
}

/* Laid out as json-c lays out an object (json_object_object_to_json_string). */
static int jrec_to_json(struct json_object *rec, struct printbuf *pb, int level, int flags)
{
	const struct jrec_shape *shape = shape_of(rec);

	printbuf_strappend(pb, "{");
	for (size_t i = 0; shape && i < shape->n; i++) {
		if (i > 0)
			printbuf_strappend(pb, ",");
		if (flags & JSON_C_TO_STRING_PRETTY)
			printbuf_strappend(pb, "\n");
		else if (flags & JSON_C_TO_STRING_SPACED)
			printbuf_strappend(pb, " ");
		indent(pb, level + 1, flags);
		put_string(pb, shape->keys[i], flags);
		if (flags & JSON_C_TO_STRING_SPACED)
			printbuf_strappend(pb, ": ");
		else
			printbuf_strappend(pb, ":");
		put_value(pb, json_object_array_get_idx(rec, i), flags);
	}
	if ((flags & JSON_C_TO_STRING_PRETTY) && shape && shape->n) {
		printbuf_strappend(pb, "\n");
		indent(pb, level, flags);
	}
	if ((flags & JSON_C_TO_STRING_SPACED) && !(flags & JSON_C_TO_STRING_PRETTY))
		return printbuf_strappend(pb, " }");
	return printbuf_strappend(pb, "}");
}

struct json_object *jrec_new(const struct jrec_shape *shape)
{
	struct json_object *rec = json_object_new_array_ext((int)shape->n);

	if (!rec)
		return NULL;
	for (size_t i = 0; i < shape->n; i++)
		if (json_object_array_add(rec, NULL) < 0) {
			json_object_put(rec);
			return NULL;
		}
	/* The shape is static: nothing to free with the record. */
	json_object_set_serializer(rec, jrec_to_json, (void *)shape, NULL);
	return rec;
}

int jrec_set(struct json_object *rec, const char *key, struct json_object *value)
{
	const struct jrec_shape *shape = shape_of(rec);
	enum json_type t = value ? json_object_get_type(value) : json_type_null;

	if (shape && (t == json_type_null || t == json_type_string || t == json_type_int || t == json_type_boolean))
		for (size_t i = 0; i < shape->n; i++)
			if (strcmp(shape->keys[i], key) == 0)
				return json_object_array_put_idx(rec, i, value) == 0 ? 0 : -ENOMEM;
	json_object_put(value);
	return -EINVAL;
}

struct json_object *jrec_get(struct json_object *o, const char *key)
{
	const struct jrec_shape *shape = shape_of(o);
	struct json_object *v = NULL;

	if (!shape)
		return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
	for (size_t i = 0; i < shape->n; i++)
		if (strcmp(shape->keys[i], key) == 0)
			return json_object_array_get_idx(o, i);
	return NULL;
}
