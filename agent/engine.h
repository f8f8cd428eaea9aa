/* The plan/apply engine: a run context, actions, and the module descriptor. */
#ifndef HOSTPREP_ENGINE_H
#define HOSTPREP_ENGINE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "cpulist.h"
#include "hostroot.h"
#include "profile.h"
#include "snapshot.h"

enum command { CMD_APPLY, CMD_AUDIT, CMD_REPORT, CMD_VALIDATE, CMD_VERSION };
/* REBOOT_FIRST_BOOT: REBOOT_IF_NEEDED on this host's first boot-time run
 * (no /var/lib/hostprep/first-boot from an earlier boot), else REBOOT_NEVER. */
enum reboot_policy { REBOOT_NEVER, REBOOT_IF_NEEDED, REBOOT_FIRST_BOOT };

enum action_state {
	ACTION_OK,              /* already as desired */
	ACTION_PENDING,         /* would change (audit), or not yet applied */
	ACTION_CHANGED,
	ACTION_PENDING_REBOOT,  /* configured, takes effect at the next boot */
	ACTION_PENDING_RELOAD,  /* configured, takes effect when a module reloads */
	ACTION_FAILED,
	ACTION_SKIPPED,
	ACTION_UNSUPPORTED,
};
#define ACTION_N_STATES (ACTION_UNSUPPORTED + 1)

struct ctx;
struct action;

typedef int (*action_apply_fn)(struct ctx *ctx, struct action *a);

struct action {
	const char *module;
	char *id;                  /* "MODULE:WHAT": stable across runs, unique in a run */
	char *target;
	char *current;
	char *previous;            /* current before apply changed it */
	char *desired;
	char *message;
	enum action_state state;
	bool reboot;               /* needs a reboot to take full effect */
	action_apply_fn apply;     /* run by apply for PENDING actions */
	void *data;
	void (*free_data)(void *data);
	struct json_object *extra;  /* further keys of this action's JSON (may be NULL) */
};

struct module {
	const char *name;
	const char *section;       /* profile section, NULL for report-only modules */
	bool instanced;            /* [section INSTANCE] */
	size_t config_size;        /* zeroed config handed to parse/validate/plan */
	/* One key; log with ctx_setting_error() and return -EINVAL on bad input. */
	int (*parse)(struct ctx *ctx, void *config, const struct setting *s);
	/* Checks against the host (read-only). */
	int (*validate)(struct ctx *ctx, void *config);
	/* Adds actions (read-only).  config is NULL when the profile has no such
	 * section, so a module can still undo what it did before. */
	int (*plan)(struct ctx *ctx, void *config);
	/* After every module's actions were applied (apply only): effects that
	 * must come last, such as a reboot.  May add actions. */
	int (*finish)(struct ctx *ctx, void *config);
	/* Adds this module's part of the capabilities report. */
	void (*report)(struct ctx *ctx, struct json_object *caps);
	void (*free_config)(void *config);
};

extern const struct module *const modules[];

struct ctx {
	struct hostroot hr;
	enum command command;
	struct profile *profile;   /* NULL for report */
	struct action **actions;
	size_t n_actions;
	struct json_object *warnings;
	enum reboot_policy reboot;            /* apply --reboot */
	bool reboot_requested;                /* apply: ask for a reboot after the report */
	int device_timeout_ms;                /* waiting for the devices the profile names */
	struct snapshot snap;                 /* host state, read once (snapshot.h) */
	void *configs[32];
	const struct module *current;         /* module being planned */
};

int ctx_init(struct ctx *ctx, enum command command, const char *root);
void ctx_free(struct ctx *ctx);

/* Another module's parsed config (NULL when its section is absent). */
void *ctx_module_config(struct ctx *ctx, const struct module *m);
bool host_cpu_is_amd(struct ctx *ctx);

/* Parse and validate the profile with every module.  Returns -EINVAL
 * (errors logged as FILE:LINE) or 0. */
int engine_load(struct ctx *ctx, bool validate_host);
int engine_plan(struct ctx *ctx);
int engine_apply(struct ctx *ctx);
/* One stderr line per failed action, planned or applied. */
void engine_log_failures(const struct ctx *ctx);
/* Exit code from the actions: 0/2/4/6. */
int engine_exit_code(const struct ctx *ctx);
bool engine_reboot_required(const struct ctx *ctx);
/* The desired text of kernel argument KEY ("intel_iommu", "hugepagesz=1G")
 * when this run's profile has it pending for the next boot (to be written, or
 * written, but not running), else NULL.  The kernel module plans first, so
 * every later module may ask while planning or applying. */
const char *engine_boot_arg_pending(const struct ctx *ctx, const char *key);

void ctx_setting_error(struct ctx *ctx, const struct setting *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ctx_warn(struct ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning for every read of the host that failed with an error (not "not
 * there") and that no warning or action message names yet (hr_unread_next). */
void engine_say_unread(struct ctx *ctx);

/* New action of the module being planned; state OK when current equals
 * desired, else PENDING.  current/desired may be NULL.  Its id is
 * MODULE:TARGET: a module whose target follows the host's state (how things
 * are grouped this run) names what the action manages with action_set_id(). */
struct action *plan_action(struct ctx *ctx, const char *target, const char *current, const char *desired,
			   action_apply_fn apply);
void action_set_state(struct action *a, enum action_state state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void action_set_current(struct action *a, const char *current);
/* id = MODULE:WHAT, WHAT from fmt.  Returns 0 or -ENOMEM. */
int action_set_id(struct action *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Number of actions in each state. */
void engine_count_states(const struct ctx *ctx, size_t counts[ACTION_N_STATES]);
const char *action_state_name(enum action_state s);

#endif
