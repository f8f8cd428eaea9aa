/* The status line for slow steps.  The step itself blocks (in a sysfs
 * write, a poll on a child), so a small thread draws the line once the step
 * has lasted DELAY_MS and refreshes its seconds; the step's end clears it. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define DELAY_MS 1000
#define DEPTH 4

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool enabled, started, shown;
	unsigned depth;
	char msg[DEPTH][192];
	struct timespec since[DEPTH];
} P = { .lock = PTHREAD_MUTEX_INITIALIZER };

static long long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static struct timespec plus_ms(const struct timespec *t, long long ms)
{
	struct timespec r = { .tv_sec = t->tv_sec + ms / 1000, .tv_nsec = t->tv_nsec + (ms % 1000) * 1000000 };

	if (r.tv_nsec >= 1000000000) {
		r.tv_sec++;
		r.tv_nsec -= 1000000000;
	}
	return r;
}

static void *draw(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&P.lock);
	for (;;) {
		struct timespec due;
		long long ms;
		unsigned top;

		if (P.depth == 0) {
			pthread_cond_wait(&P.wake, &P.lock);
			continue;
		}
		top = P.depth - 1;
		ms = ms_since(&P.since[top]);
		if (ms >= DELAY_MS) {
			fprintf(stderr, "\r\033[K%s (%lld s)", P.msg[top], ms / 1000);
			fflush(stderr);
			P.shown = true;
		}
		/* Next whole second of this step (or its first). */
		due = plus_ms(&P.since[top], ms < DELAY_MS ? DELAY_MS : (ms / 1000 + 1) * 1000);
		pthread_cond_timedwait(&P.wake, &P.lock, &due);
	}
	return NULL;
}

static bool start_thread(void)
{
	pthread_condattr_t attr;
	pthread_t t;

	if (pthread_condattr_init(&attr) != 0)
		return false;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&P.wake, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		return false;
	}
	pthread_condattr_destroy(&attr);
	if (pthread_create(&t, NULL, draw, NULL) != 0)
		return false;
	pthread_detach(t);
	return true;
}

bool progress_wanted(int fd)
{
	const char *term = getenv("TERM");

	return isatty(fd) && term && *term && strcmp(term, "dumb") != 0;
}

void progress_init(bool enabled)
{
	P.enabled = enabled;
}

int progress_begin(const char *fmt, ...)
{
	va_list ap;
	int token = 0;

	if (!P.enabled)
		return 0;
	pthread_mutex_lock(&P.lock);
	if (!P.started) {
		P.started = true;
		P.enabled = start_thread();
	}
	if (P.enabled && P.depth < DEPTH) {
		va_start(ap, fmt);
		vsnprintf(P.msg[P.depth], sizeof(P.msg[P.depth]), fmt, ap);
		va_end(ap);
		clock_gettime(CLOCK_MONOTONIC, &P.since[P.depth]);
		token = (int)++P.depth;
		pthread_cond_signal(&P.wake);
	}
	pthread_mutex_unlock(&P.lock);
	return token;
}

void progress_end(int *token)
{
	if (*token <= 0)
		return;
	pthread_mutex_lock(&P.lock);
	P.depth = (unsigned)*token - 1;
	if (P.depth == 0 && P.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		P.shown = false;
	}
	pthread_cond_signal(&P.wake);
	pthread_mutex_unlock(&P.lock);
	*token = 0;
}
