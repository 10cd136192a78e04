/* Why a process does or does not satisfy one watch's match: each
 * criterion the match gives, held or not, and in a short line the first
 * that turns the process down ("user: runs as root (0), not www-data"),
 * for `leakwatchctl match` (daemon/match_survey.h).  Pure: the caller
 * hands the process's info and the lookups, as to match_process(). */
#ifndef LEAKWATCH_MATCH_EXPLAIN_H
#define LEAKWATCH_MATCH_EXPLAIN_H

#include <stddef.h>
#include <sys/types.h>

#include "core/match.h"

#define MATCH_REASON_SIZE 240

/* The bit of a criterion in the masks below. */
#define CRIT_BIT(c) (1u << (c))

/* The criteria that pick out a kind of process (its program, its unit,
 * its pidfile, its parent), unlike user: and python:, which hold for
 * whole classes (every root process, every Python): a process that holds
 * one of these and fails the match is a near miss. */
#define CRIT_SELECTIVE (CRIT_BIT(CRIT_COMM) | CRIT_BIT(CRIT_EXE) | CRIT_BIT(CRIT_UNIT) | \
			CRIT_BIT(CRIT_USER_UNIT) | CRIT_BIT(CRIT_CMDLINE) | CRIT_BIT(CRIT_PIDFILE) | \
			CRIT_BIT(CRIT_PARENT))

/* A user's name for the messages ("www-data", or "uid 33"), into out. */
typedef void (*uid_name_fn)(void *ctx, uid_t uid, char *out, size_t len);

/* What match_process() is handed, and the user names; uid_name NULL:
 * uids are told as numbers.  ctx goes to all three. */
struct match_lookups {
	parent_lookup_fn parent;
	pidfile_lookup_fn pidfile;
	uid_name_fn uid_name;
	void *ctx;
};

struct match_explain {
	enum match_result result;  /* what match_process() answers */
	unsigned given;            /* CRIT_BITs of the criteria the match gives */
	unsigned held, failed, unknown;  /* of those: held, failed, not to be told */
	int first;                 /* the criterion reason tells of: the first
				    * failed (MATCH_NO) or not to be told
				    * (MATCH_UNKNOWN), in match_process()'s
				    * order; -1 for MATCH_YES */
	char reason[MATCH_REASON_SIZE];  /* "KEY: why" ("" for MATCH_YES); the
				    * process's comm, exe and units in it as
				    * they are, for the caller to escape */
};

/* Test every criterion of m against p (not only up to the first that
 * fails, as match_process does: the held ones say how near a miss it is)
 * and fill *out.  out->result is match_process()'s answer: MATCH_NO when
 * any criterion fails, else MATCH_UNKNOWN when one cannot be told, else
 * MATCH_YES.  A parent: criterion is the parent's own explanation, its
 * reason nested ("parent: pid 1 (systemd) does not match: cmdline: ..."). */
void match_explain(const struct match *m, const struct proc_info *p, const struct match_lookups *lk,
		   struct match_explain *out);

/* The criterion's key in the configuration: "comm", "user_unit", ... */
const char *match_crit_name(enum match_crit c);

#endif
