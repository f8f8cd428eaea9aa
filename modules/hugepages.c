/* [hugepages]: runtime reservation per size, as a total spread over the NUMA
 * nodes or per node; every write is read back and a short grant fails. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hugepages.h"
#include "log.h"
#include "util.h"

#define HP_DIR "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB"
#define NODE_HP_DIR "/sys/devices/system/node/node%d/hugepages/hugepages-%" PRIu64 "kB"
#define MAX_PAGES (UINT64_C(1) << 31)

struct hp_target {
	uint64_t size_kb;
	int node;                  /* -1: the global pool (host without NUMA nodes) */
};

extern const struct module module_hugepages;

const struct hugepages_config *hugepages_config(struct ctx *ctx)
{
	return ctx_module_config(ctx, &module_hugepages);
}

/* A hugepage size: a power of two of at least 64 kB (the smallest any
 * architecture has). */
static int parse_page_size(const char *s, uint64_t *kb)
{
	if (parse_size_kb(s, kb) < 0 || *kb < 64 || (*kb & (*kb - 1)))
		return -EINVAL;
	return 0;
}

/* "node3" → 3.  Decimal without sign, blanks or leading zeros, up to 1023
 * (larger numbers must not wrap to a node that exists). */
static int parse_node(const char *s, int *node)
{
	uint64_t v;

	if (strncmp(s, "node", 4) != 0 || (s[4] == '0' && s[5]) || parse_u64_range(s + 4, 0, 1023, &v) < 0)
		return -EINVAL;
	*node = (int)v;
	return 0;
}

static int hp_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct hugepages_config *c = config;
	struct hugepages_request *r;
	char size[32];
	const char *dot;
	int node = HUGEPAGES_NODE_ANY;

	if (strcmp(s->key, "boot") == 0) {
		if (parse_bool(s->value, &c->boot) < 0) {
			ctx_setting_error(ctx, s, "boot: expected yes or no, got '%s'", s->value);
			return -EINVAL;
		}
		c->boot_setting = s;
		return 0;
	}
	if (strcmp(s->key, "default") == 0) {
		if (parse_page_size(s->value, &c->default_kb) < 0) {
			ctx_setting_error(ctx, s, "default: '%s' is not a page size (e.g. 2M, 1G)", s->value);
			return -EINVAL;
		}
		c->default_setting = s;
		return 0;
	}
	dot = strchr(s->key, '.');
	if ((size_t)(dot ? dot - s->key : (long)strlen(s->key)) >= sizeof(size))
		goto bad_key;
	snprintf(size, sizeof(size), "%.*s", (int)(dot ? dot - s->key : (long)strlen(s->key)), s->key);
	if (dot && parse_node(dot + 1, &node) < 0) {
		ctx_setting_error(ctx, s, "%s: '%s' is not a NUMA node (node0 to node1023)", s->key, dot + 1);
		return -EINVAL;
	}
	if (c->n_req >= sizeof(c->req) / sizeof(c->req[0])) {
		ctx_setting_error(ctx, s, "too many hugepage settings");
		return -EINVAL;
	}
	r = &c->req[c->n_req];
	if (parse_size_kb(size, &r->size_kb) < 0)
		goto bad_key;
	if (parse_page_size(size, &r->size_kb) < 0) {
		ctx_setting_error(ctx, s, "%s: '%s' is not a page size (a power of two: 2M, 1G, 64kB)", s->key, size);
		return -EINVAL;
	}
	if (parse_u64_range(s->value, 0, MAX_PAGES, &r->pages) < 0) {
		ctx_setting_error(ctx, s, "%s: '%s' is not a page count (0 to %" PRIu64 ")", s->key, s->value,
				  MAX_PAGES);
		return -EINVAL;
	}
	r->node = node;
	r->setting = s;
	for (size_t i = 0; i < c->n_req; i++) {
		const struct setting *o = c->req[i].setting;

		if (c->req[i].size_kb != r->size_kb)
			continue;
		/* 2M.node0 and 2048kB.node0: one pool, two values that would flip it. */
		if (c->req[i].node == node) {
			ctx_setting_error(ctx, s, "%s names the same pool as %s (%s:%d)", s->key, o->key, o->file, o->line);
			return -EINVAL;
		}
		if ((c->req[i].node < 0) != (node < 0)) {
			ctx_setting_error(ctx, s, "%s: give a total or per-node counts for a size, not both (see %s:%d)",
					  s->key, o->file, o->line);
			return -EINVAL;
		}
	}
	c->n_req++;
	return 0;
bad_key:
	ctx_setting_error(ctx, s, "unknown key '%s' in [hugepages] (expected SIZE, SIZE.nodeN, boot, default)",
			  s->key);
	return -EINVAL;
}

/* A size the running kernel does not list can still be reserved at boot
 * (hugepagesz=) when the architecture has it: on x86-64, 2M (pse) and 1G
 * (pdpe1gb).  Elsewhere only the sizes the host lists count. */
/* 1 or 0; -errno when the pool directory cannot be looked at (not "no such size"). */
static int size_available(struct ctx *ctx, const struct hugepages_config *c, uint64_t kb)
{
	const char *flags = host_facts(ctx)->flags;
	mode_t mode;
	int r = hr_mode(&ctx->hr, &mode, HP_DIR, kb);

	if (r == 0 && S_ISDIR(mode))
		return 1;
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		return r;
	if (!c->boot)
		return 0;
	return (kb == 2048 && word_in("pse", flags)) || (kb == 1024 * 1024 && word_in("pdpe1gb", flags));
}

static void size_error(struct ctx *ctx, const struct hugepages_config *c, const struct setting *s, uint64_t kb, int r)
{
	char sz[32];

	format_size_kb(kb, sz, sizeof(sz));
	if (r < 0)
		ctx_setting_error(ctx, s, "cannot read the %s hugepage pool (" HP_DIR "): %s", sz, kb, strerror(-r));
	else if (!c->boot)
		ctx_setting_error(ctx, s, "this host has no %s hugepages", sz);
	else
		ctx_setting_error(ctx, s, "this host has no %s hugepages, and its CPU cannot reserve them at boot "
				  "(x86-64: 2M, and 1G with the pdpe1gb flag)", sz);
}

static int hp_validate(struct ctx *ctx, void *config)
{
	struct hugepages_config *c = config;
	const struct host_facts *h = host_facts(ctx);
	int avail;

	for (size_t i = 0; i < c->n_req; i++) {
		const struct hugepages_request *r = &c->req[i];
		bool node_known = false;

		if ((avail = size_available(ctx, c, r->size_kb)) <= 0) {
			size_error(ctx, c, r->setting, r->size_kb, avail);
			continue;
		}
		if (r->node < 0)
			continue;
		for (unsigned n = 0; n < h->n_nodes; n++)
			node_known |= h->nodes[n] == (unsigned)r->node;
		if (!node_known)
			ctx_setting_error(ctx, r->setting, "this host has no NUMA node %d", r->node);
	}
	if (c->default_kb && !c->boot)
		ctx_setting_error(ctx, c->default_setting, "default needs boot = yes (default_hugepagesz= is a boot argument)");
	else if (c->default_kb && (avail = size_available(ctx, c, c->default_kb)) <= 0)
		size_error(ctx, c, c->default_setting, c->default_kb, avail);
	return 0;
}

static void target_name(const struct hp_target *t, char *buf, size_t len)
{
	char sz[32];

	format_size_kb(t->size_kb, sz, sizeof(sz));
	if (t->node < 0)
		snprintf(buf, len, "%s pages", sz);
	else
		snprintf(buf, len, "%s pages node%d", sz, t->node);
}

static int read_pool(struct ctx *ctx, const struct hp_target *t, const char *attr, uint64_t *v)
{
	if (t->node < 0)
		return hr_read_u64(&ctx->hr, v, HP_DIR "/%s", t->size_kb, attr);
	return hr_read_u64(&ctx->hr, v, NODE_HP_DIR "/%s", t->node, t->size_kb, attr);
}

static int hp_apply(struct ctx *ctx, struct action *a)
{
	const struct hp_target *t = a->data;
	uint64_t want, got;
	char val[32], rb[32], name[64];
	int r;

	want = strtoull(a->desired, NULL, 10);
	snprintf(val, sizeof(val), "%" PRIu64, want);
	target_name(t, name, sizeof(name));
	if (t->node < 0)
		r = hr_write_attr(&ctx->hr, val, rb, sizeof(rb), HP_DIR "/nr_hugepages", t->size_kb);
	else
		r = hr_write_attr(&ctx->hr, val, rb, sizeof(rb), NODE_HP_DIR "/nr_hugepages", t->node, t->size_kb);
	/* The kernel grants what it can; what counts is what reads back. */
	if (read_pool(ctx, t, "nr_hugepages", &got) < 0) {
		action_set_state(a, ACTION_FAILED, "writing nr_hugepages: %s; cannot read it back",
				 strerror(r < 0 ? -r : EIO));
		return r < 0 ? r : -EIO;
	}
	action_set_current(a, (snprintf(val, sizeof(val), "%" PRIu64, got), val));
	/* A boot-time reservation still to come was planned as pending-reboot and
	 * never written; one already running that came short will not grow by
	 * rebooting again: a shortfall here is a failure either way. */
	if (got != want) {
		action_set_state(a, ACTION_FAILED, "asked for %" PRIu64 ", the kernel granted %" PRIu64 "%s%s",
				 want, got, r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		if (got < want && t->size_kb >= 1024 * 1024 && !hugepages_config(ctx)->boot)
			ctx_warn(ctx, "%s: 1G pages rarely allocate at runtime; reserve them at boot ([hugepages] boot = yes)",
				 name);
		return -ENOMEM;
	}
	action_set_state(a, ACTION_CHANGED, NULL);
	return 0;
}

/* The boot-time reservation of this size ("hugepagesz=1G hugepages=0:4") that
 * this profile has pending for the next boot, or NULL. */
static const char *boot_reservation_pending(struct ctx *ctx, uint64_t size_kb)
{
	const struct hugepages_config *c = hugepages_config(ctx);
	char sz[32], key[64];

	if (!c || !c->boot)
		return NULL;
	format_size_kb(size_kb, sz, sizeof(sz));
	snprintf(key, sizeof(key), "hugepagesz=%s", sz);
	return engine_boot_arg_pending(ctx, key);
}

static int plan_target(struct ctx *ctx, uint64_t size_kb, int node, uint64_t pages, bool increases)
{
	const char *boot_arg;
	struct hp_target *t;
	struct action *a;
	uint64_t cur;
	char cur_s[32], des_s[32], name[64];
	int r;

	t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct hp_target){ .size_kb = size_kb, .node = node };
	r = read_pool(ctx, t, "nr_hugepages", &cur);
	/* Shrinking pools first frees memory for the pools that grow.  A pool
	 * that cannot be read is planned once, with the first pass. */
	if (r == 0 ? (pages > cur) != increases : increases) {
		free(t);
		return 0;
	}
	target_name(t, name, sizeof(name));
	if (r == 0)
		snprintf(cur_s, sizeof(cur_s), "%" PRIu64, cur);
	snprintf(des_s, sizeof(des_s), "%" PRIu64, pages);
	a = plan_action(ctx, name, r < 0 ? NULL : cur_s, des_s, hp_apply);
	if (!a) {
		free(t);
		return -ENOMEM;
	}
	a->data = t;
	a->free_data = free;
	if (r < 0)
		action_set_state(a, ACTION_FAILED, "reading nr_hugepages: %s", strerror(-r));
	/* The rest comes with the next boot: one state for audit and apply, and
	 * no runtime write that every later run would repeat. */
	else if (pages > cur && (boot_arg = boot_reservation_pending(ctx, size_kb)))
		action_set_state(a, ACTION_PENDING_REBOOT, "%" PRIu64 " now; the next boot reserves them (%s)", cur,
				 boot_arg);
	return 0;
}

/* A total is spread evenly; the remainder goes one page each to the lowest-numbered nodes. */
static int plan_request(struct ctx *ctx, const struct hugepages_request *rq, bool increases)
{
	const struct host_facts *h = host_facts(ctx);
	int ret = 0;

	uint64_t total;

	if (rq->node >= 0)
		return plan_target(ctx, rq->size_kb, rq->node, rq->pages, increases);
	if (h->n_nodes == 0)
		return plan_target(ctx, rq->size_kb, -1, rq->pages, increases);
	/* A total already met is left as the kernel placed it: moving pages between
	 * nodes would free pages (boot-time 1G ones) that may not come back.  Each
	 * node is still one action, so actions keep their ids from run to run. */
	if (hr_read_u64(&ctx->hr, &total, HP_DIR "/nr_hugepages", rq->size_kb) == 0 && total == rq->pages) {
		if (increases)
			return 0;
		for (unsigned i = 0; i < h->n_nodes; i++) {
			struct hp_target t = { .size_kb = rq->size_kb, .node = (int)h->nodes[i] };
			char name[64], v[32] = "";
			uint64_t cur;

			target_name(&t, name, sizeof(name));
			if (read_pool(ctx, &t, "nr_hugepages", &cur) == 0)
				snprintf(v, sizeof(v), "%" PRIu64, cur);
			action_set_state(plan_action(ctx, name, v[0] ? v : NULL, v[0] ? v : NULL, NULL), ACTION_OK,
					 "the total of %" PRIu64 " is met; pages stay on the node the kernel chose", total);
		}
		return 0;
	}
	for (unsigned i = 0; i < h->n_nodes; i++) {
		uint64_t share = rq->pages / h->n_nodes + (i < rq->pages % h->n_nodes ? 1 : 0);
		RET_GATHER(ret, plan_target(ctx, rq->size_kb, (int)h->nodes[i], share, increases));
	}
	return ret;
}

static int hp_plan(struct ctx *ctx, void *config)
{
	struct hugepages_config *c = config;
	int ret = 0;

	if (!c)
		return 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->n_req; i++) {
			if (!hr_is_dir(&ctx->hr, HP_DIR, c->req[i].size_kb)) {
				char sz[32];

				if (pass == 1)
					continue;
				format_size_kb(c->req[i].size_kb, sz, sizeof(sz));
				/* Only reachable with boot = yes: the size comes with the next boot. */
				action_set_state(plan_action(ctx, sz, NULL, NULL, NULL),
						 boot_reservation_pending(ctx, c->req[i].size_kb) ? ACTION_PENDING_REBOOT
												   : ACTION_SKIPPED,
						 "the running kernel has no %s pool; reserved at boot", sz);
				continue;
			}
			RET_GATHER(ret, plan_request(ctx, &c->req[i], pass == 1));
		}
	return ret;
}

static void add_u64(struct json_object *o, const char *key, struct ctx *ctx, const char *fmt, uint64_t a, int b)
{
	uint64_t v;
	int r = b < 0 ? hr_read_u64(&ctx->hr, &v, fmt, a) : hr_read_u64(&ctx->hr, &v, fmt, b, a);

	json_object_object_add(o, key, r < 0 ? NULL : json_object_new_int64((int64_t)v));
}

static void hp_report(struct ctx *ctx, struct json_object *caps)
{
	const struct host_facts *h = host_facts(ctx);
	_cleanup_strv_free_ char **sizes = NULL;
	struct json_object *arr = json_object_new_array();
	_cleanup_free_ char *meminfo = NULL;

	if (hr_list(&ctx->hr, &sizes, "/sys/kernel/mm/hugepages") == 0)
		for (char **s = sizes; *s; s++) {
			uint64_t kb;
			char sz[32];
			struct json_object *o, *nodes;

			if (sscanf(*s, "hugepages-%" SCNu64 "kB", &kb) != 1)
				continue;
			format_size_kb(kb, sz, sizeof(sz));
			o = json_object_new_object();
			json_object_object_add(o, "size", json_object_new_string(sz));
			json_object_object_add(o, "size_kb", json_object_new_int64((int64_t)kb));
			add_u64(o, "total", ctx, HP_DIR "/nr_hugepages", kb, -1);
			add_u64(o, "free", ctx, HP_DIR "/free_hugepages", kb, -1);
			nodes = json_object_new_array();
			for (unsigned n = 0; n < h->n_nodes; n++) {
				struct json_object *no = json_object_new_object();

				json_object_object_add(no, "node", json_object_new_int((int)h->nodes[n]));
				add_u64(no, "total", ctx, NODE_HP_DIR "/nr_hugepages", kb, (int)h->nodes[n]);
				add_u64(no, "free", ctx, NODE_HP_DIR "/free_hugepages", kb, (int)h->nodes[n]);
				json_object_array_add(nodes, no);
			}
			json_object_object_add(o, "nodes", nodes);
			json_object_array_add(arr, o);
		}
	json_object_object_add(caps, "hugepages", arr);
	if (hr_read(&ctx->hr, &meminfo, "/proc/meminfo") == 0) {
		const char *p = strstr(meminfo, "Hugepagesize:");
		unsigned long long kb;
		char sz[32];

		if (p && sscanf(p, "Hugepagesize: %llu kB", &kb) == 1) {
			format_size_kb(kb, sz, sizeof(sz));
			json_object_object_add(caps, "hugepages_default", json_object_new_string(sz));
		}
	}
}

const struct module module_hugepages = {
	.name = "hugepages",
	.section = "hugepages",
	.config_size = sizeof(struct hugepages_config),
	.parse = hp_parse,
	.validate = hp_validate,
	.plan = hp_plan,
	.report = hp_report,
};
