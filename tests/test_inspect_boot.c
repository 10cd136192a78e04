/* The inspection's bootstrap and token: the text that runs the script,
 * and every input refused that could break out of its string literals. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/inspect_boot.h"

#define TOK "0123456789abcdef0123456789abcdef"

static void test_token(void)
{
	uint8_t rnd[16];
	char out[INSPECT_TOKEN_LEN + 1];

	for (int i = 0; i < 16; i++)
		rnd[i] = (uint8_t)(i * 17);
	memset(out, 'X', sizeof(out));
	inspect_token(rnd, out);
	CHECK_STR(out, "00112233445566778899aabbccddeeff");
}

static void test_bootstrap(void)
{
	char out[4096];

	CHECK(inspect_bootstrap(out, sizeof(out), "/usr/share/leakwatch/inspect.py", "/run/leakwatch/inspect/42-" TOK ".1",
				TOK, 1, 30) == 0);
	CHECK_STR(out, "(lambda b:b.exec(b.compile(b.open('/usr/share/leakwatch/inspect.py','rb').read(),"
		       "'/usr/share/leakwatch/inspect.py','exec'),{'__name__':'__leakwatch__','__builtins__':b,"
		       "'LEAKWATCH':{'phase':1,'report':'/run/leakwatch/inspect/42-" TOK ".1','token':'" TOK
		       "','keep':30}}))(__import__('builtins'))");
	CHECK(inspect_bootstrap(out, sizeof(out), "/s.py", "/f", TOK, 2, 600) == 0);
	CHECK(strstr(out, "'phase':2") && strstr(out, "'keep':600"));
}

static void test_refused(void)
{
	static const struct {
		const char *script, *fifo, *token;
		int phase;
		size_t len;
		int err;
	} cases[] = {
		{ "relative.py", "/f", TOK, 1, 4096, -EINVAL },
		{ "/a'b.py", "/f", TOK, 1, 4096, -EINVAL },        /* a quote ends the literal */
		{ "/a\\b.py", "/f", TOK, 1, 4096, -EINVAL },       /* an escape */
		{ "/a b.py", "/f", TOK, 1, 4096, -EINVAL },
		{ "/a\nb.py", "/f", TOK, 1, 4096, -EINVAL },
		{ "/\xc3\xa9.py", "/f", TOK, 1, 4096, -EINVAL },   /* non-ASCII */
		{ "/s.py", "/f'", TOK, 1, 4096, -EINVAL },
		{ "/s.py", "", TOK, 1, 4096, -EINVAL },
		{ NULL, "/f", TOK, 1, 4096, -EINVAL },
		{ "/s.py", "/f", "0123", 1, 4096, -EINVAL },
		{ "/s.py", "/f", "0123456789ABCDEF0123456789abcdef", 1, 4096, -EINVAL },
		{ "/s.py", "/f", "0123456789abcdef0123456789abcdeg", 1, 4096, -EINVAL },
		{ "/s.py", "/f", TOK "0", 1, 4096, -EINVAL },
		{ "/s.py", "/f", TOK, 0, 4096, -EINVAL },
		{ "/s.py", "/f", TOK, 3, 4096, -EINVAL },
		{ "/s.py", "/f", TOK, 1, 100, -ENAMETOOLONG },
	};
	char out[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = inspect_bootstrap(out, cases[i].len, cases[i].script, cases[i].fifo, cases[i].token,
					  cases[i].phase, 30);

		CHECK_MSG(r == cases[i].err, "case %zu: %d, expected %d", i, r, cases[i].err);
	}
}

int main(void)
{
	RUN(test_token);
	RUN(test_bootstrap);
	RUN(test_refused);
	return check_done("test_inspect_boot");
}
