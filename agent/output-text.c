/* Text output: the run's JSON document rendered for people.  Everything
 * printed here comes from the document, so text and JSON never disagree. */
#include <string.h>

#include "engine.h"
#include "log.h"
#include "output.h"

static const char *sval(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static bool is_scalar(struct json_object *v)
{
	return !v || (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array));
}

/* An array of scalars fits on one line. */
static bool is_flat_array(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!is_scalar(json_object_array_get_idx(v, i)))
			return false;
	return true;
}

static void print_tree(FILE *f, struct json_object *o, int indent);

static void print_value(FILE *f, const char *key, struct json_object *v, int indent)
{
	if (is_scalar(v)) {
		fprintf(f, "%*s%s: %s\n", indent, "", key, v ? json_object_get_string(v) : "-");
	} else if (is_flat_array(v)) {
		fprintf(f, "%*s%s:", indent, "", key);
		for (size_t i = 0; i < json_object_array_length(v); i++)
			fprintf(f, "%s%s", i ? ", " : " ", json_object_get_string(json_object_array_get_idx(v, i)));
		fputs(json_object_array_length(v) ? "\n" : " -\n", f);
	} else {
		fprintf(f, "%*s%s:\n", indent, "", key);
		print_tree(f, v, indent + 2);
	}
}

static void print_tree(FILE *f, struct json_object *o, int indent)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			struct json_object *e = json_object_array_get_idx(o, i);

			if (is_scalar(e)) {
				fprintf(f, "%*s- %s\n", indent, "", json_object_get_string(e));
				continue;
			}
			fprintf(f, "%*s-\n", indent, "");
			print_tree(f, e, indent + 2);
		}
		return;
	}
	json_object_object_foreach(o, key, val)
		print_value(f, key, val, indent);
}

static void print_actions(FILE *f, struct json_object *actions)
{
	for (size_t i = 0; i < json_object_array_length(actions); i++) {
		struct json_object *a = json_object_array_get_idx(actions, i);
		const char *cur = sval(a, "current"), *des = sval(a, "desired"), *msg = sval(a, "message");
		const char *prev = sval(a, "previous");

		fprintf(f, "%-14s %-10s %-36s", sval(a, "state"), sval(a, "module"), sval(a, "target"));
		/* After a change: what it was -> what it is now; else: now -> wanted. */
		if (prev)
			fprintf(f, " %s -> %s", prev, cur ? cur : "-");
		else if (cur || des)
			fprintf(f, " %s -> %s", cur ? cur : "-", des ? des : "-");
		if (msg)
			fprintf(f, "  (%s)", msg);
		fputc('\n', f);
	}
}

void output_print(FILE *f, struct json_object *doc, bool json)
{
	struct json_object *actions, *caps, *warnings;
	size_t counts[ACTION_UNSUPPORTED + 1] = { 0 };
	const char *command = sval(doc, "command");

	if (json) {
		fprintf(f, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	json_object_object_get_ex(doc, "actions", &actions);
	json_object_object_get_ex(doc, "capabilities", &caps);
	json_object_object_get_ex(doc, "warnings", &warnings);
	if (strcmp(command, "report") != 0) {
		print_actions(f, actions);
		for (size_t i = 0; i < json_object_array_length(actions); i++) {
			const char *st = sval(json_object_array_get_idx(actions, i), "state");
			for (int s = 0; s <= ACTION_UNSUPPORTED; s++)
				if (strcmp(st, action_state_name(s)) == 0)
					counts[s]++;
		}
		fprintf(f, "%s: %zu actions: %zu ok, %zu %s, %zu pending-reboot, %zu pending-reload, %zu failed, "
			   "%zu skipped, %zu unsupported%s\n",
			command, json_object_array_length(actions), counts[ACTION_OK],
			strcmp(command, "audit") == 0 ? counts[ACTION_PENDING] : counts[ACTION_CHANGED],
			strcmp(command, "audit") == 0 ? "pending" : "changed", counts[ACTION_PENDING_REBOOT],
			counts[ACTION_PENDING_RELOAD], counts[ACTION_FAILED], counts[ACTION_SKIPPED],
			counts[ACTION_UNSUPPORTED],
			json_object_get_boolean(json_object_object_get(doc, "reboot_required")) ? "; reboot required" : "");
	}
	/* apply/audit show the capabilities only with -v; report is nothing else. */
	if (strcmp(command, "report") == 0 || log_threshold >= LOG_INFO)
		print_tree(f, caps, 0);
	for (size_t i = 0; i < json_object_array_length(warnings); i++)
		fprintf(f, "warning: %s\n", json_object_get_string(json_object_array_get_idx(warnings, i)));
}
