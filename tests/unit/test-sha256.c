/* SHA-256 against the FIPS 180-4 examples and block-boundary lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sha256.h"

static void assert_sha256(const char *msg, size_t len, size_t chunk, const char *want)
{
	struct sha256 s;
	char hex[65];

	sha256_init(&s);
	for (size_t off = 0; off < len; off += chunk)
		sha256_update(&s, msg + off, len - off < chunk ? len - off : chunk);
	sha256_hex(&s, hex);
	assert_string_equal(hex, want);
}

static void test_fips_examples(void **state)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	(void)state;
	assert_sha256("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_sha256("abc", 3, 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* 56 bytes: the length no longer fits the first block's padding. */
	assert_sha256(two_blocks, strlen(two_blocks), 7,
		      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	assert_sha256(two_blocks, strlen(two_blocks), 64,
		      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a(void **state)
{
	static char a[1000];

	(void)state;
	memset(a, 'a', sizeof(a));
	{
		struct sha256 s;
		char hex[65];

		sha256_init(&s);
		for (int i = 0; i < 1000; i++)
			sha256_update(&s, a, sizeof(a));
		sha256_hex(&s, hex);
		assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_examples),
		cmocka_unit_test(test_million_a),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
