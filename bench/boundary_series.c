/* boundary_series.c — the series bench/boundary.c replays through four
 * detectors (see the rationale there).
 *
 * A series is base (30 MiB) + shape(t) + gaussian measurement noise (sigma
 * 16 KiB), sampled at the times the caller gives.  Every random draw of a
 * series, its parameters first, then its working set's events in time
 * order, then the noise of each sample, comes from one splitmix64 stream
 * seeded with (shape index, seed), so a series depends on nothing else and
 * the same seed gives the same draws at any window or interval (only
 * scaled).
 *
 * The working sets come and go on top of the leak (or alone, as non-leaks):
 *   sawtooth  builds linearly to A over a cycle of P × U(0.9, 1.1), then
 *             drops to 0 at once; random initial phase (a batch job, a GC
 *             generation);
 *   phase-locked sawtooth
 *             the same with a cycle of exactly P, each drop late by
 *             U(0, LOCK_JITTER) on its schedule (a timer-driven job whose
 *             period is a whole number of sampling intervals, as in
 *             tests/scenario_test.py's slow-saw runs: the samples meet
 *             every tooth at the same phase, give or take the jitter);
 *   random    U(0, A), redrawn at exponential intervals of mean 0.05 W
 *             (request-sized allocations held for random times);
 *   bursts    Poisson arrivals of mean spacing 0.1 W, each adding
 *             U(0.5, 1) × A for U(0.01, 0.05) W (overlapping ones add up).
 * The other non-leak shapes are described at gen_params(). */
#include "boundary_series.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_BURSTS  16      /* active at once; a 17th is drawn and dropped */
#define LOCK_JITTER 0.01    /* s: a phase-locked tooth's drop, late by up to this */
#define LRU_ENTRIES 1000.0  /* mean entries of the full cache: s0 = C / 1000 */
#define LRU_RING    4096    /* > C / (0.5 s0), the most entries that fit */

void rng_seed(struct rng *r, uint64_t index, uint64_t seed)
{
	r->s = (index << 32) ^ seed ^ 0x5DEECE66Dull;
	(void)rng_uniform(r);
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

double rng_gauss(struct rng *r)
{
	double u = 1.0 - rng_uniform(r), w = rng_uniform(r);   /* u in (0, 1] */

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * w);
}

double rng_exp(struct rng *r, double mean)
{
	return -mean * log(1.0 - rng_uniform(r));
}

struct wset {
	enum wset_kind kind;
	double amp, period, window;
	double t0, t1;                  /* sawtooth: the current cycle */
	double due;                     /* phase-locked: the next drop's time on schedule */
	double next;                    /* random: next redraw; bursts: next arrival */
	double val;                     /* random: the current working set */
	double end[MAX_BURSTS], add[MAX_BURSTS];
	int nb;
};

static void wset_init(struct wset *w, struct rng *r, enum wset_kind kind, double amp, double period, double window)
{
	memset(w, 0, sizeof *w);
	w->kind = kind;
	w->amp = amp;
	w->period = period;
	w->window = window;
	switch (kind) {
	case WS_SAWTOOTH: {
		double len = period * rng_range(r, 0.9, 1.1);

		w->t0 = -len * rng_uniform(r);
		w->t1 = w->t0 + len;
		break;
	}
	case WS_SAWTOOTH_LOCKED:
		w->t0 = -period * rng_uniform(r);
		w->due = w->t0 + period;
		w->t1 = w->due + LOCK_JITTER * rng_uniform(r);
		break;
	case WS_RANDOM:
		w->val = amp * rng_uniform(r);
		w->next = rng_exp(r, 0.05 * window);
		break;
	case WS_BURSTS:
		w->next = rng_exp(r, 0.1 * window);
		break;
	case WS_NONE:
		break;
	}
}

static double bursts_at(struct wset *w, struct rng *r, double t)
{
	double sum = 0;
	int k = 0;

	while (w->next <= t) {
		double add = w->amp * rng_range(r, 0.5, 1.0);
		double end = w->next + w->window * rng_range(r, 0.01, 0.05);

		if (w->nb < MAX_BURSTS) {
			w->end[w->nb] = end;
			w->add[w->nb++] = add;
		}
		w->next += rng_exp(r, 0.1 * w->window);
	}
	for (int i = 0; i < w->nb; i++)
		if (w->end[i] > t) {
			w->end[k] = w->end[i];
			w->add[k] = w->add[i];
			sum += w->add[k++];
		}
	w->nb = k;
	return sum;
}

/* The working set at t (t ascending from call to call). */
static double wset_at(struct wset *w, struct rng *r, double t)
{
	switch (w->kind) {
	case WS_SAWTOOTH:
		while (t >= w->t1) {
			w->t0 = w->t1;
			w->t1 = w->t0 + w->period * rng_range(r, 0.9, 1.1);
		}
		return w->amp * (t - w->t0) / (w->t1 - w->t0);
	case WS_SAWTOOTH_LOCKED:
		while (t >= w->t1) {
			w->t0 = w->t1;
			w->due += w->period;
			w->t1 = w->due + LOCK_JITTER * rng_uniform(r);
		}
		return w->amp * (t - w->t0) / w->period;
	case WS_RANDOM:
		while (w->next <= t) {
			w->val = w->amp * rng_uniform(r);
			w->next += rng_exp(r, 0.05 * w->window);
		}
		return w->val;
	case WS_BURSTS:
		return bursts_at(w, r, t);
	case WS_NONE:
		break;
	}
	return 0;
}

/* An LRU cache of capacity cap bytes: entries of U(0.5, 1.5) × s0 inserted
 * at Poisson times; an insertion that does not fit evicts the oldest. */
struct lru {
	double cap, s0, gap, next, total;
	double q[LRU_RING];
	size_t head, len;
};

static double lru_at(struct lru *c, struct rng *r, double t)
{
	while (c->next <= t) {
		double e = c->s0 * rng_range(r, 0.5, 1.5);

		while (c->len > 0 && c->total + e > c->cap) {
			c->total -= c->q[c->head];
			c->head = (c->head + 1) % LRU_RING;
			c->len--;
		}
		if (c->len < LRU_RING) {
			c->q[(c->head + c->len++) % LRU_RING] = e;
			c->total += e;
		}
		c->next += rng_exp(r, c->gap);
	}
	return c->total;
}

/* A non-leak shape's parameters, drawn per seed (R_g = g × W):
 *   warm-up linear  slope a = U(2, 20) g until b = U(0.3, 0.9) W, then flat;
 *   warm-up exp     a (1 - e^(-t/b)), a = U(10, 100) R_g, b = U(0.1, 0.3) W;
 *   warm-up log     a ln(1 + min(t, c)/b), a = U(5, 50) R_g, b = U(0.02,
 *                   0.1) W, c = U(0.5, 0.9) W (loading, JIT, imports);
 *   LRU fill        capacity a = U(10, 100) R_g, filled in U(0.3, 0.9) W
 *                   by ~1000 entries, then hovering just under it;
 *   step, late step a = U(5, 50) R_g at b = U(0.5, 3) W or U(4, 8) W (an
 *                   index or a cache loaded once, early or late);
 *   sawtooth, random, bursts  A = U(1, 30) R_g (sawtooth P = U(0.1, 0.25) W);
 *   random walk     reflected in [0, 10 R_g], gaussian steps per sample of
 *                   sigma k R_g / sqrt(W/I): a typical excursion of k R_g
 *                   over one window (load that wanders, no trend); k is
 *                   the shape's amp_k. */
struct params {
	double a, b, c;
	struct wset ws;
	struct lru lru;
	double walk, walk_sigma, walk_hi;
};

static void gen_params(const struct shape *s, const struct scale *sc, struct rng *r, struct params *p,
		       char *desc, size_t descsize)
{
	double W = sc->window_s, Rg = sc->growth * W, fill;
	char buf[160] = "";

	switch (s->shape) {
	case SHAPE_LEAK: {
		static const char *const ws_name[] = { "no working set", "sawtooth", "random working set", "bursts",
						       "phase-locked sawtooth" };

		wset_init(&p->ws, r, s->ws, s->amp, s->period, W);
		snprintf(buf, sizeof buf, "leak %.0f B/s = %.3g g, %s A = %.3g MiB = %.3g R", s->rate, s->rate_x,
			 ws_name[s->ws], s->amp / MiB, s->amp_k);
		if (s->ws == WS_SAWTOOTH || s->ws == WS_SAWTOOTH_LOCKED)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ", P = %.3g W", s->period / W);
		break;
	}
	case SHAPE_WARM_LINEAR:
		p->a = rng_range(r, 2, 20) * sc->growth;
		p->b = rng_range(r, 0.3, 0.9) * W;
		snprintf(buf, sizeof buf, "slope %.3g g until %.3g W", p->a / sc->growth, p->b / W);
		break;
	case SHAPE_WARM_EXP:
		p->a = rng_range(r, 10, 100) * Rg;
		p->b = rng_range(r, 0.1, 0.3) * W;
		snprintf(buf, sizeof buf, "a = %.3g R_g, tau = %.3g W", p->a / Rg, p->b / W);
		break;
	case SHAPE_WARM_LOG:
		p->a = rng_range(r, 5, 50) * Rg;
		p->b = rng_range(r, 0.02, 0.1) * W;
		p->c = rng_range(r, 0.5, 0.9) * W;
		snprintf(buf, sizeof buf, "a = %.3g R_g, tau = %.3g W, flat after %.3g W", p->a / Rg, p->b / W, p->c / W);
		break;
	case SHAPE_LRU:
		p->lru.cap = rng_range(r, 10, 100) * Rg;
		fill = rng_range(r, 0.3, 0.9) * W;
		p->lru.s0 = p->lru.cap / LRU_ENTRIES;
		p->lru.gap = fill / LRU_ENTRIES;
		p->lru.next = rng_exp(r, p->lru.gap);
		snprintf(buf, sizeof buf, "capacity %.3g R_g, fill time %.3g W", p->lru.cap / Rg, fill / W);
		break;
	case SHAPE_STEP:
	case SHAPE_LATE_STEP:
		p->a = rng_range(r, 5, 50) * Rg;
		p->b = (s->shape == SHAPE_STEP ? rng_range(r, 0.5, 3) : rng_range(r, 4, 8)) * W;
		snprintf(buf, sizeof buf, "step %.3g R_g at %.3g W", p->a / Rg, p->b / W);
		break;
	case SHAPE_SAWTOOTH:
	case SHAPE_RANDOM:
	case SHAPE_BURSTS:
		p->a = rng_range(r, 1, 30) * Rg;
		p->b = s->shape == SHAPE_SAWTOOTH ? rng_range(r, 0.1, 0.25) * W : 0;
		wset_init(&p->ws, r, s->shape == SHAPE_SAWTOOTH ? WS_SAWTOOTH : s->shape == SHAPE_RANDOM ? WS_RANDOM : WS_BURSTS,
			  p->a, p->b, W);
		if (s->shape == SHAPE_SAWTOOTH)
			snprintf(buf, sizeof buf, "A = %.3g R_g, P = %.3g W", p->a / Rg, p->b / W);
		else
			snprintf(buf, sizeof buf, "A = %.3g R_g", p->a / Rg);
		break;
	case SHAPE_WALK:
		p->walk_hi = 10 * Rg;
		p->walk_sigma = s->amp_k * Rg / sqrt(W / sc->interval_s);
		p->walk = rng_uniform(r) * p->walk_hi;
		snprintf(buf, sizeof buf, "in [0, 10 R_g], step sigma %.3g R_g, start %.3g R_g",
			 p->walk_sigma / Rg, p->walk / Rg);
		break;
	}
	if (desc && descsize)
		snprintf(desc, descsize, "%s", buf);
}

static double reflect(double x, double hi)
{
	for (int i = 0; i < 8 && (x < 0 || x > hi); i++)
		x = x < 0 ? -x : 2 * hi - x;
	return fmin(fmax(x, 0), hi);
}

/* The shape (without base and noise) at t. */
static double shape_at(const struct shape *s, struct params *p, struct rng *r, double t)
{
	switch (s->shape) {
	case SHAPE_LEAK:        return s->rate * t + wset_at(&p->ws, r, t);
	case SHAPE_WARM_LINEAR: return p->a * fmin(t, p->b);
	case SHAPE_WARM_EXP:    return p->a * (1 - exp(-t / p->b));
	case SHAPE_WARM_LOG:    return p->a * log1p(fmin(t, p->c) / p->b);
	case SHAPE_LRU:         return lru_at(&p->lru, r, t);
	case SHAPE_STEP:
	case SHAPE_LATE_STEP:   return t >= p->b ? p->a : 0;
	case SHAPE_SAWTOOTH:
	case SHAPE_RANDOM:
	case SHAPE_BURSTS:      return wset_at(&p->ws, r, t);
	case SHAPE_WALK:
		p->walk = reflect(p->walk + p->walk_sigma * rng_gauss(r), p->walk_hi);
		return p->walk;
	}
	return 0;
}

void series_generate(const struct shape *s, const struct scale *sc, uint64_t seed,
		     const double *t_s, double *v, size_t n, char *desc, size_t descsize)
{
	struct params p;   /* 33 KiB with the LRU ring */
	struct rng r;

	memset(&p, 0, sizeof p);
	rng_seed(&r, s->index, seed);
	gen_params(s, sc, &r, &p, desc, descsize);
	for (size_t i = 0; i < n; i++) {
		double x = shape_at(s, &p, &r, t_s[i]);

		v[i] = BASE_BYTES + x + NOISE_BYTES * rng_gauss(&r);
	}
}
