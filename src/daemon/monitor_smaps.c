/* The smaps_rollup pass of a tick (see monitor_smaps.h).
 *
 * Apart from the tick's other samples, after them: a read here costs up
 * to milliseconds (the page-table walk, core/smaps_sched.h), and doing it
 * inside the sample loop would read the first processes of the list at
 * every tick and starve the last ones once the budget binds.  Here, each
 * pass over the list takes the SMAPS_PICK_MAX due processes read longest
 * ago; they are read and judged in that order, each read timed on
 * CLOCK_MONOTONIC, until the budget is spent; another pass follows only
 * when all of them were read and budget is left.  A process not read
 * this tick gets nothing in its uss/pss history (not a zero): its
 * timeline has no sample in that bucket.  Cost: per pass, one walk of
 * the list (O(processes), pointer checks for those without uss/pss); none
 * at all when no watch judges uss or pss (a look at the watches). */
#include "daemon/monitor_smaps.h"

#include <errno.h>
#include <string.h>

#include "core/smaps_sched.h"
#include "os/clock.h"
#include "os/users.h"

/* Said once for the process: it needs PTRACE_MODE_READ, like maps. */
static void warn_closed(const struct smaps_ctx *c, struct watched *w, int err)
{
	struct subject s = { c->j->cfg->watches[w->watch].name, w->pid, w->comm, w->title };
	struct event ev;
	char user[64];

	user_of_pid(c->root, w->pid, user, sizeof(user));
	event_init(&ev, EVENT_ERROR, c->j->wall_usec + (clock_usec(CLOCK_MONOTONIC) - c->tick_mono_usec));
	event_about(&ev, &s);
	ev.warning = true;
	ev.metric = METRIC_USS;
	event_say(&ev, "cannot read its smaps_rollup: %s (the process runs as %s, leakwatchd as %s); "
		  "no uss or pss for it: run leakwatchd as root or with CAP_SYS_PTRACE to read them",
		  strerror(-err), user, c->self_user);
	c->emit(c->ctx, &ev);
}

/* Read w's smaps_rollup and judge it: the time it took, in usec. */
static uint64_t read_one(const struct smaps_ctx *c, struct watched *w)
{
	const struct watch *wc = &c->j->cfg->watches[w->watch];
	uint64_t now = c->j->now_ms;
	uint64_t t0 = clock_usec(CLOCK_MONOTONIC), took;
	struct proc_smaps sm;
	struct verdicts v;
	double val[METRIC_SPARSE];
	int r = proc_read_smaps(c->handle(w), &sm);

	took = clock_usec(CLOCK_MONOTONIC) - t0;
	w->sparse->cost_usec = took > UINT32_MAX ? UINT32_MAX : (uint32_t)took;
	if (r < 0 && !proc_denied(r)) {
		/* gone (its next sample says so), or a text that does not
		 * parse: nothing to judge, tried again a period later */
		w->sparse->read_ms = now ? now : 1;
		return took;
	}
	val[METRIC_USS - METRIC_INLINE] = r < 0 ? -1 : sm.uss;
	val[METRIC_PSS - METRIC_INLINE] = r < 0 ? -1 : sm.pss;
	judge_sparse_sample(w, wc, now, val, r < 0, &v);
	if (v.warn)
		warn_closed(c, w, r);
	for (int i = METRIC_INLINE; i < METRIC_COUNT; i++) {
		if (v.ev[i] & DETECT_LIMIT)
			c->report(c->ctx, w, EVENT_LIMIT, i);
		if (v.ev[i] & DETECT_LEAK)
			c->report(c->ctx, w, EVENT_LEAK, i);
	}
	return took;
}

/* One pass: the oldest-read due processes into *p. */
static void pick(const struct smaps_ctx *c, struct smaps_pick *p)
{
	smaps_pick_init(p);
	for (struct watched *w = c->j->watched; w; w = w->next) {
		uint64_t period;

		if (!w->sparse)
			continue;
		period = smaps_period_ms(c->j->cfg->interval_ms, w->tl.width_ms, w->sparse->cost_usec);
		if (smaps_due(w->sparse->read_ms, c->j->now_ms, period))
			smaps_pick_offer(p, w, w->sparse->read_ms);
	}
}

/* Does any watch judge uss or pss?  Else the pass is not even a walk. */
static bool any_sparse(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_watches; i++)
		if (judge_wants_sparse(&cfg->watches[i]))
			return true;
	return false;
}

void monitor_smaps(const struct smaps_ctx *c)
{
	struct smaps_budget b;
	struct smaps_pick p;

	if (!any_sparse(c->j->cfg))
		return;
	smaps_budget_init(&b, SMAPS_BUDGET_USEC);
	do {
		pick(c, &p);
		for (size_t i = 0; i < p.n; i++) {
			if (!smaps_budget_left(&b))
				goto out;
			smaps_budget_spend(&b, read_one(c, p.item[i]));
		}
	} while (p.n == SMAPS_PICK_MAX);
out:
	c->j->smaps_reads += b.reads;
	c->j->smaps_usec += b.spent_usec;
}
