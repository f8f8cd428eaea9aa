/* One document per run, built with json-c; text output renders the same
 * document for people. */
#ifndef HOSTPREP_OUTPUT_H
#define HOSTPREP_OUTPUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

struct ctx;
struct profile;

/* The contract's major version (agent/hostprep.schema.json): keys are only
 * added within it; renaming, removing or changing the meaning of one bumps it. */
#define OUTPUT_SCHEMA_VERSION 1

/* apply, audit, report.  The capabilities are built only when asked for
 * (they cost more than the rest of a run): see output_wants_capabilities(). */
struct json_object *output_document(struct ctx *ctx, const char *command, bool with_actions, bool with_capabilities);
/* Whether the printed document shows the capabilities: always in JSON, in
 * text for report and with -v (what output_print renders). */
bool output_wants_capabilities(const struct ctx *ctx, bool json);
/* validate on a valid profile. */
struct json_object *output_validate_document(struct ctx *ctx);
struct json_object *output_version_document(void);
/* Exit code 1, any command (NULL when unknown): errors is a list filled by
 * output_add_error() and output_add_profile_errors(). */
struct json_object *output_error_document(const char *command, const char *profile, const char *root,
					  struct json_object *errors);
/* {file, line, message}; file may be NULL, line <= 0 means none. */
void output_add_error(struct json_object *errors, const char *file, int line, const char *message);
/* The profile's errors in the order profile_print_errors() logs them. */
int output_add_profile_errors(struct json_object *errors, const struct profile *p);
void output_print(FILE *f, struct json_object *doc, bool json);
/* Capabilities of every module (report part of the document). */
struct json_object *output_capabilities(struct ctx *ctx);

#endif
