/* History: bucketing, the ring, and memory that does not depend on the
 * window or the interval. */
#include <string.h>

#include "check.h"
#include "history.h"
#include "monitor.h"
#include "trend.h"

static void test_buckets(void)
{
	struct history h;
	const struct bucket *b;

	history_init(&h, 48000);   /* 1 s buckets */
	CHECK(h.width_ms == 1000);
	CHECK(history_bucket(&h, 0) == NULL);
	history_add(&h, 10000, 5);
	history_add(&h, 10400, 7);
	history_add(&h, 10900, 3);
	b = history_bucket(&h, 0);
	CHECK(b && b->n == 3 && b->min == 3 && b->max == 7 && b->sum == 15);
	history_add(&h, 12500, 9);          /* skips bucket 1 */
	CHECK(h.head == 2);
	b = history_bucket(&h, 1);
	CHECK(b && b->n == 0);
	CHECK(history_span_ms(&h) == 2500);
	/* a gap longer than the ring clears it all */
	history_add(&h, 200000, 1);
	CHECK(history_bucket(&h, 0) == NULL);
	b = history_bucket(&h, h.head - 1);
	CHECK(b && b->n == 0);
	CHECK(h.last == 1 && h.last_ms == 200000);
}

static void test_trend_basics(void)
{
	struct history h;
	struct trend t;

	history_init(&h, 20000);
	for (int i = 1; i <= 40; i++)      /* 10 s: not the whole window */
		history_add(&h, (uint64_t)i * 250, 1000.0 * i);
	trend_fit(&h, &t);
	CHECK(!t.ready);
	CHECK_NEAR(t.slope, 4000, 1);      /* 1000 per 250 ms */
	for (int i = 41; i <= 100; i++)
		history_add(&h, (uint64_t)i * 250, 1000.0 * i);
	trend_fit(&h, &t);
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
	CHECK(sizeof(struct history) <= 1300);
	CHECK(sizeof(struct watched) <= 6 * 1024);
	printf("  struct watched: %zu bytes per process\n", sizeof(struct watched));
}

int main(void)
{
	test_buckets();
	test_trend_basics();
	test_memory_bound();
	return check_done("test_history");
}
