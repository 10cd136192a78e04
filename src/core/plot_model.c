/* The plot's content and axes (see plot_model.h), computed once for both
 * renderers.
 *
 * The problem: a picture of a process's history has to show what the
 * daemon judged on, and no more: the window's buckets (the series the fit
 * reads), the verdicts it gave over them, the line it fitted and the limit
 * it predicts a crossing of.  Drawing from the history JSON instead (as
 * mprof plot draws from its file) would leave out the trend, the marks and
 * the floors, or put them in the JSON for the plot's sake.
 *
 * Choices:
 * - Before the window, the floor record's quarters (floor to ceiling of
 *   each of the last four windows' quarters) are the coarse history: they
 *   are kept anyway for the slow-leak test (floors.c), so hours of a long
 *   window's envelope cost nothing more.  A finer long history (means per
 *   coarse bucket) would cost a few hundred bytes per process, more than
 *   the memory budget leaves (BENCHMARKS.md).
 * - The trend is drawn as the daemon fits it: its slope (the window's, or
 *   its newest half's when the growth began within the window: trend.c)
 *   through the centroid of the newest half of the bucket means (the
 *   robust estimators give no intercept; the newest half is where both
 *   slopes hold).  The prediction starts at the latest value, as the ETA
 *   is computed (detect.c), and ends where it reaches max.
 * - The time axis holds at least the window, so a young history looks
 *   young; it runs past now to the crossing when that is near (at most the
 *   span of the history again), else the prediction runs off its edge.
 * - The value axis holds the limit only when it is near the data (within
 *   the data's range above it), crossed, or about to be: a limit far above
 *   would flatten the very growth the plot is for.
 * - Ticks: 1, 2 or 5 times a power of ten; sizes in K/M/G (binary, the
 *   configuration's notation); times at round UTC instants.
 *
 * Costs: one pass over the window's buckets and the floor record per
 * metric, per request; struct plot is about 10 KiB, the caller's. */
#include "core/plot_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/report_cells.h"

#define QUARTER (HIST_BUCKETS / 4)

/* The start of bucket k, seconds from now_ms. */
static double bucket_start(const struct timeline *tl, int64_t k, uint64_t now_ms)
{
	return ((double)tl->origin_ms + (double)k * (double)tl->width_ms - (double)now_ms) / 1000.0;
}

static void take_points(struct plot_panel *pn, const struct timeline *tl, const struct metric_state *s,
			uint64_t now_ms)
{
	int64_t prev = -2;

	for (int64_t k = tl->head - HIST_BUCKETS + 1; tl->head >= 0 && k <= tl->head; k++) {
		struct plot_point *p;
		struct bucket b;

		if (k < 0 || !history_bucket(tl, &s->hist, k, &b) || !b.n)
			continue;
		p = &pn->pt[pn->n++];
		p->t0 = bucket_start(tl, k, now_ms);
		p->t = p->t0 + b.toff / (double)b.n / 1000.0;
		/* the newest bucket is still filling: it ends now */
		p->t1 = fmax(p->t, fmin(p->t0 + (double)tl->width_ms / 1000.0, 0));
		p->mean = b.sum / b.n;
		p->min = b.min;
		p->max = b.max;
		p->marks = detect_marks(s, tl, k);
		p->joined = k == prev + 1;
		p->near = prev >= 0 && k - prev <= PLOT_MARK_GAP + 1;
		prev = k;
	}
}

/* The recorded quarters that begin before the ring does, cut where it begins. */
static void take_coarse(struct plot_panel *pn, const struct timeline *tl, const struct floor_record *f,
			uint64_t now_ms)
{
	int64_t ring0 = tl->head - HIST_BUCKETS + 1 > 0 ? tl->head - HIST_BUCKETS + 1 : 0;

	if (tl->head < 0 || f->last < 0)
		return;
	for (int64_t q = (int64_t)f->last - (int64_t)f->run + 1; q <= f->last; q++) {
		struct plot_band *b;

		if (q < 0 || q * QUARTER >= ring0 || pn->n_coarse == FLOOR_QUARTERS)
			continue;
		b = &pn->coarse[pn->n_coarse++];
		b->t0 = bucket_start(tl, q * QUARTER, now_ms);
		b->t1 = fmin(bucket_start(tl, (q + 1) * QUARTER, now_ms), bucket_start(tl, ring0, now_ms));
		b->lo = f->lo[q % FLOOR_QUARTERS];
		b->hi = f->hi[q % FLOOR_QUARTERS];
	}
}

/* The fitted line through the centroid of the newest half of the bucket
 * means, from the oldest bucket to now. */
static void take_trend(struct plot_panel *pn, const struct metric_state *s, double window_s)
{
	double ct = 0, cv = 0;
	size_t n = 0;

	if (!s->trend.ready || pn->n < 2 || !isfinite(s->trend.slope))
		return;
	for (size_t i = 0; i < pn->n; i++)
		if (pn->pt[i].t >= -window_s / 2 || i == pn->n - 1) {
			ct += pn->pt[i].t;
			cv += pn->pt[i].mean;
			n++;
		}
	ct /= (double)n;
	cv /= (double)n;
	pn->has_trend = true;
	pn->slope = s->trend.slope;
	pn->trend_t0 = pn->pt[0].t;
	pn->trend_v0 = cv + pn->slope * (pn->trend_t0 - ct);
	pn->trend_t1 = 0;
	pn->trend_v1 = cv + pn->slope * (0 - ct);
}

static void take_panel(struct plot_panel *pn, const struct judged *j, const struct watched *w, int i)
{
	const struct metric_state *s = watched_metric(w, i);
	const struct timeline *tl = watched_timeline(w, i);   /* uss, pss: their own, on the same buckets */
	const struct metric_rule *r = &j->cfg->watches[w->watch].rule[i];

	memset(pn, 0, sizeof(*pn));
	pn->metric = i;
	pn->unreadable = report_unreadable(w, i);
	pn->verdict = detect_verdict(s, judged_warming(j, w));
	pn->eta = -1;
	if (pn->unreadable)
		return;
	pn->value = s->value;
	pn->eta = s->eta;
	take_points(pn, tl, s, j->now_ms);
	take_coarse(pn, tl, &s->floors, j->now_ms);
	take_trend(pn, s, (double)j->cfg->watches[w->watch].window_ms / 1000.0);
	pn->has_max = r->has_max && s->limit >= 0;   /* the max in force: the rule's, or N% of its own */
	pn->max = s->limit;
	pn->has_predict = pn->has_max && pn->has_trend && pn->slope > 0 && s->eta > 0 && s->value < s->limit;
}

/* ---- axes ------------------------------------------------------------------------ */

/* 1, 2 or 5 times a power of ten, at least raw. */
static double nice_step(double raw)
{
	double p10 = pow(10, floor(log10(raw))), f = raw / p10;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p10;
}

static void value_ticks(struct plot_panel *pn, double lo, double hi)
{
	static const char *const suffix[] = { "B", "K", "M", "G", "T" };
	double unit = 1, step, mag = fmax(fabs(lo), fabs(hi));
	int p = 0, dec;
	const char *sfx = "";

	if (metric_is_memory(pn->metric)) {
		while (p < 4 && mag >= unit * 1024) {
			unit *= 1024;
			p++;
		}
		sfx = suffix[p];
	}
	step = nice_step((hi - lo) / 5 / unit);
	if (!metric_is_memory(pn->metric) || p == 0)
		step = fmax(step, 1);   /* whole counts, whole bytes */
	dec = step >= 1 ? 0 : (int)fmin(3, ceil(-log10(step) - 1e-9));
	step *= unit;
	pn->y0 = floor(lo / step) * step;
	pn->y1 = ceil(hi / step) * step;
	if (pn->y1 <= pn->y0)
		pn->y1 = pn->y0 + step;
	pn->n_yticks = 0;
	for (int k = 0; pn->n_yticks < PLOT_TICKS_MAX; k++) {
		struct plot_tick *t = &pn->ytick[pn->n_yticks];
		double v = pn->y0 + k * step;

		if (v > pn->y1 + step / 2)
			break;
		t->v = v;
		snprintf(t->label, sizeof(t->label), "%.*f%s", dec, fabs(v) < step / 2 ? 0.0 : v / unit, sfx);
		pn->n_yticks++;
	}
	if (pn->y1 < pn->ytick[pn->n_yticks - 1].v)
		pn->y1 = pn->ytick[pn->n_yticks - 1].v;
}

static void widen(double *lo, double *hi, double v)
{
	if (isfinite(v)) {
		*lo = fmin(*lo, v);
		*hi = fmax(*hi, v);
	}
}

/* The value axis of a panel, once the time axis (x0, x1) is known. */
static void value_axis(struct plot_panel *pn, double x1)
{
	double lo = INFINITY, hi = -INFINITY, pad;
	bool over = false;

	if (pn->has_predict) {
		pn->cross_shown = pn->eta <= x1;
		pn->pred_t1 = pn->cross_shown ? pn->eta : x1;
		pn->pred_v1 = pn->cross_shown ? pn->max : pn->value + pn->slope * x1;
	}
	for (size_t i = 0; i < pn->n; i++) {
		widen(&lo, &hi, pn->pt[i].min);
		widen(&lo, &hi, pn->pt[i].max);
		over |= (pn->pt[i].marks & DETECT_LIMIT) != 0;
	}
	for (size_t i = 0; i < pn->n_coarse; i++) {
		widen(&lo, &hi, pn->coarse[i].lo);
		widen(&lo, &hi, pn->coarse[i].hi);
	}
	widen(&lo, &hi, pn->value);
	if (pn->has_trend) {
		widen(&lo, &hi, pn->trend_v0);
		widen(&lo, &hi, pn->trend_v1);
	}
	if (pn->has_predict)
		widen(&lo, &hi, pn->pred_v1);
	pn->max_shown = pn->has_max && (pn->cross_shown || over || hi >= pn->max || !isfinite(lo) ||
					pn->max <= hi + (hi - lo));
	if (pn->max_shown)
		widen(&lo, &hi, pn->max);
	if (!isfinite(lo)) {
		lo = 0;
		hi = 1;
	}
	pad = hi > lo ? (hi - lo) * 0.05 : fmax(fabs(hi) * 0.1, 1);
	/* no negative sizes or counts on the axis */
	value_ticks(pn, lo >= 0 ? fmax(lo - pad, 0) : lo - pad, hi + pad);
}

static void time_ticks(struct plot *p)
{
	static const double steps[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
					7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000 };
	const size_t n_steps = sizeof(steps) / sizeof(steps[0]);
	double now = (double)p->now_wall_usec / 1e6, step = steps[n_steps - 1];

	for (size_t i = 0; i < n_steps; i++)
		if ((p->x1 - p->x0) / steps[i] <= 6) {
			step = steps[i];
			break;
		}
	p->n_xticks = 0;
	for (double t = ceil((now + p->x0) / step) * step; t <= now + p->x1 && p->n_xticks < PLOT_TICKS_MAX;
	     t += step) {
		struct plot_tick *k = &p->xtick[p->n_xticks++];
		time_t secs = (time_t)floor(t + 1e-6);
		struct tm tm;

		gmtime_r(&secs, &tm);
		k->v = t - now;
		if (step < 1)
			snprintf(k->label, sizeof(k->label), "%02d:%02d:%02d.%d", tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int)((t - floor(t + 1e-6)) * 10 + 0.5) % 10);
		else if (step < 60)
			snprintf(k->label, sizeof(k->label), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
		else if (step < 86400)
			snprintf(k->label, sizeof(k->label), "%02d:%02d", tm.tm_hour, tm.tm_min);
		else
			snprintf(k->label, sizeof(k->label), "%02d-%02d", tm.tm_mon + 1, tm.tm_mday);
	}
}

/* From the window back to the oldest coarse quarter, and on to the nearest
 * crossing within as much again. */
static void time_axis(struct plot *p)
{
	double ahead = 0;

	p->x0 = -p->window_s;
	for (size_t k = 0; k < p->n_panels; k++) {
		const struct plot_panel *pn = &p->panel[k];

		if (pn->n_coarse)
			p->x0 = fmin(p->x0, pn->coarse[0].t0);
		if (pn->n)
			p->x0 = fmin(p->x0, pn->pt[0].t0);
		if (pn->has_predict)
			ahead = fmax(ahead, fmin(pn->eta, -p->x0));
	}
	p->x1 = ahead + (-p->x0 + ahead) * 0.03;   /* room for the newest point and a marker */
}

void plot_build(struct plot *p, const struct judged *j, const struct watched *w, unsigned metrics)
{
	const struct watch *wc = &j->cfg->watches[w->watch];

	memset(p, 0, sizeof(*p));
	p->watch = wc->name;
	p->comm = w->comm;
	p->title = report_title_shown(w) ? w->title : "";
	p->pid = (int)w->pid;
	p->now_wall_usec = j->wall_usec;
	p->window_s = (double)wc->window_ms / 1000.0;
	p->bucket_s = (double)w->tl.width_ms / 1000.0;
	for (int i = 0; i < METRIC_COUNT; i++)
		if ((!metrics || (metrics & (1u << i))) && watched_metric(w, i))
			take_panel(&p->panel[p->n_panels++], j, w, i);
	time_axis(p);
	time_ticks(p);
	for (size_t k = 0; k < p->n_panels; k++)
		value_axis(&p->panel[k], p->x1);
}

void plot_caption(const struct plot_panel *pn, char *out, size_t len)
{
	char v[24], r[32], m[24], e[16];
	const char *name = metric_name((enum metric)pn->metric);

	if (pn->unreadable) {
		snprintf(out, len, "%s: unreadable (the daemon may not read it)", name);
		return;
	}
	report_amount(v, sizeof(v), pn->metric, pn->value);
	snprintf(r, sizeof(r), "-");
	if (pn->has_trend) {
		report_rate(r, sizeof(r) - 2, pn->metric, pn->slope * 3600);
		if (!strchr(r, '/'))   /* a slow count is per day already: "+5/d" */
			strcat(r, "/h");
	}
	report_amount(m, sizeof(m), pn->metric, pn->max);
	report_eta(e, sizeof(e), pn->eta);
	if (!pn->has_max)
		snprintf(out, len, "%s %s, trend %s, no max: %s", name, v, r, verdict_name(pn->verdict));
	else if (pn->eta >= 1)
		snprintf(out, len, "%s %s, trend %s, max %s in %s: %s", name, v, r, m, e, verdict_name(pn->verdict));
	else if (pn->eta >= 0)
		snprintf(out, len, "%s %s, trend %s, max %s reached: %s", name, v, r, m, verdict_name(pn->verdict));
	else
		snprintf(out, len, "%s %s, trend %s, max %s: %s", name, v, r, m, verdict_name(pn->verdict));
}
