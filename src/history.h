/* Per-process, per-metric sample history in bounded memory.
 *
 * The fit window is cut into HIST_BUCKETS equal buckets whatever the window
 * and the interval; each bucket keeps the count, sum, minimum and maximum of
 * the samples that fell into it (and the mean offset of their times), so a
 * watched process costs the same few KiB with a 20 s or a 30 day window.
 * The ring holds the newest HIST_BUCKETS buckets; older ones are reused. */
#ifndef LEAKWATCH_HISTORY_H
#define LEAKWATCH_HISTORY_H

#include <stdint.h>

#define HIST_BUCKETS 48

struct bucket {
	double sum;        /* sum of the samples */
	float min, max;    /* envelope of the samples */
	float toff;        /* sum of (sample time - bucket start), ms */
	uint32_t n;        /* 0: no sample fell into this bucket */
};

struct history {
	uint64_t width_ms;   /* bucket width: window / HIST_BUCKETS, at least 1 */
	uint64_t origin_ms;  /* start of absolute bucket 0 */
	int64_t head;        /* absolute index of the newest bucket; -1 when empty */
	double last;         /* the newest sample */
	uint64_t last_ms;
	struct bucket b[HIST_BUCKETS];
};

void history_init(struct history *h, uint64_t window_ms);
void history_add(struct history *h, uint64_t t_ms, double v);

/* The bucket with absolute index k, or NULL when k is outside the ring. */
const struct bucket *history_bucket(const struct history *h, int64_t k);

/* Milliseconds of history between the first sample and the newest one. */
uint64_t history_span_ms(const struct history *h);

#endif
