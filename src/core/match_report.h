/* What `leakwatchctl match` found (daemon/match_survey.h fills it): for
 * each watch, the live processes it matches, and those it does not take
 * that come near (a near miss, with the criterion that turns it down) or
 * that match it but go elsewhere (an earlier watch took it, it cannot be
 * decided, it is never watched); and its two renderings, a table for
 * people and JSON.  Pure. */
#ifndef LEAKWATCH_MATCH_REPORT_H
#define LEAKWATCH_MATCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/match_explain.h"
#include "core/proc_title.h"

/* Not-matched rows a watch lists unless told otherwise. */
#define MATCH_ROWS_DEFAULT 10

enum match_row_kind {
	ROW_MATCHED,     /* the watch takes it: leakwatchd would watch it */
	ROW_UNDECIDED,   /* it may be this watch's, but an exe link cannot be read */
	ROW_HELD,        /* it matches, but an earlier watch cannot decide on it */
	ROW_TAKEN,       /* it matches, but an earlier watch took it */
	ROW_NEVER,       /* it matches, but is never watched (PID 1, kernel thread, zombie) */
	ROW_NEAR,        /* a near miss: holds a selective criterion, fails another */
	ROW_KINDS
};

struct match_row {
	pid_t pid, ppid;
	enum match_row_kind kind;
	bool has_uid;
	uid_t uid;
	int other_watch;       /* ROW_TAKEN, ROW_HELD: that watch's index; else -1 */
	int criterion;         /* enum match_crit the reason is about; -1 none */
	unsigned failed;       /* ROW_NEAR: CRIT_BITs of every criterion that fails */
	char comm[16];
	char title[PROC_TITLE_SIZE];   /* "" when it has none */
	char reason[MATCH_REASON_SIZE];  /* "" for ROW_MATCHED */
};

struct match_rows {
	struct match_row *v;
	size_t n, cap;
	size_t seen;           /* rows offered, kept or not */
};

/* One watch's rows, in pid order within each list: every match, and at
 * most the report's max_rows of each of the two other lists. */
struct match_watch_rows {
	struct match_rows matched;
	struct match_rows elsewhere;   /* ROW_UNDECIDED, ROW_HELD, ROW_TAKEN, ROW_NEVER */
	struct match_rows near;        /* ROW_NEAR */
};

struct match_report {
	const struct config *cfg;      /* borrowed */
	const char *proc_dir;          /* borrowed: where the processes were read */
	struct match_watch_rows *w;    /* cfg->n_watches */
	size_t n_procs;                /* processes read */
	size_t max_rows;               /* of the not-matched rows, a watch lists this many */
	bool privileged;               /* read as root: others' exe links readable */
};

/* An empty report for cfg: 0 or -ENOMEM. */
int match_report_init(struct match_report *r, const struct config *cfg, const char *proc_dir, size_t max_rows);
void match_report_free(struct match_report *r);   /* accepts a zeroed report */

/* Add row to watch w's list for its kind: 0, or -ENOMEM.  A not-matched
 * row past max_rows of its list is counted and dropped (0 as well). */
int match_report_add(struct match_report *r, size_t w, const struct match_row *row);

/* Whether a row of this kind for watch w would be kept (so the caller
 * reads its title only then). */
bool match_report_wants(const struct match_report *r, size_t w, enum match_row_kind kind);

/* The table: a summary line, then per watch its matches (pid, comm,
 * title) and the processes it does not take, each with the reason, at
 * most max_rows, "... and N more" for the rest.  Every text the processes
 * chose is made one printable line (buf_line_text). */
void match_report_table(const struct match_report *r, struct buf *out);

/* The same as one JSON object (leakwatchctl(1) has its keys). */
void match_report_json(const struct match_report *r, struct buf *out);

/* "matched", "undecided", "held", "taken", "never", "near_miss". */
const char *match_row_kind_name(enum match_row_kind k);

#endif
