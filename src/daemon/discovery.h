/* Discovery: which processes the watches match.  It keeps the pid table
 * (pid_table.h: what is known of every pid in /proc), reads /proc's
 * directory whole or probes new pids by number, re-reads the pidfiles
 * (pidfiles.h), and says once which processes a watch cannot decide on.
 *
 * It knows the config, the /proc root, our pid and the clock tick, and
 * nothing of how a process is watched: a scan hands back what it found
 * (pid, start time, comm, the watch) and what is gone (watched pids that
 * exited or were replaced), and the caller (the monitor) opens and judges
 * the processes, telling discovery which it took (discovery_claim) by an
 * opaque owner, which comes back in the gone list.  So the two can be
 * read, changed and tested apart; the cost is that a found process is
 * watched once the scan is over rather than the moment it is read, and
 * a claim is a second lookup of its pid (once per process found).
 *
 * The result lives in arrays the discovery keeps and reuses: nothing is
 * allocated per tick once they have grown to the host's churn.  The gone
 * array always has room for every watched pid, reserved at the claim, so
 * a scan never loses an exit for want of memory. */
#ifndef LEAKWATCH_DISCOVERY_H
#define LEAKWATCH_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/event.h"
#include "daemon/pid_table.h"
#include "daemon/pidfiles.h"
#include "os/proc.h"

/* Discovery runs at most once a second: with short intervals, watched
 * processes are still sampled at every tick, and their exits are seen there
 * (ESRCH on the kept fds).  The slack keeps a tick that comes a hair early
 * from skipping its discovery. */
#define SCAN_MIN_MS   1000
#define SCAN_SLACK_MS 50

/* A warning (an undecidable process, an unreadable pidfile), filled with
 * event_about()/event_say(): the receiver stamps its time and emits it. */
typedef pidfiles_warn_fn discovery_warn_fn;

/* A process a watch matches, not watched yet. */
struct discovery_found {
	pid_t pid;
	unsigned long long start_ticks;
	uint64_t start_ms;         /* boot-time ms */
	size_t watch;              /* index into the config's watches */
	char comm[16];
	size_t gone_before;        /* gone[] entries found before it: the order of events */
};

/* A watched process that exited, or whose pid another process took. */
struct discovery_gone {
	pid_t pid;
	void *owner;               /* as claimed */
};

/* What the last scan (or discovery_reuse) found, in the order it found
 * it: found[i] came after gone[0 .. found[i].gone_before).  Valid until
 * the next scan or reuse; a claim may move gone (index it afresh). */
struct discovery_result {
	struct discovery_found *found;
	size_t n_found, cap_found;
	struct discovery_gone *gone;
	size_t n_gone, cap_gone;
};

struct discovery {
	const struct config *cfg;
	struct pid_reader rd;      /* the root, ourselves, the clock tick, the needs */
	struct pid_table t;
	struct pidfiles pidfiles;
	void *dir;                 /* DIR* over the root, rewound each full scan */
	uint64_t now_ms;           /* boot-time ms of the current discovery */
	uint64_t last_scan_ms;     /* when discovery last ran */
	uint64_t last_full_ms;     /* when /proc's directory was last read whole */
	int loadavg_fd;            /* ROOT/loadavg, kept; -1: every discovery is a full scan */
	long last_pid;             /* its last-pid field at the last discovery; -1 unknown */
	pid_t *young;              /* unmatched pids still young at the last discovery */
	size_t n_young, cap_young;
	pid_t *spare_young;        /* the young list before, swapped in at each probe scan */
	size_t cap_spare_young;
	uint64_t scans;            /* discovery passes, in all */
	uint64_t full_scans;       /* of them, full reads of /proc's directory */
	uint64_t probes;           /* new pids looked up by number, not by a full scan */
	bool rematch;              /* the config changed: evaluate every pid again */
	bool recheck_all;          /* this full scan is the minute's: likewise */
	bool *undecided;           /* per watch: a process it could not decide on was reported */
	size_t n_owned;            /* entries claimed */
	struct discovery_result res;
	const char *self_user;     /* the daemon's user, for the warnings (the caller's) */
	discovery_warn_fn warn;
	void *warn_ctx;
};

/* Over root (kept open by the caller, like cfg); self: our pid, never
 * watched; self_user: the name the warnings give the daemon's user
 * (borrowed, like root).  0 or -errno. */
int discovery_init(struct discovery *d, const struct proc_root *root, const struct config *cfg,
		   pid_t self, const char *self_user, discovery_warn_fn warn, void *warn_ctx);
void discovery_free(struct discovery *d);   /* accepts a zeroed discovery */

/* Whether a discovery is due at now_ms (boot-time ms). */
bool discovery_due(const struct discovery *d, uint64_t now_ms);

/* One discovery at now_ms: the result in d->res. */
void discovery_scan(struct discovery *d, uint64_t now_ms);

/* The found process pid is watched by owner (0; -ENOMEM: not, then), or,
 * owner NULL, not (or no longer): matched again like any unmatched pid.
 * -ESRCH when the pid is not known. */
int discovery_claim(struct discovery *d, pid_t pid, void *owner);

/* A new configuration: every pid matched again, its pidfiles and
 * undecidable watches said again. */
void discovery_reconfigure(struct discovery *d, const struct config *cfg);

/* The watched process pid exited: forget its entry (a process reusing the
 * pid is read afresh), then, once it is unwatched, discovery_reuse() at
 * now_ms looks the pid up at once, the result in d->res. */
void discovery_exited(struct discovery *d, pid_t pid);
void discovery_reuse(struct discovery *d, uint64_t now_ms, pid_t pid, unsigned long long start_ticks);

/* The process pid could not be sampled: never watched again. */
void discovery_never(struct discovery *d, pid_t pid);

/* The watched process pid is dropped (leakwatchctl forget): no longer
 * claimed, and matched afresh at the next discovery, as a new process
 * would be (found again, with an empty history, when a watch still
 * matches it). */
void discovery_rematch(struct discovery *d, pid_t pid);

#endif
