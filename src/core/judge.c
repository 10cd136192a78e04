/* The judge (see judge.h): what one sample of a watched process means.
 *
 * A sample's three values go into one timeline (when) and three series
 * (what), then into the metric states (detect.c), which say which episode
 * starts.  Two things come before: a metric the daemon may not read (fds
 * of another user's process) holds -1 placeholders so that its buckets
 * stay in step with the timeline, and when the readable set changes the
 * history starts again (restart_history); and the sample is wholly in
 * before anything is reported, so that a capture shows all of it.  Once a
 * tick's processes are judged, judge_pending_list() orders the actions
 * they ask for, most urgent first (a sort of those with one: rare).  Pure:
 * the caller reads /proc and emits.
 *
 * uss and pss (smaps_rollup) are judged apart, by judge_sparse_sample(),
 * when the caller has read them (less often than the rest: a walk of the
 * page tables), on a timeline of their own (struct sparse_metrics), and
 * their states exist only for a watch with a rule for one: a state is
 * about 1.2 KB, and a pre-fork server's workers need them where a
 * thousand other processes would not.  Every reader of the states goes
 * through watched_metric(), which says which a process keeps. */
#include "core/judge.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The max of rule r for a process whose own limit is own (< 0: none, or
 * not known): the rule's; N% of own, floored, for rss not above N% of
 * MemTotal (r->max), which it is without own; -1: none. */
static double limit_of(const struct metric_rule *r, int metric, double own, bool *of_own)
{
	double x;

	*of_own = false;
	if (!r->has_max)
		return -1;
	if (r->max_percent <= 0)
		return r->max;
	if (own < 0)
		return metric_is_memory(metric) ? r->max : -1;
	x = floor(own * r->max_percent / 100);
	if (metric_is_memory(metric) && x >= r->max)
		return r->max;
	*of_own = true;
	return x;
}

struct metric_state *watched_metric(const struct watched *w, int i)
{
	if (i < 0 || i >= METRIC_COUNT)
		return NULL;
	if (i < METRIC_INLINE)
		return (struct metric_state *)&w->m[i];
	return w->sparse ? &w->sparse->m[i - METRIC_INLINE] : NULL;
}

const struct timeline *watched_timeline(const struct watched *w, int i)
{
	if (i < 0 || i >= METRIC_COUNT)
		return NULL;
	if (i < METRIC_INLINE)
		return &w->tl;
	return w->sparse ? &w->sparse->tl : NULL;
}

unsigned watched_metrics(const struct watched *w)
{
	return ((1u << METRIC_INLINE) - 1) | (w->sparse ? METRIC_SPARSE_MASK : 0);
}

bool judge_wants_sparse(const struct watch *wc)
{
	for (int i = METRIC_INLINE; i < METRIC_COUNT; i++)
		if (wc->rule[i].has_max || wc->rule[i].growth > 0 || wc->rule[i].predict > 0)
			return true;
	return false;
}

/* Fresh uss/pss states over wc's window. */
static void sparse_fresh(struct sparse_metrics *sp, const struct watch *wc)
{
	timeline_init(&sp->tl, wc->window_ms);
	for (int i = 0; i < METRIC_SPARSE; i++)
		metric_state_init(&sp->m[i]);
}

int judge_sparse_sync(struct watched *w, const struct watch *wc)
{
	if (!judge_wants_sparse(wc)) {
		free(w->sparse);
		w->sparse = NULL;
		w->unreadable &= ~METRIC_SPARSE_MASK;
		return 0;
	}
	if (w->sparse)
		return 0;
	w->sparse = malloc(sizeof(*w->sparse));
	if (!w->sparse)
		return -ENOMEM;
	sparse_fresh(w->sparse, wc);
	w->sparse->read_ms = 0;
	w->sparse->cost_usec = 0;
	for (int i = METRIC_INLINE; i < METRIC_COUNT; i++) {
		bool of_own;   /* a percentage's own limit: at the caller's next read */

		w->sparse->m[i - METRIC_INLINE].limit = limit_of(&wc->rule[i], i, -1, &of_own);
	}
	return 0;
}

void judge_free(struct watched *w)
{
	if (!w)
		return;
	free(w->sparse);
	w->sparse = NULL;
}

unsigned judge_own_limits(const struct watch *wc)
{
	unsigned want = 0;

	for (int i = 0; i < METRIC_COUNT; i++)
		if (wc->rule[i].has_max && wc->rule[i].max_percent > 0)
			want |= 1u << i;
	return want;
}

bool judge_limits_due(struct watched *w, const struct watch *wc, const struct config *cfg)
{
	uint64_t every = cfg->interval_ms ? JUDGE_LIMITS_REFRESH_MS / cfg->interval_ms : 1;

	if (!judge_own_limits(wc))
		return false;
	if (every < 1)
		every = 1;
	/* each process at its own phase (by pid), so that processes found
	 * together (all of them, at a start) are not all read in one tick */
	w->limits_age = (uint16_t)((w->limits_age + 1u) % every);
	return w->limits_age == (uint64_t)w->pid % every;
}

unsigned judge_limits(struct watched *w, const struct watch *wc, const double own[METRIC_COUNT],
		      const int err[METRIC_COUNT])
{
	unsigned trouble = 0, say;

	for (int i = 0; own && err && i < METRIC_COUNT; i++) {
		if (err[i] == -ESRCH)
			return 0;
		/* rss without its cgroup's limit is of MemTotal: trouble only unread */
		if (metric_is_memory(i) ? err[i] != 0 && err[i] != -ENOTSUP : own[i] < 0)
			trouble |= 1u << i;
	}
	say = trouble & judge_own_limits(wc) & ~(unsigned)w->limits_warned;
	w->limits_own = 0;
	for (int i = 0; i < METRIC_COUNT; i++) {
		struct metric_state *s = watched_metric(w, i);
		bool of_own;

		if (!s)
			continue;
		s->limit = limit_of(&wc->rule[i], i, own ? own[i] : -1, &of_own);
		if (of_own)
			w->limits_own |= (uint8_t)(1u << i);
	}
	w->limits_warned |= (uint8_t)say;
	return say;
}

/* No history yet, over a window of window_ms; the limits of wc, those of
 * a percentage as without the process's own. */
static void fresh_history(struct watched *w, const struct watch *wc)
{
	timeline_init(&w->tl, wc->window_ms);
	for (int i = 0; i < METRIC_INLINE; i++)
		metric_state_init(&w->m[i]);
	if (w->sparse)
		sparse_fresh(w->sparse, wc);
	judge_limits(w, wc, NULL, NULL);
}

void judge_init(struct watched *w, pid_t pid, unsigned long long start_ticks, uint64_t start_ms,
		size_t idx, const char comm[16], const struct watch *wc)
{
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->start_ticks = start_ticks;
	w->start_ms = start_ms;
	w->watch = idx;
	action_retry_init(&w->retry);
	memcpy(w->comm, comm, sizeof(w->comm));
	fresh_history(w, wc);
	(void)judge_sparse_sync(w, wc);   /* without memory: no uss, pss */
}

bool judge_warming(const struct watched *w, const struct watch *wc, uint64_t now_ms)
{
	/* no warm-up: never warming, even for a start time a little ahead of
	 * the clock (the kernel's ticks, rounded) */
	return wc->warmup_ms > 0 && now_ms < w->start_ms + wc->warmup_ms;
}

/* The states of metrics [from, to) of w, their history gone (the caller
 * starts their timeline again): those in changed start afresh, the others
 * keep their episodes (a leak or limit reported is not reported again). */
static void restart_states(struct watched *w, int from, int to, unsigned changed)
{
	for (int i = from; i < to; i++) {
		struct metric_state *s = watched_metric(w, i), kept;

		if (!s)
			continue;
		kept = *s;
		metric_state_init(s);
		s->limit = kept.limit;
		if (changed & (1u << i))
			continue;
		s->value = kept.value;
		s->leaking = kept.leaking;
		s->in_limit = kept.in_limit;
		s->over = kept.over;
		s->under = kept.under;
	}
	if (w->retry.metric >= 0 && (changed & (1u << w->retry.metric)))
		w->retry.metric = -1;
}

/* The sparse metrics' history starts again (their readability changed,
 * or the process's timeline did, whose buckets theirs are on). */
static void restart_sparse(struct watched *w, const struct watch *wc, unsigned changed)
{
	if (!w->sparse || w->sparse->tl.head < 0)
		return;
	timeline_init(&w->sparse->tl, wc->window_ms);
	restart_states(w, METRIC_INLINE, METRIC_COUNT, changed);
}

/* The metrics the daemon may read changed (another user's fd directory,
 * closed to us; or opened, after a restart with more privileges).  The
 * history of a metric not read holds -1 placeholders, so that its buckets
 * stay in step with the process's timeline: the history starts again, and
 * uss's and pss's with it (their buckets are the timeline's). */
static void restart_history(struct watched *w, const struct watch *wc, unsigned unreadable)
{
	unsigned changed = unreadable ^ w->unreadable;

	w->unreadable = unreadable;
	if (w->tl.head < 0)
		return;     /* no history yet */
	timeline_init(&w->tl, wc->window_ms);
	restart_states(w, 0, METRIC_INLINE, changed);
	restart_sparse(w, wc, 0);
}

void judge_sample(struct watched *w, const struct watch *wc, uint64_t now_ms, const double v[METRIC_COUNT],
		  unsigned unreadable, struct verdicts *out)
{
	bool warming;

	memset(out, 0, sizeof(*out));
	unreadable = (unreadable & ~METRIC_SPARSE_MASK) | (w->unreadable & METRIC_SPARSE_MASK);
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
	for (int i = 0; i < METRIC_INLINE; i++) {
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

void judge_sparse_sample(struct watched *w, const struct watch *wc, uint64_t now_ms,
			 const double v[METRIC_SPARSE], bool unreadable, struct verdicts *out)
{
	struct sparse_metrics *sp = w->sparse;
	unsigned bits = unreadable ? METRIC_SPARSE_MASK : 0;
	bool warming;

	memset(out, 0, sizeof(*out));
	if (!sp)
		return;
	sp->read_ms = now_ms ? now_ms : 1;
	if (bits != (w->unreadable & METRIC_SPARSE_MASK)) {
		restart_sparse(w, wc, METRIC_SPARSE_MASK);
		w->unreadable = (w->unreadable & ~METRIC_SPARSE_MASK) | bits;
	}
	out->warn = bits & ~w->warned;
	w->warned |= out->warn;
	if (unreadable) {
		/* no placeholder: this timeline holds only what was read */
		for (int i = 0; i < METRIC_SPARSE; i++)
			sp->m[i].value = -1;
		return;
	}
	warming = judge_warming(w, wc, now_ms);
	if (!warming && w->tl.head < 0)
		return;   /* no bucket of the process's yet to put it on */
	if (!warming)
		timeline_add_on(&sp->tl, &w->tl, now_ms);
	for (int i = 0; i < METRIC_SPARSE; i++)
		out->ev[METRIC_INLINE + i] = detect_sample(&sp->m[i], &sp->tl, &wc->rule[METRIC_INLINE + i],
							   warming, now_ms, v[i]);
}

void judge_acted(struct watched *w, enum event_type t, int metric, bool withheld)
{
	action_retry_acted(&w->retry, t, metric, withheld);
}

bool judge_retry(struct watched *w)
{
	return action_retry_due(&w->retry, w->retry.metric < 0 ? NULL : watched_metric(w, w->retry.metric));
}

void judge_pending(struct watched *w, enum event_type t, int metric)
{
	action_retry_pending(&w->retry, t, metric);
}

/* Urgency of w's pending action: 0 over its limit, 1 with a time to its
 * limit (*eta), 2 without one. */
static int urgency(const struct watched *w, double *eta)
{
	const struct metric_state *s = watched_metric(w, w->retry.metric);

	*eta = 0;
	if (!s)
		return 2;
	if (s->limit >= 0 && s->value > s->limit)
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
	int ua = urgency(a, &ea), ub = urgency(b, &eb);

	(void)cfg;   /* the limits in force are the metric states' */

	if (ua != ub)
		return ua < ub;
	if (ua == 1 && ea != eb)
		return ea < eb;
	return a->pid < b->pid;
}

void judge_reconfigure(struct watched *w, size_t idx, const struct watch *ow, const struct watch *nw)
{
	w->watch = idx;
	(void)judge_sparse_sync(w, nw);   /* gained a uss/pss rule, or lost both */
	if (nw->window_ms != ow->window_ms)
		fresh_history(w, nw);
	else
		judge_limits(w, nw, NULL, NULL);
}

const struct watched *judged_find(const struct judged *j, pid_t pid)
{
	for (const struct watched *w = j->watched; w; w = w->next)
		if (w->pid == pid)
			return w;
	return NULL;
}

void judge_event_fields(struct event *e, int metric, const struct metric_state *s)
{
	e->metric = metric;
	e->has_value = true;
	e->value = s->value;
	if (s->trend.ready) {
		e->has_slope = true;
		e->slope_per_hour = s->trend.slope * 3600;
	}
	if (s->limit >= 0) {
		e->has_limit = true;
		e->limit = s->limit;
	}
	e->eta_seconds = s->eta;
}

bool judged_warming(const struct judged *j, const struct watched *w)
{
	return judge_warming(w, &j->cfg->watches[w->watch], j->now_ms);
}

static int by_urgency(const void *a, const void *b, void *cfg)
{
	const struct watched *x = *(struct watched *const *)a, *y = *(struct watched *const *)b;

	return judge_more_urgent(x, y, cfg) ? -1 : judge_more_urgent(y, x, cfg) ? 1 : 0;
}

size_t judge_pending_list(struct judged *j, struct watched ***v, size_t *cap)
{
	size_t n = 0;

	for (struct watched *w = j->watched; w; w = w->next) {
		if (!judge_retry(w))
			continue;
		if (n == *cap) {
			size_t room = *cap ? 2 * *cap : 16;
			struct watched **p = realloc(*v, room * sizeof(*p));

			if (!p)
				return SIZE_MAX;
			*v = p;
			*cap = room;
		}
		(*v)[n++] = w;
	}
	if (n > 1)
		qsort_r(*v, n, sizeof(**v), by_urgency, (void *)j->cfg);
	return n;
}
