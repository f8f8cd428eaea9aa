/* Bootloader files (modules/kernel-grub.c, kernel-bls.c): grub.cfg with its
 * grubenv (split at the first NUL of the input), grubby --info output, BLS
 * loader entries. */
#include <stdio.h>

#include "fuzz.h"
#include "kernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cfg = fuzz_string(data, size), *copy = fuzz_string(data, size), *env = NULL;
	char *args = NULL, *title = NULL, *want = NULL, *v;
	const char *nul = memchr(data, '\0', size);
	int r;

	if (nul)
		env = fuzz_string((const uint8_t *)nul + 1, size - (size_t)((const uint8_t *)nul + 1 - data));
	r = grub_cfg_default_args(cfg, env, &args, &title, &want);
	FUZZ_ASSERT(r == 0 || r == -ENOENT);
	FUZZ_ASSERT(r != 0 || (args && title && want));
	free(args);
	free(title);
	free(want);
	v = bls_info_value(copy, "args");
	free(v);
	v = bls_entry_options(copy);
	FUZZ_ASSERT(v);
	free(v);
	free(cfg);
	free(copy);
	free(env);
	return 0;
}
