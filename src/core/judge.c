/* The judge (see judge.h): what one sample of a watched process means.
 *
 * A sample's three values go into one timeline (when) and three series
 * (what), then into the metric states (detect.c), which say which episode
 * starts.  Two things come before: a metric the daemon may not read (fds
 * of another user's process) holds -1 placeholders so that its buckets
 * stay in step with the timeline, and when the readable set changes the
 * history starts again (restart_history); and the sample is wholly in
 * before anything is reported, so that a capture shows all of it.  Pure:
 * the caller reads /proc and emits. */
#include "core/judge.h"

#include <string.h>

/* No history yet, over a window of window_ms. */
static void fresh_history(struct watched *w, uint64_t window_ms)
{
	timeline_init(&w->tl, window_ms);
	for (int i = 0; i < METRIC_COUNT; i++)
		metric_state_init(&w->m[i]);
}

void judge_init(struct watched *w, pid_t pid, unsigned long long start_ticks, uint64_t start_ms,
		size_t idx, const char comm[16], const struct watch *wc)
{
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->start_ticks = start_ticks;
	w->start_ms = start_ms;
	w->watch = idx;
	w->retry_metric = -1;
	memcpy(w->comm, comm, sizeof(w->comm));
	fresh_history(w, wc->window_ms);
}

bool judge_warming(const struct watched *w, const struct watch *wc, uint64_t now_ms)
{
	/* no warm-up: never warming, even for a start time a little ahead of
	 * the clock (the kernel's ticks, rounded) */
	return wc->warmup_ms > 0 && now_ms < w->start_ms + wc->warmup_ms;
}

/* The metrics the daemon may read changed (another user's fd directory,
 * closed to us; or opened, after a restart with more privileges).  The
 * history of a metric not read holds -1 placeholders, so that its buckets
 * stay in step with the process's timeline: the history starts again.  A
 * metric that changed starts afresh; the others keep their episodes (a
 * leak or limit reported is not reported again). */
static void restart_history(struct watched *w, const struct watch *wc, unsigned unreadable)
{
	unsigned changed = unreadable ^ w->unreadable;

	w->unreadable = unreadable;
	if (w->tl.head < 0)
		return;     /* no history yet */
	timeline_init(&w->tl, wc->window_ms);
	for (int i = 0; i < METRIC_COUNT; i++) {
		struct metric_state *s = &w->m[i], kept = *s;

		metric_state_init(s);
		if (changed & (1u << i))
			continue;
		s->value = kept.value;
		s->leaking = kept.leaking;
		s->in_limit = kept.in_limit;
		s->over = kept.over;
		s->under = kept.under;
	}
	if (w->retry_metric >= 0 && (changed & (1u << w->retry_metric)))
		w->retry_metric = -1;
}

void judge_sample(struct watched *w, const struct watch *wc, uint64_t now_ms, const double v[METRIC_COUNT],
		  unsigned unreadable, struct verdicts *out)
{
	bool warming;

	if (unreadable != w->unreadable)
		restart_history(w, wc, unreadable);
	/* said once for the process */
	out->warn = unreadable & ~w->warned;
	w->warned |= out->warn;
	warming = judge_warming(w, wc, now_ms);
	/* the sample goes into every metric's history before any of it is
	 * reported: a capture shows the whole sample; a sample of the warm-up
	 * is no history, only a value to hold against the limits */
	if (!warming)
		timeline_add(&w->tl, now_ms);
	for (int i = 0; i < METRIC_COUNT; i++) {
		if (w->unreadable & (1u << i)) {
			/* a placeholder: nothing is judged on it */
			if (!warming)
				series_add(&w->m[i].hist, &w->tl, -1);
			w->m[i].value = -1;
			out->ev[i] = 0;
			continue;
		}
		out->ev[i] = detect_sample(&w->m[i], &w->tl, &wc->rule[i], warming, now_ms, v[i]);
	}
}

void judge_acted(struct watched *w, enum event_type t, int metric, bool withheld)
{
	w->retry_fresh = false;
	if (withheld) {
		w->retry_metric = metric;
		w->retry_why = t;
	} else if (w->retry_metric == metric) {
		w->retry_metric = -1;
	}
}

bool judge_retry(struct watched *w)
{
	const struct metric_state *s;

	if (w->retry_metric < 0)
		return false;
	s = &w->m[w->retry_metric];
	if (w->retry_why == EVENT_LEAK ? s->leaking : s->in_limit)
		return true;
	w->retry_metric = -1;   /* the episode is over */
	return false;
}

void judge_pending(struct watched *w, enum event_type t, int metric)
{
	if (w->retry_fresh && !(t == EVENT_LIMIT && w->retry_why == EVENT_LEAK))
		return;   /* one a tick: a limit before a leak, else the first metric's */
	w->retry_metric = metric;
	w->retry_why = t;
	w->retry_fresh = true;
}

/* Urgency of w's pending action: 0 over its limit, 1 with a time to its
 * limit (*eta), 2 without one. */
static int urgency(const struct watched *w, const struct config *cfg, double *eta)
{
	const struct metric_state *s = &w->m[w->retry_metric];
	const struct metric_rule *r = &cfg->watches[w->watch].rule[w->retry_metric];

	*eta = 0;
	if (r->has_max && s->value > r->max)
		return 0;
	if (s->eta >= 0) {
		*eta = s->eta;
		return 1;
	}
	return 2;
}

bool judge_more_urgent(const struct watched *a, const struct watched *b, const struct config *cfg)
{
	double ea, eb;
	int ua = urgency(a, cfg, &ea), ub = urgency(b, cfg, &eb);

	if (ua != ub)
		return ua < ub;
	if (ua == 1 && ea != eb)
		return ea < eb;
	return a->pid < b->pid;
}

void judge_reconfigure(struct watched *w, size_t idx, const struct watch *ow, const struct watch *nw)
{
	w->watch = idx;
	if (nw->window_ms != ow->window_ms)
		fresh_history(w, nw->window_ms);
}

const struct watched *judged_find(const struct judged *j, pid_t pid)
{
	for (const struct watched *w = j->watched; w; w = w->next)
		if (w->pid == pid)
			return w;
	return NULL;
}

bool judged_warming(const struct judged *j, const struct watched *w)
{
	return judge_warming(w, &j->cfg->watches[w->watch], j->now_ms);
}
