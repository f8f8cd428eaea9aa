/* The readiness checklist that ends the report, in virt-host-validate's
 * style: one line per capability a VM host or the profile needs, PASS,
 * WARN (hint) or FAIL (hint).  Without a profile the capabilities are
 * judged for a general VM host; with one (report --profile, apply/audit -v)
 * the plan's actions in the document judge what the profile asks for. */
#include <stdarg.h>
#include <string.h>

#include "cpulist.h"
#include "macro.h"
#include "output-text.h"
#include "util.h"

enum verdict { PASS, WARN, FAIL };

enum check_id {
	CK_VIRT, CK_KVM, CK_IOMMU, CK_IRQ, CK_NESTED, CK_ISOLATION, CK_THP, CK_GOVERNOR, CK_CMDLINE,
	CK_SRIOV, CK_VFIO, CK_VDPA, CK_FIXED,
};

#define MAX_SIZES 8
#define MAX_OTHER 8

struct check {
	char label[64];
	bool shown;
	enum verdict verdict;
	char hint[256];
};

struct checklist {
	struct check fixed[CK_FIXED];
	struct check sizes[MAX_SIZES];       /* hugepages, one per page size */
	char size_names[MAX_SIZES][16];     /* "1G", as the document names sizes */
	size_t n_sizes;
	struct check other[MAX_OTHER];       /* actions of modules not listed here */
	char other_names[MAX_OTHER][32];
	size_t n_other;
	bool profile;
};

static void judge(struct check *c, enum verdict v, const char *fmt, ...) PRINTF_FMT(3, 4);
static void judge(struct check *c, enum verdict v, const char *fmt, ...)
{
	va_list ap;

	c->shown = true;
	/* The worst verdict wins, and its first reason. */
	if (v < c->verdict || (v == c->verdict && c->hint[0]))
		return;
	c->verdict = v;
	c->hint[0] = '\0';
	if (!fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(c->hint, sizeof(c->hint), fmt, ap);
	va_end(ap);
}

static struct check *size_check(struct checklist *l, const char *size)
{
	size_t i;

	for (i = 0; i < l->n_sizes; i++)
		if (strcmp(l->size_names[i], size) == 0)
			return &l->sizes[i];
	if (l->n_sizes == MAX_SIZES)
		return NULL;
	snprintf(l->size_names[i], sizeof(l->size_names[i]), "%s", size);
	{
		uint64_t kb;
		char h[32];

		if (parse_size_kb(size, &kb) == 0)
			text_size_kb(kb, h, sizeof(h));
		else
			snprintf(h, sizeof(h), "%s", size);
		snprintf(l->sizes[i].label, sizeof(l->sizes[i].label), "Hugepages %s", h);
	}
	l->n_sizes++;
	return &l->sizes[i];
}

static struct check *other_check(struct checklist *l, const char *module)
{
	size_t i;

	for (i = 0; i < l->n_other; i++)
		if (strcmp(l->other_names[i], module) == 0)
			return &l->other[i];
	if (l->n_other == MAX_OTHER)
		return NULL;
	snprintf(l->other_names[i], sizeof(l->other_names[i]), "%s", module);
	snprintf(l->other[i].label, sizeof(l->other[i].label), "%s", module);
	l->n_other++;
	return &l->other[i];
}

/* Which line an action of the plan belongs to. */
static struct check *check_of_action(struct checklist *l, const char *module, const char *target, const char *des)
{
	static const struct { const char *module; enum check_id id; } by_module[] = {
		{ "thp", CK_THP }, { "cpu", CK_GOVERNOR }, { "kvm", CK_NESTED }, { "sriov", CK_SRIOV },
		{ "vfio", CK_VFIO }, { "vdpa", CK_VDPA },
	};
	char size[16];

	if (strcmp(module, "kernel") == 0) {
		if (str_in(target, (const char *const[]){ "intel_iommu", "amd_iommu", "iommu", NULL }))
			return &l->fixed[CK_IOMMU];
		if (str_in(target, (const char *const[]){ "isolcpus", "nohz_full", "rcu_nocbs", NULL }))
			return &l->fixed[CK_ISOLATION];
		if (sscanf(target, "hugepagesz=%15s", size) == 1 ||
		    (strcmp(target, "default_hugepagesz") == 0 && des && sscanf(des, "default_hugepagesz=%15s", size) == 1))
			return size_check(l, size);
		return &l->fixed[CK_CMDLINE];
	}
	/* hugepages targets: "1G pages node0", "2M pages". */
	if (strcmp(module, "hugepages") == 0 && sscanf(target, "%15s pages", size) == 1)
		return size_check(l, size);
	for (size_t i = 0; i < ARRAY_SIZE(by_module); i++)
		if (strcmp(module, by_module[i].module) == 0)
			return &l->fixed[by_module[i].id];
	return other_check(l, module);
}

static void judge_action(struct check *c, struct json_object *a)
{
	const char *state = jobj_str(a, "state"), *target = jobj_str(a, "target"), *msg = jobj_str(a, "message");
	char now[TEXT_VALUE_MAX * 4 + 8], want[TEXT_VALUE_MAX * 4 + 8];

	if (!c || !state)
		return;
	if (strcmp(state, "ok") == 0 || strcmp(state, "changed") == 0) {
		judge(c, PASS, NULL);
	} else if (strcmp(state, "pending") == 0) {
		text_shorten(text_or(jobj_str(a, "current"), "not set"), now, sizeof(now));
		text_shorten(text_or(jobj_str(a, "desired"), "-"), want, sizeof(want));
		judge(c, FAIL, "%s: %s, the profile wants %s", target, now, want);
	} else if (strcmp(state, "pending-reboot") == 0) {
		judge(c, WARN, "%s: takes effect after a reboot", target);
	} else if (strcmp(state, "failed") == 0) {
		judge(c, FAIL, "%s: %s", target, text_or(msg, "failed"));
	} else {
		judge(c, WARN, "%s: %s%s%s", target, state, msg ? ": " : "", text_or(msg, ""));
	}
}

static bool profile_assigns_devices(struct json_object *actions)
{
	for (size_t i = 0; i < jobj_len(actions); i++) {
		struct json_object *a = jobj_idx(actions, i);
		const char *mod = jobj_str(a, "module"), *des = jobj_str(a, "desired");

		if (streq_ptr(mod, "vfio") || (streq_ptr(mod, "sriov") && des && strstr(des, "vfio-pci")))
			return true;
	}
	return false;
}

static void judge_cpu_kvm(struct checklist *l, struct json_object *caps)
{
	struct json_object *k = jobj_get(caps, "kvm");
	const char *virt = jobj_str(jobj_get(caps, "cpu"), "virtualization"), *nested = jobj_str(k, "nested_state");
	struct check *c;

	c = &l->fixed[CK_VIRT];
	if (streq_ptr(virt, "vmx") || streq_ptr(virt, "svm")) {
		snprintf(c->label, sizeof(c->label), "Hardware virtualization (%s)", streq_ptr(virt, "vmx") ? "VT-x" : "AMD-V");
		judge(c, PASS, NULL);
	} else {
		judge(c, FAIL, "no vmx or svm CPU flag: enable VT-x or AMD-V in the firmware");
	}
	c = &l->fixed[CK_KVM];
	if (jobj_bool(k, "dev_kvm"))
		judge(c, PASS, NULL);
	else if (!jobj_str(k, "module"))
		judge(c, FAIL, "missing: load kvm_intel or kvm_amd");
	else
		judge(c, FAIL, "missing although %s is loaded", jobj_str(k, "module"));

	/* Nested is for every VM host; with a profile, only when it asks. */
	c = &l->fixed[CK_NESTED];
	if (streq_ptr(nested, "active"))
		judge(c, PASS, NULL);
	else if (l->profile && !c->shown)
		;
	else if (streq_ptr(nested, "pending"))
		judge(c, WARN, "set in modprobe.d: applies when %s reloads with no VM running",
		      text_or(jobj_str(k, "module"), "-"));
	else if (streq_ptr(nested, "off"))
		judge(c, WARN, "off: guests cannot run KVM themselves; [kvm] nested = yes");
	else
		judge(c, WARN, "unavailable: no kvm_intel or kvm_amd loaded, or it has no nested parameter");
}

static void judge_iommu(struct checklist *l, struct json_object *caps, struct json_object *actions)
{
	struct json_object *o = jobj_get(caps, "iommu"), *ir = jobj_get(o, "interrupt_remapping");
	struct check *c = &l->fixed[CK_IOMMU];
	const char *kind = text_iommu_name(o);
	bool on = jobj_bool(o, "enabled");

	bool wants_off = false;

	for (size_t i = 0; i < jobj_len(actions); i++) {
		const char *des = jobj_str(jobj_idx(actions, i), "desired");

		if (streq_ptr(jobj_str(jobj_idx(actions, i), "module"), "kernel") && des &&
		    (strcmp(des, "intel_iommu=off") == 0 || strcmp(des, "amd_iommu=off") == 0))
			wants_off = true;
	}
	if (kind)
		snprintf(c->label, sizeof(c->label), "IOMMU active (%s)", kind);
	if (on == !wants_off)
		judge(c, PASS, NULL);
	else if (wants_off)
		judge(c, WARN, "on, and the profile turns it off at the next boot");
	else if (c->shown && c->verdict == PASS)
		judge(c, WARN, "off although the profile's IOMMU arguments are running: is the IOMMU enabled in the firmware?");
	else if (c->shown)
		judge(c, WARN, "off");   /* the profile's IOMMU arguments said why */
	else if (profile_assigns_devices(actions))
		judge(c, FAIL, "off, and the profile passes devices to VMs: [kernel] iommu = on (or pt), then reboot");
	else
		judge(c, WARN, "off: needed to pass devices to VMs; [kernel] iommu = on, then reboot");

	c = &l->fixed[CK_IRQ];
	if (!on)
		judge(c, WARN, "needs the IOMMU");
	else if (!ir)
		judge(c, WARN, "unknown: no /proc/interrupts");
	else if (!json_object_get_boolean(ir))
		judge(c, WARN, "off: vfio refuses device assignment unless vfio_iommu_type1 allow_unsafe_interrupts=1");
	else
		judge(c, PASS, NULL);
}

/* A CPU list as text_cpulist() printed it ("none" is the empty set). */
static void cpus_of(const char *list, struct cpuset *set)
{
	cpuset_zero(set);
	if (strcmp(list, "none") != 0 && cpuset_parse(set, list, NULL) < 0)
		cpuset_zero(set);
}

static void judge_isolation(struct checklist *l, struct json_object *caps)
{
	struct json_object *k = jobj_get(caps, "kernel");
	struct check *c = &l->fixed[CK_ISOLATION];
	char iso[512], nohz[512], rcu[512], raw[512];
	struct cpuset a, b, r;

	if (c->shown)   /* the profile's arguments judged it */
		return;
	text_cpulist(jobj_str(k, "isolated_cpus"), iso, sizeof(iso));
	text_cpulist(jobj_str(k, "nohz_full"), nohz, sizeof(nohz));
	text_cmdline_value(text_or(jobj_str(k, "cmdline"), ""), "rcu_nocbs", raw, sizeof(raw));
	text_cpulist(raw, rcu, sizeof(rcu));
	cpus_of(iso, &a);
	cpus_of(nohz, &b);
	cpus_of(rcu, &r);
	if (cpuset_count(&a) == 0 && cpuset_count(&b) == 0 && cpuset_count(&r) == 0)
		return;
	if (cpuset_equal(&a, &b) && cpuset_equal(&a, &r))
		judge(c, PASS, NULL);
	else
		judge(c, WARN, "isolated %s, nohz_full %s, rcu_nocbs %s: the three should name the same CPUs", iso, nohz,
		      rcu);
}

static void judge_hugepages(struct checklist *l, struct json_object *caps)
{
	struct json_object *sizes = jobj_get(caps, "hugepages");
	bool any = false;

	for (size_t i = 0; i < jobj_len(sizes); i++) {
		struct json_object *s = jobj_idx(sizes, i);
		int64_t total = jobj_int(s, "total", 0), free = jobj_int(s, "free", 0);
		struct check *c;

		if (total <= 0 || !jobj_str(s, "size") || !(c = size_check(l, jobj_str(s, "size"))))
			continue;
		any = true;
		if (free > 0)
			judge(c, PASS, NULL);
		else
			judge(c, WARN, "all %lld pages are in use", (long long)total);
	}
	if (!any && !l->profile && l->n_sizes == 0) {
		struct check *c = size_check(l, "");

		if (c) {
			snprintf(c->label, sizeof(c->label), "Hugepages");
			judge(c, WARN, "none reserved: VMs get 4 KiB pages; reserve some in [hugepages]");
		}
	}
}

static void judge_devices(struct checklist *l, struct json_object *caps)
{
	struct json_object *pfs = jobj_get(caps, "sriov"), *vfio = jobj_get(caps, "vfio");
	struct json_object *devs = jobj_get(vfio, "devices"), *refused = jobj_get(vfio, "refused");
	struct json_object *vdevs = jobj_get(jobj_get(caps, "vdpa"), "devices");

	for (size_t i = 0; i < jobj_len(pfs); i++)
		if (jobj_int(jobj_idx(pfs, i), "numvfs", 0) > 0)
			judge(&l->fixed[CK_SRIOV], PASS, NULL);
	for (size_t i = 0; i < jobj_len(devs); i++) {
		struct json_object *d = jobj_idx(devs, i), *blocking = jobj_get(d, "blocking");
		const char *addr = text_or(jobj_str(d, "address"), "-");

		if (!jobj_bool(d, "viable"))
			judge(&l->fixed[CK_VFIO], FAIL, "%s: %s", addr, jobj_len(blocking)
			      ? json_object_get_string(jobj_idx(blocking, 0)) : "no IOMMU group");
		else if (!jobj_bool(d, "dev_node_present"))
			judge(&l->fixed[CK_VFIO], FAIL, "%s: %s is missing", addr, text_or(jobj_str(d, "dev_node"), "-"));
		else
			judge(&l->fixed[CK_VFIO], PASS, NULL);
	}
	for (size_t i = 0; i < jobj_len(refused); i++) {
		struct json_object *r = jobj_idx(refused, i);

		judge(&l->fixed[CK_VFIO], jobj_bool(r, "forced") ? WARN : FAIL, "%s: %s", text_or(jobj_str(r, "address"), "-"),
		      text_or(jobj_str(r, "reason"), "-"));
	}
	for (size_t i = 0; i < jobj_len(vdevs); i++) {
		struct json_object *d = jobj_idx(vdevs, i);
		const char *name = text_or(jobj_str(d, "name"), "-"), *drv = jobj_str(d, "driver");

		if (!drv)
			judge(&l->fixed[CK_VDPA], WARN, "%s is bound to no driver", name);
		else if (strcmp(drv, "vhost_vdpa") == 0 && !jobj_str(d, "dev"))
			judge(&l->fixed[CK_VDPA], WARN, "%s has no /dev/vhost-vdpa node", name);
		else
			judge(&l->fixed[CK_VDPA], PASS, NULL);
	}
}

static void print_check(FILE *f, const struct check *c, int width)
{
	static const char *const words[] = { [PASS] = "PASS", [WARN] = "WARN", [FAIL] = "FAIL" };
	static const enum text_color colors[] = { [PASS] = TC_GREEN, [WARN] = TC_YELLOW, [FAIL] = TC_RED };

	if (!c->shown)
		return;
	fprintf(f, "  %-*s : ", width, c->label);
	text_put_colored(f, colors[c->verdict], words[c->verdict], 0);
	if (c->verdict != PASS && c->hint[0])
		fprintf(f, " (%s)", c->hint);
	fputc('\n', f);
}

static int label_width(const struct check *c, size_t n, int w)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].shown && (int)strlen(c[i].label) > w)
			w = (int)strlen(c[i].label);
	return w;
}

void text_checks(FILE *f, struct json_object *doc)
{
	static const char *const labels[CK_FIXED] = {
		[CK_VIRT] = "Hardware virtualization", [CK_KVM] = "/dev/kvm", [CK_IOMMU] = "IOMMU active",
		[CK_IRQ] = "Interrupt remapping", [CK_NESTED] = "Nested virtualization",
		[CK_ISOLATION] = "Isolated CPUs (isolcpus, nohz_full, rcu_nocbs)", [CK_THP] = "Transparent hugepages",
		[CK_GOVERNOR] = "CPU frequency governor", [CK_CMDLINE] = "Kernel command line",
		[CK_SRIOV] = "SR-IOV VFs", [CK_VFIO] = "vfio-pci devices in viable groups", [CK_VDPA] = "vDPA devices",
	};
	static const enum check_id before_sizes[] = { CK_VIRT, CK_KVM, CK_IOMMU, CK_IRQ, CK_NESTED };
	static const enum check_id after_sizes[] = { CK_ISOLATION, CK_THP, CK_GOVERNOR, CK_CMDLINE, CK_SRIOV, CK_VFIO,
						     CK_VDPA };
	struct json_object *caps = jobj_get(doc, "capabilities"), *actions = jobj_get(doc, "actions");
	struct checklist l = { .profile = jobj_len(actions) > 0 || jobj_str(doc, "profile") };
	int width = 0;

	for (size_t i = 0; i < CK_FIXED; i++)
		snprintf(l.fixed[i].label, sizeof(l.fixed[i].label), "%s", labels[i]);
	for (size_t i = 0; i < jobj_len(actions); i++) {
		struct json_object *a = jobj_idx(actions, i);
		const char *mod = jobj_str(a, "module"), *target = jobj_str(a, "target");

		if (mod && target)
			judge_action(check_of_action(&l, mod, target, jobj_str(a, "desired")), a);
	}
	judge_cpu_kvm(&l, caps);
	judge_iommu(&l, caps, actions);
	judge_hugepages(&l, caps);
	judge_isolation(&l, caps);
	judge_devices(&l, caps);

	width = label_width(l.fixed, CK_FIXED, width);
	width = label_width(l.sizes, l.n_sizes, width);
	width = label_width(l.other, l.n_other, width);
	if (l.profile)
		fprintf(f, "Readiness against %s\n", text_or(jobj_str(doc, "profile"), "-"));
	else
		fprintf(f, "Readiness for a VM host\n");
	for (size_t i = 0; i < ARRAY_SIZE(before_sizes); i++)
		print_check(f, &l.fixed[before_sizes[i]], width);
	for (size_t i = 0; i < l.n_sizes; i++)
		print_check(f, &l.sizes[i], width);
	for (size_t i = 0; i < ARRAY_SIZE(after_sizes); i++)
		print_check(f, &l.fixed[after_sizes[i]], width);
	for (size_t i = 0; i < l.n_other; i++)
		print_check(f, &l.other[i], width);
}
