/* The watched processes: sampling, verdicts, events and actions.  Which
 * processes are watched is discovery's business (discover.c). */
#include "daemon/monitor.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/actor.h"
#include "os/clock.h"
#include "core/detect.h"
#include "daemon/discover.h"
#include "core/state_codec.h"
#include "core/units.h"

void monitor_event_init(struct monitor *m, struct event *e, enum event_type t, const struct watched *w)
{
	/* stamped when it happens: a scan of thousands of new pids takes a
	 * while, and a process found late in it must not seem found early */
	event_init(e, t, m->wall_usec + (clock_usec(CLOCK_MONOTONIC) - m->tick_mono_usec));
	if (w) {
		struct subject s = { m->cfg->watches[w->watch].name, w->pid, w->comm };

		event_about(e, &s);
	}
}

void monitor_emit(struct monitor *m, struct event *e)
{
	event_describe(e);
	if (m->emit)
		m->emit(m->emit_ctx, e);
}

void monitor_unwatch(struct monitor *m, struct watched *w, bool report)
{
	struct watched **pp;

	if (report) {
		struct event ev;

		monitor_event_init(m, &ev, EVENT_GONE, w);
		monitor_emit(m, &ev);
	}
	for (pp = &m->watched; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	proc_close(&w->h);
	free(w->incident);
	free(w);
	m->n_watched--;
}

/* Continue a saved history of this very process, when there is one. */
static bool restore(struct monitor *m, struct watched *w)
{
	const struct watch *wc = &m->cfg->watches[w->watch];

	for (struct saved_proc **pp = &m->restore; *pp; pp = &(*pp)->next) {
		struct saved_proc *p = *pp;

		if (p->pid != w->pid || p->start_ticks != w->start_ticks)
			continue;
		*pp = p->next;
		if (strcmp(p->watch, wc->name) == 0 && p->window_ms == wc->window_ms &&
		    p->tl.head >= 0) {
			w->tl = p->tl;
			memcpy(w->m, p->m, sizeof(w->m));
			/* a metric saved while it could not be read holds -1s */
			for (int i = 0; i < METRIC_COUNT; i++)
				if (w->m[i].value < 0)
					w->unreadable |= 1u << i;
			m->n_restored++;
			saved_proc_free(p);
			return true;
		}
		saved_proc_free(p);
		return false;
	}
	return false;
}

void monitor_watch(struct monitor *m, struct pid_entry *e, size_t idx)
{
	const struct watch *wc = &m->cfg->watches[idx];
	struct watched *w = calloc(1, sizeof(*w));
	struct event ev;

	if (!w)
		return;
	w->pid = e->info.pid;
	w->start_ticks = e->info.start_ticks;
	w->start_ms = e->start_ms;
	w->watch = idx;
	w->retry_metric = -1;
	memcpy(w->comm, e->info.comm, sizeof(w->comm));
	if (proc_open(&m->root, w->pid, w->start_ticks, &w->h) < 0) {
		free(w);      /* gone already */
		return;
	}
	timeline_init(&w->tl, wc->window_ms);
	for (int i = 0; i < METRIC_COUNT; i++)
		metric_state_init(&w->m[i]);
	w->next = m->watched;
	m->watched = w;
	m->n_watched++;
	e->w = w;
	monitor_event_init(m, &ev, EVENT_FOUND, w);
	if (restore(m, w)) {
		uint64_t kept = timeline_span_ms(&w->tl);
		char span[32];

		if (kept > wc->window_ms)
			kept = wc->window_ms;
		format_duration(span, sizeof(span), (double)kept / 1000.0);
		event_say(&ev, "watching, with %s of history kept from before leakwatchd restarted", span);
	}
	monitor_emit(m, &ev);
}

/* A user's name, or "uid N". */
void monitor_user_name(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(out, len, "%s", res->pw_name);
	else
		snprintf(out, len, "uid %u", (unsigned)uid);
}

/* The user a process runs as (its real uid, as `user:` matches), or "?". */
void monitor_owner(struct monitor *m, pid_t pid, char *out, size_t len)
{
	char rel[40], buf[4096];
	uid_t uid;

	snprintf(rel, sizeof(rel), "%d/status", (int)pid);
	if (proc_read_file(&m->root, rel, buf, sizeof(buf)) > 0 && proc_parse_ruid(buf, &uid) == 0)
		monitor_user_name(uid, out, len);
	else
		snprintf(out, len, "?");
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

		monitor_event_init(m, &ev, EVENT_ERROR, w);
		event_say(&ev, "cannot sample: %s; not watched any more", strerror(-err));
		monitor_emit(m, &ev);
		discover_never(m, pid);
		monitor_unwatch(m, w, false);
		return;
	}
	discover_exited(m, pid);
	monitor_unwatch(m, w, true);
	discover_reuse(m, pid, start_ticks);
}

bool monitor_warming(const struct monitor *m, const struct watched *w)
{
	return m->now_ms < w->start_ms + m->cfg->watches[w->watch].warmup_ms;
}

/* Take the watch's action for a leak or limit of w.  A withheld one
 * (cooldown, max_actions) is asked again at every sample while its
 * episode lasts, so every leaking worker is recycled in turn. */
static void act(struct monitor *m, struct watched *w, enum event_type t, int metric, bool retry)
{
	struct act_request req = {
		.watch = &m->cfg->watches[w->watch], .why = t, .metric = metric,
		.value = w->m[metric].value, .pid = w->pid, .start_ticks = w->start_ticks,
		.procfd = w->h.dirfd, .comm = w->comm, .retry = retry, .incident = w->incident,
	};

	if (!m->act)
		return;
	if (m->act(m->act_ctx, &req) == -EAGAIN) {
		w->retry_metric = metric;
		w->retry_why = t;
	} else if (w->retry_metric == metric) {
		w->retry_metric = -1;
	}
}

static void retry_action(struct monitor *m, struct watched *w)
{
	const struct metric_state *s = &w->m[w->retry_metric];

	if (w->retry_why == EVENT_LEAK ? s->leaking : s->in_limit)
		act(m, w, w->retry_why, w->retry_metric, true);
	else
		w->retry_metric = -1;   /* the episode is over */
}

static void report(struct monitor *m, struct watched *w, enum event_type t, int metric)
{
	const struct metric_rule *r = &m->cfg->watches[w->watch].rule[metric];
	const struct metric_state *s = &w->m[metric];
	struct event ev;

	monitor_event_init(m, &ev, t, w);
	ev.metric = metric;
	ev.has_value = true;
	ev.value = s->value;
	if (s->trend.ready) {
		ev.has_slope = true;
		ev.slope_per_hour = s->trend.slope * 3600;
	}
	if (r->has_max) {
		ev.has_limit = true;
		ev.limit = r->max;
	}
	ev.eta_seconds = s->eta;
	if (m->cfg->watches[w->watch].capture && m->capture) {
		char dir[4096];

		if (m->capture(m->capture_ctx, w, t, metric, dir, sizeof(dir)) == 0) {
			free(w->incident);
			w->incident = strdup(dir);
			ev.incident = w->incident;
		}
	}
	monitor_emit(m, &ev);
	act(m, w, t, metric, false);
}

/* The metrics the daemon may read changed (another user's fd directory,
 * closed to us; or opened, after a restart with more privileges).  The
 * history of a metric not read holds -1 placeholders, so that its buckets
 * stay in step with the process's timeline: the history starts again.  A
 * metric that changed starts afresh; the others keep their episodes (a
 * leak or limit reported is not reported again). */
static void restart_history(struct monitor *m, struct watched *w, unsigned unreadable)
{
	const struct watch *wc = &m->cfg->watches[w->watch];
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

/* A metric of w that the daemon may not read: said once for the process. */
static void warn_unreadable(struct monitor *m, struct watched *w, int fds_err)
{
	struct event ev;
	char user[64];

	w->warned |= 1u << METRIC_FDS;
	monitor_owner(m, w->pid, user, sizeof(user));
	monitor_event_init(m, &ev, EVENT_ERROR, w);
	ev.warning = true;
	ev.metric = METRIC_FDS;
	/* before 6.2 the count comes from listing the directory, which
	 * CAP_DAC_READ_SEARCH opens; since, from a stat that needs nothing */
	event_say(&ev, "cannot count its open fds: %s (the process runs as %s, leakwatchd as %s); "
		  "watching its rss and threads only: run leakwatchd as root or with CAP_DAC_READ_SEARCH%s "
		  "to count them", strerror(-fds_err), user, m->self_user,
		  m->root.fd_size ? "" : ", or on Linux 6.2 or later,");
	monitor_emit(m, &ev);
}

static void sample(struct monitor *m)
{
	struct watched *w, *next;

	for (w = m->watched; w; w = next) {
		const struct watch *wc = &m->cfg->watches[w->watch];
		struct proc_sample s;
		bool warming;
		unsigned unreadable;
		int r;
		double v[METRIC_COUNT];
		unsigned ev[METRIC_COUNT];

		next = w->next;
		r = proc_sample(&m->root, &w->h, &s);
		if (r < 0) {
			forget(m, w, r);
			continue;
		}
		m->samples++;
		unreadable = s.fds_err ? 1u << METRIC_FDS : 0;
		if (unreadable != w->unreadable)
			restart_history(m, w, unreadable);
		if (unreadable & ~w->warned)
			warn_unreadable(m, w, s.fds_err);
		warming = monitor_warming(m, w);
		v[METRIC_RSS] = s.rss;
		v[METRIC_FDS] = s.fds;
		v[METRIC_THREADS] = s.threads;
		/* the sample goes into every metric's history before any of it is
		 * reported: a capture shows the whole sample */
		timeline_add(&w->tl, m->now_ms);
		for (int i = 0; i < METRIC_COUNT; i++) {
			if (w->unreadable & (1u << i)) {
				/* a placeholder: nothing is judged on it */
				series_add(&w->m[i].hist, &w->tl, -1);
				w->m[i].value = -1;
				ev[i] = 0;
				continue;
			}
			ev[i] = detect_sample(&w->m[i], &w->tl, &wc->rule[i], warming, m->now_ms, v[i]);
		}
		for (int i = 0; i < METRIC_COUNT; i++) {
			if (ev[i] & DETECT_LIMIT)
				report(m, w, EVENT_LIMIT, i);
			if (ev[i] & DETECT_LEAK)
				report(m, w, EVENT_LEAK, i);
		}
		if (w->retry_metric >= 0)
			retry_action(m, w);
	}
}

int monitor_tick(struct monitor *m, uint64_t now_ms, uint64_t wall_usec)
{
	m->now_ms = now_ms;
	m->wall_usec = wall_usec;
	m->tick_mono_usec = clock_usec(CLOCK_MONOTONIC);
	if (m->gen == 0 || m->rematch || now_ms + SCAN_SLACK_MS >= m->last_scan_ms + SCAN_MIN_MS) {
		uint64_t t0 = clock_usec(CLOCK_MONOTONIC);

		m->last_scan_ms = now_ms;
		discover_run(m);
		m->scan_usec = clock_usec(CLOCK_MONOTONIC) - t0;
		m->scans++;
		/* what the first scan did not claim is gone */
		while (m->restore) {
			struct saved_proc *p = m->restore;

			m->restore = p->next;
			saved_proc_free(p);
		}
	}
	sample(m);
	return 0;
}

int monitor_init(struct monitor *m, const char *proc_path, const struct config *cfg,
		 pid_t self, event_fn emit_fn, void *emit_ctx)
{
	int r;

	memset(m, 0, sizeof(*m));
	m->root.fd = -1;
	m->loadavg_fd = -1;
	m->last_pid = -1;
	m->cfg = cfg;
	m->self = self;
	m->hz = sysconf(_SC_CLK_TCK);
	m->emit = emit_fn;
	m->emit_ctx = emit_ctx;
	monitor_user_name(geteuid(), m->self_user, sizeof(m->self_user));
	r = proc_root_open(&m->root, proc_path);
	if (r < 0)
		return r;
	return discover_init(m);
}

void monitor_restore(struct monitor *m, struct saved_state *s)
{
	struct saved_proc **tail = &m->restore;

	while (*tail)
		tail = &(*tail)->next;
	*tail = s->procs;
	s->procs = NULL;
	s->n = 0;
}

const struct watched *monitor_find(const struct monitor *m, pid_t pid)
{
	for (const struct watched *w = m->watched; w; w = w->next)
		if (w->pid == pid)
			return w;
	return NULL;
}

void monitor_set_config(struct monitor *m, const struct config *cfg)
{
	const struct config *old = m->cfg;
	struct watched *w, *next;

	m->cfg = cfg;
	/* a new configuration: every pid matched again, its undecidable
	 * watches and unreadable pidfiles reported again */
	discover_reconfigure(m);
	for (w = m->watched; w; w = next) {
		const struct watch *ow = &old->watches[w->watch];
		const struct watch *nw = config_find_watch(cfg, ow->name);
		struct pid_entry *e = discover_lookup(m, w->pid);

		next = w->next;
		if (!nw) {
			if (e)
				e->w = NULL;
			monitor_unwatch(m, w, false);
			continue;
		}
		w->watch = (size_t)(nw - cfg->watches);
		if (nw->window_ms != ow->window_ms) {
			timeline_init(&w->tl, nw->window_ms);
			for (int i = 0; i < METRIC_COUNT; i++)
				metric_state_init(&w->m[i]);
		}
	}
}

void monitor_free(struct monitor *m)
{
	while (m->watched)
		monitor_unwatch(m, m->watched, false);
	discover_free(m);
	proc_root_close(&m->root);
	while (m->restore) {
		struct saved_proc *p = m->restore;

		m->restore = p->next;
		saved_proc_free(p);
	}
}
