/* One run at a time: flock on /run/hostprep.lock under the root. */
#ifndef HOSTPREP_LOCK_H
#define HOSTPREP_LOCK_H

#include <sys/types.h>

struct hostroot;

#define LOCK_PATH "/run/hostprep.lock"

/* Takes the lock; when another run holds it, waits up to wait_ms for it
 * (0: not at all).  Returns the locked fd, -EWOULDBLOCK with *holder set (0 if
 * unknown), or -errno. */
int lock_take(struct hostroot *hr, unsigned wait_ms, pid_t *holder);
void lock_release(int fd);

#endif
