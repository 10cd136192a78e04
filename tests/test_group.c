/* The group judge without /proc: a pool of recycled workers whose sum
 * grows (a leak that outlives each worker) is a group leak, reported
 * once, while the same workers recycled back to the same base are not;
 * no worker lives a window; a metric unreadable for one process is not
 * fed; no process feeds nothing; the warm-up runs from the group's first
 * sample; a max is a limit, with its action pending and withheld ones
 * asked again while the episode lasts; a reload keeps a record by name
 * and window; a group's events (JSON, journal, the human line), its
 * status --watches line and object, its Prometheus series.  Links with
 * the core alone. */
#include <string.h>

#include "check.h"
#include "group_fixture.h"
#include "core/event_format.h"
#include "core/group_judge.h"
#include "core/prometheus_group.h"
#include "core/watch_summary.h"

/* A pool of 4 workers, each living life_s, started life_s/4 apart, each
 * growing leak_per_s while it lives from a base; carry: the base grows by
 * what each finished worker leaked (the master keeps it), else every
 * worker starts at the same base.  The rss of worker k at t seconds. */
static double worker_rss(int k, double t, double life_s, double leak_per_s, bool carry)
{
	double offset = k * life_s / 4, age, born;
	double base = 50e6;

	if (t < offset)
		return base;   /* the first generation, not started yet: at its base */
	age = t - offset;
	born = age - (double)(long)(age / life_s) * life_s;   /* age of the current worker */
	if (carry)
		base += leak_per_s * (t - born);   /* what its predecessors in its slot leaked */
	return base + leak_per_s * born;
}

/* Run a pool for seconds at a 500 ms interval: the leak events of rss. */
static unsigned run_pool(struct group_record *g, const struct watch *wc, double seconds, bool carry,
			 double *first_leak_s)
{
	unsigned leaks = 0, ev[GROUP_METRICS];

	*first_leak_s = -1;
	for (double t = 0; t < seconds; t += 0.5) {
		group_begin(g);
		for (int k = 0; k < 4; k++) {
			double v[METRIC_COUNT] = { worker_rss(k, t, 20, 0.5e6, carry), 10, 2 };

			group_add(g, v, 0);
		}
		group_feed(g, wc, 1000 + (uint64_t)(t * 1000), ev);
		if (ev[METRIC_RSS] & DETECT_LEAK) {
			leaks++;
			if (*first_leak_s < 0)
				*first_leak_s = t;
		}
		CHECK(!(ev[METRIC_FDS] & DETECT_LEAK));
	}
	return leaks;
}

/* The sum over recycled workers: a leak that outlives each worker is
 * caught, once; a bounded sawtooth is not. */
static void test_pools(void)
{
	static const struct {
		bool carry;
		unsigned want;
		double by_s;   /* the leak reported by then (warm-up 5 s, window 60 s) */
	} cases[] = {
		{ true, 1, 140 },
		{ false, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct group_rule gr = rule_of(2e9 / 3600, 0);   /* 2G/h; the leaky sum grows 7.2G/h */
		struct watch wc = watch_of("pool", 5000, 60000, &gr);
		static struct group_record g;
		double first;
		unsigned n;

		CHECK(group_record_init(&g, &wc) == 0);
		n = run_pool(&g, &wc, 300, cases[i].carry, &first);
		CHECK_MSG(n == cases[i].want, "case %zu: %u leaks", i, n);
		if (cases[i].want) {
			CHECK_MSG(first > 65 && first <= cases[i].by_s, "case %zu: first at %g s", i, first);
			CHECK(g.m[METRIC_RSS].leaking && group_verdict(&g, &wc, METRIC_RSS, 301000) == VERDICT_LEAK);
			CHECK(g.processes == 4);
			CHECK(group_retry(&g) && g.retry.why == EVENT_LEAK && g.retry.metric == METRIC_RSS);
			CHECK(group_action(&wc, EVENT_LEAK) == ACTION_RESTART_UNIT);
			CHECK(group_action(&wc, EVENT_LIMIT) == ACTION_ALERT);
		} else {
			CHECK(group_verdict(&g, &wc, METRIC_RSS, 301000) == VERDICT_OK);
			CHECK(!group_retry(&g));
		}
		CHECK(group_verdict(&g, &wc, METRIC_THREADS, 301000) == VERDICT_WARMING);   /* no rule */
	}
}

/* What is fed: the metrics with a rule and readable for every process;
 * nothing without a process. */
static void test_fed(void)
{
	static const struct {
		unsigned n;            /* processes added */
		unsigned unreadable;   /* of the second one */
		unsigned want;         /* metrics fed */
		double rss;            /* the sum fed */
	} cases[] = {
		{ 0, 0, 0, 0 },
		{ 1, 0, 1u << METRIC_RSS | 1u << METRIC_FDS, 100 },
		{ 2, 1u << METRIC_FDS, 1u << METRIC_RSS, 200 },
		{ 3, 1u << METRIC_RSS, 1u << METRIC_FDS, 0 },
	};
	struct group_rule gr = rule_of(1, 0);
	struct watch wc = watch_of("w", 0, 20000, &gr);
	static struct group_record g;

	CHECK(group_record_init(&g, &wc) == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned ev[GROUP_METRICS], fed;

		group_begin(&g);
		for (unsigned k = 0; k < cases[i].n; k++) {
			double v[METRIC_COUNT] = { 100, 10, 2 };

			group_add(&g, v, k == 1 ? cases[i].unreadable : 0);
		}
		fed = group_feed(&g, &wc, 1000 + i * 1000, ev);
		CHECK_MSG(fed == cases[i].want, "case %zu: fed %#x", i, fed);
		if (fed & (1u << METRIC_RSS))
			CHECK_NEAR(g.m[METRIC_RSS].value, cases[i].rss, 0);
		CHECK(g.processes == cases[i].n && g.fed == fed);
	}
	CHECK(g.tl[METRIC_RSS].head >= 0 && g.tl[METRIC_THREADS].head < 0);
}

/* The warm-up counts from the group's first sample, not from 0. */
static void test_warmup(void)
{
	static const struct { uint64_t t; bool warming; } steps[] = {
		{ 50000, true }, { 59000, true }, { 60000, false }, { 70000, false },
	};
	struct group_rule gr = rule_of(1, 0);
	struct watch wc = watch_of("w", 10000, 20000, &gr);
	static struct group_record g;

	CHECK(group_record_init(&g, &wc) == 0);
	CHECK(group_warming(&g, &wc, 0));   /* not started */
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		double v[METRIC_COUNT] = { 100, 10, 2 };
		unsigned ev[GROUP_METRICS];

		group_begin(&g);
		group_add(&g, v, 0);
		group_feed(&g, &wc, steps[i].t, ev);
		CHECK_MSG(group_warming(&g, &wc, steps[i].t) == steps[i].warming, "step %zu", i);
	}
	CHECK(g.first_ms == 50000);
	CHECK(g.tl[METRIC_RSS].n[g.tl[METRIC_RSS].head % HIST_BUCKETS] >= 1);
}

/* A max over the sum: a limit once per episode, its action pending, a
 * withheld one asked again until the episode is over. */
static void test_limit(void)
{
	static const struct {
		double each;           /* rss of each of 2 processes */
		unsigned want;
		bool withheld;         /* the action asked at this step is withheld */
		bool retry;            /* group_retry() after it */
	} steps[] = {
		{ 100, 0, false, false },
		{ 600, DETECT_LIMIT, true, true },
		{ 700, 0, true, true },
		{ 100, 0, false, false },   /* back under: the episode is over */
		{ 600, DETECT_LIMIT, false, false },
	};
	struct group_rule gr = rule_of(0, 1000);
	struct watch wc = watch_of("w", 0, 20000, &gr);
	static struct group_record g;

	gr.metrics = 1u << METRIC_RSS;
	CHECK(group_record_init(&g, &wc) == 0);
	CHECK(g.m[METRIC_RSS].limit == 1000 && g.m[METRIC_FDS].limit < 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		double v[METRIC_COUNT] = { steps[i].each, 10, 2 };
		unsigned ev[GROUP_METRICS];

		group_begin(&g);
		group_add(&g, v, 0);
		group_add(&g, v, 0);
		group_feed(&g, &wc, 1000 + i * 1000, ev);
		CHECK_MSG(ev[METRIC_RSS] == steps[i].want, "step %zu: %#x", i, ev[METRIC_RSS]);
		if (group_retry(&g)) {
			CHECK(g.retry.why == EVENT_LIMIT);
			group_acted(&g, steps[i].withheld);
		}
		CHECK_MSG(group_retry(&g) == steps[i].retry, "step %zu", i);
	}
}

/* A reload: a watch keeping its name and window keeps its record (with
 * the new limits), one whose window changed starts afresh, one without
 * a group has none. */
static void test_reload(void)
{
	struct group_rule g1 = rule_of(1, 500), g2 = rule_of(1, 900);
	struct watch old_w[2] = { watch_of("a", 0, 20000, &g1), watch_of("b", 0, 20000, &g1) };
	struct watch new_w[3] = { watch_of("c", 0, 20000, NULL), watch_of("b", 0, 30000, &g2),
				  watch_of("a", 0, 20000, &g2) };
	struct config oc = { .watches = old_w, .n_watches = 2 }, nc = { .watches = new_w, .n_watches = 3 };
	struct group_record **old = NULL, **neu = NULL, *kept;

	CHECK(group_set_build(&old, &oc, NULL, NULL) == 0);
	if (!old)
		return;
	CHECK(old[0] && old[1]);
	old[0]->processes = 7;   /* a mark: the record kept */
	kept = old[0];
	CHECK(group_set_build(&neu, &nc, old, &oc) == 0);
	if (!neu)
		return;
	CHECK(neu[0] == NULL);
	CHECK(neu[1] && neu[1]->processes == 0 && neu[1]->window_ms == 30000);
	CHECK(neu[2] == kept && neu[2]->processes == 7 && neu[2]->m[METRIC_RSS].limit == 900);
	group_set_free(neu, 3);
	group_set_free(NULL, 0);
}

/* A group's leak and action events: "group": true and processes, no pid;
 * LEAKWATCH_GROUP=1, no OBJECT_PID; "W: group of N processes: ...". */
static void test_events(void)
{
	static const struct { enum event_type t; unsigned n; const char *json, *message; } cases[] = {
		{ EVENT_LEAK, 4, "\"watch\":\"api\",\"group\":true,\"processes\":4,\"metric\":\"rss\"",
		  "api: group of 4 processes: rss leak: 1G, growing 512M/h" },
		{ EVENT_ACTION, 1, "\"group\":true,\"processes\":1,\"metric\":\"rss\",\"action\":\"restart-unit\"",
		  "api: group of 1 process: action restart-unit: dry-run" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct journal_fields f;
		struct buf b = { 0 };
		struct event e;
		bool grp = false, pid = false;

		event_init(&e, cases[i].t, 1000000);
		event_about_group(&e, "api", cases[i].n);
		e.metric = METRIC_RSS;
		e.has_value = true;
		e.value = 1024.0 * 1024 * 1024;
		e.has_slope = cases[i].t == EVENT_LEAK;
		e.slope_per_hour = 512.0 * 1024 * 1024;
		if (cases[i].t == EVENT_ACTION) {
			e.has_value = e.has_slope = false;
			e.action = "restart-unit";
			e.result = "dry-run";
		}
		event_describe(&e);
		CHECK_STR(e.message, cases[i].message);
		event_format_json(&e, &b);
		CHECK_MSG(b.data && strstr(b.data, cases[i].json) && !strstr(b.data, "\"pid\""), "case %zu: %s", i,
			  b.data ? b.data : "(null)");
		buf_free(&b);
		event_format_journal(&e, &f);
		for (int k = 0; k < (int)f.n; k++) {
			grp |= strcmp(f.text[k], "LEAKWATCH_GROUP=1") == 0;
			pid |= strncmp(f.text[k], "OBJECT_PID=", 11) == 0;
		}
		CHECK(grp && !pid);
	}
}

/* status --watches and Prometheus: the group's line, object and series;
 * none for a watch without a group, no family without any group. */
static void test_shown(void)
{
	struct group_rule gr = rule_of(2e9 / 3600, 8e9);
	struct watch w[2] = { watch_of("pool", 0, 60000, &gr), watch_of("plain", 0, 60000, NULL) };
	struct config cfg = { .watches = w, .n_watches = 2, .interval_ms = 500 };
	struct judged j = { .cfg = &cfg, .now_ms = 100000 };
	struct group_record **v = NULL;
	struct buf b = { 0 };
	double first;

	metrics_render_groups(&b, &j);
	CHECK(b.len == 0);
	CHECK(group_set_build(&v, &cfg, NULL, NULL) == 0);
	if (!v)
		return;
	j.groups = v;
	run_pool(v[0], &w[0], 100, true, &first);
	report_watch_lines(&b, &j, -1, 80);
	CHECK_MSG(b.data && strstr(b.data, "\n  group of 4 processes: rss ") && strstr(b.data, " leak, fds 40 ") &&
		  !strstr(b.data, "threads"), "%s", b.data ? b.data : "(null)");
	buf_free(&b);
	memset(&b, 0, sizeof(b));
	report_watches_json(&b, &j, -1);
	CHECK_MSG(b.data && strstr(b.data, "\"group\": {\"processes\": 4, \"rss\": {\"value\": ") &&
		  strstr(b.data, "\"verdict\": \"leak\"}, \"fds\": {\"value\": 40, \"trend_per_hour\": 0, "
			 "\"verdict\": \"ok\"}}") && !strstr(b.data, "\"plain\", \"processes\": 0, \"leaking\": 0, "
			 "\"over_limit\": 0, \"last_action\": null, \"group\""), "%s", b.data ? b.data : "(null)");
	buf_free(&b);
	memset(&b, 0, sizeof(b));
	metrics_render_groups(&b, &j);
	CHECK_MSG(b.data && strstr(b.data, "\nleakwatch_group_rss_bytes{watch=\"pool\"} ") &&
		  strstr(b.data, "\nleakwatch_group_rss_limit_bytes{watch=\"pool\"} 8000000000\n") &&
		  strstr(b.data, "\nleakwatch_group_leak{watch=\"pool\",metric=\"rss\"} 1\n") &&
		  strstr(b.data, "\nleakwatch_group_over_limit{watch=\"pool\",metric=\"fds\"} 0\n") &&
		  strstr(b.data, "\nleakwatch_group_rss_trend_bytes_per_second{watch=\"pool\"} ") &&
		  !strstr(b.data, "leakwatch_group_threads{") && !strstr(b.data, "plain"), "%s",
		  b.data ? b.data : "(null)");
	buf_free(&b);
	group_set_free(v, 2);
}

int main(void)
{
	RUN(test_pools);
	RUN(test_fed);
	RUN(test_warmup);
	RUN(test_limit);
	RUN(test_reload);
	RUN(test_events);
	RUN(test_shown);
	return check_done("test_group");
}
