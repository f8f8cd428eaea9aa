/* One document per run, built with json-c; text output renders the same
 * document for people. */
#ifndef HOSTPREP_OUTPUT_H
#define HOSTPREP_OUTPUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

struct ctx;

struct json_object *output_document(struct ctx *ctx, const char *command, bool with_actions);
void output_print(FILE *f, struct json_object *doc, bool json);
/* Capabilities of every module (report part of the document). */
struct json_object *output_capabilities(struct ctx *ctx);

#endif
