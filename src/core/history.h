/* Per-process sample history in bounded memory.
 *
 * The fit window is cut into HIST_BUCKETS equal buckets whatever the window
 * and the interval, so a watched process costs the same few KiB with a 20 s
 * or a 30 day window.  The ring holds the newest HIST_BUCKETS buckets; older
 * ones are reused.
 *
 * A process's metrics are sampled together, at the same instants: which
 * bucket a sample falls into, how many samples a bucket holds and their
 * mean time are the same for all of them.  That is kept once per process,
 * in a timeline; each metric keeps only what its values give, in a series:
 * per bucket the sum, minimum and maximum of its samples.
 *
 * Per sample, the caller first advances the process's timeline
 * (timeline_add), then adds each metric's value to its series (series_add,
 * through detect_sample).  A series slot is reset lazily, by the first
 * sample that falls into its bucket (the timeline's count is then 1): the
 * series of a bucket without samples hold stale numbers and are never read
 * (history_bucket). */
#ifndef LEAKWATCH_HISTORY_H
#define LEAKWATCH_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#define HIST_BUCKETS 48

/* One process's bucket times and sample counts. */
struct timeline {
	uint64_t width_ms;          /* bucket width: window / HIST_BUCKETS, at least 1 */
	uint64_t origin_ms;         /* start of absolute bucket 0 */
	int64_t head;               /* absolute index of the newest bucket; -1 when empty */
	uint64_t last_ms;           /* time of the newest sample */
	uint32_t n[HIST_BUCKETS];   /* samples in the bucket; 0: none */
	float toff[HIST_BUCKETS];   /* sum of (sample time - bucket start), ms */
};

/* One metric's values, per bucket of its process's timeline. */
struct slot {
	double sum;        /* sum of the samples */
	float min, max;    /* envelope of the samples */
};

struct series {
	struct slot s[HIST_BUCKETS];
};

/* A bucket of one metric as its readers see it. */
struct bucket {
	double sum;
	float min, max;
	float toff;        /* sum of (sample time - bucket start), ms */
	uint32_t n;        /* 0: no sample fell into this bucket */
};

void timeline_init(struct timeline *tl, uint64_t window_ms);

/* A sample of every metric taken at t_ms: its bucket becomes the newest
 * (buckets skipped since the last sample are emptied) and counts it.
 * Then add each metric's value with series_add(). */
void timeline_add(struct timeline *tl, uint64_t t_ms);

/* A sample of only some of a process's metrics (those with a timeline of
 * their own, read less often), taken at t_ms: as timeline_add(), but on
 * grid's buckets: tl takes grid's width and origin at its first sample,
 * so that its bucket k is grid's bucket k (grid must have one sample). */
void timeline_add_on(struct timeline *tl, const struct timeline *grid, uint64_t t_ms);

/* The value of this metric at the sample tl was just advanced to. */
void series_add(struct series *s, const struct timeline *tl, double v);

/* Bucket k (absolute index) of the series s of timeline tl into *out:
 * false (and *out zeroed) when k is outside the ring.  A bucket without
 * samples is all zero. */
bool history_bucket(const struct timeline *tl, const struct series *s, int64_t k, struct bucket *out);

/* Milliseconds of history between the first sample and the newest one. */
uint64_t timeline_span_ms(const struct timeline *tl);

/* Does the ring slot i hold a bucket that lies after the origin?  (Slots
 * ahead of a young timeline's head, and all slots of an empty one, do not:
 * they hold no samples.) */
bool timeline_slot_used(const struct timeline *tl, int i);

/* The ring slots that hold samples, bit i for slot i (HIST_BUCKETS <= 64):
 * what per-slot marks kept beside the series may say anything about. */
uint64_t timeline_sampled(const struct timeline *tl);

#endif
