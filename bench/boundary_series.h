/* boundary_series.h — the synthetic RSS series of bench/boundary.c: a
 * small seeded PRNG, the leak-grid cells and non-leak shapes, and the
 * generator that turns one of them and a seed into samples.  Everything is
 * in bytes and seconds, and scaled by the window W and the growth
 * threshold g, so the same shapes hold at any window and interval. */
#ifndef LEAKWATCH_BENCH_BOUNDARY_SERIES_H
#define LEAKWATCH_BENCH_BOUNDARY_SERIES_H

#include <stddef.h>
#include <stdint.h>

#define MiB (1024.0 * 1024.0)

/* splitmix64: one 64-bit state, good enough mixing for noise. */
struct rng {
	uint64_t s;
};

/* The generator of series `seed` of the shape with index `index`. */
void rng_seed(struct rng *r, uint64_t index, uint64_t seed);
double rng_uniform(struct rng *r);                   /* [0, 1) */
double rng_range(struct rng *r, double lo, double hi);  /* [lo, hi) */
double rng_gauss(struct rng *r);                     /* mean 0, sigma 1 */
double rng_exp(struct rng *r, double mean);          /* exponential, > 0 */

/* What is added on top of base + leak: a working set that comes and goes. */
enum wset_kind { WS_NONE, WS_SAWTOOTH, WS_RANDOM, WS_BURSTS, WS_SAWTOOTH_LOCKED };

enum shape_kind {
	SHAPE_LEAK,          /* rate × t + a working set of amplitude amp */
	SHAPE_WARM_LINEAR,   /* the non-leak shapes, parameters drawn per seed */
	SHAPE_WARM_EXP,
	SHAPE_WARM_LOG,
	SHAPE_LRU,
	SHAPE_STEP,
	SHAPE_LATE_STEP,
	SHAPE_SAWTOOTH,
	SHAPE_RANDOM,
	SHAPE_BURSTS,
	SHAPE_WALK,
};

/* The settings the shapes are scaled by. */
struct scale {
	double window_s;     /* W */
	double interval_s;   /* I */
	double growth;       /* g, bytes per second */
};

/* One leak-grid cell or one non-leak shape. */
struct shape {
	char name[40];       /* "2x-sawtooth-k3", "warmup-exp": --only, --trace */
	const char *kind;    /* the CSV's kind: none, sawtooth, random, bursts, acceptance, or the shape */
	enum shape_kind shape;
	enum wset_kind ws;   /* SHAPE_LEAK: its working set */
	double rate;         /* the leak, bytes/s; 0 for non-leaks */
	double amp;          /* SHAPE_LEAK: the working set's amplitude A, bytes */
	double period;       /* SHAPE_LEAK, WS_SAWTOOTH(_LOCKED): P, s */
	double windows;      /* the series' length, in W */
	unsigned index;      /* seeds the PRNG, with the seed: fixed whatever the flags */
	int row, col;        /* leak grid: table row and column (col -1: non-leak) */
	double rate_x;       /* rate / g */
	double amp_k;        /* A / (rate × W) */
};

#define BASE_BYTES  (30 * MiB)
#define NOISE_BYTES (16 * 1024.0)   /* gaussian measurement noise, sigma */

/* The values of series `seed` of shape s at the n times t_s[0..n) (s,
 * ascending) into v[0..n).  desc (descsize bytes, may be NULL) gets the
 * parameters drawn, for --trace. */
void series_generate(const struct shape *s, const struct scale *sc, uint64_t seed,
		    const double *t_s, double *v, size_t n, char *desc, size_t descsize);

#endif
