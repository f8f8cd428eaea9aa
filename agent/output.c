/* The run's one JSON document (json-c): what every command prints, in JSON
 * as it is or rendered for people by output-text.c. */
#include <string.h>

#include "engine.h"
#include "log.h"
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

static struct json_object *action_json(const struct action *a)
{
	struct json_object *o = json_object_new_object();

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

bool output_wants_capabilities(const struct ctx *ctx, bool json)
{
	return json || ctx->command == CMD_REPORT || log_threshold >= LOG_INFO;
}

struct json_object *output_document(struct ctx *ctx, const char *command, bool with_actions, bool with_capabilities)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *actions = json_object_new_array();
	int code = engine_exit_code(ctx);

	json_object_object_add(doc, "version", jstr(HOSTPREP_VERSION));
	json_object_object_add(doc, "command", jstr(command));
	json_object_object_add(doc, "profile", ctx->profile ? jstr(ctx->profile->path) : NULL);
	json_object_object_add(doc, "root", jstr(ctx->hr.is_real ? "/" : ctx->hr.dir));
	json_object_object_add(doc, "changed", json_object_new_boolean(ctx->command == CMD_APPLY && (code & 2)));
	json_object_object_add(doc, "failed", json_object_new_boolean(code & 4));
	json_object_object_add(doc, "reboot_required", json_object_new_boolean(engine_reboot_required(ctx)));
	json_object_object_add(doc, "exit_code", json_object_new_int(code));
	if (with_actions)
		for (size_t i = 0; i < ctx->n_actions; i++)
			json_object_array_add(actions, action_json(ctx->actions[i]));
	json_object_object_add(doc, "actions", actions);
	if (with_capabilities)
		json_object_object_add(doc, "capabilities", output_capabilities(ctx));
	json_object_object_add(doc, "warnings", json_object_get(ctx->warnings));
	return doc;
}
