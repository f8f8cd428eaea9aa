#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "hostroot.h"
#include "lock.h"
#include "log.h"

/* The pid, fixed width, so that one pwrite() replaces the previous one whole:
 * no moment where a reader finds the file empty (pid 0). */
#define HOLDER_LEN 11

static int held_fd = -1;
static volatile sig_atomic_t lock_timed_out;

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
		char buf[32], *end;
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		long pid;

		if (n > 0) {
			buf[n] = '\0';
			errno = 0;
			pid = strtol(buf, &end, 10);
			if (!errno && end != buf && (!*end || *end == '\n') && pid > 0 && pid <= INT32_MAX &&
			    (kill((pid_t)pid, 0) == 0 || errno == EPERM))
				return (pid_t)pid;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 2 * 1000 * 1000 }, NULL);
	}
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	lock_timed_out = 1;
}

/* Blocks in flock() until the lock is free or wait_ms have passed.  SIGALRM
 * (installed without SA_RESTART) interrupts flock(); the timer repeats every
 * 100 ms after it expires, so a signal that lands just before flock() is
 * entered cannot leave it blocked. */
static int lock_wait(int fd, unsigned wait_ms)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old_sa;
	struct itimerval it = {
		.it_value = { .tv_sec = wait_ms / 1000, .tv_usec = (wait_ms % 1000) * 1000 },
		.it_interval = { .tv_sec = 0, .tv_usec = 100000 },
	};
	static const struct itimerval off;
	int r = 0;

	sigemptyset(&sa.sa_mask);
	lock_timed_out = 0;
	if (sigaction(SIGALRM, &sa, &old_sa) < 0)
		return -errno;
	if (setitimer(ITIMER_REAL, &it, NULL) < 0) {
		r = -errno;
		(void)sigaction(SIGALRM, &old_sa, NULL);
		return r;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = -errno;
			break;
		}
		if (lock_timed_out) {
			r = -EWOULDBLOCK;
			break;
		}
	}
	(void)setitimer(ITIMER_REAL, &off, NULL);
	(void)sigaction(SIGALRM, &old_sa, NULL);
	return r;
}

int lock_take(struct hostroot *hr, unsigned wait_ms, pid_t *holder)
{
	int fd, r;

	*holder = 0;
	fd = hr_open(hr, O_RDWR | O_CREAT | O_NOFOLLOW, 0644, LOCK_PATH);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EAGAIN ? -EWOULDBLOCK : -errno;
		if (r == -EWOULDBLOCK)
			*holder = read_holder(fd);
		if (r == -EWOULDBLOCK && wait_ms > 0) {
			if (*holder > 0)
				log_info("another hostprep run (pid %ld) holds " LOCK_PATH "; waiting up to %u.%03u s",
					 (long)*holder, wait_ms / 1000, wait_ms % 1000);
			else
				log_info("another hostprep run holds " LOCK_PATH "; waiting up to %u.%03u s",
					 wait_ms / 1000, wait_ms % 1000);
			r = lock_wait(fd, wait_ms);
			if (r == -EWOULDBLOCK)
				*holder = read_holder(fd);
		}
		if (r < 0) {
			close(fd);
			return r;
		}
		*holder = 0;
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
