/* The boot-time side of apply: the reboot policy (--reboot=first-boot), the
 * readiness marker /run/hostprep/ready, and the reboot request, which is made
 * only once the report is out. */
#ifndef HOSTPREP_BOOT_H
#define HOSTPREP_BOOT_H

#include <stdbool.h>

struct ctx;
struct hostroot;

#define BOOT_READY "/run/hostprep/ready"

/* systemctl under the root, or NULL. */
const char *boot_reboot_tool(const struct hostroot *hr);
/* --reboot=if-needed, or --reboot=first-boot during this host's first
 * boot-time run (no /var/lib/hostprep/first-boot from an earlier boot). */
bool boot_reboot_allowed(struct ctx *ctx);
/* apply, before its first change: the marker goes, the host is in flux. */
void boot_before_changes(struct ctx *ctx);
/* apply, once its report is printed: flushes it, records the first boot,
 * writes the marker when the run succeeded with nothing left for a reboot
 * (removes it otherwise), then asks for the reboot the run decided on
 * without waiting for it (systemctl reboot --no-block).  Returns code, with 4
 * added when the reboot could not be asked for. */
int boot_after_report(struct ctx *ctx, int code);

#endif
