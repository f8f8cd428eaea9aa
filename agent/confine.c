#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "confine.h"
#include "hostroot.h"
#include "macro.h"

/* One call: what the child gets, and what it leaves for the parent. */
struct call {
	const struct hostroot *hr;
	confine_fn fn;
	void *arg;
	bool userns;     /* enter a user namespace of our own first (no CAP_SYS_CHROOT) */
	bool ran;        /* set by a child that shares our memory */
	int r;
	void *out;
	size_t len;
};

/* Learnt once: chroot needs a user namespace of our own (no CAP_SYS_CHROOT). */
static bool need_userns;

static int enter_root(const struct call *c)
{
	if (c->userns && unshare(CLONE_NEWUSER) < 0)
		return -errno;
	if (chroot(c->hr->dir) < 0 || chdir("/") < 0)
		return -errno;
	return 0;
}

/* Runs in the child.  With CLONE_VM the child shares this process's memory
 * while the parent waits (vfork): the result is left in c, allocated on the
 * shared heap.  fn must release every descriptor it opens: the child's
 * descriptor table dies with it, the memory does not. */
static int child_main(void *p)
{
	struct call *c = p;

	c->ran = true;
	c->r = enter_root(c);
	if (c->r == 0)
		c->r = c->fn(c->arg, &c->out, &c->len);
	_exit(0);
}

/* A user namespace cannot be entered from a child sharing the address
 * space: that case forks, and the result comes back over a pipe. */
static int call_forked(struct call *c)
{
	int p[2], r = 0, status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		uint64_t len;

		close(p[0]);
		c->r = enter_root(c);
		if (c->r == 0)
			c->r = c->fn(c->arg, &c->out, &c->len);
		len = c->r == 0 ? c->len : 0;
		_exit(write(p[1], &c->r, sizeof(c->r)) == sizeof(c->r) && write(p[1], &len, sizeof(len)) == sizeof(len) &&
		      (len == 0 || write(p[1], c->out, len) == (ssize_t)len) ? 0 : 1);
	}
	close(p[1]);
	{
		uint64_t len = 0;
		FILE *f = fdopen(p[0], "re");

		if (!f) {
			r = -errno;
			close(p[0]);
		} else {
			if (fread(&c->r, sizeof(c->r), 1, f) != 1 || fread(&len, sizeof(len), 1, f) != 1)
				r = -EIO;
			else if (c->r == 0 && len > 0 && (!(c->out = malloc(len)) || fread(c->out, len, 1, f) != 1))
				r = c->out ? -EIO : -ENOMEM;
			c->len = len;
			fclose(f);
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return r;
}

int confine_call(const struct hostroot *hr, confine_fn fn, void *arg, void **out, size_t *out_len)
{
	const size_t stack_size = 1 << 20;
	struct call c = { .hr = hr, .fn = fn, .arg = arg, .r = -EIO };
	void *stack;
	int r = 0, status;
	pid_t pid;

	*out = NULL;
	*out_len = 0;
	if (hr->is_real)
		return fn(arg, out, out_len);
	if (need_userns) {
		c.userns = true;
		r = call_forked(&c);
		goto done;
	}
	/* A vfork-like child: no copy of this process's page tables, which makes
	 * a fork cost more than the work. */
	stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -errno;
	pid = clone(child_main, (char *)stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
	if (pid < 0)
		r = -errno;
	else
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	munmap(stack, stack_size);
	if (r == 0 && !c.ran) {
		/* The child did not share our memory (valgrind runs CLONE_VM as a
		 * fork): its result never reached us.  Fork and pipe it instead. */
		r = call_forked(&c);
		goto done;
	}
	if (r == 0 && c.r == -EPERM && !c.out) {
		/* No CAP_SYS_CHROOT: a user namespace of our own grants it. */
		need_userns = true;
		c.userns = true;
		c.r = -EIO;
		r = call_forked(&c);
	}
done:
	if (r == 0)
		r = c.r;
	if (r < 0) {
		free(c.out);
		return r;
	}
	*out = c.out;
	*out_len = c.len;
	return 0;
}
