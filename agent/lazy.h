/* Forwarders for a library loaded on first use (agent/libkmod-lazy.c,
 * agent/libnl-lazy.c): each stands for one of the library's functions, looks
 * the real one up once with LOOKUP("name") (a function returning the symbol
 * or NULL), and returns failure when there is none. */
#ifndef HOSTPREP_LAZY_H
#define HOSTPREP_LAZY_H

/* params and args are parenthesized lists already. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define LAZY_FORWARD(lookup, ret, name, params, args, failure)   \
	ret name params                                           \
	{                                                         \
		static __typeof__(name) *real;                    \
		if (!real)                                        \
			real = (__typeof__(name) *)lookup(#name); \
		return real ? real args : failure;                \
	}
#define LAZY_FORWARD_VOID(lookup, name, params, args)            \
	void name params                                          \
	{                                                         \
		static __typeof__(name) *real;                    \
		if (!real)                                        \
			real = (__typeof__(name) *)lookup(#name); \
		if (real)                                         \
			real args;                                \
	}
/* NOLINTEND(bugprone-macro-parentheses) */

#endif
