#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "hostroot.h"
#include "lock.h"

int lock_take(struct hostroot *hr, pid_t *holder)
{
	char path[4096], buf[32];
	int fd, r;
	ssize_t n;

	*holder = 0;
	r = hr_path(hr, path, sizeof(path), "/run/hostprep.lock");
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			*holder = (pid_t)atoi(buf);
		}
		close(fd);
		return r == -EAGAIN ? -EWOULDBLOCK : r;
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
