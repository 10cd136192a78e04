/* The inspection's facts and its one-line summary (core/inspect_summary.h)
 * and the formatting they share with the renderers (core/inspect_fmt.h):
 * the summary for each trigger and cause (a cache, cycles, closures,
 * files, sockets, sqlite, a native library, threads, on demand, no
 * tracemalloc, nothing found, no phase 2, an unknown trigger), the facts
 * behind it (maxima, not first rows; the innermost frame of the program),
 * the native verdict at its edges, names cut within 300 bytes; counts,
 * diffs, sizes, the clip and the stdlib test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "text.h"
#include "inspect_fixtures.h"
#include "core/inspect_fmt.h"
#include "core/inspect_report.h"
#include "core/inspect_summary.h"

static void test_summaries(void)
{
	static const struct {
		const char *cause, *summary;
	} cases[] = {
		{ "cache", "rss leak in pid 4242: +180,000 __main__.Session objects (+172M); "
			   "top site app/cache.py:88 (+168M)" },
		{ "cycles", "rss leak in pid 4242: +500,000 __main__.Node objects (+26.7M); "
			    "top site app/graph.py:21 (+60M)" },
		{ "closure", "uss leak in pid 4242: +50,000 functions __main__.make_handler.<locals>.handler "
			     "(+7M); top site app/handlers.py:14 (+9.5M)" },
		{ "files", "fds leak in pid 4242: 500 open files /srv/data.db (+480) opened at app/db.py:12" },
		{ "sockets", "fds leak in pid 4242: 300 open sockets AF_INET 10.0.0.2:5432 (+290) "
			     "opened at app/pool.py:30" },
		{ "sqlite", "fds leak in pid 4242: 200 sqlite connections /srv/cache.sqlite (+200) "
			    "opened at app/store.py:9" },
		{ "native", "rss leak in pid 4242: +96M outside the Python heap (traced Python heap "
			    "+1.2M): a C extension or native library" },
		{ "native-pss", "pss leak in pid 4242: +96M outside the Python heap (traced Python heap "
				"+1.2M): a C extension or native library" },
		{ "threads", "threads leak in pid 4242: 200 threads (+190) in app/worker.py:42 wait_forever" },
		{ "on-demand", "inspection of pid 4242: +180,000 __main__.Session objects (+172M); "
			       "top site app/cache.py:88 (+168M)" },
		{ "on-demand-threads", "inspection of pid 4242: 200 threads (+190) in app/worker.py:42 wait_forever" },
		{ "on-demand-native", "inspection of pid 4242: +96M outside the Python heap (traced Python "
				      "heap +1.2M): a C extension or native library" },
		{ "on-demand-quiet", "inspection of pid 4242: no growth of Python objects, threads or files found" },
		{ "notrace", "rss leak in pid 4242: +180,000 __main__.Session objects (+172M); "
			     "no allocation sites (tracemalloc off)" },
		{ "quiet-rss", "rss leak in pid 4242: +4M RSS, no growth of Python objects, threads or "
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
	CHECK_STR(f.summary, "rss leak in pid 4242: +180M RSS, no phase 2 report");
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
	/* on demand, the one main thread seen at another line is no thread
	 * leak: the types are named; five more threads at a stack are one */
	if (l.p2.n_stacks > 0) {
		struct inspect_measure m = cause("cache")->m;

		m.trigger = NULL;
		l.p2.stacks[0].count = 1;
		l.p2.stacks[0].count1 = 0;
		CHECK(inspect_facts_build(&f, &l.p1, &l.p2, &m) == 0);
		CHECK_MSG(strstr(f.summary, "__main__.Session") && !strstr(f.summary, "thread"), "%s", f.summary);
		l.p2.stacks[0].count = INSPECT_STACK_LEAK_MIN;
		CHECK(inspect_facts_build(&f, &l.p1, &l.p2, &m) == 0);
		CHECK_MSG(strstr(f.summary, " threads (+5) "), "%s", f.summary);
	} else {
		CHECK_MSG(0, "the cache fixture has no stack");
	}
	/* a type whose growth is under a twentieth of the site's is left out */
	if (l.p2.n_types > 0) {
		l.p2.types[0].size = 100;
		for (size_t i = 1; i < l.p2.n_types; i++)
			l.p2.types[i].c2 = l.p2.types[i].c1 + 1;
		CHECK(inspect_facts_build(&f, &l.p1, &l.p2, &cause("cache")->m) == 0);
		CHECK_MSG(strncmp(f.summary, "rss leak in pid 4242: top site app/cache.py:88 (", 48) == 0, "%s",
			  f.summary);
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
	struct inspect_measure m = { "rss", 100 * MiB, 200 * MiB, 0, 0, 0, 0, 30, { 0, 0 }, { 0, 0 }, { 0, 0 } };

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
		{ 180355072, true, "+172M" }, { 1258291, true, "+1.2M" }, { 512, false, "512B" },
		{ 0, true, "+0B" }, { -4096, true, "-4K" }, { -4096, false, "-4K" },
		{ 1024.0 * 1024 * 1024 * 3, false, "3G" },
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

int main(void)
{
	RUN(test_summaries);
	RUN(test_facts);
	RUN(test_native_rule);
	RUN(test_missing);
	RUN(test_long_names);
	RUN(test_formats);
	return check_done("test_inspect_summary");
}
