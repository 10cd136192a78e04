/* When the smaps_rollup of which process is read: the rate of the uss and
 * pss metrics.  A read walks the process's page tables under its mm lock
 * (about 17 us per resident MiB here: 4.5 ms at 200 MiB, 17 ms at 1 GiB,
 * where statm takes 10 us whatever the size), so it is neither done at
 * every sample of every process nor left unbounded in a tick.  Pure: the
 * monitor (daemon/monitor_smaps.c) reads, times and judges. */
#ifndef LEAKWATCH_SMAPS_SCHED_H
#define LEAKWATCH_SMAPS_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The time a tick may spend reading smaps_rollup files, CLOCK_MONOTONIC:
 * reads stop once it is spent (the read that overruns it is finished; one
 * read a tick is always made, however long). */
#define SMAPS_BUDGET_USEC 2000u

/* The processes taken per pass over the list: the oldest-read due ones. */
#define SMAPS_PICK_MAX 32

/* A process is read at most once per SMAPS_COST_FACTOR times what its
 * last read took: its reads hold its mm lock at most 0.2% of the time,
 * however large it is or how many mappings it makes. */
#define SMAPS_COST_FACTOR 500u

/* The shortest time between two reads of one process: the interval, a
 * quarter of the bucket width (window / HIST_BUCKETS: four samples a
 * bucket are plenty for its mean, floor and ceiling), or SMAPS_COST_FACTOR
 * times the cost of its last read (cost_usec; 0: none yet), whichever is
 * longest. */
uint64_t smaps_period_ms(uint64_t interval_ms, uint64_t bucket_ms, uint64_t cost_usec);

/* Is a process last read at read_ms (0: never) due at now_ms? */
bool smaps_due(uint64_t read_ms, uint64_t now_ms, uint64_t period_ms);

/* The due processes of one pass, oldest read first: a process the budget
 * left unread keeps its old read_ms and so comes before those read since,
 * at the next tick (no starvation: every due process is read within
 * about as many ticks as there are budgets' worth of reads before it). */
struct smaps_pick {
	size_t n;
	void *item[SMAPS_PICK_MAX];
	uint64_t read_ms[SMAPS_PICK_MAX];
};

void smaps_pick_init(struct smaps_pick *p);

/* Offer a due process (read_ms: its last read): kept when it is among
 * the SMAPS_PICK_MAX oldest offered; ties keep the earlier offered. */
void smaps_pick_offer(struct smaps_pick *p, void *item, uint64_t read_ms);

/* What a tick has spent. */
struct smaps_budget {
	uint64_t budget_usec;
	uint64_t spent_usec;
	unsigned reads;
};

void smaps_budget_init(struct smaps_budget *b, uint64_t budget_usec);

/* May one more read be made?  Always for the tick's first. */
bool smaps_budget_left(const struct smaps_budget *b);

/* A read took usec. */
void smaps_budget_spend(struct smaps_budget *b, uint64_t usec);

#endif
