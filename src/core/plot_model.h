/* What a plot of one watched process shows, taken from its record in the
 * judged set (core/judge.h): per metric, the window's buckets (mean, min,
 * max and the verdicts over time), the coarse quarters before the window
 * (its floor record, core/floors.h: floor and ceiling of each of the last
 * four windows' quarters), the fitted trend, the limit and its predicted
 * crossing; and the axes (ranges and ticks).  The SVG (plot_svg.h) and the
 * terminal chart (plot_text.h) both draw from it, so the two cannot
 * disagree.  Pure: no I/O. */
#ifndef LEAKWATCH_PLOT_MODEL_H
#define LEAKWATCH_PLOT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/detect.h"
#include "core/judge.h"

#define PLOT_TICKS_MAX 12

/* The empty buckets a verdict period is drawn across (plot_point.near). */
#define PLOT_MARK_GAP 3

/* Times are seconds from the current tick (negative: the past). */
struct plot_point {            /* one bucket of the window with samples */
	double t0, t1;         /* its span */
	double t;              /* its samples' mean time */
	double mean, min, max;
	unsigned marks;        /* DETECT_LEAK, DETECT_LIMIT: the episodes it saw */
	bool joined;           /* it follows the previous point without an empty bucket */
	bool near;             /* ... or with at most PLOT_MARK_GAP empty ones: a verdict
				* period runs on across them (uss and pss are read at
				* most every quarter bucket, under a budget: a leak
				* period of theirs would be drawn in stripes) */
};

struct plot_band {             /* a quarter before the buckets: floor to ceiling */
	double t0, t1, lo, hi;
};

struct plot_tick {
	double v;              /* a value (y), or a time (x) */
	char label[24];
};

struct plot_panel {
	int metric;                      /* enum metric */
	bool unreadable;                 /* the daemon may not read it: nothing else is set */
	enum verdict verdict;            /* now */
	double value;                    /* the latest sample */
	double eta;                      /* seconds to max at the trend; < 0: none */
	size_t n;
	struct plot_point pt[HIST_BUCKETS];
	size_t n_coarse;
	struct plot_band coarse[FLOOR_QUARTERS];
	bool has_max, max_shown;         /* a limit; within the value axis */
	double max;
	bool has_trend;                  /* the window is covered: the fit means something */
	double slope;                    /* per second */
	double trend_t0, trend_v0, trend_t1, trend_v1;   /* the fit over the window */
	bool has_predict, cross_shown;   /* a crossing ahead; at or before the time axis' end */
	double pred_t1, pred_v1;         /* the prediction from (0, value): its end */
	double y0, y1;                   /* the value axis */
	size_t n_yticks;
	struct plot_tick ytick[PLOT_TICKS_MAX];
};

struct plot {
	const char *watch, *comm, *title;   /* borrowed from the record and the config */
	int pid;
	uint64_t now_wall_usec;             /* the wall clock at time 0 */
	double window_s, bucket_s;
	double x0, x1;                      /* the time axis */
	size_t n_xticks;
	struct plot_tick xtick[PLOT_TICKS_MAX];
	size_t n_panels;
	struct plot_panel panel[METRIC_COUNT];
};

/* The plot of w in j, its panels the metrics in the mask `metrics` (1u <<
 * METRIC_*; 0: all) that w keeps (uss, pss only where its watch judges
 * one: watched_metric()), in metric order; none when it keeps none of them.  Into *p (large: allocate it). */
void plot_build(struct plot *p, const struct judged *j, const struct watched *w, unsigned metrics);

/* The panel's caption: "rss 183.5M, trend +1.8G/h, max 256M in 33m: leak"
 * (the value, the trend per hour, the limit and the time to it at the
 * trend, the verdict now), ASCII. */
void plot_caption(const struct plot_panel *pn, char *out, size_t len);

#endif
