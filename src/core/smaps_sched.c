/* The rate of smaps_rollup reads (see smaps_sched.h).
 *
 * The problem: uss and pss come from a file whose read costs time in
 * proportion to the process's resident memory, under the lock its page
 * faults take too; a host of large workers read every second would cost
 * the daemon tens of ms a tick and the workers stalls.  The alternatives
 * fail: reading at every sample is that cost; a fixed period per process
 * ignores how many processes there are; a fixed count a tick ignores how
 * large they are.  So three bounds: a process is not read more often than
 * its period (max(interval, bucket width / 4): a bucket still gets about
 * four samples, what the trend and floors need), nor more often than 500
 * times its last read's cost (a process with a huge or hostile address
 * space, whose every read is long, is read less often: its own stalls
 * and the daemon's time stay at 0.2%), and a tick stops reading once its
 * time budget is spent.  Which are read first: those read least
 * recently (never read: first of all), so the budget's leftovers wait one
 * tick, not forever.
 *
 * Costs: a pass over the list per SMAPS_PICK_MAX reads, an insertion into
 * a sorted array of SMAPS_PICK_MAX per due process; no allocation. */
#include "core/smaps_sched.h"

#include <string.h>

uint64_t smaps_period_ms(uint64_t interval_ms, uint64_t bucket_ms, uint64_t cost_usec)
{
	uint64_t q = bucket_ms / 4, c = cost_usec > UINT64_MAX / SMAPS_COST_FACTOR ? UINT64_MAX / 1000
					 : cost_usec * SMAPS_COST_FACTOR / 1000;
	uint64_t p = q > interval_ms ? q : interval_ms;

	return c > p ? c : p;
}

bool smaps_due(uint64_t read_ms, uint64_t now_ms, uint64_t period_ms)
{
	return read_ms == 0 || now_ms < read_ms || now_ms - read_ms >= period_ms;
}

void smaps_pick_init(struct smaps_pick *p)
{
	p->n = 0;
}

void smaps_pick_offer(struct smaps_pick *p, void *item, uint64_t read_ms)
{
	size_t i = p->n;

	if (i == SMAPS_PICK_MAX) {
		if (read_ms >= p->read_ms[i - 1])
			return;     /* newer than every one kept */
		i--;            /* the newest kept drops out */
	} else {
		p->n++;
	}
	for (; i > 0 && p->read_ms[i - 1] > read_ms; i--) {
		p->item[i] = p->item[i - 1];
		p->read_ms[i] = p->read_ms[i - 1];
	}
	p->item[i] = item;
	p->read_ms[i] = read_ms;
}

void smaps_budget_init(struct smaps_budget *b, uint64_t budget_usec)
{
	memset(b, 0, sizeof(*b));
	b->budget_usec = budget_usec;
}

bool smaps_budget_left(const struct smaps_budget *b)
{
	return b->reads == 0 || b->spent_usec < b->budget_usec;
}

void smaps_budget_spend(struct smaps_budget *b, uint64_t usec)
{
	b->reads++;
	b->spent_usec += usec;
}
