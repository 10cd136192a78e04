/* Bracket expressions and character classes of cmdline regexes, as
 * glibc's regcomp reads them in the C locale (see regex_compile.c): the
 * sets of bytes regex_compile.c puts in its programs.  Pure logic. */
#ifndef LEAKWATCH_REGEX_BRACKET_H
#define LEAKWATCH_REGEX_BRACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SET (256 bits) gets the bytes LO to HI. */
void rx_set_add(uint64_t *set, unsigned lo, unsigned hi);

/* SET gets the C locale's class NAME (LEN bytes, like "alpha"); false
 * when there is no such class. */
bool rx_set_class(uint64_t *set, const char *name, size_t len);

/* The bracket expression at *P, just past its '[', into SET (cleared
 * first); *P past its ']'.  Returns 0; -ENOTSUP for an equivalence class
 * or a collating symbol, -EINVAL for what regcomp refuses, *P then where
 * the problem is and *WHY (a static string) what it is. */
int rx_bracket(const char **p, uint64_t *set, const char **why);

#endif
