#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "kmodules.h"
#include "snapshot.h"
#include "util.h"

/* Host facts ------------------------------------------------------------ */

/* One line of /proc/cpuinfo; true once the three facts are known. */
static bool cpuinfo_line(struct host_facts *h, const char *l)
{
	const char *colon = strchr(l, ':'), *v;

	if (colon) {
		v = colon + 1;
		while (*v == ' ')
			v++;
		if (!h->vendor[0] && strncmp(l, "vendor_id", 9) == 0)
			snprintf(h->vendor, sizeof(h->vendor), "%s", v);
		else if (!h->model[0] && strncmp(l, "model name", 10) == 0)
			snprintf(h->model, sizeof(h->model), "%s", v);
		else if (!h->flags[0] && strncmp(l, "flags", 5) == 0)
			snprintf(h->flags, sizeof(h->flags), "%s", v);
	}
	return h->vendor[0] && h->model[0] && h->flags[0];
}

/* Read as far as the facts go: the first CPU says it all.  On a big host the
 * file is a megabyte, and the kernel computes every CPU's block (its
 * frequency included) only when it is read that far. */
static void load_cpuinfo(struct ctx *ctx, struct host_facts *h)
{
	_cleanup_close_ int fd = hr_open(&ctx->hr, O_RDONLY | O_CLOEXEC, 0, "/proc/cpuinfo");
	char buf[16384];
	size_t have = 0;
	bool skipping = false;   /* inside a line longer than buf: not a fact */

	if (fd < 0) {
		hr_note_unread(&ctx->hr, "/proc/cpuinfo", fd);
		return;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *l = buf, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hr_note_unread(&ctx->hr, "/proc/cpuinfo", -errno);
			return;
		}
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(l, '\n'))) {
			*nl = '\0';
			if (!skipping && cpuinfo_line(h, l))
				return;
			skipping = false;
			l = nl + 1;
		}
		if (n == 0) {
			if (!skipping)
				(void)cpuinfo_line(h, l);
			return;
		}
		have -= (size_t)(l - buf);
		if (l != buf)
			memmove(buf, l, have);
		if (have == sizeof(buf) - 1) {
			have = 0;
			skipping = true;
		}
	}
}

const struct host_facts *host_facts(struct ctx *ctx)
{
	struct host_facts *h = &ctx->snap.facts;
	_cleanup_strv_free_ char **nodes = NULL;

	if (h->loaded)
		return h;
	h->loaded = true;
	load_cpuinfo(ctx, h);
	if (hr_read_cpulist(&ctx->hr, &h->possible, "/sys/devices/system/cpu/possible") < 0)
		cpuset_zero(&h->possible);
	if (hr_read_cpulist(&ctx->hr, &h->online, "/sys/devices/system/cpu/online") < 0)
		h->online = h->possible;
	h->nr_cpus = cpuset_span(&h->possible);
	if (hr_list(&ctx->hr, &nodes, "/sys/devices/system/node") == 0)
		for (char **n = nodes; *n && h->n_nodes < ARRAY_SIZE(h->nodes); n++) {
			unsigned id;
			char tail;

			if (sscanf(*n, "node%u%c", &id, &tail) == 1)
				h->nodes[h->n_nodes++] = id;
		}
	(void)hr_read_line(&ctx->hr, h->cmdline, sizeof(h->cmdline), "/proc/cmdline");
	(void)hr_read_line(&ctx->hr, h->release, sizeof(h->release), "/proc/sys/kernel/osrelease");
	return h;
}

/* PCI ------------------------------------------------------------------- */

const struct pci_list *snap_pci(struct ctx *ctx, char *err, size_t err_len)
{
	struct snapshot *s = &ctx->snap;

	if (!s->pci_listed) {
		s->pci_listed = true;
		s->pci_err[0] = '\0';
		s->pci_r = pci_enumerate(&ctx->hr, &s->pci, s->pci_err, sizeof(s->pci_err));
		if (s->pci_r < 0 && !s->pci_err[0])
			snprintf(s->pci_err, sizeof(s->pci_err), "%s", strerror(-s->pci_r));
	}
	if (s->pci_r < 0) {
		if (err)
			snprintf(err, err_len, "%s", s->pci_err);
		return NULL;
	}
	return &s->pci;
}

bool snap_pci_listed(const struct ctx *ctx)
{
	return ctx->snap.pci_listed;
}

static int cmp_key_device(const void *key, const void *dev)
{
	return pci_addr_cmp(key, ((const struct pci_device *)dev)->addr);
}

const struct pci_device *snap_pci_device(struct ctx *ctx, const char *addr)
{
	const struct pci_list *l = snap_pci(ctx, NULL, 0);

	return l ? bsearch(addr, l->dev, l->n, sizeof(l->dev[0]), cmp_key_device) : NULL;
}

const char *snap_pci_name(struct ctx *ctx, const struct pci_device *d)
{
	struct snapshot *s = &ctx->snap;

	/* pci.ids is the program's own file, read outside the root whatever
	 * root the scan ran in; only runs that print a name read it. */
	if (!s->pci_named) {
		s->pci_named = true;
		(void)pci_names(&s->pci);
	}
	return d->name ? d->name : "?";
}

/* Modules ----------------------------------------------------------------- */

static int write_full(int fd, const void *buf, size_t len)
{
	for (const char *p = buf; len > 0;) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;   /* the child died first */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	for (char *p = buf; len > 0;) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;   /* the child died first */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* libkmod, and the libcrypto it brings (1.7 MiB, most of a run's memory), is
 * asked in a child process so that it never enters this one; the answer is
 * one line of text. */
static int options_in_child(struct ctx *ctx, const char *name, char **ret)
{
	struct { int32_t r; uint32_t len; } head;
	_cleanup_free_ char *s = NULL;
	int p[2], r;
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
		close(p[0]);
		/* The heap came along; what of it is free need not stay resident. */
		malloc_trim(0);
		r = libkmod_open();
		if (r == 0)
			r = kmodules_options(ctx, name, &s);
		head.r = r;
		head.len = r == 0 ? (uint32_t)strlen(s) : 0;
		_exit(write_full(p[1], &head, sizeof(head)) < 0 || write_full(p[1], s, head.len) < 0);
	}
	close(p[1]);
	r = read_full(p[0], &head, sizeof(head));
	if (r == 0 && head.r == 0) {
		s = head.len < 1 << 20 ? malloc((size_t)head.len + 1) : NULL;
		r = !s ? -ENOMEM : read_full(p[0], s, head.len);
		if (r == 0)
			s[head.len] = '\0';
	}
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (r < 0 && r != -ENOMEM) {
		char what[128];

		snprintf(what, sizeof(what), "the options of module %s (from libkmod, in a child)", name);
		hr_note_unread(&ctx->hr, what, r);
	}
	if (r < 0)
		return r;
	if (head.r < 0)
		return head.r;
	*ret = TAKE_PTR(s);
	return 0;
}

int snap_module_options(struct ctx *ctx, const char *name, char **ret)
{
	bool fresh = true;
	struct memo_value *v = ctx->hr.memo ? memo_slot(ctx->hr.memo, MEMO_MODOPTS, name, &fresh) : NULL;
	int r;

	if (v && !fresh && v->r != -EAGAIN) {
		if (v->r < 0)
			return v->r;
		*ret = strdup(v->data);
		return *ret ? 0 : -ENOMEM;
	}
	/* libkmod reads the modprobe.d files and the kernel command line anew each time. */
	r = options_in_child(ctx, name, ret);
	if (v)
		memo_keep(ctx->hr.memo, v, r, r == 0 ? *ret : NULL, NULL, 0);
	return r;
}

/* Phases ---------------------------------------------------------------- */

void snap_reads_live(struct ctx *ctx, bool live)
{
	ctx->hr.memo = live ? NULL : &ctx->snap.memo;
}

void snap_invalidate(struct ctx *ctx)
{
	struct snapshot *s = &ctx->snap;

	memo_clear(&s->memo);
	pci_list_free(&s->pci);
	s->pci_listed = false;
	s->pci_named = false;
}

void snap_free(struct snapshot *s)
{
	memo_clear(&s->memo);
	pci_list_free(&s->pci);
}

/* The files' table -------------------------------------------------------- */

/* Contents larger than this are read again rather than kept: nothing reads
 * such a file twice. */
#define MEMO_MAX_DATA (64 * 1024)
#define ARENA_BLOCK (64 * 1024)

/* A value and its key, in the arena: a run keeps thousands of small ones
 * (a 1,000-device report about 5,500, 56 bytes each on average). */
struct memo_rec {
	uint64_t hash;
	struct memo_value v;
	char key[];                /* kind, prefix code, the rest of the path */
};

/* Most paths start with one of these: the key names it by one letter. */
static const char *const key_prefixes[] = {
	"/sys/bus/pci/devices/", "/sys/devices/system/cpu/", "/sys/devices/system/node/",
	"/sys/kernel/iommu_groups/", "/sys/kernel/mm/", "/sys/class/net/", "/sys/bus/pci/drivers/",
	"/sys/module/", "/proc/",
};

/* A slot is one pointer; the hash sits in the record. */
struct memo_entry {
	struct memo_rec *rec;      /* NULL: a free slot */
};

struct memo_block {
	struct memo_block *next;
	size_t used, size;
	max_align_t data[];
};

/* align: a power of two; records need their pointers', contents none. */
static void *arena_alloc(struct hr_memo *m, size_t n, size_t align)
{
	struct memo_block *b = m->blocks;

	if (b)
		b->used = (b->used + align - 1) & ~(align - 1);
	if (!b || b->used > b->size || b->size - b->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		*b = (struct memo_block){ .next = m->blocks, .size = size };
		m->blocks = b;
	}
	b->used += n;
	return (char *)b->data + b->used - n;
}

void memo_clear(struct hr_memo *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->tab[i].rec && m->tab[i].rec->key[0] == MEMO_LIST)
			strv_free(m->tab[i].rec->v.list);
	free(m->tab);
	while (m->blocks) {
		struct memo_block *next = m->blocks->next;

		free(m->blocks);
		m->blocks = next;
	}
	*m = (struct hr_memo){ 0 };
}

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);   /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
	return h;
}

static struct memo_entry *probe(struct memo_entry *tab, size_t cap, uint64_t h, const char *key)
{
	size_t i = (size_t)h & (cap - 1);

	while (tab[i].rec && (tab[i].rec->hash != h || strcmp(tab[i].rec->key, key) != 0))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int grow(struct hr_memo *m)
{
	size_t cap = m->cap ? m->cap * 2 : 512;
	struct memo_entry *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->tab[i].rec)
			*probe(tab, cap, m->tab[i].rec->hash, m->tab[i].rec->key) = m->tab[i];
	free(m->tab);
	m->tab = tab;
	m->cap = cap;
	return 0;
}

struct memo_value *memo_slot(struct hr_memo *m, enum memo_kind kind, const char *path, bool *fresh)
{
	char key[4100];
	size_t n, skip = 0;
	char code = '-';
	uint64_t h;
	struct memo_entry *e;

	for (size_t i = 0; i < ARRAY_SIZE(key_prefixes) && !skip; i++) {
		size_t len = strlen(key_prefixes[i]);

		if (strncmp(path, key_prefixes[i], len) == 0) {
			skip = len;
			code = (char)('A' + i);
		}
	}
	n = strlen(path + skip);
	if (n + 3 > sizeof(key))
		return NULL;
	key[0] = (char)kind;
	key[1] = code;
	memcpy(key + 2, path + skip, n + 1);
	h = hash(key, n + 2);
	/* At most half full: probes stay short. */
	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return NULL;
	e = probe(m->tab, m->cap, h, key);
	*fresh = !e->rec;
	if (e->rec)
		return &e->rec->v;
	e->rec = arena_alloc(m, sizeof(*e->rec) + n + 3, _Alignof(struct memo_rec));
	if (!e->rec)
		return NULL;
	e->rec->hash = h;
	e->rec->v = (struct memo_value){ .r = -EAGAIN };
	memcpy(e->rec->key, key, n + 3);
	m->n++;
	return &e->rec->v;
}

void memo_keep(struct hr_memo *m, struct memo_value *slot, int r, const char *data, char *const *list, mode_t mode)
{
	size_t n = data ? strlen(data) : 0;

	/* What is not kept (too big, no memory) is read again: r stays -EAGAIN. */
	if (r == 0 && data) {
		if (n > MEMO_MAX_DATA || !(slot->data = arena_alloc(m, n + 1, 1)))
			return;
		memcpy(slot->data, data, n + 1);
	}
	if (r == 0 && list && !(slot->list = strv_copy(list)))
		return;
	slot->r = r;
	slot->mode = mode;
}
