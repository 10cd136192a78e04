/* The inspection's facts, summary and renderings (core/inspect_summary.h,
 * inspect_render.h, inspect_text.h): the summary line for each trigger and
 * cause (a cache, cycles, closures, files, sockets, sqlite, a native
 * library, threads, on demand, no tracemalloc, nothing found, no phase 2),
 * the facts behind it, the formatting helpers; python.json valid JSON and
 * UTF-8 (checked by a reader of its own below, which also looks values up
 * by path) with the reports' values in it, whatever bytes the strings
 * hold; python.txt with the summary first, its tables, no control
 * character and at most 16 KiB for the largest report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "text.h"
#include "inspect_fixtures.h"
#include "core/inspect_fmt.h"
#include "core/inspect_render.h"
#include "core/inspect_report.h"
#include "core/inspect_summary.h"
#include "core/inspect_text.h"

/* ---- a validating JSON reader (RFC 8259), with lookups by path ----------- */

struct jr {
	const char *p;
	int depth;
};

static bool j_value(struct jr *j);

static void j_ws(struct jr *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static bool j_string(struct jr *j)
{
	if (*j->p++ != '"')
		return false;
	for (; *j->p != '"'; j->p++) {
		if ((unsigned char)*j->p < 0x20)      /* also the end */
			return false;
		if (*j->p != '\\')
			continue;
		j->p++;
		if (*j->p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!j->p[i] || !strchr("0123456789abcdefABCDEF", j->p[i]))
					return false;
			j->p += 4;
		} else if (!*j->p || !strchr("\"\\/bfnrt", *j->p)) {
			return false;
		}
	}
	j->p++;
	return true;
}

static bool j_digits(struct jr *j)
{
	const char *s = j->p;

	while (*j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool j_number(struct jr *j)
{
	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (!j_digits(j))
		return false;
	if (*j->p == '.' && (j->p++, !j_digits(j)))
		return false;
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!j_digits(j))
			return false;
	}
	return true;
}

static bool j_container(struct jr *j, char close, bool object)
{
	if (++j->depth > 32)
		return false;
	j->p++;
	j_ws(j);
	if (*j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		j_ws(j);
		if (object) {
			if (!j_string(j))
				return false;
			j_ws(j);
			if (*j->p++ != ':')
				return false;
		}
		if (!j_value(j))
			return false;
		j_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			return false;
		j->depth--;
		return true;
	}
}

static bool j_value(struct jr *j)
{
	j_ws(j);
	switch (*j->p) {
	case '{': return j_container(j, '}', true);
	case '[': return j_container(j, ']', false);
	case '"': return j_string(j);
	case 't': return strncmp(j->p, "true", 4) == 0 && (j->p += 4);
	case 'f': return strncmp(j->p, "false", 5) == 0 && (j->p += 5);
	case 'n': return strncmp(j->p, "null", 4) == 0 && (j->p += 4);
	default:  return j_number(j);
	}
}

static bool json_valid(const char *text)
{
	struct jr j = { text, 0 };

	if (!j_value(&j))
		return false;
	j_ws(&j);
	return *j.p == '\0';
}

/* The raw text of the value at path ("facts.top_type.name", "sites.0.size")
 * in the valid JSON text, into out; false when there is none. */
static bool json_get(const char *text, const char *path, char *out, size_t len)
{
	struct jr j = { text, 0 };
	const char *start;

	for (;;) {
		size_t n = strcspn(path, ".");
		bool found = false;

		j_ws(&j);
		if (n == 0)
			break;
		if (*j.p == '{') {
			j.p++;
			while (!found) {
				j_ws(&j);
				if (*j.p != '"')
					return false;
				start = j.p + 1;
				j_string(&j);
				found = (size_t)(j.p - 1 - start) == n && strncmp(start, path, n) == 0;
				j_ws(&j);
				j.p++;          /* ':' */
				j_ws(&j);
				if (!found && (!j_value(&j) || (j_ws(&j), *j.p++ != ',')))
					return false;
			}
		} else if (*j.p == '[') {
			long idx = strtol(path, NULL, 10);

			j.p++;
			for (long i = 0; i < idx; i++)
				if (!j_value(&j) || (j_ws(&j), *j.p++ != ','))
					return false;
			j_ws(&j);
			if (*j.p == ']')
				return false;
		} else {
			return false;
		}
		path += n + (path[n] == '.');
	}
	start = j.p;
	if (!j_value(&j))
		return false;
	snprintf(out, len, "%.*s", (int)(j.p - start), start);
	return true;
}

#define CHECK_JSON(text, path, want) do { char v_[600] = ""; \
	CHECK_MSG(json_get(text, path, v_, sizeof(v_)) && strcmp(v_, want) == 0, \
		  "%s: %s, expected %s", path, v_, want); } while (0)

/* No control character but newlines, valid UTF-8. */
static bool clean_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
			return false;
	return utf8_valid(s);
}

static void test_json_reader(void)
{
	static const char *const good[] = {
		"{}", "[]", "{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\n\"]}", " 0 ",
	};
	static const char *const bad[] = {
		"", "{", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "\"\x01\"", "01", "1.", "\"\\x\"", "[] []", "nul",
		"{\"a\":\"\\u12\"}",
	};
	char v[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_MSG(json_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(!json_valid(bad[i]), "%s", bad[i]);
	CHECK(json_get("{\"a\": {\"bb\": [1, {\"c\": \"d\"}]}}", "a.bb.1.c", v, sizeof(v)) && strcmp(v, "\"d\"") == 0);
	CHECK(json_get("{\"a\": 1, \"b\": 2}", "b", v, sizeof(v)) && strcmp(v, "2") == 0);
	CHECK(!json_get("{\"a\": 1}", "b", v, sizeof(v)));
	CHECK(!json_get("{\"a\": [1]}", "a.1", v, sizeof(v)));
}

/* ---- the fixtures, parsed ------------------------------------------------- */

struct loaded {
	struct inspect_report p1, p2;
	struct inspect_facts f;
};

static bool parse_one(struct inspect_report *r, int phase, const char *body)
{
	char why[200], *text;
	size_t len;
	int rc;

	inspect_report_init(r);
	text = fx_report(phase, body, &len);
	if (!text)
		return false;
	rc = inspect_parse(r, text, len, FX_TOKEN, phase, FX_PID, why, sizeof(why));
	CHECK_MSG(rc == 0, "phase %d: %s", phase, why);
	free(text);
	return rc == 0;
}

static bool load(const struct fx_cause *c, struct loaded *l)
{
	if (!parse_one(&l->p1, 1, c->p1) || !parse_one(&l->p2, 2, c->p2))
		return false;
	CHECK(inspect_facts_build(&l->f, &l->p1, &l->p2, &c->m) == 0);
	return true;
}

static void unload(struct loaded *l)
{
	inspect_report_free(&l->p1);
	inspect_report_free(&l->p2);
}

static const struct fx_cause *cause(const char *name)
{
	for (size_t i = 0; i < FX_CAUSES; i++)
		if (strcmp(fx_causes[i].name, name) == 0)
			return &fx_causes[i];
	abort();
}

/* ---- the summary ------------------------------------------------------------ */

static void test_summaries(void)
{
	static const struct {
		const char *cause, *summary;
	} cases[] = {
		{ "cache", "rss leak in pid 4242: +180,000 __main__.Session objects (+172 MiB); "
			   "top site app/cache.py:88 (+168 MiB)" },
		{ "cycles", "rss leak in pid 4242: +500,000 __main__.Node objects (+26.7 MiB); "
			    "top site app/graph.py:21 (+60 MiB)" },
		{ "closure", "uss leak in pid 4242: +50,000 functions __main__.make_handler.<locals>.handler "
			     "(+7 MiB); top site app/handlers.py:14 (+9.5 MiB)" },
		{ "files", "fds leak in pid 4242: 500 open files /srv/data.db (+480) opened at app/db.py:12" },
		{ "sockets", "fds leak in pid 4242: 300 open sockets AF_INET 10.0.0.2:5432 (+290) "
			     "opened at app/pool.py:30" },
		{ "sqlite", "fds leak in pid 4242: 200 sqlite connections /srv/cache.sqlite (+200) "
			    "opened at app/store.py:9" },
		{ "native", "rss leak in pid 4242: +96 MiB outside the Python heap (traced Python heap "
			    "+1.2 MiB): a C extension or native library" },
		{ "native-pss", "pss leak in pid 4242: +96 MiB outside the Python heap (traced Python heap "
				"+1.2 MiB): a C extension or native library" },
		{ "threads", "threads leak in pid 4242: 200 threads (+190) in app/worker.py:42 wait_forever" },
		{ "on-demand", "inspection of pid 4242: +180,000 __main__.Session objects (+172 MiB); "
			       "top site app/cache.py:88 (+168 MiB)" },
		{ "on-demand-threads", "inspection of pid 4242: 200 threads (+190) in app/worker.py:42 wait_forever" },
		{ "on-demand-native", "inspection of pid 4242: +96 MiB outside the Python heap (traced Python "
				      "heap +1.2 MiB): a C extension or native library" },
		{ "on-demand-quiet", "inspection of pid 4242: no growth of Python objects, threads or files found" },
		{ "notrace", "rss leak in pid 4242: +180,000 __main__.Session objects (+172 MiB); "
			     "no allocation sites (tracemalloc off)" },
		{ "quiet-rss", "rss leak in pid 4242: +4 MiB RSS, no growth of Python objects, threads or "
			       "files found" },
		{ "quiet-fds", "fds leak in pid 4242: 500 fds (+480), none held by a Python file, socket or "
			       "sqlite object" },
		{ "quiet-threads", "threads leak in pid 4242: 40 threads (+37), no Python thread stack grew "
				   "(threads of native code?)" },
	};

	CHECK(sizeof(cases) / sizeof(cases[0]) == FX_CAUSES);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct loaded l;

		if (!load(cause(cases[i].cause), &l))
			continue;
		CHECK_MSG(strcmp(l.f.summary, cases[i].summary) == 0, "%s:\n  \"%s\"\nexpected\n  \"%s\"",
			  cases[i].cause, l.f.summary, cases[i].summary);
		CHECK(strlen(l.f.summary) <= INSPECT_SUMMARY_LEN && clean_text(l.f.summary));
		CHECK(!strchr(l.f.summary, '\n'));
		unload(&l);
	}
}

static void test_facts(void)
{
	struct loaded l;

	if (load(cause("cache"), &l)) {
		CHECK(l.f.pid == 4242);
		CHECK_STR(l.f.trigger, "rss");
		CHECK(l.f.has_type && l.f.type_count == 181000 && l.f.type_growth == 180000);
		CHECK(l.f.type_size == 180355072);
		CHECK_STR(l.f.top_type, "__main__.Session");
		CHECK(l.f.has_site && l.f.site_size_growth == 176160768 && l.f.site_count_growth == 180000);
		CHECK_STR(l.f.top_site, "app/cache.py:88");
		/* the main thread's stack: its innermost frame outside the stdlib */
		CHECK(l.f.has_stack && l.f.stack_count == 2 && l.f.stack_growth == 0);
		CHECK_STR(l.f.stack_where, "app/main.py:5");
		CHECK_STR(l.f.stack_func, "<module>");
		CHECK_STR(l.f.stack_target, "");
		CHECK(l.f.outside_heap == INSPECT_VERDICT_NO && l.f.heap_traced);
		CHECK(l.f.rss_growth == (int64_t)(180 * MiB) && l.f.heap_growth == 178257920);
		CHECK(l.f.has_file && l.f.file_kind == INSPECT_FILE_SOCKET && l.f.file_count == 2);
		CHECK_STR(l.f.file_name, "AF_INET 0.0.0.0:8080");
		CHECK_STR(l.f.file_site, "");
		CHECK(l.f.files_total == 3);
		unload(&l);
	}
	if (load(cause("threads"), &l)) {
		CHECK(l.f.stack_count == 200 && l.f.stack_count1 == 10 && l.f.stack_growth == 190);
		CHECK_STR(l.f.stack_where, "app/worker.py:42");
		CHECK_STR(l.f.stack_func, "wait_forever");
		CHECK_STR(l.f.stack_target, "app.worker.run");
		CHECK_STR(l.f.stack_name, "Thread-N (worker)");
		unload(&l);
	}
	if (load(cause("native"), &l)) {
		CHECK(l.f.outside_heap == INSPECT_VERDICT_YES);
		CHECK(l.f.heap_growth == 1258291 && l.f.outside_bytes == (int64_t)(96 * MiB));
		unload(&l);
	}
	if (load(cause("notrace"), &l)) {
		CHECK(l.f.outside_heap == INSPECT_VERDICT_UNKNOWN && !l.f.heap_traced && !l.f.has_site);
		unload(&l);
	}
	/* the picks are maxima, not the first rows */
	if (load(cause("cache"), &l)) {
		struct inspect_type t = l.p2.types[0];
		struct inspect_site s = l.p2.sites[0];

		l.p2.types[0] = l.p2.types[1];
		l.p2.types[1] = t;
		l.p2.sites[0] = l.p2.sites[2];
		l.p2.sites[2] = s;
		CHECK(inspect_facts_build(&l.f, &l.p1, &l.p2, &cause("cache")->m) == 0);
		CHECK_STR(l.f.top_type, "__main__.Session");
		CHECK_STR(l.f.top_site, "app/cache.py:88");
		unload(&l);
	}
}

/* The verdict at its edges: RSS growth of 8 MiB, heap growth of a quarter. */
static void test_native_rule(void)
{
	static const struct {
		uint64_t rss_growth, heap_growth;
		enum inspect_verdict v;
	} cases[] = {
		{ 8 * MiB, 0, INSPECT_VERDICT_YES },
		{ 8 * MiB - 1, 0, INSPECT_VERDICT_NO },
		{ 100 * MiB, 25 * MiB - 1, INSPECT_VERDICT_YES },
		{ 100 * MiB, 25 * MiB, INSPECT_VERDICT_NO },
		{ 0, 0, INSPECT_VERDICT_NO },
	};
	struct loaded l;

	if (!load(cause("native"), &l))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inspect_measure m = cause("native")->m;

		m.rss2 = m.rss1 + cases[i].rss_growth;
		l.p2.heap = l.p2.heap_start + cases[i].heap_growth;
		CHECK(inspect_facts_build(&l.f, &l.p1, &l.p2, &m) == 0);
		CHECK_MSG(l.f.outside_heap == cases[i].v, "case %zu: %s", i, inspect_verdict_name(l.f.outside_heap));
	}
	/* unknown: RSS not measured; tracemalloc failed at phase 1; no heap record */
	CHECK(inspect_facts_build(&l.f, &l.p1, &l.p2, NULL) == 0 && l.f.outside_heap == INSPECT_VERDICT_UNKNOWN);
	l.p1.tracemalloc = INSPECT_TM_FAILED;
	CHECK(inspect_facts_build(&l.f, &l.p1, &l.p2, &cause("native")->m) == 0);
	CHECK(l.f.outside_heap == INSPECT_VERDICT_UNKNOWN);
	l.p1.tracemalloc = INSPECT_TM_RUNNING;
	l.p2.have &= ~(unsigned)INSPECT_HAVE_HEAP;
	CHECK(inspect_facts_build(&l.f, &l.p1, &l.p2, &cause("native")->m) == 0);
	CHECK(l.f.outside_heap == INSPECT_VERDICT_UNKNOWN);
	unload(&l);
}

static void test_missing(void)
{
	struct inspect_facts f;
	struct loaded l;

	if (!load(cause("cache"), &l))
		return;
	/* phase 2 failed */
	CHECK(inspect_facts_build(&f, &l.p1, NULL, &cause("cache")->m) == 0);
	CHECK_STR(f.summary, "rss leak in pid 4242: +180 MiB RSS, no phase 2 report");
	CHECK(inspect_facts_build(&f, &l.p1, NULL, &cause("threads")->m) == 0);
	CHECK_STR(f.summary, "threads leak in pid 4242: 202 threads (+190), no phase 2 report");
	/* phase 1 not given: the facts come from phase 2 */
	CHECK(inspect_facts_build(&f, NULL, &l.p2, &cause("cache")->m) == 0);
	CHECK_STR(f.top_type, "__main__.Session");
	/* an unknown trigger is on demand */
	{
		struct inspect_measure m = cause("cache")->m;

		m.trigger = "rss\nforged";
		CHECK(inspect_facts_build(&f, &l.p1, &l.p2, &m) == 0);
		CHECK(strncmp(f.summary, "inspection of pid 4242: ", 24) == 0);
		CHECK_STR(f.trigger, "");
	}
	CHECK(inspect_facts_build(&f, NULL, NULL, NULL) == -EINVAL);
	CHECK(inspect_facts_build(&f, &l.p2, NULL, NULL) == -EINVAL);
	CHECK(inspect_facts_build(&f, &l.p1, &l.p1, NULL) == -EINVAL);
	unload(&l);
}

/* Names as long as a field may be, of two-byte characters: the line stays
 * within 300 bytes, cut on characters. */
static void test_long_names(void)
{
	char name[300], body[2048];
	struct inspect_report p2;
	struct inspect_facts f;
	struct inspect_measure m = { "rss", 100 * MiB, 200 * MiB, 0, 0, 0, 0, 30 };

	for (int i = 0; i < 128; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[256] = '\0';
	snprintf(body, sizeof(body), FX_HEAD2 "tracemalloc|stopped\nheap|0|104857600\n"
		 "type|%s|1|2|100\nsite|%.*s:1|100|1|100|1\n", name, 250, name);
	if (!parse_one(&p2, 2, body))
		return;
	CHECK(inspect_facts_build(&f, NULL, &p2, &m) == 0);
	CHECK_MSG(strlen(f.summary) <= INSPECT_SUMMARY_LEN && clean_text(f.summary), "%s", f.summary);
	CHECK(strstr(f.summary, "...") != NULL);
	CHECK_STR(f.top_type, name);       /* the facts keep it whole */
	inspect_report_free(&p2);
}

static void test_formats(void)
{
	static const struct {
		uint64_t v;
		const char *s;
	} counts[] = {
		{ 0, "0" }, { 999, "999" }, { 1000, "1,000" }, { 180000, "180,000" },
		{ 1234567, "1,234,567" }, { 18446744073709551615ull, "18,446,744,073,709,551,615" },
	};
	static const struct {
		double v;
		bool sign;
		const char *s;
	} sizes[] = {
		{ 180355072, true, "+172 MiB" }, { 1258291, true, "+1.2 MiB" }, { 512, false, "512 B" },
		{ 0, true, "+0 B" }, { -4096, true, "-4 KiB" }, { -4096, false, "-4 KiB" },
		{ 1024.0 * 1024 * 1024 * 3, false, "3 GiB" },
	};
	static const struct {
		const char *in;
		size_t max;
		const char *out;
	} clips[] = {
		{ "abc", 10, "abc" }, { "abcdefghij", 10, "abcdefghij" }, { "abcdefghijk", 10, "abcdefg..." },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 9, "\xc3\xa9\xc3\xa9\xc3\xa9..." },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, "\xc3\xa9\xc3\xa9..." },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 7, "\xc3\xa9\xc3\xa9\xc3\xa9" },
		{ "a\nb\x1b\xff\xc2\x85z", 20, "a?b???z" },
		{ "abcdef", 2, "ab" },
	};
	char s[64];

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		inspect_fmt_count(s, sizeof(s), counts[i].v);
		CHECK_STR(s, counts[i].s);
	}
	inspect_fmt_diff(s, sizeof(s), 180000);
	CHECK_STR(s, "+180,000");
	inspect_fmt_diff(s, sizeof(s), -12);
	CHECK_STR(s, "-12");
	inspect_fmt_diff(s, sizeof(s), INT64_MIN);
	CHECK_STR(s, "-9,223,372,036,854,775,808");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		inspect_fmt_size(s, sizeof(s), sizes[i].v, sizes[i].sign);
		CHECK_STR(s, sizes[i].s);
	}
	for (size_t i = 0; i < sizeof(clips) / sizeof(clips[0]); i++) {
		inspect_clip(s, sizeof(s), clips[i].in, clips[i].max);
		CHECK_STR(s, clips[i].out);
	}
	inspect_clip(s, 4, "abcdefgh", 100);      /* the buffer binds; too short for "..." */
	CHECK_STR(s, "abc");
	inspect_clip(s, 9, "abcdefghij", 100);
	CHECK_STR(s, "abcde...");
	CHECK(inspect_sdiff(5, 7) == -2 && inspect_sdiff(UINT64_MAX, 0) == INT64_MAX);
	CHECK(inspect_sdiff(0, UINT64_MAX) == INT64_MIN);
	CHECK(inspect_stdlib_frame("/usr/lib/python3.11/threading.py:320"));
	CHECK(inspect_stdlib_frame("/root/.pyenv/versions/3.12.1/lib/python3.12/queue.py:171"));
	CHECK(inspect_stdlib_frame("<frozen importlib._bootstrap>:241"));
	CHECK(!inspect_stdlib_frame("/usr/lib/python3/dist-packages/requests/api.py:59"));
	CHECK(!inspect_stdlib_frame("/srv/venv/lib/python3.11/site-packages/gunicorn/arbiter.py:20"));
	CHECK(!inspect_stdlib_frame("app/worker.py:42"));
	CHECK(!inspect_stdlib_frame("<string>:1"));
}

/* ---- python.json ------------------------------------------------------------ */

static void test_json_causes(void)
{
	for (size_t i = 0; i < FX_CAUSES; i++) {
		struct buf b = { 0 };
		struct loaded l;

		if (!load(&fx_causes[i], &l))
			continue;
		CHECK(inspect_render_json(&b, &l.p1, &l.p2, &fx_causes[i].m, &l.f) == 0);
		CHECK_MSG(json_valid(b.data), "%s: invalid JSON:\n%s", fx_causes[i].name, b.data);
		CHECK(utf8_valid(b.data));
		CHECK_JSON(b.data, "pid", "4242");
		CHECK_JSON(b.data, "format", "1");
		/* and with a phase missing, or nothing measured */
		buf_reset(&b);
		CHECK(inspect_render_json(&b, NULL, &l.p2, NULL, &l.f) == 0 && json_valid(b.data));
		CHECK_JSON(b.data, "phase1", "null");
		CHECK_JSON(b.data, "measured", "null");
		buf_reset(&b);
		CHECK(inspect_render_json(&b, &l.p1, NULL, &fx_causes[i].m, &l.f) == 0 && json_valid(b.data));
		CHECK_JSON(b.data, "phase2", "null");
		CHECK_JSON(b.data, "types", "[]");
		buf_free(&b);
		unload(&l);
	}
}

static void test_json_content(void)
{
	struct buf b = { 0 };
	struct loaded l;
	char summary[400];

	if (!load(cause("cache"), &l))
		return;
	CHECK(inspect_render_json(&b, &l.p1, &l.p2, &cause("cache")->m, &l.f) == 0);
	snprintf(summary, sizeof(summary), "\"%s\"", l.f.summary);
	CHECK_JSON(b.data, "summary", summary);
	CHECK_JSON(b.data, "python", "\"3.11.2\"");
	CHECK_JSON(b.data, "trigger", "\"rss\"");
	CHECK_JSON(b.data, "measured.seconds", "30");
	CHECK_JSON(b.data, "measured.rss.phase1", "104857600");
	CHECK_JSON(b.data, "measured.rss.phase2", "293601280");
	CHECK_JSON(b.data, "measured.fds.phase2", "12");
	CHECK_JSON(b.data, "measured.threads.phase1", "3");
	CHECK_JSON(b.data, "phase1.pause", "0.012345");
	CHECK_JSON(b.data, "phase1.tracemalloc", "\"started\"");
	CHECK_JSON(b.data, "phase1.heap", "0");
	CHECK_JSON(b.data, "phase1.objects", "52000");
	CHECK_JSON(b.data, "phase1.threads", "3");
	CHECK_JSON(b.data, "phase2.pause", "0.345678");
	CHECK_JSON(b.data, "phase2.elapsed", "30.002000");
	CHECK_JSON(b.data, "phase2.tracemalloc", "\"stopped\"");
	CHECK_JSON(b.data, "phase2.heap.start", "0");
	CHECK_JSON(b.data, "phase2.heap.end", "178257920");
	CHECK_JSON(b.data, "phase2.objects.end", "312000");
	CHECK_JSON(b.data, "phase2.files", "3");
	CHECK_JSON(b.data, "types.0.name", "\"__main__.Session\"");
	CHECK_JSON(b.data, "types.0.count1", "1000");
	CHECK_JSON(b.data, "types.0.growth", "180000");
	CHECK_JSON(b.data, "types.1.size", "18874368");
	CHECK_JSON(b.data, "referents.1.name", "\"builtins.str\"");
	CHECK_JSON(b.data, "referents.2.owner", "\"builtins.dict\"");
	CHECK_JSON(b.data, "sites.0.site", "\"app/cache.py:88\"");
	CHECK_JSON(b.data, "sites.0.traceback.2", "{\"where\": \"app/cache.py:88\", \"function\": \"put\"}");
	CHECK_JSON(b.data, "sites.2.size_diff", "-4096");
	CHECK_JSON(b.data, "sites.2.traceback", "[]");
	CHECK_JSON(b.data, "stacks.0.name", "\"MainThread\"");
	CHECK_JSON(b.data, "stacks.0.target", "null");
	CHECK_JSON(b.data, "stacks.0.frames.1.function", "\"select\"");
	CHECK_JSON(b.data, "files.0.kind", "\"socket\"");
	CHECK_JSON(b.data, "files.0.site", "null");
	CHECK_JSON(b.data, "files.1.name", "\"/var/log/app.log\"");
	CHECK_JSON(b.data, "errors", "[]");
	CHECK_JSON(b.data, "facts.top_type.name", "\"__main__.Session\"");
	CHECK_JSON(b.data, "facts.top_type.growth", "180000");
	CHECK_JSON(b.data, "facts.top_site.site", "\"app/cache.py:88\"");
	CHECK_JSON(b.data, "facts.top_site.size_growth", "176160768");
	CHECK_JSON(b.data, "facts.top_stack.where", "\"app/main.py:5\"");
	CHECK_JSON(b.data, "facts.top_stack.target", "null");
	CHECK_JSON(b.data, "facts.outside_python_heap.verdict", "\"no\"");
	CHECK_JSON(b.data, "facts.outside_python_heap.heap_traced", "true");
	CHECK_JSON(b.data, "facts.outside_python_heap.rss_growth", "188743680");
	CHECK_JSON(b.data, "facts.top_files.kind", "\"socket\"");
	CHECK_JSON(b.data, "facts.files_total", "3");
	unload(&l);

	if (load(cause("notrace"), &l)) {
		buf_reset(&b);
		CHECK(inspect_render_json(&b, &l.p1, &l.p2, &cause("notrace")->m, &l.f) == 0);
		CHECK_JSON(b.data, "phase1.tracemalloc", "\"failed\"");
		CHECK_JSON(b.data, "phase1.heap", "null");
		CHECK_JSON(b.data, "phase2.heap", "null");
		CHECK_JSON(b.data, "phase2.files", "null");
		CHECK_JSON(b.data, "errors.0.phase", "1");
		CHECK_JSON(b.data, "errors.0.what", "\"tracemalloc\"");
		CHECK_JSON(b.data, "errors.1.phase", "2");
		CHECK_JSON(b.data, "errors.1.message", "\"not tracing\"");
		CHECK_JSON(b.data, "facts.top_site", "null");
		CHECK_JSON(b.data, "facts.outside_python_heap.verdict", "\"unknown\"");
		unload(&l);
	}
	if (load(cause("on-demand"), &l)) {
		buf_reset(&b);
		CHECK(inspect_render_json(&b, &l.p1, &l.p2, &cause("on-demand")->m, &l.f) == 0);
		CHECK_JSON(b.data, "trigger", "null");
		unload(&l);
	}
	buf_free(&b);
}

/* Quotes and backslashes pass the parser and are escaped; a report that
 * never saw the parser (control characters, bytes that are not UTF-8)
 * still renders as valid JSON and UTF-8, and as clean text. */
static void test_hostile_strings(void)
{
	struct inspect_report p2;
	struct inspect_facts f;
	struct buf b = { 0 };

	if (!parse_one(&p2, 2, FX_HEAD2 "type|a\"b\\c|1|2|3\nfile|file|/x \"y\"|5|-\n"))
		return;
	CHECK(inspect_facts_build(&f, NULL, &p2, NULL) == 0);
	CHECK(inspect_render_json(&b, NULL, &p2, NULL, &f) == 0 && json_valid(b.data));
	CHECK_JSON(b.data, "types.0.name", "\"a\\\"b\\\\c\"");
	CHECK_JSON(b.data, "facts.top_files.name", "\"/x \\\"y\\\"\"");
	inspect_report_free(&p2);

	inspect_report_init(&p2);
	p2.phase = 2;
	p2.pid = 1;
	p2.version = "3\n\x1b[31m";
	p2.n_types = 1;
	p2.types[0] = (struct inspect_type){ "\xff\xfe\"\\\x01\x7f\xc2\x85\xed\xa0\x80", 1, 2, 3 };
	p2.n_errors = 1;
	p2.errors[0] = (struct inspect_error){ "internal", "line\r\nforged: yes\t\xc0" };
	p2.n_stacks = 1;
	p2.stacks[0] = (struct inspect_stack){ 3, 1, "\x9b" "2J", NULL, 1, { { "\x01:1", "\x02" } } };
	CHECK(inspect_facts_build(&f, NULL, &p2, NULL) == 0);
	CHECK(clean_text(f.summary) && clean_text(f.top_type) && clean_text(f.stack_where));
	buf_reset(&b);
	CHECK(inspect_render_json(&b, NULL, &p2, NULL, &f) == 0);
	CHECK_MSG(json_valid(b.data), "%s", b.data);
	CHECK(utf8_valid(b.data));
	buf_reset(&b);
	CHECK(inspect_render_text(&b, NULL, &p2, NULL, &f) == 0);
	CHECK_MSG(clean_text(b.data), "%s", b.data);
	CHECK(!strstr(b.data, "\nforged"));
	buf_free(&b);
}

/* ---- python.txt ------------------------------------------------------------- */

static void test_text(void)
{
	static const struct {
		const char *cause;
		const char *has[12];
	} cases[] = {
		{ "cache", {
			"pid 4242, Python 3.11.2; phase 1 reported, phase 2 reported\n",
			"measured over 30.0 s: rss 100 MiB -> 280 MiB (+180 MiB); fds 12 -> 12 (+0); threads 3 -> 3 (+0)\n",
			"tracemalloc: started, then stopped; traced heap 0 B -> 170 MiB (+170 MiB)\n",
			"growth outside the Python heap: no (rss +180 MiB, traced heap +170 MiB)\n",
			"gc objects 52,000 -> 312,000 (+260,000)\n",
			"\ntypes, most grown first",
			"  +180,000  +172 MiB  __main__.Session (1,000 -> 181,000)\n"
			"      -> 180,000 builtins.dict  18 MiB\n      -> 180,000 builtins.str  12 MiB\n",
			"  +168 MiB  +180,000 blocks  app/cache.py:88 (now 168 MiB in 180,000 blocks)\n"
			"      app/main.py:10  main\n      app/server.py:55  handle\n      app/cache.py:88  put\n",
			"  -4 KiB  -12 blocks  app/old.py:3",
			"  2 threads (+0)  \"MainThread\"  target -\n      app/main.py:5  <module>\n",
			"open files, sockets and sqlite connections: 3 seen\n"
			"  2  socket  AF_INET 0.0.0.0:8080\n  1  file  /var/log/app.log  opened at app/log.py:7\n",
		} },
		{ "threads", {
			"  200 threads (+190)  \"Thread-N (worker)\"  target app.worker.run\n"
			"      /usr/lib/python3.11/threading.py:995  _bootstrap\n",
			"      app/worker.py:42  wait_forever\n",
		} },
		{ "notrace", {
			"tracemalloc: failed, then off\n",
			"growth outside the Python heap: unknown\n",
			"\nthe script's errors:\n  phase 1: tracemalloc: RuntimeError: the tracemalloc module is not available\n"
			"  phase 2: tracemalloc: not tracing\n",
		} },
		{ "sqlite", { "  1  sqlite  -\n", "  200  sqlite  /srv/cache.sqlite  opened at app/store.py:9\n" } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = { 0 };
		struct loaded l;

		if (!load(cause(cases[i].cause), &l))
			continue;
		CHECK(inspect_render_text(&b, &l.p1, &l.p2, &cause(cases[i].cause)->m, &l.f) == 0);
		CHECK_MSG(strncmp(b.data, l.f.summary, strlen(l.f.summary)) == 0 &&
			  strncmp(b.data + strlen(l.f.summary), "\n\n", 2) == 0, "%s: the summary first", cases[i].cause);
		for (size_t k = 0; k < 12 && cases[i].has[k]; k++)
			CHECK_MSG(strstr(b.data, cases[i].has[k]), "%s: no \"%s\" in\n%s", cases[i].cause,
				  cases[i].has[k], b.data);
		CHECK(clean_text(b.data) && b.len <= INSPECT_TEXT_MAX);
		CHECK(!strstr(b.data, "more rows not shown"));
		buf_free(&b);
		unload(&l);
	}
	/* a text after other text in the buffer: the budget is its own */
	{
		struct buf b = { 0 };
		struct loaded l;

		if (load(cause("cache"), &l)) {
			buf_puts(&b, "before\n");
			CHECK(inspect_render_text(&b, NULL, &l.p2, NULL, &l.f) == 0);
			CHECK(strncmp(b.data, "before\n", 7) == 0);
			CHECK(strstr(b.data, "phase 1 failed, phase 2 reported"));
			CHECK(!strstr(b.data, "measured over"));
			unload(&l);
		}
		buf_free(&b);
	}
}

/* The largest report: every table at its cap, every field 256 bytes. */
static char *largest(void)
{
	size_t cap = INSPECT_REPORT_MAX, n = 0;
	char *s = malloc(cap), f[257];

	if (!s)
		return NULL;
	memset(f, 'x', 256);
	f[256] = '\0';
	n += (size_t)snprintf(s + n, cap - n, "%s", FX_HEAD2);
	n += (size_t)snprintf(s + n, cap - n, "tracemalloc|stopped\nheap|0|9007199254740991\nobjects|0|9007199254740991\n");
	for (int i = 0; i < INSPECT_TYPES_MAX; i++)
		n += (size_t)snprintf(s + n, cap - n, "type|%.250s%d|0|9007199254740991|9007199254740991\n", f, i);
	for (int i = 0; i < INSPECT_REFERENTS_MAX; i++)
		n += (size_t)snprintf(s + n, cap - n, "referent|%.250s%d|%s|1|1\n", f, i % 20, f);
	for (int i = 0; i < INSPECT_SITES_MAX; i++) {
		n += (size_t)snprintf(s + n, cap - n, "site|%.250s:%d|-9007199254740991|1|1|1\n", f, i);
		for (int k = 0; k < INSPECT_SITE_FRAMES_MAX; k++)
			n += (size_t)snprintf(s + n, cap - n, "frame|%.250s:%d|%s\n", f, k, f);
	}
	for (int i = 0; i < INSPECT_STACKS_MAX; i++) {
		n += (size_t)snprintf(s + n, cap - n, "stack|%d|0|%s|%s\n", 100 - i, f, f);
		for (int k = 0; k < INSPECT_STACK_FRAMES_MAX; k++)
			n += (size_t)snprintf(s + n, cap - n, "frame|%.250s:%d|%s\n", f, k, f);
	}
	for (int i = 0; i < INSPECT_FILES_MAX; i++)
		n += (size_t)snprintf(s + n, cap - n, "file|socket|%s|%d|%.250s:1\n", f, i, f);
	for (int i = 0; i < INSPECT_ERRORS_MAX; i++)
		n += (size_t)snprintf(s + n, cap - n, "error|internal|%s\n", f);
	snprintf(s + n, cap - n, "files|9007199254740991\n");
	return s;
}

static void test_largest(void)
{
	struct inspect_report p1, p2;
	struct inspect_facts f;
	struct buf b = { 0 };
	char *body = largest();

	if (!body || !parse_one(&p1, 1, fx_p1_started) || !parse_one(&p2, 2, body)) {
		free(body);
		return;
	}
	CHECK(inspect_facts_build(&f, &p1, &p2, &cause("cache")->m) == 0);
	CHECK(strlen(f.summary) <= INSPECT_SUMMARY_LEN && clean_text(f.summary));
	CHECK(inspect_render_json(&b, &p1, &p2, &cause("cache")->m, &f) == 0);
	CHECK(json_valid(b.data) && utf8_valid(b.data));
	CHECK_JSON(b.data, "sites.9.traceback.7.where", "\"" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx:7\"");
	CHECK_JSON(b.data, "phase2.heap.end", "9007199254740991");
	CHECK_JSON(b.data, "sites.0.size_diff", "-9007199254740991");
	printf("largest report: python.json %zu bytes\n", b.len);
	buf_reset(&b);
	CHECK(inspect_render_text(&b, &p1, &p2, &cause("cache")->m, &f) == 0);
	CHECK_MSG(b.len <= INSPECT_TEXT_MAX, "python.txt of %zu bytes", b.len);
	CHECK(clean_text(b.data));
	CHECK(strstr(b.data, "more rows not shown: python.json has them all)\n"));
	CHECK(b.data[b.len - 1] == '\n');
	printf("largest report: python.txt %zu bytes\n", b.len);
	buf_free(&b);
	inspect_report_free(&p1);
	inspect_report_free(&p2);
	free(body);
}

int main(void)
{
	RUN(test_json_reader);
	RUN(test_summaries);
	RUN(test_facts);
	RUN(test_native_rule);
	RUN(test_missing);
	RUN(test_long_names);
	RUN(test_formats);
	RUN(test_json_causes);
	RUN(test_json_content);
	RUN(test_hostile_strings);
	RUN(test_text);
	RUN(test_largest);
	return check_done("test_inspect_render");
}
