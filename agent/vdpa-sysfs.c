#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdpa-sysfs.h"

#define DEV_DIR VDPA_BUS_DIR "/devices/%s"

int vdpa_sysfs_devices(const struct hostroot *hr, char ***ret)
{
	int r = hr_list(hr, ret, VDPA_BUS_DIR "/devices");

	if (r == -ENOENT) {
		*ret = calloc(1, sizeof(char *));
		return *ret ? 0 : -ENOMEM;
	}
	return r;
}

bool vdpa_sysfs_exists(const struct hostroot *hr, const char *name)
{
	return path_component_valid(name) && hr_is_dir(hr, DEV_DIR, name);
}

int vdpa_sysfs_driver(const struct hostroot *hr, const char *name, char *buf, size_t len)
{
	int r;

	if (!path_component_valid(name))
		return -EINVAL;
	r = hr_readlink(hr, buf, len, true, DEV_DIR "/driver", name);
	if (r == -ENOENT && vdpa_sysfs_exists(hr, name)) {
		buf[0] = '\0';
		return 0;
	}
	return r;
}

/* Resolve a relative link target against the directory holding the link, lexically. */
static int resolve_link(const char *dir, const char *target, char *buf, size_t len)
{
	char tmp[4096];
	char *save = NULL;
	size_t off = 0;
	int n = snprintf(tmp, sizeof(tmp), "%s/%s", dir, target);

	if (n < 0 || (size_t)n >= sizeof(tmp) || target[0] == '/')
		return -EINVAL;
	buf[0] = '\0';
	for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			char *slash = strrchr(buf, '/');
			if (!slash)
				return -EINVAL;
			*slash = '\0';
			off = (size_t)(slash - buf);
			continue;
		}
		n = snprintf(buf + off, len - off, "/%s", c);
		if (n < 0 || (size_t)n >= len - off)
			return -ENAMETOOLONG;
		off += (size_t)n;
	}
	return off ? 0 : -EINVAL;
}

int vdpa_sysfs_mgmtdev(const struct hostroot *hr, const char *name, char *buf, size_t len)
{
	char target[4096], dev[4096], bus[64];
	char *slash;
	int r;

	if (!path_component_valid(name))
		return -EINVAL;
	r = hr_readlink(hr, target, sizeof(target), false, DEV_DIR, name);
	if (r < 0)
		return r;
	r = resolve_link(VDPA_BUS_DIR "/devices", target, dev, sizeof(dev));
	if (r < 0)
		return r;
	slash = strrchr(dev, '/');
	if (!slash || slash == dev)
		return -EINVAL;
	*slash = '\0';     /* the parent: the management device */
	slash = strrchr(dev, '/');
	if (hr_readlink(hr, bus, sizeof(bus), true, "%s/subsystem", dev) == 0)
		snprintf(buf, len, "%s/%s", bus, slash + 1);
	else
		snprintf(buf, len, "%s", slash + 1);
	return 0;
}

static int find_child(const struct hostroot *hr, const char *name, const char *prefix, char *buf, size_t len)
{
	_cleanup_strv_free_ char **children = NULL;
	int r;

	if (!path_component_valid(name))
		return -EINVAL;
	r = hr_list(hr, &children, DEV_DIR, name);
	if (r < 0)
		return r;
	for (char **c = children; *c; c++)
		if (strncmp(*c, prefix, strlen(prefix)) == 0) {
			snprintf(buf, len, "%s", *c);
			return 0;
		}
	return -ENOENT;
}

int vdpa_sysfs_vhost_dev(const struct hostroot *hr, const char *name, char *buf, size_t len)
{
	char child[256];
	int r = find_child(hr, name, "vhost-vdpa-", child, sizeof(child));

	if (r < 0)
		return r;
	snprintf(buf, len, "/dev/%s", child);
	return 0;
}

int vdpa_sysfs_netdev(const struct hostroot *hr, const char *name, char *buf, size_t len)
{
	_cleanup_strv_free_ char **ifs = NULL;
	char virtio[256];
	int r = find_child(hr, name, "virtio", virtio, sizeof(virtio));

	if (r < 0)
		return r;
	r = hr_list(hr, &ifs, DEV_DIR "/%s/net", name, virtio);
	if (r < 0)
		return r;
	if (!ifs[0])
		return -ENOENT;
	snprintf(buf, len, "%s", ifs[0]);
	return 0;
}

int vdpa_sysfs_in_use(const struct hostroot *hr, const char *name, char *why, size_t len)
{
	char node[300], ifname[64], comm[64], flags[32];
	long pid;

	if (vdpa_sysfs_vhost_dev(hr, name, node, sizeof(node)) == 0) {
		pid = hr_node_holder(hr, node, comm, sizeof(comm));
		if (pid < 0) {
			/* Not "nobody": the callers keep the device as they would an open one. */
			snprintf(why, len, "whether %s is open cannot be told: %s", node, strerror((int)-pid));
			return 1;
		}
		if (pid > 0) {
			snprintf(why, len, "%s is open by pid %ld (%s)", node, pid, comm);
			return 1;
		}
	}
	/* IFF_UP is bit 0 of the interface flags ("0x1003"). */
	if (vdpa_sysfs_netdev(hr, name, ifname, sizeof(ifname)) == 0 &&
	    hr_read_line(hr, flags, sizeof(flags), "/sys/class/net/%s/flags", ifname) == 0 &&
	    (strtoul(flags, NULL, 16) & 1)) {
		snprintf(why, len, "its interface %s is up", ifname);
		return 1;
	}
	return 0;
}

int vdpa_sysfs_bind(struct hostroot *hr, const char *name, const char *driver, char *step, size_t len)
{
	char cur[256];
	int r;

	if (!path_component_valid(name) || !path_component_valid(driver))
		return -EINVAL;
	snprintf(step, len, "writing driver_override");
	r = hr_write_attr(hr, driver, NULL, 0, DEV_DIR "/driver_override", name);
	if (r < 0)
		return r;
	r = vdpa_sysfs_driver(hr, name, cur, sizeof(cur));
	if (r < 0)
		return r;
	if (strcmp(cur, driver) == 0)
		return 0;
	if (cur[0]) {
		snprintf(step, len, "unbinding from %s", cur);
		r = hr_write_attr(hr, name, NULL, 0, VDPA_BUS_DIR "/drivers/%s/unbind", cur);
		if (r < 0)
			return r;
	}
	snprintf(step, len, "binding to %s", driver);
	return hr_write_attr(hr, name, NULL, 0, VDPA_BUS_DIR "/drivers/%s/bind", driver);
}
