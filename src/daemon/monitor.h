/* The daemon's state: the watched processes, the pid match cache, and one
 * tick of work (scan, sample, evaluate, report): discover.c finds the
 * processes, monitor.c samples and judges them.  No timers or signals
 * here (leakwatchd.c), and events leave through a callback, so tests can
 * drive ticks by hand on a fixture /proc tree. */
#ifndef LEAKWATCH_MONITOR_H
#define LEAKWATCH_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/detect.h"
#include "core/event.h"
#include "core/match.h"
#include "os/proc.h"

#define PID_TABLE_SIZE 4096
#define CMDLINE_MAX (64 * 1024)   /* longer command lines are matched on their start */

struct watched {
	struct watched *next;
	pid_t pid;
	unsigned long long start_ticks;
	uint64_t start_ms;         /* when the process started, boot-time ms */
	size_t watch;              /* index into the config's watches */
	char comm[16];
	struct proc_handle h;
	struct timeline tl;        /* when its samples were taken, for all metrics */
	struct metric_state m[METRIC_COUNT];
	int retry_metric;          /* an action withheld for this metric: ask again; -1 none */
	unsigned unreadable;       /* metrics (1u << METRIC_*) the daemon may not read, as of
				    * the last sample: their history holds -1 placeholders */
	unsigned warned;           /* metrics whose unreadability was reported (once a process) */
	char *incident;            /* the newest diagnostics captured (capture: true), or NULL */
	enum event_type retry_why;
};

/* What a full scan reads for each listed pid comes first, in one cache
 * line with the pid itself (info.pid). */
struct pid_entry {
	struct pid_entry *next;    /* hash chain */
	struct watched *w;         /* the watch, when matched */
	uint64_t start_ms;
	uint64_t checked_ms;       /* when the match was last evaluated */
	unsigned gen;              /* the last full scan that saw this pid */
	bool never;                /* kernel thread, PID 1, ourselves: never watched */
	unsigned long ino;         /* inode of /proc/PID as last listed; 0 unknown */
	struct proc_info info;
};

typedef void (*event_fn)(void *ctx, struct event *e);

/* Called after a leak or limit event, to take the watch's action. */
struct act_request;
typedef int (*action_fn)(void *ctx, const struct act_request *r);

/* Called before a leak or limit event of a watch with `capture: true` is
 * reported: save the diagnostics, put their directory in dir.  0 or -errno. */
struct watched;
typedef int (*capture_fn)(void *ctx, const struct watched *w, enum event_type why, int metric,
			  char *dir, size_t len);

struct monitor {
	const struct config *cfg;
	struct proc_root root;
	void *dir;                 /* DIR* over the root, rewound each scan */
	pid_t self;
	long hz;
	unsigned needs;            /* NEED_* of the config */
	struct pid_entry *table[PID_TABLE_SIZE];
	struct watched *watched;
	size_t n_watched;
	size_t n_entries;          /* pid entries in the table */
	size_t n_seen;             /* of them, seen by the current full scan */
	unsigned gen;              /* full scans so far */
	uint64_t now_ms;           /* boot-time ms of the current tick */
	uint64_t last_scan_ms;     /* when discovery last ran */
	uint64_t last_full_ms;     /* when /proc's directory was last read whole */
	int loadavg_fd;            /* ROOT/loadavg, kept; -1: every discovery is a full scan */
	long last_pid;             /* its last-pid field at the last discovery; -1 unknown */
	pid_t *young;              /* unmatched pids still young at the last discovery */
	size_t n_young, cap_young;
	uint64_t wall_usec;        /* wall clock of the current tick */
	uint64_t tick_mono_usec;   /* CLOCK_MONOTONIC at the start of the tick */
	uint64_t samples;          /* process-samples taken, in all */
	uint64_t scans;            /* discovery passes, in all */
	uint64_t full_scans;       /* of them, full reads of /proc's directory */
	uint64_t probes;           /* new pids looked up by number, not by a full scan */
	uint64_t scan_usec;        /* duration of the last scan */
	bool rematch;              /* the config changed: evaluate every pid again */
	bool recheck_all;          /* this full scan is the minute's: likewise */
	struct pidfile_cache {
		const char *path;
		pid_t pid;
	} *pidfiles;
	size_t n_pidfiles, cap_pidfiles;
	char *cmdline_buf;         /* CMDLINE_MAX bytes of scratch */
	event_fn emit;
	void *emit_ctx;
	action_fn act;             /* NULL: alert only */
	void *act_ctx;
	capture_fn capture;        /* NULL: no captures */
	void *capture_ctx;
	struct saved_proc *restore;/* saved histories, claimed at the first scan */
	bool *undecided;           /* per watch: a process it could not decide on was reported */
	char **denied_pidfiles;    /* pidfiles we may not read, reported (once a configuration) */
	size_t n_denied_pidfiles;
	char self_user[64];        /* the daemon's user, for the messages */
	size_t n_restored;         /* processes whose history was restored */
};

/* proc_path: the /proc root ("/proc", or a fixture tree).  self: our pid
 * (never watched).  The config stays owned by the caller. */
int monitor_init(struct monitor *m, const char *proc_path, const struct config *cfg,
		 pid_t self, event_fn emit, void *emit_ctx);
void monitor_free(struct monitor *m);   /* accepts a zeroed monitor */

/* One tick: now_ms on CLOCK_BOOTTIME (the clock of /proc start times),
 * wall_usec for event time stamps. */
int monitor_tick(struct monitor *m, uint64_t now_ms, uint64_t wall_usec);

/* Swap in a new config.  Processes whose watch keeps its name keep their
 * history (reset only when the window changed); the others are matched
 * again at the next tick. */
void monitor_set_config(struct monitor *m, const struct config *cfg);

/* Saved histories (state.h), taken over: a process found at the next scan
 * with the same pid, start time, watch name and window continues its
 * history; the rest is dropped after that scan. */
struct saved_state;
void monitor_restore(struct monitor *m, struct saved_state *s);

/* The watched process with this pid, or NULL. */
const struct watched *monitor_find(const struct monitor *m, pid_t pid);

bool monitor_warming(const struct monitor *m, const struct watched *w);

#endif
