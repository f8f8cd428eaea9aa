/* Bootloader backend "grub" (Debian, Ubuntu): our arguments live in a drop-in
 * that appends to GRUB_CMDLINE_LINUX, update-grub regenerates grub.cfg, and
 * the next boot's command line is read back from grub.cfg's default entry. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "exec.h"
#include "kernel.h"
#include "util.h"

#define GRUB_D "/etc/default/grub.d"
#define DROPIN_NAME "99-hostprep.cfg"
#define DROPIN GRUB_D "/" DROPIN_NAME
#define GRUB_CFG "/boot/grub/grub.cfg"
#define ASSIGN "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX "
#define UPDATE_TIMEOUT_MS (300 * 1000)

/* Drop-in ------------------------------------------------------------- */

/* Inside double quotes the shell still reads \ " $ and `. */
static char *dq_escape(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (strchr("\\\"$`", *s))
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static char *dropin_content(const struct kboot *kb)
{
	_cleanup_free_ char *line = cmdline_join(kb->desired);
	_cleanup_free_ char *esc = line ? dq_escape(line) : NULL;

	if (!esc)
		return NULL;
	return strdup_printf("# Kernel arguments owned by hostprep: rewritten by every apply, removed when the\n"
			     "# profile has none.  Do not edit; change the hostprep profile instead.\n"
			     ASSIGN "%s\"\n", esc);
}

static int grub_read_owned(struct ctx *ctx, struct kboot *kb, char ***ret)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_strv_free_ char **tokens = NULL;
	char *start = NULL, *end, *o;
	int r = hr_read(&ctx->hr, &text, DROPIN);

	(void)kb;
	/* Missing, or not in our format: we hold nothing (a rewrite replaces it). */
	if (r == -ENOENT || (r == 0 && !(start = strstr(text, "\n" ASSIGN))))
		return (*ret = calloc(1, sizeof(char *))) ? 0 : -ENOMEM;
	if (r < 0)
		return r;
	start += strlen("\n" ASSIGN);
	start[strcspn(start, "\n")] = '\0';
	end = strrchr(start, '"');
	if (end)
		*end = '\0';
	o = start;
	for (const char *p = start; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		*o++ = *p;
	}
	*o = '\0';
	if (cmdline_split(start, &tokens) < 0)
		return (*ret = calloc(1, sizeof(char *))) ? 0 : -ENOMEM;
	return cmdline_arguments(tokens, ret);
}

/* hr_read drops the trailing newline that want has. */
static bool same_content(const char *have, const char *want)
{
	size_t h = strlen(have);

	return strlen(want) == h + 1 && strncmp(have, want, h) == 0;
}

static int grub_write(struct ctx *ctx, struct kboot *kb, char **msg)
{
	static const char *const update_grub[] = { "/usr/sbin/update-grub", "/sbin/update-grub", NULL };
	static const char *const mkconfig[] = { "/usr/sbin/grub-mkconfig", "/sbin/grub-mkconfig", NULL };
	_cleanup_free_ char *want = dropin_content(kb), *have = NULL;
	const char *tool;
	int r;

	if (!want)
		return -ENOMEM;
	if (!kb->desired[0])
		r = hr_unlink(&ctx->hr, DROPIN);
	else if (hr_read(&ctx->hr, &have, DROPIN) == 0 && same_content(have, want))
		r = 0;   /* already there: only grub.cfg is behind */
	else
		r = hr_replace_file(&ctx->hr, want, 0644, DROPIN);
	if (r < 0) {
		*msg = strdup_printf("writing %s: %s", DROPIN, strerror(-r));
		return r;
	}
	if ((tool = exec_find(&ctx->hr, update_grub)))
		return kernel_run_tool(ctx, (char *const[]){ (char *)tool, NULL }, UPDATE_TIMEOUT_MS, msg);
	if ((tool = exec_find(&ctx->hr, mkconfig)))
		return kernel_run_tool(ctx, (char *const[]){ (char *)tool, "-o", GRUB_CFG, NULL }, UPDATE_TIMEOUT_MS,
				       msg);
	*msg = strdup_printf("wrote %s, but found neither update-grub nor grub-mkconfig to regenerate %s", DROPIN,
			     GRUB_CFG);
	return -ENOENT;
}

/* grub.cfg ------------------------------------------------------------ */

struct grub_entry {
	int parent;                /* index in the list, -1 at top level */
	int index;                 /* position among its siblings, as GRUB counts */
	bool submenu;
	char title[256];
	char id[256];
	char *linux_args;
};

struct grub_menu {
	struct grub_entry *e;
	size_t n;
	char default_entry[512];
};

static void menu_free(struct grub_menu *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].linux_args);
	free(m->e);
}

/* The quoted word after p ('...' or "..."), into buf. */
static const char *quoted(const char *p, char *buf, size_t len)
{
	char q;
	const char *end;

	while (isspace((unsigned char)*p))
		p++;
	q = *p;
	if (q != '\'' && q != '"')
		return NULL;
	end = strchr(p + 1, q);
	if (!end)
		return NULL;
	snprintf(buf, len, "%.*s", (int)(end - p - 1), p + 1);
	return end + 1;
}

static int add_entry(struct grub_menu *m, int parent, bool submenu, const char *rest)
{
	struct grub_entry *v = realloc(m->e, (m->n + 1) * sizeof(*v)), *e;
	const char *id;
	int siblings = 0;

	if (!v)
		return -ENOMEM;
	m->e = v;
	for (size_t i = 0; i < m->n; i++)
		siblings += m->e[i].parent == parent;
	e = &m->e[m->n];
	*e = (struct grub_entry){ .parent = parent, .index = siblings, .submenu = submenu };
	rest = quoted(rest, e->title, sizeof(e->title));
	if (rest && ((id = strstr(rest, "$menuentry_id_option")) || (id = strstr(rest, "--id"))))
		quoted(id + strcspn(id, " \t"), e->id, sizeof(e->id));
	return (int)m->n++;
}

static int parse_grub_cfg(char *text, struct grub_menu *m)
{
	int stack[64], depth = 0;
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		size_t len;
		int top = depth ? stack[depth - 1] : -1;

		while (isspace((unsigned char)*l))
			l++;
		len = strlen(l);
		while (len && isspace((unsigned char)l[len - 1]))
			l[--len] = '\0';
		if (strncmp(l, "menuentry ", 10) == 0 || strncmp(l, "submenu ", 8) == 0) {
			bool sub = l[0] == 's';
			int parent = -1, i;

			/* The innermost enclosing submenu; other blocks do not count. */
			for (int d = depth - 1; d >= 0 && parent < 0; d--)
				if (stack[d] >= 0)
					parent = stack[d];
			i = add_entry(m, parent, sub, l + (sub ? 8 : 10));
			if (i < 0)
				return i;
			if (len && l[len - 1] == '{' && depth < (int)ARRAY_SIZE(stack))
				stack[depth++] = i;
		} else if (len && l[len - 1] == '{') {
			if (depth < (int)ARRAY_SIZE(stack))
				stack[depth++] = -2;
		} else if (l[0] == '}') {
			if (depth)
				depth--;
		} else if (top >= 0 && (strncmp(l, "linux", 5) == 0) && (isspace((unsigned char)l[5]) ||
			   strncmp(l + 5, "efi", 3) == 0 || strncmp(l + 5, "16", 2) == 0)) {
			char *args = l + strcspn(l, " \t");

			args += strspn(args, " \t");
			args += strcspn(args, " \t");   /* the kernel image */
			args += strspn(args, " \t");
			free(m->e[top].linux_args);
			m->e[top].linux_args = strdup(args);
			if (!m->e[top].linux_args)
				return -ENOMEM;
		} else if (strncmp(l, "set default=", 12) == 0 && !strstr(l, "next_entry")) {
			char *v = l + 12;
			size_t vl = strlen(v);

			if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
				v[vl - 1] = '\0';
				v++;
			}
			snprintf(m->default_entry, sizeof(m->default_entry), "%s", v);
		}
	}
	return 0;
}

static int find_child(const struct grub_menu *m, int parent, const char *part)
{
	char *end;
	long idx = strtol(part, &end, 10);
	bool numeric = *part && !*end;

	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].parent == parent && (numeric ? m->e[i].index == idx
						 : strcmp(m->e[i].title, part) == 0 || strcmp(m->e[i].id, part) == 0))
			return (int)i;
	return -1;
}

int grub_cfg_default_args(char *cfg, const char *grubenv, char **args, char **title, char **want_out)
{
	struct grub_menu m = { 0 };
	char want[512], *save = NULL;
	int r, cur = -1;

	*args = *title = *want_out = NULL;
	r = parse_grub_cfg(cfg, &m);
	if (r < 0)
		goto out;
	snprintf(want, sizeof(want), "%s", *m.default_entry ? m.default_entry : "0");
	if (strstr(want, "saved_entry")) {
		const char *s;

		snprintf(want, sizeof(want), "0");
		if (grubenv && (s = strstr(grubenv, "saved_entry=")) && (s == grubenv || s[-1] == '\n'))
			snprintf(want, sizeof(want), "%.*s", (int)strcspn(s + 12, "\n"), s + 12);
	}
	*want_out = strdup(*m.default_entry ? m.default_entry : "0");
	if (!*want_out) {
		r = -ENOMEM;
		goto out;
	}
	for (char *part = strtok_r(want, ">", &save); part; part = strtok_r(NULL, ">", &save))
		if ((cur = find_child(&m, cur, part)) < 0)
			break;
	if (cur >= 0 && m.e[cur].submenu)
		cur = find_child(&m, cur, "0");
	if (cur < 0 || !m.e[cur].linux_args) {
		r = -ENOENT;
		goto out;
	}
	*args = strdup(m.e[cur].linux_args);
	*title = strdup(m.e[cur].title);
	if (!*args || !*title) {
		free(*args);
		free(*title);
		*args = *title = NULL;
		r = -ENOMEM;
	}
out:
	menu_free(&m);
	return r;
}

static int grub_read_next(struct ctx *ctx, struct kboot *kb, char ***ret, char **source)
{
	_cleanup_free_ char *text = NULL, *env = NULL, *args = NULL, *title = NULL, *want = NULL;
	int r;

	(void)kb;
	r = hr_read(&ctx->hr, &text, GRUB_CFG);
	if (r < 0) {
		*source = strdup_printf("%s: %s", GRUB_CFG, strerror(-r));
		return r;
	}
	(void)hr_read(&ctx->hr, &env, "/boot/grub/grubenv");
	r = grub_cfg_default_args(text, env, &args, &title, &want);
	if (r == -ENOENT) {
		*source = strdup_printf("%s: no default entry '%s' with a linux line", GRUB_CFG, want);
		return r;
	}
	if (r < 0)
		return r;
	r = cmdline_split(args, ret);
	if (r == 0)
		*source = strdup_printf("%s (default entry '%s')", GRUB_CFG, title);
	return r;
}

/* Who else sets the command line -------------------------------------- */

static bool mentions_token(const char *text, const char *token)
{
	size_t l = strlen(token);

	for (const char *p = text; (p = strstr(p, token)); p += l) {
		bool start = p == text || strchr(" \t\"'=", p[-1]);
		bool end = !p[l] || strchr(" \t\"'\n", p[l]);

		if (start && end)
			return true;
	}
	return false;
}

static char *grub_origin(struct ctx *ctx, struct kboot *kb, const char *token)
{
	_cleanup_strv_free_ char **files = NULL;
	_cleanup_free_ char *text = NULL;

	(void)kb;
	if (hr_read(&ctx->hr, &text, "/etc/default/grub") == 0 && mentions_token(text, token))
		return strdup("/etc/default/grub");
	if (hr_list(&ctx->hr, &files, GRUB_D) < 0)
		return NULL;
	for (char **f = files; *f; f++) {
		_cleanup_free_ char *t = NULL;

		if (strcmp(*f, DROPIN_NAME) != 0 && hr_read(&ctx->hr, &t, GRUB_D "/%s", *f) == 0 && mentions_token(t, token))
			return strdup_printf(GRUB_D "/%s", *f);
	}
	return NULL;
}

/* A drop-in sourced after ours that assigns GRUB_CMDLINE_LINUX without
 * keeping its earlier value drops our arguments. */
static char *grub_override(struct ctx *ctx, struct kboot *kb)
{
	_cleanup_strv_free_ char **files = NULL;

	(void)kb;
	if (hr_list(&ctx->hr, &files, GRUB_D) < 0)
		return NULL;
	for (char **f = files; *f; f++) {
		_cleanup_free_ char *t = NULL;
		char *save = NULL;
		size_t n = strlen(*f);

		if (strcmp(*f, DROPIN_NAME) <= 0 || n < 4 || strcmp(*f + n - 4, ".cfg") != 0 ||
		    hr_read(&ctx->hr, &t, GRUB_D "/%s", *f) < 0)
			continue;
		for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			l += strspn(l, " \t");
			if (strncmp(l, "export ", 7) == 0)
				l += 7 + strspn(l + 7, " \t");
			if (strncmp(l, "GRUB_CMDLINE_LINUX=", 19) == 0 && !strstr(l, "$GRUB_CMDLINE_LINUX") &&
			    !strstr(l, "${GRUB_CMDLINE_LINUX}"))
				return strdup_printf(GRUB_D "/%s", *f);
		}
	}
	return NULL;
}

const struct boot_backend boot_grub = {
	.name = "grub",
	.config = DROPIN,
	.read_owned = grub_read_owned,
	.read_next = grub_read_next,
	.write = grub_write,
	.origin = grub_origin,
	.override = grub_override,
};
