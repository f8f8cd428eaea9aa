#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "hostroot.h"
#include "lock.h"

/* The pid, fixed width, so that one pwrite() replaces the previous one whole:
 * no moment where a reader finds the file empty (pid 0). */
#define HOLDER_LEN 11

static int held_fd = -1;

static int write_holder(int fd, pid_t pid)
{
	char buf[32];
	ssize_t n;

	/* pid_max is at most 2^22: ten digits always suffice. */
	snprintf(buf, sizeof(buf), "%10ld\n", (long)pid);
	n = pwrite(fd, buf, HOLDER_LEN, 0);
	if (n != HOLDER_LEN)
		return n < 0 ? -errno : -EIO;
	/* Only cuts what an older, longer record left after ours. */
	return ftruncate(fd, HOLDER_LEN) < 0 ? -errno : 0;
}

/* A live process named in the lock file, 0 when none.  The holder writes its
 * pid right after taking the lock: a reader that comes in between finds the
 * previous holder's (exited) pid or nothing, and looks again, bounded. */
static pid_t read_holder(int fd)
{
	for (int i = 0; i < 100; i++) {
		char buf[32];
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		long pid;

		if (n > 0) {
			buf[n] = '\0';
			pid = strtol(buf, NULL, 10);
			if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
				return (pid_t)pid;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 2 * 1000 * 1000 }, NULL);
	}
	return 0;
}

int lock_take(struct hostroot *hr, pid_t *holder)
{
	int fd, r;

	*holder = 0;
	fd = hr_open(hr, O_RDWR | O_CREAT | O_NOFOLLOW, 0644, "/run/hostprep.lock");
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EAGAIN ? -EWOULDBLOCK : -errno;
		if (r == -EWOULDBLOCK)
			*holder = read_holder(fd);
		close(fd);
		return r;
	}
	r = write_holder(fd, getpid());
	if (r < 0) {
		close(fd);
		return r;
	}
	held_fd = fd;
	return fd;
}

void lock_set_holder(pid_t pid)
{
	if (held_fd >= 0)
		(void)write_holder(held_fd, pid);
}

void lock_release(int fd)
{
	if (fd >= 0) {
		if (fd == held_fd)
			held_fd = -1;
		close(fd);
	}
}
