/* The inspection report's parser (core/inspect_report.h): the fixtures of
 * both phases parse into the values they hold; each way of breaking the
 * format is refused with -EBADMSG and a reason naming the line (the
 * header, token, phase, pid; field counts, numbers, seconds, states, kinds;
 * records of the other phase, repeated ones, caps, stray frames; bytes:
 * control characters, bad UTF-8, NULs, long lines and fields; the end
 * record); a report over 256 KiB is -E2BIG, one of exactly 256 KiB
 * parses; unknown records are skipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "inspect_fixtures.h"
#include "core/inspect_report.h"

/* Parse body (built by fx_report, or the whole text with '|' for TAB
 * when raw) as phase; the result, and the reason in why. */
static int parse(int phase, bool raw, const char *body, char *why, size_t whylen)
{
	struct inspect_report r;
	size_t len;
	char *text;
	int rc;

	inspect_report_init(&r);
	if (raw) {
		len = strlen(body);
		text = strdup(body);
		for (size_t i = 0; text && i < len; i++)
			if (text[i] == '|')
				text[i] = '\t';
	} else {
		text = fx_report(phase, body, &len);
	}
	if (!text)
		return -ENOMEM;
	rc = inspect_parse(&r, text, len, FX_TOKEN, phase, FX_PID, why, whylen);
	if (rc < 0)
		CHECK_MSG(r.text == NULL && r.n_types == 0 && r.phase == 0, "a refused report left content");
	inspect_report_free(&r);
	free(text);
	return rc;
}

static void test_fixtures_parse(void)
{
	const char *p1[] = { fx_p1_started, fx_p1_running, fx_p1_failed };

	for (size_t i = 0; i < sizeof(p1) / sizeof(p1[0]); i++) {
		char why[200];
		int rc = parse(1, false, p1[i], why, sizeof(why));

		CHECK_MSG(rc == 0, "phase 1 fixture %zu: %d %s", i, rc, why);
		CHECK_STR(why, "");
	}
	for (size_t i = 0; i < FX_CAUSES; i++) {
		char why[200];
		int rc = parse(2, false, fx_causes[i].p2, why, sizeof(why));

		CHECK_MSG(rc == 0, "%s: %d %s", fx_causes[i].name, rc, why);
		/* and not as the other phase */
		CHECK(parse(1, false, fx_causes[i].p2, why, sizeof(why)) == -EBADMSG);
	}
}

static void test_values(void)
{
	struct inspect_report r;
	char why[200], *text;
	size_t len;

	inspect_report_init(&r);
	text = fx_report(2, fx_p2_cache, &len);
	CHECK(inspect_parse(&r, text, len, FX_TOKEN, 2, FX_PID, why, sizeof(why)) == 0);
	CHECK(r.phase == 2 && r.pid == 4242);
	CHECK_STR(r.version, "3.11.2");
	CHECK_NEAR(r.pause, 0.345678, 1e-9);
	CHECK_NEAR(r.elapsed, 30.002, 1e-9);
	CHECK(r.tracemalloc == INSPECT_TM_STOPPED);
	CHECK(r.have == (INSPECT_HAVE_TRACEMALLOC | INSPECT_HAVE_HEAP | INSPECT_HAVE_OBJECTS |
			 INSPECT_HAVE_ELAPSED | INSPECT_HAVE_FILES));
	CHECK(r.heap_start == 0 && r.heap == 178257920);
	CHECK(r.objects_start == 52000 && r.objects == 312000);
	CHECK(r.n_types == 2 && r.n_referents == 3 && r.n_sites == 3 && r.n_stacks == 1 && r.n_files == 2);
	CHECK_STR(r.types[0].name, "__main__.Session");
	CHECK(r.types[0].c1 == 1000 && r.types[0].c2 == 181000 && r.types[0].size == 180355072);
	CHECK_STR(r.referents[1].owner, "__main__.Session");
	CHECK_STR(r.referents[1].name, "builtins.str");
	CHECK_STR(r.sites[0].where, "app/cache.py:88");
	CHECK(r.sites[0].n_frames == 3 && r.sites[1].n_frames == 2 && r.sites[2].n_frames == 0);
	CHECK_STR(r.sites[0].frames[2].where, "app/cache.py:88");
	CHECK_STR(r.sites[0].frames[2].func, "put");
	CHECK(r.sites[2].size_diff == -4096 && r.sites[2].count_diff == -12);
	CHECK(r.stacks[0].count == 2 && r.stacks[0].target == NULL && r.stacks[0].n_frames == 2);
	CHECK_STR(r.stacks[0].name, "MainThread");
	CHECK(r.files[0].kind == INSPECT_FILE_SOCKET && r.files[0].site == NULL && r.files[0].count == 2);
	CHECK_STR(r.files[1].site, "app/log.py:7");
	CHECK(r.files_total == 3);
	free(text);

	/* phase 1; the same struct again: the old content is freed first */
	text = fx_report(1, fx_p1_failed, &len);
	CHECK(inspect_parse(&r, text, len, FX_TOKEN, 1, FX_PID, why, sizeof(why)) == 0);
	CHECK(r.phase == 1 && r.tracemalloc == INSPECT_TM_FAILED && !(r.have & INSPECT_HAVE_HEAP));
	CHECK(r.objects == 52000 && r.threads == 3 && r.n_errors == 1 && r.n_types == 0);
	CHECK_STR(r.errors[0].what, "tracemalloc");
	CHECK_STR(r.errors[0].msg, "RuntimeError: the tracemalloc module is not available");
	/* pid 0: any pid */
	CHECK(inspect_parse(&r, text, len, FX_TOKEN, 1, 0, why, sizeof(why)) == 0 && r.pid == 4242);
	free(text);
	inspect_report_free(&r);
	inspect_report_free(&r);
	inspect_report_free(NULL);
}

#define H1 "python|3.11.2|4242\npause|0.1\n"      /* lines 2, 3 */
#define H2 "python|3.11.2|4242\npause|0.1\n"
#define T  FX_TOKEN

static const struct bad {
	int phase;
	bool raw;
	const char *body;
	const char *why;          /* NULL: parses */
} bad_cases[] = {
	/* the header */
	{ 1, true, "", "line 1: no end record" },
	{ 1, true, "leakwatch-inspect|1|" T "|1", "line 1: no newline at the end of the report" },
	{ 1, true, "leakwatch-inspectx|1|" T "|1\n", "line 1: not a leakwatch-inspect report" },
	{ 1, true, "python|3.11.2|4242\n", "line 1: not a leakwatch-inspect report" },
	{ 1, true, "leakwatch-inspect|2|" T "|1\n", "line 1: leakwatch-inspect: not format 1" },
	{ 1, true, "leakwatch-inspect|1|" T "|2\n", "line 1: leakwatch-inspect: not a phase 1 report" },
	{ 2, true, "leakwatch-inspect|1|" T "|1\n", "line 1: leakwatch-inspect: not a phase 2 report" },
	{ 1, true, "leakwatch-inspect|1|0123456789ABCDEF0123456789abcdef|1\n",
	  "line 1: leakwatch-inspect: wrong token" },
	{ 1, true, "leakwatch-inspect|1|" T "x|1\n", "line 1: leakwatch-inspect: wrong token" },
	{ 1, true, "leakwatch-inspect|1|" T "\n", "line 1: leakwatch-inspect: 3 fields, expected 4" },
	{ 1, true, "leakwatch-inspect|1|" T "|1|x\n", "line 1: leakwatch-inspect: 5 fields, expected 4" },
	{ 1, false, "pause|0.1\n", "line 2: python record expected" },
	{ 1, false, "end|1\n", "line 2: python record expected" },
	{ 1, false, "python|3.11.2|4242\nheap|0\n", "line 3: pause record expected" },
	{ 1, false, "python|3.11.2|4243\npause|0\n", "line 2: python: pid 4243, expected 4242" },
	{ 1, false, "python|3.11.2|0\npause|0\n", "line 2: python: pid 0, expected 4242" },
	{ 1, false, "python||4242\npause|0\n", "line 2: python: empty VERSION" },
	{ 1, false, "python|3.11.2|4242|x\npause|0\n", "line 2: python: 4 fields, expected 3" },
	{ 1, false, H1 "python|3.11.2|4242\n", "line 4: python: repeated" },
	{ 1, false, H1 "pause|1\n", "line 4: pause: repeated" },
	{ 1, false, H1 "leakwatch-inspect|1|" T "|1\n", "line 4: leakwatch-inspect: repeated" },
	/* numbers and seconds */
	{ 1, false, H1 "heap|9007199254740991\n", NULL },
	{ 1, false, H1 "heap|9007199254740992\n", "line 4: heap: COUNT: not a count" },
	{ 1, false, H1 "heap|99999999999999999999\n", "line 4: heap: COUNT: not a count" },
	{ 1, false, H1 "heap|012\n", "line 4: heap: COUNT: not a count" },
	{ 1, false, H1 "heap|-1\n", "line 4: heap: COUNT: not a count" },
	{ 1, false, H1 "heap|+1\n", "line 4: heap: COUNT: not a count" },
	{ 1, false, H1 "heap|\n", "line 4: heap: COUNT: not a count" },
	{ 1, false, H1 "heap| 1\n", "line 4: heap: COUNT: not a count" },
	{ 1, false, H1 "heap|0\n", NULL },
	{ 1, false, "python|3.11.2|4242\npause|0.1234567\n", "line 3: pause: SECONDS: not seconds" },
	{ 1, false, "python|3.11.2|4242\npause|1.\n", "line 3: pause: SECONDS: not seconds" },
	{ 1, false, "python|3.11.2|4242\npause|.5\n", "line 3: pause: SECONDS: not seconds" },
	{ 1, false, "python|3.11.2|4242\npause|1e3\n", "line 3: pause: SECONDS: not seconds" },
	{ 1, false, "python|3.11.2|4242\npause|-1\n", "line 3: pause: SECONDS: not seconds" },
	{ 1, false, "python|3.11.2|4242\npause|0.000001\n", NULL },
	{ 2, false, H2 "site|a.py:1|-0|1|0|0\n", "line 4: site: SIZE_DIFF: not a number" },
	{ 2, false, H2 "site|a.py:1|5|--1|0|0\n", "line 4: site: COUNT_DIFF: not a number" },
	{ 2, false, H2 "site|a.py:1|-9007199254740991|-1|0|0\n", NULL },
	{ 2, false, H2 "site|a.py:1|-9007199254740992|-1|0|0\n", "line 4: site: SIZE_DIFF: not a number" },
	/* records: field counts, phases, states, kinds */
	{ 2, false, H2 "type|a|1|2\n", "line 4: type: 4 fields, expected 5" },
	{ 2, false, H2 "elapsed|1|2\n", "line 4: elapsed: 3 fields, expected 2" },
	{ 2, false, H2 "heap|5\n", "line 4: heap: 2 fields, expected 3" },
	{ 1, false, H1 "heap|5|6\n", "line 4: heap: 3 fields, expected 2" },
	{ 1, false, H1 "type|x|1|2|3\n", "line 4: type: not a phase 1 record" },
	{ 1, false, H1 "files|3\n", "line 4: files: not a phase 1 record" },
	{ 1, false, H1 "elapsed|3\n", "line 4: elapsed: not a phase 1 record" },
	{ 2, false, H2 "threads|3\n", "line 4: threads: not a phase 2 record" },
	{ 1, false, H1 "tracemalloc|stopped\n", "line 4: tracemalloc: not a phase 1 state" },
	{ 2, false, H2 "tracemalloc|started\n", "line 4: tracemalloc: not a phase 2 state" },
	{ 2, false, H2 "tracemalloc|Running\n", "line 4: tracemalloc: not a phase 2 state" },
	{ 2, false, H2 "heap|1|2\nheap|1|2\n", "line 5: heap: repeated" },
	{ 2, false, H2 "files|1\nfiles|1\n", "line 5: files: repeated" },
	{ 2, false, H2 "type|a|2|2|0\n", "line 4: type: C2 not above C1" },
	{ 2, false, H2 "type||1|2|0\n", "line 4: type: empty NAME" },
	{ 2, false, H2 "referent|a||1|0\n", "line 4: referent: empty OWNER or NAME" },
	{ 2, false, H2 "site|app/cache.py|1|1|1|1\n", "line 4: site: FILE:LINE: not FILE:LINE" },
	{ 2, false, H2 "site|app/cache.py:|1|1|1|1\n", "line 4: site: FILE:LINE: not FILE:LINE" },
	{ 2, false, H2 "site|:0|1|1|1|1\n", NULL },
	{ 2, false, H2 "site|C:/x.py:7|1|1|1|1\n", NULL },
	{ 2, false, H2 "file|pipe|x|1|-\n", "line 4: file: unknown KIND" },
	{ 2, false, H2 "file|file|x|1|here\n", "line 4: file: SITE: not FILE:LINE" },
	{ 1, false, H1 "error|disk|full\n", "line 4: error: unknown WHAT" },
	{ 1, false, H1 "error|census|\n", NULL },
	/* frames */
	{ 2, false, H2 "frame|a.py:1|f\n", "line 4: frame: not after a site or stack" },
	{ 2, false, H2 "site|a.py:1|1|1|1|1\nfiles|0\nframe|a.py:1|f\n", "line 6: frame: not after a site or stack" },
	{ 2, false, H2 "site|a.py:1|1|1|1|1\nfuture|x\nframe|a.py:1|f\n", NULL },
	{ 2, false, H2 "stack|1|0|t|-\nframe|a.py:x|f\n", "line 5: frame: FILE:LINE: not FILE:LINE" },
	{ 2, false, H2 "stack|1|0|t|-\nframe|a.py:1\n", "line 5: frame: 2 fields, expected 3" },
	{ 1, false, H1 "frame|a.py:1|f\n", "line 4: frame: not a phase 1 record" },
	/* bytes */
	{ 2, false, H2 "type|a\x01|1|2|0\n", "line 4: control character 0x01 at byte 7" },
	{ 2, false, H2 "type|a\x7f|1|2|0\n", "line 4: control character 0x7f at byte 7" },
	{ 2, false, H2 "type|a\r|1|2|0\n", "line 4: control character 0x0d at byte 7" },
	{ 2, false, H2 "type|a\xc2\x85|1|2|0\n", "line 4: control character U+0085 at byte 7" },
	{ 2, false, H2 "type|a\xc2\x9f|1|2|0\n", "line 4: control character U+009F at byte 7" },
	{ 2, false, H2 "type|a\xc2\xa0|1|2|0\n", NULL },
	{ 2, false, H2 "type|\xe2\x82\xac\xf0\x9f\x90\x8d|1|2|0\n", NULL },
	{ 2, false, H2 "type|a\xff|1|2|0\n", "line 4: not UTF-8 at byte 7" },
	{ 2, false, H2 "type|a\xc0\xaf|1|2|0\n", "line 4: not UTF-8 at byte 7" },
	{ 2, false, H2 "type|a\xed\xa0\x80|1|2|0\n", "line 4: not UTF-8 at byte 7" },
	{ 2, false, H2 "type|a\xe2\x82|1|2|0\n", "line 4: not UTF-8 at byte 7" },
	{ 2, false, H2 "type|a\xf4\x90\x80\x80|1|2|0\n", "line 4: not UTF-8 at byte 7" },
	{ 2, false, H2 "future\x1b[2J|x\n", "line 4: control character 0x1b at byte 7" },
	{ 2, false, H2 "\n", "line 4: empty record name" },
	{ 2, false, H2 "|x\n", "line 4: empty record name" },
	/* unknown records are skipped, whatever their fields */
	{ 2, false, H2 "future|x|y|z|1|2|3|4|5|6|7|8\nfuture\nf|\n", NULL },
	{ 1, false, H1 "Type|a|1|2|3\n", NULL },
	/* the end */
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1 "end|4\n", "line 4: end: COUNT 4, but 3 lines came before it" },
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1 "end|2\n", "line 4: end: COUNT 2, but 3 lines came before it" },
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1 "end|3\n", NULL },
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1 "end|03\n", "line 4: end: COUNT: not a count" },
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1 "end|3|x\n", "line 4: end: 3 fields, expected 2" },
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1 "end|3", "line 4: no newline at the end of the report" },
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1 "end|3\n\n", "line 5: text after the end record" },
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1 "end|3\nend|4\n", "line 5: text after the end record" },
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1, "line 4: no end record" },
	{ 1, true, "leakwatch-inspect|1|" T "|1\n" H1 "heap|0", "line 4: no newline at the end of the report" },
};

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad *c = &bad_cases[i];
		char why[200];
		int rc = parse(c->phase, c->raw, c->body, why, sizeof(why));

		if (!c->why) {
			CHECK_MSG(rc == 0, "case %zu: %d %s", i, rc, why);
			continue;
		}
		CHECK_MSG(rc == -EBADMSG, "case %zu: %d, expected -EBADMSG (%s)", i, rc, c->why);
		CHECK_MSG(strcmp(why, c->why) == 0, "case %zu: \"%s\", expected \"%s\"", i, why, c->why);
	}
}

/* body + n lines of line (with %d for its index) */
static char *repeat(const char *head, const char *line, int n)
{
	size_t cap = strlen(head) + (size_t)n * (strlen(line) + 16) + 1, len;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	len = (size_t)snprintf(s, cap, "%s", head);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, line, i);
	return s;
}

static void test_caps(void)
{
	static const struct {
		int phase;
		const char *head, *line;
		int cap;
		const char *what;
	} caps[] = {
		{ 2, H2, "type|t%d|1|2|0\n", 20, "type: more than 20" },
		{ 2, H2, "referent|o|r%d|1|0\n", 40, "referent: more than 40" },
		{ 2, H2, "site|s.py:%d|1|1|1|1\n", 10, "site: more than 10" },
		{ 2, H2, "stack|%d|0|t|-\n", 10, "stack: more than 10" },
		{ 2, H2, "file|file|/f%d|1|-\n", 20, "file: more than 20" },
		{ 2, H2, "error|internal|e%d\n", 8, "error: more than 8" },
		{ 1, H1, "error|census|e%d\n", 8, "error: more than 8" },
		{ 2, H2 "site|a.py:1|1|1|1|1\n", "frame|a.py:%d|f\n", 8, "frame: more than 8 after a site" },
		{ 2, H2 "stack|1|0|t|-\n", "frame|a.py:%d|f\n", 12, "frame: more than 12 after a stack" },
	};

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		char why[200], want[200];
		char *ok = repeat(caps[i].head, caps[i].line, caps[i].cap);
		char *over = repeat(caps[i].head, caps[i].line, caps[i].cap + 1);
		size_t head_lines = 1;

		for (const char *c = caps[i].head; *c; c++)
			head_lines += *c == '\n';
		snprintf(want, sizeof(want), "line %zu: %s", head_lines + (size_t)caps[i].cap + 1, caps[i].what);
		CHECK_MSG(ok && parse(caps[i].phase, false, ok, why, sizeof(why)) == 0, "cap %zu: %s", i, why);
		CHECK_MSG(over && parse(caps[i].phase, false, over, why, sizeof(why)) == -EBADMSG, "cap %zu", i);
		CHECK_STR(why, want);
		free(ok);
		free(over);
	}
	/* the frames' caps are per site and per stack */
	{
		char *a = repeat(H2 "site|a.py:1|1|1|1|1\n", "frame|a.py:%d|f\n", 8);
		char *b = repeat(a, "site|b.py:1|1|1|1|1\n", 1);
		char *c = repeat(b, "frame|b.py:%d|f\n", 8);
		char why[200];

		CHECK_MSG(c && parse(2, false, c, why, sizeof(why)) == 0, "%s", why);
		free(a);
		free(b);
		free(c);
	}
}

/* A line of n bytes: "x", then fields of at most 255 bytes. */
static char *long_line(size_t n)
{
	char *s = malloc(strlen(H1) + n + 2);
	size_t k;

	if (!s)
		return NULL;
	k = (size_t)sprintf(s, "%sx", H1);
	for (size_t left = n - 1; left > 0;) {
		size_t f = left - 1 > 255 ? 255 : left - 1;

		s[k++] = '|';
		memset(s + k, 'a', f);
		k += f;
		left -= f + 1;
	}
	s[k++] = '\n';
	s[k] = '\0';
	return s;
}

static void test_lengths(void)
{
	char why[200], body[600];
	char *l1024 = long_line(1024), *l1025 = long_line(1025);

	CHECK_MSG(l1024 && parse(1, false, l1024, why, sizeof(why)) == 0, "%s", why);
	CHECK(l1025 && parse(1, false, l1025, why, sizeof(why)) == -EBADMSG);
	CHECK_STR(why, "line 4: longer than 1024 bytes");
	free(l1024);
	free(l1025);

	snprintf(body, sizeof(body), H1 "future|%0256d\n", 0);
	CHECK_MSG(parse(1, false, body, why, sizeof(why)) == 0, "%s", why);
	snprintf(body, sizeof(body), H1 "future|%0257d\n", 0);
	CHECK(parse(1, false, body, why, sizeof(why)) == -EBADMSG);
	CHECK_STR(why, "line 4: field 2 longer than 256 bytes");
	/* a known record's field too, and the record name itself */
	snprintf(body, sizeof(body), H1 "error|census|%0257d\n", 0);
	CHECK(parse(1, false, body, why, sizeof(why)) == -EBADMSG);
	CHECK_STR(why, "line 4: field 3 longer than 256 bytes");
	snprintf(body, sizeof(body), H1 "%0257d\n", 0);
	CHECK(parse(1, false, body, why, sizeof(why)) == -EBADMSG);
	CHECK_STR(why, "line 4: field 1 longer than 256 bytes");
}

static void test_nul(void)
{
	struct inspect_report r;
	char why[200], *text;
	size_t len;

	inspect_report_init(&r);
	text = fx_report(2, H2 "type|a@|1|2|0\n", &len);
	*strchr(text, '@') = '\0';
	CHECK(inspect_parse(&r, text, len, FX_TOKEN, 2, FX_PID, why, sizeof(why)) == -EBADMSG);
	CHECK_STR(why, "line 4: control character 0x00 at byte 7");
	free(text);
	/* NUL at the very end (after the end record) */
	text = fx_report(1, H1, &len);
	text = realloc(text, len + 1);
	text[len] = '\0';
	CHECK(inspect_parse(&r, text, len + 1, FX_TOKEN, 1, FX_PID, why, sizeof(why)) == -EBADMSG);
	CHECK_STR(why, "line 5: text after the end record");
	free(text);
}

static void test_size(void)
{
	struct inspect_report r;
	char why[200], *body = malloc(INSPECT_REPORT_MAX), *text = NULL, *big;
	size_t len = 0, blen = strlen(H1);

	inspect_report_init(&r);
	memcpy(body, H1, blen + 1);
	/* padded with unknown records to exactly INSPECT_REPORT_MAX */
	for (;;) {
		free(text);
		text = fx_report(1, body, &len);
		if (len >= INSPECT_REPORT_MAX)
			break;
		if (INSPECT_REPORT_MAX - len > 150) {
			blen += (size_t)sprintf(body + blen, "pad|%0100d\n", 0);
		} else {   /* lengthen the last pad line; the count stays */
			size_t more = INSPECT_REPORT_MAX - len;

			memmove(body + blen - 1 + more, body + blen - 1, 2);
			memset(body + blen - 1, '0', more);
			blen += more;
		}
	}
	CHECK(len == INSPECT_REPORT_MAX);
	CHECK_MSG(inspect_parse(&r, text, len, FX_TOKEN, 1, FX_PID, why, sizeof(why)) == 0, "%s", why);
	big = malloc(INSPECT_REPORT_MAX + 1);
	memcpy(big, text, len);
	big[len] = '\n';
	CHECK(inspect_parse(&r, big, len + 1, FX_TOKEN, 1, FX_PID, why, sizeof(why)) == -E2BIG);
	CHECK_STR(why, "report of 262145 bytes, more than 262144");
	CHECK(r.text == NULL && r.phase == 0);
	free(big);
	free(text);
	free(body);
}

static void test_arguments(void)
{
	struct inspect_report r;
	char why[200], *text;
	size_t len;

	inspect_report_init(&r);
	text = fx_report(1, fx_p1_started, &len);
	CHECK(inspect_parse(&r, text, len, NULL, 1, FX_PID, why, sizeof(why)) == -EINVAL);
	CHECK_STR(why, "bad arguments");
	CHECK(inspect_parse(&r, text, len, FX_TOKEN, 0, FX_PID, why, sizeof(why)) == -EINVAL);
	CHECK(inspect_parse(&r, text, len, FX_TOKEN, 3, FX_PID, why, sizeof(why)) == -EINVAL);
	CHECK(inspect_parse(&r, NULL, 5, FX_TOKEN, 1, FX_PID, why, sizeof(why)) == -EINVAL);
	CHECK(inspect_parse(NULL, text, len, FX_TOKEN, 1, FX_PID, why, sizeof(why)) == -EINVAL);
	/* no room for a reason: fine either way */
	CHECK(inspect_parse(&r, text, len, FX_TOKEN, 1, FX_PID, NULL, 0) == 0);
	CHECK(inspect_parse(&r, text, len - 1, FX_TOKEN, 1, FX_PID, NULL, 0) == -EBADMSG);
	CHECK(inspect_parse(&r, text, len - 1, FX_TOKEN, 1, FX_PID, why, 1) == -EBADMSG && why[0] == '\0');
	/* a short reason is cut, still terminated */
	CHECK(inspect_parse(&r, text, len - 1, FX_TOKEN, 1, FX_PID, why, 8) == -EBADMSG);
	CHECK_STR(why, "line 8:");
	free(text);
	inspect_report_free(&r);
}

int main(void)
{
	RUN(test_fixtures_parse);
	RUN(test_values);
	RUN(test_bad);
	RUN(test_caps);
	RUN(test_lengths);
	RUN(test_nul);
	RUN(test_size);
	RUN(test_arguments);
	return check_done("test_inspect_report");
}
