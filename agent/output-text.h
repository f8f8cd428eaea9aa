/* Text output for people: the run's JSON document (output.c) rendered, so
 * that text and JSON never disagree.
 *   output-text.c    dispatch, the action rows and summary, colour
 *   output-report.c  the capabilities in sections (report, and -v)
 *   output-checks.c  the readiness checklist that ends the report */
#ifndef HOSTPREP_OUTPUT_TEXT_H
#define HOSTPREP_OUTPUT_TEXT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

int color_mode_parse(const char *s, enum color_mode *ret);
/* auto: fd is a terminal other than TERM=dumb, and NO_COLOR is unset or
 * empty (https://no-color.org); always and never are what they say. */
bool color_wanted(enum color_mode mode, int fd);
void output_text_set_color(bool on);

/* For the renderers --------------------------------------------------- */

enum text_color { TC_NONE, TC_GREEN, TC_YELLOW, TC_RED, TC_CYAN, TC_MAGENTA };

/* s in colour (when enabled), padded with spaces to width columns. */
void text_put_colored(FILE *f, enum text_color c, const char *s, int width);
/* "×" and "…" in a UTF-8 locale, "x" and "..." otherwise. */
const char *text_times(void);
const char *text_ellipsis(void);

/* s, or fallback when s is NULL or empty. */
const char *text_or(const char *s, const char *fallback);
struct json_object *jobj_get(struct json_object *o, const char *key);
/* NULL when absent or null. */
const char *jobj_str(struct json_object *o, const char *key);
bool jobj_bool(struct json_object *o, const char *key);
int64_t jobj_int(struct json_object *o, const char *key, int64_t missing);
size_t jobj_len(struct json_object *array);
struct json_object *jobj_idx(struct json_object *array, size_t i);

/* The IOMMU the kernel runs (capabilities.iommu.active) for people:
 * "Intel VT-d", "AMD-Vi", "other"; NULL when none is known. */
const char *text_iommu_name(struct json_object *iommu);

/* s cut to 40 characters with an ellipsis (a UTF-8 sequence kept whole). */
#define TEXT_VALUE_MAX 40
void text_shorten(const char *s, char *buf, size_t len);
/* 16777216 → "16 GiB", 1536 → "1.5 MiB". */
void text_size_kb(uint64_t kb, char *buf, size_t len);
/* A CPU list in its shortest form ("0-3,8"); "none" when empty. */
void text_cpulist(const char *list, char *buf, size_t len);
/* The value of the last KEY= on a kernel command line, "" when absent. */
void text_cmdline_value(const char *cmdline, const char *key, char *buf, size_t len);

void text_report(FILE *f, struct json_object *doc, bool verbose);
void text_checks(FILE *f, struct json_object *doc);

#endif
