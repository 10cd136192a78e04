/* Trend fitting: telling a leak from everything that merely looks like one.
 *
 * What a leak looks like from the outside: memory that is never freed (or a
 * descriptor never closed, a thread never joined) raises the FLOOR of the
 * metric and keeps raising it, at a steady rate.  Everything else that moves
 * the metric fails one of the tests below that a leak passes:
 *
 *   warm-up      grows, then levels off       -> not rising at the end, or
 *                                                slowing down (3, 4)
 *   one-off step jumps once (index loaded)    -> the floor does not rise
 *                                                both across the halves and
 *                                                at the end (2, 3)
 *   sawtooth/GC  rises and falls back         -> floors stay put (2)
 *   churn, noise bounded swings or wandering  -> small against the spread,
 *                                                not on a line (5, 6)
 *
 * The window (W, `window:` in the config) is held as HIST_BUCKETS buckets of
 * count, sum, minimum and maximum (history.h: the counts and times in the
 * process's timeline, the values in the metric's series), and cut into four
 * quarters Q1..Q4 of W/4 each.
 *
 * Slopes.  Three estimators of the rate, each fooled by a different shape:
 * the weighted least-squares line through the bucket means (exact for a
 * clean leak, biased by a large sawtooth that does not fit the window a
 * whole number of times), the least-squares line through the four quarter
 * floors, and the one through the four ceilings (both immune to a sawtooth
 * shorter than a quarter, shaken by outliers).  The slope over the window
 * is their MEDIAN, and likewise the slope over the recent half (its OLS, and
 * lo and hi from Q3 to Q4).  The reported slope is the window's, or the
 * recent half's when growth has clearly sped up in it (a leak that started
 * inside the window), so that the slope and the time to the limit describe
 * the process now.
 *
 * Levels.  Per quarter: its floor lo (minimum), ceiling hi (maximum) and
 * level m (the median of its bucket means, which a few transient spikes do
 * not move).  The floor is what a leak raises; the ceiling and the level
 * back it up, and where one of them is fooled (spikes shake the ceiling, a
 * sawtooth the mean) the median of the three is not.
 *
 * Sustained growth at a rate g (the `growth:` rule, or the rate that reaches
 * `max` within `predict` when that is lower) requires all of:
 *   1. rate: the window's and the recent half's slopes are both >= g;
 *   2. rise across the halves: the floor, and the median of (floor,
 *      ceiling, level), rise from the older half to the recent half by at
 *      least a quarter of what the larger of g and the slope gives over half
 *      a window.  One step raises the floor only if it lies in the older
 *      half, and then 3. fails; a sawtooth raises nothing;
 *   3. still rising at the end: the same from Q3 to Q4, against a quarter
 *      of a quarter window's worth; a warm-up that levelled off a quarter
 *      ago, or a ramp that stopped, fails here;
 *   4. steady: the rate from Q3 to Q4 is at least half the rate from Q1 to
 *      Q2 (an exponential or logarithmic warm-up slows down, a leak does
 *      not), and the rate from Q1 to Q2 is at least a quarter of the slope
 *      (growth that began only in the recent half is not sustained yet);
 *   5. large against the noise: both rises of 2. are at least 10% of the
 *      median spread within a quarter after the trend is taken out; a leak
 *      under a sawtooth of amplitude A must raise the floor by 0.1*A over
 *      half a window to be told from the sawtooth's jitter;
 *   6. a line explains the levels: the median of the t statistics of the
 *      least-squares lines through the four floors, ceilings and levels is
 *      at least 4; slow wandering (load that comes and goes) leaves large
 *      residuals around that line, a leak does not.
 *   7. not a walk: what the window slope leaves of the bucket means does
 *      not wander like a random walk by as much as the rise.  Their
 *      variance ratio (mean square change over a quarter / QUARTER times
 *      that over a bucket) is about 1 for a walk, 1/QUARTER for noise and
 *      less for a sawtooth; when it is 0.5 or more, the rise must be 4
 *      times what a walk with those one-bucket steps travels in a window.
 *      A walk that travels g * W in a window is, over it, growth at g: no
 *      test within the window can tell; this one keeps smaller walks,
 *      which lines through four quarters do not, from passing 6.
 * A leak under a sawtooth whose rise per half window is a few per cent of
 * the amplitude fails 5 and 6 in every window; floors.c holds the floors
 * of the last four windows, and detect.c lets their line stand in for 5
 * and 6 (the slow leak is reported later, not never).
 * detect.c further requires the answer to hold for W/6 (and 3 samples) in a
 * row before it reports a leak, so one lucky evaluation of noise is never a
 * verdict, and it only asks once the warm-up is over and the history covers
 * the whole window.  A sawtooth or GC cycle longer than a quarter of the
 * window defeats the quarter floors: choose a window of at least four such
 * cycles.
 *
 * Costs: one pass over HIST_BUCKETS buckets per metric and sample, and one
 * over their means for 7; no allocation.  Memory: the buckets, a few KiB per process (history.h). */
#include "core/trend.h"

#include <math.h>
#include <string.h>

#define QUARTER (HIST_BUCKETS / 4)

struct quarter {
	double lo, hi;
	double level[QUARTER];  /* its bucket means, for their median */
	unsigned nlevel, n;
};

struct ols {
	double sw, st, sv, stt, stv;
};

static void ols_add(struct ols *o, double w, double t, double v)
{
	o->sw += w;
	o->st += w * t;
	o->sv += w * v;
	o->stt += w * t * t;
	o->stv += w * t * v;
}

static double ols_slope(const struct ols *o)
{
	double den = o->sw * o->stt - o->st * o->st;

	if (o->sw <= 0 || den <= 1e-12 * o->sw * o->stt)
		return 0;
	return (o->sw * o->stv - o->st * o->sv) / den;
}

static double median3(double a, double b, double c)
{
	if (a > b) {
		double x = a;
		a = b;
		b = x;
	}
	if (b > c)
		b = c;
	return a > b ? a : b;
}

/* Median of n values, sorting them in place (n is at most QUARTER). */
static double median(double *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Least-squares slope through four equally spaced points, per spacing. */
static double slope4(double y1, double y2, double y3, double y4)
{
	return (-1.5 * y1 - 0.5 * y2 + 0.5 * y3 + 1.5 * y4) / 5.0;
}

/* t statistic of the least-squares slope through four equally spaced
 * points (2 degrees of freedom). */
static double tstat4(const double y[4])
{
	double b = slope4(y[0], y[1], y[2], y[3]);
	double ybar = (y[0] + y[1] + y[2] + y[3]) / 4, ssr = 0;

	for (int i = 0; i < 4; i++) {
		double r = y[i] - ybar - b * (i - 1.5);
		ssr += r * r;
	}
	return b * sqrt(5.0) / fmax(sqrt(ssr / 2), 1e-9 * fabs(ybar) + 1e-12);
}

/* The one pass over the window's buckets (K0 the oldest; negative while
 * the history is shorter than the window): the least-squares sums over
 * the window and over its recent half, and each quarter's floor, ceiling
 * and bucket means.  q starts zeroed. */
static void scan_buckets(const struct timeline *tl, const struct series *sr, int64_t k0, double w_s,
			 struct quarter q[4], struct ols *all, struct ols *recent, double *means, double *times)
{
	for (int64_t k = k0 < 0 ? 0 : k0; k <= tl->head; k++) {
		struct bucket b;
		double tk, mean;
		struct quarter *qq;

		if (!history_bucket(tl, sr, k, &b) || b.n == 0)
			continue;
		tk = (double)(k - k0) * w_s + b.toff / b.n / 1000.0;
		mean = b.sum / b.n;
		if (k - k0 >= 0) {
			means[k - k0] = mean;
			times[k - k0] = tk;
		}
		ols_add(all, b.n, tk, mean);
		if (k - k0 >= 2 * QUARTER)
			ols_add(recent, b.n, tk, mean);
		qq = &q[(k - k0) / QUARTER];
		if (qq->n == 0 || b.min < qq->lo)
			qq->lo = b.min;
		if (qq->n == 0 || b.max > qq->hi)
			qq->hi = b.max;
		qq->level[qq->nlevel++] = mean;
		qq->n += b.n;
	}
}

/* The slopes: over the window and over the recent half (each the median
 * of three estimators), the rates between the first and the last two
 * quarters, and the one reported.  m: the quarters' levels; seg: a
 * quarter's length, seconds. */
static void fit_slopes(struct trend *t, const struct quarter q[4], const double m[4], const struct ols *all,
		       const struct ols *recent, double seg)
{
	t->slope_window = median3(ols_slope(all),
				  slope4(q[0].lo, q[1].lo, q[2].lo, q[3].lo) / seg,
				  slope4(q[0].hi, q[1].hi, q[2].hi, q[3].hi) / seg);
	t->slope_recent = median3(ols_slope(recent),
				  (q[3].lo - q[2].lo) / seg, (q[3].hi - q[2].hi) / seg);
	t->rate_old = median3(q[1].lo - q[0].lo, q[1].hi - q[0].hi, m[1] - m[0]) / seg;
	t->rate_new = median3(q[3].lo - q[2].lo, q[3].hi - q[2].hi, m[3] - m[2]) / seg;
	t->slope = t->slope_window;
	if (t->slope_recent > 1.25 * t->slope_window && t->rate_old < 0.5 * t->rate_new)
		t->slope = t->slope_recent;   /* growth started inside the window */
}

/* The levels: how well a line explains them, their rises across the
 * halves and at the end, and the noise (after fit_slopes: the noise is
 * detrended by the window's slope). */
static void fit_levels(struct trend *t, const struct quarter q[4], const double m[4], double seg)
{
	double lo_old, lo_new, hi_old, hi_new, spread[4];

	/* How well a line explains the quarter levels: residuals are slow
	 * wandering that the quarters do not average out.  Floors, ceilings and
	 * means each give a t statistic; the median of the three counts, so a
	 * sawtooth (which shakes the means) or spikes (the ceilings) do not. */
	{
		double lo[4], hi[4];

		for (int i = 0; i < 4; i++) {
			lo[i] = q[i].lo;
			hi[i] = q[i].hi;
		}
		t->tstat = median3(tstat4(lo), tstat4(hi), tstat4(m));
	}

	lo_old = fmin(q[0].lo, q[1].lo);
	lo_new = fmin(q[2].lo, q[3].lo);
	hi_old = fmax(q[0].hi, q[1].hi);
	hi_new = fmax(q[2].hi, q[3].hi);
	t->rise_floor = lo_new - lo_old;
	t->rise_ceiling = hi_new - hi_old;
	t->end_floor = q[3].lo - q[2].lo;
	t->end_ceiling = q[3].hi - q[2].hi;
	t->rise_mean = (m[2] + m[3] - m[0] - m[1]) / 2;
	t->end_mean = m[3] - m[2];

	/* Median of the four detrended spreads (mean of the middle two). */
	for (int i = 0; i < 4; i++)
		spread[i] = fmax(0.0, q[i].hi - q[i].lo - fabs(t->slope_window) * seg);
	t->noise = median(spread, 4);
}

/* Wander: is what the trend leaves of the bucket means a random walk
 * (each step adds to the last) rather than noise around the line (each
 * bucket on its own)?  The variance ratio: the mean square of the
 * residuals' changes over a quarter, over QUARTER times that over one
 * bucket: about 1 for a walk, about 1/QUARTER for independent noise, small
 * for a sawtooth shorter than a quarter.  And how far a walk with the
 * residuals' one-bucket steps goes over a window, against the rise (in
 * standard deviations). */
static void fit_wander(struct trend *t, const double *means, const double *times)
{
	double d1 = 0, dq = 0;
	unsigned n1 = 0, nq = 0;

	for (int k = 0; k + 1 < HIST_BUCKETS; k++) {
		if (isnan(means[k]))
			continue;
		if (!isnan(means[k + 1])) {
			double d = means[k + 1] - means[k] - t->slope_window * (times[k + 1] - times[k]);

			d1 += d * d;
			n1++;
		}
		if (k + QUARTER < HIST_BUCKETS && !isnan(means[k + QUARTER])) {
			double d = means[k + QUARTER] - means[k] - t->slope_window * (times[k + QUARTER] - times[k]);

			dq += d * d;
			nq++;
		}
	}
	if (n1 == 0 || nq == 0 || d1 <= 0) {
		t->wander = 0;
		t->wander_z = INFINITY;
		return;
	}
	d1 /= n1;
	dq /= nq;
	t->wander = dq / (QUARTER * d1);
	t->wander_z = t->slope_window * t->window_s / sqrt((HIST_BUCKETS - 1) * d1);
}

void trend_fit(const struct timeline *tl, const struct series *sr, struct trend *t)
{
	struct quarter q[4];
	struct ols all = {0}, recent = {0};
	int64_t k0;
	double w_s, seg, m[4], means[HIST_BUCKETS], times[HIST_BUCKETS];

	memset(t, 0, sizeof(*t));
	if (tl->head < 0)
		return;
	k0 = tl->head - (HIST_BUCKETS - 1);
	w_s = (double)tl->width_ms / 1000.0;
	seg = QUARTER * w_s;
	t->window_s = HIST_BUCKETS * w_s;

	memset(q, 0, sizeof(q));
	for (int i = 0; i < HIST_BUCKETS; i++)
		means[i] = times[i] = NAN;
	scan_buckets(tl, sr, k0, w_s, q, &all, &recent, means, times);
	t->slope = ols_slope(&all);
	if (k0 < 0)
		return;               /* the history does not cover the window yet */
	for (int i = 0; i < 4; i++)
		if (q[i].n == 0)
			return;       /* a gap (the daemon was stopped): wait */
	t->ready = true;

	/* A quarter's level: the median of its bucket means, which a few
	 * transient spikes do not move. */
	for (int i = 0; i < 4; i++)
		m[i] = median(q[i].level, q[i].nlevel);
	fit_slopes(t, q, m, &all, &recent, seg);
	fit_levels(t, q, m, seg);
	fit_wander(t, means, times);
}

bool trend_wanders(const struct trend *t)
{
	return t->wander >= 0.5 && t->wander_z < 4;
}

bool trend_sustained(const struct trend *t, double rate)
{
	double half_rise, end_rise, rise, end;

	if (!t->ready || rate <= 0)
		return false;
	half_rise = fmax(rate, t->slope) * t->window_s / 2;
	end_rise = half_rise / 2;
	rise = median3(t->rise_floor, t->rise_ceiling, t->rise_mean);
	end = median3(t->end_floor, t->end_ceiling, t->end_mean);
	return t->slope_window >= rate && t->slope_recent >= rate &&       /* 1 */
	       fmin(t->rise_floor, rise) >= 0.25 * half_rise &&            /* 2 */
	       fmin(t->end_floor, end) >= 0.25 * end_rise &&               /* 3 */
	       t->rate_new >= 0.5 * t->rate_old &&                         /* 4 */
	       t->rate_old >= 0.25 * t->slope &&
	       fmin(t->rise_floor, rise) >= 0.10 * t->noise &&             /* 5 */
	       t->tstat >= 4 &&                                            /* 6 */
	       !trend_wanders(t);                                          /* 7 */
}

bool trend_cleared(const struct trend *t, double rate)
{
	return t->ready && t->slope_window < 0.5 * rate && t->slope_recent < 0.5 * rate;
}
