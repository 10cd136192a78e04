/* What leakwatchctl shows, rendered from a monitor on a fixture /proc tree:
 * the status as JSON (valid, leakwatchctl(1)'s keys, values matching the monitor) and
 * as a table (80 columns counted in code points, clipped names, printable
 * comm), the sparkline, the history as JSON and as a table, the summary
 * line, and the control requests with their OK/ERR replies. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "json_check.h"
#include "text.h"
#include "core/config.h"
#include "fixture.h"
#include "daemon/monitor.h"
#include "core/history_report.h"
#include "core/report_cells.h"
#include "core/status_report.h"

/* ---- the fixture (its /proc tree: fixture.h) ------------------------------ */

static const char *config_text =
	"interval: 250ms\n"
	"watches:\n"
	"  - name: workers\n"
	"    match: { comm: gunicorn }\n"
	"    warmup: 2s\n"
	"    window: 20s\n"
	"    rss: { growth: 100M/h, max: 12M, for: 2 }\n"
	"    fds: { growth: 1000/h }\n"
	"  - name: a-very-long-watch-name\n"
	"    match: { cmdline: \"^(longproc|weirdproc)\" }\n"
	"    window: 20s\n"
	"    threads: { max: 100 }\n";

/* comm of pid 201: a quote, a backslash and two unprintable bytes */
#define WEIRD_COMM "we\"ir\\d\x01\x7fx"

static void on_event(void *ctx, struct event *e)
{
	(void)ctx;
	(void)e;
}

/* ---- checking helpers --------------------------------------------------------- */

/* Valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
/* Display columns of one line: code points (the table has no wide ones). */
static size_t columns(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* A status table's line of a process's title: under the pid, quoted. */
static bool is_title_line(const char *l)
{
	return strncmp(l, "           \"", 12) == 0 && l[strlen(l) - 1] == '"';
}

/* The lines of a text, in a NULL-terminated array (one allocation). */
static char **split_lines(const char *text, size_t *n)
{
	size_t nl = 0, len = strlen(text);
	char **v, *copy;

	for (const char *p = text; *p; p++)
		nl += *p == '\n';
	v = malloc((nl + 1) * sizeof(*v) + len + 1);
	if (!v)
		exit(2);
	copy = (char *)(v + nl + 1);
	memcpy(copy, text, len + 1);
	*n = 0;
	for (char *p = copy, *e; (e = strchr(p, '\n')); p = e + 1) {
		*e = '\0';
		v[(*n)++] = p;
	}
	v[*n] = NULL;
	return v;
}

/* A status table's lines without its watch lines, the block between the
 * summary's blank line and the header (core/watch_summary.h), and the
 * blank line after them: the layout the row checks index (summary, blank,
 * header, rows).  The number of lines taken out. */
static size_t drop_watch_lines(char **v, size_t *n)
{
	size_t h = 2, k;

	while (h < *n && strncmp(v[h], "WATCH ", 6) != 0)
		h++;
	if (h == *n || h < 4 || v[h - 1][0] != '\0')
		return 0;
	k = h - 2;
	memmove(v + 2, v + h, (*n - h + 1) * sizeof(*v));
	*n -= k;
	return k;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static bool rfc3339_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return false;
	return true;
}

/* In a status JSON: the text of the metric object of a pid, up to its '}'. */
static bool metric_object(const char *json, int pid, const char *metric, char *out, size_t len)
{
	char key[64];
	const char *p, *end;

	snprintf(key, sizeof(key), "\"pid\": %d,", pid);
	if (!(p = strstr(json, key)))
		return false;
	snprintf(key, sizeof(key), "\"%s\": {", metric);
	if (!(p = strstr(p, key)) || !(end = strchr(p, '}')))
		return false;
	snprintf(out, len, "%.*s", (int)(end + 1 - p), p);
	return true;
}

/* The number after "KEY": in text; NAN when absent, INFINITY for null. */
static double field(const char *text, const char *key)
{
	char k[64];
	const char *p;
	char *end;
	double v;

	snprintf(k, sizeof(k), "\"%s\": ", key);
	if (!(p = strstr(text, k)))
		return NAN;
	p += strlen(k);
	if (strncmp(p, "null", 4) == 0)
		return INFINITY;
	v = strtod(p, &end);
	return end == p ? NAN : v;
}

/* Columns start..start+width-1 of an ASCII line, without the padding. */
static void cell(const char *line, size_t start, size_t width, char *out, size_t len)
{
	size_t n = strlen(line), a, e;

	a = start < n ? start : n;
	e = start + width < n ? start + width : n;
	while (a < e && line[a] == ' ')
		a++;
	while (e > a && line[e - 1] == ' ')
		e--;
	snprintf(out, len, "%.*s", (int)(e - a), line + a);
}

static const struct watched *find(const struct monitor *m, pid_t pid)
{
	const struct watched *w = judged_find(&m->j, pid);

	if (!w) {
		fprintf(stderr, "pid %d is not watched\n", (int)pid);
		exit(2);
	}
	return w;
}

/* ---- the tests ----------------------------------------------------------------- */

/* One metric's history: its own timeline, 1 s buckets. */
struct history {
	struct timeline tl;
	struct series s;
};

static void history_init(struct history *h)
{
	timeline_init(&h->tl, 48000);
	memset(&h->s, 0, sizeof(h->s));
}

static void history_add(struct history *h, uint64_t t_ms, double v)
{
	timeline_add(&h->tl, t_ms);
	series_add(&h->s, &h->tl, v);
}

static void test_sparkline(void)
{
	struct history h;
	char out[3 * SPARK_CELLS + 1];

	/* empty: all spaces */
	history_init(&h);
	memset(out, 'X', sizeof(out));
	report_sparkline(&h.tl, &h.s, out, sizeof(out));
	CHECK_STR(out, "        ");

	/* a rising series over the whole ring: lowest block first, full block last */
	for (int i = 0; i < 96; i++)
		history_add(&h, 10000 + (uint64_t)i * 500, 100.0 + i);
	report_sparkline(&h.tl, &h.s, out, sizeof(out));
	CHECK_STR(out, "▁▂▃▄▅▆▇█");
	CHECK(strlen(out) == 3 * SPARK_CELLS);

	/* falling: the other way round */
	history_init(&h);
	for (int i = 0; i < 96; i++)
		history_add(&h, 10000 + (uint64_t)i * 500, 1000.0 - i);
	report_sparkline(&h.tl, &h.s, out, sizeof(out));
	CHECK(strncmp(out, "█", 3) == 0);
	CHECK(strcmp(out + 3 * (SPARK_CELLS - 1), "▁") == 0);

	/* flat, flat within 1 %, all zero: a level line of one character */
	{
		static const double amp[] = { 0, 0.004, -0.004 };

		for (size_t a = 0; a < sizeof(amp) / sizeof(amp[0]); a++) {
			history_init(&h);
			for (int i = 0; i < 96; i++)
				history_add(&h, 10000 + (uint64_t)i * 500, 5e8 * (1 + (i % 2 ? amp[a] : 0)));
			report_sparkline(&h.tl, &h.s, out, sizeof(out));
			CHECK(strlen(out) == 3 * SPARK_CELLS);
			for (int c = 1; c < SPARK_CELLS; c++)
				CHECK_MSG(memcmp(out, out + 3 * c, 3) == 0, "flat %g: %s", amp[a], out);
			CHECK(memcmp(out, " ", 1) != 0);
		}
		history_init(&h);
		for (int i = 0; i < 96; i++)
			history_add(&h, 10000 + (uint64_t)i * 500, 0);
		report_sparkline(&h.tl, &h.s, out, sizeof(out));
		CHECK_STR(out, "▄▄▄▄▄▄▄▄");
	}

	/* a short history: the cells before its start are spaces */
	history_init(&h);
	for (int i = 0; i < 12; i++)   /* 6 s: 6 buckets, the last cell */
		history_add(&h, 10000 + (uint64_t)i * 500, 7);
	report_sparkline(&h.tl, &h.s, out, sizeof(out));
	CHECK_STR(out, "       ▄");
	for (int i = 12; i < 24; i++)  /* 12 s: the last two cells, rising */
		history_add(&h, 10000 + (uint64_t)i * 500, 700);
	report_sparkline(&h.tl, &h.s, out, sizeof(out));
	CHECK_STR(out, "      ▁█");

	/* a gap: a cell without samples is a space */
	history_init(&h);
	for (int i = 0; i < 48; i++)
		if (i / 6 != 3)
			history_add(&h, 10000 + (uint64_t)i * 1000, 1);
	report_sparkline(&h.tl, &h.s, out, sizeof(out));
	CHECK_STR(out, "▄▄▄ ▄▄▄▄");

	/* a buffer too small for SPARK_CELLS characters: empty, nothing written past it */
	{
		char small[3 * SPARK_CELLS + 2];

		memset(small, 'X', sizeof(small));
		report_sparkline(&h.tl, &h.s, small, 3 * SPARK_CELLS);
		CHECK(small[0] == '\0' && small[1] == 'X');
		report_sparkline(&h.tl, &h.s, small, 0);
		CHECK(small[0] == '\0' && small[1] == 'X');
	}
}

static void test_empty_monitor(const struct config *cfg)
{
	struct monitor m;
	struct buf b = { 0 };
	char line[200];
	struct config one = { .n_watches = 1 };

	memset(&m, 0, sizeof(m));
	m.j.cfg = cfg;
	report_status_json(&b, &m.j);
	CHECK_STR(b.data, "[]\n");
	buf_reset(&b);
	report_status_table(&b, &m.j, REPORT_WIDTH);
	CHECK_STR(b.data,
		  "leakwatchd: watching 0 processes with 2 watches: 0 leaking, 0 over a limit\n"
		  "\n"
		  "workers: 0 processes, 0 leaking, 0 over a limit, no action yet\n"
		  "a-very-long-watch-name: 0 processes, 0 leaking, 0 over a limit, no action yet\n"
		  "\n"
		  "WATCH          PID COMM       METRIC    VALUE   TREND/H   ETA VERDICT WINDOW\n"
		  "(no process matches a watch)\n");
	buf_reset(&b);
	report_answer(&m.j, "status json", &b);
	CHECK_STR(b.data, "OK\n[]\n");
	buf_reset(&b);
	report_answer(&m.j, "history 1", &b);
	CHECK_STR(b.data, "ERR pid 1 is not watched\n");

	/* singular forms */
	m.j.cfg = &one;
	report_summary(&m.j, line, sizeof(line));
	CHECK_STR(line, "watching 0 processes with 1 watch: 0 leaking, 0 over a limit");
	{
		struct watched w;

		memset(&w, 0, sizeof(w));
		timeline_init(&w.tl, 20000);
		for (int i = 0; i < METRIC_INLINE; i++)
			metric_state_init(&w.m[i]);
		w.m[METRIC_FDS].leaking = true;
		w.m[METRIC_RSS].in_limit = true;
		w.m[METRIC_THREADS].in_limit = true;   /* one process over two limits: one */
		m.j.watched = &w;
		m.j.n_watched = 1;
		report_summary(&m.j, line, sizeof(line));
		CHECK_STR(line, "watching 1 process with 1 watch: 1 leaking, 1 over a limit");
		/* a short buffer: cut, terminated */
		memset(line, 'X', sizeof(line));
		report_summary(&m.j, line, 9);
		CHECK_STR(line, "watching");
	}
	buf_free(&b);
}

/* Every line of a table: at most 80 columns, valid UTF-8, no control bytes. */
static void check_table_shape_in(const char *what, const char *text, size_t width)
{
	size_t n;
	char **lines = split_lines(text, &n);

	CHECK_MSG(utf8_valid(text), "%s: not UTF-8", what);
	CHECK_MSG(n > 0 && text[strlen(text) - 1] == '\n', "%s: not whole lines", what);
	for (size_t i = 0; i < n; i++) {
		size_t cols = columns(lines[i], strlen(lines[i]));
		bool ctl = false;

		for (const char *p = lines[i]; *p; p++)
			ctl |= (unsigned char)*p < 0x20 || *p == 0x7f;
		CHECK_MSG(cols <= width, "%s line %zu: %zu columns: %s", what, i + 1, cols, lines[i]);
		CHECK_MSG(!ctl, "%s line %zu: a control character: %s", what, i + 1, lines[i]);
	}
	free(lines);
}

static void check_table_shape(const char *what, const char *text)
{
	check_table_shape_in(what, text, REPORT_WIDTH);
}

static void check_status_json_against(const struct monitor *m, const char *json)
{
	for (const struct watched *w = m->j.watched; w; w = w->next)
		for (int i = 0; i < METRIC_INLINE; i++) {
			const struct metric_state *s = &w->m[i];
			const char *mn = metric_name((enum metric)i);
			char obj[300], verdict[64];
			double eta;

			if (!metric_object(json, (int)w->pid, mn, obj, sizeof(obj))) {
				CHECK_MSG(false, "pid %d: no %s object", (int)w->pid, mn);
				continue;
			}
			CHECK_MSG(field(obj, "value") == round(s->value), "pid %d %s: %s", (int)w->pid, mn, obj);
			eta = field(obj, "eta_seconds");
			if (s->eta < 0)
				CHECK_MSG(isinf(eta), "pid %d %s: eta should be null: %s", (int)w->pid, mn, obj);
			else
				CHECK_MSG(eta == round(s->eta), "pid %d %s: eta %g: %s", (int)w->pid, mn, s->eta, obj);
			CHECK_MSG(!isnan(field(obj, "slope_per_hour")), "pid %d %s: %s", (int)w->pid, mn, obj);
			/* the max in force for it: the rule's here */
			if (s->limit < 0)
				CHECK_MSG(isinf(field(obj, "limit")), "pid %d %s: limit should be null: %s", (int)w->pid, mn, obj);
			else
				CHECK_MSG(field(obj, "limit") == s->limit && s->limit == m->j.cfg->watches[w->watch].rule[i].max,
					  "pid %d %s: limit %g: %s", (int)w->pid, mn, s->limit, obj);
			snprintf(verdict, sizeof(verdict), "\"verdict\": \"%s\"}",
				 verdict_name(detect_verdict(s, judged_warming(&m->j, w))));
			CHECK_MSG(strstr(obj, verdict) != NULL, "pid %d %s: %s", (int)w->pid, mn, obj);
		}
}

static void test_first_tick(const struct monitor *m)
{
	struct buf b = { 0 };
	size_t n, no_cell = 0, one_cell = 0;
	char **lines;

	report_status_json(&b, &m->j);
	CHECK_MSG(json_valid(b.data), "%s", b.data);
	CHECK(count(b.data, "\"verdict\": \"warming\"") == 5 * METRIC_INLINE);
	CHECK(count(b.data, "\"eta_seconds\": null") == 5 * METRIC_INLINE);
	check_status_json_against(m, b.data);

	buf_reset(&b);
	report_status_table(&b, &m->j, REPORT_WIDTH);
	check_table_shape("first table", b.data);
	lines = split_lines(b.data, &n);
	CHECK(drop_watch_lines(lines, &n) == 3);
	CHECK_MSG(n == 3 + 5 * (METRIC_INLINE + 1), "%zu lines", n);
	for (size_t i = 3; i < n; i++) {
		if (is_title_line(lines[i]))
			continue;
		/* in the warm-up (the three workers, warmup 2s): no history yet,
		 * so no cell of the sparkline; past it (the other watch's two,
		 * no warmup): one bucket so far, the last cell only */
		size_t len = strlen(lines[i]);

		CHECK_MSG(strstr(lines[i], " warming") != NULL, "%s", lines[i]);
		if (!strstr(lines[i], "▄"))
			no_cell++;
		else if (strstr(lines[i], " warming        ▄") && len > 3 && strcmp(lines[i] + len - 3, "▄") == 0)
			one_cell++;
		else
			CHECK_MSG(false, "%s", lines[i]);
	}
	CHECK_MSG(no_cell == 3 * METRIC_INLINE && one_cell == 2 * METRIC_INLINE, "%zu without a cell, %zu with one",
		  no_cell, one_cell);
	free(lines);
	buf_free(&b);
}

static void test_status_json(const struct monitor *m)
{
	struct buf b = { 0 };
	char want[300], obj[300];
	long page = m->root.page_size;

	report_status_json(&b, &m->j);
	CHECK(buf_ok(&b));
	CHECK_MSG(json_valid(b.data), "invalid JSON:\n%s", b.data);
	CHECK(b.data[0] == '[' && strcmp(b.data + b.len - 2, "]\n") == 0);
	CHECK(count(b.data, "{\"watch\": ") == 5);
	CHECK(count(b.data, "\"started\": ") == 5);
	check_status_json_against(m, b.data);

	/* by watch, then pid */
	{
		const char *p101 = strstr(b.data, "\"pid\": 101,"), *p102 = strstr(b.data, "\"pid\": 102,");
		const char *p103 = strstr(b.data, "\"pid\": 103,"), *p200 = strstr(b.data, "\"pid\": 200,");
		const char *p201 = strstr(b.data, "\"pid\": 201,");

		CHECK(p101 && p102 && p103 && p200 && p201);
		CHECK(p101 < p102 && p102 < p103 && p103 < p200 && p200 < p201);
	}

	/* the first object whole, up to its rss value */
	snprintf(want, sizeof(want),
		 "[{\"watch\": \"workers\", \"pid\": 101, \"comm\": \"gunicorn\", \"title\": \"gunicorn: worker [app]\", "
		 "\"started\": \"2026-11-24T05:00:%02d.%03dZ\",\n"
		 "  \"rss\": {\"value\": %ld, \"limit\": ",
		 (int)(101 * 1000 / m->disc.rd.hz / 1000), (int)(101 * 1000 / m->disc.rd.hz % 1000), (1000 + 119 * 25) * page);
	CHECK_MSG(strncmp(b.data, want, strlen(want)) == 0, "want\n%s\ngot\n%.300s", want, b.data);

	/* every "started" is RFC 3339 UTC */
	for (const char *p = b.data; (p = strstr(p, "\"started\": \"")); ) {
		p += strlen("\"started\": \"");
		CHECK_MSG(rfc3339_ok(p) && p[24] == '"', "%.30s", p);
	}

	/* escaped comm, watch names as configured */
	CHECK(strstr(b.data, "{\"watch\": \"a-very-long-watch-name\", \"pid\": 201, \"comm\": \"we\\\"ir\\\\d\\u0001\\u007fx\",") !=
	      NULL);
	CHECK(strstr(b.data, "\"comm\": \"a-long-command1\"") != NULL);

	/* verdicts and ETAs known from the fixture */
	CHECK(metric_object(b.data, 101, "rss", obj, sizeof(obj)));
	CHECK_MSG(strstr(obj, "\"eta_seconds\": 0, \"verdict\": \"limit\"}"), "%s", obj);
	CHECK(field(obj, "slope_per_hour") > 0);
	CHECK(metric_object(b.data, 101, "fds", obj, sizeof(obj)));
	CHECK_MSG(strstr(obj, "\"value\": 65, ") && strstr(obj, "\"eta_seconds\": null, \"verdict\": \"leak\"}"), "%s", obj);
	CHECK(metric_object(b.data, 102, "rss", obj, sizeof(obj)));
	CHECK_MSG(strstr(obj, "\"slope_per_hour\": 0, ") && strstr(obj, "\"verdict\": \"ok\"}"), "%s", obj);
	CHECK(metric_object(b.data, 103, "rss", obj, sizeof(obj)));
	CHECK_MSG(field(obj, "slope_per_hour") < 0 && strstr(obj, "\"eta_seconds\": null, \"verdict\": \"ok\"}"),
		  "%s", obj);
	CHECK(metric_object(b.data, 200, "threads", obj, sizeof(obj)));
	CHECK_MSG(strstr(obj, "\"value\": 30, ") && field(obj, "eta_seconds") > 0 && field(obj, "eta_seconds") < 1000 &&
		  strstr(obj, "\"verdict\": \"ok\"}"), "%s", obj);
	/* no max for fds anywhere: no ETA */
	for (const struct watched *w = m->j.watched; w; w = w->next) {
		CHECK(metric_object(b.data, (int)w->pid, "fds", obj, sizeof(obj)));
		CHECK_MSG(isinf(field(obj, "eta_seconds")), "%s", obj);
	}
	CHECK(count(b.data, "\"verdict\": \"warming\"") == 0);

	/* a comm cut by the kernel in the middle of a UTF-8 character must
	 * still give valid UTF-8 JSON (RFC 8259 section 8.1) */
	{
		struct watched *w = (struct watched *)find(m, 102);
		char saved[16];

		memcpy(saved, w->comm, sizeof(saved));
		snprintf(w->comm, sizeof(w->comm), "ty\xc3\xb6ntekij\xc3\xa4-w\xc3");   /* 15 bytes */
		buf_reset(&b);
		report_status_json(&b, &m->j);
		CHECK(json_valid(b.data));
		CHECK_MSG(utf8_valid(b.data), "status JSON with a cut comm is not valid UTF-8");
		buf_reset(&b);
		report_history_json(&b, &m->j, w);
		CHECK_MSG(utf8_valid(b.data), "history JSON with a cut comm is not valid UTF-8");
		memcpy(w->comm, saved, sizeof(saved));
	}
	buf_free(&b);
}

static void test_status_table(const struct monitor *m)
{
	struct buf b = { 0 };
	size_t n;
	char **lines;

	report_status_table(&b, &m->j, REPORT_WIDTH);
	CHECK(buf_ok(&b));
	check_table_shape("status table", b.data);
	lines = split_lines(b.data, &n);
	CHECK(drop_watch_lines(lines, &n) == 3);
	CHECK_MSG(n == 3 + 5 * (METRIC_INLINE + 1), "%zu lines:\n%s", n, b.data);
	if (n != 3 + 5 * (METRIC_INLINE + 1)) {
		free(lines);
		buf_free(&b);
		return;
	}
	CHECK_STR(lines[0], "leakwatchd: watching 5 processes with 2 watches: 1 leaking, 1 over a limit");
	CHECK_STR(lines[1], "");
	CHECK_STR(lines[2], "WATCH          PID COMM       METRIC    VALUE   TREND/H   ETA VERDICT WINDOW");

	/* three rows per process: the names on the first, blank below */
	{
		static const char *const first[] = {
			"workers        101 gunicorn   rss       15.5M ",
			"workers        102 gunicorn   rss        3.9M ",
			"workers        103 gunicorn   rss        7.4M ",
			"a-very-lo~     200 a-long-co~ rss        3.9M ",
			"a-very-lo~     201 we\"ir\\d??x rss        3.9M ",
		};
		char fds[40], threads[40];

		snprintf(fds, sizeof(fds), "%30s%-8s", "", "fds");
		snprintf(threads, sizeof(threads), "%30s%-8s", "", "threads");
		/* the VALUE column (38..44) holds the fixture's pages of 4 KiB */
		size_t upto = m->root.page_size == 4096 ? strlen(first[0]) : 38;

		/* and, under them, the title each process set */
		static const char *const title[] = {
			"           \"gunicorn: worker [app]\"", "           \"gunicorn: worker [app]\"",
			"           \"gunicorn: worker [app]\"", "           \"longproc\"", "           \"weirdproc\"",
		};

		for (int p = 0; p < 5; p++) {
			const char *r0 = lines[3 + 4 * p], *r1 = lines[4 + 4 * p], *r2 = lines[5 + 4 * p];

			CHECK_MSG(strncmp(r0, first[p], upto) == 0, "want \"%s\", got \"%s\"", first[p], r0);
			CHECK_MSG(strncmp(r1, fds, strlen(fds)) == 0, "%s", r1);
			CHECK_MSG(strncmp(r2, threads, strlen(threads)) == 0, "%s", r2);
			CHECK_STR(lines[6 + 4 * p], title[p]);
		}
	}
	/* the columns: TREND/H at 46 (9 wide), ETA at 56 (5), VERDICT at 62 (7),
	 * the sparkline at 70 (8 cells) */
	{
		static const struct {
			int line;
			const char *trend;    /* NULL: not checked; "+" or "-": its sign only */
			const char *eta;      /* "?": any time, not "-" */
			const char *verdict;
		} rows[] = {
			{ 3, "+", "now", "limit" },       /* 101 rss: 100 pages/s */
			{ 4, "+", "-", "leak" },          /* 101 fds */
			{ 5, "0", "-", "ok" },            /* 101 threads */
			{ 7, "0", "-", "ok" },            /* 102 rss */
			{ 11, "-", "-", "ok" },           /* 103 rss: falling */
			{ 17, "+", "?", "ok" },           /* 200 threads: one more a second, max 100 */
			{ 21, "0", "-", "ok" },           /* 201 threads */
		};

		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			const char *l = lines[rows[i].line];
			char trend[16], when[16], verdict[16];

			cell(l, 46, 9, trend, sizeof(trend));
			cell(l, 56, 5, when, sizeof(when));
			cell(l, 62, 7, verdict, sizeof(verdict));
			if (strlen(rows[i].trend) == 1 && strchr("+-", rows[i].trend[0]))
				CHECK_MSG(trend[0] == rows[i].trend[0] && trend[1], "%s", l);
			else
				CHECK_MSG(strcmp(trend, rows[i].trend) == 0, "%s", l);
			if (strcmp(rows[i].eta, "?") == 0)
				CHECK_MSG(strcmp(when, "-") != 0 && strchr("smhd", when[strlen(when) - 1]), "%s", l);
			else
				CHECK_MSG(strcmp(when, rows[i].eta) == 0, "%s", l);
			CHECK_MSG(strcmp(verdict, rows[i].verdict) == 0, "%s", l);
		}
	}
	if (m->root.page_size == 4096) {   /* 100 pages of 4 KiB a second */
		char trend[16];

		cell(lines[3], 46, 9, trend, sizeof(trend));
		CHECK_STR(trend, "+1.4G");
	}
	/* sparklines: 101's rss rises from the lowest block to the full one,
	 * 102's is flat (one character repeated) */
	CHECK_MSG(strcmp(lines[3] + 70, "▁▂▃▄▅▆▇█") == 0, "%s", lines[3]);
	CHECK_MSG(strcmp(lines[7] + 70, "▄▄▄▄▄▄▄▄") == 0, "%s", lines[7]);
	for (size_t i = 3; i < n; i++)
		CHECK_MSG(is_title_line(lines[i]) || columns(lines[i], strlen(lines[i])) == 78, "%s", lines[i]);
	free(lines);
	buf_free(&b);
}

/* A wider terminal: the WATCH column as wide as the longest name
 * ("a-very-long-watch-name", 22) when it fits, clipped to what the width
 * leaves when not; 80 or less (or no width) is the 80-column table; the
 * request carries the width ("status table 132"). */
static void test_status_table_width(const struct monitor *m)
{
	static const struct {
		unsigned width;
		int nw;                /* the WATCH column */
		const char *name;      /* pid 200's name cell */
	} cases[] = {
		{ 80, 10, "a-very-lo~" }, { 0, 10, "a-very-lo~" }, { 40, 10, "a-very-lo~" },
		{ 81, 11, "a-very-lon~" }, { 85, 15, "a-very-long-wa~" }, { 91, 21, "a-very-long-watch-na~" },
		{ 92, 22, "a-very-long-watch-name" }, { 132, 22, "a-very-long-watch-name" },
		{ 9999, 22, "a-very-long-watch-name" },
	};
	struct buf narrow = { 0 }, b = { 0 }, ans = { 0 };

	report_status_table(&narrow, &m->j, REPORT_WIDTH);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[40], want[120], req[40];
		size_t n;
		char **lines;

		buf_reset(&b);
		report_status_table(&b, &m->j, cases[i].width);
		snprintf(what, sizeof(what), "table at %u", cases[i].width);
		check_table_shape_in(what, b.data, cases[i].width < 80 ? 80 : cases[i].width);
		lines = split_lines(b.data, &n);
		CHECK_MSG(drop_watch_lines(lines, &n) == 3, "%s: its watch lines", what);
		CHECK_MSG(n == 3 + 5 * (METRIC_INLINE + 1), "%s: %zu lines", what, n);
		if (n != 3 + 5 * (METRIC_INLINE + 1)) {
			free(lines);
			continue;
		}
		snprintf(want, sizeof(want), "%-*s %7s %-10s %-7s %7s %9s %5s %-7s %s", cases[i].nw, "WATCH", "PID",
			 "COMM", "METRIC", "VALUE", "TREND/H", "ETA", "VERDICT", "WINDOW");
		CHECK_STR(lines[2], want);
		snprintf(want, sizeof(want), "%-*s     101 gunicorn   rss ", cases[i].nw, "workers");
		CHECK_MSG(strncmp(lines[3], want, strlen(want)) == 0, "%s: %s", what, lines[3]);
		snprintf(want, sizeof(want), "%-*s     200 a-long-co~ rss ", cases[i].nw, cases[i].name);
		CHECK_MSG(strncmp(lines[15], want, strlen(want)) == 0, "%s: %s", what, lines[15]);
		/* the rows below a process's first, and its title, move with the column */
		snprintf(want, sizeof(want), "%*s%-8s", cases[i].nw + 20, "", "fds");
		CHECK_MSG(strncmp(lines[16], want, strlen(want)) == 0, "%s: %s", what, lines[16]);
		snprintf(want, sizeof(want), "%*s\"longproc\"", cases[i].nw + 1, "");
		CHECK_STR(lines[18], want);
		for (size_t k = 3; k < n; k++)
			if (lines[k][cases[i].nw + 1] != '"')
				CHECK_MSG(columns(lines[k], strlen(lines[k])) == (size_t)cases[i].nw + 68, "%s: %s", what,
					  lines[k]);
		if (cases[i].nw == 10)
			CHECK_STR(b.data, narrow.data);
		free(lines);

		/* the same through a request */
		if (cases[i].width == 0)
			continue;
		snprintf(req, sizeof(req), "status table %u", cases[i].width);
		buf_reset(&ans);
		report_answer(&m->j, req, &ans);
		CHECK_MSG(strncmp(ans.data, "OK\n", 3) == 0 && strcmp(ans.data + 3, b.data) == 0, "\"%s\": %.60s", req,
			  ans.data);
	}
	buf_free(&narrow);
	buf_free(&b);
	buf_free(&ans);
}

static void test_history(const struct monitor *m)
{
	const struct watched *w = find(m, 101);
	struct buf b = { 0 };
	char want[200];

	report_history_json(&b, &m->j, w);
	CHECK(buf_ok(&b));
	CHECK_MSG(json_valid(b.data), "invalid JSON:\n%s", b.data);
	snprintf(want, sizeof(want), "{\"watch\": \"workers\", \"pid\": 101, \"comm\": \"gunicorn\", \"title\": \"gunicorn: worker [app]\", \"started\": \"2026-11-24T05:00:%02d.%03dZ\", \"window_seconds\": 20, \"bucket_seconds\": 0.416,\n \"rss\": [",
		 (int)(101 * 1000 / m->disc.rd.hz / 1000), (int)(101 * 1000 / m->disc.rd.hz % 1000));
	CHECK_MSG(strncmp(b.data, want, strlen(want)) == 0, "want\n%s\ngot\n%.200s", want, b.data);
	/* each metric: its buckets oldest first, as the monitor holds them */
	for (int i = 0; i < METRIC_INLINE; i++) {
		const struct timeline *tl = &w->tl;
		char key[32], prev_t[32] = "";
		const char *p, *end;
		unsigned entries = 0, want_entries = 0;

		snprintf(key, sizeof(key), "\"%s\": [", metric_name((enum metric)i));
		p = strstr(b.data, key);
		CHECK(p != NULL);
		if (!p)
			continue;
		end = strchr(p, ']');
		for (int64_t k = tl->head - HIST_BUCKETS + 1; k <= tl->head; k++) {
			struct bucket b0, *bk = &b0;
			char obj[200];
			const char *q, *t;

			if (!history_bucket(tl, &w->m[i].hist, k, bk) || !bk->n)
				continue;
			want_entries++;
			if (!(q = strstr(p, "{\"t\": \"")) || q > end)
				break;
			t = q + 7;
			p = strchr(q, '}');
			snprintf(obj, sizeof(obj), "%.*s", (int)(p + 1 - q), q);
			entries++;
			CHECK_MSG(rfc3339_ok(t), "%s", obj);
			CHECK_MSG(strncmp(prev_t, t, 24) < 0, "not oldest first: %s then %.24s", prev_t, t);
			snprintf(prev_t, sizeof(prev_t), "%.24s", t);
			CHECK_MSG(field(obj, "samples") == bk->n, "%s", obj);
			CHECK_MSG(fabs(field(obj, "mean") - bk->sum / bk->n) <= 0.05, "%s", obj);
			CHECK_MSG(field(obj, "min") == bk->min && field(obj, "max") == bk->max, "%s", obj);
			CHECK(field(obj, "min") <= field(obj, "mean") && field(obj, "mean") <= field(obj, "max"));
		}
		CHECK_MSG(entries == want_entries && entries == HIST_BUCKETS, "%s: %u entries of %u", key, entries,
			  want_entries);
		/* the newest bucket holds the newest sample (rss: its largest) */
		{
			const struct slot *sl = &w->m[i].hist.s[tl->head % HIST_BUCKETS];
			float v = (float)w->m[i].value;

			CHECK(sl->min <= v && v <= sl->max && (i != METRIC_RSS || sl->max == v));
		}
	}

	/* the table: title, header, one row per bucket */
	buf_reset(&b);
	report_history_table(&b, &m->j, w);
	check_table_shape("history table", b.data);
	{
		size_t n;
		char **lines = split_lines(b.data, &n);

		CHECK_MSG(n == 4 + HIST_BUCKETS, "%zu lines", n);
		CHECK_MSG(strncmp(lines[0], "workers: pid 101 (gunicorn): 48 buckets of ", 43) == 0 &&
			  strstr(lines[0], ", newest last"), "%s", lines[0]);
		CHECK_STR(lines[1], "title \"gunicorn: worker [app]\"");
		CHECK_STR(lines[2], "");
		CHECK_STR(lines[3], "TIME (UTC)               SAMPLES      RSS  RSS MIN  RSS MAX      FDS  THREADS");
		for (size_t i = 4; i < n; i++)
			CHECK_MSG(rfc3339_ok(lines[i]) && lines[i][24] == ' ', "%s", lines[i]);
		if (n == 4 + HIST_BUCKETS) {
			char max[16], threads[16];

			cell(lines[n - 1], 51, 8, max, sizeof(max));
			cell(lines[n - 1], 69, 8, threads, sizeof(threads));
			CHECK_MSG((strcmp(max, "15.5M") == 0 || m->root.page_size != 4096) && strcmp(threads, "2") == 0,
				  "%s", lines[n - 1]);
		}
		free(lines);
	}

	/* the comm of pid 201 has unprintable bytes: the table must not pass
	 * them to the terminal (the status table shows them as '?') */
	buf_reset(&b);
	report_history_table(&b, &m->j, find(m, 201));
	check_table_shape("history table of pid 201", b.data);
	buf_reset(&b);
	report_history_json(&b, &m->j, find(m, 201));
	CHECK_MSG(json_valid(b.data), "%s", b.data);

	/* a process without samples yet */
	{
		struct watched empty = *w;

		timeline_init(&empty.tl, 20000);
		for (int i = 0; i < METRIC_INLINE; i++)
			metric_state_init(&empty.m[i]);
		buf_reset(&b);
		report_history_table(&b, &m->j, &empty);
		CHECK(strstr(b.data, "\n(no samples yet)\n") != NULL);
		buf_reset(&b);
		report_history_json(&b, &m->j, &empty);
		CHECK_MSG(json_valid(b.data), "%s", b.data);
		CHECK(strstr(b.data, "\"rss\": [],\n \"fds\": [],\n \"threads\": []}\n") != NULL);
	}
	buf_free(&b);
}

static void test_answer(const struct monitor *m)
{
	static const struct {
		const char *request;
		const char *reply_starts;   /* the reply starts so */
		bool json;                  /* the body is JSON */
	} cases[] = {
		{ "status", "OK\nleakwatchd: watching 5 processes", false },
		{ "status table", "OK\nleakwatchd: watching 5 processes", false },
		{ "status table 132", "OK\nleakwatchd: watching 5 processes", false },
		{ "status\ttable   1", "OK\nleakwatchd: watching 5 processes", false },
		{ "status table 0", "ERR unknown request: status table 0\n", false },
		{ "status table 10000", "ERR unknown request: status table 10000\n", false },
		{ "status table 132x", "ERR unknown request: status table 132x\n", false },
		{ "status table -1", "ERR unknown request: status table -1\n", false },
		{ "status json 132", "ERR unknown request: status json 132\n", false },
		{ "status 132", "ERR unknown request: status 132\n", false },
		{ "status table 132 extra", "ERR unknown request: status table 132 extra\n", false },
		{ "status json", "OK\n[{\"watch\": \"workers\", \"pid\": 101,", true },
		{ " \tstatus   json\t", "OK\n[{", true },
		{ "history 101", "OK\nworkers: pid 101 (gunicorn): 48 buckets of ", false },
		{ "history 101 table", "OK\nworkers: pid 101 (gunicorn):", false },
		{ "history 201 json", "OK\n{\"watch\": \"a-very-long-watch-name\", \"pid\": 201,", true },
		{ "", "ERR unknown request: \n", false },
		{ "   ", "ERR unknown request:    \n", false },
		{ "foo", "ERR unknown request: foo\n", false },
		{ "STATUS", "ERR unknown request: STATUS\n", false },
		{ "json", "ERR unknown request: json\n", false },
		{ "table", "ERR unknown request: table\n", false },
		{ "status xml", "ERR unknown request: status xml\n", false },
		{ "status xml extra", "ERR unknown request: status xml extra\n", false },
		{ "status json json", "ERR unknown request: status json json\n", false },
		{ "status json extra", "ERR unknown request: status json extra\n", false },
		{ "status 101", "ERR unknown request: status 101\n", false },
		{ "history", "ERR unknown request: history\n", false },
		{ "history json", "ERR unknown request: history json\n", false },
		{ "history abc", "ERR not a pid: abc\n", false },
		{ "history 12abc", "ERR not a pid: 12abc\n", false },
		{ "history 0", "ERR not a pid: 0\n", false },
		{ "history -101", "ERR not a pid: -101\n", false },
		{ "history 0x65", "ERR not a pid: 0x65\n", false },
		{ "history 2147483648", "ERR not a pid: 2147483648\n", false },
		{ "history 99999999999999999999999", "ERR not a pid: 99999999999999999999999\n", false },
		{ "history 99999", "ERR pid 99999 is not watched\n", false },
		{ "history 1", "ERR pid 1 is not watched\n", false },       /* PID 1 is never watched */
		{ "history 99999 json", "ERR pid 99999 is not watched\n", false },
		{ "history 101 102", "ERR unknown request: history 101 102\n", false },
		{ "history 101 json extra", "ERR unknown request: history 101 json extra\n", false },
		{ "a b c d e f", "ERR unknown request: a b c d e f\n", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = { 0 };
		bool ok = strncmp(cases[i].reply_starts, "OK\n", 3) == 0;

		report_answer(&m->j, cases[i].request, &b);
		CHECK(buf_ok(&b) && b.data);
		if (!b.data)
			continue;
		CHECK_MSG(strncmp(b.data, cases[i].reply_starts, strlen(cases[i].reply_starts)) == 0,
			  "\"%s\": want \"%s...\", got \"%.120s\"", cases[i].request, cases[i].reply_starts, b.data);
		CHECK_MSG(b.len > 0 && b.data[b.len - 1] == '\n', "\"%s\": no final newline", cases[i].request);
		if (!ok)   /* an error is one line */
			CHECK_MSG(strchr(b.data, '\n') == b.data + b.len - 1, "\"%s\": %s", cases[i].request, b.data);
		if (cases[i].json)
			CHECK_MSG(json_valid(b.data + 3), "\"%s\": invalid JSON", cases[i].request);
		buf_free(&b);
	}

	/* a long bad request: the echo is cut, the reply stays one line */
	{
		struct buf b = { 0 };
		char req[300];

		memset(req, 'z', sizeof(req) - 1);
		req[sizeof(req) - 1] = '\0';
		report_answer(&m->j, req, &b);
		CHECK(strncmp(b.data, "ERR unknown request: zzz", 24) == 0);
		CHECK(strchr(b.data, '\n') == b.data + b.len - 1 && b.len < 100);
		buf_free(&b);
	}

	/* requests up to the control socket's limit (255 bytes) are read whole:
	 * a bad word after a long run of blanks is still refused, and a format
	 * word there still counts */
	{
		struct buf b = { 0 };
		char req[256];

		snprintf(req, sizeof(req), "status%*s", 200, "xml");
		report_answer(&m->j, req, &b);
		CHECK_MSG(strncmp(b.data, "ERR ", 4) == 0, "\"status <197 blanks>xml\": %.40s", b.data);
		buf_reset(&b);
		snprintf(req, sizeof(req), "status%*s", 200, "json");
		report_answer(&m->j, req, &b);
		CHECK_MSG(strncmp(b.data, "OK\n[", 4) == 0, "\"status <196 blanks>json\": %.40s", b.data);
		buf_free(&b);
	}
}

static void test_wall_usec(const struct monitor *m)
{
	/* the current tick's pair: now_ms is wall_usec */
	CHECK(report_wall_usec(&m->j, m->j.now_ms) == m->j.wall_usec);
	CHECK(report_wall_usec(&m->j, m->j.now_ms - 1500) == m->j.wall_usec - 1500000);
	CHECK(report_wall_usec(&m->j, m->j.now_ms + 2000) == m->j.wall_usec + 2000000);
	CHECK(report_wall_usec(&m->j, 0) == WALL_BASE);
}

int main(void)
{
	struct config *cfg;
	struct monitor m;

	RUN(test_sparkline);

	if (!make_root("report"))
		return 2;
	cfg = load_config(config_text);
	CHECK(cfg != NULL);
	if (!cfg)
		return check_done("test_report");

	RUN(test_empty_monitor, cfg);

	make_proc(1, "systemd", 0, PF_USER, "/sbin/init", 3);
	make_proc(101, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(102, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(103, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(200, "a-long-command1", 1, PF_USER, "longproc", 3);
	make_proc(201, WEIRD_COMM, 1, PF_USER, "weirdproc", 3);

	CHECK(monitor_init(&m, root, cfg, 300, on_event, NULL) == 0);
	/* 30 s at 250 ms: 101 leaks memory and fds, 102 is steady, 103 shrinks,
	 * 200 gains a thread a second */
	for (int i = 0; i < 120; i++) {
		uint64_t now = 1000 + (uint64_t)i * 250;

		stat_file(101, "gunicorn", 1, PF_USER, 2, 1000 + i * 25, 101);
		stat_file(103, "gunicorn", 1, PF_USER, 1, 2500 - i * 5, 103);
		stat_file(200, "a-long-command1", 1, PF_USER, 1 + i / 4, 1000, 200);
		if (i % 2 == 0)
			add_fd(101, 5 + i / 2);
		monitor_tick(&m, now, WALL_BASE + now * 1000);
		if (i == 0) {
			CHECK(m.j.n_watched == 5);
			test_first_tick(&m);
		}
	}
	CHECK(m.j.n_watched == 5);
	RUN(test_wall_usec, &m);
	RUN(test_status_json, &m);
	RUN(test_status_table, &m);
	RUN(test_status_table_width, &m);
	RUN(test_history, &m);
	RUN(test_answer, &m);

	monitor_free(&m);
	config_free(cfg);
	CHECK(remove_root() == 0);
	return check_done("test_report");
}
