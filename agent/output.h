/* One document per run, built with json-c; text output renders the same
 * document for people. */
#ifndef HOSTPREP_OUTPUT_H
#define HOSTPREP_OUTPUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

struct ctx;

/* The capabilities are built only when asked for (they cost more than the
 * rest of a run): see output_wants_capabilities(). */
struct json_object *output_document(struct ctx *ctx, const char *command, bool with_actions, bool with_capabilities);
/* Whether the printed document shows the capabilities: always in JSON, in
 * text for report and with -v (what output_print renders). */
bool output_wants_capabilities(const struct ctx *ctx, bool json);
void output_print(FILE *f, struct json_object *doc, bool json);
/* Capabilities of every module (report part of the document). */
struct json_object *output_capabilities(struct ctx *ctx);

#endif
