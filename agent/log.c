#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int log_threshold = LOG_WARN;

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	va_list ap;

	if ((int)level > log_threshold)
		return;
	fprintf(stderr, "hostprep: %s", prefix[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
