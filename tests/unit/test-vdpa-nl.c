/* The vDPA genl client without a kernel: requests built and parsed back with
 * the policy, replies built the way drivers/vdpa/vdpa.c builds them, malformed
 * replies refused, extended acks and error messages, handle and MAC syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netlink/genl/genl.h>
#include <string.h>

#include "vdpa-nl.h"

#define FAMILY 0x1d

/* The numbering must be the kernel's (6.12): a wrong number is a wrong attribute. */
static void test_uapi_numbering_is_the_kernels(void **state)
{
	(void)state;
	assert_int_equal(VDPA_CMD_MGMTDEV_GET, 2);
	assert_int_equal(VDPA_CMD_DEV_NEW, 3);
	assert_int_equal(VDPA_CMD_DEV_DEL, 4);
	assert_int_equal(VDPA_CMD_DEV_GET, 5);
	assert_int_equal(VDPA_CMD_DEV_CONFIG_GET, 6);
	assert_int_equal(VDPA_CMD_DEV_ATTR_SET, 8);
	assert_int_equal(VDPA_ATTR_MGMTDEV_BUS_NAME, 1);
	assert_int_equal(VDPA_ATTR_MGMTDEV_DEV_NAME, 2);
	assert_int_equal(VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES, 3);
	assert_int_equal(VDPA_ATTR_DEV_NAME, 4);
	assert_int_equal(VDPA_ATTR_DEV_NET_CFG_MACADDR, 10);
	assert_int_equal(VDPA_ATTR_DEV_NET_CFG_MAX_VQP, 12);
	assert_int_equal(VDPA_ATTR_DEV_NET_CFG_MTU, 13);
	assert_int_equal(VDPA_ATTR_DEV_MGMTDEV_MAX_VQS, 15);
	assert_int_equal(VDPA_ATTR_DEV_SUPPORTED_FEATURES, 16);
	assert_int_equal(VDPA_ATTR_DEV_FEATURES, 20);
	assert_int_equal(VDPA_ATTR_DEV_BLK_FLUSH, 36);
	assert_int_equal(VDPA_ATTR_MAX, 37);
}

static void test_dev_new_request_parses_back(void **state)
{
	struct vdpa_dev_request req = {
		.name = "vdpa0", .mgmt_bus = "pci", .mgmt_name = "0000:03:00.2",
		.has_mac = true, .mac = { 0x02, 0, 0, 0, 0, 0x10 }, .has_mtu = true, .mtu = 9000,
		.has_max_vqp = true, .max_vqp = 4,
	};
	struct nl_msg *msg = vdpa_msg_new(FAMILY, VDPA_CMD_DEV_NEW, 0);
	struct nlattr *tb[VDPA_ATTR_MAX + 1];
	struct genlmsghdr *g;

	(void)state;
	assert_non_null(msg);
	assert_int_equal(vdpa_msg_put_request(msg, &req), 0);
	assert_int_equal(nlmsg_hdr(msg)->nlmsg_type, FAMILY);
	g = genlmsg_hdr(nlmsg_hdr(msg));
	assert_int_equal(g->cmd, VDPA_CMD_DEV_NEW);
	assert_int_equal(g->version, VDPA_GENL_VERSION);
	assert_int_equal(genlmsg_parse(nlmsg_hdr(msg), 0, tb, VDPA_ATTR_MAX, vdpa_nl_policy), 0);
	assert_string_equal(nla_get_string(tb[VDPA_ATTR_MGMTDEV_BUS_NAME]), "pci");
	assert_string_equal(nla_get_string(tb[VDPA_ATTR_MGMTDEV_DEV_NAME]), "0000:03:00.2");
	assert_string_equal(nla_get_string(tb[VDPA_ATTR_DEV_NAME]), "vdpa0");
	assert_int_equal(nla_len(tb[VDPA_ATTR_DEV_NET_CFG_MACADDR]), 6);
	assert_memory_equal(nla_data(tb[VDPA_ATTR_DEV_NET_CFG_MACADDR]), req.mac, 6);
	assert_int_equal(nla_get_u16(tb[VDPA_ATTR_DEV_NET_CFG_MTU]), 9000);
	assert_int_equal(nla_get_u16(tb[VDPA_ATTR_DEV_NET_CFG_MAX_VQP]), 4);
	assert_null(tb[VDPA_ATTR_DEV_FEATURES]);
	nlmsg_free(msg);
}

static void test_bus_less_request_has_only_what_was_asked(void **state)
{
	struct vdpa_dev_request req = { .name = "vdpa0", .mgmt_bus = "", .mgmt_name = "vdpasim_net" };
	struct nl_msg *msg = vdpa_msg_new(FAMILY, VDPA_CMD_DEV_NEW, 0);
	struct nlattr *tb[VDPA_ATTR_MAX + 1];

	(void)state;
	assert_int_equal(vdpa_msg_put_request(msg, &req), 0);
	assert_int_equal(genlmsg_parse(nlmsg_hdr(msg), 0, tb, VDPA_ATTR_MAX, vdpa_nl_policy), 0);
	assert_null(tb[VDPA_ATTR_MGMTDEV_BUS_NAME]);
	assert_string_equal(nla_get_string(tb[VDPA_ATTR_MGMTDEV_DEV_NAME]), "vdpasim_net");
	assert_null(tb[VDPA_ATTR_DEV_NET_CFG_MACADDR]);
	assert_null(tb[VDPA_ATTR_DEV_NET_CFG_MTU]);
	assert_null(tb[VDPA_ATTR_DEV_NET_CFG_MAX_VQP]);
	nlmsg_free(msg);
	req.mgmt_name = NULL;
	msg = vdpa_msg_new(FAMILY, VDPA_CMD_DEV_NEW, 0);
	assert_int_equal(vdpa_msg_put_request(msg, &req), -EINVAL);
	nlmsg_free(msg);
}

/* A reply as the kernel writes it, u64s preceded by a pad attribute (type 0). */
static struct nl_msg *reply(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(genlmsg_put(msg, 0, 1, FAMILY, 0, NLM_F_MULTI, cmd, VDPA_GENL_VERSION));
	return msg;
}

static void put_pad(struct nl_msg *msg)
{
	assert_int_equal(nla_put(msg, VDPA_ATTR_PAD, 0, NULL), 0);
}

static void test_mgmtdev_reply(void **state)
{
	struct nl_msg *msg = reply(VDPA_CMD_MGMTDEV_NEW);
	struct vdpa_mgmtdev m;

	(void)state;
	nla_put_string(msg, VDPA_ATTR_MGMTDEV_BUS_NAME, "pci");
	nla_put_string(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, "0000:03:00.2");
	put_pad(msg);
	nla_put_u64(msg, VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES, 1ULL << VDPA_VIRTIO_ID_NET);
	nla_put_u32(msg, VDPA_ATTR_DEV_MGMTDEV_MAX_VQS, 16);
	put_pad(msg);
	nla_put_u64(msg, VDPA_ATTR_DEV_SUPPORTED_FEATURES, 0x10000000020ULL);
	assert_int_equal(vdpa_parse_mgmtdev(msg, &m), 0);
	assert_string_equal(m.bus, "pci");
	assert_string_equal(m.name, "0000:03:00.2");
	assert_true(m.classes == 2);
	assert_int_equal(m.max_vqs, 16);
	assert_true(m.features == 0x10000000020ULL);
	nlmsg_free(msg);

	msg = reply(VDPA_CMD_MGMTDEV_NEW);
	nla_put_string(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, "vdpasim_net");
	assert_int_equal(vdpa_parse_mgmtdev(msg, &m), 0);
	assert_string_equal(m.bus, "");
	assert_int_equal(m.max_vqs, 0);
	nlmsg_free(msg);
}

static void test_dev_and_config_replies(void **state)
{
	struct nl_msg *msg = reply(VDPA_CMD_DEV_NEW);
	const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x10 };
	struct vdpa_net_config c;
	struct vdpa_dev d;

	(void)state;
	nla_put_string(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, "vdpasim_net");
	nla_put_string(msg, VDPA_ATTR_DEV_NAME, "vdpa0");
	nla_put_u32(msg, VDPA_ATTR_DEV_ID, VDPA_VIRTIO_ID_NET);
	nla_put_u32(msg, VDPA_ATTR_DEV_VENDOR_ID, 0);
	nla_put_u32(msg, VDPA_ATTR_DEV_MAX_VQS, 3);
	nla_put_u16(msg, VDPA_ATTR_DEV_MAX_VQ_SIZE, 256);
	nla_put_u16(msg, VDPA_ATTR_DEV_MIN_VQ_SIZE, 1);
	assert_int_equal(vdpa_parse_dev(msg, &d), 0);
	assert_string_equal(d.name, "vdpa0");
	assert_string_equal(d.mgmt_bus, "");
	assert_string_equal(d.mgmt_name, "vdpasim_net");
	assert_int_equal(d.device_id, 1);
	assert_int_equal(d.max_vqs, 3);
	assert_int_equal(d.max_vq_size, 256);
	nlmsg_free(msg);

	/* vdpa_sim_net: F_MAC and F_MTU, no F_MQ: no max_vqp in the reply */
	msg = reply(VDPA_CMD_DEV_CONFIG_GET);
	nla_put_string(msg, VDPA_ATTR_DEV_NAME, "vdpa0");
	nla_put_u32(msg, VDPA_ATTR_DEV_ID, VDPA_VIRTIO_ID_NET);
	put_pad(msg);
	nla_put_u64(msg, VDPA_ATTR_DEV_FEATURES, (1ULL << VDPA_VIRTIO_NET_F_MAC) | (1ULL << VDPA_VIRTIO_NET_F_MTU));
	nla_put_u16(msg, VDPA_ATTR_DEV_NET_CFG_MTU, 9000);
	nla_put(msg, VDPA_ATTR_DEV_NET_CFG_MACADDR, 6, mac);
	nla_put_u16(msg, VDPA_ATTR_DEV_NET_STATUS, 1);
	assert_int_equal(vdpa_parse_config(msg, &c), 0);
	assert_true(c.has_mac && c.has_mtu && !c.has_max_vqp);
	assert_memory_equal(c.mac, mac, 6);
	assert_int_equal(c.mtu, 9000);
	assert_true(c.features == ((1ULL << 5) | (1ULL << 3)));
	nla_put_u16(msg, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, 4);
	assert_int_equal(vdpa_parse_config(msg, &c), 0);
	assert_true(c.has_max_vqp);
	assert_int_equal(c.max_vqp, 4);
	nlmsg_free(msg);
}

static void test_malformed_replies_are_refused(void **state)
{
	char long_name[VDPA_NAME_MAX + 10];
	struct vdpa_net_config c;
	struct vdpa_mgmtdev m;
	struct vdpa_dev d;
	struct nl_msg *msg;

	(void)state;
	/* a MAC of 5 bytes */
	msg = reply(VDPA_CMD_DEV_CONFIG_GET);
	nla_put_string(msg, VDPA_ATTR_DEV_NAME, "vdpa0");
	nla_put(msg, VDPA_ATTR_DEV_NET_CFG_MACADDR, 5, "\x02\0\0\0\0");
	assert_int_equal(vdpa_parse_config(msg, &c), -EBADMSG);
	nlmsg_free(msg);
	/* an MTU of one byte */
	msg = reply(VDPA_CMD_DEV_CONFIG_GET);
	nla_put_string(msg, VDPA_ATTR_DEV_NAME, "vdpa0");
	nla_put_u8(msg, VDPA_ATTR_DEV_NET_CFG_MTU, 1);
	assert_int_equal(vdpa_parse_config(msg, &c), -EBADMSG);
	nlmsg_free(msg);
	/* a name without its NUL */
	msg = reply(VDPA_CMD_DEV_NEW);
	nla_put(msg, VDPA_ATTR_DEV_NAME, 5, "vdpa0");
	nla_put_string(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, "vdpasim_net");
	assert_int_equal(vdpa_parse_dev(msg, &d), -EBADMSG);
	nlmsg_free(msg);
	/* a name longer than the buffers */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	msg = reply(VDPA_CMD_MGMTDEV_NEW);
	nla_put_string(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, long_name);
	assert_int_equal(vdpa_parse_mgmtdev(msg, &m), -EBADMSG);
	nlmsg_free(msg);
	/* required attributes missing */
	msg = reply(VDPA_CMD_DEV_NEW);
	nla_put_string(msg, VDPA_ATTR_DEV_NAME, "vdpa0");
	assert_int_equal(vdpa_parse_dev(msg, &d), -EBADMSG);
	assert_int_equal(vdpa_parse_mgmtdev(msg, &m), -EBADMSG);
	nlmsg_free(msg);
	msg = reply(VDPA_CMD_DEV_CONFIG_GET);
	assert_int_equal(vdpa_parse_config(msg, &c), -EBADMSG);
	nlmsg_free(msg);
}

/* An NLMSG_ERROR as netlink_ack() writes it, with or without the request echoed. */
static struct nl_msg *error_msg(int err, bool capped, const char *text)
{
	struct nl_msg *req = vdpa_msg_new(FAMILY, VDPA_CMD_DEV_NEW, 0);
	struct nl_msg *msg = nlmsg_alloc_simple(NLMSG_ERROR, NLM_F_ACK_TLVS | (capped ? NLM_F_CAPPED : 0));
	struct nlmsgerr e = { .error = err };
	size_t extra;

	nla_put_string(req, VDPA_ATTR_DEV_NAME, "vdpa0");
	e.msg = *nlmsg_hdr(req);
	extra = capped ? 0 : nlmsg_hdr(req)->nlmsg_len - sizeof(struct nlmsghdr);
	assert_int_equal(nlmsg_append(msg, &e, sizeof(e), 0), 0);
	if (extra)
		assert_int_equal(nlmsg_append(msg, (char *)nlmsg_hdr(req) + sizeof(struct nlmsghdr), extra, NLMSG_ALIGNTO), 0);
	if (text)
		assert_int_equal(nla_put_string(msg, NLMSGERR_ATTR_MSG, text), 0);
	nlmsg_free(req);
	return msg;
}

static void test_extended_ack(void **state)
{
	const char *text = "vdpa: Some provided attributes are not supported: 0x1000";
	struct nl_msg *msg;
	char buf[256];

	(void)state;
	msg = error_msg(-EOPNOTSUPP, true, text);
	vdpa_parse_extack(nlmsg_hdr(msg), buf, sizeof(buf));
	assert_string_equal(buf, text);
	nlmsg_free(msg);
	msg = error_msg(-EOPNOTSUPP, false, text);
	vdpa_parse_extack(nlmsg_hdr(msg), buf, sizeof(buf));
	assert_string_equal(buf, text);
	nlmsg_free(msg);
	msg = error_msg(-ENODEV, true, NULL);
	vdpa_parse_extack(nlmsg_hdr(msg), buf, sizeof(buf));
	assert_string_equal(buf, "");
	nlmsg_hdr(msg)->nlmsg_flags &= (uint16_t)~NLM_F_ACK_TLVS;
	vdpa_parse_extack(nlmsg_hdr(msg), buf, sizeof(buf));
	assert_string_equal(buf, "");
	nlmsg_free(msg);
}

static void test_unsupported_attribute_names(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(vdpa_unsupported_attrs("vdpa: Some provided attributes are not supported: 0x1000", buf,
						sizeof(buf)), 0);
	assert_string_equal(buf, "max_vqp");
	assert_int_equal(vdpa_unsupported_attrs("Some provided attributes are not supported: 0x102400", buf,
						sizeof(buf)), 0);
	assert_string_equal(buf, "mac, mtu, device features");
	assert_int_equal(vdpa_unsupported_attrs("not supported: 0x80", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "attribute 7");
	assert_int_equal(vdpa_unsupported_attrs("Fail to find the specified management device", buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(vdpa_unsupported_attrs("", buf, sizeof(buf)), -ENOENT);
}

static void test_error_messages(void **state)
{
	struct vdpa_dev_request req = { .name = "vdpa0", .mgmt_bus = "pci", .mgmt_name = "0000:03:00.2" };
	struct vdpa_dev_request sim = { .name = "vdpa0", .mgmt_name = "vdpasim_net" };
	char buf[256];

	(void)state;
	vdpa_nl_describe_error(VDPA_CMD_DEV_NEW, -EEXIST, "", &req, buf, sizeof(buf));
	assert_string_equal(buf, "a vDPA device named vdpa0 already exists");
	vdpa_nl_describe_error(VDPA_CMD_DEV_NEW, -ENODEV, "Fail to find the specified management device", &req, buf,
			       sizeof(buf));
	assert_string_equal(buf, "management device pci/0000:03:00.2 not found");
	vdpa_nl_describe_error(VDPA_CMD_DEV_DEL, -ENODEV, "device not found", &req, buf, sizeof(buf));
	assert_string_equal(buf, "no vDPA device named vdpa0");
	vdpa_nl_describe_error(VDPA_CMD_DEV_NEW, -EOPNOTSUPP,
			       "vdpa: Some provided attributes are not supported: 0x1000", &sim, buf, sizeof(buf));
	assert_string_equal(buf, "management device vdpasim_net does not accept max_vqp");
	vdpa_nl_describe_error(VDPA_CMD_DEV_NEW, -EOPNOTSUPP, "", &sim, buf, sizeof(buf));
	assert_string_equal(buf, "management device vdpasim_net refused the request: Operation not supported");
	vdpa_nl_describe_error(VDPA_CMD_DEV_NEW, -EPERM, "", &sim, buf, sizeof(buf));
	assert_string_equal(buf, "not permitted (CAP_NET_ADMIN is needed)");
	vdpa_nl_describe_error(VDPA_CMD_DEV_NEW, -EINVAL, "vdpa: At least one pair of VQs is required", &sim, buf,
			       sizeof(buf));
	assert_string_equal(buf, "Invalid argument: vdpa: At least one pair of VQs is required");
	vdpa_nl_describe_error(VDPA_CMD_DEV_NEW, -ENOMEM, NULL, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "Cannot allocate memory");
}

static void assert_handle(const char *in, const char *bus, const char *name)
{
	char b[VDPA_BUS_MAX], n[VDPA_NAME_MAX], h[VDPA_HANDLE_MAX];

	assert_int_equal(vdpa_handle_parse(in, b, n), 0);
	assert_string_equal(b, bus);
	assert_string_equal(n, name);
	vdpa_handle_format(b, n, h, sizeof(h));
	assert_int_equal(vdpa_handle_parse(h, b, n), 0);   /* the formatted form reads back */
	assert_string_equal(n, name);
}

static void test_handles(void **state)
{
	char b[VDPA_BUS_MAX], n[VDPA_NAME_MAX];
	const char *bad[] = { "", "pci/", "/x", "pci/0000:03:00", "pci/0000:03:20.0", "pci/0000:03:00.8",
			      "pci/000:03:00.2", "0000:03:00.2.1", "3:00.2", "a b", "-sim", ".sim", "PCI/x",
			      "bus/", "vdpa/a/b", "pci/0000:03:00.2 ", NULL };

	(void)state;
	assert_handle("pci/0000:03:00.2", "pci", "0000:03:00.2");
	assert_handle("pci/0000:3B:1F.7", "pci", "0000:3b:1f.7");
	assert_handle("0000:03:00.2", "pci", "0000:03:00.2");
	assert_handle("03:00.2", "pci", "0000:03:00.2");
	assert_handle("auxiliary/mlx5_core.sf.2", "auxiliary", "mlx5_core.sf.2");
	assert_handle("vdpasim_net", "", "vdpasim_net");
	assert_handle("vduse", "", "vduse");
	for (const char **s = bad; *s; s++)
		if (vdpa_handle_parse(*s, b, n) != -EINVAL)
			fail_msg("'%s' was accepted as a management device", *s);
}

static void test_mac(void **state)
{
	uint8_t mac[6];
	char buf[32];

	(void)state;
	assert_int_equal(mac_parse("02:AB:cd:00:00:10", mac), 0);
	mac_format(mac, buf, sizeof(buf));
	assert_string_equal(buf, "02:ab:cd:00:00:10");
	assert_int_equal(mac_parse("02:ab:cd:00:00", mac), -EINVAL);
	assert_int_equal(mac_parse("02:ab:cd:00:00:10:11", mac), -EINVAL);
	assert_int_equal(mac_parse("02-ab-cd-00-00-10", mac), -EINVAL);
	assert_int_equal(mac_parse("2:ab:cd:00:00:10", mac), -EINVAL);
	assert_int_equal(mac_parse("", mac), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uapi_numbering_is_the_kernels),
		cmocka_unit_test(test_dev_new_request_parses_back),
		cmocka_unit_test(test_bus_less_request_has_only_what_was_asked),
		cmocka_unit_test(test_mgmtdev_reply),
		cmocka_unit_test(test_dev_and_config_replies),
		cmocka_unit_test(test_malformed_replies_are_refused),
		cmocka_unit_test(test_extended_ack),
		cmocka_unit_test(test_unsupported_attribute_names),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_handles),
		cmocka_unit_test(test_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
