/* The profile loader (agent/profile.c with inih) and every module's parse
 * step (agent/engine.c engine_load without the host checks).  The input is
 * written to a file in a private temp directory; includes may name only files
 * in it (an input with include and a '/' is skipped, so the fuzzer never
 * reads the machine's files). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "fuzz.h"
#include "log.h"
#include "profile.h"

static char dir[] = "/tmp/hostprep-fuzz-XXXXXX";
static char path[64], root[64];

static void put(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/p.ini", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	if (mkdir(root, 0755) < 0)
		abort();
	put("a.inc", "[thp]\nenabled = never\n[profile]\ninclude = b.inc\n");
	put("b.inc", "[hugepages]\n2M = 4\n");
	log_threshold = -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile p;
	struct ctx ctx;
	int fd, r;

	if (memmem(data, size, "include", 7) && memchr(data, '/', size))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
		abort();
	r = profile_load(&p, path, false);
	FUZZ_ASSERT(r == 0 || r == -EINVAL);
	FUZZ_ASSERT((r == 0) == (p.n_errors == 0));
	FUZZ_ASSERT(p.n_listed <= PROFILE_MAX_LISTED);
	for (size_t i = 0; i < p.n_settings; i++) {
		FUZZ_ASSERT(p.settings[i].line > 0 && p.settings[i].key && p.settings[i].value);
		FUZZ_ASSERT(strlen(p.settings[i].value) <= PROFILE_MAX_LINE);
		FUZZ_ASSERT(!strpbrk(p.settings[i].value, "\r\n"));
	}
	if (ctx_init(&ctx, CMD_VALIDATE, root) < 0)
		abort();
	ctx.profile = &p;
	r = engine_load(&ctx, false);
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
	ctx_free(&ctx);
	profile_free(&p);
	return 0;
}
