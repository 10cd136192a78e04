/* The Prometheus exposition: the event and action counters, and the text
 * rendered from a monitor on a fixture /proc tree, checked against the
 * text format 0.0.4 (HELP and TYPE before each family's samples, one TYPE
 * per family, counters named *_total, escaped label values, no duplicate
 * series), its values against the fixture, and by promtool when there is
 * one. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "text.h"
#include "core/config.h"
#include "fixture.h"
#include "core/prometheus.h"
#include "daemon/monitor.h"

#define PROMTOOL  "/usr/bin/promtool"

/* ---- the fixture (its /proc tree: fixture.h) ------------------------------ */

static const char *config_text =
	"interval: 250ms\n"
	"watches:\n"
	"  - name: workers\n"
	"    match: { comm: gunicorn }\n"
	"    window: 20s\n"
	"    rss: { growth: 100M/h, max: 12M, for: 2 }\n"
	"    fds: { growth: 1000/h }\n"
	"  - name: odd.names_1\n"
	"    match: { cmdline: \"^metricsproc\" }\n"
	"    window: 20s\n"
	"    threads: { max: 100 }\n"
	"  - name: idle\n"
	"    match: { comm: nothing-matches-this }\n"
	"    rss: { max: 1G }\n";

/* comm of pid 150: a double quote, a backslash and a newline */
#define ODD_COMM       "q\"uo\\te\nx"
#define ODD_COMM_LABEL "q\\\"uo\\\\te\\nx"

static void on_event(void *ctx, struct event *e)
{
	metrics_count_event(ctx, e);
}

/* ---- a checker of the text format ------------------------------------------------ */

struct family {
	char name[128];
	char type[16];
	int helps, types, samples;
	bool done;   /* another family's lines came after its samples */
};

struct expo {
	struct family fam[64];
	size_t n_fam;
	char **series;
	size_t n_series;
	int errors;
};

static void expo_error(struct expo *x, size_t line, const char *text, const char *why)
{
	if (x->errors++ < 10)
		fprintf(stderr, "metrics line %zu: %s: %s\n", line, why, text);
}

static struct family *family_of(struct expo *x, const char *name, size_t len)
{
	for (size_t i = 0; i < x->n_fam; i++)
		if (strlen(x->fam[i].name) == len && strncmp(x->fam[i].name, name, len) == 0)
			return &x->fam[i];
	if (x->n_fam == sizeof(x->fam) / sizeof(x->fam[0]) || len >= sizeof(x->fam[0].name))
		return NULL;
	snprintf(x->fam[x->n_fam].name, sizeof(x->fam[0].name), "%.*s", (int)len, name);
	return &x->fam[x->n_fam++];
}

static size_t name_len(const char *s, bool label)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':') ||
			  (n > 0 && c >= '0' && c <= '9');

		if (!ok)
			break;
	}
	return n;
}

/* Check the whole text; the series seen are kept in x. */
static void expo_check(struct expo *x, const char *text)
{
	struct family *cur = NULL;
	size_t lineno = 0;
	const char *line = text;

	memset(x, 0, sizeof(*x));
	if (!*text || text[strlen(text) - 1] != '\n')
		expo_error(x, 0, "", "the text does not end in a newline");
	for (const char *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		char l[1024];
		const char *p;
		size_t n;

		lineno++;
		snprintf(l, sizeof(l), "%.*s", (int)(nl - line), line);
		if (strncmp(l, "# HELP ", 7) == 0 || strncmp(l, "# TYPE ", 7) == 0) {
			struct family *f;

			n = name_len(l + 7, false);
			if (!n || l[7 + n] != ' ' || !(f = family_of(x, l + 7, n))) {
				expo_error(x, lineno, l, "bad metric name");
				continue;
			}
			if (f->samples)
				expo_error(x, lineno, l, "HELP or TYPE after the family's samples");
			if (cur && cur != f)
				cur->done = true;
			if (f->done)
				expo_error(x, lineno, l, "a family's lines are not together");
			cur = f;
			if (l[2] == 'H') {
				f->helps++;
				if (!l[8 + n])
					expo_error(x, lineno, l, "empty HELP");
			} else {
				static const char *const types[] = { "counter", "gauge", "histogram", "summary", "untyped" };
				bool known = false;

				f->types++;
				snprintf(f->type, sizeof(f->type), "%s", l + 8 + n);
				for (size_t t = 0; t < 5; t++)
					known |= strcmp(f->type, types[t]) == 0;
				if (!known)
					expo_error(x, lineno, l, "unknown type");
			}
			continue;
		}
		if (l[0] == '#' || l[0] == '\0') {
			expo_error(x, lineno, l, "a comment or a blank line");
			continue;
		}
		/* a sample: name{labels} value */
		n = name_len(l, false);
		if (!n) {
			expo_error(x, lineno, l, "bad metric name");
			continue;
		}
		if (!cur || strlen(cur->name) != n || strncmp(cur->name, l, n) != 0) {
			expo_error(x, lineno, l, "a sample outside its family (no HELP/TYPE just before)");
			continue;
		}
		if (!cur->helps || !cur->types)
			expo_error(x, lineno, l, "a sample before its family's HELP and TYPE");
		if (strcmp(cur->type, "counter") == 0 && (n < 6 || strncmp(l + n - 6, "_total", 6) != 0))
			expo_error(x, lineno, l, "a counter not named *_total");
		cur->samples++;
		p = l + n;
		if (*p == '{') {
			char seen[8][64];
			size_t n_seen = 0;

			p++;
			while (*p != '}') {
				size_t ln = name_len(p, true);

				if (!ln || p[ln] != '=' || p[ln + 1] != '"') {
					expo_error(x, lineno, l, "bad label");
					break;
				}
				for (size_t s = 0; s < n_seen; s++)
					if (strlen(seen[s]) == ln && strncmp(seen[s], p, ln) == 0)
						expo_error(x, lineno, l, "a label twice");
				if (n_seen < 8)
					snprintf(seen[n_seen++], sizeof(seen[0]), "%.*s", (int)ln, p);
				p += ln + 2;
				while (*p && *p != '"') {
					if (*p == '\\') {
						if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
							expo_error(x, lineno, l, "a bad escape in a label value");
						p++;
					}
					if (*p)
						p++;
				}
				if (*p != '"') {
					expo_error(x, lineno, l, "an unterminated label value");
					break;
				}
				p++;
				if (*p == ',')
					p++;
				else if (*p != '}') {
					expo_error(x, lineno, l, "no ',' or '}' after a label");
					break;
				}
			}
			if (*p != '}')
				continue;
			p++;
		}
		{
			size_t key = (size_t)(p - l);
			char *end;

			if (*p != ' ') {
				expo_error(x, lineno, l, "no value");
				continue;
			}
			strtod(p + 1, &end);
			if (end == p + 1 || *end)
				expo_error(x, lineno, l, "a bad value");
			for (size_t s = 0; s < x->n_series; s++)
				if (strlen(x->series[s]) == key && strncmp(x->series[s], l, key) == 0)
					expo_error(x, lineno, l, "a duplicate series");
			x->series = realloc(x->series, (x->n_series + 1) * sizeof(*x->series));
			if (!x->series || !(x->series[x->n_series++] = strndup(l, key)))
				exit(2);
		}
	}
	if (*line)
		expo_error(x, lineno + 1, line, "an unterminated line");
	for (size_t i = 0; i < x->n_fam; i++) {
		const struct family *f = &x->fam[i];

		if (f->helps != 1 || f->types != 1)
			expo_error(x, 0, f->name, "a family without exactly one HELP and one TYPE");
	}
}

static void expo_free(struct expo *x)
{
	for (size_t i = 0; i < x->n_series; i++)
		free(x->series[i]);
	free(x->series);
}

static const struct family *expo_family(const struct expo *x, const char *name)
{
	for (size_t i = 0; i < x->n_fam; i++)
		if (strcmp(x->fam[i].name, name) == 0)
			return &x->fam[i];
	return NULL;
}

/* The value of the sample "SERIES VALUE" in text (SERIES: name{labels});
 * NAN when there is no such line. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

/* promtool's verdict on the text: its exit status, or -1 without promtool. */
static int promtool(const char *text)
{
	FILE *f;
	int st;

	if (access(PROMTOOL, X_OK) != 0)
		return -1;
	f = popen(PROMTOOL " check metrics", "w");
	if (!f)
		return -1;
	fputs(text, f);
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* ---- the tests ------------------------------------------------------------------ */

static const struct counter *counter_of(const struct metrics_counters *c, const char *watch, enum event_type t,
					const char *action, const char *result)
{
	for (const struct counter *k = c->list; k; k = k->next)
		if (k->type == t && strcmp(k->watch, watch) == 0 && strcmp(k->action, action) == 0 &&
		    strcmp(k->result, result) == 0)
			return k;
	return NULL;
}

static void feed(struct metrics_counters *c, enum event_type t, const char *watch, const char *action,
		 const char *result, int times)
{
	for (int i = 0; i < times; i++) {
		struct event e;

		event_init(&e, t, WALL_BASE);
		e.watch = watch;
		e.action = action;
		e.result = result;
		metrics_count_event(c, &e);
	}
}

static void test_counters(void)
{
	static const struct {
		const char *watch;
		enum event_type type;
		const char *action, *result;
		uint64_t n;
	} want[] = {
		{ "", EVENT_START, "", "", 1 },
		{ "", EVENT_RELOAD, "", "", 2 },
		{ "api", EVENT_FOUND, "", "", 3 },
		{ "web", EVENT_FOUND, "", "", 1 },
		{ "api", EVENT_LEAK, "", "", 2 },          /* an action on a leak event is not a key */
		{ "api", EVENT_ACTION, "signal", "ok", 2 },
		{ "api", EVENT_ACTION, "signal", "suppressed", 1 },
		{ "api", EVENT_ACTION, "exec", "ok", 1 },
		{ "web", EVENT_ACTION, "signal", "ok", 1 },
		{ "", EVENT_ACTION, "", "", 1 },           /* no watch, no action, no result */
	};
	struct metrics_counters c = { 0 };
	size_t n = 0;

	feed(&c, EVENT_START, NULL, NULL, NULL, 1);
	feed(&c, EVENT_RELOAD, NULL, NULL, NULL, 2);
	feed(&c, EVENT_FOUND, "api", NULL, NULL, 3);
	feed(&c, EVENT_FOUND, "web", NULL, NULL, 1);
	feed(&c, EVENT_LEAK, "api", "signal", NULL, 1);
	feed(&c, EVENT_LEAK, "api", NULL, "ok", 1);
	feed(&c, EVENT_ACTION, "api", "signal", "ok", 2);
	feed(&c, EVENT_ACTION, "api", "signal", "suppressed", 1);
	feed(&c, EVENT_ACTION, "api", "exec", "ok", 1);
	feed(&c, EVENT_ACTION, "web", "signal", "ok", 1);
	feed(&c, EVENT_ACTION, NULL, NULL, NULL, 1);

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct counter *k = counter_of(&c, want[i].watch, want[i].type, want[i].action, want[i].result);

		CHECK_MSG(k && k->n == want[i].n, "%s %s %s %s: %llu, expected %llu", want[i].watch,
			  event_name(want[i].type), want[i].action, want[i].result,
			  k ? (unsigned long long)k->n : 0ull, (unsigned long long)want[i].n);
	}
	for (const struct counter *k = c.list; k; k = k->next)
		n++;
	CHECK_MSG(n == sizeof(want) / sizeof(want[0]), "%zu counters", n);
	metrics_counters_free(&c);
	CHECK(c.list == NULL);
	metrics_counters_free(&c);   /* a zeroed one */
}

static void test_render(const struct monitor *m, struct metrics_counters *c)
{
	struct buf b = { 0 };
	struct expo x;
	char series[512];
	long page = m->root.page_size;
	const struct watched *w101 = judged_find(&m->j, 101), *w150 = judged_find(&m->j, 150);
	unsigned eta_lines = 0;

	CHECK(w101 && w150);
	if (!w101 || !w150)
		return;
	c->ticks = 120;
	c->tick_seconds = 0.000125;
	c->tick_seconds_total = 0.0175;
	c->tick_seconds_max = 0.0025;
	metrics_render(&b, &m->j, c);
	CHECK(buf_ok(&b));
	expo_check(&x, b.data);
	CHECK_MSG(x.errors == 0, "%d format errors (above)", x.errors);

	/* the families, with their types */
	{
		static const struct {
			const char *name, *type;
		} fams[] = {
			{ "leakwatch_build_info", "gauge" },
			{ "leakwatch_watched_processes", "gauge" },
			{ "leakwatch_watch_rss_bytes", "gauge" },
			{ "leakwatch_watch_fds", "gauge" },
			{ "leakwatch_watch_threads", "gauge" },
			{ "leakwatch_watch_uss_bytes", "gauge" },
			{ "leakwatch_watch_pss_bytes", "gauge" },
			{ "leakwatch_watch_leaking_processes", "gauge" },
			{ "leakwatch_watch_over_limit_processes", "gauge" },
			{ "leakwatch_process_rss_bytes", "gauge" },
			{ "leakwatch_process_fds", "gauge" },
			{ "leakwatch_process_threads", "gauge" },
			{ "leakwatch_process_uss_bytes", "gauge" },
			{ "leakwatch_process_pss_bytes", "gauge" },
			{ "leakwatch_process_rss_trend_bytes_per_second", "gauge" },
			{ "leakwatch_process_fds_trend_per_second", "gauge" },
			{ "leakwatch_process_threads_trend_per_second", "gauge" },
			{ "leakwatch_process_uss_trend_bytes_per_second", "gauge" },
			{ "leakwatch_process_pss_trend_bytes_per_second", "gauge" },
			{ "leakwatch_process_rss_limit_bytes", "gauge" },
			{ "leakwatch_process_fds_limit", "gauge" },
			{ "leakwatch_process_threads_limit", "gauge" },
			{ "leakwatch_process_uss_limit_bytes", "gauge" },
			{ "leakwatch_process_pss_limit_bytes", "gauge" },
			{ "leakwatch_process_eta_seconds", "gauge" },
			{ "leakwatch_process_leak", "gauge" },
			{ "leakwatch_process_over_limit", "gauge" },
			{ "leakwatch_process_unreadable", "gauge" },
			{ "leakwatch_events_total", "counter" },
			{ "leakwatch_actions_total", "counter" },
			{ "leakwatch_samples_total", "counter" },
			{ "leakwatch_scans_total", "counter" },
			{ "leakwatch_full_scans_total", "counter" },
			{ "leakwatch_scan_duration_seconds", "gauge" },
			{ "leakwatch_ticks_total", "counter" },
			{ "leakwatch_tick_seconds_total", "counter" },
			{ "leakwatch_smaps_reads_total", "counter" },
			{ "leakwatch_smaps_seconds_total", "counter" },
			{ "leakwatch_tick_duration_seconds", "gauge" },
			{ "leakwatch_tick_duration_max_seconds", "gauge" },
		};

		CHECK_MSG(x.n_fam == sizeof(fams) / sizeof(fams[0]), "%zu families", x.n_fam);
		for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
			const struct family *f = expo_family(&x, fams[i].name);
			char type_line[160];

			snprintf(type_line, sizeof(type_line), "# TYPE %s ", fams[i].name);
			CHECK_MSG(f && strcmp(f->type, fams[i].type) == 0, "%s", fams[i].name);
			CHECK_MSG(count(b.data, type_line) == 1, "%s", fams[i].name);
		}
	}

	CHECK(sample(b.data, "leakwatch_build_info{version=\"" LEAKWATCH_VERSION "\"}") == 1);
	CHECK(sample(b.data, "leakwatch_watched_processes{watch=\"workers\"}") == 2);
	CHECK(sample(b.data, "leakwatch_watched_processes{watch=\"odd.names_1\"}") == 1);
	CHECK(sample(b.data, "leakwatch_watched_processes{watch=\"idle\"}") == 0);

	/* the fixture's values: rss is pages times the page size */
	CHECK(sample(b.data, "leakwatch_process_rss_bytes{watch=\"workers\",pid=\"101\",comm=\"gunicorn\"}") ==
	      (double)((1000 + 119 * 25) * page));
	CHECK(sample(b.data, "leakwatch_process_rss_bytes{watch=\"workers\",pid=\"102\",comm=\"gunicorn\"}") ==
	      (double)(1000 * page));
	CHECK(sample(b.data, "leakwatch_process_fds{watch=\"workers\",pid=\"101\",comm=\"gunicorn\"}") == 65);
	CHECK(sample(b.data, "leakwatch_process_threads{watch=\"workers\",pid=\"101\",comm=\"gunicorn\"}") == 2);
	/* the label values escaped: quote, backslash, newline */
	CHECK_MSG(sample(b.data, "leakwatch_process_rss_bytes{watch=\"odd.names_1\",pid=\"150\",comm=\"" ODD_COMM_LABEL
			 "\"}") == (double)(1000 * page), "comm=\"%s\" not found", ODD_COMM_LABEL);
	CHECK(sample(b.data, "leakwatch_process_threads{watch=\"odd.names_1\",pid=\"150\",comm=\"" ODD_COMM_LABEL
			     "\"}") == 30);
	/* rss, fds, threads, their trends; the threads limit; leak and
	 * over_limit per metric; one ETA */
	CHECK(count(b.data, "comm=\"" ODD_COMM_LABEL "\"") == 3 + 3 + 1 + 2 * METRIC_INLINE + 1);

	/* verdicts: 101 leaks memory and fds, and is over its rss max */
	CHECK(sample(b.data, "leakwatch_process_leak{watch=\"workers\",pid=\"101\",comm=\"gunicorn\",metric=\"rss\"}") == 1);
	CHECK(sample(b.data, "leakwatch_process_leak{watch=\"workers\",pid=\"101\",comm=\"gunicorn\",metric=\"fds\"}") == 1);
	CHECK(sample(b.data, "leakwatch_process_leak{watch=\"workers\",pid=\"102\",comm=\"gunicorn\",metric=\"rss\"}") == 0);
	CHECK(sample(b.data, "leakwatch_process_over_limit{watch=\"workers\",pid=\"101\",comm=\"gunicorn\",metric=\"rss\"}") ==
	      1);
	CHECK(sample(b.data, "leakwatch_process_over_limit{watch=\"workers\",pid=\"101\",comm=\"gunicorn\",metric=\"fds\"}") ==
	      0);
	/* the trends, per second: 101 gains 25 pages a sample, 4 samples a
	 * second, and an fd every other sample; 150 a thread a second */
	CHECK_NEAR(sample(b.data, "leakwatch_process_rss_trend_bytes_per_second{watch=\"workers\",pid=\"101\",comm=\"gunicorn\"}"),
		   100.0 * page, 0.05 * 100 * page);
	CHECK(sample(b.data, "leakwatch_process_rss_trend_bytes_per_second{watch=\"workers\",pid=\"102\",comm=\"gunicorn\"}") == 0);
	CHECK_NEAR(sample(b.data, "leakwatch_process_fds_trend_per_second{watch=\"workers\",pid=\"101\",comm=\"gunicorn\"}"), 2.0, 0.1);
	CHECK_NEAR(sample(b.data, "leakwatch_process_threads_trend_per_second{watch=\"odd.names_1\",pid=\"150\",comm=\"" ODD_COMM_LABEL
			  "\"}"), 1.0, 0.05);
	CHECK(count(b.data, "\nleakwatch_process_rss_trend_bytes_per_second{") == 3);
	CHECK(!strstr(b.data, "trend_per_hour"));

	/* the limits, per process, only where the watch has a max */
	CHECK(sample(b.data, "leakwatch_process_rss_limit_bytes{watch=\"workers\",pid=\"101\",comm=\"gunicorn\"}") ==
	      12.0 * 1024 * 1024);
	CHECK(sample(b.data, "leakwatch_process_rss_limit_bytes{watch=\"workers\",pid=\"102\",comm=\"gunicorn\"}") ==
	      12.0 * 1024 * 1024);
	CHECK(sample(b.data, "leakwatch_process_threads_limit{watch=\"odd.names_1\",pid=\"150\",comm=\"" ODD_COMM_LABEL "\"}") ==
	      100);
	CHECK(count(b.data, "\nleakwatch_process_rss_limit_bytes{") == 2);
	CHECK(count(b.data, "\nleakwatch_process_fds_limit{") == 0);
	CHECK(count(b.data, "\nleakwatch_process_threads_limit{") == 1);

	/* per watch: every watch, 0 included, whatever its processes */
	CHECK(sample(b.data, "leakwatch_watch_rss_bytes{watch=\"workers\"}") == (double)((1000 + 119 * 25 + 1000) * page));
	CHECK(sample(b.data, "leakwatch_watch_fds{watch=\"workers\"}") == 65 + 5);
	CHECK(sample(b.data, "leakwatch_watch_threads{watch=\"workers\"}") == 2 + 1);
	CHECK(sample(b.data, "leakwatch_watch_threads{watch=\"odd.names_1\"}") == 30);
	CHECK(sample(b.data, "leakwatch_watch_rss_bytes{watch=\"idle\"}") == 0);
	CHECK(sample(b.data, "leakwatch_watch_leaking_processes{watch=\"workers\",metric=\"rss\"}") == 1);
	CHECK(sample(b.data, "leakwatch_watch_leaking_processes{watch=\"workers\",metric=\"fds\"}") == 1);
	CHECK(sample(b.data, "leakwatch_watch_leaking_processes{watch=\"workers\",metric=\"threads\"}") == 0);
	CHECK(sample(b.data, "leakwatch_watch_leaking_processes{watch=\"odd.names_1\",metric=\"threads\"}") == 0);
	CHECK(sample(b.data, "leakwatch_watch_over_limit_processes{watch=\"workers\",metric=\"rss\"}") == 1);
	CHECK(sample(b.data, "leakwatch_watch_over_limit_processes{watch=\"workers\",metric=\"fds\"}") == 0);
	CHECK(sample(b.data, "leakwatch_watch_over_limit_processes{watch=\"idle\",metric=\"threads\"}") == 0);
	CHECK(count(b.data, "\nleakwatch_watch_leaking_processes{") == 3 * METRIC_INLINE);
	CHECK(count(b.data, "\nleakwatch_watch_over_limit_processes{") == 3 * METRIC_INLINE);

	/* an ETA only where the metric heads for a max */
	for (const struct watched *w = m->j.watched; w; w = w->next)
		for (int i = 0; i < METRIC_INLINE; i++) {
			double v;

			snprintf(series, sizeof(series),
				 "leakwatch_process_eta_seconds{watch=\"%s\",pid=\"%d\",comm=\"%s\",metric=\"%s\"}",
				 m->j.cfg->watches[w->watch].name, (int)w->pid, w->pid == 150 ? ODD_COMM_LABEL : w->comm,
				 metric_name((enum metric)i));
			v = sample(b.data, series);
			if (w->m[i].eta < 0) {
				CHECK_MSG(isnan(v), "%s: no ETA expected", series);
			} else {
				CHECK_MSG(fabs(v - w->m[i].eta) <= 1e-6 * w->m[i].eta, "%s: %g, expected %g", series, v,
					  w->m[i].eta);
				eta_lines++;
			}
		}
	CHECK(eta_lines == count(b.data, "\nleakwatch_process_eta_seconds{"));
	CHECK(eta_lines >= 2 && eta_lines < 3 * METRIC_INLINE);   /* some, not all */
	CHECK(count(b.data, "metric=\"fds\"} ") > 0 && !strstr(b.data, "leakwatch_process_eta_seconds{watch=\"workers\",pid=\"101\",comm=\"gunicorn\",metric=\"fds\"}"));
	CHECK(sample(b.data, "leakwatch_process_eta_seconds{watch=\"workers\",pid=\"101\",comm=\"gunicorn\",metric=\"rss\"}") == 0);
	snprintf(series, sizeof(series),
		 "leakwatch_process_eta_seconds{watch=\"odd.names_1\",pid=\"150\",comm=\"" ODD_COMM_LABEL "\",metric=\"threads\"}");
	CHECK_MSG(sample(b.data, series) > 0 && sample(b.data, series) < 1000, "%s", series);

	/* the events the monitor reported, counted */
	CHECK(sample(b.data, "leakwatch_events_total{watch=\"workers\",event=\"found\"}") == 2);
	CHECK(sample(b.data, "leakwatch_events_total{watch=\"odd.names_1\",event=\"found\"}") == 1);
	CHECK(sample(b.data, "leakwatch_events_total{watch=\"workers\",event=\"leak\"}") == 2);
	CHECK(sample(b.data, "leakwatch_events_total{watch=\"workers\",event=\"limit\"}") == 1);
	CHECK(sample(b.data, "leakwatch_events_total{event=\"start\"}") == 1);
	CHECK(sample(b.data, "leakwatch_events_total{event=\"reload\"}") == 0);   /* seeded */
	CHECK(sample(b.data, "leakwatch_events_total{event=\"error\"}") == 0);
	CHECK(!strstr(b.data, "=\"\""));   /* no empty label anywhere */
	CHECK(sample(b.data, "leakwatch_actions_total{watch=\"workers\",action=\"signal\",result=\"ok\"}") == 2);
	CHECK(sample(b.data, "leakwatch_actions_total{watch=\"workers\",action=\"signal\",result=\"suppressed\"}") == 1);
	/* every action event is an event: one series per watch, the sum */
	CHECK_MSG(sample(b.data, "leakwatch_events_total{watch=\"workers\",event=\"action\"}") == 3,
		  "leakwatch_events_total{watch=\"workers\",event=\"action\"} is %g, expected 3",
		  sample(b.data, "leakwatch_events_total{watch=\"workers\",event=\"action\"}"));
	CHECK(count(b.data, "\nleakwatch_actions_total{") == 2);

	/* the daemon's own figures */
	CHECK(sample(b.data, "leakwatch_samples_total") == (double)m->j.samples && m->j.samples > 0);
	CHECK(sample(b.data, "leakwatch_scans_total") == (double)m->j.scans && m->j.scans > 0);
	CHECK(sample(b.data, "leakwatch_full_scans_total") == (double)m->j.full_scans && m->j.full_scans > 0);
	CHECK(sample(b.data, "leakwatch_ticks_total") == 120);
	CHECK(sample(b.data, "leakwatch_tick_duration_seconds") == 0.000125);
	CHECK(sample(b.data, "leakwatch_tick_duration_max_seconds") == 0.0025);
	CHECK(sample(b.data, "leakwatch_tick_seconds_total") == 0.0175);
	CHECK_NEAR(sample(b.data, "leakwatch_scan_duration_seconds"), (double)m->j.scan_usec / 1e6, 1e-9);

	switch (promtool(b.data)) {
	case -1:
		printf("  (no %s: the text is not checked by promtool)\n", PROMTOOL);
		break;
	case 0:
		CHECK(true);
		break;
	default:
		CHECK_MSG(false, "promtool check metrics failed on:\n%s", b.data);
		break;
	}
	expo_free(&x);
	buf_free(&b);
}

/* A metric the daemon may not read (fds of another user's process, read
 * unprivileged before Linux 6.2): no sample of it, no trend, leak, limit
 * or ETA, but leakwatch_process_unreadable 1; the others as before. */
static void test_unreadable(struct monitor *m, const struct metrics_counters *c)
{
	struct watched *w = (struct watched *)judged_find(&m->j, 101);
	struct buf b = { 0 };
	struct expo x;
	unsigned saved;

	if (!w)
		return;
	saved = w->unreadable;
	metrics_render(&b, &m->j, c);
	CHECK(count(b.data, "\nleakwatch_process_unreadable{") == 0);   /* everything read */
	buf_reset(&b);
	w->unreadable = 1u << METRIC_FDS;
	metrics_render(&b, &m->j, c);
	expo_check(&x, b.data);
	CHECK_MSG(x.errors == 0, "%d format errors (above)", x.errors);
	CHECK(sample(b.data, "leakwatch_process_unreadable{watch=\"workers\",pid=\"101\",comm=\"gunicorn\",metric=\"fds\"}") == 1);
	CHECK(count(b.data, "\nleakwatch_process_unreadable{") == 1);
	CHECK(!strstr(b.data, "leakwatch_process_fds{watch=\"workers\",pid=\"101\""));
	CHECK(sample(b.data, "leakwatch_process_fds{watch=\"workers\",pid=\"102\",comm=\"gunicorn\"}") == 5);
	CHECK(count(b.data, "pid=\"101\",comm=\"gunicorn\",metric=\"fds\"") == 1);   /* the unreadable line alone */
	CHECK(sample(b.data, "leakwatch_process_rss_bytes{watch=\"workers\",pid=\"101\",comm=\"gunicorn\"}") > 0);
	CHECK(sample(b.data, "leakwatch_process_leak{watch=\"workers\",pid=\"101\",comm=\"gunicorn\",metric=\"rss\"}") == 1);
	CHECK(!strstr(b.data, "leakwatch_process_fds_trend_per_second{watch=\"workers\",pid=\"101\""));
	CHECK(sample(b.data, "leakwatch_process_rss_trend_bytes_per_second{watch=\"workers\",pid=\"101\",comm=\"gunicorn\"}") > 0);
	/* the watch's sums and counts leave out what was not read */
	CHECK(sample(b.data, "leakwatch_watch_fds{watch=\"workers\"}") == 5);
	CHECK(sample(b.data, "leakwatch_watch_leaking_processes{watch=\"workers\",metric=\"fds\"}") == 0);
	CHECK(sample(b.data, "leakwatch_watch_leaking_processes{watch=\"workers\",metric=\"rss\"}") == 1);
	CHECK(sample(b.data, "leakwatch_watched_processes{watch=\"workers\"}") == 2);
	CHECK(promtool(b.data) <= 0);
	w->unreadable = saved;
	expo_free(&x);
	buf_free(&b);
}

/* Label values must be valid UTF-8 for Prometheus, but the kernel cuts a
 * comm at 15 bytes, maybe in the middle of a character. */
static void test_utf8_comm(struct monitor *m, const struct metrics_counters *c)
{
	struct watched *w = (struct watched *)judged_find(&m->j, 102);
	struct buf b = { 0 };
	char saved[16];

	if (!w)
		return;
	memcpy(saved, w->comm, sizeof(saved));
	snprintf(w->comm, sizeof(w->comm), "ty\xc3\xb6ntekij\xc3\xa4-w\xc3");   /* 15 bytes, the last cut */
	metrics_render(&b, &m->j, c);
	CHECK_MSG(utf8_valid(b.data), "a comm cut inside a UTF-8 character gives invalid UTF-8 label values");
	if (promtool(b.data) > 0)
		CHECK_MSG(false, "promtool refuses the text with a cut comm");
	memcpy(w->comm, saved, sizeof(saved));
	buf_free(&b);
}

/* Events and actions about no watch (the daemon's start, reloads, most
 * errors): no watch label at all, not watch="", nor an empty action or
 * result; an error about a watch keeps its watch. */
static void test_no_watch(const struct config *cfg)
{
	struct monitor m;
	struct metrics_counters c = { 0 };
	struct buf b = { 0 };
	struct expo x;

	memset(&m, 0, sizeof(m));
	m.j.cfg = cfg;
	feed(&c, EVENT_START, NULL, NULL, NULL, 1);
	feed(&c, EVENT_RELOAD, "", NULL, NULL, 2);
	feed(&c, EVENT_ERROR, NULL, NULL, NULL, 3);
	feed(&c, EVENT_ERROR, "workers", NULL, NULL, 1);
	feed(&c, EVENT_INSPECT, NULL, NULL, NULL, 1);
	feed(&c, EVENT_ACTION, NULL, NULL, NULL, 1);
	metrics_render(&b, &m.j, &c);
	expo_check(&x, b.data);
	CHECK_MSG(x.errors == 0, "%d format errors (above)", x.errors);
	CHECK_MSG(!strstr(b.data, "=\"\""), "an empty label in:\n%s", b.data);
	CHECK(sample(b.data, "leakwatch_events_total{event=\"start\"}") == 1);
	CHECK(sample(b.data, "leakwatch_events_total{event=\"reload\"}") == 2);
	CHECK(sample(b.data, "leakwatch_events_total{event=\"error\"}") == 3);
	CHECK(sample(b.data, "leakwatch_events_total{watch=\"workers\",event=\"error\"}") == 1);
	CHECK(sample(b.data, "leakwatch_events_total{event=\"inspect\"}") == 1);
	CHECK(sample(b.data, "leakwatch_events_total{event=\"action\"}") == 1);
	CHECK(sample(b.data, "leakwatch_actions_total") == 1);
	CHECK(count(b.data, "\nleakwatch_events_total{event=\"error\"}") == 1);   /* once, not seeded again */
	CHECK(promtool(b.data) <= 0);
	metrics_counters_free(&c);
	expo_free(&x);
	buf_free(&b);
}

static void test_empty(const struct config *cfg)
{
	struct monitor m;
	struct metrics_counters c = { 0 };
	struct buf b = { 0 };
	struct expo x;

	memset(&m, 0, sizeof(m));
	m.j.cfg = cfg;
	metrics_render(&b, &m.j, &c);
	expo_check(&x, b.data);
	CHECK_MSG(x.errors == 0, "%s", b.data);
	/* every family still announced, the per-process ones without samples */
	CHECK(count(b.data, "# TYPE ") == 40 && count(b.data, "# HELP ") == 40);
	CHECK(expo_family(&x, "leakwatch_process_rss_bytes") && expo_family(&x, "leakwatch_process_rss_bytes")->samples == 0);
	CHECK(sample(b.data, "leakwatch_watched_processes{watch=\"idle\"}") == 0);
	CHECK(sample(b.data, "leakwatch_ticks_total") == 0);
	CHECK(promtool(b.data) <= 0);
	expo_free(&x);
	buf_free(&b);
}

int main(void)
{
	struct config *cfg;
	struct monitor m;
	struct metrics_counters c = { 0 };

	RUN(test_counters);

	if (!make_root("metrics"))
		return 2;
	cfg = load_config(config_text);
	CHECK(cfg != NULL);
	if (!cfg)
		return check_done("test_metrics");

	RUN(test_empty, cfg);
	RUN(test_no_watch, cfg);

	make_proc(1, "systemd", 0, PF_USER, "/sbin/init", 3);
	make_proc(101, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(102, "gunicorn", 1, PF_USER, "gunicorn: worker [app]", 5);
	make_proc(150, ODD_COMM, 1, PF_USER, "metricsproc", 3);

	/* as the daemon does: every event is counted */
	feed(&c, EVENT_START, NULL, NULL, NULL, 1);
	CHECK(monitor_init(&m, root, cfg, 300, on_event, &c) == 0);
	/* 30 s at 250 ms: 101 leaks memory and fds, 102 is steady, 150 gains
	 * a thread a second */
	for (int i = 0; i < 120; i++) {
		uint64_t now = 1000 + (uint64_t)i * 250;

		stat_file(101, "gunicorn", 1, PF_USER, 2, 1000 + i * 25, 101);
		stat_file(150, ODD_COMM, 1, PF_USER, 1 + i / 4, 1000, 150);
		if (i % 2 == 0)
			add_fd(101, 5 + i / 2);
		monitor_tick(&m, now, WALL_BASE + now * 1000);
	}
	CHECK(m.j.n_watched == 3);
	/* the actions the leak and the limit would have taken */
	feed(&c, EVENT_ACTION, "workers", "signal", "ok", 2);
	feed(&c, EVENT_ACTION, "workers", "signal", "suppressed", 1);

	RUN(test_render, &m, &c);
	RUN(test_utf8_comm, &m, &c);
	RUN(test_unreadable, &m, &c);

	metrics_counters_free(&c);
	monitor_free(&m);
	config_free(cfg);
	CHECK(remove_root() == 0);
	return check_done("test_metrics");
}
