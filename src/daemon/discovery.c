/* Discovery: which processes the watches match (see discovery.h). */
#include "daemon/discovery.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/match.h"
#include "os/proc.h"
#include "os/users.h"

/* A process younger than this is matched again at every discovery, and
 * once more at the first discovery after it is that old: it may not have
 * exec'd its real program or set its title yet (a pool child a server
 * forks titles itself a moment later).  Discoveries run at the tick
 * interval (5 s in the shipped example), so the "once more" is what
 * catches a process that was 0.1 s old at one and 5.1 s at the next.
 * Older non-matching pids are matched again every RECHECK_MS, for the rare
 * late exec. */
#define YOUNG_MS   3000
#define RECHECK_MS 60000

/* Discovery reads /proc's whole directory (a full scan) only every
 * RECHECK_MS, or when it cannot know which pids are new.  In between, the
 * last-pid field of /proc/loadavg says whether any pid was allocated since
 * the last discovery, and which: pids are allocated upward, so the new ones
 * are (last, now], and each is looked up by number (a probe).  A full scan
 * instead when the pids wrapped, or when there are more new pids than
 * PROBE_MAX and a quarter of the known ones (a readdir is then cheaper).
 *
 * A pid is known by its number, but the numbers go round (at pid_max
 * 32768, a fork storm reuses them within seconds): a known pid that a full
 * scan lists under another inode of /proc/PID (the kernel makes one per
 * process), or that the counter says is new, is read again, and when its
 * start time differs it is a new process, matched afresh.  Otherwise it
 * would inherit what was known of the old one: unmatched until the next
 * re-check, or never watched, if the old one was a zombie. */
#define PROBE_MAX 64

/* ---- the result ------------------------------------------------------------ */

static void found(struct discovery *d, const struct pid_entry *e, size_t idx)
{
	struct discovery_result *r = &d->res;
	struct discovery_found *f;

	if (r->n_found == r->cap_found) {
		size_t cap = r->cap_found ? 2 * r->cap_found : 16;
		void *p = realloc(r->found, cap * sizeof(*r->found));

		if (!p)
			return;     /* then found at the next re-check */
		r->found = p;
		r->cap_found = cap;
	}
	f = &r->found[r->n_found++];
	f->pid = e->info.pid;
	f->start_ticks = e->info.start_ticks;
	f->start_ms = e->start_ms;
	f->watch = idx;
	memcpy(f->comm, e->info.comm, sizeof(f->comm));
	f->gone_before = r->n_gone;
}

/* A watched entry is about to be dropped: its owner is handed back.  The
 * room was reserved when it was claimed. */
static void gone(void *ctx, const struct pid_entry *e)
{
	struct discovery *d = ctx;
	struct discovery_result *r = &d->res;

	r->gone[r->n_gone].pid = e->info.pid;
	r->gone[r->n_gone++].owner = e->owner;
	d->n_owned--;
}

static void note_young(struct discovery *d, struct pid_entry *e);

int discovery_claim(struct discovery *d, pid_t pid, void *owner)
{
	struct pid_entry *e = pid_table_lookup(&d->t, pid);
	struct discovery_result *r = &d->res;

	if (!e)
		return -ESRCH;
	if (owner && !e->owner) {
		if (d->n_owned + 1 > r->cap_gone) {
			size_t cap = r->cap_gone ? 2 * r->cap_gone : 16;
			void *p = realloc(r->gone, cap * sizeof(*r->gone));

			if (!p)
				return -ENOMEM;
			r->gone = p;
			r->cap_gone = cap;
		}
		d->n_owned++;
	} else if (!owner && e->owner) {
		d->n_owned--;
	}
	e->owner = owner;
	if (!owner)
		note_young(d, e);   /* matched again at the next discovery while young */
	return 0;
}

static void result_clear(struct discovery *d)
{
	d->res.n_found = d->res.n_gone = 0;
}

/* ---- matching ----------------------------------------------------------------- */

static const struct proc_info *parent_info(void *ctx, pid_t ppid)
{
	struct discovery *d = ctx;
	struct pid_entry *e = pid_table_lookup(&d->t, ppid);

	if (!e)
		e = pid_table_add(&d->t, &d->rd, ppid, false);
	return e ? &e->info : NULL;
}

static void pidfile_pid(void *ctx, const char *path, struct pidfile_pid *out)
{
	struct discovery *d = ctx;

	pidfiles_pid(&d->pidfiles, path, out);
}

/* A process that a watch may match, but whose exe link (or its parent's)
 * cannot be read: not watched, and said once per watch. */
static void report_undecided(struct discovery *d, const struct pid_entry *e, size_t idx,
			     const struct proc_info *who)
{
	const struct watch *wc = &d->cfg->watches[idx];
	char user[64], whose[64];
	struct event ev;

	if (!d->undecided || d->undecided[idx])
		return;
	d->undecided[idx] = true;
	if (!who)
		who = &e->info;
	user_of_pid(d->rd.root, who->pid, user, sizeof(user));
	event_init(&ev, EVENT_ERROR, 0);
	ev.warning = true;
	event_about(&ev, &(struct subject){ wc->name, e->info.pid, e->info.comm, NULL });
	if (who == &e->info)
		snprintf(whose, sizeof(whose), "its executable");
	else
		snprintf(whose, sizeof(whose), "the executable of its parent, pid %d (%s),", (int)who->pid, who->comm);
	event_say(&ev, "not watched: cannot tell whether this watch matches it, as %s cannot be read: "
		  "%s (the %s runs as %s, leakwatchd as %s); exe: and python: criteria need root or "
		  "CAP_SYS_PTRACE (said once for this watch)", whose, strerror(-who->exe_err),
		  who == &e->info ? "process" : "parent", user, d->self_user);
	if (d->warn)
		d->warn(d->warn_ctx, &ev);
}

/* Match e against the watches: true when a watch matches it (it is in
 * the found list then). */
static bool evaluate(struct discovery *d, struct pid_entry *e)
{
	struct match_unknown why = { 0 };
	int idx, undecided;

	e->checked_ms = d->now_ms;
	if (e->never || e->owner)
		return false;
	idx = match_watch(d->cfg, &e->info, parent_info, pidfile_pid, d, &undecided, &why);
	if (why.refused_pidfile)
		pidfiles_refused(&d->pidfiles, why.refused_pidfile, why.refused_proc);
	if (idx >= 0) {
		found(d, e, (size_t)idx);
		return true;
	}
	if (undecided >= 0)
		report_undecided(d, e, (size_t)undecided, why.proc);
	return false;
}

static bool young(const struct discovery *d, const struct pid_entry *e)
{
	return !e->owner && !e->never && d->now_ms < e->start_ms + YOUNG_MS;
}

/* Match e again at the next discovery, whatever kind it is, and whatever
 * its age then: on the young list, which probe scans go through. */
static void recheck(struct discovery *d, struct pid_entry *e)
{
	e->recheck = true;
	if (d->n_young == d->cap_young) {
		size_t cap = d->cap_young ? 2 * d->cap_young : 16;
		pid_t *p = realloc(d->young, cap * sizeof(*p));

		if (!p)
			return;     /* then found at the next full scan */
		d->young = p;
		d->cap_young = cap;
	}
	d->young[d->n_young++] = e->info.pid;
}

/* Remember the young unmatched pids, to match them again at the next
 * discovery (their title may not be set yet). */
static void note_young(struct discovery *d, struct pid_entry *e)
{
	if (young(d, e))
		recheck(d, e);
}

/* Whether the process known as e has been replaced by another with the
 * same pid (the pids went round since e was read): its start time differs.
 * Then e is forgotten (when watched, it is gone), and the caller reads the
 * pid afresh.  A pid gone, or a thread's, is left to the next full scan. */
static bool replaced(struct discovery *d, struct pid_entry *e, bool probe)
{
	struct proc_stat st;
	bool thread = false;

	if (proc_read_stat(d->rd.root, e->info.pid, &st, probe ? &thread : NULL) < 0 || thread ||
	    st.start_ticks == e->info.start_ticks)
		return false;
	if (e->owner)
		gone(d, e);
	pid_table_remove(&d->t, e);
	return true;
}

/* A pid listed by the full scan (ino: its directory's inode), or named by
 * a pidfile, the young list or the last-pid counter (ino 0).  A pid listed
 * under another inode than before, or probed as new when it is known, may
 * be a new process that took a known pid: its start time tells. */
static void visit(struct discovery *d, pid_t pid, unsigned long ino, bool probe)
{
	struct pid_entry *e = pid_table_lookup(&d->t, pid);
	bool recheck;

	if (e && ((ino && e->ino != ino) || probe) && replaced(d, e, probe))
		e = NULL;
	if (e && ino)
		e->ino = ino;
	if (!e) {
		if (probe)
			d->probes++;
		e = pid_table_add(&d->t, &d->rd, pid, probe);
		if (e) {
			e->ino = ino;
			if (!evaluate(d, e))
				note_young(d, e);
		}
		return;
	}
	pid_table_seen(&d->t, e);
	if (e->owner || e->never)
		return;
	recheck = e->recheck;
	e->recheck = false;
	if (d->rematch || d->recheck_all || recheck || d->now_ms < e->start_ms + YOUNG_MS ||
	    d->now_ms + SCAN_MIN_MS >= e->checked_ms + RECHECK_MS || pidfiles_names(&d->pidfiles, e->info.pid)) {
		if (pid_read(&d->rd, e->info.pid, e, false) == 0 && evaluate(d, e))
			return;
	}
	note_young(d, e);
}

/* Read /proc's whole directory: new pids, the re-check, and the exits. */
static void full_scan(struct discovery *d)
{
	DIR *dir = d->dir;
	struct dirent *de;

	d->t.gen++;
	d->t.n_seen = 0;
	d->n_young = 0;
	/* Read the pidfiles first, so a pid named in one is matched again. */
	pidfiles_read(&d->pidfiles, d->cfg);
	rewinddir(dir);
	while ((de = readdir(dir))) {
		pid_t pid = proc_name_pid(de->d_name);

		if (pid > 0)
			visit(d, pid, (unsigned long)de->d_ino, false);
	}
	d->rematch = false;
	d->recheck_all = false;
	d->last_full_ms = d->now_ms;
	d->full_scans++;
	/* Forget the pids that were not listed: they exited. */
	pid_table_sweep(&d->t, gone, d);
}

/* The pids allocated since the last discovery, looked up by number, then
 * the young ones and those named by pidfiles matched again.  Exits of
 * unwatched processes wait for the next full scan.  The young list is
 * swapped with its spare, so as not to be allocated again. */
static void probe_scan(struct discovery *d, long from, long to)
{
	size_t n_young = d->n_young, cap = d->cap_young;
	pid_t *old = d->young;

	pidfiles_read(&d->pidfiles, d->cfg);
	d->young = d->spare_young;
	d->cap_young = d->cap_spare_young;
	d->n_young = 0;
	d->spare_young = old;
	d->cap_spare_young = cap;
	for (long pid = from; pid <= to; pid++)
		visit(d, (pid_t)pid, 0, true);
	for (size_t i = 0; i < n_young; i++) {
		struct pid_entry *e = pid_table_lookup(&d->t, old[i]);

		if (e && e->recheck && e->checked_ms != d->now_ms)
			visit(d, old[i], 0, false);
	}
	for (size_t i = 0; i < d->pidfiles.n; i++) {
		pid_t pid = d->pidfiles.v[i].pf.pid;
		struct pid_entry *e = pid > 0 ? pid_table_lookup(&d->t, pid) : NULL;

		if (pid > 0 && (!e || e->checked_ms != d->now_ms))
			visit(d, pid, 0, true);
	}
}

bool discovery_due(const struct discovery *d, uint64_t now_ms)
{
	return d->t.gen == 0 || d->rematch || now_ms + SCAN_SLACK_MS >= d->last_scan_ms + SCAN_MIN_MS;
}

void discovery_scan(struct discovery *d, uint64_t now_ms)
{
	long last = -1, fresh;

	d->now_ms = d->last_scan_ms = now_ms;
	d->scans++;
	result_clear(d);
	if (proc_read_last_pid(d->loadavg_fd, &last) < 0)
		last = -1;
	fresh = last - d->last_pid;
	if (d->t.gen && d->now_ms + SCAN_SLACK_MS >= d->last_full_ms + RECHECK_MS) {
		/* the minute is up: match every pid again, once */
		d->recheck_all = true;
		full_scan(d);
	} else if (d->t.gen == 0 || d->rematch || last < 0 || d->last_pid < 0 || fresh < 0 ||
		   (fresh > PROBE_MAX && (size_t)fresh > d->t.n_entries / 4)) {
		full_scan(d);
	} else {
		probe_scan(d, d->last_pid + 1, last);
	}
	/* read before the scan: a pid allocated during it is probed next time
	 * (and found known, if the scan listed it) */
	d->last_pid = last;
}

/* A watched process is gone: has a new process taken its pid already?  Then
 * this tick's discovery listed the pid under the old entry, and a probe
 * covers only the pids allocated since the last discovery: it would wait
 * for the next full scan, up to a minute.  So it is looked up now.  Not
 * while the pid is a zombie's (the old one, or already the next): a
 * process that takes it later is new to the discovery after.  One whose
 * leader alone has exited is no zombie (proc_leader_exited). */
void discovery_reuse(struct discovery *d, uint64_t now_ms, pid_t pid, unsigned long long start_ticks)
{
	struct proc_stat st;

	result_clear(d);
	d->now_ms = now_ms;
	if (proc_read_stat(d->rd.root, pid, &st, NULL) < 0 || st.start_ticks == start_ticks ||
	    (proc_stat_dead(&st) && !proc_leader_exited(&st)))
		return;
	visit(d, pid, 0, true);
}

int discovery_init(struct discovery *d, const struct proc_root *root, const struct config *cfg,
		   pid_t self, const char *self_user, discovery_warn_fn warn, void *warn_ctx)
{
	int fd;

	memset(d, 0, sizeof(*d));
	d->loadavg_fd = -1;
	d->last_pid = -1;
	d->cfg = cfg;
	d->warn = warn;
	d->warn_ctx = warn_ctx;
	d->rd.root = root;
	d->rd.self = self;
	d->rd.hz = sysconf(_SC_CLK_TCK);
	d->rd.needs = match_needs(cfg);
	d->self_user = self_user;
	pidfiles_init(&d->pidfiles, self_user, warn, warn_ctx);
	d->rd.cmdline_buf = malloc(CMDLINE_MAX);
	d->undecided = calloc(cfg->n_watches + 1, sizeof(*d->undecided));
	if (!d->rd.cmdline_buf || !d->undecided)
		return -ENOMEM;
	fd = openat(root->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d->dir = fdopendir(fd))) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return r;
	}
	d->loadavg_fd = proc_open_loadavg(root, self);
	return 0;
}

void discovery_reconfigure(struct discovery *d, const struct config *cfg)
{
	d->cfg = cfg;
	d->rd.needs = match_needs(cfg);
	d->rematch = true;
	pidfiles_forget_denied(&d->pidfiles);
	free(d->undecided);
	/* NULL: the undecidable are not reported (report_undecided) */
	d->undecided = calloc(cfg->n_watches + 1, sizeof(*d->undecided));
}

/* The entry is no longer the monitor's. */
static void disown(struct discovery *d, struct pid_entry *e)
{
	if (e->owner)
		d->n_owned--;
	e->owner = NULL;
}

void discovery_exited(struct discovery *d, pid_t pid)
{
	struct pid_entry *e = pid_table_lookup(&d->t, pid);

	if (e) {
		disown(d, e);
		pid_table_remove(&d->t, e);
	}
}

void discovery_never(struct discovery *d, pid_t pid)
{
	struct pid_entry *e = pid_table_lookup(&d->t, pid);

	if (e) {
		disown(d, e);
		e->never = true;
	}
}

void discovery_rematch(struct discovery *d, pid_t pid)
{
	struct pid_entry *e = pid_table_lookup(&d->t, pid);

	if (e && !e->never) {
		disown(d, e);
		recheck(d, e);
	}
}

void discovery_free(struct discovery *d)
{
	pid_table_free(&d->t);
	if (d->dir)
		closedir(d->dir);
	d->dir = NULL;
	pidfiles_free(&d->pidfiles);
	free(d->young);
	free(d->spare_young);
	d->young = d->spare_young = NULL;
	d->n_young = d->cap_young = d->cap_spare_young = 0;
	if (d->loadavg_fd >= 0)
		close(d->loadavg_fd);
	d->loadavg_fd = -1;
	free(d->rd.cmdline_buf);
	d->rd.cmdline_buf = NULL;
	free(d->undecided);
	d->undecided = NULL;
	free(d->res.found);
	free(d->res.gone);
	memset(&d->res, 0, sizeof(d->res));
	d->n_owned = 0;
}
