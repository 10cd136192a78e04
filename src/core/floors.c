/* The floor record: evidence of a slow leak that one window cannot give.
 *
 * trend.c judges one window at a time.  A leak under a large working-set
 * sawtooth (a service that builds and drops tens of MiB per request cycle
 * and leaks a few hundred KiB/s underneath) raises each cycle's floor by a
 * little: over half a window by a few per cent of the sawtooth's
 * amplitude.  Within one window that is four quarter floors, each jittered
 * by where the samples fell in the cycle (the bottom of a tooth is seen up
 * to one interval late, and by then the working set is already rebuilding):
 * too few to tell a small steady rise from the jitter, so trend.c asks for
 * a rise of 10% of the spread and misses the leak however long it lasts.
 * The evidence is there, though, spread over more time: the floors keep
 * rising quarter after quarter.  So each metric keeps the floors of its
 * last FLOOR_QUARTERS aligned quarters (four windows), and the line through
 * the newest of them is a second way to pass trend.c's noise test: a slow
 * leak is reported later than a fast one (after a window and a half at the
 * soonest, more for a smaller rise against the jitter), but it is reported.
 *
 * Why floors: a sawtooth, bursts and spikes only add to the floor's
 * baseline, so the lowest sample of a quarter (when the cycle is shorter
 * than a quarter) follows the leak alone.  Why a least-squares t statistic
 * rather than a rank test (Mann-Kendall, a sign test on successive
 * floors): with n floors jittered independently, the t statistic grows as
 * n^1.5 times the rise per quarter over the jitter, where a sign test on
 * successive differences, which doubles the jitter, grows as n^0.5; rank
 * tests need many quarters before they can say anything.  What a t
 * statistic cannot tell is a floor that wanders (a random walk, load that
 * comes and goes over hours) from one that rises: trend.c's wander test
 * does that, on the window's bucket means, for both ways of passing.
 * The ceilings ride on the floors when the working set is a sawtooth on
 * top of the leak, and their jitter (the top of a tooth seen up to an
 * interval early) is independent of the floors': when their line rises
 * too, a weaker line through the floors is enough (FLOOR_TPAIR instead of
 * FLOOR_TMIN), which a sawtooth without a leak, whose ceilings do not
 * rise, or a random working set, whose ceilings wander, rarely gives.
 * Bursts shake the ceilings; the floors alone then need FLOOR_TMIN.
 * Fits over the newest n floors for every n from FLOOR_MIN_FIT to the whole
 * run are tried, so a leak that began after a long flat stretch is seen by
 * the short fits, and a slower one by the long fits.
 *
 * Quarters are aligned on the timeline's absolute buckets (quarter q is
 * buckets 12q to 12q+11), so each is recorded once, when it completes.  A
 * quarter with an empty bucket (the daemon was stopped, the machine
 * suspended) is a gap: the run restarts after it.
 *
 * Costs: 12 buckets read per quarter recorded; a fit of at most 16 points
 * per length tried, at most 10 lengths, once per bucket and metric while a
 * verdict is being considered; 136 bytes per metric. */
#include "core/floors.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define QUARTER (HIST_BUCKETS / 4)

void floor_record_init(struct floor_record *f)
{
	memset(f, 0, sizeof(*f));
	f->last = -1;
}

/* The floor of aligned quarter q, which must lie in the ring; false when
 * one of its buckets is empty. */
static bool quarter_floor(const struct timeline *tl, const struct series *s, int64_t q, float *lo, float *hi)
{
	for (int64_t k = q * QUARTER; k < (q + 1) * QUARTER; k++) {
		struct bucket b;

		if (!history_bucket(tl, s, k, &b) || b.n == 0)
			return false;   /* a gap (or, for uss and pss, a bucket no read fell into) */
		if (k == q * QUARTER || b.min < *lo)
			*lo = b.min;
		if (k == q * QUARTER || b.max > *hi)
			*hi = b.max;
	}
	return true;
}

void floor_record_update(struct floor_record *f, const struct timeline *tl, const struct series *s)
{
	/* the newest quarter complete at head: head's own quarter is complete
	 * only at its last bucket */
	int64_t done = (tl->head + 1) / QUARTER - 1;
	int64_t q = f->last + 1;

	if (tl->head < 0 || done < q)
		return;
	/* quarters that left the ring before they could be read are gaps */
	if (q < done - (HIST_BUCKETS / QUARTER - 1)) {
		q = done - (HIST_BUCKETS / QUARTER - 1);
		f->run = 0;
	}
	for (; q <= done && q < INT32_MAX; q++) {
		float lo = 0, hi = 0;

		if (quarter_floor(tl, s, q, &lo, &hi)) {
			f->lo[q % FLOOR_QUARTERS] = lo;
			f->hi[q % FLOOR_QUARTERS] = hi;
			if (f->run < FLOOR_QUARTERS)
				f->run++;
		} else {
			f->run = 0;
		}
		f->last = (int32_t)q;
	}
}

/* Least-squares slope (per quarter) and its t statistic through the n
 * floors that end `back` quarters before the newest. */
static void fit(const struct floor_record *f, const float *y_of, unsigned n, unsigned back, double *slope, double *t)
{
	int64_t first = f->last - back - (n - 1);
	double xm = (n - 1) / 2.0, ym = 0, sxx = 0, sxy = 0, ssr = 0, se;

	for (unsigned i = 0; i < n; i++)
		ym += y_of[(first + i) % FLOOR_QUARTERS];
	ym /= n;
	for (unsigned i = 0; i < n; i++) {
		double y = y_of[(first + i) % FLOOR_QUARTERS] - ym;

		sxx += (i - xm) * (i - xm);
		sxy += (i - xm) * y;
	}
	*slope = sxy / sxx;
	for (unsigned i = 0; i < n; i++) {
		double r = y_of[(first + i) % FLOOR_QUARTERS] - ym - *slope * (i - xm);

		ssr += r * r;
	}
	se = n > 2 ? sqrt(ssr / (n - 2) / sxx) : 0;
	/* a perfect line: as strong as the float floors can tell */
	*t = *slope / fmax(se, 1e-7 * fabs(ym) + 1e-12);
}

/* Theil-Sen slope (per quarter) through the n values of the ring y that
 * end at quarter `last` (floors or ceilings): the median
 * of the slopes between every two of them, which one floor caught high or
 * low does not move. */
static double median_slope(const float *y, int64_t last, unsigned n)
{
	double v[FLOOR_QUARTERS * (FLOOR_QUARTERS - 1) / 2];
	int64_t first = last - (n - 1);
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++) {
			double x = (y[(first + j) % FLOOR_QUARTERS] - y[(first + i) % FLOOR_QUARTERS]) / (j - i);
			unsigned k = m++;

			for (; k > 0 && v[k - 1] > x; k--)   /* insertion: at most 120 values */
				v[k] = v[k - 1];
			v[k] = x;
		}
	return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

bool floor_record_rising(const struct floor_record *f, double quarter_s, double rate, double noise, double *slope)
{
	unsigned found = 0;
	bool both = false;

	if (f->last < 0 || quarter_s <= 0)
		return false;
	for (unsigned n = FLOOR_MIN_FIT; n <= f->run; n++) {
		double b, t, b_old, b_new, bc, tc, unused;
		bool ceil;

		fit(f, f->lo, n, 0, &b, &t);
		if (b / quarter_s < rate || t < FLOOR_TPAIR || b * (n - 1) < FLOOR_NOISE * noise)
			continue;
		fit(f, f->hi, n, 0, &bc, &tc);
		ceil = tc >= FLOOR_TCEIL && bc / quarter_s >= 0.5 * rate;
		if (t < FLOOR_TMIN && !ceil)
			continue;
		fit(f, f->lo, n / 2, 0, &b_new, &unused);
		fit(f, f->lo, n / 2, n - n / 2, &b_old, &unused);
		if (b_new < 0.5 * b || b_old < 0.5 * b)
			continue;
		found = n;
		both = ceil;
	}
	if (found && slope) {
		/* the ceilings rise with the floors (a sawtooth riding on the
		 * leak): their jitter is the floors', independent, so the mean of
		 * the two slopes halves its part; not so under bursts */
		*slope = median_slope(f->lo, f->last, found) / quarter_s;
		if (both)
			*slope = (*slope + median_slope(f->hi, f->last, found) / quarter_s) / 2;
	}
	return found > 0;
}

bool floor_record_recent(const struct floor_record *f, double quarter_s, double *slope)
{
	unsigned n = f->run < 2 * (HIST_BUCKETS / QUARTER) ? f->run : 2 * (HIST_BUCKETS / QUARTER);

	if (f->last < 0 || n < HIST_BUCKETS / QUARTER || quarter_s <= 0)
		return false;
	*slope = median_slope(f->lo, f->last, n) / quarter_s;
	return true;
}

bool floor_record_valid(const struct floor_record *f, const struct timeline *tl)
{
	/* no quarter after the timeline's newest bucket */
	if (f->run > FLOOR_QUARTERS || f->last < -1 || (f->last < 0 && f->run) ||
	    (f->last >= 0 && (uint64_t)f->run > (uint64_t)f->last + 1) || f->last > (tl->head + 1) / QUARTER)
		return false;
	for (unsigned i = 0; i < FLOOR_QUARTERS; i++)
		if (!isfinite(f->lo[i]) || !isfinite(f->hi[i]) || f->lo[i] > f->hi[i])
			return false;
	return true;
}
