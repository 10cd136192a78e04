/* Whether a cmdline regex matches: leakwatch's own matcher, whose time
 * is linear in the text whatever the pattern and the text (see
 * regex_match.c for why glibc's regexec is not used).  Pure logic. */
#ifndef LEAKWATCH_REGEX_MATCH_H
#define LEAKWATCH_REGEX_MATCH_H

#include <stdbool.h>
#include <stddef.h>

struct regex_prog;   /* from regex_compile() */

/* Does RX match somewhere in the LEN bytes at S, as regexec(3) would on
 * them as a string (no REG_NOTBOL, no REG_NOTEOL: ^ matches at S, $ at
 * S + LEN)?  S holds no NUL.  Takes at most LEN + 1 steps of at most the
 * program's size each, and allocates nothing: RX holds the scratch, so
 * one RX is matched by one thread at a time. */
bool regex_search(struct regex_prog *rx, const char *s, size_t len);

#endif
