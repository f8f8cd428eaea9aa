/* Value parsers shared by the profile modules. */
#ifndef HOSTPREP_UTIL_H
#define HOSTPREP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "2M", "2048kB", "1G", "1GB", "2048k" → kB. */
int parse_size_kb(const char *s, uint64_t *kb);
/* 2048 → "2M", 1048576 → "1G", 64 → "64kB". */
void format_size_kb(uint64_t kb, char *buf, size_t len);
/* yes|no|true|false|on|off|1|0 */
int parse_bool(const char *s, bool *ret);
/* Decimal, no sign, within [min, max]. */
int parse_u64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
/* s equals one of a NULL-terminated list. */
bool str_in(const char *s, const char *const *list);
/* Word w appears in a space-separated list. */
bool word_in(const char *w, const char *list);
bool streq_ptr(const char *a, const char *b);
char *strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Values of sysfs attributes (pure: hostroot.c reads, these parse).
 * "123" or "123 trailing words" → 123; no sign, no empty number. */
int sysfs_parse_u64(const char *line, uint64_t *ret);
/* "always [madvise] never": the bracketed word into sel (may be NULL), the
 * whole list, brackets removed, into all (may be NULL; cut to all_len). */
int sysfs_parse_choice(const char *line, char *sel, size_t sel_len, char *all, size_t all_len);
/* The code point of the UTF-8 sequence at s (at most len bytes): its length,
 * or 0 when the bytes are no valid UTF-8 (overlong, surrogate, > U+10FFFF,
 * truncated). */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Split on sep, trimming white space around each item; empty items dropped. */
char **strv_split(const char *s, const char *sep);

#endif
