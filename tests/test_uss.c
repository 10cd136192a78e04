/* uss and pss (smaps_rollup): the parser on real and hostile text, the
 * read scheduler (period, oldest first, the budget, no starvation), the
 * judge with and without the sparse states (allocated only for a watch
 * with a rule for one, on the process's buckets, a leak found through
 * buckets the reads skip, no false one on a flat line), the config keys,
 * the status and history showing them only where a process has them, and
 * the state file's round trip with and without them.  Links with the core
 * alone, plus the config reader. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/buf.h"
#include "core/history_report.h"
#include "core/judge.h"
#include "core/plot_report.h"
#include "core/proc_parse.h"
#include "core/prometheus.h"
#include "core/smaps_sched.h"
#include "core/state_codec.h"
#include "core/status_report.h"
#include "os/config_file.h"

#define MiB (1024.0 * 1024.0)

static const char rollup[] =
	"55e77bfbb000-7ffd814df000 ---p 00000000 00:00 0                          [rollup]\n"
	"Rss:                1688 kB\n"
	"Pss:                 296 kB\n"
	"Pss_Dirty:           112 kB\n"
	"Pss_Anon:            112 kB\n"
	"Shared_Clean:       1536 kB\n"
	"Private_Clean:        40 kB\n"
	"Private_Dirty:       112 kB\n"
	"Private_Hugetlb:       8 kB\n"
	"Swap:                  0 kB\n";

static void test_parse(void)
{
	static const struct {
		const char *text;
		int want;
		double uss, pss;   /* kB */
	} cases[] = {
		{ rollup, 0, 40 + 112 + 8, 296 },
		/* no Private_Hugetlb (older kernels): the sum of the other two */
		{ "Pss: 10 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n", 0, 3, 10 },
		/* Pss_Dirty is not Pss; the order does not matter */
		{ "Private_Dirty: 2 kB\nPss_Dirty: 99 kB\nPrivate_Clean: 1 kB\nPss: 10 kB\n", 0, 3, 10 },
		{ "Pss_Dirty: 99 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n", -EINVAL, 0, 0 },   /* no Pss */
		{ "Pss: 10 kB\nPrivate_Clean: 1 kB\n", -EINVAL, 0, 0 },                     /* no Private_Dirty */
		{ "Pss: 10 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB", -EINVAL, 0, 0 },  /* cut: last line unread */
		{ "Pss: 10 kB\nPss: 11 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n", -EINVAL, 0, 0 },   /* twice */
		{ "Pss: -10 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n", -EINVAL, 0, 0 },
		{ "Pss: 10 MB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n", -EINVAL, 0, 0 },
		{ "Pss: 10 kB trailing\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n", -EINVAL, 0, 0 },
		{ "Pss:  kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n", -EINVAL, 0, 0 },
		{ "Pss: 99999999999999999999999 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n", -EINVAL, 0, 0 },
		{ " Pss: 10 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n", -EINVAL, 0, 0 },   /* not at a line start */
		{ "", -EINVAL, 0, 0 },
		{ "\n\n\n", -EINVAL, 0, 0 },
		/* the largest count that fits: no overflow, no negative */
		{ "Pss: 18446744073709551606 kB\nPrivate_Clean: 0 kB\nPrivate_Dirty: 0 kB\n", 0, 0, 18446744073709551606.0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc_smaps sm = { -1, -1 };
		int r = proc_parse_smaps_rollup(cases[i].text, strlen(cases[i].text), &sm);

		CHECK_MSG(r == cases[i].want, "case %zu: %d", i, r);
		if (r == 0 && cases[i].want == 0)
			CHECK_MSG(sm.uss == cases[i].uss * 1024 && sm.pss == cases[i].pss * 1024,
				  "case %zu: uss %g pss %g", i, sm.uss, sm.pss);
	}
	/* every prefix of the real text: refused, or read in full; never past the end */
	for (size_t n = 0; n <= strlen(rollup); n++) {
		struct proc_smaps sm;
		char copy[sizeof(rollup)];
		int r;

		memcpy(copy, rollup, n);
		r = proc_parse_smaps_rollup(copy, n, &sm);
		/* a cut before the Private_Hugetlb line: without it (as older kernels) */
		CHECK_MSG(r == -EINVAL || (r == 0 && (sm.uss == 160 * 1024 || sm.uss == 152 * 1024) && sm.pss == 296 * 1024),
			  "prefix %zu", n);
	}
}

static void test_sched(void)
{
	struct smaps_pick p;
	struct smaps_budget b;
	int items[SMAPS_PICK_MAX + 10];

	CHECK(smaps_period_ms(1000, 37500, 0) == 9375);      /* 30 min window: a quarter bucket */
	CHECK(smaps_period_ms(5000, 2500, 0) == 5000);       /* short window: every sample */
	CHECK(smaps_period_ms(1000, 2500, 6400) == 3200);    /* a 200 MiB read: 500 times its cost */
	CHECK(smaps_period_ms(1000, 37500, 17000) == 9375);  /* 1 GiB at the default window: no change */
	CHECK(smaps_period_ms(1000, 2500, UINT64_MAX) >= UINT64_MAX / 1000);   /* no overflow */
	CHECK(smaps_due(0, 5, 1000));                  /* never read */
	CHECK(!smaps_due(1000, 1999, 1000) && smaps_due(1000, 2000, 1000));
	CHECK(smaps_due(5000, 4000, 1000));            /* a clock gone back: read */

	/* the oldest kept, oldest first, whatever the order offered */
	smaps_pick_init(&p);
	for (int i = 0; i < SMAPS_PICK_MAX + 10; i++)
		smaps_pick_offer(&p, &items[i], (uint64_t)((i * 37) % (SMAPS_PICK_MAX + 10)) + 1);
	CHECK(p.n == SMAPS_PICK_MAX);
	for (size_t i = 0; i < p.n; i++)
		CHECK_MSG(p.read_ms[i] == i + 1, "slot %zu: %llu", i, (unsigned long long)p.read_ms[i]);

	/* the budget: the first read always, then until spent */
	smaps_budget_init(&b, 2000);
	CHECK(smaps_budget_left(&b));
	smaps_budget_spend(&b, 17000);   /* one 1 GiB process: read, and the tick stops */
	CHECK(!smaps_budget_left(&b) && b.reads == 1);
	smaps_budget_init(&b, 2000);
	for (int i = 0; i < 19; i++)
		smaps_budget_spend(&b, 100);
	CHECK(smaps_budget_left(&b));
	smaps_budget_spend(&b, 100);
	CHECK(!smaps_budget_left(&b) && b.reads == 20);
}

/* 100 processes due at every tick, a read 100 us: 20 a tick, and each
 * read again within 5 ticks (none starves behind the others). */
static void test_no_starvation(void)
{
	enum { N = 100 };
	uint64_t read_ms[N] = { 0 }, worst = 0;
	int idx[N];

	for (int i = 0; i < N; i++)
		idx[i] = i;
	for (uint64_t tick = 1; tick <= 50; tick++) {
		uint64_t now = tick * 1000;
		struct smaps_budget b;
		struct smaps_pick p;

		smaps_budget_init(&b, SMAPS_BUDGET_USEC);
		do {
			smaps_pick_init(&p);
			for (int i = 0; i < N; i++)
				if (smaps_due(read_ms[i], now, 1000))
					smaps_pick_offer(&p, &idx[i], read_ms[i]);
			for (size_t k = 0; k < p.n && smaps_budget_left(&b); k++) {
				int i = *(int *)p.item[k];

				if (read_ms[i] && tick > 10 && now - read_ms[i] > worst)
					worst = now - read_ms[i];
				read_ms[i] = now;
				smaps_budget_spend(&b, 100);
			}
		} while (p.n == SMAPS_PICK_MAX && smaps_budget_left(&b));
		CHECK_MSG(b.reads == 20, "tick %llu: %u reads", (unsigned long long)tick, b.reads);
	}
	CHECK_MSG(worst == 5000, "the longest wait: %llu ms", (unsigned long long)worst);
}

static const char comm[16] = "python3";

static struct watch watch_of(bool uss)
{
	struct watch wc;

	memset(&wc, 0, sizeof(wc));
	wc.name = "w";
	wc.window_ms = 48000;   /* 1 s buckets */
	for (int i = 0; i < METRIC_COUNT; i++)
		wc.rule[i].for_samples = 1;
	if (uss) {
		wc.rule[METRIC_USS].growth = 100 * MiB / 3600;
		wc.rule[METRIC_PSS].has_max = true;
		wc.rule[METRIC_PSS].max = 500 * MiB;
	}
	return wc;
}

/* Samples every 250 ms, smaps every 4th (1 s): uss grows by slope per s
 * (plus a little noise), pss is uss + 10 MiB.  The leak and limit events
 * of uss and pss, summed. */
static unsigned run(struct watched *w, const struct watch *wc, double slope, int secs, unsigned *pss_ev)
{
	unsigned ev = 0;

	*pss_ev = 0;
	for (int i = 0; i < secs * 4; i++) {
		uint64_t t = 1000 + (uint64_t)i * 250;
		double val[METRIC_COUNT] = { 50 * MiB, 10, 2 };
		struct verdicts v;

		judge_sample(w, wc, t, val, 0, &v);
		CHECK(v.ev[METRIC_USS] == 0 && v.ev[METRIC_PSS] == 0);
		if (i % 4 == 3) {
			double u = 40 * MiB + slope * (double)t / 1000 + (i % 8 ? 200e3 : -200e3);
			double sv[METRIC_SPARSE] = { u, u + 10 * MiB };

			judge_sparse_sample(w, wc, t, sv, false, &v);
			ev |= v.ev[METRIC_USS];
			*pss_ev |= v.ev[METRIC_PSS];
		}
	}
	return ev;
}

static void test_judge_absent(void)
{
	struct watch plain = watch_of(false), with = watch_of(true);
	static struct watched w;
	struct verdicts v;
	double sv[METRIC_SPARSE] = { 1, 2 };
	unsigned pss;

	judge_init(&w, 42, 7, 0, 0, comm, &plain);
	CHECK(!w.sparse && !watched_metric(&w, METRIC_USS) && !watched_metric(&w, METRIC_PSS));
	CHECK(!watched_timeline(&w, METRIC_PSS) && watched_timeline(&w, METRIC_RSS) == &w.tl);
	CHECK(watched_metric(&w, METRIC_THREADS) == &w.m[METRIC_THREADS] && !watched_metric(&w, METRIC_COUNT));
	CHECK(watched_metrics(&w) == 7u && !judge_wants_sparse(&plain) && judge_wants_sparse(&with));
	judge_sparse_sample(&w, &plain, 1000, sv, false, &v);   /* nothing to feed: nothing happens */
	CHECK(v.ev[METRIC_USS] == 0 && !w.sparse);
	CHECK(run(&w, &plain, 1e6, 10, &pss) == 0);
	/* a reload gains a uss rule: fresh states; loses both: freed */
	judge_reconfigure(&w, 0, &plain, &with);
	CHECK(w.sparse && watched_metric(&w, METRIC_USS) && watched_metrics(&w) == 31u);
	CHECK(watched_metric(&w, METRIC_PSS)->limit == 500 * MiB && watched_metric(&w, METRIC_USS)->limit == -1);
	judge_reconfigure(&w, 0, &with, &plain);
	CHECK(!w.sparse);
	judge_free(&w);
	judge_free(NULL);
}

static void test_judge_sparse(void)
{
	struct watch wc = watch_of(true);
	static struct watched w;
	const struct metric_state *u;
	unsigned ev, pss;

	/* a flat uss: no leak, a fit ready over buckets of the reads alone */
	judge_init(&w, 42, 7, 0, 0, comm, &wc);
	CHECK(w.sparse != NULL);
	ev = run(&w, &wc, 0, 120, &pss);
	u = watched_metric(&w, METRIC_USS);
	CHECK(ev == 0 && pss == 0 && u->trend.ready && !u->leaking);
	/* its buckets are the process's: the same origin and width, a quarter
	 * of the samples in each */
	CHECK(w.sparse->tl.origin_ms == w.tl.origin_ms && w.sparse->tl.width_ms == w.tl.width_ms);
	CHECK(w.sparse->tl.head == w.tl.head);
	for (int64_t k = w.tl.head - 40; k <= w.tl.head; k++) {
		struct bucket a, b;

		CHECK(history_bucket(&w.tl, &w.m[METRIC_RSS].hist, k, &a) && a.n == 4);
		CHECK_MSG(history_bucket(&w.sparse->tl, &u->hist, k, &b) && b.n == 1, "bucket %lld: %u",
			  (long long)k, b.n);
	}
	judge_free(&w);

	/* 1 MiB/s against a growth of 100M/h: a leak, of uss only (pss has a max) */
	judge_init(&w, 43, 7, 0, 0, comm, &wc);
	ev = run(&w, &wc, 1 * MiB, 120, &pss);
	CHECK_MSG(ev == DETECT_LEAK, "uss events %u", ev);
	CHECK(watched_metric(&w, METRIC_USS)->leaking && watched_metric(&w, METRIC_USS)->trend.slope > 0.9 * MiB);
	/* ... and pss over its 500 MiB once it gets there */
	ev = run(&w, &wc, 5 * MiB, 120, &pss);
	CHECK_MSG(pss == DETECT_LIMIT, "pss events %u", pss);
	judge_free(&w);

	/* a uss action withheld (cooldown), then a reload drops the uss and
	 * pss rules: their states are freed, and the withheld action is over */
	{
		struct watch plain = watch_of(false);

		judge_init(&w, 44, 7, 0, 0, comm, &wc);
		ev = run(&w, &wc, 1 * MiB, 120, &pss);
		CHECK(ev == DETECT_LEAK);
		judge_acted(&w, EVENT_LEAK, METRIC_USS, true);
		CHECK(judge_retry(&w));
		judge_reconfigure(&w, 0, &wc, &plain);
		CHECK(!w.sparse && !judge_retry(&w) && w.retry.metric == -1);
		judge_free(&w);
	}
}

/* Not ours to read: said once, -1, nothing fed; readable again: afresh. */
static void test_judge_unreadable(void)
{
	struct watch wc = watch_of(true);
	static struct watched w;
	struct verdicts v;
	double sv[METRIC_SPARSE] = { 10 * MiB, 20 * MiB }, val[METRIC_COUNT] = { 50 * MiB, 10, 2 };

	judge_init(&w, 42, 7, 0, 0, comm, &wc);
	judge_sample(&w, &wc, 1000, val, 0, &v);
	judge_sparse_sample(&w, &wc, 1000, sv, true, &v);
	CHECK(v.warn == METRIC_SPARSE_MASK && w.unreadable == METRIC_SPARSE_MASK);
	CHECK(watched_metric(&w, METRIC_USS)->value == -1 && w.sparse->tl.head < 0 && w.sparse->read_ms == 1000);
	judge_sample(&w, &wc, 2000, val, 0, &v);   /* the cheap sample keeps them unreadable */
	CHECK(w.unreadable == METRIC_SPARSE_MASK && w.tl.head >= 0);
	judge_sparse_sample(&w, &wc, 2000, sv, true, &v);
	CHECK(v.warn == 0);
	judge_sparse_sample(&w, &wc, 3000, sv, false, &v);
	CHECK(w.unreadable == 0 && watched_metric(&w, METRIC_PSS)->value == 20 * MiB && w.sparse->tl.head >= 0);
	judge_free(&w);
}

static int no_user(const char *name, uid_t *uid)
{
	(void)name;
	(void)uid;
	return -ENOENT;
}

static const struct config_env env = { 8ull << 30, no_user };

static struct config *parse(const char *text, struct diag *d)
{
	struct config *cfg = NULL;

	memset(d, 0, sizeof(*d));
	if (config_parse_text("t.yaml", text, strlen(text), &env, &cfg, d) < 0)
		return NULL;
	return cfg;
}

static void test_config(void)
{
	struct diag d;
	struct config *cfg = parse("watches:\n"
				   "  - name: api\n    match: { comm: gunicorn }\n"
				   "    uss: { growth: 100M/h, max: 1G }\n    pss: { max: 50%, for: 3 }\n"
				   "  - name: plain\n    match: { comm: x }\n    rss: { max: 1G }\n", &d);

	CHECK_MSG(cfg != NULL, "%s", d.n ? d.msgs[0] : "");
	if (cfg) {
		const struct watch *w = &cfg->watches[0];

		CHECK(w->rule[METRIC_USS].has_max && w->rule[METRIC_USS].max == 1024 * MiB);
		CHECK(fabs(w->rule[METRIC_USS].growth - 100 * MiB / 3600) < 1e-6);
		CHECK(w->rule[METRIC_PSS].max_percent == 50 && w->rule[METRIC_PSS].max == 4096 * MiB);
		CHECK(w->rule[METRIC_PSS].for_samples == 3);
		CHECK(judge_wants_sparse(w) && !judge_wants_sparse(&cfg->watches[1]));
		CHECK(judge_own_limits(w) == 1u << METRIC_PSS);
	}
	config_free(cfg);
	diag_free(&d);
	cfg = parse("watches:\n  - name: api\n    match: { comm: g }\n    uss: { max: lots }\n", &d);
	CHECK(!cfg && d.n == 1 && strstr(d.msgs[0], "'max' must be a size like 1G"));
	diag_free(&d);
	cfg = parse("watches:\n  - name: api\n    match: { comm: g }\n    pss: { growth: fast }\n", &d);
	CHECK_MSG(!cfg && d.n == 1 && strstr(d.msgs[0], "200M/h"), "%s", d.n ? d.msgs[0] : "");
	diag_free(&d);
	cfg = parse("watches:\n  - name: api\n    match: { comm: g }\n    uss: {}\n", &d);
	CHECK(!cfg && d.n >= 1 && strstr(d.msgs[0], "'uss' needs at least one of"));
	diag_free(&d);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* A judged set of two processes, one of a watch with uss (fed), one not. */
static void two(struct judged *j, struct config *cfg, struct watched *a, struct watched *b)
{
	unsigned pss;

	memset(j, 0, sizeof(*j));
	j->cfg = cfg;
	judge_init(a, 101, 7, 0, 0, comm, &cfg->watches[0]);
	judge_init(b, 202, 8, 0, 1, comm, &cfg->watches[1]);
	(void)run(a, &cfg->watches[0], 1 * MiB, 60, &pss);
	(void)run(b, &cfg->watches[1], 1 * MiB, 60, &pss);
	a->next = b;
	j->watched = a;
	j->n_watched = 2;
	j->now_ms = 1000 + 60 * 1000;
	j->wall_usec = 1764000000000000ull;
}

static void test_reports(void)
{
	struct diag d;
	struct config *cfg = parse("interval: 1s\nwatches:\n"
				   "  - name: api\n    match: { comm: g }\n    window: 48s\n    uss: { growth: 100M/h }\n"
				   "  - name: plain\n    match: { comm: x }\n    window: 48s\n    rss: { max: 1G }\n", &d);
	static struct watched a, b;
	struct judged j;
	struct buf out = { 0 };

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	two(&j, cfg, &a, &b);
	CHECK(a.sparse && !b.sparse);
	report_status_json(&out, &j);
	CHECK(count(out.data, "\"uss\": {") == 1 && count(out.data, "\"pss\": {") == 1);
	CHECK(count(out.data, "\"rss\": {") == 2);
	buf_reset(&out);
	report_status_table(&out, &j, 100);
	CHECK_MSG(count(out.data, " uss ") == 1 && count(out.data, " pss ") == 1, "%s", out.data);
	buf_reset(&out);
	report_history_csv(&out, &j, &a);
	CHECK(strncmp(out.data, "time,samples,rss_mean,rss_min,rss_max,fds,threads,leak,limit,uss,pss\r\n", 70) == 0);
	buf_reset(&out);
	report_history_csv(&out, &j, &b);
	CHECK(strncmp(out.data, "time,samples,rss_mean,rss_min,rss_max,fds,threads,leak,limit\r\n", 62) == 0);
	buf_reset(&out);
	report_history_json(&out, &j, &a);
	CHECK(count(out.data, "\"uss\": [") == 1 && count(out.data, "\"pss\": [") == 1);
	buf_reset(&out);
	report_history_json(&out, &j, &b);
	CHECK(count(out.data, "\"uss\"") == 0);
	/* the plot: a uss panel for a, none for b, and b's refused */
	buf_reset(&out);
	report_plot_svg(&out, &j, &a, 0);
	CHECK(count(out.data, "id=\"panel-uss\"") == 1 && count(out.data, "id=\"panel-pss\"") == 1);
	buf_reset(&out);
	report_plot_svg(&out, &j, &b, 0);
	CHECK(count(out.data, "id=\"panel-rss\"") == 1 && count(out.data, "id=\"panel-uss\"") == 0);
	buf_reset(&out);
	CHECK(report_plot_answer(&j, "plot 202 text 60 uss", &out));
	CHECK_STR(out.data, "ERR pid 202 has no uss: its watch judges neither uss nor pss\n");
	buf_reset(&out);
	CHECK(report_plot_answer(&j, "plot 101 text 60 pss", &out) && strncmp(out.data, "OK\n", 3) == 0);
	/* Prometheus: the uss series of a alone, the sums of api alone */
	{
		struct metrics_counters c = { 0 };

		buf_reset(&out);
		metrics_render(&out, &j, &c);
		CHECK(count(out.data, "\nleakwatch_process_uss_bytes{") == 1);
		CHECK(count(out.data, "\nleakwatch_process_uss_bytes{watch=\"api\",pid=\"101\"") == 1);
		CHECK(count(out.data, "\nleakwatch_process_pss_trend_bytes_per_second{") == 1);
		CHECK(count(out.data, "\nleakwatch_watch_uss_bytes{") == 1 && count(out.data, "\nleakwatch_watch_uss_bytes{watch=\"api\"}") == 1);
		CHECK(count(out.data, "metric=\"uss\"") == 4);   /* leak, over_limit of a; api's two counts */
		CHECK(count(out.data, "\nleakwatch_smaps_reads_total ") == 1);
		metrics_counters_free(&c);
	}
	buf_free(&out);
	judge_free(&a);
	judge_free(&b);
	config_free(cfg);
	diag_free(&d);
}

/* Saved and read back: a's uss and pss with it, b without; claimed by
 * fresh records of the same processes, the histories the same. */
static void test_state(void)
{
	struct diag d;
	struct config *cfg = parse("interval: 1s\nwatches:\n"
				   "  - name: api\n    match: { comm: g }\n    window: 48s\n    uss: { growth: 100M/h }\n"
				   "  - name: plain\n    match: { comm: x }\n    window: 48s\n    rss: { max: 1G }\n", &d);
	static struct watched a, b, a2, b2;
	struct saved_state st;
	struct judged j;
	struct buf img = { 0 };
	char why[160] = "";

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	two(&j, cfg, &a, &b);
	CHECK(state_encode_buf(&img, &j, NULL, "boot") == 0);
	CHECK_MSG(state_decode(img.data, img.len, &st, why, sizeof(why)) == 0 && st.n == 2, "%s", why);
	judge_init(&a2, 101, 7, 0, 0, comm, &cfg->watches[0]);
	judge_init(&b2, 202, 8, 0, 1, comm, &cfg->watches[1]);
	CHECK(saved_claim(&st.procs, &b2, &cfg->watches[1]) && !b2.sparse);
	CHECK(saved_claim(&st.procs, &a2, &cfg->watches[0]) && a2.sparse && st.procs == NULL);
	if (a2.sparse) {
		for (int k = 0; k < METRIC_SPARSE; k++) {
			CHECK(a2.sparse->m[k].value == a.sparse->m[k].value);
			CHECK(a2.sparse->m[k].leaking == a.sparse->m[k].leaking);
			for (int i = 0; i < HIST_BUCKETS; i++)
				if (a.sparse->tl.n[i])
					CHECK(a2.sparse->m[k].hist.s[i].sum == a.sparse->m[k].hist.s[i].sum);
		}
		CHECK(memcmp(&a2.sparse->tl, &a.sparse->tl, sizeof(a.sparse->tl)) == 0);
	}
	/* a record whose uss timeline is not on its buckets is refused */
	{
		struct buf bad = { 0 };

		a.sparse->tl.origin_ms += 1;
		a.sparse->tl.last_ms += 1;
		CHECK(state_encode_buf(&bad, &j, NULL, "boot") == 0);
		CHECK(state_decode(bad.data, bad.len, &st, why, sizeof(why)) == -EINVAL);
		CHECK_MSG(strstr(why, "record 1: impossible values") != NULL, "%s", why);
		buf_free(&bad);
	}
	saved_state_clear(&st);
	buf_free(&img);
	judge_free(&a);
	judge_free(&b);
	judge_free(&a2);
	judge_free(&b2);
	config_free(cfg);
	diag_free(&d);
}

int main(void)
{
	RUN(test_parse);
	RUN(test_sched);
	RUN(test_no_starvation);
	RUN(test_judge_absent);
	RUN(test_judge_sparse);
	RUN(test_judge_unreadable);
	RUN(test_config);
	RUN(test_reports);
	RUN(test_state);
	return check_done("test_uss");
}
