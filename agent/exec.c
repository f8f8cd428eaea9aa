#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "hostroot.h"
#include "progress.h"

#define OUTPUT_MAX (1 << 20)

const char *exec_find(const struct hostroot *hr, const char *const *paths)
{
	for (; *paths; paths++) {
		struct stat st;

		/* Resolved inside the root, as the chrooted exec will resolve it. */
		if (hr_stat(hr, &st, "%s", *paths) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return *paths;
	}
	return NULL;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct capture {
	int fd;
	char *buf;
	size_t len;
	int err;   /* errno of a failed read: the capture ended early */
};

/* Bytes read (> 0), 0 at end of file, -EAGAIN when nothing is there yet. */
static ssize_t capture_read(struct capture *c)
{
	char chunk[4096];
	ssize_t n = read(c->fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	if (n == 0 || c->len + (size_t)n > OUTPUT_MAX)
		return n;   /* past the cap: keep the head, drop the rest */
	{
		char *nb = realloc(c->buf, c->len + (size_t)n + 1);

		if (!nb)
			return -ENOMEM;
		c->buf = nb;
	}
	memcpy(c->buf + c->len, chunk, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return n;
}

/* Whatever the pipe holds now; the fd is dropped at end of file or error. */
static void capture_drain(struct capture *c)
{
	ssize_t n;

	while (c->fd >= 0 && (n = capture_read(c)) != -EAGAIN)
		if (n <= 0) {
			c->err = n < 0 ? (int)-n : 0;
			c->fd = -1;
		}
}

/* A tool's output cut short by a read error is said like an unreadable file. */
static void note_tool_read(const struct hostroot *hr, const char *what, const char *tool, int r)
{
	char name[512];

	if (r >= 0)
		return;
	snprintf(name, sizeof(name), "%s of %s", what, tool);
	hr_note_unread(hr, name, r);
}

static char *capture_take(struct capture *c)
{
	char *s = c->buf ? c->buf : strdup("");

	c->buf = NULL;
	if (s) {
		size_t l = strlen(s);
		while (l > 0 && s[l - 1] == '\n')
			s[--l] = '\0';
	}
	return s;
}

static void child(const struct hostroot *hr, char *const argv[], int out, int err, int report)
{
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "LANG=C", NULL };
	int e, devnull;

	setpgid(0, 0);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		goto fail;
	if (!hr->is_real && (chroot(hr->dir) < 0 || chdir("/") < 0))
		goto fail;
	execve(argv[0], argv, env);
fail:
	e = errno;
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

static void close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

int exec_run(const struct hostroot *hr, char *const argv[], int timeout_ms, struct exec_result *res)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, rep[2] = { -1, -1 }, pidfd = -1, status = 0, e, r = 0;
	struct capture cap[2] = { { .fd = -1 }, { .fd = -1 } };
	long long deadline = now_ms() + timeout_ms;
	ssize_t n;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	PROGRESS("running %s", argv[0]);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		child(hr, argv, out[1], err[1], rep[1]);
	close(out[1]);
	close(err[1]);
	close(rep[1]);
	out[1] = err[1] = rep[1] = -1;
	/* exec succeeded when the report pipe closes without a word. */
	while ((n = read(rep[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (n < 0)
		note_tool_read(hr, "the start report", argv[0], -errno);
	if (n == sizeof(e)) {
		waitpid(pid, NULL, 0);
		r = -e;
		goto out;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	cap[0].fd = out[0];
	cap[1].fd = err[0];
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p[3] = { { .fd = cap[0].fd, .events = POLLIN }, { .fd = cap[1].fd, .events = POLLIN },
				       { .fd = pidfd, .events = POLLIN } };
		long long left = deadline - now_ms();
		int k;

		/* Without a pidfd the exit is noticed once the pipes close. */
		if (cap[0].fd < 0 && cap[1].fd < 0 && pidfd < 0)
			break;
		if (left <= 0) {
			r = -ETIME;
			break;
		}
		k = poll(p, 3, (int)left);
		if (k < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		capture_drain(&cap[0]);
		capture_drain(&cap[1]);
		/* A daemonised grandchild may hold the pipes: the tool itself is done. */
		if (k > 0 && p[2].revents)
			break;
	}
	if (r == -ETIME || r < 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	if (waitpid(pid, &status, 0) < 0 && errno != ECHILD && r == 0)
		r = -errno;
	if (r < 0 && r != -ETIME)
		goto out;
	note_tool_read(hr, "the output", argv[0], -cap[0].err);
	note_tool_read(hr, "the error output", argv[0], -cap[1].err);
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	res->out = capture_take(&cap[0]);
	res->err = capture_take(&cap[1]);
	if (!res->out || !res->err) {
		exec_result_free(res);
		r = -ENOMEM;
	}
out:
	free(cap[0].buf);
	free(cap[1].buf);
	close_pipe(out);
	close_pipe(err);
	close_pipe(rep);
	if (pidfd >= 0)
		close(pidfd);
	return r;
}

void exec_result_free(struct exec_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

const char *exec_diagnosis(const struct exec_result *res, char *buf, size_t len)
{
	const char *s = res->err && *res->err ? res->err : res->out ? res->out : "";
	const char *last = strrchr(s, '\n');

	snprintf(buf, len, "%s", last ? last + 1 : s);
	return buf;
}
