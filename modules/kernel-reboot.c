/* apply --reboot=if-needed: reboot when a kernel argument waits for the next
 * boot, but never twice for the same desired command line.  The guard record
 * (/var/lib/hostprep/reboot-guard) holds that line and the boot id it was
 * written in; finding it again in a later boot with the arguments still not
 * running means the reboot did not help, and another one would loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "cmdline.h"
#include "kernel.h"
#include "state.h"
#include "util.h"

#define GUARD "reboot-guard"

static bool in_effect(struct kboot *kb, const struct karg *k)
{
	bool running = cmdline_find(kb->running, k->text, NULL) == CMDLINE_PRESENT;

	return k->removed ? !running : running;
}

/* The desired line, with removals as -ARG: what one reboot is for. */
static char *guard_line(struct kboot *kb)
{
	_cleanup_free_ char *line = cmdline_join(kb->desired);

	for (size_t i = 0; line && i < kb->n_args; i++)
		if (kb->args[i].removed) {
			char *l = strdup_printf("%s%s-%s", line, *line ? " " : "", kb->args[i].text);

			free(line);
			line = l;
		}
	return TAKE_PTR(line);
}

static const char *guard_value(char *const *guard, const char *key)
{
	size_t l = strlen(key);

	for (; guard && *guard; guard++)
		if (strncmp(*guard, key, l) == 0 && (*guard)[l] == '=')
			return *guard + l + 1;
	return NULL;
}

static char *not_running(struct kboot *kb)
{
	_cleanup_free_ char **v = calloc(kb->n_args + 1, sizeof(char *));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < kb->n_args; i++)
		if (!in_effect(kb, &kb->args[i]))
			v[n++] = kb->args[i].text;
	return cmdline_join(v);
}

/* The guard is recorded now; the reboot itself is asked for once the report
 * is out (boot_after_report()), so that a boot-time run's summary reaches the
 * journal before the shutdown stops the unit. */
static int reboot_now(struct ctx *ctx, struct action *a, struct kboot *kb, const char *line, const char *boot_id)
{
	_cleanup_free_ char *cmd = strdup_printf("cmdline=%s", line), *id = strdup_printf("boot_id=%s", boot_id);
	_cleanup_free_ char *waiting = not_running(kb);
	int r;

	if (!cmd || !id || !waiting)
		return -ENOMEM;
	if (!boot_reboot_tool(&ctx->hr)) {
		action_set_state(a, ACTION_FAILED, "not rebooting: systemctl not found");
		return -ENOENT;
	}
	/* The guard goes first: a reboot that starts must find it. */
	r = state_save(&ctx->hr, GUARD, (char *const[]){ cmd, id, NULL });
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "not rebooting: cannot record the reboot guard: %s", strerror(-r));
		return r;
	}
	ctx->reboot_requested = true;
	action_set_state(a, ACTION_CHANGED, "rebooting for %s (asked for after this report)", waiting);
	return 0;
}

int kernel_reboot_finish(struct ctx *ctx, struct kboot *kb)
{
	_cleanup_strv_free_ char **guard = NULL;
	_cleanup_free_ char *line = guard_line(kb), *waiting = NULL, *next = NULL;
	bool all_in_effect = true, pending = false, failed = false;
	char boot_id[128];
	const char *g_line, *g_boot;
	struct action *a;
	int r;

	if (!line)
		return -ENOMEM;
	for (size_t i = 0; i < kb->n_args; i++) {
		all_in_effect &= in_effect(kb, &kb->args[i]);
		pending |= kb->args[i].action->state == ACTION_PENDING_REBOOT;
		failed |= kb->args[i].action->state == ACTION_FAILED;
	}
	failed |= kb->config && kb->config->state == ACTION_FAILED;
	r = state_load(&ctx->hr, GUARD, &guard);
	if (r < 0)
		return r;
	if (all_in_effect)
		return guard[0] ? state_save(&ctx->hr, GUARD, NULL) : 0;
	if (!boot_reboot_allowed(ctx) || !pending)
		return 0;
	a = plan_action(ctx, "reboot", NULL, line, NULL);
	if (!a)
		return -ENOMEM;
	if (failed) {
		action_set_state(a, ACTION_SKIPPED, "not rebooting: the boot configuration is not as desired "
				 "(see the failed kernel actions); a reboot would not bring the arguments");
		return 0;
	}
	if (hr_read_line(&ctx->hr, boot_id, sizeof(boot_id), "/proc/sys/kernel/random/boot_id") < 0) {
		action_set_state(a, ACTION_FAILED, "not rebooting: no boot id (/proc/sys/kernel/random/boot_id) "
				 "to guard against a reboot loop");
		return -ENOENT;
	}
	g_line = guard_value(guard, "cmdline");
	g_boot = guard_value(guard, "boot_id");
	if (g_line && g_boot && strcmp(g_line, line) == 0 && strcmp(g_boot, boot_id) != 0) {
		waiting = not_running(kb);
		next = kb->next ? cmdline_join(kb->next) : NULL;
		action_set_state(a, ACTION_FAILED,
				 "not rebooting again: this host already rebooted for this command line (guard "
				 "written in boot %s) and still runs without %s; the bootloader holds '%s' (%s) but "
				 "the kernel booted with '%s'", g_boot, waiting ? waiting : "?", next ? next : "?",
				 kb->next_source, host_facts(ctx)->cmdline);
		return -ELOOP;
	}
	return reboot_now(ctx, a, kb, line, boot_id);
}
