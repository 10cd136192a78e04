/* Explaining a match (see match_explain.h): which criterion of a watch
 * turns a process down, for an operator asking why a rule does not take
 * the process they meant, or takes one they did not.
 *
 * The criteria are tested by match.c's own match_criterion(), one at a
 * time, so the answer cannot drift from the daemon's: a second matcher
 * written for the messages would agree with the first only as long as
 * both were kept in step.  Unlike match_process(), every criterion is
 * tested, not only up to the first that fails: the held ones tell a near
 * miss (a worker under the wrong user) from an unrelated process, which
 * holds none of the selective ones.  The cost is every criterion's test
 * for every process asked about, the cmdline regex included (linear in
 * the CMDLINE_REGEX_BYTES it reads), once per `leakwatchctl match`; the
 * daemon never calls this.
 *
 * A parent: criterion is explained by explaining the parent's match
 * against the parent, its reason nested in the child's; depth is bounded
 * by the configuration's (8 levels), and each level's line by
 * MATCH_REASON_SIZE.  The reason quotes the process's comm, exe and units
 * unescaped (a line or JSON renderer escapes them), and is cut, like any
 * line here, at the buffer's end. */
#include "core/match_explain.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/proc_parse.h"

/* How much of a text the process's owner chose (its exe path) a reason
 * quotes. */
#define QUOTE_MAX 80

const char *match_crit_name(enum match_crit c)
{
	static const char *const names[CRIT_COUNT] = {
		[CRIT_COMM] = "comm", [CRIT_EXE] = "exe", [CRIT_PYTHON] = "python",
		[CRIT_USER] = "user", [CRIT_UNIT] = "unit", [CRIT_USER_UNIT] = "user_unit",
		[CRIT_CMDLINE] = "cmdline", [CRIT_PIDFILE] = "pidfile", [CRIT_PARENT] = "parent",
	};

	return (unsigned)c < CRIT_COUNT ? names[c] : "?";
}

/* A line into out, cut at len (as every reason may be: a nested parent's
 * reason is cut where the room ends). */
static void say(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

static void uid_text(const struct match_lookups *lk, uid_t uid, char *out, size_t len)
{
	if (lk && lk->uid_name)
		lk->uid_name(lk->ctx, uid, out, len);
	else
		snprintf(out, len, "uid %u", (unsigned)uid);
}

/* Why p has no exe link to compare: a denied read is not a "no". */
static void no_exe(const struct proc_info *p, const char *key, char *out, size_t len)
{
	if (p->exe_err)
		snprintf(out, len, "%s: its executable link cannot be read: %s", key, strerror(-p->exe_err));
	else
		snprintf(out, len, "%s: its executable link was not read", key);
}

static void exe_reason(const struct match *m, const struct proc_info *p, enum match_result r, char *out,
		       size_t len)
{
	const char *key = match_crit_name(CRIT_EXE);

	if (r == MATCH_UNKNOWN)
		snprintf(out, len, "%s: cannot be read: %s (exe: and python: need root or CAP_SYS_PTRACE)",
			 key, strerror(-p->exe_err));
	else if (!p->exe)
		no_exe(p, key, out, len);
	else
		snprintf(out, len, "%s: %.*s does not match %s", key, QUOTE_MAX, p->exe, m->exe);
}

static void python_reason(const struct match *m, const struct proc_info *p, enum match_result r, char *out,
			  size_t len)
{
	if (r == MATCH_UNKNOWN)
		snprintf(out, len, "python: its executable cannot be read: %s (exe: and python: need root or "
			 "CAP_SYS_PTRACE)", strerror(-p->exe_err));
	else if (!p->exe && m->python == 1)
		no_exe(p, "python", out, len);
	else if (m->python == 1)
		snprintf(out, len, "python: %.*s is not Python", QUOTE_MAX, p->exe);
	else
		snprintf(out, len, "python: %.*s is Python (python: false)", QUOTE_MAX, p->exe);
}

static void user_reason(const struct match *m, const struct proc_info *p, const struct match_lookups *lk,
			char *out, size_t len)
{
	char who[64];

	if (!p->has_uid) {
		snprintf(out, len, "user: its uid cannot be read, not %s", m->user ? m->user : "?");
		return;
	}
	uid_text(lk, p->uid, who, sizeof(who));
	snprintf(out, len, "user: runs as %s (%u), not %s", who, (unsigned)p->uid, m->user ? m->user : "?");
}

static void unit_reason(const char *key, const char *want, const char *have, const char *none, char *out,
			size_t len)
{
	if (have)
		snprintf(out, len, "%s: in %.*s, not %s", key, QUOTE_MAX, have, want);
	else
		snprintf(out, len, "%s: in %s, not %s", key, none, want);
}

static void pidfile_reason(const struct match *m, const struct proc_info *p, const struct match_lookups *lk,
			   char *out, size_t len)
{
	struct pidfile_pid pf = { 0 };
	char who[64];

	if (lk && lk->pidfile)
		lk->pidfile(lk->ctx, m->pidfile, &pf);
	if (pf.pid <= 0) {
		snprintf(out, len, "pidfile: %s names no process (missing, unreadable or refused)", m->pidfile);
	} else if (pf.pid != p->pid) {
		snprintf(out, len, "pidfile: %s names pid %d, not this one", m->pidfile, (int)pf.pid);
	} else {
		uid_text(lk, pf.uid, who, sizeof(who));
		snprintf(out, len, "pidfile: %s names it, but %s may write the file, so it names only %s's processes",
			 m->pidfile, who, who);
	}
}

/* The parent: criterion, explained by the parent's own explanation. */
static enum match_result parent_explained(const struct match *m, const struct proc_info *p,
					  const struct match_lookups *lk, char *out, size_t len)
{
	const struct proc_info *pp = lk && lk->parent && p->ppid > 0 ? lk->parent(lk->ctx, p->ppid) : NULL;
	struct match_explain up;

	if (p->ppid <= 0) {
		snprintf(out, len, "parent: it has none");
		return MATCH_NO;
	}
	if (!pp) {
		snprintf(out, len, "parent: pid %d cannot be read", (int)p->ppid);
		return MATCH_NO;
	}
	match_explain(m->parent, pp, lk, &up);
	if (up.result == MATCH_NO)
		say(out, len, "parent: pid %d (%s) does not match: %s", (int)pp->pid, pp->comm, up.reason);
	else if (up.result == MATCH_UNKNOWN)
		say(out, len, "parent: pid %d (%s): %s", (int)pp->pid, pp->comm, up.reason);
	return up.result;
}

/* Criterion c (not the parent) in words, r its answer. */
static void reason_of(const struct match *m, enum match_crit c, enum match_result r, const struct proc_info *p,
		      const struct match_lookups *lk, char *out, size_t len)
{
	switch (c) {
	case CRIT_COMM:
		snprintf(out, len, "comm: %s does not match %s", p->comm, m->comm);
		break;
	case CRIT_EXE:
		exe_reason(m, p, r, out, len);
		break;
	case CRIT_PYTHON:
		python_reason(m, p, r, out, len);
		break;
	case CRIT_USER:
		user_reason(m, p, lk, out, len);
		break;
	case CRIT_UNIT:
		unit_reason("unit", m->unit, p->unit, "no system unit", out, len);
		break;
	case CRIT_USER_UNIT:
		unit_reason("user_unit", m->user_unit, p->user_unit, "no unit of a user's manager", out, len);
		break;
	case CRIT_CMDLINE:
		if (p->cmdline)
			snprintf(out, len, "cmdline: no match for %s", m->cmdline);
		else
			snprintf(out, len, "cmdline: cannot be read, no match for %s", m->cmdline);
		break;
	case CRIT_PIDFILE:
		pidfile_reason(m, p, lk, out, len);
		break;
	case CRIT_PARENT:
	case CRIT_COUNT:
		out[0] = '\0';
		break;
	}
}

void match_explain(const struct match *m, const struct proc_info *p, const struct match_lookups *lk,
		   struct match_explain *out)
{
	char parent_line[MATCH_REASON_SIZE] = "";
	enum match_result res[CRIT_COUNT];

	memset(out, 0, sizeof(*out));
	out->first = -1;
	for (int i = 0; i < CRIT_COUNT; i++) {
		enum match_crit c = (enum match_crit)i;

		if (!match_has(m, c))
			continue;
		out->given |= CRIT_BIT(c);
		if (c == CRIT_PARENT)
			res[i] = parent_explained(m, p, lk, parent_line, sizeof(parent_line));
		else
			res[i] = match_criterion(m, c, p, lk ? lk->parent : NULL, lk ? lk->pidfile : NULL,
						 lk ? lk->ctx : NULL, NULL);
		if (res[i] == MATCH_YES)
			out->held |= CRIT_BIT(c);
		else if (res[i] == MATCH_NO)
			out->failed |= CRIT_BIT(c);
		else
			out->unknown |= CRIT_BIT(c);
	}
	out->result = out->failed ? MATCH_NO : out->unknown ? MATCH_UNKNOWN : MATCH_YES;
	if (out->result == MATCH_YES)
		return;
	/* the first criterion of the answer's kind, in words: only that one
	 * is put into words (a user's name may cost an NSS lookup) */
	for (int i = 0; i < CRIT_COUNT && out->first < 0; i++)
		if ((out->result == MATCH_NO ? out->failed : out->unknown) & CRIT_BIT(i))
			out->first = i;
	if (out->first == CRIT_PARENT)
		say(out->reason, sizeof(out->reason), "%s", parent_line);
	else
		reason_of(m, (enum match_crit)out->first, res[out->first], p, lk, out->reason, sizeof(out->reason));
}
