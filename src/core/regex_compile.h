/* A cmdline regex compiled for leakwatch's own matcher (regex_match.h):
 * POSIX extended syntax exactly as glibc's regcomp(REG_EXTENDED |
 * REG_NOSUB) reads it in the C locale, GNU operators included: what
 * regcomp takes, this takes (but [=a=] and [.a.]), and what it refuses,
 * this refuses, so the caller asks regcomp only for its message on a
 * refused pattern, never to compile one (which can take it exponential
 * time).  regex_cost.h has refused back-references first.  Pure logic. */
#ifndef LEAKWATCH_REGEX_COMPILE_H
#define LEAKWATCH_REGEX_COMPILE_H

#include <stddef.h>

/* Instructions in one compiled regex: each costs the matcher a step per
 * byte at most, so this bounds a match to REGEX_PROG_MAX steps a byte. */
#define REGEX_PROG_MAX   16384
#define REGEX_NEST_MAX   32      /* parentheses, as regex_cost.h */

struct regex_prog;

/* Compiles PATTERN into *OUT (free with regex_free).  Returns 0;
 * -ENOTSUP for an equivalence class [=a=] or a collating symbol [.a.]
 * (*WHY says which); -E2BIG beyond REGEX_PROG_MAX instructions or
 * REGEX_NEST_MAX parentheses (*WHY says which); -EINVAL for what glibc
 * would have refused (*WHY says what, *AT where); -ENOMEM.  WHY is a
 * static string. */
int regex_compile(const char *pattern, struct regex_prog **out, const char **why, size_t *at);

/* The memory a compiled regex holds, scratch included. */
size_t regex_prog_bytes(const struct regex_prog *rx);

void regex_free(struct regex_prog *rx);   /* accepts NULL */

#endif
