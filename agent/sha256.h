/* SHA-256 (FIPS 180-4), for naming a profile's files by content in the
 * readiness marker (the format sha256sum -c checks). */
#ifndef HOSTPREP_SHA256_H
#define HOSTPREP_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;              /* bytes hashed */
	unsigned char buf[64];
	size_t n;                  /* bytes in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* 64 hex digits and a NUL into hex. */
void sha256_hex(struct sha256 *s, char hex[65]);

#endif
