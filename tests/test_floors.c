/* The floor record (core/floors.h): aligned quarters recorded once each,
 * gaps restart the run, and the rising test on lines,
 * jitter, steps and a warm-up that levels off. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/floors.h"

#define Q (HIST_BUCKETS / 4)

/* One sample per bucket of 1 s (window 48 s), value fn(k). */
struct feed {
	struct timeline tl;
	struct series s;
	struct floor_record f;
};

static void start(struct feed *x)
{
	timeline_init(&x->tl, 48000);
	memset(&x->s, 0, sizeof(x->s));
	floor_record_init(&x->f);
}

static void add(struct feed *x, int64_t k, double v)
{
	timeline_add(&x->tl, (uint64_t)k * 1000);
	series_add(&x->s, &x->tl, v);
	floor_record_update(&x->f, &x->tl, &x->s);
}

static void test_recording(void)
{
	struct feed x;

	start(&x);
	for (int64_t k = 0; k < Q - 1; k++)
		add(&x, k, 100 + k);
	CHECK(x.f.last == -1 && x.f.run == 0);          /* quarter 0 not complete */
	add(&x, Q - 1, 50);
	CHECK(x.f.last == 0 && x.f.run == 1 && x.f.lo[0] == 50);
	for (int64_t k = Q; k < 3 * Q; k++)
		add(&x, k, 200 - (double)(k % Q));           /* floors 189 */
	CHECK(x.f.last == 2 && x.f.run == 3 && x.f.lo[1] == 189 && x.f.lo[2] == 189);
	/* a gap of two buckets inside quarter 3: it is not recorded, the run restarts */
	add(&x, 3 * Q, 1);
	add(&x, 3 * Q + 3, 1);
	for (int64_t k = 3 * Q + 4; k < 5 * Q; k++)
		add(&x, k, 7);
	CHECK(x.f.last == 4 && x.f.run == 1 && x.f.lo[4] == 7);
	CHECK(floor_record_valid(&x.f, &x.tl));
	/* a gap longer than the ring: the quarters in it are gaps */
	add(&x, 20 * Q, 3);
	for (int64_t k = 20 * Q + 1; k < 21 * Q; k++)
		add(&x, k, 3);
	CHECK(x.f.last == 20 && x.f.run == 1 && x.f.lo[20 % FLOOR_QUARTERS] == 3);
	/* impossible saved records */
	x.f.run = FLOOR_QUARTERS + 1;
	CHECK(!floor_record_valid(&x.f, &x.tl));
	x.f.run = 1;
	x.f.lo[3] = NAN;
	CHECK(!floor_record_valid(&x.f, &x.tl));
}

struct shape_case {
	const char *name;
	double rise;     /* per quarter */
	double jitter;   /* amplitude of the floors' jitter */
	int step_at;     /* quarter of a step of 20 (0: none) */
	int flat_after;  /* quarters after which it stops rising (0: never) */
	bool rising;     /* expected from floor_record_rising at rate 0.5 per quarter */
};

static const struct shape_case cases[] = {
	{ "clean line",               1, 0,    0, 0, true },
	{ "line, jitter 0.7",         1, 0.7,  0, 0, true },
	{ "too slow",                 0.3, 0,  0, 0, false },
	{ "jitter alone",             0, 3,    0, 0, false },
	{ "jitter 3, 16 quarters",    1, 3,    0, 0, true },    /* four windows tell */
	{ "one step",                 0, 0.1,  8, 0, false },
	{ "warm-up levelling off",    2, 0.1,  0, 10, false },
};

static void test_rising(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct shape_case *c = &cases[i];
		struct floor_record f;
		double slope = -1;
		bool got;

		floor_record_init(&f);
		for (int q = 0; q < FLOOR_QUARTERS; q++) {
			int rq = c->flat_after && q > c->flat_after ? c->flat_after : q;
			/* a fixed pseudo-random jitter in [0, jitter) */
			double j = c->jitter * fmod(q * 0.618034 + 0.3, 1.0);

			f.lo[q] = (float)(100 + c->rise * rq + j + (c->step_at && q >= c->step_at ? 20 : 0));
			f.hi[q] = f.lo[q] + 50 + (float)(q % 3) * 10;   /* ceilings that do not rise with them */
		}
		f.last = FLOOR_QUARTERS - 1;
		f.run = FLOOR_QUARTERS;
		got = floor_record_rising(&f, 1.0, 0.5, 0.0, &slope);
		CHECK_MSG(got == c->rising, "%s: rising %d, expected %d", c->name, got, c->rising);
		if (got)
			CHECK_MSG(fabs(slope - c->rise) < 0.15 * c->rise, "%s: slope %g", c->name, slope);
		/* the noise test: a rise of 15 over the record is not 10% of 1000 */
		if (c->rising)
			CHECK_MSG(!floor_record_rising(&f, 1.0, 0.5, 1000.0 * FLOOR_QUARTERS, NULL), "%s: noise", c->name);
		/* fewer than FLOOR_MIN_FIT quarters say nothing */
		f.run = FLOOR_MIN_FIT - 1;
		CHECK(!floor_record_rising(&f, 1.0, 0.5, 0.0, NULL));
	}
}

/* Floors too jittered to tell alone (t between FLOOR_TPAIR and FLOOR_TMIN)
 * tell with ceilings that rise beside them, not with ceilings that do not. */
static void test_pair(void)
{
	struct floor_record f;
	double slope = 0;
	int n = 8;

	floor_record_init(&f);
	for (int q = 0; q < n; q++) {
		f.lo[q] = (float)(100 + q + 2.6 * fmod(q * 0.618034 + 0.3, 1.0));
		f.hi[q] = (float)(150 + q + 2.6 * fmod(q * 0.414214 + 0.7, 1.0));
	}
	f.last = n - 1;
	f.run = (uint32_t)n;
	CHECK(floor_record_rising(&f, 1.0, 0.5, 0.0, &slope));
	CHECK_MSG(fabs(slope - 1) < 0.3, "slope %g", slope);
	for (int q = 0; q < n; q++)
		f.hi[q] = (float)(150 + 2.6 * fmod(q * 0.414214 + 0.7, 1.0));   /* flat ceilings */
	CHECK(!floor_record_rising(&f, 1.0, 0.5, 0.0, NULL));
	for (int q = 0; q < n; q++)
		f.lo[q] = (float)(100 + q);                                     /* clean floors: alone */
	CHECK(floor_record_rising(&f, 1.0, 0.5, 0.0, NULL));
}

int main(void)
{
	RUN(test_recording);
	RUN(test_rising);
	RUN(test_pair);
	return check_done("test_floors");
}
