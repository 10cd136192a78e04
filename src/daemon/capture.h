/* Diagnostics captured when a watch with `capture: true` reports a leak or
 * a limit, before its action, so the evidence outlives the worker:
 * STATE_DIR/incidents/TIME-WATCH-PID/ with
 *   incident.json  what was reported (watch, pid, event, metric, value)
 *   status         /proc/PID/status
 *   smaps_rollup   /proc/PID/smaps_rollup
 *   cmdline        argv, space-separated
 *   fds            open fds by kind, most frequent target first (fdsum.h:
 *                  at most FD_GROUPS_MAX targets, the rest as "other")
 *   threads        thread ids and names, and the count per name
 *   history.json   the samples the daemon held (as leakwatchctl history)
 *   plot.svg       their picture (as leakwatchctl plot -o; core/plot_svg.h)
 * Files are read through the process's kept /proc dirfd, so a process that
 * died (or a reused pid) yields nothing rather than another's data.  Of a
 * process whose main thread has exited, whose leader's files show no
 * memory, fds or argv, all but threads are read through the kept dirfd of
 * a live thread (/proc/PID/task/TID) instead.  The
 * directory is built under a temporary name and renamed when complete.
 * The incidents are bounded: the oldest are removed beyond
 * CAPTURE_MAX_COUNT directories or CAPTURE_MAX_BYTES in all. */
#ifndef LEAKWATCH_CAPTURE_H
#define LEAKWATCH_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CAPTURE_MAX_COUNT 32
#define CAPTURE_MAX_BYTES (32u << 20)
#define CAPTURE_FILE_MAX  (1u << 20)     /* each file is cut there */
#define CAPTURE_MAX_FDS   100000         /* fd links read at most (per pass) */
#define CAPTURE_MAX_THREADS 100000       /* threads read at most */

struct capture {
	const char *state_dir;
	int proc_dirfd;          /* the kept /proc/PID directory */
	bool has_live;           /* its leader has exited (false, the zero value: not) */
	int live_dirfd;          /* then, a live thread's kept /proc/PID/task/TID */
	pid_t pid;
	const char *watch, *comm, *title, *event, *metric;   /* title: "" or NULL when none */
	double value;
	uint64_t wall_usec;
	const char *history_json;
	const char *plot_svg;    /* NULL: none written */
};

/* Write one incident directory; its path goes in dir.  0 or -errno. */
int capture_incident(const struct capture *c, char *dir, size_t len);

/* Remove the oldest incidents beyond the bounds (and leftovers of
 * interrupted captures).  Returns how many were removed, or -errno. */
int capture_prune(const char *incidents_dir, unsigned max_count, uint64_t max_bytes);

#endif
