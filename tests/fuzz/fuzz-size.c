/* Value parsers of agent/util.c: sizes ("2M", "2048kB", "1G"), bounded
 * numbers, booleans, UTF-8 decoding.  A size that parses formats to a text
 * that parses to the same number of kB. */
#include <stdio.h>

#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), buf[64];
	uint64_t kb, again, v;
	bool b;
	uint32_t cp;

	if (parse_size_kb(s, &kb) == 0) {
		FUZZ_ASSERT(kb > 0);
		format_size_kb(kb, buf, sizeof(buf));
		FUZZ_ASSERT(parse_size_kb(buf, &again) == 0 && again == kb);
	}
	if (parse_u64_range(s, 10, 1000, &v) == 0)
		FUZZ_ASSERT(v >= 10 && v <= 1000);
	if (parse_u64_range(s, 0, UINT64_MAX, &v) == 0) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
		FUZZ_ASSERT(strcmp(buf, s) == 0 || s[0] == '0');
	}
	(void)parse_bool(s, &b);
	for (size_t i = 0; i < size;) {
		size_t k = utf8_decode((const char *)data + i, size - i, &cp);

		if (!k) {
			i++;
			continue;
		}
		FUZZ_ASSERT(k <= 4 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff));
		i += k;
	}
	free(s);
	return 0;
}
