/* The few lines of Python that leakwatch runs inside a CPython process to
 * inspect it: they read and run the shipped script (share/leakwatch/
 * inspect.py) with the phase, the FIFO to report into and the
 * inspection's token (see the script for the report).  Pure. */
#ifndef LEAKWATCH_INSPECT_BOOT_H
#define LEAKWATCH_INSPECT_BOOT_H

#include <stddef.h>
#include <stdint.h>

#define INSPECT_TOKEN_LEN 32    /* hex digits */

/* The token of an inspection, from 16 random bytes: 32 lowercase hex
 * digits and a NUL into out[INSPECT_TOKEN_LEN + 1]. */
void inspect_token(const uint8_t rnd[16], char out[INSPECT_TOKEN_LEN + 1]);

/* The bootstrap for phase (1 or 2) into out: 0, -EINVAL (a path that is
 * not absolute or holds a character other than [A-Za-z0-9._/+-], a token
 * not of 32 hex digits, a bad phase), -ENAMETOOLONG (out too small).  The
 * paths are put in Python string literals: the character set keeps them
 * literal whatever the Python version. */
int inspect_bootstrap(char *out, size_t len, const char *script, const char *fifo, const char *token,
		      int phase, unsigned keep_seconds);

#endif
