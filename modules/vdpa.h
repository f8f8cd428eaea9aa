/* [vdpa NAME]: vDPA net devices.  Shared by the module (vdpa.c: plan, report),
 * its profile side (vdpa-profile.c) and its apply side (vdpa-apply.c). */
#ifndef HOSTPREP_MODULE_VDPA_H
#define HOSTPREP_MODULE_VDPA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "pci.h"
#include "vdpa-nl.h"

struct vdpa_want {
	char *name;
	char bus[VDPA_BUS_MAX], mgmt[VDPA_NAME_MAX];
	char handle[VDPA_HANDLE_MAX];
	bool has_mac, has_mtu, has_max_vqp;
	uint8_t mac[6];
	uint16_t mtu, max_vqp;
	const char *driver;
	bool recreate;
	const struct setting *mgmt_setting;
	bool by_id;                      /* mgmtdev = vendor:device, resolved in validate */
	struct pci_selector id;
	bool no_match;                   /* by_id and no device has that id */
};

struct vdpa_config {
	struct vdpa_want *want;
	size_t n;
	bool headers_checked;
	bool too_many;             /* more than VDPA_MAX_DEVICES sections: parsing stops */
};

enum job_kind { JOB_CREATE, JOB_RECREATE, JOB_REBIND, JOB_DELETE };

struct vdpa_job {
	enum job_kind kind;
	const struct vdpa_want *want;    /* NULL for JOB_DELETE */
	char name[VDPA_NAME_MAX];
	char handle[VDPA_HANDLE_MAX];    /* JOB_DELETE: the recorded management device */
};

/* vdpa-profile.c */
int vdpa_parse(struct ctx *ctx, void *config, const struct setting *s);
int vdpa_validate(struct ctx *ctx, void *config);
void vdpa_free_config(void *config);

/* vdpa.c */
/* "mgmtdev=... mac=... driver=..." with the keys the profile sets; cfg NULL
 * describes the profile's values. */
void vdpa_describe(const struct vdpa_want *w, const char *handle, const struct vdpa_net_config *cfg,
		   const char *driver, char *buf, size_t len);
bool vdpa_config_matches(const struct vdpa_want *w, const struct vdpa_net_config *cfg);
/* Records (add) or forgets a device hostprep created. */
int vdpa_record(struct ctx *ctx, const char *name, const char *handle, bool add);

/* vdpa-apply.c: what plan and apply both ask of the host */
bool vdpa_driver_registered(struct ctx *ctx, const char *driver);
const struct vdpa_mgmtdev *vdpa_find_mgmtdev(const struct vdpa_mgmtdev *m, size_t n, const char *bus,
					     const char *name);
void vdpa_mgmtdev_problem(const struct vdpa_want *w, const struct vdpa_mgmtdev *m, size_t n, char *buf,
			  size_t len);
/* "bound to DRIVER, /dev/vhost-vdpa-N" or "bound to DRIVER, interface IF". */
void vdpa_bound_message(struct ctx *ctx, const char *name, char *buf, size_t len);
/* The apply functions: of a "module NAME" action (a->data: the name), and of
 * JOB_REBIND, JOB_CREATE and JOB_RECREATE, JOB_DELETE actions (a->data: a vdpa_job). */
int vdpa_apply_module(struct ctx *ctx, struct action *a);
int vdpa_apply_rebind(struct ctx *ctx, struct action *a);
int vdpa_apply_create(struct ctx *ctx, struct action *a);
int vdpa_apply_delete(struct ctx *ctx, struct action *a);

#endif
