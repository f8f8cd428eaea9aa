/* hostprep: converge a KVM host to its profile.  The CLI only; the work is in
 * the engine and the modules. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "lock.h"
#include "log.h"
#include "output.h"
#include "output-text.h"
#include "progress.h"
#include "version.h"

#define DEFAULT_PROFILE "/etc/hostprep/profile.ini"
#define EXIT_USAGE 1

static const char *arg_profile = DEFAULT_PROFILE;
static bool arg_profile_given;
static char profile_real[PATH_MAX];
static const char *arg_root = "/";
static enum color_mode arg_color = COLOR_AUTO;
static bool arg_json;
static bool arg_dry_run;
static enum reboot_policy arg_reboot = REBOOT_NEVER;
static bool arg_reboot_given;

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
	{ "-j, --json", "one JSON document on stdout", C_RUN },
	{ "-n, --dry-run", "with apply: change nothing (same as audit)", C(CMD_APPLY) },
	{ "    --reboot=WHEN", "with apply: never (default) | if-needed (once per kernel command line)", C(CMD_APPLY) },
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
			cmd->command == CMD_APPLY ? " [--dry-run] [--reboot=never|if-needed]" : "", cmd->help);
	} else {
		fprintf(f, "Usage: hostprep [OPTIONS] COMMAND\n\nCommands:\n");
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	}
	fprintf(f, "\nOptions:\n");
	for (size_t i = 0; i < ARRAY_SIZE(option_help); i++)
		if (option_help[i].commands & mask)
			fprintf(f, "  %-20s %s\n", option_help[i].flags, option_help[i].help);
	if (cmd)
		fprintf(f, "\nExit codes:\n%s", cmd->exit_codes);
	else
		fprintf(f, "\nExit codes: see hostprep COMMAND --help, or hostprep(8).\n");
}

static int load_profile(struct ctx *ctx, struct profile *p, bool validate_host)
{
	int r = profile_load(p, arg_profile, geteuid() == 0);

	ctx->profile = p;
	if (r == -ENOMEM) {
		profile_print_errors(p);
		log_error("out of memory");
		return r;
	}
	r = engine_load(ctx, validate_host);
	if (r < 0) {
		profile_print_errors(p);
		log_error("%s: %u error(s); nothing was changed", arg_profile, p->n_errors);
		return r;
	}
	return 0;
}

static int emit(struct ctx *ctx, const char *command, bool with_actions)
{
	struct json_object *doc = output_document(ctx, command, with_actions,
						  output_wants_capabilities(ctx, arg_json));

	if (!doc)
		return -ENOMEM;
	output_print(stdout, doc, arg_json);
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
		log_error("root %s: %s", arg_root, strerror(-r));
		return EXIT_USAGE;
	}
	ctx.reboot = arg_reboot;
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
		if (arg_json) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "version", json_object_new_string(HOSTPREP_VERSION));
			json_object_object_add(o, "command", json_object_new_string("validate"));
			json_object_object_add(o, "profile", json_object_new_string(arg_profile));
			json_object_object_add(o, "valid", json_object_new_boolean(1));
			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
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

			lock_fd = lock_take(&ctx.hr, &holder);
			if (lock_fd == -EWOULDBLOCK) {
				log_error("another hostprep run (pid %ld) holds /run/hostprep.lock; nothing was changed",
					  (long)holder);
				break;
			}
			if (lock_fd < 0) {
				log_error("taking /run/hostprep.lock: %s", strerror(-lock_fd));
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
		break;
	}
	lock_release(lock_fd);
	profile_free(&profile);
	ctx_free(&ctx);
	return code;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "reboot", required_argument, NULL, 'R' },
		{ "color", optional_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const struct command_desc *cmd = NULL;
	bool help = false;
	int c;

	/* Options may come before or after the command. */
	while ((c = getopt_long(argc, argv, "p:r:jnqvh", options, NULL)) != -1) {
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
			else {
				log_error("--reboot: expected never or if-needed, got '%s'", optarg);
				return EXIT_USAGE;
			}
			arg_reboot_given = true;
			break;
		case 'C':
			if (color_mode_parse(optarg ? optarg : "always", &arg_color) < 0) {
				log_error("--color: expected auto, always or never, got '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q': log_threshold = LOG_ERR; break;
		case 'v': log_threshold = log_threshold < LOG_INFO ? LOG_INFO : LOG_DEBUG; break;
		case 'h': help = true; break;
		default: usage(stderr, NULL); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (strcmp(argv[optind], commands[i].name) == 0)
				cmd = &commands[i];
		if (!cmd) {
			log_error("unknown command '%s'", argv[optind]);
			usage(stderr, NULL);
			return EXIT_USAGE;
		}
		if (optind + 1 < argc) {
			log_error("unexpected argument '%s'", argv[optind + 1]);
			return EXIT_USAGE;
		}
	}
	if (help) {
		usage(stdout, cmd);
		return 0;
	}
	if (!cmd) {
		usage(stderr, NULL);
		return EXIT_USAGE;
	}
	if (cmd->command == CMD_VERSION) {
		printf("hostprep %s\n", HOSTPREP_VERSION);
		return 0;
	}
	if ((arg_dry_run || arg_reboot_given) && cmd->command != CMD_APPLY) {
		log_error("%s goes with apply", arg_dry_run ? "--dry-run" : "--reboot");
		return EXIT_USAGE;
	}
	/* The profile is named the same way everywhere (errors, summary, JSON):
	 * absolute, as its FILE:LINE errors name it. */
	if (realpath(arg_profile, profile_real))
		arg_profile = profile_real;
	output_text_set_color(color_wanted(arg_color, STDOUT_FILENO));
	progress_init(log_threshold >= LOG_WARN && progress_wanted(STDERR_FILENO));
	return run(cmd);
}
