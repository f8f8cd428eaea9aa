/* Capabilities that belong to no profile section: CPU and virtualization,
 * confidential computing, IOMMU, NUMA, isolated CPUs, kernel.  (KVM and
 * nested state: modules/kvm.c.) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "util.h"

static struct json_object *jstr_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static bool param_on(struct ctx *ctx, const char *module, const char *param)
{
	char v[16];

	return hr_read_line(&ctx->hr, v, sizeof(v), "/sys/module/%s/parameters/%s", module, param) == 0 &&
	       (strcmp(v, "Y") == 0 || strcmp(v, "1") == 0);
}

static void report_cpu(struct ctx *ctx, struct json_object *caps)
{
	const struct host_facts *h = host_facts(ctx);
	struct json_object *o = json_object_new_object(), *cc = json_object_new_object();
	const char *virt = word_in("vmx", h->flags) ? "vmx" : word_in("svm", h->flags) ? "svm" : "none";
	char list[1024];

	json_object_object_add(o, "vendor", jstr_or_null(h->vendor));
	json_object_object_add(o, "model", jstr_or_null(h->model));
	json_object_object_add(o, "virtualization", json_object_new_string(virt));
	cpuset_format(&h->possible, list, sizeof(list));
	json_object_object_add(o, "possible", json_object_new_string(list));
	cpuset_format(&h->online, list, sizeof(list));
	json_object_object_add(o, "online", json_object_new_string(list));
	json_object_object_add(o, "count", json_object_new_int((int)cpuset_count(&h->online)));
	json_object_object_add(caps, "cpu", o);

	/* Confidential computing: the CPU flag says the hardware can, the kvm
	 * module parameter says this kernel offers it to guests. */
	json_object_object_add(cc, "sev", json_object_new_boolean(param_on(ctx, "kvm_amd", "sev")));
	json_object_object_add(cc, "sev_es", json_object_new_boolean(param_on(ctx, "kvm_amd", "sev_es")));
	json_object_object_add(cc, "sev_snp", json_object_new_boolean(param_on(ctx, "kvm_amd", "sev_snp")));
	json_object_object_add(cc, "tdx", json_object_new_boolean(param_on(ctx, "kvm_intel", "tdx")));
	json_object_object_add(cc, "cpu_flags", json_object_new_string(
		word_in("sev_snp", h->flags) ? "sev_snp" : word_in("sev_es", h->flags) ? "sev_es" :
		word_in("sev", h->flags) ? "sev" : word_in("tdx_host_platform", h->flags) ? "tdx" : "none"));
	json_object_object_add(caps, "confidential_computing", cc);
}

/* enabled and groups from the IOMMU groups; firmware_table: the ACPI table
 * that describes the IOMMU (DMAR, IVRS); active: the driver whose units the
 * kernel registered in /sys/class/iommu (dmarN: intel-vt-d, ivhdN: amd-vi). */
static void report_iommu(struct ctx *ctx, struct json_object *caps)
{
	_cleanup_strv_free_ char **groups = NULL, **units = NULL;
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	size_t n = hr_list(&ctx->hr, &groups, "/sys/kernel/iommu_groups") == 0 ? strv_length(groups) : 0;
	const char *active = NULL, *table = hr_exists(&ctx->hr, "/sys/firmware/acpi/tables/DMAR") ? "DMAR"
					  : hr_exists(&ctx->hr, "/sys/firmware/acpi/tables/IVRS") ? "IVRS" : NULL;

	if (hr_list(&ctx->hr, &units, "/sys/class/iommu") == 0)
		for (char **u = units; *u; u++) {
			const char *kind = strncmp(*u, "dmar", 4) == 0 ? "intel-vt-d" : strncmp(*u, "ivhd", 4) == 0 ? "amd-vi"
										     : "other";

			if (!active || strcmp(active, "other") == 0)
				active = kind;
			json_object_array_add(arr, json_object_new_string(*u));
		}
	json_object_object_add(o, "enabled", json_object_new_boolean(n > 0));
	json_object_object_add(o, "groups", json_object_new_int((int)n));
	json_object_object_add(o, "firmware_table", jstr_or_null(table));
	json_object_object_add(o, "active", jstr_or_null(active));
	json_object_object_add(o, "units", arr);
	json_object_object_add(caps, "iommu", o);
}

/* Interrupt remapping is on when the kernel's MSI/IO-APIC chips carry the
 * IR- prefix (IR-PCI-MSI, IR-IO-APIC); null when /proc/interrupts is unreadable. */
static void report_interrupt_remapping(struct ctx *ctx, struct json_object *caps)
{
	_cleanup_free_ char *irqs = NULL;
	struct json_object *o = json_object_object_get(caps, "iommu");

	if (o)
		json_object_object_add(o, "interrupt_remapping", hr_read(&ctx->hr, &irqs, "/proc/interrupts") < 0 ? NULL
				       : json_object_new_boolean(strstr(irqs, " IR-") != NULL));
}

static void report_numa(struct ctx *ctx, struct json_object *caps)
{
	const struct host_facts *h = host_facts(ctx);
	struct json_object *arr = json_object_new_array();

	for (unsigned i = 0; i < h->n_nodes; i++) {
		struct json_object *o = json_object_new_object();
		_cleanup_free_ char *meminfo = NULL;
		char cpus[1024];
		unsigned long long kb;
		const char *p;

		json_object_object_add(o, "node", json_object_new_int((int)h->nodes[i]));
		if (hr_read_line(&ctx->hr, cpus, sizeof(cpus), "/sys/devices/system/node/node%u/cpulist", h->nodes[i]) < 0)
			cpus[0] = '\0';
		json_object_object_add(o, "cpus", json_object_new_string(cpus));
		if (hr_read(&ctx->hr, &meminfo, "/sys/devices/system/node/node%u/meminfo", h->nodes[i]) == 0 &&
		    (p = strstr(meminfo, "MemTotal:")) && sscanf(p, "MemTotal: %llu kB", &kb) == 1)
			json_object_object_add(o, "memory_kb", json_object_new_int64((int64_t)kb));
		json_object_array_add(arr, o);
	}
	json_object_object_add(caps, "numa", arr);
}

static void report_kernel(struct ctx *ctx, struct json_object *caps)
{
	struct json_object *o = json_object_new_object();
	char v[1024];

	json_object_object_add(o, "release", host_facts(ctx)->release[0] ? json_object_new_string(host_facts(ctx)->release)
									   : NULL);
	json_object_object_add(o, "cmdline", json_object_new_string(host_facts(ctx)->cmdline));
	json_object_object_add(o, "isolated_cpus",
			       hr_read_line(&ctx->hr, v, sizeof(v), "/sys/devices/system/cpu/isolated") < 0
			       ? NULL : json_object_new_string(v));
	json_object_object_add(o, "nohz_full",
			       hr_read_line(&ctx->hr, v, sizeof(v), "/sys/devices/system/cpu/nohz_full") < 0 ||
			       strcmp(v, "(null)") == 0 ? NULL : json_object_new_string(v));
	json_object_object_add(o, "reboot_pending", json_object_new_boolean(hr_exists(&ctx->hr, "/run/reboot-required")));
	json_object_object_add(caps, "kernel", o);
}

static void system_report(struct ctx *ctx, struct json_object *caps)
{
	report_cpu(ctx, caps);
	report_iommu(ctx, caps);
	report_interrupt_remapping(ctx, caps);
	report_numa(ctx, caps);
	report_kernel(ctx, caps);
}

const struct module module_system = {
	.name = "system",
	.report = system_report,
};
