/* One run at a time: flock on /run/hostprep.lock under the root. */
#ifndef HOSTPREP_LOCK_H
#define HOSTPREP_LOCK_H

#include <sys/types.h>

struct hostroot;

/* Returns the locked fd, -EWOULDBLOCK with *holder set (0 if unknown), or -errno. */
int lock_take(struct hostroot *hr, pid_t *holder);
void lock_release(int fd);

#endif
