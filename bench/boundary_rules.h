/* boundary_rules.h — the four detectors bench/boundary.c compares, run on
 * one series: leakwatch (through its public API), monit's `totalmem > X
 * for 3 cycles`, least squares gated by R² > 0.7, and Theil-Sen.  Their
 * exact rules are in boundary_rules.c and bench/README.md. */
#ifndef BENCH_BOUNDARY_RULES_H
#define BENCH_BOUNDARY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boundary_series.h"

#define MAX_EVENTS 64     /* verdict episodes kept for --trace */

enum { T_LW, T_MONIT, T_LSQ, T_TS, NTOOLS };

struct opts {
	double window_s, interval_s, warmup_s, growth_h;
	uint64_t window_ms, interval_ms, warmup_ms;
	long seeds, fa_seeds;
	const char *csv, *only, *trace;
	long trace_seed;
	struct scale sc;
};

/* A tool's verdicts on one series: the first, and (--trace) each episode's start. */
struct result {
	bool hit;
	double t, slope;              /* s from the process start; bytes/s, NAN when none */
	int n;
	double ev_t[MAX_EVENTS], ev_slope[MAX_EVENTS];
	double limit;                 /* monit: X */
};

/* One series and the buffers the tools share. */
struct run {
	const struct opts *o;
	const uint64_t *t_ms;
	const double *t_s, *v;
	size_t n;
	double *scratch;              /* Theil-Sen's pairwise slopes */
	bool all;                     /* go on after the first verdict (--trace) */
};

/* A tool's figures over the seeds of one cell or shape. */
struct agg {
	bool ran;
	long seeds, detected;
	double median_w, max_w;       /* windows from the process start; NAN: none */
	long within[2];               /* detected within 2.5 and 3.5 windows */
	double worst_err;             /* max |slope - r| / r; NAN: none */
};

extern const char *const tool_name[NTOOLS];   /* "leakwatch", "monit", "lsq-r2", "theil-sen" */

/* Run every tool on the series r into res (zeroed first). */
void run_tools(const struct run *r, struct result res[NTOOLS]);

#endif
