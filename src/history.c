#include "history.h"

#include <string.h>

void history_init(struct history *h, uint64_t window_ms)
{
	memset(h, 0, sizeof(*h));
	h->width_ms = window_ms / HIST_BUCKETS;
	if (h->width_ms == 0)
		h->width_ms = 1;
	h->head = -1;
}

void history_add(struct history *h, uint64_t t_ms, double v)
{
	int64_t k;
	struct bucket *b;

	if (h->head < 0) {
		h->origin_ms = t_ms;
		h->head = 0;
		memset(&h->b[0], 0, sizeof(h->b[0]));
	}
	if (t_ms < h->origin_ms)   /* the clock is monotonic; be safe anyway */
		t_ms = h->origin_ms;
	k = (int64_t)((t_ms - h->origin_ms) / h->width_ms);
	if (k < h->head)           /* never goes back: fold into the newest */
		k = h->head;
	/* Clear the buckets skipped since the newest one (at most the ring). */
	for (int64_t i = h->head + 1; i <= k && i <= h->head + HIST_BUCKETS; i++)
		memset(&h->b[i % HIST_BUCKETS], 0, sizeof(h->b[0]));
	if (k > h->head + HIST_BUCKETS)
		memset(h->b, 0, sizeof(h->b));
	h->head = k;
	b = &h->b[k % HIST_BUCKETS];
	if (b->n == 0 || v < b->min)
		b->min = (float)v;
	if (b->n == 0 || v > b->max)
		b->max = (float)v;
	b->sum += v;
	b->toff += (float)(t_ms - h->origin_ms - (uint64_t)k * h->width_ms);
	b->n++;
	h->last = v;
	h->last_ms = t_ms;
}

const struct bucket *history_bucket(const struct history *h, int64_t k)
{
	if (h->head < 0 || k > h->head || k <= h->head - HIST_BUCKETS || k < 0)
		return NULL;
	return &h->b[k % HIST_BUCKETS];
}

uint64_t history_span_ms(const struct history *h)
{
	if (h->head < 0)
		return 0;
	return h->last_ms - h->origin_ms;
}
