/* The boot-time side of apply (see boot.h). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "engine.h"
#include "exec.h"
#include "log.h"
#include "sha256.h"
#include "state.h"
#include "util.h"

#define FIRST_BOOT "first-boot"
#define REBOOT_TIMEOUT_MS (60 * 1000)

const char *boot_reboot_tool(const struct hostroot *hr)
{
	static const char *const systemctl[] = { "/usr/bin/systemctl", "/bin/systemctl", NULL };

	return exec_find(hr, systemctl);
}

static int boot_id(struct ctx *ctx, char *buf, size_t len)
{
	return hr_read_line(&ctx->hr, buf, len, "/proc/sys/kernel/random/boot_id");
}

/* No record yet, or one written in this same boot (a run before the reboot). */
static bool first_boot(struct ctx *ctx)
{
	_cleanup_strv_free_ char **rec = NULL;
	char id[128], line[160];

	/* Unreadable: not the first boot, never a surprise reboot. */
	if (state_load(&ctx->hr, FIRST_BOOT, &rec) < 0)
		return false;
	if (!rec[0])
		return true;
	if (boot_id(ctx, id, sizeof(id)) < 0)
		return false;
	snprintf(line, sizeof(line), "boot_id=%s", id);
	return state_contains(rec, line);
}

bool boot_reboot_allowed(struct ctx *ctx)
{
	return ctx->reboot == REBOOT_IF_NEEDED || (ctx->reboot == REBOOT_FIRST_BOOT && first_boot(ctx));
}

static void record_first_boot(struct ctx *ctx)
{
	_cleanup_strv_free_ char **rec = NULL;
	char id[128];
	_cleanup_free_ char *line = NULL;
	int r;

	if (ctx->reboot != REBOOT_FIRST_BOOT || state_load(&ctx->hr, FIRST_BOOT, &rec) < 0 || rec[0])
		return;
	if (boot_id(ctx, id, sizeof(id)) < 0 || !(line = strdup_printf("boot_id=%s", id)))
		return;
	r = state_save(&ctx->hr, FIRST_BOOT, (char *const[]){ line, NULL });
	if (r < 0)
		log_warn("recording the first boot in /var/lib/hostprep/" FIRST_BOOT ": %s", strerror(-r));
}

/* "HASH  FILE" per profile file (main file first, then each include holding
 * settings), the format sha256sum -c checks; NULL when one is unreadable. */
static char *profile_hashes(const struct profile *p)
{
	_cleanup_free_ const char **files = calloc(p->n_settings + p->n_sections + 2, sizeof(char *));
	_cleanup_free_ char *out = strdup("");
	size_t n = 0;

	if (!files || !out)
		return NULL;
	files[n++] = p->path;
	for (size_t i = 0; i < p->n_sections + p->n_settings; i++) {
		const char *f = i < p->n_sections ? p->sections[i].file : p->settings[i - p->n_sections].file;
		bool seen = false;

		for (size_t k = 0; k < n; k++)
			seen |= strcmp(files[k], f) == 0;
		if (!seen)
			files[n++] = f;
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_fclose_ FILE *f = fopen(files[i], "rbe");
		char buf[4096], hex[65], abs[PATH_MAX], *more;
		struct sha256 s;
		size_t k;

		if (!f || !realpath(files[i], abs))
			return NULL;
		sha256_init(&s);
		while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
			sha256_update(&s, buf, k);
		if (ferror(f))
			return NULL;
		sha256_hex(&s, hex);
		more = strdup_printf("%s%s  %s\n", out, hex, abs);
		if (!more)
			return NULL;
		free(out);
		out = more;
	}
	return TAKE_PTR(out);
}

static bool any_pending(const struct ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_actions; i++)
		if (ctx->actions[i]->state == ACTION_PENDING)
			return true;
	return false;
}

static void withdraw_ready(struct ctx *ctx)
{
	int r = hr_unlink(&ctx->hr, BOOT_READY);

	if (r < 0)
		log_warn("removing " BOOT_READY ": %s", strerror(-r));
}

void boot_before_changes(struct ctx *ctx)
{
	if (ctx->hr.is_real && any_pending(ctx))
		withdraw_ready(ctx);
}

/* The marker names the profile by content; it is rewritten only when that
 * changed, so a run that changes nothing leaves it alone. */
static void write_ready(struct ctx *ctx)
{
	_cleanup_free_ char *want = profile_hashes(ctx->profile), *have = NULL;
	int r;

	if (!want) {
		log_warn("not writing " BOOT_READY ": cannot read the profile's files back: %s", strerror(errno));
		withdraw_ready(ctx);
		return;
	}
	if (hr_read(&ctx->hr, &have, BOOT_READY) == 0 && strncmp(have, want, strlen(have)) == 0 &&
	    strlen(want) == strlen(have) + 1)
		return;
	r = hr_mkdir_p(&ctx->hr, "/run/hostprep");
	if (r == 0)
		r = hr_replace_file(&ctx->hr, want, 0644, BOOT_READY);
	if (r < 0)
		log_warn("writing " BOOT_READY ": %s", strerror(-r));
}

static int request_reboot(struct ctx *ctx)
{
	const char *tool = boot_reboot_tool(&ctx->hr);
	struct exec_result res;
	char last[512];
	int r;

	if (!tool) {
		log_error("reboot: systemctl not found; reboot this host to bring the kernel arguments");
		return -ENOENT;
	}
	/* The shutdown asked for stops the unit running us: systemd sends SIGTERM,
	 * possibly before systemctl has returned.  Everything is reported by now;
	 * ending normally keeps the unit's result this run's exit status, not
	 * "signal".  --no-block: the reboot job is queued and this run ends. */
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = SIG_IGN }, NULL);
	r = exec_run(&ctx->hr, (char *const[]){ (char *)tool, "reboot", "--no-block", NULL }, REBOOT_TIMEOUT_MS, &res);
	if (r == 0 && res.status != 0) {
		log_error("reboot: %s reboot --no-block exited with status %d: %s", tool, res.status,
			  exec_diagnosis(&res, last, sizeof(last)));
		r = -EIO;
	} else if (r < 0) {
		log_error("reboot: cannot run %s reboot --no-block: %s", tool, strerror(-r));
	}
	exec_result_free(&res);
	return r;
}

int boot_after_report(struct ctx *ctx, int code)
{
	bool ready = (code == 0 || code == 2) && !ctx->reboot_requested && !engine_reboot_required(ctx);

	/* The report goes first: the journal must hold it before the shutdown. */
	fflush(stdout);
	fflush(stderr);
	record_first_boot(ctx);
	if (ctx->hr.is_real) {
		if (ready)
			write_ready(ctx);
		else
			withdraw_ready(ctx);
	}
	if (ctx->reboot_requested && request_reboot(ctx) < 0)
		code |= 4;
	return code;
}
