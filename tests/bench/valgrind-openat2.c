/* For the benchmark's instruction counts only: valgrind 3.19 (Debian 12)
 * does not know openat2(2) and answers ENOSYS, and hostprep refuses a root
 * it cannot keep paths inside.  Preloaded under callgrind, this turns
 * hostprep's openat2 calls into openat calls relative to the same
 * descriptor (no RESOLVE_IN_ROOT: the generated trees' links are relative,
 * so they resolve the same).  It confines nothing: never use it elsewhere. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

long syscall(long number, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_openat2) {
		const struct open_how *how = (const struct open_how *)a[2];

		return openat((int)a[0], (const char *)a[1], (int)how->flags, (mode_t)how->mode);
	}
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
