/* Text output: the run's JSON document rendered for people.  Everything
 * printed here comes from the document, so text and JSON never disagree.
 * apply/audit show what changed, is pending, failed or waits for a reboot
 * or reload, then one summary line; -v adds the ok rows and the report. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cpulist.h"
#include "engine.h"
#include "jrec.h"
#include "log.h"
#include "output.h"
#include "output-text.h"
#include "util.h"

#define TARGET_WIDTH_MAX 36
#define VALUE_MAX TEXT_VALUE_MAX   /* characters of one value in a row; JSON has them whole */

static bool use_color;

int color_mode_parse(const char *s, enum color_mode *ret)
{
	static const char *const names[] = { [COLOR_AUTO] = "auto", [COLOR_ALWAYS] = "always", [COLOR_NEVER] = "never" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum color_mode)i;
			return 0;
		}
	return -EINVAL;
}

bool color_wanted(enum color_mode mode, int fd)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (mode != COLOR_AUTO)
		return mode == COLOR_ALWAYS;
	return (!no || !*no) && isatty(fd) && !(term && strcmp(term, "dumb") == 0);
}

void output_text_set_color(bool on)
{
	use_color = on;
}

void text_put_colored(FILE *f, enum text_color c, const char *s, int width)
{
	static const char *const sgr[] = { [TC_NONE] = "", [TC_GREEN] = "\033[32m", [TC_YELLOW] = "\033[33m",
					   [TC_RED] = "\033[1;31m", [TC_CYAN] = "\033[36m", [TC_MAGENTA] = "\033[35m" };
	int pad = width - (int)strlen(s);

	if (use_color && c != TC_NONE)
		fprintf(f, "%s%s\033[0m", sgr[c], s);
	else
		fputs(s, f);
	if (pad > 0)
		fprintf(f, "%*s", pad, "");
}

static bool locale_utf8(void)
{
	const char *vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return false;
}

const char *text_times(void)
{
	return locale_utf8() ? "\u00d7" : "x";
}

const char *text_ellipsis(void)
{
	return locale_utf8() ? "\u2026" : "...";
}

const char *text_or(const char *s, const char *fallback)
{
	return s && *s ? s : fallback;
}

const char *text_iommu_name(struct json_object *iommu)
{
	const char *active = jobj_str(iommu, "active");

	if (!active)
		return NULL;
	if (strcmp(active, "intel-vt-d") == 0)
		return "Intel VT-d";
	if (strcmp(active, "amd-vi") == 0)
		return "AMD-Vi";
	return active;
}

struct json_object *jobj_get(struct json_object *o, const char *key)
{
	return jrec_get(o, key);
}

const char *jobj_str(struct json_object *o, const char *key)
{
	struct json_object *v = jobj_get(o, key);

	return v ? json_object_get_string(v) : NULL;
}

bool jobj_bool(struct json_object *o, const char *key)
{
	return json_object_get_boolean(jobj_get(o, key));
}

int64_t jobj_int(struct json_object *o, const char *key, int64_t missing)
{
	struct json_object *v = jobj_get(o, key);

	return v ? json_object_get_int64(v) : missing;
}

size_t jobj_len(struct json_object *array)
{
	return array && json_object_is_type(array, json_type_array) ? json_object_array_length(array) : 0;
}

struct json_object *jobj_idx(struct json_object *array, size_t i)
{
	return json_object_array_get_idx(array, i);
}

void text_size_kb(uint64_t kb, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)kb;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (v == (double)(uint64_t)v)
		snprintf(buf, len, "%llu %s", (unsigned long long)v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

void text_cpulist(const char *list, char *buf, size_t len)
{
	struct cpuset set;

	if (!list || !*list || strcmp(list, "(null)") == 0) {
		snprintf(buf, len, "none");
		return;
	}
	if (cpuset_parse(&set, list, NULL) < 0 || cpuset_format(&set, buf, len) < 0)
		snprintf(buf, len, "%s", list);
	else if (!buf[0])
		snprintf(buf, len, "none");
}

void text_cmdline_value(const char *cmdline, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	buf[0] = '\0';
	for (const char *p = cmdline; p && *p;) {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
			snprintf(buf, len, "%.*s", (int)(n - klen - 1), p + klen + 1);
		p += n;
	}
}

/* Action rows ---------------------------------------------------------- */

static enum text_color state_color(const char *state)
{
	if (strcmp(state, "ok") == 0)
		return TC_GREEN;
	if (strcmp(state, "changed") == 0 || strcmp(state, "pending") == 0)
		return TC_YELLOW;
	if (strcmp(state, "failed") == 0)
		return TC_RED;
	if (strncmp(state, "pending-", 8) == 0)
		return TC_MAGENTA;
	return TC_CYAN;
}

/* What people need to act on; ok, skipped and unsupported rows need -v. */
static bool row_wanted(const char *state, bool verbose)
{
	return verbose || !(strcmp(state, "ok") == 0 || strcmp(state, "skipped") == 0 ||
			     strcmp(state, "unsupported") == 0);
}

void text_shorten(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), cut = VALUE_MAX;

	if (n <= VALUE_MAX) {
		snprintf(buf, len, "%s", s);
		return;
	}
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	snprintf(buf, len, "%.*s%s", (int)cut, s, text_ellipsis());
}

/* The value column: "previous -> current" after a change, "current ->
 * desired" while one is to come, else the one value. */
static void row_value(struct json_object *a, char *buf, size_t len)
{
	const char *prev = jobj_str(a, "previous"), *cur = jobj_str(a, "current"), *des = jobj_str(a, "desired");
	char x[VALUE_MAX * 4 + 8], y[VALUE_MAX * 4 + 8];

	if (prev && !streq_ptr(prev, cur)) {
		text_shorten(prev, x, sizeof(x));
		text_shorten(cur ? cur : "-", y, sizeof(y));
	} else if (des && !streq_ptr(cur, des)) {
		text_shorten(cur ? cur : "-", x, sizeof(x));
		text_shorten(des, y, sizeof(y));
	} else {
		text_shorten(cur ? cur : des ? des : "", buf, len);
		return;
	}
	snprintf(buf, len, "%s -> %s", x, y);
}

static void print_actions(FILE *f, struct json_object *actions, bool verbose)
{
	int wmod = 0, wtarget = 0, wvalue = 0;
	char value[VALUE_MAX * 8 + 32];
	const char *last_msg = NULL;

	for (size_t i = 0; i < jobj_len(actions); i++) {
		struct json_object *a = jobj_idx(actions, i);
		const char *mod = jobj_str(a, "module"), *target = jobj_str(a, "target");
		int n;

		if (!row_wanted(text_or(jobj_str(a, "state"), "?"), verbose))
			continue;
		row_value(a, value, sizeof(value));
		if (mod && (int)strlen(mod) > wmod)
			wmod = (int)strlen(mod);
		if (target && (int)strlen(target) > wtarget)
			wtarget = (int)strlen(target);
		n = (int)strlen(value);
		if (n > wvalue)
			wvalue = n;
	}
	if (wtarget > TARGET_WIDTH_MAX)
		wtarget = TARGET_WIDTH_MAX;
	for (size_t i = 0; i < jobj_len(actions); i++) {
		struct json_object *a = jobj_idx(actions, i);
		const char *state = text_or(jobj_str(a, "state"), "?"), *msg = jobj_str(a, "message");

		if (!row_wanted(state, verbose))
			continue;
		row_value(a, value, sizeof(value));
		text_put_colored(f, state_color(state), state, 15);
		fprintf(f, "%-*s  %-*s  ", wmod, text_or(jobj_str(a, "module"), "-"), wtarget, text_or(jobj_str(a, "target"), "-"));
		/* A message the row above already gave (nine kernel arguments
		 * waiting for the same reboot) is a ditto mark. */
		if (msg && *msg)
			fprintf(f, "%-*s  %s\n", wvalue, value, streq_ptr(msg, last_msg) ? "\"" : msg);
		else
			fprintf(f, "%s\n", value);
		last_msg = msg && *msg ? msg : NULL;
	}
}

static void print_summary(FILE *f, const char *command, struct json_object *doc)
{
	struct json_object *actions = jobj_get(doc, "actions"), *summary = jobj_get(doc, "summary");
	size_t counts[ACTION_UNSUPPORTED + 1] = { 0 }, n = jobj_len(actions);
	bool any = false;

	/* The document's own counts when it has them, else counted here. */
	for (int s = 0; summary && s <= ACTION_UNSUPPORTED; s++)
		counts[s] = (size_t)jobj_int(summary, action_state_name(s), 0);
	for (size_t i = 0; !summary && i < n; i++) {
		const char *st = jobj_str(jobj_idx(actions, i), "state");

		for (int s = 0; s <= ACTION_UNSUPPORTED; s++)
			if (st && strcmp(st, action_state_name(s)) == 0)
				counts[s]++;
	}
	fprintf(f, "%s: %zu action%s", command, n, n == 1 ? "" : "s");
	for (int s = 0; s <= ACTION_UNSUPPORTED; s++)
		if (counts[s]) {
			fprintf(f, "%s%zu %s", any ? ", " : ": ", counts[s], action_state_name(s));
			any = true;
		}
	fprintf(f, "%s\n", jobj_bool(doc, "reboot_required") ? "; reboot required" : "");
}

void output_print(FILE *f, struct json_object *doc, bool json)
{
	const char *command = jobj_str(doc, "command");
	struct json_object *warnings = jobj_get(doc, "warnings");
	bool verbose = log_threshold >= LOG_INFO;

	if (json) {
		fprintf(f, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	if (!command || strcmp(command, "report") != 0) {
		print_actions(f, jobj_get(doc, "actions"), verbose);
		print_summary(f, command ? command : "hostprep", doc);
	}
	/* apply/audit show the capabilities only with -v; report is nothing else. */
	if ((command && strcmp(command, "report") == 0) || verbose) {
		if (command && strcmp(command, "report") != 0)
			fputc('\n', f);
		text_report(f, doc, verbose);
		fputc('\n', f);
		text_checks(f, doc);
	}
	for (size_t i = 0; i < jobj_len(warnings); i++)
		fprintf(f, "warning: %s\n", json_object_get_string(jobj_idx(warnings, i)));
}
