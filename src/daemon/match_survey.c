/* The match survey (see match_survey.h): which processes a configuration
 * would have leakwatchd watch, and why the near ones are left out, asked
 * of a host with no daemon running (monit's `procmatch`, for leakwatch's
 * richer rules).
 *
 * The processes are read by a discovery of our own, one full scan, so the
 * readers (bounded, O_NOFOLLOW where a user placed the file), what is read
 * (match_needs() of the configuration), PID 1, kernel threads and zombies
 * never being watched, the pidfiles' trust and the first-watch-wins order
 * are the daemon's own: a copy written for this command would drift from
 * them.  Then each process, in pid order, is taken through match_watch()
 * once and explained (core/match_explain.h) against each watch, into the
 * report's lists.  Its costs: the daemon's first full scan (a pid table
 * of every process), plus every criterion of every watch for every
 * process, the cmdline regexes included, once; a title (one bounded read
 * of its cmdline) only for a process listed.  Whose process a uid is
 * costs an NSS lookup, so the names are kept in a small cache.
 *
 * What it cannot see as the daemon does: run unprivileged, another user's
 * exe link cannot be read (the report says so; those processes show as
 * undecided), and a /proc mounted hidepid= hides them. */
#include "daemon/match_survey.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/match.h"
#include "core/match_explain.h"
#include "os/clock.h"
#include "os/config_file.h"
#include "os/proc.h"
#include "os/users.h"

#define UID_NAMES 32

struct survey {
	const struct config *cfg;
	const struct match_survey_opts *o;
	struct match_report *rep;
	struct proc_root root;
	struct discovery d;
	struct { uid_t uid; char name[64]; } names[UID_NAMES];
	size_t n_names, next_name;
	char cmdline[CMDLINE_MAX];       /* scratch for a title */
	char self_user[64];
};

/* A row's reason, cut at its room (a nested reason may be long). */
static void say(struct match_row *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct match_row *row, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(row->reason, sizeof(row->reason), fmt, ap);
	va_end(ap);
}

static const struct proc_info *parent_of(void *ctx, pid_t ppid)
{
	struct survey *s = ctx;
	const struct pid_entry *e = pid_table_lookup(&s->d.t, ppid);

	return e ? &e->info : NULL;
}

static void pidfile_of(void *ctx, const char *path, struct pidfile_pid *out)
{
	struct survey *s = ctx;

	pidfiles_pid(&s->d.pidfiles, path, out);
}

static void uid_name_of(void *ctx, uid_t uid, char *out, size_t len)
{
	struct survey *s = ctx;
	size_t i;

	for (i = 0; i < s->n_names; i++)
		if (s->names[i].uid == uid)
			break;
	if (i == s->n_names) {
		i = s->n_names < UID_NAMES ? s->n_names++ : s->next_name++ % UID_NAMES;
		s->names[i].uid = uid;
		user_name(uid, s->names[i].name, sizeof(s->names[i].name));
	}
	snprintf(out, len, "%s", s->names[i].name);
}

/* The title of e's process, read now (core/proc_title.h): "" when it has
 * none, or when its pid is another process's by now. */
static void read_title(struct survey *s, const struct pid_entry *e, char out[PROC_TITLE_SIZE])
{
	struct proc_stat st;
	char rel[32];
	ssize_t n;

	out[0] = '\0';
	snprintf(rel, sizeof(rel), "%d/cmdline", (int)e->info.pid);
	n = proc_read_file(&s->root, rel, s->cmdline, sizeof(s->cmdline));
	if (n > 0)
		proc_title(s->cmdline, (size_t)n, out);
	if (proc_read_stat(&s->root, e->info.pid, &st, NULL) < 0 || st.start_ticks != e->info.start_ticks)
		out[0] = '\0';
}

/* Why discovery never watches e (pid_read() says which are). */
static void never_reason(struct survey *s, const struct pid_entry *e, char *out, size_t len)
{
	struct proc_stat st;

	if (e->info.pid == 1)
		snprintf(out, len, "never watched: PID 1");
	else if (proc_read_stat(&s->root, e->info.pid, &st, NULL) == 0 && (st.flags & PF_KTHREAD_FLAG))
		snprintf(out, len, "never watched: a kernel thread");
	else if (proc_read_stat(&s->root, e->info.pid, &st, NULL) == 0 && proc_stat_dead(&st))
		snprintf(out, len, "never watched: it has exited (a zombie)");
	else
		snprintf(out, len, "never watched: it has exited");
}

/* What e is to watch j, its reason in row: ROW_KINDS when it is not to
 * be listed there.  idx and undecided: match_watch()'s answer for e;
 * held: the explanation by the undecided watch, when there is one. */
static enum match_row_kind classify(struct survey *s, const struct pid_entry *e, size_t j, int idx,
				    int undecided, const struct match_explain *held, struct match_row *row)
{
	const struct match_lookups lk = { parent_of, pidfile_of, uid_name_of, s };
	const struct watch *w = s->cfg->watches;
	struct match_explain ex;

	if (!e->never && idx == (int)j)
		return ROW_MATCHED;
	match_explain(&w[j].match, &e->info, &lk, &ex);
	row->criterion = ex.first;
	if (ex.result == MATCH_NO) {
		row->failed = ex.failed;
		say(row, "%s", ex.reason);
		return ex.held & CRIT_SELECTIVE ? ROW_NEAR : ROW_KINDS;
	}
	if (e->never) {
		never_reason(s, e, row->reason, sizeof(row->reason));
		return ROW_NEVER;
	}
	if (undecided == (int)j) {
		say(row, "undecided, not watched: %s", ex.reason);
		return ROW_UNDECIDED;
	}
	if (idx >= 0) {
		row->other_watch = idx;
		row->criterion = -1;
		say(row, "taken by watch %s, which comes first", w[idx].name);
		return ROW_TAKEN;
	}
	/* an earlier watch cannot decide on it: match_watch() stopped there */
	row->other_watch = undecided;
	row->criterion = held->first;
	say(row, "held by watch %s, which comes first and cannot decide on it: %s", w[undecided].name, held->reason);
	return ROW_HELD;
}

/* Every watch's row for e: 0 or -ENOMEM. */
static int survey_proc(struct survey *s, const struct pid_entry *e)
{
	const struct match_lookups lk = { parent_of, pidfile_of, uid_name_of, s };
	struct match_explain held = { .first = -1 };
	char title[PROC_TITLE_SIZE];
	bool titled = false;
	int idx = -1, undecided = -1;

	if (!e->never)
		idx = match_watch(s->cfg, &e->info, parent_of, pidfile_of, s, &undecided, NULL);
	if (undecided >= 0)
		match_explain(&s->cfg->watches[undecided].match, &e->info, &lk, &held);
	for (size_t j = 0; j < s->cfg->n_watches; j++) {
		struct match_row row = { .pid = e->info.pid, .ppid = e->info.ppid, .other_watch = -1,
					 .criterion = -1, .has_uid = e->info.has_uid, .uid = e->info.uid };
		int r;

		row.kind = classify(s, e, j, idx, undecided, &held, &row);
		if (row.kind == ROW_KINDS)
			continue;
		if (match_report_wants(s->rep, j, row.kind)) {
			if (!titled)
				read_title(s, e, title);
			titled = true;
			memcpy(row.comm, e->info.comm, sizeof(row.comm));
			memcpy(row.title, title, sizeof(row.title));
		}
		r = match_report_add(s->rep, j, &row);
		if (r < 0)
			return r;
	}
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	pid_t x = (*(const struct pid_entry *const *)a)->info.pid;
	pid_t y = (*(const struct pid_entry *const *)b)->info.pid;

	return (x > y) - (x < y);
}

/* The table's entries in pid order: the array (malloc'd), *n its length;
 * NULL when there is no memory. */
static const struct pid_entry **in_pid_order(const struct pid_table *t, size_t *n)
{
	const struct pid_entry **v = malloc((t->n_entries + 1) * sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (unsigned i = 0; i < PID_TABLE_SIZE; i++)
		for (const struct pid_entry *e = t->slot[i]; e; e = e->next)
			if (*n < t->n_entries)
				v[(*n)++] = e;
	qsort(v, *n, sizeof(*v), by_pid);
	return v;
}

int match_survey(const struct config *cfg, const struct match_survey_opts *o, struct match_report *rep)
{
	struct survey *s = calloc(1, sizeof(*s));
	const struct pid_entry **v = NULL;
	size_t n = 0;
	int r;

	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->o = o;
	s->rep = rep;
	s->root.fd = -1;
	s->d.loadavg_fd = -1;
	r = match_report_init(rep, cfg, o->proc_dir, o->max_rows);
	if (r < 0)
		goto out;
	rep->privileged = geteuid() == 0;
	user_name(geteuid(), s->self_user, sizeof(s->self_user));
	r = proc_root_open(&s->root, o->proc_dir);
	if (r < 0)
		goto out;
	r = discovery_init(&s->d, &s->root, cfg, o->self, s->self_user, o->warn, o->warn_ctx);
	if (r < 0)
		goto out;
	discovery_scan(&s->d, clock_usec(CLOCK_BOOTTIME) / 1000);
	v = in_pid_order(&s->d.t, &n);
	r = v ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++)
		if (v[i]->info.pid != o->self) {
			rep->n_procs++;
			r = survey_proc(s, v[i]);
		}
out:
	free(v);
	discovery_free(&s->d);
	proc_root_close(&s->root);
	free(s);
	return r;
}

/* ---- the command ------------------------------------------------------------- */

/* A warning of the discovery (a pidfile it may not read, a process it
 * cannot decide on), as leakwatchd would tell it. */
static void show_warning(void *ctx, struct event *e)
{
	const char *prog = ctx;
	struct buf b = { 0 };

	event_describe(e);
	buf_line_text(&b, e->message);
	fprintf(stderr, "%s: warning: %s\n", prog, buf_ok(&b) && b.data ? b.data : "(no memory)");
	buf_free(&b);
}

static int write_out(const char *prog, const struct buf *b, FILE *out)
{
	if (!buf_ok(b)) {
		fprintf(stderr, "%s: %s\n", prog, strerror(ENOMEM));
		return -ENOMEM;
	}
	if ((b->len && fwrite(b->data, 1, b->len, out) != b->len) || fflush(out) != 0) {
		int r = -errno;

		fprintf(stderr, "%s: writing the report: %s\n", prog, strerror(errno));
		return r < 0 ? r : -EIO;
	}
	return 0;
}

int match_show_config(const char *prog, const struct config *cfg, const struct match_survey_opts *o, bool json,
		      FILE *out)
{
	struct match_survey_opts opts = *o;
	struct match_report rep = { 0 };
	struct buf b = { 0 };
	int r;

	opts.warn = show_warning;
	opts.warn_ctx = (void *)prog;
	r = match_survey(cfg, &opts, &rep);
	if (r < 0) {
		fprintf(stderr, "%s: reading the processes under %s: %s\n", prog, o->proc_dir, strerror(-r));
		goto out;
	}
	if (json)
		match_report_json(&rep, &b);
	else
		match_report_table(&rep, &b);
	r = write_out(prog, &b, out);
out:
	buf_free(&b);
	match_report_free(&rep);
	return r;
}

int match_show(const char *prog, const char *config_path, const struct match_survey_opts *o, bool json,
	       FILE *out)
{
	struct config *cfg = NULL;
	int r = config_load_report(config_path, &cfg, NULL, 0);

	if (r < 0)
		return r;
	r = match_show_config(prog, cfg, o, json, out);
	config_free(cfg);
	return r;
}
