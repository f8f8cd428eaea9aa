/* Waiting for the devices a profile names before its selectors resolve: at
 * boot, udev's coldplug loads drivers (and renames interfaces) while hostprep
 * already runs. */
#ifndef HOSTPREP_DEVWAIT_H
#define HOSTPREP_DEVWAIT_H

struct ctx;

#define DEVWAIT_DEFAULT_MS 30000

/* Waits, at most timeout_ms in all, until every device the profile names is
 * there: an [sriov] PF present with its driver bound (the driver makes the
 * VFs), a [vfio] device present and done by udev, a [vdpa] PCI management
 * device with its driver, the interface of an interface-name selector.
 * Devices that may be VFs of a named PF are not waited for (this run makes
 * them).  One warning per device still missing names it, the profile line and
 * what is missing.  Under a root other than / nothing changes by itself:
 * nothing is waited for, and the modules report what is missing. */
void devwait_profile(struct ctx *ctx, int timeout_ms);

#endif
