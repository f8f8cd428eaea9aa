#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>

#include "hostroot.h"
#include "lock.h"
#include "log.h"

static volatile sig_atomic_t lock_timed_out;

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

/* The pid the holder wrote, 0 when unknown. */
static pid_t read_holder(int fd)
{
	char buf[32], *end;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || pid <= 0 || pid > INT32_MAX)
		return 0;
	return (pid_t)pid;
}

int lock_take(struct hostroot *hr, unsigned wait_ms, pid_t *holder)
{
	char path[4096], buf[32];
	int fd, r;
	ssize_t n;

	*holder = 0;
	r = hr_path(hr, path, sizeof(path), LOCK_PATH);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EAGAIN ? -EWOULDBLOCK : -errno;
		*holder = read_holder(fd);
		if (r == -EWOULDBLOCK && wait_ms > 0) {
			log_info("another hostprep run (pid %ld) holds " LOCK_PATH "; waiting up to %u.%03u s",
				 (long)*holder, wait_ms / 1000, wait_ms % 1000);
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
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
