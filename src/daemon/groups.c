/* The groups' side of a tick (see groups.h).
 *
 * Why apart from the monitor: what a group is judged on is a sum over
 * processes that the monitor samples one at a time, so the monitor hands
 * each sample here (groups_add) and, once all are in, the groups are fed
 * and report (groups_tick); the verdicts themselves are pure
 * (core/group_judge.c).  The records are per watch, in the judged set
 * (struct judged's groups), made for the configuration in force and kept
 * over a reload by name and window.
 *
 * The unit a group's restart-unit restarts: the watch's `unit:`, else the
 * one system unit all its live processes are in, read from their
 * /proc/PID/cgroup (a live thread's for an exited leader) only when the
 * actor needs it for an event (not for a retry that the gate still
 * withholds); a process found replaced after the read (another start
 * time) does not count.  None, several, or a user's service manager: the
 * action fails, saying which.  The cost: one cgroup read per process of
 * the group per action event, and those are rare. */
#include "daemon/groups.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/cgroup_unit.h"
#include "io/actor.h"

void groups_add(struct judged *j, const struct watched *w, const double v[GROUP_METRICS], unsigned unreadable)
{
	if (j->groups && w->watch < j->cfg->n_watches && j->groups[w->watch])
		group_add(j->groups[w->watch], v, unreadable);
}

static void emit(const struct group_io *io, struct event *e)
{
	event_describe(e);
	if (io->emit)
		io->emit(io->emit_ctx, e);
}

/* A leak or limit episode of g's metric starts. */
static void report(const struct group_io *io, const struct watch *wc, const struct group_record *g,
		   enum event_type t, int metric)
{
	struct event ev;

	event_init(&ev, t, io->ts_usec);
	event_about_group(&ev, wc->name, g->processes);
	judge_event_fields(&ev, metric, &g->m[metric]);
	emit(io, &ev);
}

/* One process's system unit into u: 0, or -errno (-ESRCH: gone or
 * replaced since it was judged). */
static int unit_of(const struct group_io *io, const struct watched *w, struct cgroup_unit *u)
{
	struct proc_stat st;
	char dir[48];
	int e;

	snprintf(dir, sizeof(dir), "%d", (int)w->pid);
	if (proc_read_stat(io->root, w->pid, &st, NULL) == 0)
		proc_live_dir(io->root, w->pid, &st, dir, sizeof(dir));
	e = proc_read_unit(io->root, dir, u);
	/* checked after the read: the cgroup read was the judged process's */
	if (proc_read_stat(io->root, w->pid, &st, NULL) < 0 || st.start_ticks != w->start_ticks)
		return -ESRCH;
	return e;
}

/* What the actor asks a group's unit of: watch idx's processes. */
struct unit_lookup {
	const struct judged *j;
	const struct group_io *io;
	size_t idx;
};

/* The one unit the live processes of the watch are in, into unit: 0, or
 * -ENOENT (none, or several, or a user's manager) and why into why. */
static int group_unit(void *ctx, char *unit, size_t len, char *why, size_t why_len)
{
	const struct unit_lookup *l = ctx;
	unsigned live = 0, bare = 0;
	char one[CGROUP_UNIT_MAX] = "";

	for (const struct watched *w = l->j->watched; w; w = w->next) {
		struct cgroup_unit u;
		int e;

		if (w->watch != l->idx || (e = unit_of(l->io, w, &u)) == -ESRCH)
			continue;
		live++;
		if (e < 0) {
			bare++;
		} else if (!one[0]) {
			memcpy(one, u.system, sizeof(u.system));
		} else if (strcmp(one, u.system) != 0) {
			snprintf(why, why_len, "its processes are in several units (%.100s, %.100s, ...): "
				 "name the one to restart with 'unit:'", one, u.system);
			return -ENOENT;
		}
	}
	if (!live)
		snprintf(why, why_len, "none of its processes is there any more to tell its unit: name the "
			 "one to restart with 'unit:'");
	else if (bare)
		snprintf(why, why_len, "%u of its %u live processes %s in no systemd unit: name the one to "
			 "restart with 'unit:'", bare, live, bare == 1 ? "is" : "are");
	else if (cgroup_unit_is_user_manager(one))
		snprintf(why, why_len, "its processes are in %.200s, a user's service manager: refused, as "
			 "restarting it would stop every service of that user", one);
	else if (strlen(one) >= len)
		snprintf(why, why_len, "its unit's name is too long");
	else
		return snprintf(unit, len, "%s", one) < 0 ? -EIO : 0;
	return -ENOENT;
}

/* Ask for the pending or withheld action of group g (watch idx); the
 * unit is looked up only if the actor needs it. */
static void act(const struct judged *j, const struct group_io *io, size_t idx, struct group_record *g)
{
	const struct watch *wc = &j->cfg->watches[idx];
	struct unit_lookup l = { j, io, idx };
	struct act_request req = {
		.watch = wc, .why = g->retry.why, .metric = g->retry.metric, .value = g->m[g->retry.metric].value,
		.procfd = -1, .retry = !g->retry.fresh, .group = true, .processes = g->processes,
		.group_unit = group_unit, .group_ctx = &l,
	};

	if (group_action(wc, g->retry.why) == ACTION_ALERT || !io->act) {
		group_acted(g, false);
		return;
	}
	group_acted(g, io->act(io->act_ctx, &req) == -EAGAIN);
}

void groups_tick(struct judged *j, const struct group_io *io)
{
	if (!j->groups) {
		group_set_build(&j->groups, j->cfg, NULL, NULL);   /* fresh: sums at 0 */
		return;
	}
	for (size_t i = 0; i < j->cfg->n_watches; i++) {
		struct group_record *g = j->groups[i];
		unsigned ev[GROUP_METRICS];

		if (!g || !group_feed(g, &j->cfg->watches[i], j->now_ms, ev))
			continue;
		for (int k = 0; k < GROUP_METRICS; k++) {
			if (ev[k] & DETECT_LIMIT)
				report(io, &j->cfg->watches[i], g, EVENT_LIMIT, k);
			if (ev[k] & DETECT_LEAK)
				report(io, &j->cfg->watches[i], g, EVENT_LEAK, k);
		}
	}
	for (size_t i = 0; i < j->cfg->n_watches; i++)
		if (j->groups[i] && group_retry(j->groups[i]))
			act(j, io, i, j->groups[i]);
	for (size_t i = 0; i < j->cfg->n_watches; i++)
		if (j->groups[i])
			group_begin(j->groups[i]);
}

void groups_reconfigure(struct judged *j, const struct config *old)
{
	struct group_record **v;

	if (!j->groups)
		return;   /* made at the next tick */
	if (group_set_build(&v, j->cfg, j->groups, old) < 0) {
		group_set_free(j->groups, old->n_watches);
		v = NULL;
	}
	j->groups = v;
}

void groups_free(struct judged *j)
{
	if (j->groups && j->cfg)
		group_set_free(j->groups, j->cfg->n_watches);
	j->groups = NULL;
}
