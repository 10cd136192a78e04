/* boundary.c — where leakwatch's trend detector stops seeing a leak, beside
 * three common rules, on the same synthetic RSS series.
 *
 *   boundary [--window S] [--interval S] [--warmup S] [--growth BYTES_PER_HOUR]
 *            [--seeds N] [--fa-seeds N] [--csv FILE] [--only NAME]
 *            [--trace NAME SEED]
 *
 * The question: a leak of r = 1, 2 or 4 times the growth threshold g hides
 * under a working set that comes and goes.  How large may that working set
 * be, against R = r × W (what the leak adds in one window W), before a
 * detector misses the leak; how late does it answer; how far is the slope
 * it reports from r?  And which shapes that are not leaks (warm-ups, a
 * cache filling, steps, a sawtooth, bursts, wandering load) does it call a
 * leak?  The four detectors, on every series:
 *   leakwatch  src/core/detect.c as the daemon feeds it, through its public
 *              API only (detect.h, history.h, config.h), so the benchmark
 *              follows the detector as it changes;
 *   monit      `if totalmem > X for 3 cycles`, X set 20% above the peak of
 *              the first window after warm-up, as an operator sets a limit
 *              after a deploy;
 *   lsq-r2     the ordinary least-squares slope of the last window's raw
 *              samples, gated by R² > 0.7 (SONiC's memory checker for monit);
 *   theil-sen  the median of all pairwise slopes of the same samples, the
 *              textbook robust slope.
 *
 * Why synthetic series replayed through the detector rather than processes
 * that leak (bench/detect.py does that, for one shape): the detector is
 * pure C fed one sample at a time, so a simulated clock runs a 20 s window,
 * or a 30 min one, through a thousand series in seconds; all four tools see
 * the very same samples, so their differences are theirs, not the
 * scheduler's; every series comes from a seed, so a surprise replays
 * exactly (--trace); and the true rate is known, so the slope at a verdict
 * can be checked.  What it leaves out: sampling /proc, and how an allocator
 * returns memory (a freed working set may never leave RSS, which makes the
 * case easier for every tool).
 *
 * The shapes (boundary_series.c): the leak grid's working sets are a
 * sawtooth (a batch job, a GC generation), a random working set redrawn at
 * random times (requests holding memory) and bursts (rare big requests);
 * the non-leaks are warm-ups (linear, exponential, logarithmic: imports,
 * JIT, caches), an LRU cache filling to capacity, a step early and a step
 * late, the three working sets without a leak, and a random walk (a
 * quarter of g × W per window, within the boundary, and 0.5, 1 and 3 past
 * it).  The four rules run in boundary_rules.c, the CSV rows are written
 * by boundary_csv.c.
 *
 * Costs: leakwatch, monit and the OLS are O(n) per evaluation (n = W/I
 * samples a window); Theil-Sen is O(n²) (every pair, then a quickselect),
 * evaluated every W/48 like the OLS, never sub-sampled: ~3,200 pairs at
 * n = 80 (the defaults), ~65,000 at n = 360 (30 min at 5 s), where it is
 * most of the run.  A tool stops at its first verdict, except under
 * --trace.  Memory: the series, and n²/2 doubles of scratch. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/detect.h"
#include "core/history.h"

#include "boundary_csv.h"
#include "boundary_rules.h"
#include "boundary_series.h"

#define MAX_PER_WINDOW 2048   /* samples a window: Theil-Sen's n² */
#define MAX_SEEDS      100000
#define NRATES 3
#define NKINDS 3
#define NAMPS  5
#define NROWS  (NRATES * (NKINDS + 1) + 2)   /* the grid, then the two acceptance rows */
#define ACCEPT_RATE (200 * 1024.0)   /* B/s */
#define ACCEPT_AMP  (40 * MiB)
#define MAX_SHAPES  64

static const double rates_x[NRATES] = { 1, 2, 4 };
static const double amps_k[NAMPS] = { 0, 1, 3, 10, 30 };
static const char *const kind_name[NKINDS] = { "sawtooth", "random", "bursts" };
static const enum wset_kind kind_ws[NKINDS] = { WS_SAWTOOTH, WS_RANDOM, WS_BURSTS };

/* A random walk's typical excursion over one window, in R_g (amp_k of its
 * shape): within the boundary at 0.25, then past it (leakwatchd(8): a walk
 * that wanders by about g × W in a window looks like growth over it). */
static const struct { const char *name; enum shape_kind shape; double walk; } nonleak[] = {
	{ "warmup-linear", SHAPE_WARM_LINEAR, 0 }, { "warmup-exp", SHAPE_WARM_EXP, 0 },
	{ "warmup-log", SHAPE_WARM_LOG, 0 },       { "lru-fill", SHAPE_LRU, 0 },
	{ "step", SHAPE_STEP, 0 },                 { "late-step", SHAPE_LATE_STEP, 0 },
	{ "sawtooth", SHAPE_SAWTOOTH, 0 },         { "random-ws", SHAPE_RANDOM, 0 },
	{ "bursts", SHAPE_BURSTS, 0 },             { "random-walk", SHAPE_WALK, 0.25 },
	{ "walk-0.5 (past the boundary)", SHAPE_WALK, 0.5 },
	{ "walk-1 (past the boundary)", SHAPE_WALK, 1 },
	{ "walk-3 (past the boundary)", SHAPE_WALK, 3 },
};
#define NNONLEAK (sizeof nonleak / sizeof nonleak[0])
_Static_assert(NRATES * (1 + NKINDS * (NAMPS - 1)) + 2 + NNONLEAK <= MAX_SHAPES, "MAX_SHAPES");


static void usage(FILE *f)
{
	fprintf(f, "usage: boundary [--window S] [--interval S] [--warmup S] [--growth BYTES_PER_HOUR]\n"
		   "                [--seeds N] [--fa-seeds N] [--csv FILE] [--only NAME] [--trace NAME SEED]\n");
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(x) || x < lo || x > hi)
		return -EINVAL;
	*out = x;
	return 0;
}

static int parse_count(const char *s, long *out)
{
	double x;

	if (parse_num(s, 0, MAX_SEEDS, &x) < 0 || x != floor(x))
		return -EINVAL;
	*out = (long)x;
	return 0;
}

/* Reads argv into o; returns 0, or -EINVAL after saying what is wrong. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1, used; i < argc; i += used) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = -EINVAL;

		used = 2;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (!val) {
			fprintf(stderr, "boundary: %s needs a value\n", a);
			return -EINVAL;
		}
		if (strcmp(a, "--window") == 0)
			rc = parse_num(val, 0.048, 1e7, &o->window_s);
		else if (strcmp(a, "--interval") == 0)
			rc = parse_num(val, 0.001, 1e6, &o->interval_s);
		else if (strcmp(a, "--warmup") == 0)
			rc = parse_num(val, 0, 1e7, &o->warmup_s);
		else if (strcmp(a, "--growth") == 0)
			rc = parse_num(val, 1e-3, 1e18, &o->growth_h);
		else if (strcmp(a, "--seeds") == 0)
			rc = parse_count(val, &o->seeds);
		else if (strcmp(a, "--fa-seeds") == 0)
			rc = parse_count(val, &o->fa_seeds);
		else if (strcmp(a, "--csv") == 0)
			rc = *val ? (o->csv = val, 0) : -EINVAL;
		else if (strcmp(a, "--only") == 0)
			rc = (o->only = val, 0);
		else if (strcmp(a, "--trace") == 0 && i + 2 < argc) {
			o->trace = val;
			rc = parse_count(argv[i + 2], &o->trace_seed);
			used = 3;
		} else if (strcmp(a, "--trace") != 0) {
			fprintf(stderr, "boundary: unknown flag %s\n", a);
			return -EINVAL;
		}
		if (rc < 0) {
			fprintf(stderr, "boundary: bad value for %s\n", a);
			return rc;
		}
	}
	o->window_ms = (uint64_t)llround(o->window_s * 1000);
	o->interval_ms = (uint64_t)llround(o->interval_s * 1000);
	o->warmup_ms = (uint64_t)llround(o->warmup_s * 1000);
	if (o->interval_ms == 0 || o->window_ms < 8 * o->interval_ms ||
	    o->window_ms / o->interval_ms > MAX_PER_WINDOW) {
		fprintf(stderr, "boundary: a window must hold 8 to %d samples\n", MAX_PER_WINDOW);
		return -EINVAL;
	}
	o->window_s = (double)o->window_ms / 1000;   /* what is run: whole ms */
	o->interval_s = (double)o->interval_ms / 1000;
	o->warmup_s = (double)o->warmup_ms / 1000;
	o->sc = (struct scale){ o->window_s, o->interval_s, o->growth_h / 3600 };
	return 0;
}

/* The leak grid, the acceptance cell and the non-leak shapes into s[];
 * returns how many.  Indices (the seeds' streams) do not depend on flags. */
static size_t build_shapes(const struct opts *o, struct shape *s)
{
	double W = o->window_s, g = o->sc.growth;
	size_t n = 0;
	unsigned idx = 0;

	for (int ri = 0; ri < NRATES; ri++)
		for (int ki = -1; ki < NKINDS; ki++)
			for (int ai = ki < 0 ? 0 : 1; ai < (ki < 0 ? 1 : NAMPS); ai++) {
				struct shape *c = &s[n++];

				*c = (struct shape){ .shape = SHAPE_LEAK, .ws = ki < 0 ? WS_NONE : kind_ws[ki],
						     .rate = rates_x[ri] * g, .windows = 8, .index = idx++,
						     .row = ri * (NKINDS + 1) + ki + 1, .col = ai,
						     .rate_x = rates_x[ri], .amp_k = amps_k[ai],
						     .kind = ki < 0 ? "none" : kind_name[ki], .period = 0.15 * W };
				c->amp = c->amp_k * c->rate * W;
				if (ki < 0)
					snprintf(c->name, sizeof c->name, "%gx-none", rates_x[ri]);
				else
					snprintf(c->name, sizeof c->name, "%gx-%s-k%g", rates_x[ri], kind_name[ki], amps_k[ai]);
			}
	/* the acceptance case twice: a sawtooth that drifts against the
	 * samples, and one whose period is a whole number of intervals */
	for (int locked = 0; locked <= 1; locked++, n++) {
		s[n] = (struct shape){ .shape = SHAPE_LEAK, .ws = locked ? WS_SAWTOOTH_LOCKED : WS_SAWTOOTH,
				       .rate = ACCEPT_RATE, .amp = ACCEPT_AMP, .period = 0.15 * W, .windows = 8,
				       .index = idx++, .row = NROWS - 2 + locked, .rate_x = ACCEPT_RATE / g,
				       .amp_k = ACCEPT_AMP / (ACCEPT_RATE * W),
				       .kind = locked ? "acceptance-locked" : "acceptance" };
		snprintf(s[n].name, sizeof s[n].name, locked ? "acceptance-locked" : "acceptance");
		/* the column of A/R nearest its own on a log scale (not 0: A > 0) */
		s[n].col = s[n].amp_k < sqrt(3) ? 1 : s[n].amp_k < sqrt(30) ? 2 : s[n].amp_k < sqrt(300) ? 3 : 4;
	}
	for (size_t i = 0; i < NNONLEAK; i++, n++) {
		s[n] = (struct shape){ .shape = nonleak[i].shape, .windows = 10, .index = 100 + (unsigned)i,
				       .row = -1, .col = -1, .kind = nonleak[i].name, .amp_k = nonleak[i].walk };
		snprintf(s[n].name, sizeof s[n].name, "%s", nonleak[i].name);
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Folds one tool's times (windows, NAN when missed) and slope errors over
 * the seeds into *a. */
static void aggregate(struct agg *a, double *times, const double *errs, long seeds)
{
	long k = 0;

	*a = (struct agg){ .ran = true, .seeds = seeds, .median_w = NAN, .max_w = NAN, .worst_err = NAN };
	for (long i = 0; i < seeds; i++) {
		if (isnan(times[i]))
			continue;
		times[k++] = times[i];
		if (!isnan(errs[i]) && !(errs[i] <= a->worst_err))
			a->worst_err = errs[i];
	}
	a->detected = k;
	if (k == 0)
		return;
	qsort(times, (size_t)k, sizeof times[0], cmp_double);
	for (long i = 0; i < k; i++) {
		a->within[0] += times[i] <= 2.5;
		a->within[1] += times[i] <= 3.5;
	}
	a->median_w = k % 2 ? times[k / 2] : (times[k / 2 - 1] + times[k / 2]) / 2;
	a->max_w = times[k - 1];
}

struct bufs {
	uint64_t *t_ms;
	double *t_s, *v, *scratch;
	double *times[NTOOLS], *errs[NTOOLS];
	size_t n;
};

static int bufs_alloc(struct bufs *b, const struct opts *o)
{
	size_t per = (size_t)(o->window_ms / o->interval_ms) + 1;
	long most = o->seeds > o->fa_seeds ? o->seeds : o->fa_seeds;

	memset(b, 0, sizeof *b);
	b->n = (size_t)(10 * o->window_ms / o->interval_ms);
	b->t_ms = calloc(b->n, sizeof *b->t_ms);
	b->t_s = calloc(b->n, sizeof *b->t_s);
	b->v = calloc(b->n, sizeof *b->v);
	b->scratch = calloc(per * (per - 1) / 2 + 1, sizeof *b->scratch);
	if (!b->t_ms || !b->t_s || !b->v || !b->scratch)
		return -ENOMEM;
	for (int k = 0; k < NTOOLS; k++) {
		b->times[k] = calloc((size_t)most + 1, sizeof(double));
		b->errs[k] = calloc((size_t)most + 1, sizeof(double));
		if (!b->times[k] || !b->errs[k])
			return -ENOMEM;
	}
	for (size_t i = 0; i < b->n; i++) {
		b->t_ms[i] = (i + 1) * o->interval_ms;
		b->t_s[i] = (double)b->t_ms[i] / 1000;
	}
	return 0;
}

static void bufs_free(struct bufs *b)
{
	free(b->t_ms);
	free(b->t_s);
	free(b->v);
	free(b->scratch);
	for (int k = 0; k < NTOOLS; k++) {
		free(b->times[k]);
		free(b->errs[k]);
	}
}

/* Samples in a series of shape s. */
static size_t series_len(const struct opts *o, const struct shape *s)
{
	return (size_t)(s->windows * (double)o->window_ms / (double)o->interval_ms);
}

/* Every seed of shape s through the four tools; the figures into a[]. */
static void run_shape(const struct opts *o, const struct shape *s, struct bufs *b, struct agg a[NTOOLS])
{
	long seeds = s->col >= 0 ? o->seeds : o->fa_seeds;
	struct run r = { .o = o, .t_ms = b->t_ms, .t_s = b->t_s, .v = b->v, .n = series_len(o, s),
			 .scratch = b->scratch };
	struct result res[NTOOLS];

	for (long seed = 1; seed <= seeds; seed++) {
		series_generate(s, &o->sc, (uint64_t)seed, b->t_s, b->v, r.n, NULL, 0);
		run_tools(&r, res);
		for (int k = 0; k < NTOOLS; k++) {
			b->times[k][seed - 1] = res[k].hit ? res[k].t / o->window_s : NAN;
			b->errs[k][seed - 1] = res[k].hit && s->rate > 0 && !isnan(res[k].slope)
				? fabs(res[k].slope - s->rate) / s->rate : NAN;
		}
	}
	for (int k = 0; k < NTOOLS; k++)
		aggregate(&a[k], b->times[k], b->errs[k], seeds);
}

static void row_label(const struct opts *o, int row, char *buf, size_t size)
{
	int ri = row / (NKINDS + 1), ki = row % (NKINDS + 1) - 1;

	if (row >= NROWS - 2)
		snprintf(buf, size, "acceptance: 200 KiB/s (%.2fx), sawtooth 40 MiB, P %.3g s (A/R %.3g)%s",
			 ACCEPT_RATE / o->sc.growth, 0.15 * o->window_s, ACCEPT_AMP / (ACCEPT_RATE * o->window_s),
			 row == NROWS - 1 ? ", phase-locked" : "");
	else
		snprintf(buf, size, "%gx %s", rates_x[ri], ki < 0 ? "none" : kind_name[ki]);
}

static void fmt_cell(char *buf, size_t size, const struct agg *a)
{
	if (!a->ran)
		snprintf(buf, size, " ");
	else if (a->detected == 0)
		snprintf(buf, size, "%ld/%ld -", a->detected, a->seeds);
	else
		snprintf(buf, size, "%ld/%ld %.2fW", a->detected, a->seeds, a->median_w);
}

static void print_header(const struct opts *o)
{
	printf("# Detection boundary: leakwatch beside monit, least squares and Theil-Sen\n\n");
	printf("W = %g s, I = %g s (%llu samples a window), warm-up %g s, g = %.1f MiB/h (%.0f B/h, %.1f B/s).\n",
	       o->window_s, o->interval_s, (unsigned long long)(o->window_ms / o->interval_ms), o->warmup_s,
	       o->growth_h / MiB, o->growth_h, o->sc.growth);
	printf("Leak grid: %ld seeds a cell, 8 W long; non-leak shapes: %ld seeds each, 10 W long. "
	       "Base 30 MiB, measurement noise sigma 16 KiB.\n", o->seeds, o->fa_seeds);
	printf("R = rate x W (the leak's rise per window), A = the working set's amplitude. "
	       "Times are medians from the process start, in windows.\n\n");
	printf("- **leakwatch**: detect_sample() with growth = g over a window W (48 buckets), samples before "
	       "the warm-up passed as warming; the verdict is its first leak event, the slope its trend's then.\n");
	printf("- **monit** `if totalmem > X for 3 cycles` (a cycle = one sample): X = 1.2 x the highest sample "
	       "in [warm-up, warm-up + W], fixed after it; the verdict is the 3rd sample in a row over X. No slope.\n");
	printf("- **lsq-r2**: ordinary least squares over the raw samples of the last W; verdict when slope >= g "
	       "and R^2 > 0.7; evaluated once per W/48 from t = warm-up + W; no persistence. Slope: the OLS's.\n");
	printf("- **theil-sen**: the median of all pairwise slopes of the last W's raw samples (all pairs, "
	       "quickselect) >= g; the same schedule as lsq-r2. Slope: the median.\n\n");
}

/* One tool's leak-grid table. */
static void print_grid(const struct opts *o, const struct shape *s, size_t n, struct agg (*a)[NTOOLS], int tool)
{
	bool slope = tool != T_MONIT;

	printf("### %s\n\n| rate, working set \\ A/R |", tool_name[tool]);
	for (int c = 0; c < NAMPS; c++)
		printf(" %g |", amps_k[c]);
	printf(slope ? " worst slope error |\n|---|" : "\n|---|");
	for (int c = 0; c < NAMPS + slope; c++)
		printf("---|");
	printf("\n");
	for (int row = 0; row < NROWS; row++) {
		char label[128], cell[NAMPS][48];
		double worst = NAN;
		bool any = false;

		for (int c = 0; c < NAMPS; c++)
			snprintf(cell[c], sizeof cell[c], " ");
		for (size_t i = 0; i < n; i++) {
			if (s[i].row != row || !a[i][tool].ran)
				continue;
			any = true;
			fmt_cell(cell[s[i].col], sizeof cell[0], &a[i][tool]);
			if (!isnan(a[i][tool].worst_err) && !(a[i][tool].worst_err <= worst))
				worst = a[i][tool].worst_err;
		}
		if (!any)
			continue;
		row_label(o, row, label, sizeof label);
		printf("| %s |", label);
		for (int c = 0; c < NAMPS; c++)
			printf(" %s |", cell[c]);
		if (slope && isnan(worst))
			printf(" - |");
		else if (slope)
			printf(" %.0f%% |", 100 * worst);
		printf("\n");
	}
	printf("\n");
}

/* How the acceptance rows' seeds spread, by leakwatch: the share within
 * 2.5 and 3.5 windows and the latest (a median hides the tail that a test
 * of ten runs at once meets). */
static void print_acceptance(const struct shape *s, size_t n, struct agg (*a)[NTOOLS])
{
	bool head = false;

	for (size_t i = 0; i < n; i++) {
		const struct agg *x = &a[i][T_LW];

		if (strncmp(s[i].kind, "acceptance", 10) != 0 || !x->ran)
			continue;
		if (!head)
			printf("#### The acceptance rows' seeds (leakwatch)\n\n| row | seeds | within 2.5 W | within 3.5 W | latest |\n"
			       "|---|---|---|---|---|\n");
		head = true;
		printf("| %s | %ld | %ld (%.2f%%) | %ld (%.2f%%) | %.2fW |\n", s[i].name, x->seeds, x->within[0],
		       100.0 * x->within[0] / x->seeds, x->within[1], 100.0 * x->within[1] / x->seeds, x->max_w);
	}
	if (head)
		printf("\n");
}

/* Did a leak cell (leak) or a non-leak shape (!leak) run? */
static bool any_ran(const struct shape *s, size_t n, struct agg (*a)[NTOOLS], bool leak)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i].col >= 0) == leak && a[i][0].ran)
			return true;
	return false;
}

static void print_false_alarms(const struct opts *o, const struct shape *s, size_t n, struct agg (*a)[NTOOLS])
{
	printf("## False alarms: non-leak shapes, %ld seeds each, 10 W long\n\n| shape |", o->fa_seeds);
	for (int k = 0; k < NTOOLS; k++)
		printf(" %s |", tool_name[k]);
	printf("\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		if (s[i].col >= 0 || !a[i][0].ran)
			continue;
		printf("| %s |", s[i].name);
		for (int k = 0; k < NTOOLS; k++)
			printf(" %ld/%ld |", a[i][k].detected, a[i][k].seeds);
		printf("\n");
	}
	printf("\n");
}

static void trace_tool(const struct opts *o, int k, const struct result *r)
{
	printf("# %s:", tool_name[k]);
	if (k == T_MONIT)
		printf(" X = %.3f MiB (fixed at %g s);", r->limit / MiB, o->warmup_s + o->window_s);
	if (r->n == 0)
		printf(" no verdict");
	for (int i = 0; i < r->n; i++) {
		printf("%s %.2f s (%.2fW)", i ? "," : "", r->ev_t[i], r->ev_t[i] / o->window_s);
		if (!isnan(r->ev_slope[i]))
			printf(" slope %.1f MiB/h", r->ev_slope[i] * 3600 / MiB);
	}
	printf("%s\n", r->n == MAX_EVENTS ? " ..." : "");
}

/* --trace NAME SEED: that series' samples and every tool's verdicts
 * (each episode's start, the tools running to the end). */
static int run_trace(const struct opts *o, const struct shape *s, size_t n, struct bufs *b)
{
	const struct shape *sh = NULL;
	struct result res[NTOOLS];
	struct run r;
	char desc[200];

	for (size_t i = 0; i < n && !sh; i++)
		if (strcmp(s[i].name, o->trace) == 0)
			sh = &s[i];
	if (!sh) {
		fprintf(stderr, "boundary: --trace: no series %s; the names are:", o->trace);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %s", s[i].name);
		fprintf(stderr, "\n");
		return 2;
	}
	r = (struct run){ .o = o, .t_ms = b->t_ms, .t_s = b->t_s, .v = b->v, .n = series_len(o, sh),
			  .scratch = b->scratch, .all = true };
	series_generate(sh, &o->sc, (uint64_t)o->trace_seed, b->t_s, b->v, r.n, desc, sizeof desc);
	run_tools(&r, res);
	printf("# %s seed %ld: %s\n", sh->name, o->trace_seed, desc);
	printf("# W = %g s, I = %g s, warm-up %g s, g = %.1f MiB/h; verdicts (each episode's start):\n",
	       o->window_s, o->interval_s, o->warmup_s, o->growth_h / MiB);
	for (int k = 0; k < NTOOLS; k++)
		trace_tool(o, k, &res[k]);
	printf("# t_s value_MiB\n");
	for (size_t i = 0; i < r.n; i++)
		printf("%g %.4f\n", b->t_s[i], b->v[i] / MiB);
	return 0;
}

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct opts o = { .window_s = 20, .interval_s = 0.25, .warmup_s = 3, .growth_h = 300e6,
			  .seeds = 20, .fa_seeds = 50, .csv = "bench/results/boundary.csv" };
	static struct shape shapes[MAX_SHAPES];
	static struct agg agg[MAX_SHAPES][NTOOLS];
	double t0 = now_s(CLOCK_MONOTONIC), cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	char run_utc[32];
	time_t now = time(NULL);
	struct bufs b;
	size_t n;
	int rc;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	strftime(run_utc, sizeof run_utc, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	n = build_shapes(&o, shapes);
	if (bufs_alloc(&b, &o) < 0) {
		fprintf(stderr, "boundary: out of memory\n");
		bufs_free(&b);
		return 1;
	}
	if (o.trace) {
		rc = run_trace(&o, shapes, n, &b);
		bufs_free(&b);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		if (!o.only || strstr(shapes[i].name, o.only))
			run_shape(&o, &shapes[i], &b, agg[i]);
	bufs_free(&b);
	print_header(&o);
	if (any_ran(shapes, n, agg, true)) {
		printf("## Leak grid: detected/seeds and the median time to the verdict\n\n");
		for (int k = 0; k < NTOOLS; k++)
			print_grid(&o, shapes, n, agg, k);
		print_acceptance(shapes, n, agg);
	}
	if (any_ran(shapes, n, agg, false))
		print_false_alarms(&o, shapes, n, agg);
	printf("Runtime: %.1f s wall, %.1f s CPU.\n", now_s(CLOCK_MONOTONIC) - t0,
	       now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0);
	fflush(stdout);
	if ((rc = write_csv(&o, run_utc, shapes, n, agg)) < 0) {
		fprintf(stderr, "boundary: %s: %s\n", o.csv, strerror(-rc));
		return 1;
	}
	return 0;
}
