/* boundary_rules.c — the four detectors of bench/boundary.c, on one series.
 *
 * Each runs over the samples as a daemon would, one at a time, and records
 * its first verdict (every episode's start under --trace):
 *   leakwatch  timeline_add() then detect_sample(), as src/core/judge.c
 *              feeds them; a rule of only `growth`; samples of the warm-up
 *              passed as warming, and not added to the timeline;
 *   monit      X = 1.2 × the highest sample of [warmup, warmup + W], then
 *              3 samples in a row over X;
 *   lsq-r2     ordinary least squares over the last W's raw samples, slope
 *              >= g and R² > 0.7, checked once per W/48 from warmup + W;
 *   theil-sen  the median of all pairwise slopes of the same samples >= g
 *              (every pair, quickselect), the same schedule.
 * Costs: O(n) per evaluation but Theil-Sen's O(n²) pairs (n = W/I); the
 * pairs live in the caller's scratch array. */
#include <math.h>
#include <string.h>

#include "core/config.h"
#include "core/detect.h"
#include "core/history.h"

#include "boundary_rules.h"

const char *const tool_name[NTOOLS] = { "leakwatch", "monit", "lsq-r2", "theil-sen" };

static void record(struct result *res, double t, double slope)
{
	if (!res->hit) {
		res->hit = true;
		res->t = t;
		res->slope = slope;
	}
	if (res->n < MAX_EVENTS) {
		res->ev_t[res->n] = t;
		res->ev_slope[res->n++] = slope;
	}
}

static void run_leakwatch(const struct run *r, struct result *res)
{
	struct timeline tl;
	struct metric_state ms;
	struct metric_rule rule = { .growth = r->o->sc.growth };

	timeline_init(&tl, r->o->window_ms);
	metric_state_init(&ms);
	for (size_t i = 0; i < r->n; i++) {
		unsigned ev;

		bool warming = r->t_ms[i] < r->o->warmup_ms;

		if (!warming)      /* the warm-up is no history (detect.h) */
			timeline_add(&tl, r->t_ms[i]);
		ev = detect_sample(&ms, &tl, &rule, warming, r->t_ms[i], r->v[i]);
		if (ev & DETECT_LEAK) {
			record(res, r->t_s[i], ms.trend.slope);
			if (!r->all)
				return;
		}
	}
}

/* X = 1.2 × the peak of [warmup, warmup + W]; then 3 samples in a row over X. */
static void run_monit(const struct run *r, struct result *res)
{
	uint64_t from = r->o->warmup_ms, to = from + r->o->window_ms;
	double peak = 0, limit = 0;
	unsigned over = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (r->t_ms[i] < from)
			continue;
		if (r->t_ms[i] <= to) {
			peak = fmax(peak, r->v[i]);
			limit = res->limit = 1.2 * peak;
			continue;
		}
		if (r->v[i] <= limit) {
			over = 0;
			continue;
		}
		if (++over == 3) {
			record(res, r->t_s[i], NAN);
			if (!r->all)
				return;
		}
	}
}

/* OLS slope and R² of n points, by deviations from the means. */
static void ols(const double *t, const double *v, size_t n, double *slope, double *r2)
{
	double mt = 0, mv = 0, sxx = 0, sxy = 0, syy = 0;

	for (size_t i = 0; i < n; i++) {
		mt += t[i];
		mv += v[i];
	}
	mt /= (double)n;
	mv /= (double)n;
	for (size_t i = 0; i < n; i++) {
		double dt = t[i] - mt, dv = v[i] - mv;

		sxx += dt * dt;
		sxy += dt * dv;
		syy += dv * dv;
	}
	*slope = sxx > 0 ? sxy / sxx : 0;
	*r2 = sxx > 0 && syy > 0 ? sxy * sxy / (sxx * syy) : 0;
}

/* The k-th smallest of a[0..n) (0-based), by quickselect; leaves every
 * element after position k at least a[k]. */
static double select_kth(double *a, long n, long k)
{
	long lo = 0, hi = n - 1;

	while (lo < hi) {
		long mid = lo + (hi - lo) / 2, i = lo, j = hi;
		double x = a[lo], y = a[mid], z = a[hi];
		double pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);

		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				double tmp = a[i];

				a[i++] = a[j];
				a[j--] = tmp;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return a[k];
	}
	return a[k];
}

/* The median of all pairwise slopes of n points (n >= 2). */
static double theil_sen(const double *t, const double *v, size_t n, double *pairs)
{
	long m = 0, h;
	double lo, hi;

	for (size_t i = 0; i + 1 < n; i++)
		for (size_t j = i + 1; j < n; j++)
			pairs[m++] = (v[j] - v[i]) / (t[j] - t[i]);
	h = m / 2;
	if (m % 2)
		return select_kth(pairs, m, h);
	lo = select_kth(pairs, m, h - 1);
	hi = pairs[h];
	for (long i = h + 1; i < m; i++)
		hi = fmin(hi, pairs[i]);
	return (lo + hi) / 2;
}

/* lsq-r2 and theil-sen over the raw samples of (now - W, now], once the
 * window lies after the warm-up, once per W/48. */
static void run_fits(const struct run *r, struct result *lsq, struct result *ts)
{
	uint64_t W = r->o->window_ms, width = W / HIST_BUCKETS ? W / HIST_BUCKETS : 1;
	uint64_t start = r->o->warmup_ms + W, last = UINT64_MAX;
	bool lsq_on = false, ts_on = false;
	size_t lo = 0;

	for (size_t i = 0; i < r->n; i++) {
		double slope, r2, med;
		size_t n;

		while (r->t_ms[lo] + W <= r->t_ms[i])
			lo++;
		if (r->t_ms[i] < start || r->t_ms[i] / width == last)
			continue;
		last = r->t_ms[i] / width;
		n = i - lo + 1;
		if (!(lsq->hit && !r->all)) {
			ols(r->t_s + lo, r->v + lo, n, &slope, &r2);
			if (slope >= r->o->sc.growth && r2 > 0.7 && !lsq_on)
				record(lsq, r->t_s[i], slope);
			lsq_on = slope >= r->o->sc.growth && r2 > 0.7;
		}
		if (!(ts->hit && !r->all)) {
			med = theil_sen(r->t_s + lo, r->v + lo, n, r->scratch);
			if (med >= r->o->sc.growth && !ts_on)
				record(ts, r->t_s[i], med);
			ts_on = med >= r->o->sc.growth;
		}
		if (lsq->hit && ts->hit && !r->all)
			return;
	}
}

void run_tools(const struct run *r, struct result res[NTOOLS])
{
	memset(res, 0, NTOOLS * sizeof res[0]);
	run_leakwatch(r, &res[T_LW]);
	run_monit(r, &res[T_MONIT]);
	run_fits(r, &res[T_LSQ], &res[T_TS]);
}
