/* What a POSIX extended regex will cost glibc, judged from its text before
 * regcomp sees it.  Pure logic.
 *
 * glibc compiles a repetition by copying the repeated expression: "a{1000}"
 * holds 1000 copies of "a", "a+" two, and a repetition of a repetition
 * multiplies ("a+++" is 8 copies, 55 plus signs are 2^55).  Optional
 * copies cost more: each keeps a list of the others it can skip to, so
 * "a?{2000}" takes 32 MiB.  And a back-reference makes matching
 * exponential in time.  regex_cost() counts the copies, so the caller can
 * refuse such a pattern with a clear error instead of running out of
 * memory or time.  leakwatch's own compiler (regex_compile.h) copies the
 * same way, so these bounds hold for it too; glibc's regcomp now sees only
 * the patterns that compiler refuses, for its message. */
#ifndef LEAKWATCH_REGEX_COST_H
#define LEAKWATCH_REGEX_COST_H

#include <stdbool.h>
#include <stdint.h>

#define REGEX_MAX_ELEMENTS 2000   /* per regex, after repetitions */
#define REGEX_MAX_DEPTH    32     /* nested parentheses */

enum regex_problem {
	REGEX_OK,
	REGEX_BACKREF,      /* \1 .. \9 */
	REGEX_TOO_DEEP,     /* parentheses nested more than REGEX_MAX_DEPTH */
	REGEX_TOO_BIG,      /* more than REGEX_MAX_ELEMENTS after repetitions */
};

struct regex_cost {
	uint64_t elements;  /* atoms and groups, each repetition expanded */
	uint64_t optional;  /* of those, the ones that may match nothing */
	uint64_t bytes;     /* estimated size of the compiled regex */
};

/* Fills OUT (saturating, never overflowing) and says what, if anything,
 * makes the pattern unacceptable.  Syntax errors are left to regcomp. */
enum regex_problem regex_cost(const char *re, struct regex_cost *out);

/* An interval at *P, just past its '{', as glibc reads it: "{M}", "{M,}",
 * "{M,N}" or "{,N}", each M and N at most RE_DUP_MAX, a digit also written
 * "\0" and the comma "\,".  True and *P past the '}', LO and HI (-1: no
 * upper bound) filled, when it is one; false when regcomp would refuse it. */
bool regex_interval(const char **p, long *lo, long *hi);

#endif
