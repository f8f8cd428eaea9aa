/* [vdpa NAME], the profile side: checking the section headers and parsing
 * the keys of each device. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "util.h"
#include "vdpa.h"

#define DEV_NAME_MAX 63
#define MTU_MIN 68                 /* the kernel's policy minimum */
#define MAX_VQP_MAX 0x8000         /* virtio-net's limit on queue pairs */

static const char *const drivers[] = { "vhost_vdpa", "virtio_vdpa", NULL };

static bool dev_name_valid(const char *s)
{
	if (!path_component_valid(s) || strlen(s) > DEV_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    !strchr("_.-", *s))
			return false;
	return true;
}

static bool has_key(const struct profile *p, const char *instance, const char *key)
{
	for (size_t i = 0; i < p->n_settings; i++) {
		const struct setting *s = &p->settings[i];

		if (strcmp(s->section, "vdpa") == 0 && streq_ptr(s->instance, instance) && strcmp(s->key, key) == 0)
			return true;
	}
	return false;
}

/* A bound on [vdpa NAME] sections keeps loading linear in the profile's size
 * (the checks below compare sections with each other). */
#define VDPA_MAX_DEVICES 256

/* Names and the one required key, checked once for every [vdpa NAME] header. */
static void check_headers(struct ctx *ctx, struct vdpa_config *c)
{
	const struct profile *p = ctx->profile;
	size_t n_devices = 0;

	if (c->headers_checked)
		return;
	c->headers_checked = true;
	for (size_t i = 0; i < p->n_sections; i++) {
		const struct setting *h = &p->sections[i];
		bool first = true;

		if (strcmp(h->section, "vdpa") != 0 || !h->instance)
			continue;
		for (size_t j = 0; j < i; j++)
			first &= !(strcmp(p->sections[j].section, "vdpa") == 0 &&
				   streq_ptr(p->sections[j].instance, h->instance));
		if (!first)
			continue;
		if (++n_devices > VDPA_MAX_DEVICES) {
			ctx_setting_error(ctx, h, "too many [vdpa] sections (at most %d)", VDPA_MAX_DEVICES);
			c->too_many = true;
			return;
		}
		if (!dev_name_valid(h->instance))
			ctx_setting_error(ctx, h, "[vdpa %s]: a device name is 1 to %d letters, digits, '_', '.' or '-' "
					  "(not starting with '.' or '-')", h->instance, DEV_NAME_MAX);
		else if (!has_key(p, h->instance, "mgmtdev"))
			ctx_setting_error(ctx, h, "[vdpa %s]: mgmtdev is required (e.g. pci/0000:03:00.2 or vdpasim_net)",
					  h->instance);
	}
}

static struct vdpa_want *want_get(struct vdpa_config *c, const char *name)
{
	struct vdpa_want *v;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->want[i].name, name) == 0)
			return &c->want[i];
	v = realloc(c->want, (c->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->want = v;
	v = &c->want[c->n];
	*v = (struct vdpa_want){ .name = strdup(name), .driver = drivers[0] };
	if (!v->name)
		return NULL;
	c->n++;
	return v;
}

int vdpa_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct vdpa_config *c = config;
	struct vdpa_want *w;
	uint64_t v;

	check_headers(ctx, c);
	if (c->too_many)
		return -EINVAL;   /* reported at the header */
	if (!dev_name_valid(s->instance))
		return -EINVAL;   /* reported at the header */
	w = want_get(c, s->instance);
	if (!w)
		return -ENOMEM;
	if (strcmp(s->key, "mgmtdev") == 0) {
		/* PCI addresses are parsed here for now; interface names and the other selector
		 * forms come with the shared PCI selector (agent/pci.h) when it lands. */
		struct pci_selector sel;

		w->mgmt_setting = s;
		w->by_id = pci_selector_parse(s->value, &sel) == 0 && sel.kind == PCI_SEL_ID;
		if (w->by_id) {
			/* Stands for the device until validate finds it. */
			w->id = sel;
			snprintf(w->bus, sizeof(w->bus), "pci");
			snprintf(w->mgmt, sizeof(w->mgmt), "%s", s->value);
		} else if (vdpa_handle_parse(s->value, w->bus, w->mgmt) < 0) {
			goto bad;
		}
		vdpa_handle_format(w->bus, w->mgmt, w->handle, sizeof(w->handle));
	} else if (strcmp(s->key, "mac") == 0) {
		if (mac_parse(s->value, w->mac) < 0)
			goto bad;
		if (w->mac[0] & 1) {
			ctx_setting_error(ctx, s, "mac: %s is a multicast address", s->value);
			return -EINVAL;
		}
		if (!(w->mac[0] | w->mac[1] | w->mac[2] | w->mac[3] | w->mac[4] | w->mac[5])) {
			ctx_setting_error(ctx, s, "mac: 00:00:00:00:00:00 is not an address");
			return -EINVAL;
		}
		w->has_mac = true;
	} else if (strcmp(s->key, "mtu") == 0) {
		if (parse_u64_range(s->value, MTU_MIN, UINT16_MAX, &v) < 0)
			goto bad;
		w->mtu = (uint16_t)v;
		w->has_mtu = true;
	} else if (strcmp(s->key, "max_vqp") == 0) {
		if (parse_u64_range(s->value, 1, MAX_VQP_MAX, &v) < 0)
			goto bad;
		w->max_vqp = (uint16_t)v;
		w->has_max_vqp = true;
	} else if (strcmp(s->key, "driver") == 0) {
		if (!str_in(s->value, drivers))
			goto bad;
		w->driver = strcmp(s->value, drivers[0]) == 0 ? drivers[0] : drivers[1];
	} else if (strcmp(s->key, "recreate") == 0) {
		if (parse_bool(s->value, &w->recreate) < 0)
			goto bad;
	} else {
		ctx_setting_error(ctx, s, "unknown key '%s' in [vdpa %s] (expected mgmtdev, mac, mtu, max_vqp, driver, "
				  "recreate)", s->key, s->instance);
		return -EINVAL;
	}
	return 0;
bad:
	if (strcmp(s->key, "mgmtdev") == 0)
		ctx_setting_error(ctx, s, "mgmtdev: '%s' is not a management device (pci/DOMAIN:BUS:DEV.FN, a PCI "
				  "address, BUS/NAME, or a bus-less name such as vdpasim_net)", s->value);
	else if (strcmp(s->key, "mac") == 0)
		ctx_setting_error(ctx, s, "mac: '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", s->value);
	else if (strcmp(s->key, "mtu") == 0)
		ctx_setting_error(ctx, s, "mtu: '%s' is not an MTU (%d to %d)", s->value, MTU_MIN, UINT16_MAX);
	else if (strcmp(s->key, "max_vqp") == 0)
		ctx_setting_error(ctx, s, "max_vqp: '%s' is not a number of queue pairs (1 to %d)", s->value, MAX_VQP_MAX);
	else if (strcmp(s->key, "driver") == 0)
		ctx_setting_error(ctx, s, "driver: expected vhost_vdpa or virtio_vdpa, got '%s'", s->value);
	else
		ctx_setting_error(ctx, s, "recreate: expected yes or no, got '%s'", s->value);
	return -EINVAL;
}

/* Only reached for a profile whose [vdpa] sections are all empty: parse never ran. */
static void set_pci_mgmtdev(struct vdpa_want *w, const char *addr)
{
	snprintf(w->bus, sizeof(w->bus), "pci");
	snprintf(w->mgmt, sizeof(w->mgmt), "%s", addr);
	vdpa_handle_format(w->bus, w->mgmt, w->handle, sizeof(w->handle));
}

/* The PCI selector forms of mgmtdev: vendor:device (exactly one match), or an
 * interface name standing for the PCI device behind it (a bus-less name that
 * is no interface stays a bus-less management device, e.g. vdpasim_net). */
static int resolve_mgmtdev(struct ctx *ctx, struct vdpa_want *w)
{
	_cleanup_strv_free_ char **match = NULL;
	const struct pci_list *all = NULL;
	struct pci_selector ifsel;
	const struct pci_selector *sel = &w->id;
	char err[256] = "";
	int r;

	if (!w->by_id) {
		if (w->bus[0] || !path_component_valid(w->mgmt) || !hr_exists(&ctx->hr, "/sys/class/net/%s", w->mgmt) ||
		    pci_selector_parse(w->mgmt, &ifsel) < 0 || ifsel.kind != PCI_SEL_IFNAME)
			return 0;
		sel = &ifsel;
	}
	/* Only vendor:device needs the whole bus. */
	if (sel->kind == PCI_SEL_ID && !(all = snap_pci(ctx, err, sizeof(err)))) {
		ctx_setting_error(ctx, w->mgmt_setting, "mgmtdev: listing PCI devices: %s", err);
		return -EIO;
	}
	r = pci_resolve(&ctx->hr, all, sel, &match);
	if (r < 0)
		return r;
	if (strv_length(match) > 1)
		ctx_setting_error(ctx, w->mgmt_setting, "mgmtdev: %s matches %zu devices (%s, %s%s); name one by its address",
				  sel->text, strv_length(match), match[0], match[1], match[2] ? ", ..." : "");
	else if (match[0])
		set_pci_mgmtdev(w, match[0]);
	else if (w->by_id)
		w->no_match = true;
	return 0;
}

int vdpa_validate(struct ctx *ctx, void *config)
{
	struct vdpa_config *c = config;
	int ret = 0;

	check_headers(ctx, config);
	for (size_t i = 0; i < c->n; i++)
		RET_GATHER(ret, resolve_mgmtdev(ctx, &c->want[i]));
	return ret;
}

void vdpa_free_config(void *config)
{
	struct vdpa_config *c = config;

	for (size_t i = 0; i < c->n; i++)
		free(c->want[i].name);
	free(c->want);
}
