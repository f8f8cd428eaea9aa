/* [kernel]: the kernel command line.  Shared by the module (kernel.c), its
 * bootloader backends (kernel-grub.c, kernel-bls.c) and the reboot policy
 * (kernel-reboot.c). */
#ifndef HOSTPREP_MODULE_KERNEL_H
#define HOSTPREP_MODULE_KERNEL_H

#include <stdbool.h>

#include "cpulist.h"
#include "engine.h"

enum bootloader_kind { BOOT_AUTO, BOOT_GRUB, BOOT_GRUBBY, BOOT_KERNEL_CMDLINE, BOOT_NONE };

struct kernel_cpus {
	const struct setting *setting;
	char flags[64];            /* isolcpus only: "managed_irq,domain," */
	struct cpuset set;
};

struct kernel_config {
	struct kernel_cpus isolcpus, nohz_full, rcu_nocbs;
	const struct setting *iommu, *args, *bootloader;
	char **extra;              /* arguments from args = */
	enum bootloader_kind kind;
};

struct kboot;

struct karg {
	struct action *action;
	char *text;                /* the argument: one token, or a group */
	bool removed;              /* owned before, no longer in the profile */
};

struct boot_backend {
	const char *name;
	/* The file or tool the boot configuration lives in (action target). */
	const char *config;
	/* Our arguments as the boot configuration holds them now. */
	int (*read_owned)(struct ctx *ctx, struct kboot *kb, char ***ret);
	/* Tokens of the configuration we edit, when it also holds what is not
	 * ours (an argument of the profile found there needs no write); NULL
	 * when the configuration is ours alone. */
	int (*read_config)(struct ctx *ctx, struct kboot *kb, char ***ret);
	/* Tokens of the command line the next boot gets; *source says where
	 * they were read (malloc'ed). */
	int (*read_next)(struct ctx *ctx, struct kboot *kb, char ***ret, char **source);
	/* Make the configuration hold kb->desired instead of kb->owned and
	 * refresh the bootloader.  On failure *msg says why (malloc'ed). */
	int (*write)(struct ctx *ctx, struct kboot *kb, char **msg);
	/* Where a token that is not ours is configured, malloc'ed, or NULL. */
	char *(*origin)(struct ctx *ctx, struct kboot *kb, const char *token);
	/* A configuration file that drops our arguments wholesale, or NULL. */
	char *(*override)(struct ctx *ctx, struct kboot *kb);
};

/* What one run knows about the kernel command line. */
struct kboot {
	const struct boot_backend *backend;   /* NULL: bootloader = none */
	char **desired;            /* arguments the profile wants, in order */
	char **owned;              /* our arguments the boot configuration holds */
	bool record_stale;         /* the record names more than that (a run was cut short) */
	char **next;               /* next boot's tokens, NULL when unreadable */
	char *next_source;         /* where next came from, or why it is unknown */
	char **running;            /* /proc/cmdline */
	struct karg *args;         /* one per desired or removed argument */
	size_t n_args;
	struct action *config;     /* the write of the boot configuration */
};

extern const struct boot_backend boot_grub, boot_grubby, boot_kernel_cmdline;

/* kernel-profile.c */
int kernel_parse(struct ctx *ctx, void *config, const struct setting *s);
int kernel_validate(struct ctx *ctx, void *config);
void kernel_free_config(void *config);
/* The arguments the profile wants, in order (c may be NULL: [hugepages] only). */
int kernel_desired_args(struct ctx *ctx, const struct kernel_config *c, char ***ret);
/* The key an argument is known by: a group's first token, else the token's key. */
void kernel_arg_key(const char *arg, char *key, size_t len);

/* Runs a tool of the host (chrooted under --root); 0 on exit status 0, else
 * -errno with *msg naming the tool, its status and its last stderr line. */
int kernel_run_tool(struct ctx *ctx, char *const argv[], int timeout_ms, char **msg);

/* Pure parsers of bootloader files (no host access; the fuzzers call them).
 * grub.cfg text (modified in place) and grubenv (may be NULL) → the default
 * entry's linux arguments and its title, malloc'ed; -ENOENT when there is no
 * default entry with a linux line (*want: the entry looked for, malloc'ed). */
int grub_cfg_default_args(char *cfg, const char *grubenv, char **args, char **title, char **want);
/* The value of KEY=... (quotes dropped) in grubby --info output, malloc'ed, or NULL. */
char *bls_info_value(const char *info, const char *key);
/* The "options" lines of a loader entry joined by spaces, malloc'ed (text is
 * modified in place). */
char *bls_entry_options(char *text);

/* The kboot of this run (after plan), NULL when the module planned nothing. */
struct kboot *kernel_boot(struct ctx *ctx);
/* apply --reboot=if-needed and the guard file (kernel-reboot.c). */
int kernel_reboot_finish(struct ctx *ctx, struct kboot *kb);

#endif
