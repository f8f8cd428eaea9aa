/* The run's one JSON document (json-c): what every command prints, in JSON
 * as it is or rendered for people by output-text.c. */
#include <errno.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "macro.h"
#include "output.h"
#include "version.h"

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *output_capabilities(struct ctx *ctx)
{
	struct json_object *caps = json_object_new_object();

	for (size_t i = 0; modules[i]; i++)
		if (modules[i]->report) {
			ctx->current = modules[i];
			modules[i]->report(ctx, caps);
		}
	ctx->current = NULL;
	return caps;
}

/* The keys every document starts with (agent/hostprep.schema.json). */
static struct json_object *document_head(const char *command)
{
	struct json_object *doc = json_object_new_object();

	json_object_object_add(doc, "schema_version", json_object_new_int(OUTPUT_SCHEMA_VERSION));
	json_object_object_add(doc, "version", jstr(HOSTPREP_VERSION));
	json_object_object_add(doc, "command", jstr(command));
	return doc;
}

static const char *root_name(const struct ctx *ctx)
{
	return ctx->hr.is_real ? "/" : ctx->hr.dir;
}

static struct json_object *action_json(const struct action *a)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", jstr(a->id));
	json_object_object_add(o, "module", jstr(a->module));
	json_object_object_add(o, "target", jstr(a->target));
	json_object_object_add(o, "state", jstr(action_state_name(a->state)));
	json_object_object_add(o, "current", jstr(a->current));
	json_object_object_add(o, "desired", jstr(a->desired));
	json_object_object_add(o, "message", jstr(a->message));
	if (a->previous)
		json_object_object_add(o, "previous", jstr(a->previous));
	if (a->reboot || a->state == ACTION_PENDING_REBOOT)
		json_object_object_add(o, "reboot_required", json_object_new_boolean(1));
	if (a->extra) {
		json_object_object_foreach(a->extra, key, val)
			json_object_object_add(o, key, json_object_get(val));
	}
	return o;
}

/* One count per state, every state present. */
static struct json_object *summary_json(const struct ctx *ctx)
{
	struct json_object *o = json_object_new_object();
	size_t counts[ACTION_N_STATES];

	engine_count_states(ctx, counts);
	for (int s = 0; s < ACTION_N_STATES; s++)
		json_object_object_add(o, action_state_name(s), json_object_new_int64((int64_t)counts[s]));
	return o;
}

bool output_wants_capabilities(const struct ctx *ctx, bool json)
{
	return json || ctx->command == CMD_REPORT || log_threshold >= LOG_INFO;
}

struct json_object *output_document(struct ctx *ctx, const char *command, bool with_actions, bool with_capabilities)
{
	struct json_object *doc = document_head(command);
	struct json_object *actions = json_object_new_array();
	int code = engine_exit_code(ctx);
	size_t counts[ACTION_N_STATES];

	engine_count_states(ctx, counts);
	json_object_object_add(doc, "profile", ctx->profile ? jstr(ctx->profile->path) : NULL);
	json_object_object_add(doc, "root", jstr(root_name(ctx)));
	/* changed: this run changed the host; what audit would change is "pending". */
	json_object_object_add(doc, "changed", json_object_new_boolean(ctx->command == CMD_APPLY && (code & 2)));
	json_object_object_add(doc, "failed", json_object_new_boolean(code & 4));
	json_object_object_add(doc, "reboot_required", json_object_new_boolean(engine_reboot_required(ctx)));
	json_object_object_add(doc, "exit_code", json_object_new_int(code));
	json_object_object_add(doc, "pending", json_object_new_int64((int64_t)counts[ACTION_PENDING]));
	json_object_object_add(doc, "summary", summary_json(ctx));
	if (with_actions)
		for (size_t i = 0; i < ctx->n_actions; i++)
			json_object_array_add(actions, action_json(ctx->actions[i]));
	json_object_object_add(doc, "actions", actions);
	if (with_capabilities)
		json_object_object_add(doc, "capabilities", output_capabilities(ctx));
	json_object_object_add(doc, "warnings", json_object_get(ctx->warnings));
	return doc;
}

struct json_object *output_validate_document(struct ctx *ctx)
{
	struct json_object *doc = document_head("validate");

	json_object_object_add(doc, "profile", jstr(ctx->profile->path));
	json_object_object_add(doc, "root", jstr(root_name(ctx)));
	json_object_object_add(doc, "valid", json_object_new_boolean(1));
	json_object_object_add(doc, "exit_code", json_object_new_int(0));
	json_object_object_add(doc, "errors", json_object_new_array());
	json_object_object_add(doc, "warnings", json_object_get(ctx->warnings));
	return doc;
}

struct json_object *output_version_document(void)
{
	struct json_object *doc = document_head("version"), *names = json_object_new_array();

	json_object_object_add(doc, "exit_code", json_object_new_int(0));
	for (size_t i = 0; modules[i]; i++)
		json_object_array_add(names, jstr(modules[i]->name));
	json_object_object_add(doc, "modules", names);
	return doc;
}

struct json_object *output_error_document(const char *command, const char *profile, const char *root,
					  struct json_object *errors)
{
	struct json_object *doc = document_head(command);

	json_object_object_add(doc, "profile", jstr(profile));
	json_object_object_add(doc, "root", jstr(root));
	json_object_object_add(doc, "exit_code", json_object_new_int(1));
	json_object_object_add(doc, "errors", json_object_get(errors));
	return doc;
}

void output_add_error(struct json_object *errors, const char *file, int line, const char *message)
{
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "file", jstr(file));
	json_object_object_add(e, "line", line > 0 ? json_object_new_int(line) : NULL);
	json_object_object_add(e, "message", jstr(message ? message : "(no memory for the text)"));
	json_object_array_add(errors, e);
}

int output_add_profile_errors(struct json_object *errors, const struct profile *p)
{
	_cleanup_free_ size_t *order = profile_error_order(p);

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_listed; i++) {
		const struct profile_error *e = &p->errors[order[i]];

		output_add_error(errors, e->file, e->line, e->message);
	}
	return 0;
}
