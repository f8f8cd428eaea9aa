/* PCI selectors and addresses, and the route/mount parsers behind the vfio
 * safety rails: pure functions, table-driven. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hostdeps.h"
#include "hostroot.h"
#include "pci.h"

static void test_selector_forms(void **state)
{
	static const struct {
		const char *in;
		enum pci_selector_kind kind;
		const char *canonical;   /* address or interface */
		unsigned vendor, device;
	} ok[] = {
		{ "0000:03:00.0", PCI_SEL_ADDRESS, "0000:03:00.0", 0, 0 },
		{ "03:00.0", PCI_SEL_ADDRESS, "0000:03:00.0", 0, 0 },
		{ "0000:AF:1f.7", PCI_SEL_ADDRESS, "0000:af:1f.7", 0, 0 },
		{ "10000:00:00.0", PCI_SEL_ADDRESS, "10000:00:00.0", 0, 0 },
		{ "8086:10fb", PCI_SEL_ID, NULL, 0x8086, 0x10fb },
		{ "10DE:1B80", PCI_SEL_ID, NULL, 0x10de, 0x1b80 },
		{ "ens1f0", PCI_SEL_IFNAME, "ens1f0", 0, 0 },
		{ "eth0.100", PCI_SEL_IFNAME, "eth0.100", 0, 0 },
		{ "enp101s0f1np1", PCI_SEL_IFNAME, "enp101s0f1np1", 0, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct pci_selector s;

		assert_int_equal(pci_selector_parse(ok[i].in, &s), 0);
		assert_int_equal(s.kind, ok[i].kind);
		assert_string_equal(s.text, ok[i].in);
		if (s.kind == PCI_SEL_ADDRESS)
			assert_string_equal(s.addr, ok[i].canonical);
		else if (s.kind == PCI_SEL_IFNAME)
			assert_string_equal(s.ifname, ok[i].canonical);
		else {
			assert_int_equal(s.vendor, ok[i].vendor);
			assert_int_equal(s.device, ok[i].device);
		}
	}
}

static void test_selector_malformed(void **state)
{
	static const char *const bad[] = {
		"", "03:00", "3:0.0", "03:00.8", "03:20.0", "0000:03:00.0.1", "000:03:00.0", "0000:03:00.0:",
		"8086:10fb0", "8086:10g0", "808:10fb", "a/b", "..", ".", "averyveryverylongname0",
		"eth 0", "eth0,eth1", "zz:yy.1", "0000:03:0g.0", NULL,
	};
	(void)state;
	for (const char *const *b = bad; *b; b++) {
		struct pci_selector s;

		if (pci_selector_parse(*b, &s) == 0)
			fail_msg("'%s' parsed as a selector", *b);
	}
	assert_int_equal(pci_selector_parse(NULL, NULL), -EINVAL);
}

static void test_addr_order(void **state)
{
	(void)state;
	assert_true(pci_addr_cmp("0000:03:00.0", "0000:03:00.1") < 0);
	assert_true(pci_addr_cmp("0000:03:10.0", "0000:03:02.0") > 0);
	assert_true(pci_addr_cmp("0000:0a:00.0", "0000:65:00.0") < 0);
	assert_true(pci_addr_cmp("0000:0A:00.0", "0000:0a:00.1") < 0);
	assert_true(pci_addr_cmp("10000:00:00.0", "ffff:ff:1f.7") > 0);
	assert_true(pci_addr_cmp("0001:00:00.0", "0000:ff:00.0") > 0);
	assert_int_equal(pci_addr_cmp("0000:65:00.0", "0000:65:00.0"), 0);
	/* Not an address: compared as text. */
	assert_true(pci_addr_cmp("0000:65:00", "0000:65:00.0") < 0);
	assert_true(pci_addr_cmp("0000:03:00.0x", "0000:03:00.0") > 0);
	assert_true(pci_addr_cmp("0000:ff:00.0", "10000:00:00.0") < 0);
	assert_int_equal(pci_addr_cmp("0000:03:00.0", "0000:03:00.0"), 0);
}

/* pci.ids read in pieces: vendors, devices, subsystem and class lines, and the
 * three forms libpci writes. */
static void test_names_from_pci_ids(void **state)
{
	char path[] = "/tmp/hostprep-test-ids.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	struct pci_device dev[5] = { { .vendor = 0x8086, .device = 0x1572 }, { .vendor = 0x8086, .device = 0x3e0f },
				     { .vendor = 0x0002, .device = 0x1234 }, { .vendor = 0x1b36, .device = 0x0010 },
				     { .vendor = 0x8086, .device = 0x1572 } };
	struct pci_list l = { .dev = dev, .n = 5 };

	(void)state;
	assert_non_null(f);
	fputs("#\n#\tList of PCI ID's\n#\n\n0001  SafeNet (wrong ID)\n"
	      "1572  Not a device: a vendor line\n"
	      "1b36  Red Hat, Inc.\n\t0010  QEMU NVM Express Controller\n\t\t1af4 1100  QEMU Virtual Machine\n"
	      "8086  Intel Corporation\n\t1234  Something else\n# A comment among the devices\n\n\t1572  Ethernet Controller X710 for 10GbE SFP+\n"
	      "\t\t8086 0000  Ethernet Converged Network Adapter X710\n"
	      "ffff  Illegal Vendor ID\n\n# List of known device classes\nC 02  Network controller\n"
	      "\t00  Ethernet controller\n\t\t0010  Not an id\n", f);
	/* The last line without a newline. */
	fputs("C 03  Display controller", f);
	fclose(f);
	assert_int_equal(pci_names_from(path, &l), 0);
	assert_string_equal(dev[0].name, "Intel Corporation Ethernet Controller X710 for 10GbE SFP+");
	assert_string_equal(dev[1].name, "Intel Corporation Device 3e0f");
	assert_string_equal(dev[2].name, "Device 0002:1234");
	assert_string_equal(dev[3].name, "Red Hat, Inc. QEMU NVM Express Controller");
	/* One name per vendor:device, shared by the devices that have it. */
	assert_ptr_equal(dev[4].name, dev[0].name);
	assert_int_equal(l.n_names, 4);
	unlink(path);
	l.n = 1;
	assert_int_equal(pci_names_from(path, &l), -ENOENT);
	assert_string_equal(dev[0].name, "Device 8086:1572");
	assert_int_equal(l.n_names, 1);
	strv_free(l.names);
}

static void test_addr_in_path(void **state)
{
	char a[PCI_ADDR_MAX];

	(void)state;
	assert_int_equal(pci_addr_in_path("../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda",
					  a, sizeof(a)), 0);
	assert_string_equal(a, "0000:00:1f.2");
	assert_int_equal(pci_addr_in_path("../../devices/pci0000:00/0000:00:01.0/0000:03:00.0/net/ens1f0", a, sizeof(a)), 0);
	assert_string_equal(a, "0000:03:00.0");
	assert_int_equal(pci_addr_in_path("../../devices/pci0000:00/0000:00:03.0/virtio0/net/eth0", a, sizeof(a)), 0);
	assert_string_equal(a, "0000:00:03.0");
	assert_int_equal(pci_addr_in_path("../../devices/virtual/net/bond0", a, sizeof(a)), -ENOENT);
}

static void test_default_routes(void **state)
{
	char **v = NULL;
	const char *v4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
			 "eno1\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
			 "bond0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
			 "eth9\t00000000\t0102A8C0\t0002\t0\t0\t100\t00000000\t0\t0\t0\n"
			 "bond0\t00000000\t0202A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n";
	const char *v6 =
		"fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eno1\n"
		"00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00450003   ens1f0\n"
		"00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
		"00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200201     eth3\n";

	(void)state;
	assert_int_equal(route_default_ifaces_v4(v4, &v), 0);
	assert_int_equal(strv_length(v), 1);
	assert_string_equal(v[0], "bond0");   /* once, though two routes; not the down one */
	strv_free(v);
	assert_int_equal(route_default_ifaces_v6(v6, &v), 0);
	assert_int_equal(strv_length(v), 1);
	assert_string_equal(v[0], "ens1f0");  /* not lo, not an unreachable route */
	strv_free(v);
	assert_int_equal(route_default_ifaces_v4("", &v), 0);
	assert_null(v[0]);
	strv_free(v);
}

static void test_mounts_source(void **state)
{
	char src[256];
	const char *m = "/dev/sda1 / ext4 rw 0 0\n"
			"/dev/sda2 /boot ext4 rw 0 0\n"
			"/dev/sdb1 /boot\\040efi vfat rw 0 0\n"
			"/dev/nvme0n1p1 /boot/efi vfat rw 0 0\n"
			"overlay / overlay rw 0 0\n";

	(void)state;
	assert_int_equal(mounts_source(m, "/boot", src, sizeof(src)), 0);
	assert_string_equal(src, "/dev/sda2");
	assert_int_equal(mounts_source(m, "/boot efi", src, sizeof(src)), 0);
	assert_string_equal(src, "/dev/sdb1");
	assert_int_equal(mounts_source(m, "/boot/efi", src, sizeof(src)), 0);
	assert_string_equal(src, "/dev/nvme0n1p1");
	/* The last mount on a point is the visible one. */
	assert_int_equal(mounts_source(m, "/", src, sizeof(src)), 0);
	assert_string_equal(src, "overlay");
	assert_int_equal(mounts_source(m, "/srv", src, sizeof(src)), -ENOENT);
}

static void test_mounts_find_mountinfo(void **state)
{
	struct mount_entry m;
	const char *info =
		"21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
		"22 21 259:2 / /boot\\040efi rw shared:2 master:3 - vfat /dev/nvme0n1p2 rw\n"
		"23 21 0:45 / /srv rw - zfs tank/srv rw,xattr\n"
		"24 21 0:46 / /srv/a\\040b rw - tmpfs tmpfs rw\n"
		"garbage line\n";

	(void)state;
	assert_int_equal(mounts_find(info, true, "/", false, &m), 0);
	assert_string_equal(m.source, "/dev/root");
	assert_true(m.devno && m.major == 8 && m.minor == 1);
	assert_string_equal(m.fstype, "ext4");
	/* Optional fields before the separator; escaped blanks. */
	assert_int_equal(mounts_find(info, true, "/boot efi", false, &m), 0);
	assert_string_equal(m.source, "/dev/nvme0n1p2");
	assert_true(m.major == 259 && m.minor == 2);
	/* The mount holding a file: the longest mount point that prefixes it. */
	assert_int_equal(mounts_find(info, true, "/srv/swapfile", true, &m), 0);
	assert_string_equal(m.source, "tank/srv");
	assert_int_equal(mounts_find(info, true, "/srv/a b/swap", true, &m), 0);
	assert_string_equal(m.fstype, "tmpfs");
	assert_int_equal(mounts_find(info, true, "/srvx/f", true, &m), 0);
	assert_string_equal(m.point, "/");
	assert_int_equal(mounts_find(info, true, "/home", false, &m), -ENOENT);
	/* /proc/mounts has no device numbers. */
	assert_int_equal(mounts_find("/dev/sda1 / ext4 rw 0 0\n", false, "/", false, &m), 0);
	assert_false(m.devno);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selector_forms),
		cmocka_unit_test(test_selector_malformed),
		cmocka_unit_test(test_addr_order),
		cmocka_unit_test(test_names_from_pci_ids),
		cmocka_unit_test(test_addr_in_path),
		cmocka_unit_test(test_default_routes),
		cmocka_unit_test(test_mounts_source),
		cmocka_unit_test(test_mounts_find_mountinfo),
	};

	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
