/* Device names from pci.ids, formatted as libpci formats them ("Intel
 * Corporation Ethernet Controller X710 for 10GbE SFP+", "Intel Corporation
 * Device 3e0f", "Device 1234:5678").  libpci's own loader parses all of the
 * file's 36,000 names into a hash on first use (a quarter of a report's
 * instructions on a 1,000-device host, and 1.2 MiB of memory) where a run
 * prints the names of a handful of ids: this reads the file once, in pieces,
 * and keeps only the names of the ids asked for.  The file is libpci's (the
 * program's own, as for lspci, whatever the root); a compressed one is left
 * to libpci. */
#include <errno.h>
#include <fcntl.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostroot.h"
#include "log.h"
#include "macro.h"
#include "pci.h"

#define CHUNK (64 * 1024)
#define NAME_MAX_LEN 256

struct wanted {
	unsigned vendor, device;
	char vendor_name[NAME_MAX_LEN];
	char device_name[NAME_MAX_LEN];
};

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "XXXX  name": the id and where the name starts, or -1. */
static long id_line(const char *l, size_t n, const char **name)
{
	long v = 0;

	if (n < 7 || l[4] != ' ' || l[5] != ' ')
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hex_value(l[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	*name = l + 6;
	return v;
}

static void keep(char *dst, const char *src, const char *end)
{
	size_t n = (size_t)(end - src);

	if (n >= NAME_MAX_LEN)
		n = NAME_MAX_LEN - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* One line of the file: a vendor ("8086  Intel Corporation"), one of its
 * devices ("\t1572  ..."), or something else (subsystems, classes, comments
 * — which may sit among a vendor's devices). */
static void parse_line(const char *l, const char *end, struct wanted *w, size_t n, long *vendor)
{
	const char *name;
	long id;

	if (l < end && l[0] == '\t') {
		if (*vendor < 0 || end - l < 2 || l[1] == '\t' || (id = id_line(l + 1, (size_t)(end - l - 1), &name)) < 0)
			return;
		for (size_t i = 0; i < n; i++)
			if (w[i].vendor == (unsigned)*vendor && w[i].device == (unsigned)id)
				keep(w[i].device_name, name, end);
		return;
	}
	/* Comments and blank lines, also inside a vendor's devices, change nothing. */
	if (l == end || l[0] == '#')
		return;
	*vendor = -1;
	if ((id = id_line(l, (size_t)(end - l), &name)) < 0)
		return;   /* a class: the vendors are over */
	for (size_t i = 0; i < n; i++)
		if (w[i].vendor == (unsigned)id) {
			keep(w[i].vendor_name, name, end);
			*vendor = id;
		}
}

static int scan(const char *path, struct wanted *w, size_t n)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = malloc(CHUNK);
	size_t have = 0;
	long vendor = -1;

	if (fd < 0)
		return -errno;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t got = read(fd, buf + have, CHUNK - have);
		char *l = buf, *nl;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		have += (size_t)got;
		while ((nl = memchr(l, '\n', have - (size_t)(l - buf)))) {
			parse_line(l, nl, w, n, &vendor);
			l = nl + 1;
		}
		if (got == 0) {
			if (l < buf + have)
				parse_line(l, buf + have, w, n, &vendor);
			return 0;
		}
		have -= (size_t)(l - buf);
		if (have == CHUNK)
			have = 0;   /* a line longer than a chunk: not pci.ids */
		memmove(buf, l, have);
	}
}

/* As libpci formats them; a name longer than buf is cut, as libpci cuts it. */
static void format_name(char *buf, size_t len, const struct wanted *w)
{
	int n;

	if (w->vendor_name[0] && w->device_name[0])
		n = snprintf(buf, len, "%s %s", w->vendor_name, w->device_name);
	else if (w->vendor_name[0])
		n = snprintf(buf, len, "%s Device %04x", w->vendor_name, w->device);
	else
		n = snprintf(buf, len, "Device %04x:%04x", w->vendor, w->device);
	if (n < 0)
		buf[0] = '\0';
}

/* libpci's error callback must not return. */
static jmp_buf *names_jump;

static __attribute__((noreturn, format(printf, 1, 2))) void names_on_error(char *msg, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	log_debug("libpci: %s", buf);
	longjmp(*names_jump, 1);
}

static __attribute__((format(printf, 1, 2))) void names_on_warning(char *msg, ...)
{
	(void)msg;
}

/* The distinct vendor:device pairs of the list, in order of first appearance;
 * dev_k[i] is device i's index among them. */
static int distinct_ids(const struct pci_list *l, size_t *dev_k, struct wanted **ret, size_t *n_ret)
{
	struct wanted *w = NULL;
	size_t nw = 0, cap = 0;

	for (size_t i = 0; i < l->n; i++) {
		size_t k;

		for (k = 0; k < nw && (w[k].vendor != l->dev[i].vendor || w[k].device != l->dev[i].device); k++)
			;
		if (k == nw) {
			if (nw == cap) {
				struct wanted *nwp = reallocarray(w, cap ? cap * 2 : 16, sizeof(*w));

				if (!nwp) {
					free(w);
					return -ENOMEM;
				}
				w = nwp;
				cap = cap ? cap * 2 : 16;
			}
			w[nw++] = (struct wanted){ .vendor = l->dev[i].vendor, .device = l->dev[i].device };
		}
		dev_k[i] = k;
	}
	*ret = w;
	*n_ret = nw;
	return 0;
}

/* names[k] for each distinct id, and every device pointed at its own. */
static int attach_names(struct pci_list *l, const size_t *dev_k, char **names, size_t nw)
{
	for (size_t k = 0; k < nw; k++)
		if (!names[k]) {
			strv_free(names);
			return -ENOMEM;
		}
	strv_free(l->names);
	l->names = names;
	l->n_names = nw;
	for (size_t i = 0; i < l->n; i++)
		l->dev[i].name = names[dev_k[i]];
	return 0;
}

/* A compressed pci.ids is left to libpci: one lookup per distinct id, until
 * libpci fails (the names not looked up stay NULL). */
static void lookup_names(struct pci_access *a, const struct wanted *w, size_t nw, char **names)
{
	jmp_buf jump;
	volatile size_t k = 0;

	names_jump = &jump;
	if (setjmp(jump) == 0)
		for (; k < nw; k++) {
			char buf[NAME_MAX_LEN];

			pci_lookup_name(a, buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_HWDB,
					w[k].vendor, w[k].device);
			names[k] = strdup(buf);
		}
	names_jump = NULL;
}

/* Names for the list's distinct ids: by libpci when a is given, else by one
 * pass over ids; an id without a name gets libpci's fallback form. */
static int name_list(struct pci_list *l, const char *ids, struct pci_access *a)
{
	_cleanup_free_ size_t *dev_k = calloc(l->n ? l->n : 1, sizeof(*dev_k));
	_cleanup_free_ struct wanted *w = NULL;
	char **names, buf[2 * NAME_MAX_LEN + 16];
	size_t nw = 0;
	int r = 0;

	if (!dev_k || distinct_ids(l, dev_k, &w, &nw) < 0 || !(names = calloc(nw + 1, sizeof(*names))))
		return -ENOMEM;
	if (a)
		lookup_names(a, w, nw, names);
	else if ((r = scan(ids, w, nw)) < 0)
		log_debug("pci.ids: %s: %s", ids, strerror(-r));
	for (size_t k = 0; k < nw; k++)
		if (!names[k]) {
			format_name(buf, NAME_MAX_LEN, &w[k]);
			names[k] = strdup(buf);
		}
	return attach_names(l, dev_k, names, nw) < 0 ? -ENOMEM : r;
}

int pci_names_from(const char *ids, struct pci_list *l)
{
	return name_list(l, ids, NULL);
}

int pci_names(struct pci_list *l)
{
	struct pci_access *a = pci_alloc();
	char ids[4096];
	size_t len;
	int r;

	if (!a)
		return -ENOMEM;
	a->error = names_on_error;
	a->warning = names_on_warning;
	a->debug = names_on_warning;
	snprintf(ids, sizeof(ids), "%s", a->id_file_name);
	len = strlen(ids);
	/* libpci's default names pci.ids.gz and falls back to pci.ids. */
	if (len > 3 && strcmp(ids + len - 3, ".gz") == 0) {
		if (access(ids, F_OK) == 0) {
			r = name_list(l, NULL, a);
			pci_cleanup(a);
			return r;
		}
		ids[len - 3] = '\0';
	}
	pci_cleanup(a);
	return pci_names_from(ids, l);
}
