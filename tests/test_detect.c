/* The detector against synthetic shapes: leaks it must flag (in time, with
 * an honest slope) and non-leaks it must never flag, each over several noise
 * seeds and at two time scales (the acceptance suite's 250 ms / 20 s window,
 * and a production-like 5 s / 30 min window).  Shapes are written in
 * "scenario seconds" and MiB; the production run stretches time by 90. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/detect.h"

#define MiB (1024.0 * 1024.0)

struct rng { uint64_t s; };

static double rnd(struct rng *r)   /* uniform [0,1) */
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (double)(r->s >> 11) / 9007199254740992.0;
}

static double gauss(struct rng *r)
{
	double u = rnd(r) + 1e-12, v = rnd(r);
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

enum kind {
	LINEAR, LATE, STEPS, SAW_LEAK, WARM_THEN_LEAK, SPIKY_LEAK, LOG_LEAK,
	FLAT, WARM_LINEAR, WARM_EXP, WARM_STEPS, STEP_ONCE, STEP_TWICE, SAWTOOTH,
	SAW_IRREGULAR, CHURN_UNIFORM, CHURN_AR, BIG_STEADY, WARM_S_CURVE, FD_CHURN,
	THREAD_POOL, LATE_RAMP, CHURN_LEAK, FD_CHURN_LEAK,
};

struct shape {
	const char *name;
	enum kind kind;
	double a, b, c;      /* shape parameters (MiB, seconds, MiB/s) */
	double noise;        /* gaussian noise sigma, MiB */
	double rate;         /* true leak rate, MiB/s (0: not a leak) */
	double onset;        /* when the leak starts, s */
	int fds;             /* a count metric (fds), not rss */
	int within;          /* a leak's verdict must come this soon after its onset, s (0: 35) */
};

static double value(const struct shape *s, double t, struct rng *r, double *state)
{
	double base = 30, v = base;

	switch (s->kind) {
	case LINEAR:        v = base + s->a * t; break;
	case LATE:          v = base + s->a * fmax(0, t - s->b); break;
	case STEPS:         v = base + s->a * floor(t / s->b); break;
	case SAW_LEAK:      v = base + s->c * t + s->a * fmod(t, s->b) / s->b; break;
	case WARM_THEN_LEAK:v = base + 4 * fmin(t, 6) + s->a * fmax(0, t - s->b); break;
	case SPIKY_LEAK:    v = base + s->a * t + (rnd(r) < 0.05 ? s->b : 0); break;
	case LOG_LEAK:      v = base + s->a * t + s->b * log1p(t); break;
	case FLAT:          v = base + s->a; break;
	case WARM_LINEAR:   v = base + s->a * fmin(t, s->b); break;
	case WARM_EXP:      v = base + s->a * (1 - exp(-t / s->b)); break;
	case WARM_STEPS:    v = base + s->a * fmin(floor(t / s->b), s->c); break;
	case STEP_ONCE:     v = base + (t >= s->b ? s->a : 0); break;
	case STEP_TWICE:    v = base + (t >= s->b ? s->a : 0) + (t >= s->c ? s->a : 0); break;
	case SAWTOOTH:      v = base + s->a * fmod(t, s->b) / s->b; break;
	case SAW_IRREGULAR:
		/* ramps of random length 2..2b s up to a random peak */
		if (t >= state[0]) {
			state[0] = t + 2 + rnd(r) * 2 * s->b;
			state[1] = t;
			state[2] = s->a * (0.5 + rnd(r) * 0.5);
		}
		v = base + state[2] * (t - state[1]) / (state[0] - state[1]);
		break;
	case CHURN_UNIFORM: v = base + s->a * rnd(r); break;
	case CHURN_AR:      state[0] = 0.9 * state[0] + gauss(r) * s->a; v = base + state[0]; break;
	case BIG_STEADY:    v = 2048 + s->a * sin(t); break;
	case WARM_S_CURVE:  v = base + s->a / (1 + exp(-(t - s->b) / s->c)); break;
	case FD_CHURN:      v = 10 + floor(rnd(r) * s->a); break;
	case LATE_RAMP:     v = base + s->a * fmin(fmax(0, t - s->b), s->c); break;
	case CHURN_LEAK:    v = base + s->c * t + s->a * rnd(r); break;
	case FD_CHURN_LEAK: v = 10 + floor(rnd(r) * s->a) + floor(s->c * t); break;
	case THREAD_POOL:   v = 1 + fmin(s->a, floor(t * 8)); break;
	}
	if (s->noise > 0)
		v += gauss(r) * s->noise;
	return v;
}

/* One sample at t_ms, as the monitor takes it: the process's timeline
 * first (not in the warm-up: no history then), then the metric. */
static unsigned feed(struct timeline *tl, struct metric_state *s, const struct metric_rule *r, bool warming,
		     uint64_t t_ms, double v)
{
	if (!warming)
		timeline_add(tl, t_ms);
	return detect_sample(s, tl, r, warming, t_ms, v);
}

/* Run one shape at a time scale; returns the first leak time or -1. */
static double run(const struct shape *s, double scale, double dt, uint64_t seed,
		  double *slope_at_leak, double *eta_at_leak, double *value_at_leak)
{
	struct timeline tl;
	struct metric_state ms;
	struct metric_rule rule = {0};
	struct rng r = { seed * 0x9E3779B97F4A7C15ull + 1 };
	double state[3] = {0, 0, 0};
	double unit = s->fds ? 1 : MiB;
	uint64_t window_ms = (uint64_t)(20000 * scale);
	double warmup = 3 * scale, total = 55 * scale;

	rule.growth = (s->fds ? 0.5 : 300 * 1e6 / 3600 / MiB) * unit / scale;
	if (!s->fds) {   /* the native scenario's max+predict, too */
		rule.has_max = true;
		rule.max = 4096 * MiB;
		rule.for_samples = 1;
	}
	timeline_init(&tl, window_ms);
	metric_state_init(&ms);
	ms.limit = rule.has_max ? rule.max : -1;   /* the judge's, for a rule's max */
	for (double t = dt; t < total; t += dt) {
		double v = value(s, t / scale, &r, state) * unit;
		unsigned ev = feed(&tl, &ms, &rule, t < warmup, (uint64_t)(t * 1000), v);

		if (getenv("TD_TRACE") && strcmp(getenv("TD_TRACE"), s->name) == 0 && seed == (uint64_t)atoi(getenv("TD_SEED")) && ms.trend.ready) {
			struct trend fit, *q = &fit;

			trend_fit(&tl, &ms.hist, &fit);   /* the detector keeps only a summary */
			fprintf(stderr, "  t=%.2f sw=%.3g sr=%.3g ro=%.3g rn=%.3g rf=%.3g rc=%.3g ef=%.3g ec=%.3g noise=%.3g t=%.3g %d\n",
				t, q->slope_window / unit, q->slope_recent / unit, q->rate_old / unit, q->rate_new / unit,
				q->rise_floor / unit, q->rise_ceiling / unit, q->end_floor / unit, q->end_ceiling / unit,
				q->noise / unit, q->tstat, trend_sustained(q, rule.growth));
		}
		if ((ev & DETECT_LEAK) && getenv("TD_DEBUG")) {
			struct trend fit, *q = &fit;

			trend_fit(&tl, &ms.hist, &fit);
			fprintf(stderr, "  %s t=%.2f sw=%.3g sr=%.3g ro=%.3g rn=%.3g rf=%.3g rc=%.3g ef=%.3g ec=%.3g noise=%.3g t=%.3g g=%.3g\n",
				s->name, t, q->slope_window / unit, q->slope_recent / unit, q->rate_old / unit, q->rate_new / unit,
				q->rise_floor / unit, q->rise_ceiling / unit, q->end_floor / unit, q->end_ceiling / unit,
				q->noise / unit, q->tstat, rule.growth / unit);
		}
		if (ev & DETECT_LEAK) {
			*slope_at_leak = ms.trend.slope * scale / unit;
			*eta_at_leak = ms.eta;
			*value_at_leak = v;
			return t / scale;
		}
	}
	return -1;
}

static const struct shape shapes[] = {
	/* leaks: name kind a b c noise rate onset */
	{ "linear 1MiB/s",         LINEAR, 1, 0, 0, 0, 1, 0, 0, 0 },
	{ "slow 0.15MiB/s",        LINEAR, 0.15, 0, 0, 0.02, 0.15, 0, 0, 0 },
	{ "noisy linear",          LINEAR, 1, 0, 0, 2, 1, 0, 0, 0 },
	{ "late 15s",              LATE, 1, 15, 0, 0.05, 1, 15, 0, 0 },
	{ "late 20s noisy",        LATE, 1, 20, 0, 0.5, 1, 20, 0, 0 },
	{ "steps 4MiB/2s",         STEPS, 4, 2, 0, 0, 2, 0, 0, 0 },
	{ "steps 10MiB/4s",        STEPS, 10, 4, 0, 0.1, 2.5, 0, 0, 0 },
	{ "saw 48/5s + 1MiB/s",    SAW_LEAK, 48, 5, 1, 0, 1, 0, 0, 0 },
	{ "saw 48/3s + 1MiB/s",    SAW_LEAK, 48, 3, 1, 0, 1, 0, 0, 0 },
	{ "saw 20/4s + 0.5MiB/s",  SAW_LEAK, 20, 4, 0.5, 0.2, 0.5, 0, 0, 0 },
	{ "saw 32/4s + 0.5MiB/s",  SAW_LEAK, 32,  4,  0.5, 0.1, 0.5, 0, 0, 0 },
	{ "warm-up then leak",     WARM_THEN_LEAK, 1, 10, 0, 0.1, 1, 10, 0, 0 },
	{ "spiky leak",            SPIKY_LEAK, 1, 30, 0, 0.1, 1, 0, 0, 0 },
	{ "steps 12MiB/6s",        STEPS,   12,   6,  0, 0.1,  2,    0, 0, 0 },
	{ "slow late 0.2MiB/s",    LATE,     0.2, 15, 0, 0.02, 0.2, 15, 0, 0 },
	{ "barely 1.3x growth",    LINEAR,   0.108, 0, 0, 0.01, 0.108, 0, 0, 0 },
	{ "churn 40 + 2MiB/s",     CHURN_LEAK, 40, 0, 2, 0,    2,    0, 0, 0 },
	{ "fd churn 20 + 2/s",     FD_CHURN_LEAK, 20, 0, 2, 0,  2,    0, 1, 0 },
	{ "fds 5/s",               LINEAR, 5, 0, 0, 0, 5, 0, 1, 0 },
	{ "fds late 2/s",          LATE, 2, 12, 0, 0, 2, 12, 1, 0 },
	/* under a sawtooth, a rise per half window of 5% and 10% of its
	 * amplitude: the floors of the last windows tell (issue 16) */
	{ "saw 40/3s + 0.2MiB/s",  SAW_LEAK, 40, 3, 0.195, 0.02, 0.195, 0, 0, 50 },
	{ "saw 40/2.6s + 0.4MiB/s", SAW_LEAK, 40, 2.6, 0.39, 0.02, 0.39, 0, 0, 50 },
	/* not leaks */
	{ "late ramp 4MiB/s 6s",   LATE_RAMP, 4, 20, 6, 0.05, 0,  0, 0, 0 },
	{ "late ramp 2MiB/s 7s",   LATE_RAMP, 2, 25, 7, 0.05, 0,  0, 0, 0 },
	{ "flat",                  FLAT, 0, 0, 0, 0.05, 0, 0, 0, 0 },
	{ "warm-up 4MiB/s 6s",     WARM_LINEAR, 4, 6, 0, 0.05, 0, 0, 0, 0 },
	{ "warm-up 3MiB/s 12s",    WARM_LINEAR, 3, 12, 0, 0.05, 0, 0, 0, 0 },
	{ "warm-up exp tau 3s",    WARM_EXP, 60, 3, 0, 0.05, 0, 0, 0, 0 },
	{ "warm-up exp tau 5s",    WARM_EXP, 60, 5, 0, 0.05, 0, 0, 0, 0 },
	{ "warm-up S-curve",       WARM_S_CURVE, 60, 8, 2, 0.05, 0, 0, 0, 0 },
	{ "warm-up 5 steps",       WARM_STEPS, 8, 2, 5, 0.05, 0, 0, 0, 0 },
	{ "one step 96MiB",        STEP_ONCE, 96, 8, 0, 0.05, 0, 0, 0, 0 },
	{ "two steps",             STEP_TWICE, 40, 8, 24, 0.05, 0, 0, 0, 0 },
	{ "sawtooth 48/5s",        SAWTOOTH, 48, 5, 0, 0, 0, 0, 0, 0 },
	{ "sawtooth 48/8s",        SAWTOOTH, 48, 8, 0, 0.1, 0, 0, 0, 0 },
	{ "sawtooth 100/2s",       SAWTOOTH, 100, 2, 0, 0, 0, 0, 0, 0 },
	{ "irregular sawtooth",    SAW_IRREGULAR, 48, 3, 0, 0.1, 0, 0, 0, 0 },
	{ "uniform churn 40MiB",   CHURN_UNIFORM, 40, 0, 0, 0, 0, 0, 0, 0 },
	{ "AR(1) churn",           CHURN_AR, 2, 0, 0, 0, 0, 0, 0, 0 },
	{ "big steady 2GiB",       BIG_STEADY, 1, 0, 0, 0.2, 0, 0, 0, 0 },
	{ "gaussian noise 5MiB",   FLAT, 0, 0, 0, 5, 0, 0, 0, 0 },
	{ "fd churn 64",           FD_CHURN, 64, 0, 0, 0, 0, 0, 1, 0 },
	{ "thread pool 16",        THREAD_POOL, 16, 0, 0, 0, 0, 0, 1, 0 },
};

/* The verdict the status shows (leakwatchctl(1) VERDICT): warming, ok, leak, limit. */
static void test_verdicts(void)
{
	struct timeline tl;
	struct metric_state s;
	struct metric_rule r = { .has_max = true, .max = 100, .for_samples = 2, .growth = 1 };
	unsigned ev = 0;

	timeline_init(&tl, 20000);
	metric_state_init(&s);
	CHECK(s.limit < 0);
	s.limit = r.max;                                                /* the judge sets it */
	CHECK_STR(verdict_name(detect_verdict(&s, false)), "warming");   /* no history */
	for (int i = 1; i <= 100; i++)                                  /* flat, 25 s */
		ev |= feed(&tl, &s, &r, false, (uint64_t)i * 250, 50);
	CHECK(ev == 0);
	CHECK_STR(verdict_name(detect_verdict(&s, false)), "ok");
	CHECK_STR(verdict_name(detect_verdict(&s, true)), "warming");   /* in warm-up */
	ev = feed(&tl, &s, &r, false, 25250, 150);                      /* over max once */
	CHECK(ev == 0 && detect_verdict(&s, false) == VERDICT_OK);
	ev = feed(&tl, &s, &r, false, 25500, 150);                      /* twice: for = 2 */
	CHECK(ev == DETECT_LIMIT);
	CHECK_STR(verdict_name(detect_verdict(&s, false)), "limit");
	ev = feed(&tl, &s, &r, false, 25750, 150);                      /* once per episode */
	CHECK(ev == 0);
	feed(&tl, &s, &r, false, 26000, 50);
	feed(&tl, &s, &r, false, 26250, 50);                            /* under for 2 samples */
	CHECK(detect_verdict(&s, false) == VERDICT_OK);
	CHECK(feed(&tl, &s, &r, false, 26500, 150) == 0);
	CHECK(feed(&tl, &s, &r, false, 26750, 150) == DETECT_LIMIT); /* a new episode */
	s.limit = 200;                                                  /* raised (a prlimit) */
	CHECK(feed(&tl, &s, &r, false, 27000, 150) == 0 && s.in_limit);
	CHECK(feed(&tl, &s, &r, false, 27250, 150) == 0 && !s.in_limit); /* under it for 2 */
	s.limit = 100;
	feed(&tl, &s, &r, false, 27500, 150);
	CHECK(feed(&tl, &s, &r, false, 27750, 150) == DETECT_LIMIT);
	s.limit = -1;                                                   /* none any more: over */
	CHECK(feed(&tl, &s, &r, false, 28000, 150) == 0 && !s.in_limit && s.over == 0 && s.eta < 0);
	CHECK(detect_verdict(&s, false) == VERDICT_OK);
	s.limit = 100;
	CHECK(feed(&tl, &s, &r, false, 28250, 150) == 0);               /* counted afresh */
	CHECK(feed(&tl, &s, &r, false, 28500, 150) == DETECT_LIMIT);
	s.leaking = true;
	s.in_limit = false;
	CHECK_STR(verdict_name(detect_verdict(&s, false)), "leak");
}

/* The verdicts over time (the plots'): a bit per bucket and kind of
 * episode, reset when its ring slot is reused, none outside the ring or in
 * a bucket without samples. */
static void test_marks(void)
{
	struct timeline tl;
	struct metric_state s;
	struct metric_rule r = { .has_max = true, .max = 100, .for_samples = 2 };
	int64_t k;

	timeline_init(&tl, 4800);   /* 100 ms buckets, a sample each */
	metric_state_init(&s);
	s.limit = r.max;            /* the judge sets it */
	for (int i = 0; i < 10; i++)
		feed(&tl, &s, &r, false, (uint64_t)i * 100, 50);
	feed(&tl, &s, &r, false, 1000, 150);   /* over once: no episode yet */
	feed(&tl, &s, &r, false, 1100, 150);   /* twice: the limit episode starts */
	s.leaking = true;                      /* as a leak verdict would */
	feed(&tl, &s, &r, false, 1200, 150);
	s.leaking = false;
	feed(&tl, &s, &r, false, 1300, 50);    /* under once: still in it */
	feed(&tl, &s, &r, false, 1400, 50);    /* twice: over */
	feed(&tl, &s, &r, false, 1700, 50);    /* buckets 15 and 16 without samples */
	CHECK(detect_marks(&s, &tl, 9) == 0 && detect_marks(&s, &tl, 10) == 0);
	CHECK(detect_marks(&s, &tl, 11) == DETECT_LIMIT);
	CHECK(detect_marks(&s, &tl, 12) == (DETECT_LIMIT | DETECT_LEAK));
	CHECK(detect_marks(&s, &tl, 13) == DETECT_LIMIT);
	CHECK(detect_marks(&s, &tl, 14) == 0 && detect_marks(&s, &tl, 15) == 0);
	CHECK(detect_marks(&s, &tl, 17) == 0 && detect_marks(&s, &tl, 18) == 0 && detect_marks(&s, &tl, -1) == 0);
	/* a second sample in a marked bucket keeps its mark */
	s.leaking = true;
	feed(&tl, &s, &r, false, 1750, 50);
	s.leaking = false;
	feed(&tl, &s, &r, false, 1790, 50);
	CHECK(detect_marks(&s, &tl, 17) == DETECT_LEAK);
	/* a ring later, the slots of 11..13 hold buckets 59..61: unmarked */
	for (k = 18; k <= 62; k++)
		feed(&tl, &s, &r, false, (uint64_t)k * 100, 50);
	CHECK(detect_marks(&s, &tl, 11) == 0);    /* left the ring */
	for (k = 59; k <= 62; k++)
		CHECK_MSG(detect_marks(&s, &tl, k) == 0, "bucket %lld", (long long)k);
	CHECK(detect_marks(&s, &tl, 17 + 48) == 0);
}

int main(int argc, char **argv)
{
	static const struct { double scale, dt; } scales[] = { {1, 0.25}, {90, 5} };
	int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	bool run_shapes;

	RUN(test_verdicts);
	RUN(test_marks);
	run_shapes = check_case("test_shapes");      /* the loop below: every shape, every scale */
	for (size_t si = 0; run_shapes && si < sizeof(scales) / sizeof(scales[0]); si++) {
		for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
			const struct shape *s = &shapes[i];
			int seeds = 12, hits = 0, late = 0, bad_slope = 0;
			double worst = 0;

			for (int seed = 1; seed <= seeds; seed++) {
				double slope = 0, eta = 0, v = 0;
				double t = run(s, scales[si].scale, scales[si].dt, (uint64_t)seed, &slope, &eta, &v);

				if (t < 0)
					continue;
				hits++;
				if (t - s->onset > worst)
					worst = t - s->onset;
				if (s->rate > 0 && t - s->onset > (s->within ? s->within : 35))
					late++;
				if (s->rate > 0 && fabs(slope - s->rate) > 0.35 * s->rate)
					bad_slope++;
				if (verbose)
					printf("    %-24s seed %2d: leak at %5.1fs slope %.3f\n", s->name, seed, t, slope);
			}
			if (verbose || (s->rate > 0 ? hits < seeds || late || bad_slope : hits > 0))
				printf("x%-3g %-24s %2d/%d flagged, latest %.1fs after onset, %d late, %d bad slope\n",
				       scales[si].scale, s->name, hits, seeds, worst, late, bad_slope);
			if (s->rate > 0) {
				CHECK_MSG(hits == seeds, "x%g %s: missed %d of %d", scales[si].scale, s->name, seeds - hits, seeds);
				CHECK_MSG(late == 0, "x%g %s: %d late", scales[si].scale, s->name, late);
				CHECK_MSG(bad_slope == 0, "x%g %s: %d slopes off by >35%%", scales[si].scale, s->name, bad_slope);
			} else {
				CHECK_MSG(hits == 0, "x%g %s: %d false alarms of %d", scales[si].scale, s->name, hits, seeds);
			}
		}
	}
	return check_done("test_detect");
}
