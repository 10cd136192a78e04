/* The group judge (see group_judge.h).
 *
 * The problem: a pool whose workers are recycled (gunicorn max_requests,
 * celery max-tasks-per-child) can leak in a way no worker lives long
 * enough to show: each one is replaced before a window of its history is
 * there, and what leaks outlives it (in the master, in a cache the next
 * worker loads).  The sum over the pool shows it.  The alternatives fail:
 * a rule on the master alone misses a leak in the workers' shared state;
 * a longer window never fills for a worker that lives 20 s.
 *
 * How: one record per watch with `group:`, judged with the very metric
 * states a process has (core/detect.h), so the window trend and the
 * floors path (core/floors.c: the rising floors of quarter windows, made
 * for the sawtooth of recycled workers) apply as they do to a process.
 * Each metric has its own timeline: a sum is only true when every
 * process's value is in it, so a metric unreadable for any process is not
 * fed that tick, and misses from its own history alone.  The warm-up runs
 * from the group's first sample.  The action is kept pending as a
 * process's is (judge.h), withheld ones asked again while the episode
 * lasts.
 *
 * Costs: per watch with a group, three timelines and metric states
 * (about 3 KiB), allocated with the configuration; per process-sample,
 * three additions; per tick, one detect_sample() per metric of a group. */
#include "core/group_judge.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The group rule's max as the metric state's limit (-1: none). */
static void set_limits(struct group_record *g, const struct watch *wc)
{
	for (int i = 0; i < GROUP_METRICS; i++)
		g->m[i].limit = wc->group && wc->group->rule[i].has_max ? wc->group->rule[i].max : -1;
}

int group_record_init(struct group_record *g, const struct watch *wc)
{
	memset(g, 0, sizeof(*g));
	if (!wc->name || strlen(wc->name) >= sizeof(g->watch))
		return -ENAMETOOLONG;
	memcpy(g->watch, wc->name, strlen(wc->name) + 1);
	g->window_ms = wc->window_ms;
	for (int i = 0; i < GROUP_METRICS; i++) {
		timeline_init(&g->tl[i], wc->window_ms);
		metric_state_init(&g->m[i]);
	}
	set_limits(g, wc);
	action_retry_init(&g->retry);
	return 0;
}

void group_restore(struct group_record *g, const struct watch *wc, const struct timeline tl[GROUP_METRICS],
		   const struct metric_state m[GROUP_METRICS], uint64_t first_ms)
{
	memcpy(g->tl, tl, sizeof(g->tl));
	memcpy(g->m, m, sizeof(g->m));
	set_limits(g, wc);
	memset(&g->acc, 0, sizeof(g->acc));
	g->first_ms = first_ms;
	g->started = true;
	g->processes = 0;
	g->fed = 0;
	action_retry_init(&g->retry);
}

void group_begin(struct group_record *g)
{
	memset(&g->acc, 0, sizeof(g->acc));
}

void group_add(struct group_record *g, const double v[GROUP_METRICS], unsigned unreadable)
{
	for (int i = 0; i < GROUP_METRICS; i++)
		if (!(unreadable & (1u << i)))
			g->acc.v[i] += v[i];
	g->acc.unreadable |= unreadable;
	g->acc.n++;
}

bool group_warming(const struct group_record *g, const struct watch *wc, uint64_t now_ms)
{
	return wc->warmup_ms > 0 && (!g->started || now_ms < g->first_ms + wc->warmup_ms);
}

unsigned group_feed(struct group_record *g, const struct watch *wc, uint64_t now_ms, unsigned ev[GROUP_METRICS])
{
	unsigned fed = 0;
	bool warming;

	memset(ev, 0, GROUP_METRICS * sizeof(ev[0]));
	if (!wc->group || g->acc.n == 0) {
		g->processes = 0;   /* none now: the sums shown are of the last sample */
		g->fed = 0;
		return 0;
	}
	if (!g->started) {
		g->started = true;
		g->first_ms = now_ms;
	}
	warming = group_warming(g, wc, now_ms);
	for (int i = 0; i < GROUP_METRICS; i++) {
		if (!(wc->group->metrics & (1u << i)) || (g->acc.unreadable & (1u << i)))
			continue;
		if (!warming)
			timeline_add(&g->tl[i], now_ms);
		ev[i] = detect_sample(&g->m[i], &g->tl[i], &wc->group->rule[i], warming, now_ms, g->acc.v[i]);
		fed |= 1u << i;
	}
	for (int i = 0; i < GROUP_METRICS; i++) {
		if (ev[i] & DETECT_LIMIT)
			action_retry_pending(&g->retry, EVENT_LIMIT, i);
		if (ev[i] & DETECT_LEAK)
			action_retry_pending(&g->retry, EVENT_LEAK, i);
	}
	g->processes = g->acc.n;
	g->fed = fed;
	return fed;
}

bool group_retry(struct group_record *g)
{
	return action_retry_due(&g->retry, g->retry.metric < 0 ? NULL : &g->m[g->retry.metric]);
}

void group_acted(struct group_record *g, bool withheld)
{
	action_retry_acted(&g->retry, g->retry.why, g->retry.metric, withheld);
}

enum verdict group_verdict(const struct group_record *g, const struct watch *wc, int i, uint64_t now_ms)
{
	if (i < 0 || i >= GROUP_METRICS || !wc->group || !(wc->group->metrics & (1u << i)))
		return VERDICT_WARMING;
	return detect_verdict(&g->m[i], group_warming(g, wc, now_ms));
}

enum action group_action(const struct watch *wc, enum event_type t)
{
	if (!wc->group)
		return ACTION_ALERT;
	return t == EVENT_LIMIT ? wc->group->on_limit : wc->group->on_leak;
}

/* The slot of old (of old_cfg) whose record watch nw keeps, as it keeps
 * its name and window; -1 when none. */
static ptrdiff_t kept_slot(struct group_record *const *old, const struct config *old_cfg, const struct watch *nw)
{
	for (size_t i = 0; old && old_cfg && i < old_cfg->n_watches; i++)
		if (old[i] && strcmp(old[i]->watch, nw->name) == 0)
			return old[i]->window_ms == nw->window_ms ? (ptrdiff_t)i : -1;
	return -1;
}

int group_set_build(struct group_record ***out, const struct config *cfg, struct group_record **old,
		    const struct config *old_cfg)
{
	struct group_record **v = calloc(cfg->n_watches ? cfg->n_watches : 1, sizeof(*v));
	bool *fresh = calloc(cfg->n_watches ? cfg->n_watches : 1, sizeof(*fresh));
	int r = -ENOMEM;

	*out = NULL;
	if (!v || !fresh)
		goto fail;
	/* allocate every new record first: a failure leaves old untouched */
	for (size_t i = 0; i < cfg->n_watches; i++) {
		const struct watch *wc = &cfg->watches[i];

		if (!wc->group || kept_slot(old, old_cfg, wc) >= 0)
			continue;
		v[i] = malloc(sizeof(*v[i]));
		if (!v[i])
			goto fail;
		fresh[i] = true;
		r = group_record_init(v[i], wc);
		if (r < 0)
			goto fail;
	}
	for (size_t i = 0; i < cfg->n_watches; i++)
		if (cfg->watches[i].group && !fresh[i]) {
			ptrdiff_t k = kept_slot(old, old_cfg, &cfg->watches[i]);

			v[i] = old[k];   /* taken out of old */
			old[k] = NULL;
			set_limits(v[i], &cfg->watches[i]);
		}
	group_set_free(old, old_cfg ? old_cfg->n_watches : 0);
	free(fresh);
	*out = v;
	return 0;
fail:
	for (size_t i = 0; v && fresh && i < cfg->n_watches; i++)
		if (fresh[i])
			free(v[i]);
	free(v);
	free(fresh);
	return r;
}

void group_set_free(struct group_record **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}
