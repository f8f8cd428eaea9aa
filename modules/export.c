/* [export]: fleet exports written by apply once every other module is done —
 * a Prometheus node-exporter textfile and a Kubernetes Node Feature Discovery
 * feature file.  Both come from the run's actions and the capabilities
 * document, are replaced atomically under the root, and are not actions: they
 * never change the exit code, and a failure to write one is a warning. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "jrec.h"
#include "output.h"
#include "util.h"
#include "version.h"

/* Debian's prometheus-node-exporter reads this directory (--collector.textfile.directory). */
#define PROMETHEUS_DEFAULT "/var/lib/prometheus/node-exporter/hostprep.prom"
#define NFD_DEFAULT "/etc/kubernetes/node-feature-discovery/features.d/hostprep"

struct export_config {
	const char *prometheus;    /* host path, NULL: not exported */
	const char *nfd;
};

static int export_parse(struct ctx *ctx, void *config, const struct setting *s)
{
	struct export_config *c = config;
	const char **slot = strcmp(s->key, "prometheus") == 0 ? &c->prometheus : strcmp(s->key, "nfd") == 0 ? &c->nfd : NULL;
	const char *v = s->value;
	bool on;

	if (!slot) {
		ctx_setting_error(ctx, s, "unknown key '%s' in [export] (expected prometheus, nfd)", s->key);
		return -EINVAL;
	}
	if (parse_bool(v, &on) == 0) {
		*slot = on ? (slot == &c->prometheus ? PROMETHEUS_DEFAULT : NFD_DEFAULT) : NULL;
		return 0;
	}
	if (v[0] != '/' || v[strlen(v) - 1] == '/' || strstr(v, "/../") || strstr(v, "/./") || strpbrk(v, " \t") ||
	    (strlen(v) >= 3 && strcmp(v + strlen(v) - 3, "/..") == 0) ||
	    (strlen(v) >= 2 && strcmp(v + strlen(v) - 2, "/.") == 0)) {
		ctx_setting_error(ctx, s, "%s: expected yes, no or an absolute file path without '..', got '%s'", s->key,
				  v);
		return -EINVAL;
	}
	*slot = v;
	return 0;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	return jrec_get(o, key);
}

static size_t alen(struct json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

#define aget json_object_array_get_idx

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *name, const char *value, bool last)
{
	fprintf(f, "%s=\"", name);
	for (const char *c = value ? value : ""; *c; c++) {
		if (*c == '\\' || *c == '"')
			fputc('\\', f);
		if (*c == '\n')
			fputs("\\n", f);
		else
			fputc(*c, f);
	}
	fputs(last ? "\"}" : "\",", f);
}

static void help(FILE *f, const char *name, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, text, name);
}

/* A state the host is left in that does not match the profile. */
static bool is_drift(enum action_state s)
{
	return s == ACTION_PENDING || s == ACTION_PENDING_REBOOT || s == ACTION_PENDING_RELOAD || s == ACTION_FAILED;
}

static void prom_run(FILE *f, struct ctx *ctx, int code)
{
	help(f, "hostprep_info", "hostprep's version and the profile of the last apply.");
	fputs("hostprep_info{", f);
	label(f, "version", HOSTPREP_VERSION, false);
	label(f, "profile", ctx->profile ? ctx->profile->path : "", false);
	label(f, "profile_name", ctx->profile && ctx->profile->name ? ctx->profile->name : "", true);
	fputs(" 1\n", f);
	help(f, "hostprep_last_apply_timestamp_seconds", "When the last apply finished, in seconds since the epoch.");
	fprintf(f, "hostprep_last_apply_timestamp_seconds %lld\n", (long long)time(NULL));
	help(f, "hostprep_last_apply_exit_code",
	     "Exit code of the last apply: 0 nothing to change, 2 changed, 4 failed, 6 changed and failed.");
	fprintf(f, "hostprep_last_apply_exit_code %d\n", code);
	help(f, "hostprep_last_apply_success", "1 when no action of the last apply failed.");
	fprintf(f, "hostprep_last_apply_success %d\n", code & 4 ? 0 : 1);
	help(f, "hostprep_reboot_required", "1 when the profile needs a reboot to take full effect.");
	fprintf(f, "hostprep_reboot_required %d\n", engine_reboot_required(ctx) ? 1 : 0);

	help(f, "hostprep_drift",
	     "Actions per module that the last apply left unlike the profile (failed, pending, pending a reboot or a module reload).");
	for (size_t m = 0; modules[m]; m++) {
		size_t n = 0;

		if (!modules[m]->section || !modules[m]->plan)
			continue;
		for (size_t i = 0; i < ctx->n_actions; i++)
			n += strcmp(ctx->actions[i]->module, modules[m]->name) == 0 && is_drift(ctx->actions[i]->state);
		fputs("hostprep_drift{", f);
		label(f, "module", modules[m]->name, true);
		fprintf(f, " %zu\n", n);
	}
	help(f, "hostprep_actions", "Actions of the last apply per module and state.");
	for (size_t m = 0; modules[m]; m++)
		for (int s = 0; s < ACTION_N_STATES; s++) {
			size_t n = 0;

			for (size_t i = 0; i < ctx->n_actions; i++)
				n += strcmp(ctx->actions[i]->module, modules[m]->name) == 0 && ctx->actions[i]->state == (enum action_state)s;
			if (!n)
				continue;
			fputs("hostprep_actions{", f);
			label(f, "module", modules[m]->name, false);
			label(f, "state", action_state_name(s), true);
			fprintf(f, " %zu\n", n);
		}
}

static void prom_hugepages(FILE *f, struct json_object *caps)
{
	struct json_object *hp = get(caps, "hugepages");
	static const char *const keys[] = { "total", "free" };

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		char name[64];

		snprintf(name, sizeof(name), "hostprep_hugepages_%s_pages", k == 0 ? "reserved" : "free");
		help(f, name, k == 0 ? "Hugepages reserved, per page size and NUMA node."
				     : "Hugepages free, per page size and NUMA node.");
		for (size_t i = 0; i < alen(hp); i++) {
			struct json_object *size = aget(hp, i), *nodes = get(size, "nodes");

			for (size_t n = 0; n < alen(nodes); n++) {
				struct json_object *v = get(aget(nodes, n), keys[k]);

				if (!v)
					continue;   /* unreadable */
				fprintf(f, "%s{", name);
				label(f, "size", json_object_get_string(get(size, "size")), false);
				label(f, "node", json_object_get_string(get(aget(nodes, n), "node")), true);
				fprintf(f, " %lld\n", (long long)json_object_get_int64(v));
			}
		}
	}
}

static void prom_devices(FILE *f, struct json_object *caps)
{
	struct json_object *pfs = get(caps, "sriov"), *vfio = get(get(caps, "vfio"), "devices");
	struct json_object *vdpa = get(get(caps, "vdpa"), "devices");

	help(f, "hostprep_sriov_vfs", "VFs enabled on each SR-IOV PF (sriov_numvfs).");
	for (size_t i = 0; i < alen(pfs); i++) {
		fputs("hostprep_sriov_vfs{", f);
		label(f, "pf", json_object_get_string(get(aget(pfs, i), "address")), true);
		fprintf(f, " %lld\n", (long long)json_object_get_int64(get(aget(pfs, i), "numvfs")));
	}
	help(f, "hostprep_sriov_totalvfs", "VFs each SR-IOV PF can offer (sriov_totalvfs).");
	for (size_t i = 0; i < alen(pfs); i++) {
		fputs("hostprep_sriov_totalvfs{", f);
		label(f, "pf", json_object_get_string(get(aget(pfs, i), "address")), true);
		fprintf(f, " %lld\n", (long long)json_object_get_int64(get(aget(pfs, i), "totalvfs")));
	}
	help(f, "hostprep_vfio_devices", "Devices bound to vfio-pci.");
	fprintf(f, "hostprep_vfio_devices %zu\n", alen(vfio));
	help(f, "hostprep_vfio_device_viable", "1 when the vfio-pci device's IOMMU group is viable for assignment.");
	for (size_t i = 0; i < alen(vfio); i++) {
		struct json_object *d = aget(vfio, i);

		fputs("hostprep_vfio_device_viable{", f);
		label(f, "address", json_object_get_string(get(d, "address")), false);
		label(f, "iommu_group", json_object_get_string(get(d, "iommu_group")), true);
		fprintf(f, " %d\n", json_object_get_boolean(get(d, "viable")) ? 1 : 0);
	}
	help(f, "hostprep_vdpa_devices", "vDPA devices.");
	fprintf(f, "hostprep_vdpa_devices %zu\n", alen(vdpa));
	help(f, "hostprep_vdpa_device_info", "One vDPA device: its management device and driver.");
	for (size_t i = 0; i < alen(vdpa); i++) {
		struct json_object *d = aget(vdpa, i);

		fputs("hostprep_vdpa_device_info{", f);
		label(f, "name", json_object_get_string(get(d, "name")), false);
		label(f, "mgmtdev", json_object_get_string(get(d, "mgmtdev")), false);
		label(f, "driver", json_object_get_string(get(d, "driver")), true);
		fputs(" 1\n", f);
	}
}

/* Kubernetes label value: letters, digits, '-', '_', '.', at most 63, starting
 * and ending with a letter or digit; "" when nothing is left. */
static void label_value(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (const char *c = in; *c && n + 1 < len && n < 63; c++)
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    ((*c == '-' || *c == '_' || *c == '.') && n > 0))
			out[n++] = *c;
	while (n > 0 && (out[n - 1] == '-' || out[n - 1] == '_' || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
}

/* "hugepages-1Gi": the name Kubernetes gives the resource. */
static void k8s_size(uint64_t kb, char *buf, size_t len)
{
	if (kb % (1024 * 1024) == 0)
		snprintf(buf, len, "%lluGi", (unsigned long long)(kb / (1024 * 1024)));
	else if (kb % 1024 == 0)
		snprintf(buf, len, "%lluMi", (unsigned long long)(kb / 1024));
	else
		snprintf(buf, len, "%lluKi", (unsigned long long)kb);
}

/* Node Feature Discovery local source: NAME=VALUE per line; NFD prefixes
 * names without a namespace with feature.node.kubernetes.io/. */
static void nfd_features(FILE *f, struct ctx *ctx, struct json_object *caps, int code)
{
	struct json_object *hp = get(caps, "hugepages"), *pfs = get(caps, "sriov");
	struct json_object *vfio = get(get(caps, "vfio"), "devices");
	bool vfs_ready = false, vfio_viable = false;
	char v[64];

	fprintf(f, "hostprep-converged=%s\n", !(code & 4) && !engine_reboot_required(ctx) ? "true" : "false");
	label_value(ctx->profile && ctx->profile->name ? ctx->profile->name : "", v, sizeof(v));
	if (v[0])
		fprintf(f, "hostprep-profile=%s\n", v);
	fprintf(f, "hostprep-iommu=%s\n", json_object_get_boolean(get(get(caps, "iommu"), "enabled")) ? "true" : "false");
	fprintf(f, "hostprep-kvm=%s\n", json_object_get_boolean(get(get(caps, "kvm"), "dev_kvm")) ? "true" : "false");
	fprintf(f, "hostprep-nested=%s\n",
		streq_ptr(json_object_get_string(get(get(caps, "kvm"), "nested_state")), "active") ? "true" : "false");
	for (size_t i = 0; i < alen(hp); i++) {
		struct json_object *size = aget(hp, i);

		k8s_size((uint64_t)json_object_get_int64(get(size, "size_kb")), v, sizeof(v));
		fprintf(f, "hostprep-hugepages-%s=%s\n", v, json_object_get_int64(get(size, "total")) > 0 ? "true" : "false");
	}
	/* Ready: some PF has VFs and each of its VFs is bound to a driver. */
	for (size_t i = 0; i < alen(pfs); i++) {
		struct json_object *vfs = get(aget(pfs, i), "vfs");
		bool all_bound = alen(vfs) > 0;

		for (size_t j = 0; j < alen(vfs); j++)
			all_bound &= get(aget(vfs, j), "driver") != NULL;
		vfs_ready |= all_bound;
	}
	fprintf(f, "hostprep-sriov-vfs-ready=%s\n", vfs_ready ? "true" : "false");
	for (size_t i = 0; i < alen(vfio); i++)
		vfio_viable |= json_object_get_boolean(get(aget(vfio, i), "viable"));
	fprintf(f, "hostprep-vfio=%s\n", vfio_viable ? "true" : "false");
	fprintf(f, "hostprep-vdpa=%s\n", alen(get(get(caps, "vdpa"), "devices")) ? "true" : "false");
}

static void write_export(struct ctx *ctx, const char *what, const char *path, char *content, bool ok)
{
	int r = ok && content ? hr_replace_file(&ctx->hr, content, 0644, "%s", path) : -ENOMEM;

	if (r < 0)
		ctx_warn(ctx, "export %s: writing %s: %s", what, path, strerror(-r));
	free(content);
}

static int export_finish(struct ctx *ctx, void *config)
{
	struct export_config *c = config;
	struct json_object *caps;
	int code = engine_exit_code(ctx);

	if (!c || (!c->prometheus && !c->nfd))
		return 0;
	caps = output_capabilities(ctx);
	if (c->prometheus) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (f) {
			prom_run(f, ctx, code);
			prom_hugepages(f, caps);
			prom_devices(f, caps);
		}
		write_export(ctx, "prometheus", c->prometheus, buf, f && fclose(f) == 0);
	}
	if (c->nfd) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (f)
			nfd_features(f, ctx, caps, code);
		write_export(ctx, "nfd", c->nfd, buf, f && fclose(f) == 0);
	}
	json_object_put(caps);
	return 0;
}

const struct module module_export = {
	.name = "export",
	.section = "export",
	.config_size = sizeof(struct export_config),
	.parse = export_parse,
	.finish = export_finish,
};
