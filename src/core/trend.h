/* Trend fitting over a history window: is a metric growing, how fast, and
 * is that growth sustained (a leak) or a warm-up, a step, a sawtooth or
 * noise?  Pure logic; the algorithm and its reasons are at the top of
 * trend.c and in leakwatchd(8). */
#ifndef LEAKWATCH_TREND_H
#define LEAKWATCH_TREND_H

#include <stdbool.h>

#include "core/history.h"

struct trend {
	bool ready;            /* the history covers the whole window */
	double window_s;       /* length of the analysed window, seconds */
	double slope;          /* the current rate, per second (reported) */
	double slope_window;   /* robust fit over the whole window, per second */
	double slope_recent;   /* robust fit over the recent half, per second */
	double rate_old;       /* rate between the first two quarters, per second */
	double rate_new;       /* rate between the last two quarters, per second */
	double rise_floor;     /* floor (minimum) of recent half - of older half */
	double rise_ceiling;   /* ceiling (maximum) of recent half - of older half */
	double end_floor;      /* floor of the last quarter - of the third */
	double end_ceiling;    /* ceiling of the last quarter - of the third */
	double rise_mean;      /* mean of the recent half - of the older half */
	double end_mean;       /* mean of the last quarter - of the third */
	double noise;          /* typical detrended spread within a quarter */
	double tstat;          /* t statistic of the line through the quarter means */
	double wander;         /* variance ratio of the detrended bucket means, quarter/bucket */
	double wander_z;       /* the rise over the window in steps of a walk with their steps */
};

/* Fit the series s of timeline tl.  When it does not cover the window yet,
 * only `slope` (a plain least-squares fit of what there is) is set and
 * ready is false. */
void trend_fit(const struct timeline *tl, const struct series *s, struct trend *t);

/* Does the trend show sustained growth of at least `rate` per second?
 * Needs ready; one true answer is not yet a verdict (see detect.c). */
bool trend_sustained(const struct trend *t, double rate);

/* Does what the trend leaves of the window wander like a random walk, by
 * more than the rise?  (Condition 7: no growth is sustained then.) */
bool trend_wanders(const struct trend *t);

/* Has the growth clearly stopped (below half of `rate`)?  For re-arming. */
bool trend_cleared(const struct trend *t, double rate);

#endif
