/* The capabilities of the document in sections, one aligned row per fact,
 * in human units (lscpu, numactl -H): what `report` prints, and apply/audit
 * with -v.  Only the document is read. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "output-text.h"
#include "util.h"

#define LABEL_WIDTH 16

static void section(FILE *f, const char *title)
{
	fprintf(f, "%s\n", title);
}

static void row(FILE *f, const char *label, const char *fmt, ...) PRINTF_FMT(3, 4);
static void row(FILE *f, const char *label, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "  %-*s ", LABEL_WIDTH, label);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

static void cpu(FILE *f, struct json_object *caps)
{
	struct json_object *c = jobj_get(caps, "cpu"), *cc = jobj_get(caps, "confidential_computing");
	const char *virt = text_or(jobj_str(c, "virtualization"), "none");
	char online[512], possible[512], offered[64] = "";

	section(f, "CPU & virtualization");
	row(f, "Model", "%s (%s)", text_or(jobj_str(c, "model"), "unknown"), text_or(jobj_str(c, "vendor"), "unknown vendor"));
	text_cpulist(jobj_str(c, "online"), online, sizeof(online));
	text_cpulist(jobj_str(c, "possible"), possible, sizeof(possible));
	row(f, "CPUs", "%lld online: %s%s%s", (long long)jobj_int(c, "count", 0), online,
	    strcmp(online, possible) ? ", possible " : "", strcmp(online, possible) ? possible : "");
	row(f, "Virtualization", "%s", strcmp(virt, "vmx") == 0 ? "VT-x (vmx)" : strcmp(virt, "svm") == 0 ? "AMD-V (svm)"
				       : "none (no vmx or svm CPU flag)");

	section(f, "Confidential computing");
	for (const char *const *k = (const char *const[]){ "sev", "sev_es", "sev_snp", "tdx", NULL }; *k; k++)
		if (jobj_bool(cc, *k)) {
			char name[16];

			snprintf(name, sizeof(name), "%s", *k);
			for (char *p = name; *p; p++)
				*p = *p == '_' ? '-' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			snprintf(offered + strlen(offered), sizeof(offered) - strlen(offered), "%s%s",
				 offered[0] ? ", " : "", name);
		}
	row(f, "Offered to VMs", "%s", text_or(offered, "none"));
	row(f, "CPU support", "%s", text_or(jobj_str(cc, "cpu_flags"), "none"));
}

static void iommu(FILE *f, struct json_object *caps)
{
	struct json_object *o = jobj_get(caps, "iommu"), *ir = jobj_get(o, "interrupt_remapping");
	const char *kind = text_iommu_name(o);

	section(f, "IOMMU");
	if (jobj_bool(o, "enabled"))
		row(f, "State", "on, %lld groups%s%s", (long long)jobj_int(o, "groups", 0), kind ? ", " : "", kind ? kind : "");
	else
		row(f, "State", "off (no IOMMU groups)");
	row(f, "IRQ remapping", "%s", !ir ? "unknown" : json_object_get_boolean(ir) ? "on" : "off");
}

static void numa(FILE *f, struct json_object *caps)
{
	struct json_object *nodes = jobj_get(caps, "numa");

	section(f, "NUMA");
	if (!jobj_len(nodes))
		row(f, "Nodes", "none listed");
	for (size_t i = 0; i < jobj_len(nodes); i++) {
		struct json_object *n = jobj_idx(nodes, i);
		int64_t kb = jobj_int(n, "memory_kb", -1);
		char label[24], cpus[512], mem[32] = "memory unknown";

		snprintf(label, sizeof(label), "node%lld", (long long)jobj_int(n, "node", 0));
		text_cpulist(jobj_str(n, "cpus"), cpus, sizeof(cpus));
		if (kb >= 0)
			text_size_kb((uint64_t)kb, mem, sizeof(mem));
		row(f, label, "CPUs %s, %s", cpus, mem);
	}
}

static void kernel(FILE *f, struct json_object *doc, struct json_object *caps)
{
	struct json_object *k = jobj_get(caps, "kernel"), *b = jobj_get(caps, "bootloader");
	const char *cmdline = text_or(jobj_str(k, "cmdline"), "");
	char iso[512], nohz[512], rcu[512], raw[512];

	section(f, "Kernel command line");
	row(f, "Release", "%s", text_or(jobj_str(k, "release"), "unknown"));
	row(f, "Running", "%s", text_or(cmdline, "(empty)"));
	text_cpulist(jobj_str(k, "isolated_cpus"), iso, sizeof(iso));
	text_cpulist(jobj_str(k, "nohz_full"), nohz, sizeof(nohz));
	text_cmdline_value(cmdline, "rcu_nocbs", raw, sizeof(raw));
	text_cpulist(raw, rcu, sizeof(rcu));
	row(f, "Isolated CPUs", "%s (nohz_full %s, rcu_nocbs %s)", iso, nohz, rcu);
	if (b)
		row(f, "Bootloader", "%s%s%s", text_or(jobj_str(b, "name"), "none"),
		    jobj_str(b, "config") ? ", hostprep's arguments in " : "", text_or(jobj_str(b, "config"), ""));
	row(f, "Reboot", "%s", jobj_bool(k, "reboot_pending") ? "pending (/run/reboot-required)"
			       : jobj_bool(doc, "reboot_required") ? "needed by the profile's pending changes" : "not pending");
}

static void hugepages(FILE *f, struct json_object *caps)
{
	struct json_object *sizes = jobj_get(caps, "hugepages");

	section(f, "Hugepages");
	if (jobj_str(caps, "hugepages_default")) {
		uint64_t kb;
		char h[32];

		if (parse_size_kb(jobj_str(caps, "hugepages_default"), &kb) == 0)
			text_size_kb(kb, h, sizeof(h));
		else
			snprintf(h, sizeof(h), "%s", jobj_str(caps, "hugepages_default"));
		row(f, "Default size", "%s", h);
	}
	if (!jobj_len(sizes))
		row(f, "Sizes", "none (no /sys/kernel/mm/hugepages)");
	for (size_t i = 0; i < jobj_len(sizes); i++) {
		struct json_object *s = jobj_idx(sizes, i), *nodes = jobj_get(s, "nodes");
		int64_t total = jobj_int(s, "total", 0), free = jobj_int(s, "free", 0);
		char size[32], label[40], all[32], line[2048];
		size_t len = 0;

		text_size_kb((uint64_t)jobj_int(s, "size_kb", 0), size, sizeof(size));
		snprintf(label, sizeof(label), "%s pages", size);
		if (total <= 0) {
			row(f, label, "none reserved");
			continue;
		}
		text_size_kb((uint64_t)(total * jobj_int(s, "size_kb", 0)), all, sizeof(all));
		len += (size_t)snprintf(line, sizeof(line), "%lld reserved (%s), %lld free", (long long)total, all,
					(long long)free);
		for (size_t n = 0, shown = 0; n < jobj_len(nodes) && len < sizeof(line); n++) {
			struct json_object *node = jobj_idx(nodes, n);
			int64_t nt = jobj_int(node, "total", 0), nf = jobj_int(node, "free", 0);

			if (nt <= 0)
				continue;
			if (nf == nt)
				len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%lld %s %s free on node%lld",
							shown++ ? ", " : ": ", (long long)nf, text_times(), size,
							(long long)jobj_int(node, "node", 0));
			else
				len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%lld of %lld %s %s free on node%lld",
							shown++ ? ", " : ": ", (long long)nf, (long long)nt, text_times(),
							size, (long long)jobj_int(node, "node", 0));
		}
		row(f, label, "%s", line);
	}
}

static void thp_cpufreq_kvm(FILE *f, struct json_object *caps)
{
	struct json_object *t = jobj_get(caps, "thp"), *gov = jobj_get(caps, "cpufreq"), *k = jobj_get(caps, "kvm");
	const char *state = text_or(jobj_str(k, "nested_state"), "unavailable"), *mod = jobj_str(k, "module");

	section(f, "THP");
	if (!jobj_str(t, "enabled"))
		row(f, "State", "unsupported (no /sys/kernel/mm/transparent_hugepage)");
	else {
		row(f, "Enabled", "%s", jobj_str(t, "enabled"));
		row(f, "Defrag", "%s", text_or(jobj_str(t, "defrag"), "unknown"));
	}

	section(f, "cpufreq");
	if (!jobj_len(gov))
		row(f, "Governor", "none (no cpufreq: a VM, or frequency scaling is off)");
	for (size_t i = 0; i < jobj_len(gov); i++) {
		char cpus[512];

		text_cpulist(jobj_str(jobj_idx(gov, i), "cpus"), cpus, sizeof(cpus));
		row(f, i ? "" : "Governor", "%s on CPUs %s", text_or(jobj_str(jobj_idx(gov, i), "governor"), "?"), cpus);
	}

	section(f, "KVM");
	row(f, "/dev/kvm", "%s", jobj_bool(k, "dev_kvm") ? "present" : "missing");
	row(f, "Module", "%s", text_or(mod, "no kvm_intel or kvm_amd loaded"));
	if (strcmp(state, "active") == 0 || strcmp(state, "off") == 0)
		row(f, "Nested", "%s (nested=%s)", strcmp(state, "active") == 0 ? "on" : "off", text_or(jobj_str(k, "nested"), "?"));
	else if (strcmp(state, "pending") == 0)
		row(f, "Nested", "off, on after %s reloads (set in modprobe.d)", text_or(mod, "the module"));
	else
		row(f, "Nested", "%s", state);
}

/* "8 vfio-pci, 2 no driver": the VFs' drivers, counted in order of first use. */
static void vf_drivers(struct json_object *vfs, char *buf, size_t len)
{
	const char *names[16];
	size_t counts[16], n = 0, used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < jobj_len(vfs); i++) {
		const char *d = text_or(jobj_str(jobj_idx(vfs, i), "driver"), "no driver");
		size_t k;

		for (k = 0; k < n && strcmp(names[k], d) != 0; k++)
			;
		if (k == n && n < ARRAY_SIZE(names)) {
			names[n] = d;
			counts[n++] = 0;
		}
		if (k < n)
			counts[k]++;
	}
	for (size_t k = 0; k < n && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%s%zu %s", k ? ", " : "", counts[k], names[k]);
}

static void join_strings(struct json_object *arr, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < jobj_len(arr) && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
					 json_object_get_string(jobj_idx(arr, i)));
}

static void sriov(FILE *f, struct json_object *caps, bool verbose)
{
	struct json_object *pfs = jobj_get(caps, "sriov");

	section(f, "SR-IOV");
	if (!jobj_len(pfs))
		row(f, "PFs", "none");
	for (size_t i = 0; i < jobj_len(pfs); i++) {
		struct json_object *pf = jobj_idx(pfs, i), *vfs = jobj_get(pf, "vfs"), *ap = jobj_get(pf, "autoprobe");
		char ifs[256], drivers[256];

		join_strings(jobj_get(pf, "interfaces"), ifs, sizeof(ifs));
		vf_drivers(vfs, drivers, sizeof(drivers));
		row(f, text_or(jobj_str(pf, "address"), "?"), "%s%s%s, %lld of %lld VFs%s%s%s%s, %s", ifs, ifs[0] ? " " : "",
		    text_or(jobj_str(pf, "driver"), "no driver"), (long long)jobj_int(pf, "numvfs", 0),
		    (long long)jobj_int(pf, "totalvfs", 0), drivers[0] ? " (" : "", drivers, drivers[0] ? ")" : "",
		    ap && !json_object_get_boolean(ap) ? ", autoprobe off" : "", text_or(jobj_str(pf, "name"), "?"));
		for (size_t v = 0; verbose && v < jobj_len(vfs); v++) {
			struct json_object *vf = jobj_idx(vfs, v);
			int64_t g = jobj_int(vf, "iommu_group", -1);
			char label[40];

			snprintf(label, sizeof(label), "  %s", text_or(jobj_str(vf, "address"), "?"));
			if (g >= 0)
				row(f, label, "%s, IOMMU group %lld", text_or(jobj_str(vf, "driver"), "no driver"), (long long)g);
			else
				row(f, label, "%s, no IOMMU group", text_or(jobj_str(vf, "driver"), "no driver"));
		}
	}
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The VFs' addresses of every PF, sorted: one look-up per vfio-pci device
 * (a scan of all VFs for each of them was quadratic: 55,000 key look-ups,
 * a quarter of report's instructions, on a host of 1,000 devices).  NULL
 * when there are none or no memory (is_vf then says no). */
static const char **vf_addresses(struct json_object *caps, size_t *n)
{
	struct json_object *pfs = jobj_get(caps, "sriov");
	const char **a;
	size_t total = 0;

	*n = 0;
	for (size_t i = 0; i < jobj_len(pfs); i++)
		total += jobj_len(jobj_get(jobj_idx(pfs, i), "vfs"));
	if (total == 0 || !(a = malloc(total * sizeof(*a))))
		return NULL;
	for (size_t i = 0; i < jobj_len(pfs); i++) {
		struct json_object *vfs = jobj_get(jobj_idx(pfs, i), "vfs");

		for (size_t v = 0; v < jobj_len(vfs); v++) {
			const char *addr = jobj_str(jobj_idx(vfs, v), "address");

			if (addr)
				a[(*n)++] = addr;
		}
	}
	qsort(a, *n, sizeof(*a), cmp_str_ptr);
	return a;
}

static bool is_vf(const char **vfs, size_t n, const char *addr)
{
	return addr && vfs && bsearch(&addr, vfs, n, sizeof(*vfs), cmp_str_ptr);
}

static void vfio_device(FILE *f, struct json_object *d)
{
	struct json_object *blocking = jobj_get(d, "blocking");
	int64_t g = jobj_int(d, "iommu_group", -1);
	char why[512];

	join_strings(blocking, why, sizeof(why));
	if (g < 0)
		row(f, text_or(jobj_str(d, "address"), "?"), "no IOMMU group, %s", text_or(jobj_str(d, "name"), "?"));
	else
		row(f, text_or(jobj_str(d, "address"), "?"), "group %lld, %s%s, %s%s%s, %s", (long long)g, text_or(jobj_str(d, "dev_node"), "?"),
		    jobj_bool(d, "dev_node_present") ? "" : " missing", jobj_bool(d, "viable") ? "viable" : "not viable",
		    why[0] ? ": " : "", why, text_or(jobj_str(d, "name"), "?"));
}

static void vfio(FILE *f, struct json_object *caps, bool verbose)
{
	struct json_object *o = jobj_get(caps, "vfio"), *devs = jobj_get(o, "devices"), *refused = jobj_get(o, "refused");
	size_t vfs = 0, vfs_ok = 0, n_vf = 0;
	_cleanup_free_ const char **vf = jobj_len(devs) ? vf_addresses(caps, &n_vf) : NULL;

	section(f, "vfio");
	row(f, "Driver", "vfio-pci %s", jobj_bool(o, "driver_loaded") ? "loaded" : "not loaded");
	if (!jobj_len(devs))
		row(f, "Devices", "none on vfio-pci");
	/* VFs are many and alike: counted, one row each with -v. */
	for (size_t i = 0; i < jobj_len(devs); i++) {
		struct json_object *d = jobj_idx(devs, i);

		if (is_vf(vf, n_vf, jobj_str(d, "address")) && !verbose) {
			vfs++;
			vfs_ok += jobj_bool(d, "viable") && jobj_bool(d, "dev_node_present");
			if (jobj_bool(d, "viable") && jobj_bool(d, "dev_node_present"))
				continue;
		}
		vfio_device(f, d);
	}
	if (vfs)
		row(f, "VFs", "%zu on vfio-pci, %zu of them in viable groups with their /dev/vfio node%s", vfs, vfs_ok,
		    vfs_ok == vfs ? "" : " (the others above)");
	for (size_t i = 0; i < jobj_len(refused); i++)
		row(f, text_or(jobj_str(jobj_idx(refused, i), "address"), "?"), "%s: %s", jobj_bool(jobj_idx(refused, i), "forced")
		    ? "bound despite" : "refused", text_or(jobj_str(jobj_idx(refused, i), "reason"), "?"));
}

static void vdpa(FILE *f, struct json_object *caps)
{
	struct json_object *o = jobj_get(caps, "vdpa"), *mgmt = jobj_get(o, "management_devices");
	struct json_object *devs = jobj_get(o, "devices");
	bool sysfs = streq_ptr(jobj_str(o, "source"), "sysfs");

	section(f, "vDPA");
	row(f, "State", "%s%s", jobj_bool(o, "available") ? "available" : "not available",
	    sysfs ? " (read from sysfs: no netlink under --root)" : "");
	for (size_t i = 0; i < jobj_len(mgmt); i++) {
		struct json_object *m = jobj_idx(mgmt, i);
		char classes[128];

		join_strings(jobj_get(m, "classes"), classes, sizeof(classes));
		row(f, i ? "" : "Management", "%s (%s, up to %lld queues)", text_or(jobj_str(m, "name"), "?"), text_or(classes, "no class"),
		    (long long)jobj_int(m, "max_vqs", 0));
	}
	if (!jobj_len(devs))
		row(f, "Devices", "none");
	for (size_t i = 0; i < jobj_len(devs); i++) {
		struct json_object *d = jobj_idx(devs, i);
		const char *node = jobj_str(d, "dev") ? jobj_str(d, "dev") : jobj_str(d, "interface");
		char cfg[128] = "";

		if (jobj_str(d, "mac"))
			snprintf(cfg, sizeof(cfg), ", mac %s, mtu %lld, %lld queue pair(s)", jobj_str(d, "mac"),
				 (long long)jobj_int(d, "mtu", 0), (long long)jobj_int(d, "max_vqp", 1));
		row(f, text_or(jobj_str(d, "name"), "?"), "on %s, %s%s%s%s%s", text_or(jobj_str(d, "mgmtdev"), "?"),
		    text_or(jobj_str(d, "driver"), "no driver"), node ? ", " : "", node ? node : "", cfg,
		    jobj_bool(d, "created_by_hostprep") ? ", created by hostprep" : "");
	}
}

void text_report(FILE *f, struct json_object *doc, bool verbose)
{
	struct json_object *caps = jobj_get(doc, "capabilities");

	cpu(f, caps);
	iommu(f, caps);
	numa(f, caps);
	kernel(f, doc, caps);
	hugepages(f, caps);
	thp_cpufreq_kvm(f, caps);
	sriov(f, caps, verbose);
	vfio(f, caps, verbose);
	vdpa(f, caps);
}
