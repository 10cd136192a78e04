/* The monitor: the side effects of one tick (see monitor.h).
 *
 * A tick runs discovery when it is due and applies what it says (opens
 * each found process and starts its record, drops each gone one), then
 * samples every watched process through its kept fds and hands the three
 * values to the judge (core/judge.c), then the smaps_rollup of those due
 * (uss, pss: daemon/monitor_smaps.c), whose verdicts it turns into events
 * and captures as it goes, and into actions once every process is judged,
 * the most urgent first (act_pending: when cooldown lets one through, the
 * process nearest its limit gets it); then the groups' (daemon/groups.c).
 * Why the monitor does not decide: so that the decisions are tested
 * without /proc, and the renderers (status, metrics, state) read the
 * judge's types alone.  The cost is one call into the judge per
 * process-sample and, per found process, a second lookup of its pid in
 * discovery (discovery_claim).  leakwatchctl forget drops a record as an
 * exit does, after a gone event that says why, and has discovery match
 * the pid afresh (monitor_forget). */
#include "daemon/monitor.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/group_judge.h"
#include "core/limit_text.h"
#include "core/state_codec.h"
#include "core/units.h"
#include "core/watch_summary.h"
#include "daemon/groups.h"
#include "daemon/monitor_smaps.h"
#include "io/actor.h"
#include "os/clock.h"
#include "os/users.h"

/* A watched process's title is read again every this many samples, for
 * the status (before its events, always): one read of its cmdline. */
#define TITLE_REFRESH_SAMPLES 64

/* Stamped when it happens: a tick that discovers or samples thousands of
 * processes takes a while, and an event late in it must not seem early. */
static uint64_t stamp(const struct monitor *m)
{
	return m->j.wall_usec + (clock_usec(CLOCK_MONOTONIC) - m->tick_mono_usec);
}

static void event_of(struct monitor *m, struct event *e, enum event_type t, const struct watched *w)
{
	struct subject s = { m->j.cfg->watches[w->watch].name, w->pid, w->comm, w->title };

	event_init(e, t, stamp(m));
	event_about(e, &s);
}

/* Read w's title again (a server sets it after the fork, and may change
 * it): kept as it was when the read fails or finds none (an exited
 * leader's cmdline is empty). */
static void read_title(struct watched *w)
{
	char title[PROC_TITLE_SIZE];

	w->title_age = 0;
	if (proc_read_title(&tracked_of(w)->h, title) > 0)
		memcpy(w->title, title, sizeof(title));
}

static void emit(void *ctx, struct event *e)   /* ctx: the monitor, as smaps_ctx has it */
{
	struct monitor *m = ctx;

	event_describe(e);
	if (m->emit)
		m->emit(m->emit_ctx, e);
}

/* A warning from discovery: stamped and sent on. */
static void on_warning(void *ctx, struct event *e)
{
	struct monitor *m = ctx;

	e->ts_usec = stamp(m);
	emit(m, e);
}

/* Read w's own limits again, for its watch's percentage maxes (none: its
 * limits are the rule's), and say once for each what it lacks.  Kept as
 * they were when the process is gone (its next sample says so). */
static void read_limits(struct monitor *m, struct watched *w)
{
	const struct watch *wc = &m->j.cfg->watches[w->watch];
	struct own_limits ol;
	unsigned say;

	own_limits_read(&m->cgroups, &tracked_of(w)->h, judge_own_limits(wc), &ol);
	say = judge_limits(w, wc, ol.v, ol.err);
	for (int i = 0; i < METRIC_COUNT; i++) {
		struct event ev;

		if (!(say & (1u << i)))
			continue;
		event_of(m, &ev, EVENT_ERROR, w);
		ev.warning = true;
		ev.metric = i;
		limit_text_missing(ev.detail, sizeof(ev.detail), i, &wc->rule[i], ol.err[i]);
		emit(m, &ev);
	}
}

static void unwatch(struct monitor *m, struct watched *w, bool report)
{
	struct tracked *t = tracked_of(w);

	if (report) {
		struct event ev;

		event_of(m, &ev, EVENT_GONE, w);
		emit(m, &ev);
	}
	for (struct watched **pp = &m->j.watched; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	proc_close(&t->h);
	judge_free(w);
	free(w->incident);
	free(w->inspect_note);
	free(t);
	m->j.n_watched--;
}

/* The saved histories not claimed (yet). */
static void drop_saved(struct monitor *m)
{
	while (m->restore) {
		struct saved_proc *p = m->restore;

		m->restore = p->next;
		saved_proc_free(p);
	}
}

/* Continue a saved history of this very process, when there is one. */
static bool restore(struct monitor *m, struct watched *w)
{
	bool kept = saved_claim(&m->restore, w, &m->j.cfg->watches[w->watch]);

	m->n_restored += kept;
	return kept;
}

/* Start watching a process discovery found: 0, or -errno when it is not
 * watched (gone already, or no memory), which discovery is told. */
static int watch(struct monitor *m, const struct discovery_found *f)
{
	const struct watch *wc = &m->j.cfg->watches[f->watch];
	struct tracked *t = calloc(1, sizeof(*t));
	struct watched *w = t ? &t->w : NULL;
	struct event ev;
	int r = -ENOMEM;

	if (!t)
		goto fail;
	judge_init(w, f->pid, f->start_ticks, f->start_ms, f->watch, f->comm, wc);
	r = proc_open(&m->root, w->pid, w->start_ticks, &t->h);
	if (r < 0)
		goto fail;    /* gone already */
	read_title(w);
	r = discovery_claim(&m->disc, w->pid, w);
	if (r < 0) {
		proc_close(&t->h);
		goto fail;
	}
	w->next = m->j.watched;
	m->j.watched = w;
	m->j.n_watched++;
	event_of(m, &ev, EVENT_FOUND, w);
	if (restore(m, w)) {
		uint64_t kept = timeline_span_ms(&w->tl);
		char span[32];

		if (kept > wc->window_ms)
			kept = wc->window_ms;
		format_duration(span, sizeof(span), (double)kept / 1000.0);
		event_say(&ev, "watching, with %s of history kept from before leakwatchd restarted", span);
	}
	emit(m, &ev);
	read_limits(m, w);   /* after restore(): the state saved holds none */
	return 0;
fail:
	free(t);
	discovery_claim(&m->disc, f->pid, NULL);
	return r;
}

/* What discovery found and lost, in the order it did: for one pid taken
 * by a new process, the old one's gone before the new one's found. */
static void apply(struct monitor *m)
{
	const struct discovery_result *r = &m->disc.res;
	size_t g = 0;

	for (size_t i = 0; i < r->n_found; i++) {
		for (; g < r->found[i].gone_before; g++)
			unwatch(m, r->gone[g].owner, true);
		watch(m, &r->found[i]);
	}
	for (; g < r->n_gone; g++)
		unwatch(m, r->gone[g].owner, true);
}

/* A watched process could not be sampled.  Gone (ESRCH): report it and
 * drop its pid entry, so that a process reusing the pid is read afresh
 * (at once, if there is one already).  Anything else (an I/O error, say;
 * a refusal to read the fd directory is not one: the sample goes on
 * without fds): report an error once and never watch that process again. */
static void forget(struct monitor *m, struct watched *w, int err)
{
	unsigned long long start_ticks = w->start_ticks;
	pid_t pid = w->pid;

	if (err != -ESRCH) {
		struct event ev;

		event_of(m, &ev, EVENT_ERROR, w);
		if (err == -E2BIG)
			event_say(&ev, "cannot sample: its main thread has exited, and none of the first %d "
				  "of its other threads lives; not watched any more", PROC_TASKS_MAX);
		else
			event_say(&ev, "cannot sample: %s; not watched any more", strerror(-err));
		emit(m, &ev);
		discovery_never(&m->disc, pid);
		unwatch(m, w, false);
		return;
	}
	discovery_exited(&m->disc, pid);
	unwatch(m, w, true);
	discovery_reuse(&m->disc, m->j.now_ms, pid, start_ticks);
	apply(m);
}

/* Take the watch's action for a leak or limit of w. */
static void act(struct monitor *m, struct watched *w, enum event_type t, int metric, bool retry)
{
	struct act_request req = {
		.watch = &m->j.cfg->watches[w->watch], .why = t, .metric = metric,
		.value = watched_metric(w, metric)->value, .pid = w->pid, .start_ticks = w->start_ticks,
		.procfd = tracked_of(w)->h.dirfd, .comm = w->comm, .title = w->title, .retry = retry, .incident = w->incident,
	};

	if (!m->act)
		return;
	judge_acted(w, t, metric, m->act(m->act_ctx, &req) == -EAGAIN);
}

static void report(void *ctx, struct watched *w, enum event_type t, int metric)   /* ctx: the monitor */
{
	struct monitor *m = ctx;
	const struct watch *wc = &m->j.cfg->watches[w->watch];
	const struct metric_state *s = watched_metric(w, metric);
	char basis[80];
	struct event ev;

	read_title(w);   /* the verdict names the worker as it is titled now */
	event_of(m, &ev, t, w);
	judge_event_fields(&ev, metric, s);
	if (s->limit >= 0) {
		limit_text_basis(basis, sizeof(basis), metric, &wc->rule[metric],
				 (w->limits_own >> metric) & 1u);
		ev.limit_of = basis;
	}
	if ((wc->capture || wc->inspect) && m->capture) {
		char dir[4096];

		if (m->capture(m->capture_ctx, w, &tracked_of(w)->h, t, metric, dir, sizeof(dir)) == 0) {
			free(w->incident);
			w->incident = strdup(dir);
			ev.incident = w->incident;
		}
	}
	emit(m, &ev);
	if (t == EVENT_LEAK && wc->inspect && m->inspect)
		m->inspect(m->inspect_ctx, w, &tracked_of(w)->h, metric);
	judge_pending(w, t, metric);   /* asked once every process is judged */
}

/* A metric of w that the daemon may not read: said once for the process. */
static void warn_unreadable(struct monitor *m, struct watched *w, int fds_err)
{
	struct event ev;
	char user[64];

	user_of_pid(&m->root, w->pid, user, sizeof(user));
	event_of(m, &ev, EVENT_ERROR, w);
	ev.warning = true;
	ev.metric = METRIC_FDS;
	/* before 6.2 the count comes from listing the directory, which
	 * CAP_DAC_READ_SEARCH opens; since, from a stat that needs nothing */
	event_say(&ev, "cannot count its open fds: %s (the process runs as %s, leakwatchd as %s); "
		  "watching its rss and threads only: run leakwatchd as root or with CAP_DAC_READ_SEARCH%s "
		  "to count them", strerror(-fds_err), user, m->self_user,
		  m->root.fd_size ? "" : ", or on Linux 6.2 or later,");
	emit(m, &ev);
}

static void sample(struct monitor *m)
{
	struct watched *w, *next;

	for (w = m->j.watched; w; w = next) {
		const struct watch *wc = &m->j.cfg->watches[w->watch];
		struct proc_sample s;
		struct verdicts v;
		double val[METRIC_COUNT];
		int r;

		next = w->next;
		r = proc_sample(&m->root, &tracked_of(w)->h, &s);
		if (r == -EAGAIN)
			continue;    /* its main thread has exited, and its threads churn: next tick */
		if (r < 0) {
			forget(m, w, r);
			continue;
		}
		m->j.samples++;
		if (++w->title_age >= TITLE_REFRESH_SAMPLES)
			read_title(w);
		if (judge_limits_due(w, wc, m->j.cfg))
			read_limits(m, w);
		val[METRIC_RSS] = s.rss;
		val[METRIC_FDS] = s.fds;
		val[METRIC_THREADS] = s.threads;
		judge_sample(w, wc, m->j.now_ms, val, s.fds_err ? 1u << METRIC_FDS : 0, &v);
		groups_add(&m->j, w, val, w->unreadable);
		if (v.warn & (1u << METRIC_FDS))
			warn_unreadable(m, w, s.fds_err);
		for (int i = 0; i < METRIC_COUNT; i++) {
			if (v.ev[i] & DETECT_LIMIT)
				report(m, w, EVENT_LIMIT, i);
			if (v.ev[i] & DETECT_LEAK)
				report(m, w, EVENT_LEAK, i);
		}
	}
}

static const struct proc_handle *handle_of(const struct watched *w)
{
	return &tracked_of(w)->h;
}

/* uss and pss, of the processes due (daemon/monitor_smaps.c). */
static void smaps(struct monitor *m)
{
	struct smaps_ctx c = { &m->j, &m->root, m->self_user, m->tick_mono_usec, handle_of, report, emit, m };

	monitor_smaps(&c);
}

/* The actions of this tick's verdicts and the ones withheld before, most
 * urgent first (judge_more_urgent): when cooldown or max_actions let one
 * through, it goes to the process over its limit, then to the one closest
 * to it, not to whichever comes first in the list.  The list of them is
 * kept in m->pending and grown as needed; without memory for it, they are
 * asked in list order. */
static void act_pending(struct monitor *m)
{
	size_t n = judge_pending_list(&m->j, &m->pending, &m->pending_cap);

	if (n == SIZE_MAX) {   /* no memory to sort them: in list order */
		for (struct watched *w = m->j.watched; w; w = w->next)
			if (judge_retry(w))
				act(m, w, w->retry.why, w->retry.metric, !w->retry.fresh);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct watched *w = m->pending[i];

		act(m, w, w->retry.why, w->retry.metric, !w->retry.fresh);
	}
}

int monitor_tick(struct monitor *m, uint64_t now_ms, uint64_t wall_usec)
{
	m->j.now_ms = now_ms;
	m->j.wall_usec = wall_usec;
	m->tick_mono_usec = clock_usec(CLOCK_MONOTONIC);
	if (discovery_due(&m->disc, now_ms)) {
		uint64_t t0 = clock_usec(CLOCK_MONOTONIC);

		discovery_scan(&m->disc, now_ms);
		apply(m);
		m->j.scan_usec = clock_usec(CLOCK_MONOTONIC) - t0;
		m->j.scans = m->disc.scans;
		m->j.full_scans = m->disc.full_scans;
		drop_saved(m);   /* what the first scan did not claim is gone */
	}
	sample(m);
	smaps(m);
	act_pending(m);
	groups_tick(&m->j, &(struct group_io){ &m->root, m->emit, m->emit_ctx, m->act, m->act_ctx, stamp(m) });
	return 0;
}

int monitor_init(struct monitor *m, const char *proc_path, const struct config *cfg,
		 pid_t self, event_fn emit_fn, void *emit_ctx)
{
	int r;

	memset(m, 0, sizeof(*m));
	m->root.fd = -1;
	cgroup_roots_none(&m->cgroups);
	m->disc.loadavg_fd = -1;
	m->j.cfg = cfg;
	m->emit = emit_fn;
	m->emit_ctx = emit_ctx;
	user_name(geteuid(), m->self_user, sizeof(m->self_user));
	r = proc_root_open(&m->root, proc_path);
	if (r < 0)
		return r;
	cgroup_roots_open(&m->cgroups, &m->root);   /* none: no cgroup limits */
	return discovery_init(&m->disc, &m->root, cfg, self, m->self_user, on_warning, m);
}

size_t monitor_restore(struct monitor *m, struct saved_state *s)
{
	struct saved_proc **tail = &m->restore;
	size_t groups = 0;

	while (*tail)
		tail = &(*tail)->next;
	*tail = s->procs;
	s->procs = NULL;
	s->n = 0;
	/* the records are made now rather than at the first tick, to take
	 * their history over before it (none made: they start afresh) */
	if (s->groups && (m->j.groups || group_set_build(&m->j.groups, m->j.cfg, NULL, NULL) == 0))
		for (size_t i = 0; i < m->j.cfg->n_watches; i++)
			if (m->j.groups[i])
				groups += saved_group_claim(&s->groups, m->j.groups[i], &m->j.cfg->watches[i]);
	return groups;
}

void monitor_set_config(struct monitor *m, const struct config *cfg)
{
	const struct config *old = m->j.cfg;
	struct watched *w, *next;

	m->j.cfg = cfg;
	/* a new configuration: every pid matched again, its undecidable
	 * watches and unreadable pidfiles reported again */
	discovery_reconfigure(&m->disc, cfg);
	for (w = m->j.watched; w; w = next) {
		const struct watch *ow = &old->watches[w->watch];
		const struct watch *nw = config_find_watch(cfg, ow->name);

		next = w->next;
		if (!nw) {
			discovery_claim(&m->disc, w->pid, NULL);
			unwatch(m, w, false);
			continue;
		}
		judge_reconfigure(w, (size_t)(nw - cfg->watches), ow, nw);
		read_limits(m, w);
	}
	groups_reconfigure(&m->j, old);
}

int monitor_forget(struct monitor *m, pid_t pid)
{
	struct watched *w = (struct watched *)judged_find(&m->j, pid);
	struct event ev;

	if (!w)
		return -ESRCH;
	event_of(m, &ev, EVENT_GONE, w);
	ev.result = "forgotten";
	event_say(&ev, "forgotten (leakwatchctl forget): its history, verdicts and withheld actions are "
		  "dropped; matched afresh at the next discovery");
	emit(m, &ev);
	discovery_rematch(&m->disc, pid);
	unwatch(m, w, false);
	return 0;
}

void monitor_free(struct monitor *m)
{
	while (m->j.watched)
		unwatch(m, m->j.watched, false);
	last_action_free_all(m->j.actions);
	m->j.actions = NULL;
	groups_free(&m->j);
	discovery_free(&m->disc);
	cgroup_roots_close(&m->cgroups);
	proc_root_close(&m->root);
	drop_saved(m);
	free(m->pending);
	m->pending = NULL;
	m->pending_cap = 0;
}
