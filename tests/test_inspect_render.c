/* The inspection's renderings (core/inspect_render.h, inspect_text.h):
 * python.json valid JSON and UTF-8 (checked by a reader of its own below,
 * which also looks values up by path) with the reports' values and the
 * facts in it, for every cause, with a phase or the measurements missing,
 * and whatever bytes the strings hold; python.txt with the summary first,
 * its tables, no control character, and at most 16 KiB for the largest
 * report.  The summaries are test_inspect_summary.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json_check.h"
#include "text.h"
#include "inspect_fixtures.h"
#include "core/inspect_render.h"
#include "core/inspect_report.h"
#include "core/inspect_summary.h"
#include "core/inspect_text.h"

/* ---- lookups by path in a valid JSON text (json_check.h reads it) ------ */

/* The raw text of the value at path ("facts.top_type.name", "sites.0.size")
 * in the valid JSON text, into out; false when there is none. */
static bool json_get(const char *text, const char *path, char *out, size_t len)
{
	struct jp j = { text, 0 };
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
			"measured over 30.0 s: rss 100M -> 280M (+180M); fds 12 -> 12 (+0); threads 3 -> 3 (+0)\n",
			"tracemalloc: started, then stopped; traced heap 0B -> 170M (+170M)\n",
			"growth outside the Python heap: no (rss +180M, traced heap +170M)\n",
			"gc objects 52,000 -> 312,000 (+260,000)\n",
			"\ntypes, most grown first",
			"  +180,000  +172M  __main__.Session (1,000 -> 181,000)\n"
			"      -> 180,000 builtins.dict  18M\n      -> 180,000 builtins.str  12M\n",
			"  +168M  +180,000 blocks  app/cache.py:88 (now 168M in 180,000 blocks)\n"
			"      app/main.py:10  main\n      app/server.py:55  handle\n      app/cache.py:88  put\n",
			"  -4K  -12 blocks  app/old.py:3",
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
	RUN(test_json_causes);
	RUN(test_json_content);
	RUN(test_hostile_strings);
	RUN(test_text);
	RUN(test_largest);
	return check_done("test_inspect_render");
}
