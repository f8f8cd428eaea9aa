/* A one-line status on the terminal for steps that can take seconds (a VF
 * creation, update-grub, a driver probe).  Shown only when stderr is a
 * terminal and the step has lasted about a second; cleared when it ends.
 * Nothing reaches a pipe, the journal or the JSON document.
 *
 *   PROGRESS("sriov %s: writing %u to sriov_numvfs", addr, n);
 *
 * shows the status until the enclosing scope ends (one line per call site). */
#ifndef HOSTPREP_PROGRESS_H
#define HOSTPREP_PROGRESS_H

#include <stdbool.h>

#include "macro.h"

/* main(): enable when stderr is a terminal that understands "\r\e[K". */
void progress_init(bool enabled);
bool progress_wanted(int fd);

int progress_begin(const char *fmt, ...) PRINTF_FMT(1, 2);
void progress_end(int *token);

#define PROGRESS_CAT_(a, b) a##b
#define PROGRESS_CAT(a, b) PROGRESS_CAT_(a, b)
#define PROGRESS(...) \
	_cleanup_(progress_end) __attribute__((unused)) int PROGRESS_CAT(progress_, __COUNTER__) = \
		progress_begin(__VA_ARGS__)

#endif
