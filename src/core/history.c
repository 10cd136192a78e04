/* The bucket ring (see history.h for why buckets and what each holds).
 *
 * A sample's bucket is its absolute index k = (t - origin) / width, the
 * origin being the first sample, and lives in ring slot k % HIST_BUCKETS.
 * The alternatives fail the memory bound: a ring of raw samples grows with
 * window / interval (2.6 million for 30 days at 1 s), and running averages
 * keep no floor or ceiling for trend.c's quarters.  A gap between samples
 * empties the buckets it skips, at most the ring once however long; a
 * sample dated before the newest bucket (the monotonic clock should never
 * give one) is folded into it rather than rewriting the past.  Series slots
 * are not cleared with the timeline: each metric resets its slot at the
 * bucket's first sample (n == 1), so advancing the timeline never touches
 * the series.  Min and max are floats (a relative error of 6e-8, far below
 * what trend.c tells apart) to keep a slot at 16 bytes; the sum, from which
 * the means are taken, is a double.
 *
 * Costs: O(1) per sample and metric, plus the skipped buckets; memory a
 * 416-byte timeline per process and a 768-byte series per metric. */
#include "core/history.h"

#include <string.h>

void timeline_init(struct timeline *tl, uint64_t window_ms)
{
	memset(tl, 0, sizeof(*tl));
	tl->width_ms = window_ms / HIST_BUCKETS;
	if (tl->width_ms == 0)
		tl->width_ms = 1;
	tl->head = -1;
}

static void clear_slot(struct timeline *tl, int64_t k)
{
	tl->n[k % HIST_BUCKETS] = 0;
	tl->toff[k % HIST_BUCKETS] = 0;
}

void timeline_add(struct timeline *tl, uint64_t t_ms)
{
	int64_t k;
	int i;

	if (tl->head < 0) {
		tl->origin_ms = t_ms;
		tl->head = 0;
		clear_slot(tl, 0);
	}
	if (t_ms < tl->origin_ms)   /* the clock is monotonic; be safe anyway */
		t_ms = tl->origin_ms;
	k = (int64_t)((t_ms - tl->origin_ms) / tl->width_ms);
	if (k < tl->head)           /* never goes back: fold into the newest */
		k = tl->head;
	/* Empty the buckets skipped since the newest one (at most the ring). */
	for (int64_t j = tl->head + 1; j <= k && j <= tl->head + HIST_BUCKETS; j++)
		clear_slot(tl, j);
	tl->head = k;
	i = (int)(k % HIST_BUCKETS);
	tl->toff[i] += (float)(t_ms - tl->origin_ms - (uint64_t)k * tl->width_ms);
	tl->n[i]++;
	tl->last_ms = t_ms;
}

void timeline_add_on(struct timeline *tl, const struct timeline *grid, uint64_t t_ms)
{
	if (tl->head < 0 && grid->head >= 0) {
		tl->origin_ms = grid->origin_ms;
		tl->width_ms = grid->width_ms;
		/* the slots are empty (timeline_init): start at t's bucket */
		tl->head = t_ms > grid->origin_ms ? (int64_t)((t_ms - grid->origin_ms) / grid->width_ms) : 0;
		clear_slot(tl, tl->head);
	}
	timeline_add(tl, t_ms);
}

void series_add(struct series *s, const struct timeline *tl, double v)
{
	int i;
	struct slot *sl;

	if (tl->head < 0)
		return;
	i = (int)(tl->head % HIST_BUCKETS);
	sl = &s->s[i];
	if (tl->n[i] == 1) {        /* the bucket's first sample: what was here is stale */
		sl->sum = 0;
		sl->min = sl->max = (float)v;
	} else {
		if (v < sl->min)
			sl->min = (float)v;
		if (v > sl->max)
			sl->max = (float)v;
	}
	sl->sum += v;
}

bool history_bucket(const struct timeline *tl, const struct series *s, int64_t k, struct bucket *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	if (tl->head < 0 || k > tl->head || k <= tl->head - HIST_BUCKETS || k < 0)
		return false;
	i = (int)(k % HIST_BUCKETS);
	out->n = tl->n[i];
	if (out->n) {
		out->toff = tl->toff[i];
		out->sum = s->s[i].sum;
		out->min = s->s[i].min;
		out->max = s->s[i].max;
	}
	return true;
}

uint64_t timeline_span_ms(const struct timeline *tl)
{
	if (tl->head < 0)
		return 0;
	return tl->last_ms - tl->origin_ms;
}

bool timeline_slot_used(const struct timeline *tl, int i)
{
	int64_t back;

	if (tl->head < 0 || i < 0 || i >= HIST_BUCKETS)
		return false;
	/* the bucket in (head - HIST_BUCKETS, head] that lives in slot i */
	back = ((tl->head - i) % HIST_BUCKETS + HIST_BUCKETS) % HIST_BUCKETS;
	return tl->head - back >= 0;
}

uint64_t timeline_sampled(const struct timeline *tl)
{
	uint64_t used = 0;

	for (int i = 0; i < HIST_BUCKETS; i++)
		used |= (uint64_t)(tl->n[i] > 0) << i;
	return used;
}
