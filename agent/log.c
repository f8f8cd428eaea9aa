#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int log_threshold = LOG_WARN;

/* stderr is connected to the journal (systemd sets JOURNAL_STREAM to its
 * device:inode): then each line starts with a syslog priority, <3> for
 * errors, so that journalctl -p err finds them. */
static bool stderr_is_journal(void)
{
	static int cached = -1;
	const char *e;
	unsigned long long dev, ino;
	struct stat st;

	if (cached < 0) {
		e = getenv("JOURNAL_STREAM");
		cached = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
			 (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	}
	return cached;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	static const int priority[] = { 3, 4, 6, 7 };
	char msg[4096];
	va_list ap;

	if ((int)level > log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One write per line: stdout may share the journal stream. */
	if (stderr_is_journal())
		fprintf(stderr, "<%d>hostprep: %s%s\n", priority[level], prefix[level], msg);
	else
		fprintf(stderr, "hostprep: %s%s\n", prefix[level], msg);
}
