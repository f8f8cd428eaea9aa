/* hostprep: converge a KVM host to its profile.  The CLI only; the work is in
 * the engine and the modules. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "devwait.h"
#include "engine.h"
#include "lock.h"
#include "log.h"
#include "output.h"
#include "output-text.h"
#include "progress.h"
#include "util.h"
#include "version.h"

#define DEFAULT_PROFILE "/etc/hostprep/profile.ini"
#define EXIT_USAGE 1
#define SHORT_OPTIONS "p:r:jnqvh"
#define DEFAULT_WAIT_S 300
#define MAX_WAIT_S 86400
#define STR(x) STR_(x)
#define STR_(x) #x

static const char *arg_profile = DEFAULT_PROFILE;
static bool arg_profile_given;
static char profile_real[PATH_MAX];
static const char *arg_root = "/";
static enum color_mode arg_color = COLOR_AUTO;
static bool arg_json;
static bool arg_dry_run;
static enum reboot_policy arg_reboot = REBOOT_NEVER;
static bool arg_reboot_given;
static int arg_device_timeout_ms = DEVWAIT_DEFAULT_MS;
static unsigned arg_wait_s;
static bool arg_wait_given;

/* Why the run exits 1: the error document's "errors" (JSON mode). */
static struct json_object *run_errors;

/* Logs an error that stops the run and keeps it for the error document;
 * file is the file concerned, or NULL. */
static void run_error(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_error(const char *file, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	output_add_error(run_errors, file, 0, msg);
}

/* With --json, exit 1 prints the error document: one document per run. */
static int finish(const char *command, int code, bool validate)
{
	struct json_object *doc;

	if (code != EXIT_USAGE || !arg_json)
		return code;
	if (json_object_array_length(run_errors) == 0)
		output_add_error(run_errors, NULL, 0, "could not run (see the diagnostics on stderr)");
	doc = output_error_document(command, command && strcmp(command, "version") != 0 &&
						     (strcmp(command, "report") != 0 || arg_profile_given) ? arg_profile : NULL,
				    arg_root, run_errors);
	if (validate)
		json_object_object_add(doc, "valid", json_object_new_boolean(0));
	output_print(stdout, doc, true);
	json_object_put(doc);
	return code;
}

#define C(cmd) (1u << (cmd))
#define C_RUN (C(CMD_APPLY) | C(CMD_AUDIT) | C(CMD_REPORT) | C(CMD_VALIDATE))
#define C_STATES (C(CMD_APPLY) | C(CMD_AUDIT) | C(CMD_REPORT))

static const struct command_desc {
	const char *name;
	enum command command;
	const char *help;
	/* The exit codes this command can return, one per line. */
	const char *exit_codes;
} commands[] = {
	{ "apply", CMD_APPLY, "converge the host to the profile (--dry-run: same as audit)",
	  "  0  nothing needed changing\n"
	  "  2  changes were made\n"
	  "  4  some actions failed, nothing changed\n"
	  "  6  changes were made and some actions failed\n"
	  "  1  could not run (usage, invalid profile, lock held, not permitted); nothing was changed\n" },
	{ "audit", CMD_AUDIT, "show what apply would change; changes nothing",
	  "  0  the host matches the profile\n"
	  "  2  changes are pending (apply would write)\n"
	  "  4  some checks failed\n"
	  "  1  could not run (usage, invalid profile, not permitted)\n" },
	{ "report", CMD_REPORT, "print the host's capabilities and a readiness checklist (--profile: judged against it)",
	  "  0  the report was printed (whatever the checklist says)\n"
	  "  1  could not run (usage, unreadable root, invalid profile)\n" },
	{ "validate", CMD_VALIDATE, "check the profile, against the host when one is readable",
	  "  0  the profile is valid\n"
	  "  1  the profile is invalid, or could not run\n" },
	{ "version", CMD_VERSION, "print the version",
	  "  0  always\n" },
};

/* Options, and the commands each one applies to. */
static const struct option_desc {
	const char *flags;
	const char *help;
	unsigned commands;
} option_help[] = {
	{ "-p, --profile FILE", "the profile (default " DEFAULT_PROFILE "; report: only when given)", C_RUN },
	{ "-r, --root DIR", "the host's root; non-file effects are planned, not run, unless DIR is /", C_RUN },
	{ "-j, --json", "one JSON document on stdout, exit code 1 included (schema_version 1)", C_RUN | C(CMD_VERSION) },
	{ "-n, --dry-run", "with apply: change nothing (same as audit)", C(CMD_APPLY) },
	{ "    --reboot=WHEN", "with apply: never (default) | if-needed | first-boot", C(CMD_APPLY) },
	{ "    --wait[=SECONDS]", "with apply: wait for another run's lock, up to SECONDS (default " STR(DEFAULT_WAIT_S) ")",
	  C(CMD_APPLY) },
	{ "    --device-timeout=S", "wait up to S seconds for the devices named (default 30)",
	  C(CMD_APPLY) | C(CMD_AUDIT) },
	{ "    --color[=WHEN]", "auto (default: on a terminal, without NO_COLOR) | always | never", C_STATES },
	{ "-q, --quiet", "errors only on stderr", C_RUN },
	{ "-v, --verbose", "also ok rows and VF detail; more diagnostics (twice: debug)", C_RUN },
	{ "-h, --help", "this help (after a command: that command's help)", ~0u },
};

static void usage(FILE *f, const struct command_desc *cmd)
{
	unsigned mask = cmd ? C(cmd->command) : ~0u;

	if (cmd) {
		fprintf(f, "Usage: hostprep [OPTIONS] %s%s\n  %s\n", cmd->name,
			cmd->command == CMD_APPLY ? " [--dry-run] [--reboot=never|if-needed|first-boot] [--wait[=SECONDS]]" : "",
			cmd->help);
	} else {
		fprintf(f, "Usage: hostprep [OPTIONS] COMMAND\n\nCommands:\n");
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	}
	fprintf(f, "\nOptions:\n");
	for (size_t i = 0; i < ARRAY_SIZE(option_help); i++)
		if (option_help[i].commands & mask)
			fprintf(f, "  %-22s %s\n", option_help[i].flags, option_help[i].help);
	if (cmd)
		fprintf(f, "\nExit codes:\n%s", cmd->exit_codes);
	else
		fprintf(f, "\nExit codes: see hostprep COMMAND --help, or hostprep(8).\n");
}

static int load_profile(struct ctx *ctx, struct profile *p, bool validate_host)
{
	int r = profile_load(p, arg_profile, geteuid() == 0);

	ctx->profile = p;
	if (r != -ENOMEM)
		r = engine_load(ctx, validate_host);
	if (r < 0) {
		profile_print_errors(p);
		if (output_add_profile_errors(run_errors, p) < 0 || p->n_listed < p->n_errors || r == -ENOMEM)
			run_error(arg_profile, "%s: %s", arg_profile, r == -EINVAL ? "errors not listed (out of memory)"
											: strerror(-r));
		log_error("%s: %u error(s); nothing was changed", arg_profile, p->n_errors);
		return r;
	}
	return 0;
}

/* A document that cannot be written is said on stderr; the exit code still
 * tells what happened to the host (exit 1 would claim nothing was touched). */
static void print_document(struct json_object *doc, const char *command, bool json)
{
	errno = 0;
	output_print(stdout, doc, json);
	if (fflush(stdout) == EOF || ferror(stdout))
		log_warn("writing the %s output to standard output: %s", command, strerror(errno ? errno : EIO));
}

static int emit(struct ctx *ctx, const char *command, bool with_actions)
{
	struct json_object *doc = output_document(ctx, command, with_actions,
						  output_wants_capabilities(ctx, arg_json));

	if (!doc)
		return -ENOMEM;
	/* After the capabilities: their reads count too. */
	engine_say_unread(ctx);
	/* What was read is in the document now: its memory serves the printing. */
	snap_invalidate(ctx);
	print_document(doc, command, arg_json);
	json_object_put(doc);
	return 0;
}

static void mark_reboot_required(struct ctx *ctx)
{
	int r;

	/* Debian's convention; only for the real host, not for an image under --root. */
	if (!ctx->hr.is_real || !engine_reboot_required(ctx) || hr_exists(&ctx->hr, "/run/reboot-required"))
		return;
	r = hr_replace_file(&ctx->hr, "*** System restart required ***\n", 0644, "/run/reboot-required");
	if (r < 0)
		log_warn("creating /run/reboot-required: %s", strerror(-r));
}

static int run(const struct command_desc *cmd)
{
	struct ctx ctx;
	struct profile profile = { 0 };
	int r, code = EXIT_USAGE, lock_fd = -1;
	enum command command = cmd->command;

	if (command == CMD_APPLY && arg_dry_run)
		command = CMD_AUDIT;
	r = ctx_init(&ctx, command, arg_root);
	if (r < 0) {
		if (r == -ENOSYS)
			run_error(NULL, "root %s: keeping paths inside a root other than / needs openat2() "
				  "(Linux 5.6 or later), which this kernel lacks", arg_root);
		else
			run_error(NULL, "root %s: %s", arg_root, strerror(-r));
		ctx_free(&ctx);
		return EXIT_USAGE;
	}
	ctx.reboot = arg_reboot;
	ctx.device_timeout_ms = arg_device_timeout_ms;
	switch (command) {
	case CMD_REPORT:
		/* With --profile the plan (read-only, as audit's) goes into the
		 * document and the checklist judges the host against it. */
		if (arg_profile_given) {
			if (load_profile(&ctx, &profile, true) < 0)
				break;
			engine_plan(&ctx);
		}
		code = emit(&ctx, "report", arg_profile_given) < 0 ? EXIT_USAGE : 0;
		break;
	case CMD_VALIDATE:
		if (load_profile(&ctx, &profile, hr_is_dir(&ctx.hr, "/sys/devices/system/cpu")) < 0)
			break;
		log_info("%s: valid", arg_profile);
		engine_say_unread(&ctx);
		if (arg_json) {
			struct json_object *o = output_validate_document(&ctx);

			print_document(o, "validate", true);
			json_object_put(o);
		} else if (log_threshold >= LOG_WARN) {
			printf("%s: valid\n", arg_profile);
		}
		code = 0;
		break;
	case CMD_VERSION:
		break;
	case CMD_APPLY:
	case CMD_AUDIT:
		if (load_profile(&ctx, &profile, true) < 0)
			break;
		if (command == CMD_APPLY) {
			pid_t holder;

			lock_fd = lock_take(&ctx.hr, arg_wait_s * 1000, &holder);
			if (lock_fd == -EWOULDBLOCK) {
				char who[32] = "";

				if (holder > 0)
					snprintf(who, sizeof(who), " (pid %ld)", (long)holder);
				if (arg_wait_s)
					run_error(LOCK_PATH, "another hostprep run%s held " LOCK_PATH
						  " for the %u s of --wait; nothing was changed", who, arg_wait_s);
				else
					run_error(LOCK_PATH, "another hostprep run%s holds " LOCK_PATH
						  "; nothing was changed (--wait=SECONDS waits for it)", who);
				break;
			}
			if (lock_fd < 0) {
				run_error(LOCK_PATH, "taking " LOCK_PATH ": %s", strerror(-lock_fd));
				break;
			}
		}
		engine_plan(&ctx);
		if (command == CMD_APPLY) {
			engine_apply(&ctx);
			mark_reboot_required(&ctx);
		}
		engine_log_failures(&ctx);
		code = engine_exit_code(&ctx);
		if (emit(&ctx, command == CMD_APPLY ? "apply" : "audit", true) < 0)
			code = EXIT_USAGE;
		else if (command == CMD_APPLY)
			code = boot_after_report(&ctx, code);
		break;
	}
	lock_release(lock_fd);
	profile_free(&profile);
	ctx_free(&ctx);
	return code;
}

static int parse_wait(const char *s)
{
	char *end;
	long v;

	if (!s) {
		arg_wait_s = DEFAULT_WAIT_S;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > MAX_WAIT_S)
		return -EINVAL;
	arg_wait_s = (unsigned)v;
	return 0;
}

/* The option getopt stopped at: a short one by its letter (it may sit in a
 * cluster such as -jx), a long one (optopt is then 0 or its value) as written. */
static const char *option_name(char *const *argv, int c)
{
	static char name[3];

	if (c > 0 && c != '?' && c != ':' && strchr(SHORT_OPTIONS, c)) {
		snprintf(name, sizeof(name), "-%c", c);
		return name;
	}
	return argv[optind - 1];
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "reboot", required_argument, NULL, 'R' },
		{ "wait", optional_argument, NULL, 'W' },
		{ "color", optional_argument, NULL, 'C' },
		{ "device-timeout", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const struct command_desc *cmd = NULL;
	bool help = false, bad_usage = false;
	int c, code;

	run_errors = json_object_new_array();
	if (!run_errors)
		return EXIT_USAGE;
	/* Options may come before or after the command.  A usage error does not
	 * stop the parsing: a later --json still gets its error document. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" SHORT_OPTIONS, options, NULL)) != -1) {
		switch (c) {
		case 'p': arg_profile = optarg; arg_profile_given = true; break;
		case 'r': arg_root = optarg; break;
		case 'j': arg_json = true; break;
		case 'n': arg_dry_run = true; break;
		case 'R':
			if (strcmp(optarg, "never") == 0)
				arg_reboot = REBOOT_NEVER;
			else if (strcmp(optarg, "if-needed") == 0)
				arg_reboot = REBOOT_IF_NEEDED;
			else if (strcmp(optarg, "first-boot") == 0)
				arg_reboot = REBOOT_FIRST_BOOT;
			else {
				run_error(NULL, "--reboot: expected never, if-needed or first-boot, got '%s'", optarg);
				bad_usage = true;
			}
			arg_reboot_given = true;
			break;
		case 'W':
			if (parse_wait(optarg) < 0) {
				run_error(NULL, "--wait: expected seconds from 0 to %d, got '%s'", MAX_WAIT_S, optarg);
				bad_usage = true;
			}
			arg_wait_given = true;
			break;
		case 'C':
			if (color_mode_parse(optarg ? optarg : "always", &arg_color) < 0) {
				run_error(NULL, "--color: expected auto, always or never, got '%s'", optarg);
				bad_usage = true;
			}
			break;
		case 'T': {
			uint64_t secs;

			if (parse_u64_range(optarg, 0, 3600, &secs) < 0) {
				run_error(NULL, "--device-timeout: expected seconds (0 to 3600), got '%s'", optarg);
				bad_usage = true;
			} else
				arg_device_timeout_ms = (int)secs * 1000;
			break;
		}
		case 'q': log_threshold = LOG_ERR; break;
		case 'v': log_threshold = log_threshold < LOG_INFO ? LOG_INFO : LOG_DEBUG; break;
		case 'h': help = true; break;
		case ':':
			run_error(NULL, "option '%s' needs a value", option_name(argv, optopt));
			bad_usage = true;
			break;
		default:
			run_error(NULL, "unknown option '%s'", option_name(argv, optopt));
			bad_usage = true;
			break;
		}
	}
	if (optind < argc) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (strcmp(argv[optind], commands[i].name) == 0)
				cmd = &commands[i];
		if (!cmd) {
			run_error(NULL, "unknown command '%s'", argv[optind]);
			bad_usage = true;
		} else if (optind + 1 < argc) {
			run_error(NULL, "unexpected argument '%s'", argv[optind + 1]);
			bad_usage = true;
		}
	}
	if (help && !bad_usage) {
		usage(stdout, cmd);
		code = 0;
	} else if (bad_usage || !cmd) {
		if (!bad_usage)
			run_error(NULL, "no command given");
		if (!arg_json)
			usage(stderr, NULL);
		code = finish(cmd ? cmd->name : NULL, EXIT_USAGE, false);
	} else if ((arg_dry_run || arg_reboot_given || arg_wait_given) && cmd->command != CMD_APPLY) {
		run_error(NULL, "%s goes with apply", arg_dry_run ? "--dry-run" : arg_reboot_given ? "--reboot" : "--wait");
		code = finish(cmd->name, EXIT_USAGE, false);
	} else if (cmd->command == CMD_VERSION) {
		if (arg_json) {
			struct json_object *doc = output_version_document();

			output_print(stdout, doc, true);
			json_object_put(doc);
		} else {
			printf("hostprep %s\n", HOSTPREP_VERSION);
		}
		code = 0;
	} else {
		/* The profile is named the same way everywhere (errors, summary, JSON):
		 * absolute, as its FILE:LINE errors name it. */
		if (realpath(arg_profile, profile_real))
			arg_profile = profile_real;
		output_text_set_color(color_wanted(arg_color, STDOUT_FILENO));
		progress_init(log_threshold >= LOG_WARN && progress_wanted(STDERR_FILENO));
		code = finish(cmd->name, run(cmd), cmd->command == CMD_VALIDATE);
	}
	json_object_put(run_errors);
	return code;
}
