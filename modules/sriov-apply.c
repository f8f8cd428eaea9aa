/* [sriov SELECTOR], the apply side: the bounded sriov_numvfs write, the
 * policy on destroying VFs in use, autoprobe, binding the VFs to their driver,
 * and the records of the PFs hostprep set. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "lock.h"
#include "pci.h"
#include "progress.h"
#include "sriov.h"
#include "state.h"
#include "util.h"

/* Records ------------------------------------------------------------------ */

int sriov_record_parse(const char *line, struct sriov_record *ret)
{
	_cleanup_strv_free_ char **f = strv_split(line, " ");
	struct sriov_record r = { 0 };
	size_t n = strv_length(f);
	uint64_t count, was;

	if (!f)
		return -ENOMEM;
	if ((n != 2 && (n != 4 || strcmp(f[2], "was") != 0)) || !path_component_valid(f[0]) ||
	    strlen(f[0]) >= sizeof(r.addr) || parse_u64_range(f[1], 0, UINT_MAX, &count) < 0 ||
	    (n == 4 && parse_u64_range(f[3], 0, UINT_MAX, &was) < 0))
		return -EINVAL;
	strcpy(r.addr, f[0]);
	r.count = (unsigned)count;
	r.was = n == 4 ? (unsigned)was : r.count;
	r.unfinished = n == 4;
	*ret = r;
	return 0;
}

int sriov_record_find(char *const *lines, const char *pf, struct sriov_record *ret)
{
	for (; lines && *lines; lines++)
		if (sriov_record_parse(*lines, ret) == 0 && strcmp(ret->addr, pf) == 0)
			return 0;
	return -ENOENT;
}

bool sriov_record_owns(const struct sriov_record *r, unsigned count)
{
	return count > 0 && (count == r->count || count == r->was);
}

static int record_get(struct ctx *ctx, const char *pf, struct sriov_record *ret)
{
	_cleanup_strv_free_ char **lines = NULL;
	int r = state_load(&ctx->hr, SRIOV_STATE_NAME, &lines);

	return r < 0 ? r : sriov_record_find(lines, pf, ret);
}

static int record_line(struct ctx *ctx, const char *pf, const char *line)
{
	return state_set_keyed(&ctx->hr, SRIOV_STATE_NAME, pf, line, false);
}

/* Before writing sriov_numvfs: "PF WANT was OWNED", where OWNED is the count
 * now on the PF when it is hostprep's, else 0.  Whatever a kill or a slow
 * driver leaves, the record claims the VFs hostprep may have made. */
static int record_intent(struct ctx *ctx, const char *pf, unsigned cur, unsigned want)
{
	struct sriov_record rec;
	_cleanup_free_ char *line = NULL;
	int r = record_get(ctx, pf, &rec);

	if (r < 0 && r != -ENOENT)
		return r;
	line = strdup_printf("%s %u was %u", pf, want, r == 0 && sriov_record_owns(&rec, cur) ? cur : 0);
	return line ? record_line(ctx, pf, line) : -ENOMEM;
}

/* After the write: "PF NOW" when the NOW VFs are hostprep's by the record,
 * else no line (0 VFs, or a count that was never ours). */
static int record_settle(struct ctx *ctx, const char *pf, unsigned now)
{
	struct sriov_record rec;
	_cleanup_free_ char *line = NULL;
	int r = record_get(ctx, pf, &rec);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (!sriov_record_owns(&rec, now))
		return record_line(ctx, pf, NULL);
	line = strdup_printf("%s %u", pf, now);
	return line ? record_line(ctx, pf, line) : -ENOMEM;
}

/* Bounded sriov_numvfs write ------------------------------------------------ */

/* Some drivers block in this write for tens of seconds: a child does it, and
 * the parent gives up waiting after the timeout (the child, still holding
 * the run's lock, finishes the write on its own). */
/* -errno of the write, as the writer child answered it.  -ETIMEDOUT: no
 * answer in time (*stuck: the child).  *unread: the answer could not be read
 * (its errno; EPIPE when the child died first): what the write did is unknown. */
static int write_numvfs(struct ctx *ctx, const char *addr, unsigned n, unsigned timeout_s, pid_t *stuck, int *unread)
{
	char val[16];
	int pipefd[2], err = EIO;
	ssize_t got;
	pid_t pid;
	struct timespec start, now;

	snprintf(val, sizeof(val), "%u", n);
	PROGRESS("sriov %s: writing %u to sriov_numvfs", addr, n);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	if (pid == 0) {
		int r = hr_write_attr(&ctx->hr, val, NULL, 0, "/sys/bus/pci/devices/%s/sriov_numvfs", addr);

		err = -r;
		_exit(write(pipefd[1], &err, sizeof(err)) == sizeof(err) ? 0 : 1);
	}
	close(pipefd[1]);
	/* The child shares the lock and may outlive this run: it is the one to name. */
	lock_set_holder(pid);
	ctx->hr.writes++;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		long left;
		int k;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (long)timeout_s * 1000 - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0) {
			close(pipefd[0]);
			*stuck = pid;
			return -ETIMEDOUT;
		}
		k = poll(&p, 1, (int)left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k > 0)
			break;
	}
	got = read(pipefd[0], &err, sizeof(err));
	if (got != sizeof(err)) {
		*unread = got < 0 ? errno : EPIPE;
		err = *unread;
	}
	close(pipefd[0]);
	lock_set_holder(getpid());
	(void)waitpid(pid, NULL, 0);
	return -err;
}

static int write_numvfs_logged(struct ctx *ctx, struct action *a, const struct pf_job *j, unsigned n)
{
	pid_t stuck = 0;
	int unread = 0, r = write_numvfs(ctx, j->addr, n, j->timeout_s, &stuck, &unread);

	if (unread)
		action_set_state(a, ACTION_FAILED, "writing %u to sriov_numvfs: the writer's answer could not be read "
				 "(%s); sriov_numvfs is read back", n, strerror(unread));
	else if (r == -ETIMEDOUT)
		action_set_state(a, ACTION_FAILED,
				 "writing %u to sriov_numvfs did not return within %u s: the driver is still at it "
				 "(pid %ld waits for it and holds the lock); run again when it is done", n, j->timeout_s,
				 (long)stuck);
	else if (r < 0)
		action_set_state(a, ACTION_FAILED, "writing %u to sriov_numvfs: %s", n, strerror(-r));
	return r;
}

/* The first VF in use, with the reason; 0 when none is. */
static int vfs_in_use(struct ctx *ctx, const char *pf, char *why, size_t len)
{
	_cleanup_strv_free_ char **vfs = NULL;

	if (pci_vfs(&ctx->hr, pf, &vfs) < 0)
		return 0;
	for (char **v = vfs; *v; v++) {
		char reason[256];

		if (pci_in_use(&ctx->hr, *v, reason, sizeof(reason)) > 0) {
			snprintf(why, len, "VF %s is in use: %s", *v, reason);
			return 1;
		}
	}
	return 0;
}

/* Why the VFs may not be destroyed now, or NULL. */
const char *sriov_destroy_refusal(struct ctx *ctx, const struct pf_job *j, unsigned cur, char *buf, size_t len)
{
	char why[512];

	if (cur == 0 || cur == j->want)
		return NULL;
	if (j->want > 0 && j->reset == RESET_NEVER) {
		snprintf(buf, len, "changing %u to %u VFs goes through 0, which destroys them, and reset = never", cur,
			 j->want);
		return buf;
	}
	if (j->reset == RESET_ALWAYS || !vfs_in_use(ctx, j->addr, why, sizeof(why)))
		return NULL;
	if (j->dropped)
		snprintf(buf, len, "dropped from the profile, but %s: keeping its %u VFs", why, cur);
	else if (j->want == 0)
		snprintf(buf, len, "removing the %u VFs, but %s (reset = if-unused): keeping them", cur, why);
	else
		snprintf(buf, len, "changing %u to %u VFs goes through 0 and %s (reset = if-unused): keeping them", cur,
			 j->want, why);
	return buf;
}

/* The count the kernel holds now, as the action's current value. */
static int read_back(struct ctx *ctx, struct action *a, const char *pf, uint64_t *now)
{
	char buf[32];
	int r = hr_read_u64(&ctx->hr, now, "/sys/bus/pci/devices/%s/sriov_numvfs", pf);

	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)*now);
	action_set_current(a, buf);
	return 0;
}

int sriov_numvfs_apply(struct ctx *ctx, struct action *a)
{
	const struct pf_job *j = a->data;
	uint64_t cur, now;
	char buf[640], why[512];
	const char *refusal;
	_cleanup_strv_free_ char **vfs = NULL;
	int r, w = 0;

	r = hr_read_u64(&ctx->hr, &cur, "/sys/bus/pci/devices/%s/sriov_numvfs", j->addr);
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "reading sriov_numvfs: %s", strerror(-r));
		return r;
	}
	refusal = sriov_destroy_refusal(ctx, j, (unsigned)cur, buf, sizeof(buf));
	if (refusal) {
		action_set_state(a, ACTION_FAILED, "%s", refusal);
		return -EBUSY;
	}
	if (j->want > 0 && cur != j->want && (r = record_intent(ctx, j->addr, (unsigned)cur, j->want)) < 0) {
		action_set_state(a, ACTION_FAILED, "recording %s in /var/lib/hostprep/%s: %s", j->addr,
				 SRIOV_STATE_NAME, strerror(-r));
		return r;
	}
	if (cur > 0 && cur != j->want) {
		if (j->reset == RESET_ALWAYS && vfs_in_use(ctx, j->addr, why, sizeof(why)))
			ctx_warn(ctx, "sriov %s: reset = always: removing the VFs although %s", j->addr, why);
		w = write_numvfs_logged(ctx, a, j, 0);
	}
	if (w == 0 && j->want > 0 && cur != j->want)
		w = write_numvfs_logged(ctx, a, j, j->want);
	/* The writer child still holds the lock: the intent stays recorded. */
	if (w == -ETIMEDOUT)
		return w;
	pci_udev_settle(&ctx->hr, 10000);
	r = read_back(ctx, a, j->addr, &now);
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "reading sriov_numvfs back: %s", strerror(-r));
		return r;
	}
	r = record_settle(ctx, j->addr, (unsigned)now);
	if (r < 0) {
		_cleanup_free_ char *earlier = w < 0 && a->message ? strdup(a->message) : NULL;

		action_set_state(a, ACTION_FAILED, "%s%srecording %s in /var/lib/hostprep/%s: %s", earlier ? earlier : "",
				 earlier ? "; " : "", j->addr, SRIOV_STATE_NAME, strerror(-r));
		return r;
	}
	if (w < 0)
		return w;
	if ((r = pci_vfs(&ctx->hr, j->addr, &vfs)) < 0) {
		action_set_state(a, ACTION_FAILED, "cannot list the VFs: %s", strerror(-r));
		return r;
	}
	if (now != j->want || strv_length(vfs) != j->want) {
		action_set_state(a, ACTION_FAILED, "sriov_numvfs reads %llu and %zu VFs exist, %u wanted",
				 (unsigned long long)now, strv_length(vfs), j->want);
		return -EIO;
	}
	return 0;
}

int sriov_autoprobe_apply(struct ctx *ctx, struct action *a)
{
	const struct pf_job *j = a->data;
	const char *val = strcmp(a->desired, "yes") == 0 ? "1" : "0";
	char rb[16];
	int r = hr_write_attr(&ctx->hr, val, rb, sizeof(rb), "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", j->addr);

	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "writing sriov_drivers_autoprobe: %s", strerror(-r));
		return r;
	}
	if (strcmp(rb, val) != 0) {
		action_set_state(a, ACTION_FAILED, "wrote %s but sriov_drivers_autoprobe reads back %s", val, rb);
		return -EIO;
	}
	action_set_current(a, a->desired);
	return 0;
}

/* "2x vfio-pci", "1x none, 1x vfio-pci": VF drivers, counted by first appearance. */
static char *summarize_drivers(char *const *drivers)
{
	char out[1024] = "";
	size_t n = strv_length(drivers);

	for (size_t i = 0; i < n; i++) {
		unsigned count = 0;
		bool earlier = false;

		for (size_t k = 0; k < i; k++)
			earlier |= strcmp(drivers[k], drivers[i]) == 0;
		if (earlier)
			continue;
		for (size_t k = i; k < n; k++)
			count += strcmp(drivers[k], drivers[i]) == 0;
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%ux %s", out[0] ? ", " : "", count, drivers[i]);
	}
	return strdup(out[0] ? out : "no VFs");
}

char *sriov_vf_driver_summary(struct ctx *ctx, const char *pf)
{
	_cleanup_strv_free_ char **vfs = NULL;
	_cleanup_strv_free_ char **drivers = NULL;
	size_t n;

	if (pci_vfs(&ctx->hr, pf, &vfs) < 0)
		return NULL;
	n = strv_length(vfs);
	drivers = calloc(n + 1, sizeof(char *));
	if (!drivers)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char d[PCI_DRIVER_MAX];

		if (pci_driver(&ctx->hr, vfs[i], d, sizeof(d)) < 0 || !d[0])
			strcpy(d, "none");
		if (!(drivers[i] = strdup(d)))
			return NULL;
	}
	return summarize_drivers(drivers);
}

bool sriov_vfs_wait_for_iommu(struct ctx *ctx, struct action *a, const struct pf_job *j)
{
	_cleanup_strv_free_ char **vfs = NULL;
	const char *iommu;

	if (strcmp(j->vf_driver, "vfio-pci") != 0 || !(iommu = pci_iommu_pending(ctx)) ||
	    pci_vfs(&ctx->hr, j->addr, &vfs) < 0 || !vfs[0])
		return false;
	for (char **v = vfs; *v; v++)
		if (pci_iommu_group(&ctx->hr, *v) >= 0)
			return false;
	action_set_state(a, ACTION_PENDING_REBOOT, "the VFs have no IOMMU group yet: the IOMMU comes with the next boot "
			 "(%s, pending in this profile)", iommu);
	return true;
}

int sriov_vf_driver_apply(struct ctx *ctx, struct action *a)
{
	const struct pf_job *j = a->data;
	_cleanup_strv_free_ char **vfs = NULL;
	_cleanup_free_ char *now = NULL;
	char failures[1024] = "";
	int ret = 0, r;

	if (sriov_vfs_wait_for_iommu(ctx, a, j))
		return 0;
	r = pci_driver_load(ctx, j->vf_driver);
	if (r == -EOPNOTSUPP) {
		action_set_state(a, ACTION_SKIPPED, "%s is not loaded, and modules are loaded only on the real root",
				 j->vf_driver);
		return 0;
	}
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "loading %s: %s", j->vf_driver, strerror(-r));
		return r;
	}
	if ((r = pci_vfs(&ctx->hr, j->addr, &vfs)) < 0) {
		action_set_state(a, ACTION_FAILED, "listing the VFs: %s", strerror(-r));
		return r;
	}
	for (char **v = vfs; *v; v++) {
		char drv[PCI_DRIVER_MAX], step[512] = "", why[256];

		if (pci_driver(&ctx->hr, *v, drv, sizeof(drv)) == 0 && strcmp(drv, j->vf_driver) == 0)
			continue;
		if (pci_in_use(&ctx->hr, *v, why, sizeof(why)) > 0) {
			snprintf(failures + strlen(failures), sizeof(failures) - strlen(failures), "%s%s: in use, %s",
				 failures[0] ? "; " : "", *v, why);
			RET_GATHER(ret, -EBUSY);
			continue;
		}
		r = pci_bind(&ctx->hr, *v, j->vf_driver, step, sizeof(step));
		if (r < 0) {
			snprintf(failures + strlen(failures), sizeof(failures) - strlen(failures), "%s%s: %s",
				 failures[0] ? "; " : "", *v, step);
			RET_GATHER(ret, r);
		}
	}
	now = sriov_vf_driver_summary(ctx, j->addr);
	action_set_current(a, now);
	if (ret < 0) {
		action_set_state(a, ACTION_FAILED, "binding VFs to %s: %s", j->vf_driver, failures);
		return ret;
	}
	if (strv_length(vfs) != j->want) {
		action_set_state(a, ACTION_FAILED, "%zu of %u VFs exist (see numvfs)", strv_length(vfs), j->want);
		return -EIO;
	}
	return 0;
}
