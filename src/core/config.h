/* The configuration: the watch rules as typed structs, what every other
 * part of leakwatch reads instead of the YAML file.
 *
 * The model only: the file is read by os/config_file.c (config_load), its
 * YAML turned into a document tree by os/yaml_tree.c, and the tree checked
 * against every key, type, unit and range of leakwatch.yaml(5) by
 * config_schema.c, which fills these structs.  Nothing here logs: every
 * problem becomes one "FILE:LINE:COLUMN: error: MESSAGE" string in a struct
 * diag, all of them are collected, and only then does the load fail. */
#ifndef LEAKWATCH_CONFIG_H
#define LEAKWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_MAX_WATCHES 1000   /* one watch matches any number of processes */

/* rss, fds and threads are read at every sample of every process; uss
 * (private memory: Private_Clean + Private_Dirty + Private_Hugetlb of
 * /proc/PID/smaps_rollup) and pss (its Pss) cost a walk of the page tables
 * and are read only for the watches that judge one, at a rate of their own
 * (core/smaps_sched.h).  The first METRIC_INLINE are kept in every
 * process's record; the others only where a watch has a rule for them
 * (watched_metric(), core/judge.h). */
enum metric { METRIC_RSS, METRIC_FDS, METRIC_THREADS, METRIC_USS, METRIC_PSS, METRIC_COUNT };
#define METRIC_INLINE 3            /* rss, fds, threads */
#define METRIC_SPARSE (METRIC_COUNT - METRIC_INLINE)   /* uss, pss */
#define METRIC_SPARSE_MASK ((1u << METRIC_USS) | (1u << METRIC_PSS))

/* Whether metric m is an amount of memory in bytes (rss, uss, pss), whose
 * `max: N%` is of the cgroup's memory.max, else MemTotal. */
static inline bool metric_is_memory(int m)
{
	return m == METRIC_RSS || m == METRIC_USS || m == METRIC_PSS;
}

enum action { ACTION_ALERT, ACTION_SIGNAL, ACTION_RESTART_UNIT, ACTION_EXEC };

const char *metric_name(enum metric m);   /* "rss", "fds", "threads", "uss", "pss" */
const char *action_name(enum action a);   /* "alert", "signal", "restart-unit", "exec" */

/* Where a key's value starts in the file, 1-based; line 0 when the key
 * was not given (its default is in force).  Kept only for the warnings
 * of core/server_lint.h, which point at the key they are about. */
struct config_pos {
	uint32_t line, column;
};

/* A match: every criterion that is set must hold.  Strings are NULL when
 * unset.  `parent` is a nested match the parent process must satisfy. */
struct regex_prog;

struct match {
	char *comm;            /* fnmatch(3) glob on /proc/PID/comm */
	char *exe;             /* fnmatch(3) glob on the /proc/PID/exe target */
	char *cmdline;         /* the regex's source text, for messages */
	struct regex_prog *cmdline_rx;  /* compiled (regex_compile.h), valid iff cmdline */
	int python;            /* -1 unset, 0 must not be Python, 1 must be Python */
	bool has_uid;
	uid_t uid;             /* real uid; a user name is resolved at load time */
	char *user;            /* as written, for messages */
	char *unit;            /* a unit of the system manager, e.g. "api.service" */
	char *user_unit;       /* a unit within a user's service manager */
	char *pidfile;         /* path; the pid is read from it at every scan */
	struct match *parent;  /* NULL when not given */
	struct config_pos at, cmdline_at, python_at;   /* the mapping, cmdline:, python: */
};

/* `max: N%` is of the process's own limit, read while it is watched
 * (judge_limits(), core/judge.h): for fds its soft RLIMIT_NOFILE, for
 * threads the lowest pids.max of its cgroup and those above it, for rss
 * the lowest memory.max there when it is below MemTotal, else MemTotal. */
struct metric_rule {
	bool has_max;
	double max;            /* bytes (rss) or count as written; for "N%": N% of
				* MemTotal, rounded down (rss), 0 (fds, threads:
				* the process's own) */
	double max_percent;    /* the N of "N%" as written, 0 when given as an amount */
	unsigned for_samples;  /* consecutive samples over max (default 1) */
	double growth;         /* per second; 0 = not set */
	double predict;        /* seconds; 0 = not set (requires has_max) */
};

/* `group:` of a watch: rules judged on the sum over its processes
 * (core/group_judge.h).  A max is an amount (a sum has no limit of its
 * own to be a percentage of); the actions are alert or restart-unit only
 * (there is no single process to signal or to run a command for). */
#define GROUP_METRICS METRIC_INLINE   /* rss, fds, threads: uss and pss are read at
					* sparse times of each process's own, which
					* make no sum of one moment */

struct group_rule {
	struct metric_rule rule[GROUP_METRICS];
	unsigned metrics;      /* 1u << METRIC_* given a rule */
	enum action on_leak;   /* default alert */
	enum action on_limit;  /* default alert */
};

/* `inspect:` of a watch: what to look inside a leaking process with. */
enum inspect_kind { INSPECT_NONE, INSPECT_PYTHON };
#define INSPECT_SECONDS_MAX 600

struct watch {
	char *name;
	struct match match;
	uint64_t warmup_ms;    /* default 0 */
	uint64_t window_ms;    /* default 30 min */
	struct metric_rule rule[METRIC_COUNT];
	enum action on_leak;   /* default alert */
	enum action on_limit;  /* default alert */
	int signal;            /* default SIGTERM */
	uint64_t kill_after_ms;/* default 30 s; 0 = never */
	char *unit;            /* for restart-unit: NULL means "auto" */
	char **exec;           /* argv for exec, NULL-terminated; NULL when unset */
	size_t exec_len;
	uint64_t exec_timeout_ms; /* exec is killed after this long (default 30 s) */
	uint64_t cooldown_ms;  /* default 10 min */
	unsigned max_actions;  /* default 3 */
	uint64_t max_actions_period_ms; /* default 1 h */
	bool capture;          /* default false; inspect implies it */
	enum inspect_kind inspect;   /* default INSPECT_NONE */
	unsigned inspect_seconds;    /* between the two looks; default 30 */
	struct group_rule *group;    /* `group:`, or NULL */
	/* the watch's mapping and the values of on_leak:, on_limit:, signal:, kill_after: */
	struct config_pos at, on_leak_at, on_limit_at, signal_at, kill_after_at;
};

struct config {
	char *path;
	uint64_t interval_ms;  /* default 5 s, at least 100 ms */
	bool dry_run;
	char *state_dir;       /* NULL = the default (STATE_DIRECTORY or /var/lib/leakwatch) */
	char *metrics_textfile;/* NULL when off */
	char *metrics_listen;  /* "HOST:PORT" as written; NULL when off */
	struct watch *watches;
	size_t n_watches;
};

/* Collected diagnostics, each a complete "FILE:LINE:COLUMN: error: MESSAGE". */
struct diag {
	char **msgs;
	size_t n;
};

void diag_free(struct diag *d);

/* What the schema needs from the outside world, so tests can fake it.
 * mem_total: bytes, for "N%" sizes (0: "N%" is an error).
 * lookup_user: resolve a user name to a uid; returns 0, -ENOENT or another
 * -errno.  NULL: config_load (os/config_file.h) uses getpwnam_r; the schema
 * itself, handed NULL, knows no user. */
struct config_env {
	uint64_t mem_total;
	int (*lookup_user)(const char *name, uid_t *uid);
};

/* An empty configuration of PATH (copied), for the schema to fill; NULL
 * when out of memory. */
struct config *config_new(const char *path);
void config_free(struct config *c);   /* accepts NULL */

/* A match with nothing set (python -1); freeing one leaves it so. */
void config_match_init(struct match *m);
void config_match_free(struct match *m);   /* accepts NULL */

/* Is S a watch name: 1 to 64 letters, digits, '.', '_' or '-', starting
 * with a letter or digit?  The config's rule, and the state file's. */
bool watch_name_valid(const char *s);

/* Does the file's watch with this name exist?  NULL when not. */
const struct watch *config_find_watch(const struct config *c, const char *name);

#endif
