/* Kernel command lines as the kernel reads them: tokens split at white space
 * outside double quotes; a token is a flag ("quiet") or key=value.  An
 * "argument" here is one token, or a group that only means something in
 * sequence ("hugepagesz=1G hugepages=8"). */
#ifndef HOSTPREP_CMDLINE_H
#define HOSTPREP_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* Tokens of line, NULL-terminated; free with strv_free.  -EINVAL for an
 * unterminated quote. */
int cmdline_split(const char *line, char ***ret);
/* Tokens joined by single spaces; "" for none.  malloc'ed. */
char *cmdline_join(char *const *tokens);

/* Key of a token: the part before '=', quotes dropped, '-' read as '_' (the
 * kernel treats them alike).  Truncated to len. */
void cmdline_key(const char *token, char *key, size_t len);
/* Keys that legitimately repeat with different values (console=...). */
bool cmdline_key_repeats(const char *key);

/* Arguments from tokens: "hugepagesz=S" joins the "hugepages=N" that follows
 * it into one argument; every other token is an argument of its own. */
int cmdline_arguments(char *const *tokens, char ***ret);

enum cmdline_presence {
	CMDLINE_ABSENT,
	CMDLINE_PRESENT,
	CMDLINE_OVERRIDDEN,   /* the key is there, but its last value is another */
};

/* Where argument arg stands in tokens.  The last occurrence of a key is the
 * one the kernel keeps.  For CMDLINE_OVERRIDDEN, *other (may be NULL) gets
 * the argument that wins, malloc'ed. */
enum cmdline_presence cmdline_find(char *const *tokens, const char *arg, char **other);

/* tokens with every occurrence of the arguments in remove taken out, then
 * the arguments of add that are not present appended in order. */
int cmdline_merge(char *const *tokens, char *const *remove, char *const *add, char ***ret);

#endif
