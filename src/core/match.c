/* Matching (see match.h): a watch's criteria tested against what discovery
 * read of a process.
 *
 * The cheap tests come first: the comm glob (16 bytes, always at hand),
 * then exe or python, uid and unit (compares of what was read), then the
 * cmdline regex (on the first CMDLINE_REGEX_BYTES of the text, by
 * leakwatch's own matcher, linear in them: regex_match.c says why not
 * regexec), the pidfile lookup, and last the parent, whose match is
 * this same function applied to the parent's info (each nested parent:
 * one level further up).  The first criterion that fails answers MATCH_NO,
 * so where a watch names a comm most processes cost one fnmatch(3).  An
 * exe link the daemon may not read does not end the walk: the other
 * criteria may still say no, and only when none does is the answer
 * MATCH_UNKNOWN, naming the process (this one or a parent) whose link was
 * denied.
 *
 * A pidfile names a process only when it may (pidfile_may_name: a pidfile
 * a user could write names only that user's processes), so a pidfile:
 * criterion needs the uids, and costs a read of /proc/PID/status for each
 * process discovery reads; a refusal is a MATCH_NO that the caller is
 * told of (match_unknown's refused_pidfile), to say it once.
 *
 * Each criterion is one case of match_criterion(), which match_process()
 * walks in order: so core/match_explain.c, which says which criterion
 * turned a process down, tests the very same criteria rather than a copy
 * of them.  The walk is a chain of inlined steps, one per criterion, so
 * the compiler folds each case in place: a loop over the criteria cost
 * 10% more instructions per match than the hand-written tests did, the
 * chain 2.4% (callgrind, four watches).
 *
 * Pure: /proc, the parent table and the pidfiles stay with the caller
 * (daemon/discovery.c), reached through the lookups it passes; and
 * match_needs() tells it which /proc files the configuration needs at
 * all, so that a configuration without cmdline: never reads a cmdline. */
#include "core/match.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "core/proc_parse.h"
#include "core/regex_match.h"

static unsigned needs_of(const struct match *m)
{
	unsigned n = 0;

	if (m->cmdline)
		n |= NEED_CMDLINE;
	if (m->exe || m->python >= 0)
		n |= NEED_EXE;
	if (m->has_uid || m->pidfile)
		n |= NEED_UID;     /* a pidfile: whose process it names (pidfile_may_name) */
	if (m->unit || m->user_unit)
		n |= NEED_UNIT;
	if (m->parent)
		n |= NEED_PARENT | needs_of(m->parent);
	return n;
}

unsigned match_needs(const struct config *c)
{
	unsigned n = 0;

	for (size_t i = 0; i < c->n_watches; i++)
		n |= needs_of(&c->watches[i].match);
	return n;
}

bool pidfile_may_name(const struct pidfile_pid *pf, const struct proc_info *p)
{
	if (pf->any_user)
		return true;
	return p->has_uid && p->uid == pf->uid && p->euid == pf->uid && p->suid == pf->uid;
}

/* The pidfile criterion: whether it names p, and a refusal noted in why. */
static bool pidfile_names(const char *path, const struct proc_info *p, pidfile_lookup_fn pidfile, void *ctx,
			  struct match_unknown *why)
{
	struct pidfile_pid pf = { 0 };

	if (!pidfile)
		return false;
	pidfile(ctx, path, &pf);
	if (pf.pid <= 0 || pf.pid != p->pid)
		return false;
	if (pidfile_may_name(&pf, p))
		return true;
	if (why) {
		why->refused_pidfile = path;
		why->refused_proc = p;
	}
	return false;
}

/* Could the exe link not be read for want of the right to? */
static bool exe_denied(const struct proc_info *p)
{
	return !p->exe && proc_denied(p->exe_err);
}

static inline bool has(const struct match *m, enum match_crit c)
{
	switch (c) {
	case CRIT_COMM:      return m->comm != NULL;
	case CRIT_EXE:       return m->exe != NULL;
	case CRIT_PYTHON:    return m->python >= 0;
	case CRIT_USER:      return m->has_uid;
	case CRIT_UNIT:      return m->unit != NULL;
	case CRIT_USER_UNIT: return m->user_unit != NULL;
	case CRIT_CMDLINE:   return m->cmdline != NULL;
	case CRIT_PIDFILE:   return m->pidfile != NULL;
	case CRIT_PARENT:    return m->parent != NULL;
	case CRIT_COUNT:     break;
	}
	return false;
}

static enum match_result yes_if(bool holds)
{
	return holds ? MATCH_YES : MATCH_NO;
}

/* The parent criterion: the parent's match, and a refusal under it noted
 * in why (the process whose exe link was denied too, when unknown). */
static enum match_result parent_matches(const struct match *m, const struct proc_info *p,
					parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx,
					struct match_unknown *why)
{
	const struct proc_info *pp = parent && p->ppid > 0 ? parent(ctx, p->ppid) : NULL;
	struct match_unknown up = { 0 };
	enum match_result r = pp ? match_process(m->parent, pp, parent, pidfile, ctx, &up) : MATCH_NO;

	if (why && up.refused_pidfile) {
		why->refused_pidfile = up.refused_pidfile;
		why->refused_proc = up.refused_proc;
	}
	if (why && r == MATCH_UNKNOWN)
		why->proc = up.proc;
	return r;
}

/* One criterion (match_criterion), inlined into match_process's walk. */
static inline enum match_result criterion(const struct match *m, enum match_crit c, const struct proc_info *p,
					  parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx,
					  struct match_unknown *why)
{
	switch (c) {
	case CRIT_COMM:
		return yes_if(fnmatch(m->comm, p->comm, 0) == 0);
	case CRIT_EXE:
	case CRIT_PYTHON:
		if (exe_denied(p)) {
			if (why)
				why->proc = p;
			return MATCH_UNKNOWN;
		}
		if (c == CRIT_EXE)
			return yes_if(p->exe && fnmatch(m->exe, p->exe, 0) == 0);
		return yes_if((p->exe && proc_exe_is_python(p->exe)) == (m->python == 1));
	case CRIT_USER:
		return yes_if(p->has_uid && p->uid == m->uid);
	case CRIT_UNIT:
		return yes_if(p->unit && strcmp(m->unit, p->unit) == 0);
	case CRIT_USER_UNIT:
		return yes_if(p->user_unit && strcmp(m->user_unit, p->user_unit) == 0);
	case CRIT_CMDLINE:
		return yes_if(p->cmdline &&
			      regex_search(m->cmdline_rx, p->cmdline, strnlen(p->cmdline, CMDLINE_REGEX_BYTES)));
	case CRIT_PIDFILE:
		return yes_if(pidfile_names(m->pidfile, p, pidfile, ctx, why));
	case CRIT_PARENT:
		return parent_matches(m, p, parent, pidfile, ctx, why);
	case CRIT_COUNT:
		break;
	}
	return MATCH_NO;
}

bool match_has(const struct match *m, enum match_crit c)
{
	return has(m, c);
}

enum match_result match_criterion(const struct match *m, enum match_crit c, const struct proc_info *p,
				  parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx,
				  struct match_unknown *why)
{
	return criterion(m, c, p, parent, pidfile, ctx, why);
}

/* Where match_process's walk is: the refusal and the exe link denied so
 * far, and the first process whose link was. */
struct walk {
	struct match_unknown w;
	const struct proc_info *who;
	bool unknown;
};

/* One step of the walk: false when criterion c fails.  Inlined with c a
 * constant, the switch of criterion() folds away, and the walk costs what
 * a hand-written chain of tests does. */
static inline bool step(const struct match *m, enum match_crit c, const struct proc_info *p,
			parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx, struct walk *k)
{
	enum match_result r;

	if (!has(m, c))
		return true;
	r = criterion(m, c, p, parent, pidfile, ctx, &k->w);
	if (r == MATCH_UNKNOWN && !k->unknown) {
		k->unknown = true;
		k->who = k->w.proc;
	}
	return r != MATCH_NO;
}

/* The criteria in the order of enum match_crit, the first that fails
 * answering MATCH_NO; one that cannot be told (an exe link denied) does
 * not end the walk, and the first such names the process in why. */
enum match_result match_process(const struct match *m, const struct proc_info *p,
				parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx,
				struct match_unknown *why)
{
	struct walk k = { { 0 }, NULL, false };
	bool holds = step(m, CRIT_COMM, p, parent, pidfile, ctx, &k) &&
		     step(m, CRIT_EXE, p, parent, pidfile, ctx, &k) &&
		     step(m, CRIT_PYTHON, p, parent, pidfile, ctx, &k) &&
		     step(m, CRIT_USER, p, parent, pidfile, ctx, &k) &&
		     step(m, CRIT_UNIT, p, parent, pidfile, ctx, &k) &&
		     step(m, CRIT_USER_UNIT, p, parent, pidfile, ctx, &k) &&
		     step(m, CRIT_CMDLINE, p, parent, pidfile, ctx, &k) &&
		     step(m, CRIT_PIDFILE, p, parent, pidfile, ctx, &k) &&
		     step(m, CRIT_PARENT, p, parent, pidfile, ctx, &k);

	if (why && k.w.refused_pidfile) {
		why->refused_pidfile = k.w.refused_pidfile;
		why->refused_proc = k.w.refused_proc;
	}
	if (!holds)
		return MATCH_NO;
	if (k.unknown && why)
		why->proc = k.who;
	return k.unknown ? MATCH_UNKNOWN : MATCH_YES;
}

int match_watch(const struct config *c, const struct proc_info *p,
		parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx,
		int *undecided, struct match_unknown *why)
{
	struct match_unknown u = { 0 };
	int r = -1;

	if (undecided)
		*undecided = -1;
	for (size_t i = 0; i < c->n_watches; i++) {
		enum match_result m = match_process(&c->watches[i].match, p, parent, pidfile, ctx, &u);

		if (m == MATCH_NO)
			continue;
		if (m == MATCH_YES) {
			r = (int)i;
		} else {
			if (undecided)
				*undecided = (int)i;
			if (why)
				why->proc = u.proc;
		}
		break;
	}
	if (why && u.refused_pidfile) {
		why->refused_pidfile = u.refused_pidfile;
		why->refused_proc = u.refused_proc;
	}
	return r;
}

void proc_info_clear(struct proc_info *p)
{
	if (!p)
		return;
	free(p->cmdline);
	free(p->exe);
	free(p->unit);
	free(p->user_unit);
	p->cmdline = p->exe = p->unit = p->user_unit = NULL;
}
