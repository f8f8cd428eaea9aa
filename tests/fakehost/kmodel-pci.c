/* PCI: SR-IOV and driver binding as the kernel does them.
 *  - sriov_numvfs: N creates N VFs (device dirs with physfn, the PF's virtfnI,
 *    ids from sriov_vf_device, one new IOMMU group each) at PF routing ID +
 *    sriov_offset + i * sriov_stride; 0 removes them; N→M (both nonzero) is
 *    EBUSY; more than sriov_totalvfs is ERANGE.  New VFs are probed only when
 *    sriov_drivers_autoprobe is 1.  A file ROOT/.kmodel/slow/PATH holding
 *    seconds makes a write to PATH block that long first (a slow driver).
 *  - driver_override, drivers/X/unbind, drivers/X/bind, drivers_probe: a
 *    device binds to its override, else to the driver the id table
 *    ROOT/.kmodel/pci/ids names for its vendor:device, if that driver is
 *    registered (its /sys/bus/pci/drivers dir exists).  A VF whose PF has
 *    autoprobe 0 probes only with an override.  vfio-pci needs an IOMMU group
 *    and creates /dev/vfio/GROUP; the node goes when the group's last device
 *    leaves vfio-pci. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmodel.h"

/* Paths here are built from the fake tree's own short names. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define DEV "/sys/bus/pci/devices/%s"

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int dev_attr(const char *addr, const char *attr, char *buf, size_t len)
{
	char p[PATH_MAX];

	kmodel_path(p, sizeof(p), DEV "/%s", addr, attr);
	return read_line(p, buf, len);
}

static long dev_long(const char *addr, const char *attr)
{
	char v[64];

	return dev_attr(addr, attr, v, sizeof(v)) < 0 ? -1 : strtol(v, NULL, 0);
}

static void put_attr(const char *dir, const char *attr, const char *value)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, attr);
	if ((f = fopen(p, "we"))) {
		fprintf(f, "%s\n", value);
		fclose(f);
	}
}

/* Relative symlink, both paths below the root ("sys/..."), as sysfs has
 * them: counted from the real directory that holds the link. */
static void rel_link(const char *target, const char *name)
{
	char p[PATH_MAX], dir[PATH_MAX], real[PATH_MAX], rel[PATH_MAX] = "";

	kmodel_path(p, sizeof(p), "/%s", name);
	snprintf(dir, sizeof(dir), "%s", p);
	if (!realpath(dirname(dir), real))
		return;
	for (const char *c = real + strlen(kmodel_root); *c; c++)
		if (*c == '/')
			strcat(rel, "../");
	strcat(rel, target);
	unlink(p);
	if (symlink(rel, p) < 0)
		fprintf(stderr, "kmodel-pci: symlink %s: %s\n", p, strerror(errno));
}

static void unlink_rooted(const char *fmt, const char *a, const char *b)
{
	char rel[PATH_MAX], p[PATH_MAX];

	snprintf(rel, sizeof(rel), fmt, a, b);
	kmodel_path(p, sizeof(p), "%s", rel);
	unlink(p);
}

static int link_base(const char *addr, const char *name, char *buf, size_t len)
{
	char p[PATH_MAX], t[PATH_MAX];
	ssize_t n;

	kmodel_path(p, sizeof(p), DEV "/%s", addr, name);
	n = readlink(p, t, sizeof(t) - 1);
	if (n < 0)
		return -errno;
	t[n] = '\0';
	snprintf(buf, len, "%s", strrchr(t, '/') ? strrchr(t, '/') + 1 : t);
	return 0;
}

static int group_of(const char *addr)
{
	char g[32];

	return link_base(addr, "iommu_group", g, sizeof(g)) < 0 ? -1 : atoi(g);
}

static bool group_has_vfio(int group, const char *except)
{
	char pat[PATH_MAX];
	glob_t gl;
	bool any = false;

	kmodel_path(pat, sizeof(pat), "/sys/kernel/iommu_groups/%d/devices/*", group);
	if (glob(pat, 0, NULL, &gl) != 0)
		return false;
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		char drv[64], *a = strrchr(gl.gl_pathv[i], '/') + 1;

		if (strcmp(a, except) != 0 && link_base(a, "driver", drv, sizeof(drv)) == 0 && strcmp(drv, "vfio-pci") == 0)
			any = true;
	}
	globfree(&gl);
	return any;
}

static void bind_dev(const char *addr, const char *drv)
{
	char dir[PATH_MAX], target[PATH_MAX], name[PATH_MAX];
	int g = group_of(addr);

	kmodel_path(dir, sizeof(dir), DEV, addr);
	snprintf(target, sizeof(target), "sys/bus/pci/drivers/%s", drv);
	snprintf(name, sizeof(name), "sys/bus/pci/devices/%s/driver", addr);
	rel_link(target, name);
	snprintf(target, sizeof(target), "sys/bus/pci/devices/%s", addr);
	snprintf(name, sizeof(name), "sys/bus/pci/drivers/%s/%s", drv, addr);
	rel_link(target, name);
	if (strcmp(drv, "vfio-pci") == 0 && g >= 0) {
		char node[PATH_MAX];
		int fd;

		kmodel_path(node, sizeof(node), "/dev/vfio/%d", g);
		fd = open(node, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
}

static void unbind_dev(const char *addr)
{
	char drv[64];
	int g = group_of(addr);

	if (link_base(addr, "driver", drv, sizeof(drv)) < 0)
		return;
	unlink_rooted("/sys/bus/pci/drivers/%s/%s", drv, addr);
	unlink_rooted(DEV "/driver%s", addr, "");
	if (strcmp(drv, "vfio-pci") == 0 && g >= 0 && !group_has_vfio(g, addr)) {
		char node[PATH_MAX];

		kmodel_path(node, sizeof(node), "/dev/vfio/%d", g);
		unlink(node);
	}
}

static bool driver_registered(const char *drv)
{
	char p[PATH_MAX];
	struct stat st;

	kmodel_path(p, sizeof(p), "/sys/bus/pci/drivers/%s", drv);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The id table: "8086:10fb ixgbe" lines. */
static int id_driver(const char *addr, char *drv, size_t len)
{
	char p[PATH_MAX], line[256], want[16];
	FILE *f;
	int r = -ENODEV;

	snprintf(want, sizeof(want), "%04lx:%04lx", dev_long(addr, "vendor"), dev_long(addr, "device"));
	kmodel_path(p, sizeof(p), "/.kmodel/pci/ids");
	if (!(f = fopen(p, "re")))
		return -ENODEV;
	while (fgets(line, sizeof(line), f)) {
		char id[32], name[64];

		if (sscanf(line, "%31s %63s", id, name) == 2 && strcmp(id, want) == 0) {
			snprintf(drv, len, "%s", name);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

static bool has_override(const char *addr, char *ov, size_t len)
{
	return dev_attr(addr, "driver_override", ov, len) == 0 && ov[0] && strcmp(ov, "(null)") != 0;
}

/* pci_device_can_probe(): VFs of a PF with autoprobe 0 only with an override. */
static bool can_probe(const char *addr)
{
	char pf[64], ov[64];

	if (has_override(addr, ov, sizeof(ov)) || link_base(addr, "physfn", pf, sizeof(pf)) < 0)
		return true;
	return dev_long(pf, "sriov_drivers_autoprobe") != 0;
}

/* The driver that would take the device, or -ENODEV. */
static int match(const char *addr, char *drv, size_t len)
{
	char ov[64];

	if (!can_probe(addr))
		return -ENODEV;
	if (has_override(addr, ov, sizeof(ov))) {
		snprintf(drv, len, "%s", ov);
		return 0;
	}
	return id_driver(addr, drv, len);
}

static int probe(const char *addr, const char *only)
{
	char drv[64];

	if (match(addr, drv, sizeof(drv)) < 0 || (only && strcmp(only, drv) != 0) || !driver_registered(drv))
		return -ENODEV;
	if (strcmp(drv, "vfio-pci") == 0 && group_of(addr) < 0)
		return -EINVAL;   /* vfio-pci: no IOMMU group */
	bind_dev(addr, drv);
	return 0;
}

static void addr_of_value(const char *value, char *addr, size_t len)
{
	snprintf(addr, len, "%.*s", (int)strcspn(value, " \n"), value);
}

static bool dev_exists(const char *addr)
{
	char p[PATH_MAX];

	if (!addr[0] || strchr(addr, '/'))
		return false;
	kmodel_path(p, sizeof(p), DEV, addr);
	return access(p, F_OK) == 0;
}

static bool bound(const char *addr)
{
	char drv[64];

	return link_base(addr, "driver", drv, sizeof(drv)) == 0;
}

static ssize_t drivers_probe(int fd, const char *path, const char *value, size_t len)
{
	char addr[64];

	(void)fd; (void)path;
	addr_of_value(value, addr, sizeof(addr));
	if (!dev_exists(addr))
		return -ENODEV;
	if (!bound(addr))
		(void)probe(addr, NULL);   /* no driver is not an error here */
	return (ssize_t)len;
}

static void driver_of_path(const char *path, char *drv, size_t len)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(drv, len, "%s", basename(dirname(copy)));
}

static ssize_t driver_unbind(int fd, const char *path, const char *value, size_t len)
{
	char addr[64], drv[64], cur[64];

	(void)fd;
	addr_of_value(value, addr, sizeof(addr));
	driver_of_path(path, drv, sizeof(drv));
	if (!dev_exists(addr) || link_base(addr, "driver", cur, sizeof(cur)) < 0 || strcmp(cur, drv) != 0)
		return -ENODEV;
	unbind_dev(addr);
	return (ssize_t)len;
}

static ssize_t driver_bind(int fd, const char *path, const char *value, size_t len)
{
	char addr[64], drv[64];
	int r;

	(void)fd;
	addr_of_value(value, addr, sizeof(addr));
	driver_of_path(path, drv, sizeof(drv));
	if (!dev_exists(addr))
		return -ENODEV;
	if (bound(addr))
		return -EBUSY;
	r = probe(addr, drv);
	return r < 0 ? r : (ssize_t)len;
}

static ssize_t driver_override(int fd, const char *path, const char *value, size_t len)
{
	char v[64];

	(void)path;
	snprintf(v, sizeof(v), "%.*s", (int)strcspn(value, "\n"), value);
	if (strlen(v) >= 32)
		return -EINVAL;
	return kmodel_write_fd(fd, v[0] ? strcat(v, "\n") : "(null)\n") < 0 ? -EIO : (ssize_t)len;
}

static void slow_down(const char *path)
{
	char p[PATH_MAX];
	long secs;

	if (kmodel_path(p, sizeof(p), "/.kmodel/slow%s", path + strlen(kmodel_root)) == 0 &&
	    kmodel_read_long(p, &secs) == 0 && secs > 0)
		sleep((unsigned)secs);
}

static int next_group(void)
{
	char pat[PATH_MAX];
	glob_t gl;
	int max = -1;

	kmodel_path(pat, sizeof(pat), "/sys/kernel/iommu_groups/*");
	if (glob(pat, 0, NULL, &gl) == 0) {
		for (size_t i = 0; i < gl.gl_pathc; i++)
			if (atoi(strrchr(gl.gl_pathv[i], '/') + 1) > max)
				max = atoi(strrchr(gl.gl_pathv[i], '/') + 1);
		globfree(&gl);
	}
	return max + 1;
}

static void copy_attr(const char *from_addr, const char *attr, const char *dir)
{
	char v[256];

	if (dev_attr(from_addr, attr, v, sizeof(v)) == 0)
		put_attr(dir, attr, v);
}

static void create_vf(const char *pf, int i, const char *pfdir_rel)
{
	unsigned dom, bus, dev, fn, rid;
	char vf[32], dir[PATH_MAX], rel[PATH_MAX], name[PATH_MAX], target[PATH_MAX], v[64], p_noiommu[PATH_MAX];
	int g = next_group();
	FILE *f;

	sscanf(pf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn);
	/* Routing ID: PF + sriov_offset + i * sriov_stride. */
	rid = (bus << 8 | dev << 3 | fn) + (unsigned)dev_long(pf, "sriov_offset") +
	      (unsigned)i * (unsigned)dev_long(pf, "sriov_stride");
	snprintf(vf, sizeof(vf), "%04x:%02x:%02x.%x", dom, rid >> 8 & 0xff, rid >> 3 & 0x1f, rid & 7);
	snprintf(rel, sizeof(rel), "%.*s/%s", (int)(strrchr(pfdir_rel, '/') - pfdir_rel), pfdir_rel, vf);
	kmodel_path(dir, sizeof(dir), "/%s", rel);
	mkdir(dir, 0755);
	copy_attr(pf, "vendor", dir);
	copy_attr(pf, "class", dir);
	copy_attr(pf, "subsystem_vendor", dir);
	copy_attr(pf, "subsystem_device", dir);
	copy_attr(pf, "numa_node", dir);
	dev_attr(pf, "sriov_vf_device", v, sizeof(v));
	snprintf(target, sizeof(target), "0x%s", v);
	put_attr(dir, "device", target);
	put_attr(dir, "irq", "0");
	put_attr(dir, "enable", "0");
	put_attr(dir, "driver_override", "(null)");
	snprintf(name, sizeof(name), "%s/resource", dir);
	if ((f = fopen(name, "we"))) {
		for (int k = 0; k < 7; k++)
			fputs("0x0000000000000000 0x0000000000000000 0x0000000000000000\n", f);
		fclose(f);
	}
	snprintf(name, sizeof(name), "%s/config", dir);
	if ((f = fopen(name, "we"))) {
		unsigned long ven = (unsigned long)dev_long(pf, "vendor"), did = strtoul(v, NULL, 16);
		unsigned char cfg[64] = { ven & 0xff, ven >> 8 & 0xff, did & 0xff, did >> 8 & 0xff };
		unsigned long cls = (unsigned long)dev_long(pf, "class");

		cfg[9] = cls & 0xff; cfg[10] = cls >> 8 & 0xff; cfg[11] = cls >> 16 & 0xff;
		fwrite(cfg, 1, sizeof(cfg), f);
		fclose(f);
	}
	snprintf(name, sizeof(name), "%s/physfn", rel);
	rel_link(pfdir_rel, name);
	snprintf(name, sizeof(name), "%s/virtfn%d", pfdir_rel, i);
	rel_link(rel, name);
	snprintf(name, sizeof(name), "sys/bus/pci/devices/%s", vf);
	rel_link(rel, name);
	snprintf(name, sizeof(name), "%s/subsystem", rel);
	rel_link("sys/bus/pci", name);
	kmodel_path(p_noiommu, sizeof(p_noiommu), "/.kmodel/pci/no-iommu");
	if (access(p_noiommu, F_OK) == 0) {
		(void)probe(vf, NULL);
		return;
	}
	snprintf(name, sizeof(name), "sys/kernel/iommu_groups/%d/devices/%s", g, vf);
	kmodel_path(target, sizeof(target), "/sys/kernel/iommu_groups/%d/devices", g);
	mkdir(dirname(strcpy(dir, target)), 0755);
	mkdir(target, 0755);
	rel_link(rel, name);
	snprintf(name, sizeof(name), "%s/iommu_group", rel);
	snprintf(target, sizeof(target), "sys/kernel/iommu_groups/%d", g);
	rel_link(target, name);
	(void)probe(vf, NULL);
}

static void remove_vf(const char *pf, int i)
{
	char link[32], vf[64], p[PATH_MAX], real[PATH_MAX];
	int g;

	snprintf(link, sizeof(link), "virtfn%d", i);
	if (link_base(pf, link, vf, sizeof(vf)) < 0)
		return;
	g = group_of(vf);
	unbind_dev(vf);
	kmodel_path(p, sizeof(p), DEV, vf);
	if (realpath(p, real))
		kmodel_rm_tree(real);
	unlink(p);
	unlink_rooted(DEV "/%s", pf, link);
	if (g >= 0) {
		kmodel_path(p, sizeof(p), "/sys/kernel/iommu_groups/%d", g);
		kmodel_rm_tree(p);
	}
}

static ssize_t sriov_numvfs(int fd, const char *path, const char *value, size_t len)
{
	char pf[64], copy[PATH_MAX], v[32];
	const char *pfdir_rel = path + strlen(kmodel_root) + 1;
	long want, cur, total;
	char *end;

	slow_down(path);
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(pf, sizeof(pf), "%s", basename(dirname(copy)));
	want = strtol(value, &end, 10);
	if (end == value || want < 0)
		return -EINVAL;
	cur = dev_long(pf, "sriov_numvfs");
	total = dev_long(pf, "sriov_totalvfs");
	if (want == cur)
		return (ssize_t)len;
	if (want > total)
		return -ERANGE;
	if (cur > 0 && want > 0)
		return -EBUSY;
	snprintf(copy, sizeof(copy), "%.*s", (int)(strrchr(pfdir_rel, '/') - pfdir_rel), pfdir_rel);
	if (want == 0)
		for (long i = cur - 1; i >= 0; i--)
			remove_vf(pf, (int)i);
	else
		for (long i = 0; i < want; i++)
			create_vf(pf, (int)i, copy);
	snprintf(v, sizeof(v), "%ld\n", want);
	return kmodel_write_fd(fd, v) < 0 ? -EIO : (ssize_t)len;
}

static ssize_t sriov_autoprobe(int fd, const char *path, const char *value, size_t len)
{
	(void)path;
	if (value[0] != '0' && value[0] != '1')
		return -EINVAL;
	return kmodel_write_fd(fd, value[0] == '1' ? "1\n" : "0\n") < 0 ? -EIO : (ssize_t)len;
}

const struct kmodel_rule kmodel_pci_rules[] = {
	{ "/sys/devices/pci*/*/sriov_numvfs", sriov_numvfs },
	{ "/sys/devices/pci*/*/sriov_drivers_autoprobe", sriov_autoprobe },
	{ "/sys/devices/pci*/*/driver_override", driver_override },
	{ "/sys/bus/pci/drivers/*/unbind", driver_unbind },
	{ "/sys/bus/pci/drivers/*/bind", driver_bind },
	{ "/sys/bus/pci/drivers_probe", drivers_probe },
	{ NULL, NULL },
};
