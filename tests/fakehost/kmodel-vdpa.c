/* The vdpa bus's bind and unbind, as the kernel does them: unbind removes the
 * driver link and what the driver made (vhost-vdpa-N and its /dev node, or
 * virtioN with its interface); bind honours driver_override, refuses a bound
 * device with EBUSY and an unknown one with ENODEV, then makes them again.
 * driver_override itself is a plain attribute. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmodel.h"

/* ROOT/sys/.../NAME for the device called value, or -ENODEV. */
static int device_dir(const char *value, size_t len, char *dev, size_t dev_len, char *name, size_t name_len)
{
	char link[PATH_MAX];

	snprintf(name, name_len, "%.*s", (int)strcspn(value, "\n") < (int)len ? (int)strcspn(value, "\n") : (int)len,
		 value);
	if (!name[0] || strchr(name, '/') || kmodel_path(link, sizeof(link), "/sys/bus/vdpa/devices/%s", name) < 0 ||
	    !realpath(link, dev))
		return -ENODEV;
	(void)dev_len;
	return 0;
}

/* "drivers/NAME/bind" → NAME */
static void driver_of(const char *path, char *buf, size_t len)
{
	const char *end = strrchr(path, '/'), *start = end;

	while (start > path && start[-1] != '/')
		start--;
	snprintf(buf, len, "%.*s", (int)(end - start), start);
}

static void remove_children(const char *dev)
{
	char pat[PATH_MAX + 64], node[PATH_MAX];
	glob_t g;

	snprintf(pat, sizeof(pat), "%s/vhost-vdpa-*", dev);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			if (kmodel_path(node, sizeof(node), "/dev/%s", strrchr(g.gl_pathv[i], '/') + 1) == 0)
				unlink(node);
			kmodel_rm_tree(g.gl_pathv[i]);
		}
		globfree(&g);
	}
	snprintf(pat, sizeof(pat), "%s/virtio*", dev);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			kmodel_rm_tree(g.gl_pathv[i]);
		globfree(&g);
	}
}

static ssize_t unbind(int fd, const char *path, const char *value, size_t len)
{
	char dev[PATH_MAX], name[256], drv[64], link[PATH_MAX + 8], cur[PATH_MAX];
	ssize_t n;

	(void)fd;
	driver_of(path, drv, sizeof(drv));
	if (device_dir(value, len, dev, sizeof(dev), name, sizeof(name)) < 0)
		return -ENODEV;
	snprintf(link, sizeof(link), "%s/driver", dev);
	n = readlink(link, cur, sizeof(cur) - 1);
	if (n < 0)
		return -ENODEV;
	cur[n] = '\0';
	if (strcmp(strrchr(cur, '/') + 1, drv) != 0)
		return -ENODEV;
	unlink(link);
	remove_children(dev);
	return (ssize_t)len;
}

static int first_free_vhost(void)
{
	char p[PATH_MAX];
	struct stat st;

	for (int n = 0; n < 1024; n++)
		if (kmodel_path(p, sizeof(p), "/dev/vhost-vdpa-%d", n) == 0 && stat(p, &st) < 0)
			return n;
	return -1;
}

static ssize_t bind(int fd, const char *path, const char *value, size_t len)
{
	char dev[PATH_MAX], name[256], drv[64], p[PATH_MAX + 64], override[64] = "", target[PATH_MAX];
	FILE *f;
	int depth = 0, n;

	(void)fd;
	driver_of(path, drv, sizeof(drv));
	if (device_dir(value, len, dev, sizeof(dev), name, sizeof(name)) < 0)
		return -ENODEV;
	snprintf(p, sizeof(p), "%s/driver", dev);
	if (access(p, F_OK) == 0)
		return -EBUSY;
	snprintf(p, sizeof(p), "%s/driver_override", dev);
	if ((f = fopen(p, "re"))) {
		if (!fgets(override, sizeof(override), f))
			override[0] = '\0';
		fclose(f);
	}
	override[strcspn(override, "\n")] = '\0';
	if (override[0] && strcmp(override, "(null)") != 0 && strcmp(override, drv) != 0)
		return -ENODEV;
	/* ../ once per component of DEV below ROOT/sys */
	for (const char *c = dev + strlen(kmodel_root) + strlen("/sys"); *c; c++)
		depth += *c == '/';
	target[0] = '\0';
	for (int i = 0; i < depth - 1; i++)
		strcat(target, "../");
	snprintf(target + strlen(target), sizeof(target) - strlen(target), "bus/vdpa/drivers/%s", drv);
	snprintf(p, sizeof(p), "%s/driver", dev);
	if (symlink(target, p) < 0)
		return -errno;
	if (strcmp(drv, "vhost_vdpa") == 0 && (n = first_free_vhost()) >= 0) {
		snprintf(p, sizeof(p), "%s/vhost-vdpa-%d", dev, n);
		mkdir(p, 0755);
		if (kmodel_path(p, sizeof(p), "/dev/vhost-vdpa-%d", n) == 0 && (f = fopen(p, "we")))
			fclose(f);
	} else if (strcmp(drv, "virtio_vdpa") == 0) {
		snprintf(p, sizeof(p), "%s/virtio9", dev);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/virtio9/net", dev);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/virtio9/net/eth9", dev);
		mkdir(p, 0755);
	}
	return (ssize_t)len;
}

const struct kmodel_rule kmodel_vdpa_rules[] = {
	{ "/sys/bus/vdpa/drivers/*/unbind", unbind },
	{ "/sys/bus/vdpa/drivers/*/bind", bind },
	{ NULL, NULL },
};
