/* Shared by the libFuzzer targets (tests/fuzz/fuzz-*.c): one parser each,
 * built with clang -fsanitize=fuzzer,address,undefined (make fuzz). */
#ifndef HOSTPREP_FUZZ_H
#define HOSTPREP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a C string (it stops at the first NUL, as the callers' do). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Fails the run (libFuzzer reports a crash with the input) when an
 * invariant does not hold. */
#define FUZZ_ASSERT(x) do { if (!(x)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #x, __FILE__, __LINE__); abort(); } } while (0)

#endif
