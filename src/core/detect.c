/* Episodes (see detect.h): from fits and limit crossings to at most one
 * event each time a metric starts leaking or goes over its max.
 *
 * A verdict taken from each fit or each sample alone would flap: noise near
 * a threshold, or a value hovering at max, would report again and again.
 * So both have hysteresis.  A limit episode starts after for_samples
 * samples in a row over max and ends after as many at or under it (or at
 * once when the process has no max any more).  The max is the state's
 * limit, the process's own: the rule's `max`, or its percentage of the
 * process's own limit, which the judge sets and may change while the
 * process runs (core/judge.h).  A leak
 * episode starts when sustained growth has held for three fits in a row
 * spanning at least a sixth of the window (persisted()): trend_sustained(),
 * or, for a slow leak that one window cannot tell from the noise around it,
 * a line through the floors of the last windows (floors.c) that rises at
 * the rate, the window not wandering and its slope at least half the rate.
 * It ends, which
 * re-arms the report, only when trend_cleared() has held as long.  No trend
 * verdict is taken while the process warms up, nor before the history
 * covers the window.
 *
 * Costs: the trend changes only with whole buckets, so trend_fit() (one
 * pass over HIST_BUCKETS buckets, trend.c) runs once per new bucket, at
 * most HIST_BUCKETS times per window however short the interval; a sample
 * in between costs O(1) (the limit counters and the eta).  Of the fit only
 * struct fit's three numbers are kept; a metric's state is its series
 * (HIST_BUCKETS slots of 16 bytes), its floor record (136 bytes), a few
 * counters and the verdicts over the window for the plots: a bit per
 * bucket for each kind of episode (16 bytes; the times of each episode's
 * start and end would take more, and say less once several overlap the
 * window). */
#include "core/detect.h"

#include <math.h>
#include <string.h>

_Static_assert(HIST_BUCKETS <= 64, "a metric's marks are one bit per ring slot in a uint64_t");

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_WARMING: return "warming";
	case VERDICT_OK:      return "ok";
	case VERDICT_LEAK:    return "leak";
	case VERDICT_LIMIT:   return "limit";
	}
	return "?";
}

void metric_state_init(struct metric_state *s)
{
	memset(s, 0, sizeof(*s));
	floor_record_init(&s->floors);
	s->fitted_head = -1;
	s->limit = -1;
	s->eta = -1;
}

double detect_rate(const struct metric_rule *r, double limit, double value)
{
	double rate = r->growth;

	if (limit >= 0 && r->predict > 0 && value < limit) {
		double reach = (limit - value) / r->predict;

		if (rate <= 0 || reach < rate)
			rate = reach;
	}
	return rate;
}

/* A leak answer must hold (or, once reported, its absence must hold) for a
 * sixth of the window and at least three fits in a row. */
static bool persisted(struct metric_state *s, bool flip, uint64_t now_ms)
{
	uint64_t need_ms = (uint64_t)(s->trend.window_s * 1000.0 / 6.0);

	if (!flip) {
		s->streak = 0;
		return false;
	}
	if (s->streak++ == 0)
		s->streak_since = now_ms;
	if (s->streak >= 3 && now_ms - s->streak_since >= need_ms) {
		s->streak = 0;
		return true;
	}
	return false;
}

static void update_limit(struct metric_state *s, const struct metric_rule *r,
			 double value, unsigned *events)
{
	unsigned need = r->for_samples ? r->for_samples : 1;

	if (s->limit < 0) {
		/* none (any more: the process's own limit went) */
		s->over = s->under = 0;
		s->in_limit = false;
		return;
	}
	if (value > s->limit) {
		s->over++;
		s->under = 0;
		if (!s->in_limit && s->over >= need) {
			s->in_limit = true;
			*events |= DETECT_LIMIT;
		}
	} else {
		s->over = 0;
		if (s->in_limit && ++s->under >= need)
			s->in_limit = false;
	}
}

static void update_eta(struct metric_state *s, double value)
{
	s->eta = -1;
	if (s->limit >= 0 && s->trend.ready) {
		if (value >= s->limit)
			s->eta = 0;
		else if (s->trend.slope > 0)
			s->eta = (s->limit - value) / s->trend.slope;
	}
}

/* Sustained growth over the floors of the last windows (floors.c), the
 * window not wandering and its slope at least half the rate, or within the
 * window (trend.c).  The floors' slope, when they show it, is the one
 * reported: a working set that shakes the window's estimators does not
 * move it. */
static bool sustained(struct metric_state *s, const struct trend *t, double rate)
{
	double slope;

	if (!trend_wanders(t) && t->slope_window >= 0.5 * rate &&
	    floor_record_rising(&s->floors, t->window_s / 4, rate, t->noise, &slope)) {
		s->trend.slope = slope;
		return true;
	}
	return trend_sustained(t, rate);
}

/* The growth has stopped: in the window (trend.c), and the floors of the
 * last two windows do not rise at half the rate either (a slow leak under
 * a large working set can dip the window's slopes for a while). */
static bool cleared(const struct metric_state *s, const struct trend *t, double rate)
{
	double slope;

	return trend_cleared(t, rate) &&
	       !(floor_record_recent(&s->floors, t->window_s / 4, &slope) && slope >= 0.5 * rate);
}

/* The newest bucket's marks: what this sample's episodes are (the first
 * sample of a bucket drops what its slot held of an older one). */
static void mark(struct metric_state *s, const struct timeline *tl)
{
	int i = (int)(tl->head % HIST_BUCKETS);
	uint64_t bit = (uint64_t)1 << i;

	if (tl->n[i] == 1) {
		s->leak_marks &= ~bit;
		s->limit_marks &= ~bit;
	}
	if (s->leaking)
		s->leak_marks |= bit;
	if (s->in_limit)
		s->limit_marks |= bit;
}

unsigned detect_sample(struct metric_state *s, const struct timeline *tl, const struct metric_rule *r,
		       bool warming, uint64_t now_ms, double value)
{
	unsigned events = 0;
	struct trend t;
	double rate;

	s->value = value;
	update_limit(s, r, value, &events);
	if (warming) {
		/* the warm-up's samples are not history: the first verdict
		 * needs a whole window after it (limits apply from the start) */
		s->streak = 0;
		s->eta = -1;
		return events;
	}
	series_add(&s->hist, tl, value);
	/* The trend moves with whole buckets: fit once per new bucket (once per
	 * sample when buckets are shorter than the interval). */
	if (tl->head == s->fitted_head) {
		update_eta(s, value);
		mark(s, tl);
		return events;
	}
	s->fitted_head = tl->head;
	floor_record_update(&s->floors, tl, &s->hist);
	trend_fit(tl, &s->hist, &t);
	s->trend.ready = t.ready;
	s->trend.slope = t.slope;
	s->trend.window_s = (float)t.window_s;

	rate = detect_rate(r, s->limit, value);
	if (rate <= 0 || !s->trend.ready) {
		s->streak = 0;
	} else if (!s->leaking) {
		if (persisted(s, sustained(s, &t, rate), now_ms)) {
			s->leaking = true;
			events |= DETECT_LEAK;
		}
	} else if (persisted(s, cleared(s, &t, rate), now_ms)) {
		s->leaking = false;   /* re-armed: a new episode may be reported */
	}
	update_eta(s, value);   /* with the slope sustained() may have set */
	mark(s, tl);
	return events;
}

enum verdict detect_verdict(const struct metric_state *s, bool warming)
{
	if (s->in_limit)
		return VERDICT_LIMIT;
	if (s->leaking)
		return VERDICT_LEAK;
	if (warming || !s->trend.ready)
		return VERDICT_WARMING;
	return VERDICT_OK;
}

unsigned detect_marks(const struct metric_state *s, const struct timeline *tl, int64_t k)
{
	struct bucket b;
	uint64_t bit;

	if (!history_bucket(tl, &s->hist, k, &b) || !b.n)
		return 0;
	bit = (uint64_t)1 << (k % HIST_BUCKETS);
	return ((s->leak_marks & bit) ? DETECT_LEAK : 0) | ((s->limit_marks & bit) ? DETECT_LIMIT : 0);
}
