/* [sriov SELECTOR]: VFs of a PF — count, sriov_drivers_autoprobe, the VFs'
 * driver — and the policy for changing a count: the kernel refuses N→M
 * (both nonzero) with EBUSY, and going through 0 destroys the VFs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "pci.h"
#include "state.h"
#include "util.h"

#define STATE_NAME "sriov"
#define MAX_PFS 64
#define MAX_NUMVFS 65535
#define DEFAULT_TIMEOUT_S 120

enum reset_policy { RESET_IF_UNUSED, RESET_NEVER, RESET_ALWAYS };
static const char *const reset_names[] = { "if-unused", "never", "always", NULL };

struct pf_config {
	const char *instance;          /* the selector as written */
	const struct setting *header;  /* [sriov SELECTOR] */
	struct pci_selector sel;
	bool bad_selector;
	const struct setting *numvfs_s, *autoprobe_s, *vf_driver_s, *reset_s, *timeout_s;
	unsigned numvfs;
	bool autoprobe;
	char vf_driver[PCI_DRIVER_MAX];
	enum reset_policy reset;
	unsigned timeout_s_value;
};

struct sriov_config {
	struct pf_config pf[MAX_PFS];
	size_t n;
};

/* What an apply function needs about its PF. */
struct pf_job {
	char addr[PCI_ADDR_MAX];
	unsigned want;
	enum reset_policy reset;
	unsigned timeout_s;
	char vf_driver[PCI_DRIVER_MAX];
	bool dropped;
};

static const struct setting *section_header(struct ctx *ctx, const char *instance)
{
	for (size_t i = 0; i < ctx->profile->n_sections; i++) {
		const struct setting *s = &ctx->profile->sections[i];

		if (strcmp(s->section, "sriov") == 0 && s->instance && strcmp(s->instance, instance) == 0)
			return s;
	}
	return NULL;
}

static struct pf_config *pf_for(struct ctx *ctx, struct sriov_config *c, const struct setting *s)
{
	struct pf_config *pf;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->pf[i].instance, s->instance) == 0)
			return &c->pf[i];
	if (c->n >= MAX_PFS) {
		ctx_setting_error(ctx, s, "too many [sriov] sections (at most %d)", MAX_PFS);
		return NULL;
	}
	pf = &c->pf[c->n++];
	pf->instance = s->instance;
	pf->header = section_header(ctx, s->instance);
	if (!pf->header)
		pf->header = s;
	pf->reset = RESET_IF_UNUSED;
	pf->timeout_s_value = DEFAULT_TIMEOUT_S;
	if (pci_selector_parse(s->instance, &pf->sel) < 0) {
		pf->bad_selector = true;
		ctx_setting_error(ctx, pf->header,
				  "[sriov %s]: not a PCI address (0000:03:00.0 or 03:00.0), an interface name or vendor:device",
				  s->instance);
	}
	return pf;
}

static int sriov_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct pf_config *pf = pf_for(ctx, config, s);
	uint64_t v;

	if (!pf || pf->bad_selector)
		return -EINVAL;
	if (strcmp(s->key, "numvfs") == 0) {
		if (parse_u64_range(s->value, 0, MAX_NUMVFS, &v) < 0) {
			ctx_setting_error(ctx, s, "numvfs: '%s' is not a VF count", s->value);
			return -EINVAL;
		}
		pf->numvfs = (unsigned)v;
		pf->numvfs_s = s;
	} else if (strcmp(s->key, "autoprobe") == 0) {
		if (parse_bool(s->value, &pf->autoprobe) < 0) {
			ctx_setting_error(ctx, s, "autoprobe: expected yes or no, got '%s'", s->value);
			return -EINVAL;
		}
		pf->autoprobe_s = s;
	} else if (strcmp(s->key, "vf_driver") == 0) {
		if (!path_component_valid(s->value) || strlen(s->value) >= sizeof(pf->vf_driver) ||
		    strpbrk(s->value, " \t,")) {
			ctx_setting_error(ctx, s, "vf_driver: '%s' is not a driver name", s->value);
			return -EINVAL;
		}
		strcpy(pf->vf_driver, s->value);
		pf->vf_driver_s = s;
	} else if (strcmp(s->key, "reset") == 0) {
		size_t i;

		for (i = 0; reset_names[i] && strcmp(reset_names[i], s->value) != 0; i++)
			;
		if (!reset_names[i]) {
			ctx_setting_error(ctx, s, "reset: expected if-unused, never or always, got '%s'", s->value);
			return -EINVAL;
		}
		pf->reset = (enum reset_policy)i;
		pf->reset_s = s;
	} else if (strcmp(s->key, "timeout") == 0) {
		if (parse_u64_range(s->value, 1, 3600, &v) < 0) {
			ctx_setting_error(ctx, s, "timeout: '%s' is not a number of seconds (1 to 3600)", s->value);
			return -EINVAL;
		}
		pf->timeout_s_value = (unsigned)v;
		pf->timeout_s = s;
	} else {
		ctx_setting_error(ctx, s, "unknown key '%s' in [sriov] (expected numvfs, autoprobe, vf_driver, reset, timeout)",
				  s->key);
		return -EINVAL;
	}
	return 0;
}

static const char *device_name(const struct pci_list *all, const char *addr)
{
	const struct pci_device *d = pci_list_find(all, addr);

	return d ? d->name : "?";
}

/* The PFs a selector names.  VFs often share their PF's vendor:device
 * (QEMU's NVMe does): a vendor:device selector skips them. */
static int resolve_pfs(struct ctx *ctx, const struct pci_list *all, const struct pci_selector *sel, char ***ret)
{
	char **devs = NULL;
	int r = pci_resolve(&ctx->hr, all, sel, &devs);

	if (r < 0)
		return r;
	if (sel->kind == PCI_SEL_ID) {
		char **keep = devs;

		for (char **d = devs; *d; d++)
			if (hr_exists(&ctx->hr, "/sys/bus/pci/devices/%s/physfn", *d))
				free(*d);
			else
				*keep++ = *d;
		*keep = NULL;
	}
	*ret = devs;
	return 0;
}

static int sriov_validate(struct ctx *ctx, void *config)
{
	struct sriov_config *c = config;
	_cleanup_pci_list_ struct pci_list all = { 0 };
	struct {
		char addr[PCI_ADDR_MAX];
		const struct setting *header;
	} seen[MAX_PFS * 4];
	size_t n_seen = 0;

	/* A section without keys never reached parse. */
	for (size_t i = 0; i < ctx->profile->n_sections; i++) {
		const struct setting *s = &ctx->profile->sections[i];
		bool known = false;

		if (strcmp(s->section, "sriov") != 0 || !s->instance)
			continue;
		for (size_t k = 0; k < c->n; k++)
			known |= strcmp(c->pf[k].instance, s->instance) == 0 && c->pf[k].numvfs_s;
		if (!known)
			ctx_setting_error(ctx, s, "[sriov %s] needs numvfs", s->instance);
	}
	(void)pci_enumerate(&ctx->hr, &all, NULL, 0);
	for (size_t i = 0; i < c->n; i++) {
		struct pf_config *pf = &c->pf[i];
		_cleanup_strv_free_ char **devs = NULL;

		if (resolve_pfs(ctx, &all, &pf->sel, &devs) < 0)
			continue;   /* planned as a failed action */
		for (char **d = devs; *d; d++) {
			uint64_t total;

			for (size_t k = 0; k < n_seen; k++)
				if (strcmp(seen[k].addr, *d) == 0)
					ctx_setting_error(ctx, pf->header, "[sriov %s] names %s, as [sriov] at %s:%d does",
							  pf->instance, *d, seen[k].header->file, seen[k].header->line);
			if (n_seen < ARRAY_SIZE(seen)) {
				snprintf(seen[n_seen].addr, sizeof(seen[n_seen].addr), "%s", *d);
				seen[n_seen++].header = pf->header;
			}
			if (hr_read_u64(&ctx->hr, &total, "/sys/bus/pci/devices/%s/sriov_totalvfs", *d) < 0) {
				ctx_setting_error(ctx, pf->header, "[sriov %s]: %s (%s) has no SR-IOV capability",
						  pf->instance, *d, device_name(&all, *d));
				continue;
			}
			if (pf->numvfs_s && pf->numvfs > total)
				ctx_setting_error(ctx, pf->numvfs_s, "numvfs: %s (%s) offers at most %llu VFs (sriov_totalvfs)",
						  *d, device_name(&all, *d), (unsigned long long)total);
		}
	}
	return 0;
}

/* Records: "ADDR N" per PF hostprep set to N VFs. ------------------------- */

static int record_set(struct ctx *ctx, const char *addr, unsigned numvfs)
{
	_cleanup_free_ char *line = numvfs ? strdup_printf("%s %u", addr, numvfs) : NULL;

	if (numvfs && !line)
		return -ENOMEM;
	return state_set_keyed(&ctx->hr, STATE_NAME, addr, line, false);
}

/* Bounded sriov_numvfs write ------------------------------------------------ */

/* Some drivers block in this write for tens of seconds: a child does it, and
 * the parent gives up waiting after the timeout (the child, still holding
 * the run's lock, finishes the write on its own). */
static int write_numvfs(struct ctx *ctx, const char *addr, unsigned n, unsigned timeout_s, pid_t *stuck)
{
	char val[16];
	int pipefd[2], err = EIO;
	pid_t pid;
	struct timespec start, now;

	snprintf(val, sizeof(val), "%u", n);
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
	if (read(pipefd[0], &err, sizeof(err)) != sizeof(err))
		err = EIO;
	close(pipefd[0]);
	(void)waitpid(pid, NULL, 0);
	return -err;
}

static int write_numvfs_logged(struct ctx *ctx, struct action *a, const struct pf_job *j, unsigned n)
{
	pid_t stuck = 0;
	int r = write_numvfs(ctx, j->addr, n, j->timeout_s, &stuck);

	if (r == -ETIMEDOUT)
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
static const char *destroy_refusal(struct ctx *ctx, const struct pf_job *j, unsigned cur, char *buf, size_t len)
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

static int numvfs_apply(struct ctx *ctx, struct action *a)
{
	const struct pf_job *j = a->data;
	uint64_t cur, now;
	char buf[640], why[512];
	const char *refusal;
	_cleanup_strv_free_ char **vfs = NULL;
	int r;

	r = hr_read_u64(&ctx->hr, &cur, "/sys/bus/pci/devices/%s/sriov_numvfs", j->addr);
	if (r < 0) {
		action_set_state(a, ACTION_FAILED, "reading sriov_numvfs: %s", strerror(-r));
		return r;
	}
	refusal = destroy_refusal(ctx, j, (unsigned)cur, buf, sizeof(buf));
	if (refusal) {
		action_set_state(a, ACTION_FAILED, "%s", refusal);
		return -EBUSY;
	}
	if (cur > 0 && cur != j->want) {
		if (j->reset == RESET_ALWAYS && vfs_in_use(ctx, j->addr, why, sizeof(why)))
			ctx_warn(ctx, "sriov %s: reset = always: removing the VFs although %s", j->addr, why);
		if ((r = write_numvfs_logged(ctx, a, j, 0)) < 0)
			return r;
	}
	if (j->want > 0 && cur != j->want && (r = write_numvfs_logged(ctx, a, j, j->want)) < 0) {
		if (cur > 0)
			action_set_current(a, "0");
		return r;
	}
	pci_udev_settle(&ctx->hr, 10000);
	if (hr_read_u64(&ctx->hr, &now, "/sys/bus/pci/devices/%s/sriov_numvfs", j->addr) < 0 ||
	    pci_vfs(&ctx->hr, j->addr, &vfs) < 0) {
		action_set_state(a, ACTION_FAILED, "cannot read the VFs back");
		return -EIO;
	}
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)now);
	action_set_current(a, buf);
	r = record_set(ctx, j->addr, j->want);
	if (r < 0)
		ctx_warn(ctx, "sriov %s: recording the PF in /var/lib/hostprep/%s: %s", j->addr, STATE_NAME, strerror(-r));
	if (now != j->want || strv_length(vfs) != j->want) {
		action_set_state(a, ACTION_FAILED, "sriov_numvfs reads %llu and %zu VFs exist, %u wanted",
				 (unsigned long long)now, strv_length(vfs), j->want);
		return -EIO;
	}
	return 0;
}

static int autoprobe_apply(struct ctx *ctx, struct action *a)
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

static char *vf_driver_summary(struct ctx *ctx, const char *pf)
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

static int vf_driver_apply(struct ctx *ctx, struct action *a)
{
	const struct pf_job *j = a->data;
	_cleanup_strv_free_ char **vfs = NULL;
	_cleanup_free_ char *now = NULL;
	char failures[1024] = "";
	int ret = 0, r;

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
		char drv[PCI_DRIVER_MAX], step[256] = "", why[256];

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
			snprintf(failures + strlen(failures), sizeof(failures) - strlen(failures), "%s%s: %s: %s",
				 failures[0] ? "; " : "", *v, step, strerror(-r));
			RET_GATHER(ret, r);
		}
	}
	now = vf_driver_summary(ctx, j->addr);
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

static struct action *job_action(struct ctx *ctx, const char *target, const char *cur, const char *want,
				 action_apply_fn fn, const struct pf_job *job)
{
	struct action *a = plan_action(ctx, target, cur, want, fn);
	struct pf_job *copy;

	if (!a)
		return NULL;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return NULL;
	*copy = *job;
	a->data = copy;
	a->free_data = free;
	return a;
}

static int plan_pf(struct ctx *ctx, const struct pf_config *pf, const char *addr)
{
	struct pf_job job = { .want = pf->numvfs, .reset = pf->reset, .timeout_s = pf->timeout_s_value };
	char target[128], cur_s[32], want_s[32], why[640];
	_cleanup_free_ char *drivers_now = NULL, *drivers_want = NULL;
	struct action *a;
	uint64_t cur;
	char ap[8];
	bool to_vfio = strcmp(pf->vf_driver, "vfio-pci") == 0;
	/* VFs going to vfio-pci must not be probed by their own driver first. */
	bool want_autoprobe = pf->autoprobe_s ? pf->autoprobe : !to_vfio;

	snprintf(job.addr, sizeof(job.addr), "%s", addr);
	snprintf(job.vf_driver, sizeof(job.vf_driver), "%s", pf->vf_driver);
	if (pf->autoprobe_s || to_vfio) {
		snprintf(target, sizeof(target), "%s autoprobe", addr);
		if (hr_read_line(&ctx->hr, ap, sizeof(ap), "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", addr) < 0) {
			action_set_state(plan_action(ctx, target, NULL, want_autoprobe ? "yes" : "no", NULL), ACTION_FAILED,
					 "no sriov_drivers_autoprobe");
		} else if (!job_action(ctx, target, strcmp(ap, "0") == 0 ? "no" : "yes", want_autoprobe ? "yes" : "no",
				       autoprobe_apply, &job)) {
			return -ENOMEM;
		}
	}

	snprintf(target, sizeof(target), "%s numvfs", addr);
	snprintf(want_s, sizeof(want_s), "%u", pf->numvfs);
	if (hr_read_u64(&ctx->hr, &cur, "/sys/bus/pci/devices/%s/sriov_numvfs", addr) < 0) {
		action_set_state(plan_action(ctx, target, NULL, want_s, NULL), ACTION_FAILED,
				 "%s has no sriov_numvfs (no SR-IOV)", addr);
		return 0;
	}
	snprintf(cur_s, sizeof(cur_s), "%llu", (unsigned long long)cur);
	a = job_action(ctx, target, cur_s, want_s, numvfs_apply, &job);
	if (!a)
		return -ENOMEM;
	if (a->state == ACTION_PENDING && destroy_refusal(ctx, &job, (unsigned)cur, why, sizeof(why)))
		action_set_state(a, ACTION_FAILED, "%s", why);

	if (!pf->vf_driver[0] || pf->numvfs == 0)
		return 0;
	snprintf(target, sizeof(target), "%s VF driver", addr);
	drivers_now = cur > 0 ? vf_driver_summary(ctx, addr) : NULL;
	drivers_want = strdup_printf("%ux %s", pf->numvfs, pf->vf_driver);
	if (!drivers_want)
		return -ENOMEM;
	a = job_action(ctx, target, drivers_now, drivers_want, vf_driver_apply, &job);
	if (!a)
		return -ENOMEM;
	if (a->state == ACTION_PENDING && !ctx->hr.is_real &&
	    !hr_is_dir(&ctx->hr, "/sys/bus/pci/drivers/%s", pf->vf_driver))
		action_set_state(a, ACTION_SKIPPED, "%s is not loaded, and modules are loaded only on the real root",
				 pf->vf_driver);
	return 0;
}

static bool in_strv(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

/* A PF hostprep configured that the profile no longer names goes back to 0. */
static int plan_dropped(struct ctx *ctx, const char *line, char *const *wanted)
{
	char addr[PCI_ADDR_MAX], target[128], cur_s[32], why[640];
	unsigned recorded;
	uint64_t cur;
	struct pf_job job = { .want = 0, .reset = RESET_IF_UNUSED, .timeout_s = DEFAULT_TIMEOUT_S, .dropped = true };
	struct action *a;

	if (sscanf(line, "%23s %u", addr, &recorded) != 2 || in_strv(wanted, addr) || !pci_exists(&ctx->hr, addr))
		return 0;
	if (hr_read_u64(&ctx->hr, &cur, "/sys/bus/pci/devices/%s/sriov_numvfs", addr) < 0 || cur == 0)
		return 0;
	if (cur != recorded) {
		ctx_warn(ctx, "sriov %s: dropped from the profile, but it has %llu VFs where hostprep set %u: leaving them",
			 addr, (unsigned long long)cur, recorded);
		return 0;
	}
	snprintf(job.addr, sizeof(job.addr), "%s", addr);
	snprintf(target, sizeof(target), "%s numvfs", addr);
	snprintf(cur_s, sizeof(cur_s), "%llu", (unsigned long long)cur);
	a = job_action(ctx, target, cur_s, "0", numvfs_apply, &job);
	if (!a)
		return -ENOMEM;
	if (destroy_refusal(ctx, &job, (unsigned)cur, why, sizeof(why)))
		action_set_state(a, ACTION_FAILED, "%s", why);
	else
		action_set_state(a, ACTION_PENDING, "dropped from the profile; hostprep created these VFs");
	return 0;
}

static int sriov_plan(struct ctx *ctx, void *config)
{
	struct sriov_config *c = config;
	_cleanup_pci_list_ struct pci_list all = { 0 };
	_cleanup_strv_free_ char **record = NULL;
	_cleanup_strv_free_ char **wanted = calloc(1, sizeof(char *));
	char err[512] = "";
	bool listed = false;
	int ret = 0, r;

	if (!wanted)
		return -ENOMEM;
	for (size_t i = 0; c && i < c->n; i++) {
		struct pf_config *pf = &c->pf[i];
		_cleanup_strv_free_ char **devs = NULL;

		if (pf->sel.kind == PCI_SEL_ID && !listed) {
			listed = true;
			if (pci_enumerate(&ctx->hr, &all, err, sizeof(err)) < 0)
				ctx_warn(ctx, "sriov: listing PCI devices: %s", err);
		}
		r = resolve_pfs(ctx, listed && all.dev ? &all : NULL, &pf->sel, &devs);
		if (r < 0 || !devs[0]) {
			action_set_state(plan_action(ctx, pf->instance, NULL, NULL, NULL), ACTION_FAILED,
					 r < 0 ? "listing PCI devices failed: %s" : "no device matches %s",
					 r < 0 ? err : pf->instance);
			continue;
		}
		for (char **d = devs; *d; d++) {
			size_t n = strv_length(wanted);

			if (strv_push(&wanted, &n, strdup(*d)) < 0)
				return -ENOMEM;
			RET_GATHER(ret, plan_pf(ctx, pf, *d));
		}
	}
	r = state_load(&ctx->hr, STATE_NAME, &record);
	if (r < 0) {
		ctx_warn(ctx, "sriov: reading /var/lib/hostprep/%s: %s", STATE_NAME, strerror(-r));
		return ret;
	}
	for (char **l = record; *l; l++)
		RET_GATHER(ret, plan_dropped(ctx, *l, wanted));
	return ret;
}

static void sriov_report(struct ctx *ctx, struct json_object *caps)
{
	_cleanup_pci_list_ struct pci_list all = { 0 };
	struct json_object *pfs = json_object_new_array();

	(void)pci_enumerate(&ctx->hr, &all, NULL, 0);
	for (size_t i = 0; i < all.n; i++) {
		const char *addr = all.dev[i].addr;
		_cleanup_strv_free_ char **vfs = NULL;
		struct json_object *o, *arr;
		uint64_t total, num;
		char ap[8], drv[PCI_DRIVER_MAX];

		if (hr_read_u64(&ctx->hr, &total, "/sys/bus/pci/devices/%s/sriov_totalvfs", addr) < 0)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "address", json_object_new_string(addr));
		json_object_object_add(o, "name", json_object_new_string(all.dev[i].name));
		json_object_object_add(o, "driver", pci_driver(&ctx->hr, addr, drv, sizeof(drv)) == 0 && drv[0]
						 ? json_object_new_string(drv) : NULL);
		json_object_object_add(o, "totalvfs", json_object_new_int64((int64_t)total));
		json_object_object_add(o, "numvfs", hr_read_u64(&ctx->hr, &num, "/sys/bus/pci/devices/%s/sriov_numvfs", addr) < 0
						 ? NULL : json_object_new_int64((int64_t)num));
		json_object_object_add(o, "autoprobe",
				       hr_read_line(&ctx->hr, ap, sizeof(ap), "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", addr) < 0
				       ? NULL : json_object_new_boolean(strcmp(ap, "0") != 0));
		arr = json_object_new_array();
		if (pci_vfs(&ctx->hr, addr, &vfs) == 0)
			for (char **v = vfs; *v; v++) {
				struct json_object *vo = json_object_new_object();
				int g = pci_iommu_group(&ctx->hr, *v);

				json_object_object_add(vo, "address", json_object_new_string(*v));
				json_object_object_add(vo, "driver", pci_driver(&ctx->hr, *v, drv, sizeof(drv)) == 0 && drv[0]
								  ? json_object_new_string(drv) : NULL);
				json_object_object_add(vo, "iommu_group", g < 0 ? NULL : json_object_new_int(g));
				json_object_array_add(arr, vo);
			}
		json_object_object_add(o, "vfs", arr);
		json_object_array_add(pfs, o);
	}
	json_object_object_add(caps, "sriov", pfs);
}

const struct module module_sriov = {
	.name = "sriov",
	.section = "sriov",
	.instanced = true,
	.config_size = sizeof(struct sriov_config),
	.parse = sriov_parse,
	.validate = sriov_validate,
	.plan = sriov_plan,
	.report = sriov_report,
};
