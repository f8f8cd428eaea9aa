/* One run at a time: flock on /run/hostprep.lock under the root. */
#ifndef HOSTPREP_LOCK_H
#define HOSTPREP_LOCK_H

#include <sys/types.h>

struct hostroot;

#define LOCK_PATH "/run/hostprep.lock"

/* Takes the lock; when another run holds it, waits up to wait_ms for it
 * (0: not at all).  Returns the locked fd, -EWOULDBLOCK with *holder set to a
 * live process named in the lock file (0 if none can be named), or -errno. */
int lock_take(struct hostroot *hr, unsigned wait_ms, pid_t *holder);
/* Names another process as the holder of the lock this run took (a child
 * that shares the lock and may outlive the run), or this process again. */
void lock_set_holder(pid_t pid);
void lock_release(int fd);

#endif
