/* The judge: one watched process's record (its identity, timeline, metric
 * states and the state of its withheld action) and the verdicts one sample
 * gives; and the judged set (struct judged), the view of every watched
 * process that the renderers read (status_report.c, prometheus.c,
 * state_codec.c).
 *
 * Why here, apart from the monitor: what a sample means (which history
 * starts again, which events are due, whether a withheld action is asked
 * again, whether the process is warming up) is pure, and so is what the
 * status, the metrics and the state file show; the monitor
 * (daemon/monitor.c) only reads /proc, calls discovery, emits the events
 * and takes the actions.  Had the renderers read the monitor itself, the
 * core library would need the daemon to link (monitor_find(),
 * monitor_warming()), and a test of a verdict would need a /proc tree.
 * The kept /proc descriptors are not here: they are os/'s, and the monitor
 * keeps them beside the record (struct tracked, daemon/monitor.h).
 *
 * Costs: the monitor keeps a struct judged inside it, so the view is
 * always current and costs no copy per tick; the discovery counters it
 * shows are copied once per discovery.  judge_sample() is one call per
 * process-sample, doing what sample() did inline. */
#ifndef LEAKWATCH_JUDGE_H
#define LEAKWATCH_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/action_retry.h"
#include "core/config.h"
#include "core/detect.h"
#include "core/event.h"
#include "core/group_judge.h"
#include "core/proc_title.h"

/* The metrics of smaps_rollup (uss, pss: METRIC_INLINE on), kept only for
 * a process whose watch has a rule for one of them: one allocation,
 * freed with the record (judge_free) or when a reload drops both rules.
 * They are read less often than the others (core/smaps_sched.h), so they
 * have a timeline of their own, on the buckets of the process's (the same
 * width and origin: bucket k is the same span of time in both), whose
 * counts say which buckets hold one of their samples.  A bucket the
 * process's timeline has samples in may hold none of these: the trend fit
 * and the readers skip a bucket with n == 0 (trend.c's scan_buckets,
 * history_bucket()), and a fit is not ready while a quarter of the window
 * holds none; the floors (floors.c) record only a quarter whose every
 * bucket holds one, as after a gap in the process's samples, so their
 * slow-leak line needs a read in every bucket: the period gives about
 * four, unless the tick's budget holds the reads back longer than a
 * bucket (many large processes), when only the window's fit judges. */
struct sparse_metrics {
	struct timeline tl;
	uint64_t read_ms;          /* boot-time ms of the last read of smaps_rollup; 0: never */
	uint32_t cost_usec;        /* what that read took (core/smaps_sched.h); 0: none yet */
	struct metric_state m[METRIC_SPARSE];
};

struct watched {
	struct watched *next;
	struct sparse_metrics *sparse; /* NULL: the watch judges neither uss nor pss */
	pid_t pid;
	uint16_t title_age;        /* samples since the title (below) was read; here, in */
	uint16_t limits_age;       /* the pid's padding, they cost no bytes; limits_age: its
				    * samples modulo the period its own limits are read at
				    * (judge_limits_due) */
	unsigned long long start_ticks;
	uint64_t start_ms;         /* when the process started, boot-time ms */
	size_t watch;              /* index into the config's watches */
	char comm[16];
	char title[PROC_TITLE_SIZE]; /* its title (core/proc_title.h), as last read; "" none */
	uint8_t limits_own;        /* metrics (1u << METRIC_*) whose limit is a percentage
				    * of the process's own, as last read (judge_limits) */
	uint8_t limits_warned;     /* metrics whose missing own limit was reported (once) */
	struct timeline tl;        /* when its samples were taken, for all metrics */
	struct metric_state m[METRIC_INLINE];   /* rss, fds, threads; the others: sparse */
	struct action_retry retry; /* its action pending or withheld (core/action_retry.h) */
	unsigned unreadable;       /* metrics (1u << METRIC_*) the daemon may not read, as of
				    * the last sample: their history holds -1 placeholders */
	unsigned warned;           /* metrics whose unreadability was reported (once a process) */
	char *incident;            /* the newest diagnostics captured (capture: true), or NULL */
	char inspect_state[8];     /* the last inspection: "running", "ok", "failed"; "" none */
	char *inspect_note;        /* its summary, or why it failed; NULL none */
};

/* What the renderers read: the config, the watched processes, the clocks
 * of the current tick and the daemon's counters. */
struct last_action;

struct judged {
	const struct config *cfg;
	struct watched *watched;
	size_t n_watched;
	uint64_t now_ms;           /* boot-time ms of the current tick */
	uint64_t wall_usec;        /* wall clock of the current tick */
	uint64_t samples;          /* process-samples taken, in all */
	uint64_t scans;            /* discovery passes, in all */
	uint64_t full_scans;       /* of them, full reads of /proc's directory */
	uint64_t scan_usec;        /* duration of the last discovery */
	uint64_t smaps_reads;      /* reads of smaps_rollup (uss, pss), in all */
	uint64_t smaps_usec;       /* the time they took, in all (CLOCK_MONOTONIC) */
	struct last_action *actions; /* each watch's newest action event (core/watch_summary.h) */
	struct group_record **groups;/* per watch of cfg: its group's record, NULL without
				      * `group:` (core/group_judge.h); NULL: none yet */
};

/* Metric i's state in w, NULL when w keeps none (uss, pss without a rule
 * for either in its watch; i out of range).  Non-const from a const w,
 * like strchr(3): the judge's callers change it, the renderers do not. */
struct metric_state *watched_metric(const struct watched *w, int i);

/* The timeline metric i's series of w lies on (the process's, or the
 * sparse metrics' own), NULL when w keeps no state for i.  Its bucket k
 * is the process timeline's bucket k. */
const struct timeline *watched_timeline(const struct watched *w, int i);

/* The metrics w keeps a state for, 1u << METRIC_*. */
unsigned watched_metrics(const struct watched *w);

/* Does watch wc judge uss or pss (a rule with max, growth or predict)? */
bool judge_wants_sparse(const struct watch *wc);

/* Give w the uss/pss states when wc judges one and w has none (fresh,
 * their limits wc's), or drop them when it judges neither: 0, or -ENOMEM
 * (w goes on without them). */
int judge_sparse_sync(struct watched *w, const struct watch *wc);

/* What judge_init and judge_sparse_sync allocated (w itself is the
 * caller's); accepts NULL. */
void judge_free(struct watched *w);

/* What one sample asks the caller to do, in this order: say that the
 * metrics in warn cannot be read (once a process), then per metric report
 * a limit (DETECT_LIMIT in ev[i]) and a leak (DETECT_LEAK), their actions
 * kept pending (judge_pending); once every process is sampled, ask for the
 * pending and withheld actions (judge_retry) most urgent first. */
struct verdicts {
	unsigned warn;
	unsigned ev[METRIC_COUNT];
};

/* A new record for a process matched by watch number idx (wc), with an
 * empty history. */
void judge_init(struct watched *w, pid_t pid, unsigned long long start_ticks, uint64_t start_ms,
		size_t idx, const char comm[16], const struct watch *wc);

/* Whether w is in its watch's warm-up at now_ms (no trend verdicts). */
bool judge_warming(const struct watched *w, const struct watch *wc, uint64_t now_ms);

/* Feed one sample (rss bytes, fds, threads: v[0..METRIC_INLINE); unreadable:
 * the metrics, 1u << METRIC_*, that could not be read) taken at now_ms into w's
 * history and metric states, and say what it calls for in *out (its
 * ev[] for uss and pss 0: judge_sparse_sample()). */
void judge_sample(struct watched *w, const struct watch *wc, uint64_t now_ms, const double v[METRIC_COUNT],
		  unsigned unreadable, struct verdicts *out);

/* Feed one read of smaps_rollup (v[0] uss, v[1] pss, bytes; unreadable:
 * it could not be read: EACCES) taken at now_ms into w's sparse states, on
 * their own timeline; out as judge_sample's (out->ev[METRIC_USS], ...).
 * Nothing when w keeps none.  A tick that does not read them feeds
 * nothing: no zero, no placeholder. */
void judge_sparse_sample(struct watched *w, const struct watch *wc, uint64_t now_ms,
			 const double v[METRIC_SPARSE], bool unreadable, struct verdicts *out);

/* The process's own limits, which a percentage max (`max: 90%`) is of:
 * read every this long while it is watched (a process may raise or lower
 * its RLIMIT_NOFILE; an operator may change it, or its unit's limits). */
#define JUDGE_LIMITS_REFRESH_MS 60000u

/* The metrics (1u << METRIC_*) whose max in wc is a percentage of the
 * process's own limit: those the caller must read for it. */
unsigned judge_own_limits(const struct watch *wc);

/* Whether w's own limits are to be read again at this sample: every
 * JUDGE_LIMITS_REFRESH_MS at cfg's interval, the first time within that
 * (at a phase of its own, by pid); counts the samples.  Always false for
 * a watch without a percentage max. */
bool judge_limits_due(struct watched *w, const struct watch *wc, const struct config *cfg);

/* The process's own limits, as just read (own[i]: for fds its soft
 * RLIMIT_NOFILE, for threads the lowest pids.max and for rss the lowest
 * memory.max of its cgroup and those above; < 0: none, or not read; err[i]
 * as os/own_limits.h has it: 0 read, -ENOTSUP no hierarchy has the
 * controller, -ESRCH the process is gone, else -errno of the read; own
 * and err NULL: nothing known yet), applied to wc's percentage maxes:
 * w->m[i].limit is floor(N% of own[i]), for rss at most N% of MemTotal,
 * which it is without own[i]; fds and threads have no limit then.  Every
 * other max is the rule's.  With -ESRCH for any, nothing changes.  Returns
 * the metrics whose percentage max has no limit to be of (fds, threads),
 * or whose limit could not be read (rss, which then is of MemTotal),
 * not reported for w before: to be said once, now. */
unsigned judge_limits(struct watched *w, const struct watch *wc, const double own[METRIC_COUNT],
		      const int err[METRIC_COUNT]);

/* The action for (t, metric) was taken (withheld false), or withheld
 * (cooldown, max_actions: asked again at every sample while its episode
 * lasts, so every leaking worker is recycled in turn). */
void judge_acted(struct watched *w, enum event_type t, int metric, bool withheld);

/* After the sample's reports: whether the withheld action (w->retry.why
 * for w->retry.metric) is to be asked again; false, and forgotten, once
 * its episode is over. */
bool judge_retry(struct watched *w);

/* A verdict of this tick asks for its action (type t, for metric): kept
 * pending, like a withheld one, until the caller has judged every process
 * and asks in order of urgency (judge_more_urgent).  One action a tick
 * for a process: a limit's before a leak's, else the first metric's. */
void judge_pending(struct watched *w, enum event_type t, int metric);

/* Is a's pending action more urgent than b's?  Over its limit first (the
 * metric's value above its max), then the shortest time to its limit
 * (eta), then one without a limit to reach; ties: the lower pid. */
bool judge_more_urgent(const struct watched *a, const struct watched *b, const struct config *cfg);

/* The watched processes of j whose pending or withheld action is to be
 * asked now (judge_retry, which also forgets an episode that is over),
 * most urgent first (judge_more_urgent), into *v (grown as needed, *cap
 * its room; the caller frees it): their number, or SIZE_MAX without
 * memory for the list (then the caller asks judge_retry() itself, in list
 * order; the processes seen so far were asked already, which judge_retry
 * answers the same way twice). */
size_t judge_pending_list(struct judged *j, struct watched ***v, size_t *cap);

/* A new config: w now belongs to watch nw (number idx), was ow.  Its
 * history is reset only when the window changed.  Its limits are nw's,
 * those of a percentage not known until judge_limits() (the caller reads
 * the process's own again). */
void judge_reconfigure(struct watched *w, size_t idx, const struct watch *ow, const struct watch *nw);

/* A leak or limit event's fields from the state s of its metric (a
 * process's or a group's): the metric, the latest value, the slope per
 * hour once the trend is ready, the limit in force, the eta. */
void judge_event_fields(struct event *e, int metric, const struct metric_state *s);

/* The watched process with this pid, or NULL. */
const struct watched *judged_find(const struct judged *j, pid_t pid);

/* judge_warming() of w by the view's config and tick. */
bool judged_warming(const struct judged *j, const struct watched *w);

#endif
