/* The floor record: the floor (lowest sample) and the ceiling (highest) of
 * each of a metric's last FLOOR_QUARTERS aligned quarter windows, kept
 * beyond the window that history.h holds, and the lines fitted through
 * them.  Pure logic; why it
 * exists is at the top of floors.c and in leakwatchd(8). */
#ifndef LEAKWATCH_FLOORS_H
#define LEAKWATCH_FLOORS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/history.h"

#define FLOOR_QUARTERS 16   /* four windows */
#define FLOOR_MIN_FIT 7     /* quarters a fit needs: a window and three quarters */
#define FLOOR_TMIN 8.0      /* the t statistic it needs, */
#define FLOOR_TPAIR 4.0     /* or this much with the ceilings' line at FLOOR_TCEIL */
#define FLOOR_TCEIL 4.0
#define FLOOR_NOISE 0.1     /* its rise over the fit, at least this times the window's noise */

struct floor_record {
	float lo[FLOOR_QUARTERS];   /* ring: quarter q's floor in slot q % FLOOR_QUARTERS */
	float hi[FLOOR_QUARTERS];   /* and its ceiling (highest sample) */
	int32_t last;               /* absolute index of the newest recorded quarter; -1: none */
	uint32_t run;               /* recorded quarters in a row up to last, gapless (<= FLOOR_QUARTERS) */
};

void floor_record_init(struct floor_record *f);

/* Record every aligned quarter (buckets 12q .. 12q+11 of the timeline)
 * that has completed in tl since the last call: its floor from the series
 * s, or a gap when one of its buckets holds no sample.  Call after the
 * timeline has moved to a new bucket; O(1) when no quarter completed. */
void floor_record_update(struct floor_record *f, const struct timeline *tl, const struct series *s);

/* Do the newest recorded floors rise steadily at `rate` per second or
 * faster?  True when, for some n from FLOOR_MIN_FIT to the whole run, the
 * least-squares line through the newest n floors has a slope >= rate and
 * a t statistic >= FLOOR_TMIN (or >= FLOOR_TPAIR when the line through the
 * ceilings rises at half the rate with one >= FLOOR_TCEIL: the two
 * jitter independently), rises over the n quarters by at least
 * FLOOR_NOISE times `noise` (the window's, trend.h), and the lines through
 * its older and its newer half each rise at least half as fast (not a
 * step, not a warm-up levelling off); then *slope (when not NULL) is the
 * Theil-Sen slope per second through the floors of the longest such line
 * (the mean of the floors' and the ceilings' when the ceilings rise too).
 * quarter_s: a quarter's length, seconds. */
bool floor_record_rising(const struct floor_record *f, double quarter_s, double rate, double noise, double *slope);

/* The Theil-Sen slope per second of the newest two windows of floors (at
 * least one window's) into *slope: false, and *slope untouched, when the
 * run is shorter than a window. */
bool floor_record_recent(const struct floor_record *f, double quarter_s, double *slope);

/* Are a saved record's fields possible, with its timeline tl?
 * (state_codec.c's check.) */
bool floor_record_valid(const struct floor_record *f, const struct timeline *tl);

#endif
