/* Process titles from cmdline text (core/proc_title.c): what each server
 * sets, and what a hostile owner can put there. */
#include <string.h>

#include "check.h"
#include "core/proc_title.h"

struct title_case {
	const char *name;
	const char *raw;      /* cmdline bytes; len below, NULs inside */
	size_t len;
	const char *want;
};

#define RAW(s) s, sizeof(s) - 1

static const struct title_case cases[] = {
	{ "uwsgi worker", RAW("api uWSGI worker 2\0"), "api uWSGI worker 2" },
	/* uWSGI pads its argv area with spaces, and the kernel stops at the first NUL */
	{ "uwsgi padded", RAW("api uWSGI master          "), "api uWSGI master" },
	{ "celery child", RAW("[celeryd: worker1@web1:ForkPoolWorker-3]\0\0\0\0\0\0\0\0"),
	  "[celeryd: worker1@web1:ForkPoolWorker-3]" },
	{ "gunicorn", RAW("gunicorn: worker [api]\0\0\0"), "gunicorn: worker [api]" },
	{ "plain argv", RAW("/usr/bin/python3\0/srv/app.py\0--port\0" "8080\0"),
	  "/usr/bin/python3 /srv/app.py --port 8080" },
	{ "empty (kernel thread, exited leader)", RAW(""), "" },
	{ "only NULs and spaces", RAW("\0\0  \0"), "" },
	{ "leading spaces", RAW("   x y"), "x y" },
	/* the first line only: a newline cannot start a forged line */
	{ "first line", RAW("worker 1\nleakwatchd: leak: other: pid 1 (init)"), "worker 1" },
	{ "newline first", RAW("\nhidden"), "" },
	{ "controls", RAW("a\tb\x1b[31mc\x7f" "d"), "a?b?[31mc?d" },
	{ "C1 CSI", RAW("a\xc2\x9b" "31mb"), "a??31mb" },
	{ "NBSP kept", RAW("a\xc2\xa0" "b"), "a\xc2\xa0" "b" },
	{ "bad UTF-8", RAW("a\xff\xfe" "b\xe2\x82"), "a??b??" },
	{ "overlong", RAW("\xc0\xaf" "x"), "??x" },
	{ "quotes", RAW("python3 -c \"import x\""), "python3 -c 'import x'" },
	{ "UTF-8 kept", RAW("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93" },
	{ "63 bytes fit", RAW("0123456789012345678901234567890123456789012345678901234567890ab"),
	  "0123456789012345678901234567890123456789012345678901234567890ab" },
	{ "64 clipped in the middle", RAW("0123456789012345678901234567890123456789012345678901234567890abc"),
	  "012345678901234567890123...890123456789012345678901234567890abc" },
	{ "celery with a long host", RAW("[celeryd: worker1@build-host-17.eu-west-1.compute.example.com:ForkPoolWorker-12]\0\0"),
	  "[celeryd: worker1@build-...mpute.example.com:ForkPoolWorker-12]" },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct title_case *c = &cases[i];
		char raw[256], out[PROC_TITLE_SIZE];
		size_t n;

		memcpy(raw, c->raw, c->len);
		raw[c->len] = '\0';
		memset(out, 'Z', sizeof(out));
		n = proc_title(raw, c->len, out);
		CHECK_MSG(strcmp(out, c->want) == 0, "%s: \"%s\" != \"%s\"", c->name, out, c->want);
		CHECK_MSG(n == strlen(out), "%s: length %zu", c->name, n);
		CHECK_MSG(n < PROC_TITLE_SIZE, "%s: %zu bytes", c->name, n);
	}
}

/* A clip never splits a character, and keeps both ends. */
static void test_clip_utf8(void)
{
	char raw[512], out[PROC_TITLE_SIZE];
	size_t len = 0, n;

	for (int i = 0; i < 60; i++) {       /* 60 x "é" (2 bytes), then "-7" */
		raw[len++] = '\xc3';
		raw[len++] = '\xa9';
	}
	memcpy(raw + len, "-7", 2);
	len += 2;
	raw[len] = '\0';
	n = proc_title(raw, len, out);
	CHECK(n < PROC_TITLE_SIZE);
	CHECK(strstr(out, "...") != NULL);
	CHECK(n >= 2 && strcmp(out + n - 2, "-7") == 0);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] == 0xc3)
			CHECK_MSG(i + 1 < n && (unsigned char)out[i + 1] == 0xa9, "split at %zu", i);
		else if ((unsigned char)out[i] == 0xa9)
			CHECK_MSG(i > 0 && (unsigned char)out[i - 1] == 0xc3, "orphan at %zu", i);
}

/* A page of hostile bytes: the title is printable whatever came in. */
static void test_all_bytes(void)
{
	char raw[4097], out[PROC_TITLE_SIZE];

	for (int i = 0; i < 4096; i++)
		raw[i] = (char)((i * 37 + 11) & 0xff) ?: ' ';
	for (int i = 0; i < 4096; i++)
		if (raw[i] == '\n')
			raw[i] = 'x';
	raw[4096] = '\0';
	proc_title(raw, 4096, out);
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		CHECK_MSG(*p >= 0x20 && *p != 0x7f, "byte 0x%02x", *p);
}

int main(void)
{
	RUN(test_cases);
	RUN(test_clip_utf8);
	RUN(test_all_bytes);
	return check_done("test_proc_title");
}
