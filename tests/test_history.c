/* History: bucketing, the ring, and memory that does not depend on the
 * window or the interval. */
#include <string.h>

#include "check.h"
#include "core/history.h"
#include "daemon/monitor.h"
#include "core/trend.h"

/* One sample of two metrics at t_ms. */
static void add2(struct timeline *tl, struct series *a, struct series *b, uint64_t t_ms, double va, double vb)
{
	timeline_add(tl, t_ms);
	series_add(a, tl, va);
	series_add(b, tl, vb);
}

static void test_buckets(void)
{
	struct timeline tl;
	struct series a, b;
	struct bucket x, y;

	memset(&a, 0x7f, sizeof(a));   /* a series needs no clearing */
	memset(&b, 0x7f, sizeof(b));
	timeline_init(&tl, 48000);     /* 1 s buckets */
	CHECK(tl.width_ms == 1000 && tl.head == -1);
	CHECK(!history_bucket(&tl, &a, 0, &x) && x.n == 0 && x.sum == 0);
	CHECK(timeline_span_ms(&tl) == 0);
	add2(&tl, &a, &b, 10000, 5, 50);
	add2(&tl, &a, &b, 10400, 7, 30);
	add2(&tl, &a, &b, 10900, 3, 40);
	CHECK(history_bucket(&tl, &a, 0, &x) && history_bucket(&tl, &b, 0, &y));
	CHECK(x.n == 3 && x.min == 3 && x.max == 7 && x.sum == 15 && x.toff == 1300);
	CHECK(y.n == 3 && y.min == 30 && y.max == 50 && y.sum == 120 && y.toff == 1300);
	add2(&tl, &a, &b, 12500, 9, 90);  /* skips bucket 1 */
	CHECK(tl.head == 2);
	CHECK(history_bucket(&tl, &a, 1, &x) && x.n == 0 && x.sum == 0 && x.min == 0 && x.max == 0);
	CHECK(history_bucket(&tl, &b, 2, &y) && y.n == 1 && y.sum == 90 && y.toff == 500);
	CHECK(!history_bucket(&tl, &a, 3, &x));    /* ahead of the newest */
	CHECK(timeline_span_ms(&tl) == 2500);
	/* a clock that went back: into the newest bucket */
	add2(&tl, &a, &b, 11000, 1, 10);
	CHECK(tl.head == 2 && history_bucket(&tl, &a, 2, &x) && x.n == 2 && x.min == 1 && x.sum == 10);
	/* a gap longer than the ring empties it all */
	add2(&tl, &a, &b, 200000, 1, 2);
	CHECK(!history_bucket(&tl, &a, 0, &x));
	CHECK(history_bucket(&tl, &a, tl.head - 1, &x) && x.n == 0);
	CHECK(history_bucket(&tl, &b, tl.head, &y) && y.n == 1 && y.sum == 2 && y.min == 2 && y.max == 2);
	CHECK(tl.last_ms == 200000);
	for (int i = 0; i < HIST_BUCKETS; i++)
		CHECK(tl.n[i] == (i == tl.head % HIST_BUCKETS) && (tl.n[i] || tl.toff[i] == 0));
}

/* A ring slot reused after a wrap holds the new bucket's samples only,
 * exactly as a bucket cleared beforehand would: the same numbers, bit for
 * bit, whatever was in it. */
static void test_reuse(void)
{
	struct timeline tl;
	struct series s;
	struct bucket x;
	double sum = 0;

	timeline_init(&tl, 4800);      /* 100 ms buckets */
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 48 * 3; i++) {
		timeline_add(&tl, (uint64_t)i * 100 + 30);
		series_add(&s, &tl, 1e9 + i);
	}
	timeline_add(&tl, 48 * 3 * 100 + 99);   /* slot 0 again, 144 buckets on (origin 30) */
	series_add(&s, &tl, -0.0);
	CHECK(history_bucket(&tl, &s, 144, &x) && x.n == 1 && x.min == 0 && x.max == 0 && x.toff == 69);
	sum += -0.0;   /* what the old clear-then-add gave: +0 */
	CHECK(memcmp(&x.sum, &sum, sizeof(sum)) == 0);
	CHECK(history_bucket(&tl, &s, 143, &x) && x.n == 1 && x.sum == 1e9 + 143);
	CHECK(timeline_slot_used(&tl, 0) && timeline_slot_used(&tl, 47));
	/* a young timeline: the slots ahead of its head lie before the origin */
	timeline_init(&tl, 4800);
	CHECK(!timeline_slot_used(&tl, 0));
	timeline_add(&tl, 1000);
	timeline_add(&tl, 1250);
	CHECK(tl.head == 2 && timeline_slot_used(&tl, 0) && timeline_slot_used(&tl, 2) &&
	      !timeline_slot_used(&tl, 3) && !timeline_slot_used(&tl, 47));
	CHECK(!timeline_slot_used(&tl, -1) && !timeline_slot_used(&tl, 48));
}

static void test_trend_basics(void)
{
	struct timeline tl;
	struct series s;
	struct trend t;

	timeline_init(&tl, 20000);
	for (int i = 1; i <= 40; i++) {    /* 10 s: not the whole window */
		timeline_add(&tl, (uint64_t)i * 250);
		series_add(&s, &tl, 1000.0 * i);
	}
	trend_fit(&tl, &s, &t);
	CHECK(!t.ready);
	CHECK_NEAR(t.slope, 4000, 1);      /* 1000 per 250 ms */
	for (int i = 41; i <= 100; i++) {
		timeline_add(&tl, (uint64_t)i * 250);
		series_add(&s, &tl, 1000.0 * i);
	}
	trend_fit(&tl, &s, &t);
	CHECK(t.ready);
	CHECK_NEAR(t.slope, 4000, 40);
	CHECK(trend_sustained(&t, 3000));
	CHECK(!trend_sustained(&t, 5000));  /* slower than the rule */
	CHECK(!trend_cleared(&t, 3000));
}

static void test_memory_bound(void)
{
	/* The per-process cost is a fixed struct whatever window or interval:
	 * no allocation happens after a process is found. */
	CHECK(sizeof(struct timeline) <= 420);
	CHECK(sizeof(struct series) == 16 * HIST_BUCKETS);
	/* 3 KiB, the floor records (136 bytes per metric), the title
	 * (PROC_TITLE_SIZE) and the verdict marks (16 bytes per metric, less
	 * the 8 that a tighter struct watched gave back), and the pointer to
	 * the uss/pss states, which only a watch with a rule for one allocates */
	CHECK(sizeof(struct tracked) <= 3 * 1024 + 448 + PROC_TITLE_SIZE + 3 * 16 - 8 + 8);
	CHECK(sizeof(struct sparse_metrics) <= 420 + 2 * 1200);
	printf("  struct watched: %zu bytes per process; with uss and pss, %zu more\n", sizeof(struct tracked),
	       sizeof(struct sparse_metrics));
}

int main(void)
{
	RUN(test_buckets);
	RUN(test_reuse);
	RUN(test_trend_basics);
	RUN(test_memory_bound);
	return check_done("test_history");
}
