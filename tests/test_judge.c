/* The judge without /proc: a sample's verdicts (a limit reported once per
 * episode), an unreadable metric said once and kept as -1 placeholders,
 * the history started again when readability changes, the withheld
 * action asked again while its episode lasts, warming, a new config's
 * window, and the judged view's lookups.  Links with the core alone. */
#include <string.h>

#include "check.h"
#include "core/judge.h"

static const char comm[16] = "comm";   /* a comm is always 16 bytes */

static struct watch watch_of(uint64_t warmup_ms, uint64_t window_ms, double rss_max)
{
	struct watch wc;

	memset(&wc, 0, sizeof(wc));
	wc.name = "w";
	wc.warmup_ms = warmup_ms;
	wc.window_ms = window_ms;
	wc.rule[METRIC_RSS].has_max = true;
	wc.rule[METRIC_RSS].max = rss_max;
	wc.rule[METRIC_RSS].for_samples = 1;
	return wc;
}

static void feed(struct watched *w, const struct watch *wc, uint64_t t, double rss, unsigned unreadable,
		 struct verdicts *v)
{
	double val[METRIC_COUNT] = { [METRIC_RSS] = rss, [METRIC_FDS] = unreadable ? 0 : 10, [METRIC_THREADS] = 2 };

	judge_sample(w, wc, t, val, unreadable, v);
}

/* A limit: reported at the first sample over, not again while over. */
static void test_limit(void)
{
	static const struct { double rss; unsigned want; } steps[] = {
		{ 100, 0 }, { 300, DETECT_LIMIT }, { 400, 0 }, { 500, 0 },
	};
	struct watch wc = watch_of(0, 20000, 200);
	static struct watched w;
	struct verdicts v;

	judge_init(&w, 42, 7, 1000, 0, comm, &wc);
	CHECK(w.pid == 42 && w.start_ticks == 7 && w.retry.metric == -1 && w.tl.head < 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		feed(&w, &wc, 2000 + i * 1000, steps[i].rss, 0, &v);
		CHECK_MSG(v.ev[METRIC_RSS] == steps[i].want && v.warn == 0, "step %zu", i);
		CHECK(w.m[METRIC_RSS].value == steps[i].rss);
	}
	CHECK(w.m[METRIC_RSS].in_limit);
}

/* fds unreadable: said once, -1 placeholders, the history started again
 * when it becomes readable, the rss episode kept. */
static void test_unreadable(void)
{
	struct watch wc = watch_of(0, 20000, 200);
	static struct watched w;
	struct verdicts v;
	const unsigned fds = 1u << METRIC_FDS;

	judge_init(&w, 42, 7, 1000, 0, comm, &wc);
	feed(&w, &wc, 2000, 300, 0, &v);
	CHECK(v.ev[METRIC_RSS] == DETECT_LIMIT && w.tl.head >= 0);
	feed(&w, &wc, 3000, 300, fds, &v);
	CHECK(v.warn == fds && w.unreadable == fds && w.m[METRIC_FDS].value == -1 && v.ev[METRIC_FDS] == 0);
	CHECK(w.m[METRIC_RSS].in_limit);          /* kept across the restart */
	CHECK(v.ev[METRIC_RSS] == 0);              /* not reported again */
	feed(&w, &wc, 4000, 300, fds, &v);
	CHECK(v.warn == 0);                        /* said once */
	feed(&w, &wc, 5000, 300, 0, &v);
	CHECK(v.warn == 0 && w.unreadable == 0 && w.m[METRIC_FDS].value == 10);
	CHECK(timeline_span_ms(&w.tl) == 0);       /* started again at this sample */
}

/* A withheld action is asked again while its episode lasts, then forgotten. */
static void test_retry(void)
{
	struct watch wc = watch_of(0, 20000, 200);
	static struct watched w;
	struct verdicts v;

	judge_init(&w, 42, 7, 1000, 0, comm, &wc);
	CHECK(!judge_retry(&w));
	feed(&w, &wc, 2000, 300, 0, &v);
	judge_acted(&w, EVENT_LIMIT, METRIC_RSS, true);
	CHECK(w.retry.metric == METRIC_RSS && w.retry.why == EVENT_LIMIT);
	CHECK(judge_retry(&w));
	judge_acted(&w, EVENT_LIMIT, METRIC_RSS, false);   /* taken at last */
	CHECK(w.retry.metric == -1 && !judge_retry(&w));
	judge_acted(&w, EVENT_LIMIT, METRIC_RSS, true);
	for (int i = 0; i < 5 && w.m[METRIC_RSS].in_limit; i++)
		feed(&w, &wc, 3000 + (uint64_t)i * 1000, 100, 0, &v);
	CHECK(!w.m[METRIC_RSS].in_limit);
	CHECK(!judge_retry(&w) && w.retry.metric == -1);   /* the episode is over */
}

/* Warming, a new config, the view. */
static void test_view(void)
{
	struct watch wcs[2] = { watch_of(5000, 20000, 200), watch_of(0, 40000, 200) };
	struct config cfg;
	static struct watched a, b;
	struct judged j;
	struct verdicts v;

	memset(&cfg, 0, sizeof(cfg));
	cfg.watches = wcs;
	cfg.n_watches = 2;
	judge_init(&a, 10, 1, 1000, 0, comm, &wcs[0]);
	judge_init(&b, 11, 1, 1000, 1, comm, &wcs[1]);
	a.next = &b;
	j = (struct judged){ .cfg = &cfg, .watched = &a, .n_watched = 2, .now_ms = 5999 };
	CHECK(judged_find(&j, 11) == &b && judged_find(&j, 10) == &a && judged_find(&j, 12) == NULL);
	CHECK(judged_warming(&j, &a) && !judged_warming(&j, &b));
	j.now_ms = 6000;
	CHECK(!judged_warming(&j, &a));
	CHECK(judge_warming(&a, &wcs[0], 5999) && !judge_warming(&a, &wcs[0], 6000));
	feed(&a, &wcs[0], 2000, 100, 0, &v);                /* warming: no history */
	CHECK(a.tl.head < 0 && a.m[METRIC_RSS].value == 100);
	feed(&a, &wcs[0], 6000, 120, 0, &v);
	judge_reconfigure(&a, 0, &wcs[0], &wcs[0]);        /* same window: kept */
	CHECK(a.tl.head >= 0 && a.m[METRIC_RSS].value == 120);
	judge_reconfigure(&a, 1, &wcs[0], &wcs[1]);        /* another window: afresh */
	CHECK(a.watch == 1 && a.tl.head < 0);
}

/* A bounded fill lasting 1.3 windows inside a warm-up of 1.5 windows is
 * never a leak: the warm-up's samples are no history, the first verdict
 * needs a whole window after it.  Without the warm-up the same fill is
 * one (leakwatchd(8): the window must outlast a warm-up).  A limit holds
 * from the first sample, in the warm-up too. */
static unsigned fill_leaks(uint64_t warmup_ms, unsigned *limits)
{
	struct watch wc = watch_of(warmup_ms, 20000, 200e6);
	static struct watched w;
	struct verdicts v;
	unsigned leaks = 0;

	wc.rule[METRIC_RSS].growth = 300e6 / 3600;          /* 300M/h */
	judge_init(&w, 7, 1, 0, 0, comm, &wc);
	*limits = 0;
	for (uint64_t t = 250; t <= 200000; t += 250) {     /* 10 windows */
		/* 40 MiB to 140 MiB over 26 s (1.3 windows), then flat; over
		 * 200e6 (the limit) for a second at 5 s */
		double rss = 40e6 + 100e6 * (t < 26000 ? t / 26000.0 : 1.0) + (t >= 5000 && t < 6000 ? 200e6 : 0);

		feed(&w, &wc, t, rss, 0, &v);
		leaks += (v.ev[METRIC_RSS] & DETECT_LEAK) != 0;
		*limits += (v.ev[METRIC_RSS] & DETECT_LIMIT) != 0;
	}
	return leaks;
}

static void test_warmup(void)
{
	unsigned limits;

	CHECK(fill_leaks(30000, &limits) == 0);   /* warm-up 1.5 windows */
	CHECK(limits == 1);                       /* in the warm-up */
	CHECK(fill_leaks(0, &limits) == 1);       /* no warm-up: the fill looks like a leak */
	CHECK(limits == 1);
}

int main(void)
{
	test_limit();
	test_unreadable();
	test_retry();
	test_view();
	test_warmup();
	return check_done("test_judge");
}
