/* The run's view of the host, the one place host state is gathered, each
 * part on first use: facts about the host (read once per run), one PCI
 * enumeration (one libpci access), and every file the host-root layer reads
 * while the engine only reads — validate, plan, report — read once.
 *
 * Reads go through the snapshot (hr.memo set) except while actions are
 * applied: apply functions read back what they wrote and waits poll, so they
 * see the live host.  Any write through the host-root layer, and every
 * applied action, drops what was read (snap_invalidate); facts stay. */
#ifndef HOSTPREP_SNAPSHOT_H
#define HOSTPREP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cpulist.h"
#include "pci.h"

struct ctx;

/* Facts about the host, read once per run. */
struct host_facts {
	bool loaded;
	char vendor[32];           /* GenuineIntel, AuthenticAMD, ... */
	char model[128];
	char flags[8192];          /* /proc/cpuinfo flags of the first CPU */
	struct cpuset possible;
	struct cpuset online;
	unsigned nr_cpus;          /* span of possible */
	unsigned nodes[256];
	unsigned n_nodes;
	char cmdline[8192];        /* /proc/cmdline */
	char release[128];         /* /proc/sys/kernel/osrelease, "" when unknown */
};

/* Files read by the host-root layer, by kind and host path. */
enum memo_kind { MEMO_READ = 'r', MEMO_LINK = 'l', MEMO_LIST = 'd', MEMO_STAT = 's',
		 MEMO_MODOPTS = 'o' /* the snapshot's own: snap_module_options */ };

struct memo_value {
	int r;                     /* 0 or -errno */
	mode_t mode;               /* MEMO_STAT: st_mode */
	union {
		char *data;        /* MEMO_READ, MEMO_MODOPTS: content; MEMO_LINK: target */
		char **list;       /* MEMO_LIST: entries as hr_list returns them */
	};
};

struct memo_entry;
struct memo_block;

struct hr_memo {
	struct memo_entry *tab;    /* open addressing */
	size_t n, cap;
	struct memo_block *blocks; /* where keys and contents are kept */
};

struct snapshot {
	struct host_facts facts;
	bool pci_listed;
	bool pci_named;            /* names looked up in pci.ids */
	int pci_r;                 /* pci_enumerate's result */
	char pci_err[512];
	struct pci_list pci;
	struct hr_memo memo;
};

const struct host_facts *host_facts(struct ctx *ctx);

/* Every PCI device of the root in address order, enumerated once; NULL on a
 * libpci error, whose message goes to err (may be NULL). */
const struct pci_list *snap_pci(struct ctx *ctx, char *err, size_t err_len);
/* The run has listed the bus already (a lookup then costs nothing). */
bool snap_pci_listed(const struct ctx *ctx);
/* One device of that list, NULL when absent or when the list failed. */
const struct pci_device *snap_pci_device(struct ctx *ctx, const char *addr);
/* A listed device's name from pci.ids, read at the first name asked for. */
const char *snap_pci_name(struct ctx *ctx, const struct pci_device *d);

/* The options modprobe passes to a module (kmodules_options: libkmod over the
 * root's modprobe.d), worked out once per module; *ret is malloc'ed. */
int snap_module_options(struct ctx *ctx, const char *name, char **ret);

/* The engine's phases: reads through the snapshot or from the live host. */
void snap_reads_live(struct ctx *ctx, bool live);
/* Drops the PCI list and the files read: the host has changed. */
void snap_invalidate(struct ctx *ctx);
void snap_free(struct snapshot *s);

/* The host-root layer's side (hostroot.c, while hr.memo is set).  The slot
 * of (kind, path): when *fresh, the caller reads the host and fills it with
 * memo_keep before any other memo call; otherwise its value is the answer,
 * unless r is -EAGAIN (not kept: read again).  NULL without memory: read
 * the host, keep nothing. */
struct memo_value *memo_slot(struct hr_memo *m, enum memo_kind kind, const char *path, bool *fresh);
/* Keeps the result of a read: a copy of data (MEMO_READ, MEMO_LINK) or list (MEMO_LIST). */
void memo_keep(struct hr_memo *m, struct memo_value *slot, int r, const char *data, char *const *list, mode_t mode);
void memo_clear(struct hr_memo *m);

#endif
