/* Hugepage pools: a node grants at most ROOT/.kmodel/hugepages/nodeN-SIZEkB.max
 * pages (unlimited without that file), as a fragmented node does; the global
 * pool spreads over the nodes; free and global counts follow. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmodel.h"

static long node_limit(int node, long kb)
{
	char p[4096];
	long max;

	if (kmodel_path(p, sizeof(p), "/.kmodel/hugepages/node%d-%ldkB.max", node, kb) < 0 ||
	    kmodel_read_long(p, &max) < 0)
		return -1;
	return max;
}

static void set_node(int node, long kb, long pages)
{
	char p[4096], v[32];
	long max = node_limit(node, kb);

	if (max >= 0 && pages > max)
		pages = max;
	snprintf(v, sizeof(v), "%ld\n", pages);
	kmodel_path(p, sizeof(p), "/sys/devices/system/node/node%d/hugepages/hugepages-%ldkB/nr_hugepages", node, kb);
	kmodel_write_str(p, v);
	kmodel_path(p, sizeof(p), "/sys/devices/system/node/node%d/hugepages/hugepages-%ldkB/free_hugepages", node, kb);
	kmodel_write_str(p, v);
}

static int node_count(void)
{
	char p[4096];
	glob_t g;
	int n;

	kmodel_path(p, sizeof(p), "/sys/devices/system/node/node[0-9]*");
	if (glob(p, 0, NULL, &g) != 0)
		return 0;
	n = (int)g.gl_pathc;
	globfree(&g);
	return n;
}

static void update_global(long kb)
{
	char p[4096], v[32];
	long sum = 0, x;

	for (int n = 0; n < node_count(); n++) {
		kmodel_path(p, sizeof(p), "/sys/devices/system/node/node%d/hugepages/hugepages-%ldkB/nr_hugepages", n, kb);
		if (kmodel_read_long(p, &x) == 0)
			sum += x;
	}
	snprintf(v, sizeof(v), "%ld\n", sum);
	kmodel_path(p, sizeof(p), "/sys/kernel/mm/hugepages/hugepages-%ldkB/nr_hugepages", kb);
	kmodel_write_str(p, v);
	kmodel_path(p, sizeof(p), "/sys/kernel/mm/hugepages/hugepages-%ldkB/free_hugepages", kb);
	kmodel_write_str(p, v);
}

static ssize_t node_pool(int fd, const char *path, const char *value, size_t len)
{
	int node;
	long kb, pages;
	char *end;

	(void)fd;
	if (sscanf(strstr(path, "/node/node"), "/node/node%d/hugepages/hugepages-%ldkB", &node, &kb) != 2)
		return -EINVAL;
	pages = strtol(value, &end, 10);
	if (end == value || pages < 0)
		return -EINVAL;
	set_node(node, kb, pages);
	update_global(kb);
	return (ssize_t)len;
}

static ssize_t global_pool(int fd, const char *path, const char *value, size_t len)
{
	long kb, pages;
	char *end;
	int nodes = node_count();

	(void)fd;
	if (sscanf(strstr(path, "/hugepages/hugepages-"), "/hugepages/hugepages-%ldkB", &kb) != 1)
		return -EINVAL;
	pages = strtol(value, &end, 10);
	if (end == value || pages < 0)
		return -EINVAL;
	if (nodes == 0) {
		char v[32];
		snprintf(v, sizeof(v), "%ld\n", pages);
		kmodel_write_fd(fd, v);
		return (ssize_t)len;
	}
	for (int n = 0; n < nodes; n++)
		set_node(n, kb, pages / nodes + (n < pages % nodes));
	update_global(kb);
	return (ssize_t)len;
}

const struct kmodel_rule kmodel_hugepage_rules[] = {
	{ "/sys/devices/system/node/node*/hugepages/hugepages-*kB/nr_hugepages", node_pool },
	{ "/sys/kernel/mm/hugepages/hugepages-*kB/nr_hugepages", global_pool },
	{ NULL, NULL },
};
