/* Per process and metric: the history's series, the latest trend, and the
 * episode state that turns trend answers and limit crossings into events,
 * once per episode.  Pure logic, fed one sample at a time; the process's
 * timeline (history.h) is the caller's, advanced before its metrics are
 * fed. */
#ifndef LEAKWATCH_DETECT_H
#define LEAKWATCH_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/floors.h"
#include "core/history.h"
#include "core/trend.h"

enum verdict { VERDICT_WARMING, VERDICT_OK, VERDICT_LEAK, VERDICT_LIMIT };

const char *verdict_name(enum verdict v);   /* "warming", "ok", "leak", "limit" */

/* What detect_sample() asks the caller to report. */
#define DETECT_LEAK  0x1u   /* a leak episode starts */
#define DETECT_LIMIT 0x2u   /* a limit episode starts */

/* What is kept of the latest fit: the whole of it (struct trend) lives
 * only while detect_sample() judges it, which keeps a watched process
 * within its memory budget.  The window's length is a float (16 bytes for
 * the fit, not 24): only a sixth of it, in ms, is ever asked of it
 * (persisted()), and a float holds 30 days to a quarter of a second. */
struct fit {
	double slope;           /* the current rate, per second */
	float window_s;         /* length of the analysed window, seconds */
	bool ready;             /* the history covered the window */
};

struct metric_state {
	struct series hist;     /* this metric's values in the process's timeline */
	struct floor_record floors; /* its aligned quarters' floors, four windows */
	struct fit trend;       /* the latest fit */
	int64_t fitted_head;    /* the timeline's newest bucket at that fit */
	double value;           /* the latest sample */
	double limit;           /* the max in force for this process (bytes or count):
				 * the rule's, or its percentage of the process's own
				 * limit (judge_limits()); < 0: none */
	double eta;             /* seconds until limit at the current slope; < 0: none */
	bool leaking;           /* leak reported, not yet cleared */
	bool in_limit;          /* limit reported, not yet back under */
	unsigned over;          /* consecutive samples over max */
	unsigned under;         /* consecutive samples at or under max, in a limit episode */
	unsigned streak;        /* consecutive samples the leak answer flipped state */
	uint64_t streak_since;  /* time of the first of them, ms */
	/* The verdicts over time, for the plots: bit i set when a sample of
	 * the bucket in ring slot i (history.h) was in a leak episode, or in
	 * a limit episode.  Like the series, a slot's bits are reset by its
	 * bucket's first sample; 16 bytes where a byte per bucket would be 48. */
	uint64_t leak_marks, limit_marks;
};

/* A fresh state, with no limit in force (limit -1: the judge sets it). */
void metric_state_init(struct metric_state *s);

/* The growth rate (per second) that counts as a leak right now: `growth`,
 * or the rate that reaches limit (the state's, < 0: none) within `predict`
 * when that is lower; 0 when neither applies. */
double detect_rate(const struct metric_rule *r, double limit, double value);

/* Feed one sample taken at now_ms, after timeline_add(tl, now_ms) for
 * it (once for all the process's metrics).  The limit crossed is s->limit,
 * not r->max (the rule's for, growth and predict apply to it); a limit
 * episode ends when there is no limit any more.  `warming`: the process is in
 * its warm-up: the sample counts for the limit only, it is not history
 * (and the caller does not add it to the timeline either), so the first
 * trend verdict needs a whole window after the warm-up.  Returns DETECT_*
 * bits to report now. */
unsigned detect_sample(struct metric_state *s, const struct timeline *tl, const struct metric_rule *r,
		       bool warming, uint64_t now_ms, double value);

enum verdict detect_verdict(const struct metric_state *s, bool warming);

/* The episodes that bucket k (absolute index) of tl saw, as DETECT_LEAK
 * and DETECT_LIMIT bits: 0 when none, or when k is outside the ring or
 * holds no sample. */
unsigned detect_marks(const struct metric_state *s, const struct timeline *tl, int64_t k);

#endif
