/* Running the host's own tools (update-grub, grubby, systemctl): a fixed argv,
 * no shell, a fixed environment, stdin from /dev/null, bounded in time.  With
 * a root other than / the tool runs chrooted into that root, so an image is
 * prepared by its own tools, never by this machine's. */
#ifndef HOSTPREP_EXEC_H
#define HOSTPREP_EXEC_H

#include <stdbool.h>
#include <stddef.h>

struct hostroot;

struct exec_result {
	int status;     /* exit status; 128+N when killed by signal N */
	char *out;      /* stdout and stderr, trailing newlines removed */
	char *err;
};

/* First of the NULL-terminated absolute paths that is an executable file
 * under the root, or NULL. */
const char *exec_find(const struct hostroot *hr, const char *const *paths);

/* Runs argv (argv[0] an absolute path inside the root).  Returns 0 when the
 * tool ran to its end (whatever its status), -ETIME when it was killed after
 * timeout_ms, or -errno when it could not start (chroot, exec). */
int exec_run(const struct hostroot *hr, char *const argv[], int timeout_ms, struct exec_result *res);
void exec_result_free(struct exec_result *res);

/* The last line of a tool's stderr (else stdout), for a one-line report. */
const char *exec_diagnosis(const struct exec_result *res, char *buf, size_t len);

#endif
