/* The bootstrap run in the target (inspect_boot.h says what).
 *
 * Why a bootstrap that reads a file, rather than the whole script in the
 * call: the injector copies at most 4096 bytes into the process (and
 * leaks them: a few hundred bytes per inspection is all it may cost), and
 * a script read from a root-owned file under share/leakwatch is the one
 * an operator can read and audit.  Why the paths are restricted to a
 * plain character set rather than escaped: an escape that is right for
 * one Python version's literal syntax is a bug waiting for another's; the
 * daemon's own paths (the runtime directory, the data directory) never
 * need more.  PyRun_SimpleString runs in __main__'s namespace, where the
 * program may have its own `open` or `compile`: the builtins are taken
 * from the builtins module, and the script gets fresh globals, so nothing
 * of __main__ is touched or read.
 *
 * Costs: nothing worth counting. */
#include "core/inspect_boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void inspect_token(const uint8_t rnd[16], char out[INSPECT_TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[rnd[i] >> 4];
		out[2 * i + 1] = hex[rnd[i] & 15];
	}
	out[INSPECT_TOKEN_LEN] = '\0';
}

static int plain_path(const char *p)
{
	if (!p || p[0] != '/')
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._/+-", *p)))
			return 0;
	return 1;
}

static int hex_token(const char *t)
{
	if (!t || strlen(t) != INSPECT_TOKEN_LEN)
		return 0;
	for (; *t; t++)
		if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'f')))
			return 0;
	return 1;
}

int inspect_bootstrap(char *out, size_t len, const char *script, const char *fifo, const char *token,
		      int phase, unsigned keep_seconds)
{
	int n;

	if (!plain_path(script) || !plain_path(fifo) || !hex_token(token) || (phase != 1 && phase != 2))
		return -EINVAL;
	n = snprintf(out, len,
		     "(lambda b:b.exec(b.compile(b.open('%s','rb').read(),'%s','exec'),"
		     "{'__name__':'__leakwatch__','__builtins__':b,"
		     "'LEAKWATCH':{'phase':%d,'report':'%s','token':'%s','keep':%u}}))"
		     "(__import__('builtins'))",
		     script, script, phase, fifo, token, keep_seconds);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
