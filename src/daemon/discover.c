/* Discovery: which processes the watches match (see discover.h). */
#include "daemon/discover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/match.h"
#include "os/proc.h"

/* A process younger than this is matched again at every discovery: it may
 * not have exec'd its real program yet.  Older non-matching pids are
 * matched again every RECHECK_MS, for the rare late exec. */
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

static unsigned slot(pid_t pid)
{
	return (unsigned)pid % PID_TABLE_SIZE;
}

struct pid_entry *discover_lookup(struct monitor *m, pid_t pid)
{
	for (struct pid_entry *e = m->table[slot(pid)]; e; e = e->next)
		if (e->info.pid == pid)
			return e;
	return NULL;
}

/* Read what the criteria need about a pid, from stat on.  A probed pid may
 * be a thread's (readdir lists group leaders alone): -ESRCH for those. */
static int read_info(struct monitor *m, pid_t pid, struct pid_entry *e, bool probe)
{
	struct proc_stat st;
	char rel[40], buf[4096];
	ssize_t n;
	bool thread = false;
	int r;

	proc_info_clear(&e->info);
	e->info.pid = pid;
	r = proc_read_stat(&m->root, pid, &st, probe ? &thread : NULL);
	if (r < 0)
		return r;
	if (thread)
		return -ESRCH;
	e->info.ppid = st.ppid;
	e->info.start_ticks = st.start_ticks;
	memcpy(e->info.comm, st.comm, sizeof(e->info.comm));
	e->start_ms = st.start_ticks * 1000 / (unsigned long long)m->hz;
	/* Never watched, but PID 1 or a zombie may still be someone's parent
	 * for a `parent:` criterion: only kernel threads are not read further. */
	e->never = pid == 1 || pid == m->self || (st.flags & PF_KTHREAD_FLAG) || st.state == 'Z';
	if (st.flags & PF_KTHREAD_FLAG)
		return 0;
	if (m->needs & NEED_CMDLINE) {
		snprintf(rel, sizeof(rel), "%d/cmdline", (int)pid);
		n = proc_read_file(&m->root, rel, m->cmdline_buf, CMDLINE_MAX);
		if (n >= 0) {
			proc_join_cmdline(m->cmdline_buf, (size_t)n);
			e->info.cmdline = strdup(m->cmdline_buf);
		}
	}
	if (m->needs & NEED_EXE) {
		snprintf(rel, sizeof(rel), "%d/exe", (int)pid);
		n = readlinkat(m->root.fd, rel, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			e->info.exe = strdup(buf);
		} else {
			e->info.exe_err = n < 0 ? -errno : -ENOENT;
		}
	}
	if (m->needs & NEED_UID) {
		snprintf(rel, sizeof(rel), "%d/status", (int)pid);
		if (proc_read_file(&m->root, rel, buf, sizeof(buf)) > 0 &&
		    proc_parse_ruid(buf, &e->info.uid) == 0)
			e->info.has_uid = true;
	}
	if (m->needs & NEED_UNIT) {
		char unit[256];

		snprintf(rel, sizeof(rel), "%d/cgroup", (int)pid);
		if (proc_read_file(&m->root, rel, buf, sizeof(buf)) > 0 &&
		    proc_parse_unit(buf, unit, sizeof(unit)) == 0)
			e->info.unit = strdup(unit);
	}
	return 0;
}

static struct pid_entry *add_entry(struct monitor *m, pid_t pid, bool probe)
{
	struct pid_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (read_info(m, pid, e, probe) < 0) {
		proc_info_clear(&e->info);
		free(e);
		return NULL;
	}
	e->gen = m->gen;
	e->next = m->table[slot(pid)];
	m->table[slot(pid)] = e;
	m->n_entries++;
	m->n_seen++;
	return e;
}

static void drop_entry(struct monitor *m, struct pid_entry *e)
{
	if (e->gen == m->gen)
		m->n_seen--;
	m->n_entries--;
	proc_info_clear(&e->info);
	free(e);
}

/* Take e out of its hash chain, then drop it. */
static void remove_entry(struct monitor *m, struct pid_entry *e)
{
	struct pid_entry **pp = &m->table[slot(e->info.pid)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	drop_entry(m, e);
}

static const struct proc_info *parent_info(void *ctx, pid_t ppid)
{
	struct monitor *m = ctx;
	struct pid_entry *e = discover_lookup(m, ppid);

	if (!e)
		e = add_entry(m, ppid, false);
	return e ? &e->info : NULL;
}

/* A pidfile we may not read (mode 0600, another user's): its watches
 * match nothing.  Said once per path and configuration. */
static void report_pidfile(struct monitor *m, const char *path, int err)
{
	struct event ev;
	char **v, *copy;

	for (size_t i = 0; i < m->n_denied_pidfiles; i++)
		if (strcmp(m->denied_pidfiles[i], path) == 0)
			return;
	v = realloc(m->denied_pidfiles, (m->n_denied_pidfiles + 1) * sizeof(*v));
	if (!v)
		return;
	m->denied_pidfiles = v;
	copy = strdup(path);
	if (!copy)
		return;     /* unsaid rather than said at every scan */
	v[m->n_denied_pidfiles++] = copy;
	monitor_event_init(m, &ev, EVENT_ERROR, NULL);
	ev.warning = true;
	event_say(&ev, "cannot read the pidfile %s: %s (leakwatchd runs as %s): the pidfile: criteria that name it "
		  "match nothing until it can be read", path, strerror(-err), m->self_user);
	monitor_emit(m, &ev);
}

static void forget_denied_pidfiles(struct monitor *m)
{
	for (size_t i = 0; i < m->n_denied_pidfiles; i++)
		free(m->denied_pidfiles[i]);
	free(m->denied_pidfiles);
	m->denied_pidfiles = NULL;
	m->n_denied_pidfiles = 0;
}

static pid_t pidfile_pid(void *ctx, const char *path)
{
	struct monitor *m = ctx;
	char buf[32];
	FILE *f;
	long pid = 0;

	for (size_t i = 0; i < m->n_pidfiles; i++)
		if (strcmp(m->pidfiles[i].path, path) == 0)
			return m->pidfiles[i].pid;
	f = fopen(path, "re");
	if (!f && proc_denied(-errno)) {
		int err = -errno;

		report_pidfile(m, path, err);
	}
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			pid = strtol(buf, NULL, 10);
		fclose(f);
	}
	if (m->n_pidfiles == m->cap_pidfiles) {
		size_t cap = m->cap_pidfiles ? 2 * m->cap_pidfiles : 4;
		void *p = realloc(m->pidfiles, cap * sizeof(*m->pidfiles));

		if (!p)
			return (pid_t)pid;
		m->pidfiles = p;
		m->cap_pidfiles = cap;
	}
	m->pidfiles[m->n_pidfiles].path = path;
	m->pidfiles[m->n_pidfiles++].pid = (pid_t)(pid > 0 ? pid : 0);
	return (pid_t)(pid > 0 ? pid : 0);
}

/* A process that a watch may match, but whose exe link (or its parent's)
 * cannot be read: not watched, and said once per watch. */
static void report_undecided(struct monitor *m, const struct pid_entry *e, size_t idx,
			     const struct proc_info *who)
{
	const struct watch *wc = &m->cfg->watches[idx];
	char user[64], whose[64];
	struct event ev;

	if (!m->undecided || m->undecided[idx])
		return;
	m->undecided[idx] = true;
	if (!who)
		who = &e->info;
	monitor_owner(m, who->pid, user, sizeof(user));
	monitor_event_init(m, &ev, EVENT_ERROR, NULL);
	ev.warning = true;
	event_about(&ev, &(struct subject){ wc->name, e->info.pid, e->info.comm });
	if (who == &e->info)
		snprintf(whose, sizeof(whose), "its executable");
	else
		snprintf(whose, sizeof(whose), "the executable of its parent, pid %d (%s),", (int)who->pid, who->comm);
	event_say(&ev, "not watched: cannot tell whether this watch matches it, as %s cannot be read: "
		  "%s (the %s runs as %s, leakwatchd as %s); exe: and python: criteria need root or "
		  "CAP_SYS_PTRACE (said once for this watch)", whose, strerror(-who->exe_err),
		  who == &e->info ? "process" : "parent", user, m->self_user);
	monitor_emit(m, &ev);
}

static void evaluate(struct monitor *m, struct pid_entry *e)
{
	struct match_unknown why = { NULL };
	int idx, undecided;

	e->checked_ms = m->now_ms;
	if (e->never || e->w)
		return;
	idx = match_watch(m->cfg, &e->info, parent_info, pidfile_pid, m, &undecided, &why);
	if (idx >= 0)
		monitor_watch(m, e, (size_t)idx);
	else if (undecided >= 0)
		report_undecided(m, e, (size_t)undecided, why.proc);
}

static bool pidfile_target(struct monitor *m, pid_t pid)
{
	for (size_t i = 0; i < m->n_pidfiles; i++)
		if (m->pidfiles[i].pid == pid)
			return true;
	return false;
}

static void read_pidfiles(struct monitor *m)
{
	m->n_pidfiles = 0;
	for (size_t i = 0; i < m->cfg->n_watches; i++)
		for (const struct match *mt = &m->cfg->watches[i].match; mt; mt = mt->parent)
			if (mt->pidfile)
				pidfile_pid(m, mt->pidfile);
}

static bool young(const struct monitor *m, const struct pid_entry *e)
{
	return !e->w && !e->never && m->now_ms < e->start_ms + YOUNG_MS;
}

/* Remember the young unmatched pids, to match them again at the next
 * discovery whatever kind it is. */
static void note_young(struct monitor *m, const struct pid_entry *e)
{
	if (!young(m, e))
		return;
	if (m->n_young == m->cap_young) {
		size_t cap = m->cap_young ? 2 * m->cap_young : 16;
		pid_t *p = realloc(m->young, cap * sizeof(*p));

		if (!p)
			return;     /* then found at the next full scan */
		m->young = p;
		m->cap_young = cap;
	}
	m->young[m->n_young++] = e->info.pid;
}

/* Whether the process known as e has been replaced by another with the
 * same pid (the pids went round since e was read): its start time differs.
 * Then e is forgotten (its watch, if any, reports it gone), and the caller
 * reads the pid afresh.  A pid gone, or a thread's, is left to the next
 * full scan. */
static bool replaced(struct monitor *m, struct pid_entry *e, bool probe)
{
	struct proc_stat st;
	bool thread = false;

	if (proc_read_stat(&m->root, e->info.pid, &st, probe ? &thread : NULL) < 0 || thread ||
	    st.start_ticks == e->info.start_ticks)
		return false;
	if (e->w)
		monitor_unwatch(m, e->w, true);
	remove_entry(m, e);
	return true;
}

/* A pid listed by the full scan (ino: its directory's inode), or named by
 * a pidfile, the young list or the last-pid counter (ino 0).  A pid listed
 * under another inode than before, or probed as new when it is known, may
 * be a new process that took a known pid: its start time tells. */
static void visit(struct monitor *m, pid_t pid, unsigned long ino, bool probe)
{
	struct pid_entry *e = discover_lookup(m, pid);

	if (e && ((ino && e->ino != ino) || probe) && replaced(m, e, probe))
		e = NULL;
	if (e && ino)
		e->ino = ino;
	if (!e) {
		if (probe)
			m->probes++;
		e = add_entry(m, pid, probe);
		if (e) {
			e->ino = ino;
			evaluate(m, e);
			note_young(m, e);
		}
		return;
	}
	if (e->gen != m->gen) {
		e->gen = m->gen;
		m->n_seen++;
	}
	if (e->w || e->never)
		return;
	if (m->rematch || m->recheck_all || m->now_ms < e->start_ms + YOUNG_MS ||
	    m->now_ms + SCAN_MIN_MS >= e->checked_ms + RECHECK_MS || pidfile_target(m, e->info.pid)) {
		if (read_info(m, e->info.pid, e, false) == 0)
			evaluate(m, e);
	}
	note_young(m, e);
}

/* Read /proc's whole directory: new pids, the re-check, and the exits. */
static void full_scan(struct monitor *m)
{
	DIR *d = m->dir;
	struct dirent *de;

	m->gen++;
	m->n_seen = 0;
	m->n_young = 0;
	/* Read the pidfiles first, so a pid named in one is matched again. */
	read_pidfiles(m);
	rewinddir(d);
	while ((de = readdir(d))) {
		pid_t pid = proc_name_pid(de->d_name);

		if (pid > 0)
			visit(m, pid, (unsigned long)de->d_ino, false);
	}
	m->rematch = false;
	m->recheck_all = false;
	m->last_full_ms = m->now_ms;
	m->full_scans++;
	if (m->n_seen == m->n_entries)
		return;     /* every pid known was listed: none exited */

	/* Forget the pids that were not listed: they exited. */
	for (unsigned i = 0; i < PID_TABLE_SIZE; i++) {
		struct pid_entry **pp = &m->table[i];

		while (*pp) {
			struct pid_entry *e = *pp;

			if (e->gen != m->gen) {
				*pp = e->next;
				if (e->w)
					monitor_unwatch(m, e->w, true);
				drop_entry(m, e);
			} else {
				pp = &e->next;
			}
		}
	}
}

/* The pids allocated since the last discovery, looked up by number, then
 * the young ones and those named by pidfiles matched again.  Exits of
 * unwatched processes wait for the next full scan. */
static void probe_scan(struct monitor *m, long from, long to)
{
	size_t n_young = m->n_young;
	pid_t *old = NULL;

	read_pidfiles(m);
	if (n_young) {
		old = m->young;
		m->young = NULL;
		m->cap_young = m->n_young = 0;
	}
	for (long pid = from; pid <= to; pid++)
		visit(m, (pid_t)pid, 0, true);
	for (size_t i = 0; i < n_young; i++) {
		struct pid_entry *e = discover_lookup(m, old[i]);

		if (e && young(m, e) && e->checked_ms != m->now_ms)
			visit(m, old[i], 0, false);
	}
	free(old);
	for (size_t i = 0; i < m->n_pidfiles; i++) {
		pid_t pid = m->pidfiles[i].pid;
		struct pid_entry *e = pid > 0 ? discover_lookup(m, pid) : NULL;

		if (pid > 0 && (!e || e->checked_ms != m->now_ms))
			visit(m, pid, 0, true);
	}
}

static int read_last_pid(struct monitor *m, long *pid)
{
	char buf[128];
	ssize_t n;

	if (m->loadavg_fd < 0)
		return -ENOENT;
	n = pread(m->loadavg_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	return proc_parse_last_pid(buf, (size_t)n, pid);
}

void discover_run(struct monitor *m)
{
	long last = -1, fresh;

	if (read_last_pid(m, &last) < 0)
		last = -1;
	fresh = last - m->last_pid;
	if (m->gen && m->now_ms + SCAN_SLACK_MS >= m->last_full_ms + RECHECK_MS) {
		/* the minute is up: match every pid again, once */
		m->recheck_all = true;
		full_scan(m);
	} else if (m->gen == 0 || m->rematch || last < 0 || m->last_pid < 0 || fresh < 0 ||
		   (fresh > PROBE_MAX && (size_t)fresh > m->n_entries / 4)) {
		full_scan(m);
	} else {
		probe_scan(m, m->last_pid + 1, last);
	}
	/* read before the scan: a pid allocated during it is probed next time
	 * (and found known, if the scan listed it) */
	m->last_pid = last;
}

/* A watched process is gone: has a new process taken its pid already?  Then
 * this tick's discovery listed the pid under the old entry, and a probe
 * covers only the pids allocated since the last discovery: it would wait
 * for the next full scan, up to a minute.  So it is looked up now.  Not
 * while the pid is a zombie's (the old one, or already the next): a
 * process that takes it later is new to the discovery after. */
void discover_reuse(struct monitor *m, pid_t pid, unsigned long long start_ticks)
{
	struct proc_stat st;

	if (proc_read_stat(&m->root, pid, &st, NULL) < 0 || st.start_ticks == start_ticks ||
	    st.state == 'Z' || st.state == 'X')
		return;
	visit(m, pid, 0, true);
}

/* loadavg's last pid counts in our own pid namespace: probe only when the
 * root is a /proc of that namespace (its "self" is us). */
static int open_loadavg(const struct proc_root *root, pid_t self)
{
	char link[32], want[32];
	ssize_t n = readlinkat(root->fd, "self", link, sizeof(link) - 1);

	if (n <= 0)
		return -1;
	link[n] = '\0';
	snprintf(want, sizeof(want), "%d", (int)self);
	if (strcmp(link, want) != 0)
		return -1;
	return openat(root->fd, "loadavg", O_RDONLY | O_CLOEXEC);
}

int discover_init(struct monitor *m)
{
	int fd;

	m->loadavg_fd = -1;
	m->last_pid = -1;
	m->needs = match_needs(m->cfg);
	m->cmdline_buf = malloc(CMDLINE_MAX);
	m->undecided = calloc(m->cfg->n_watches + 1, sizeof(*m->undecided));
	if (!m->cmdline_buf || !m->undecided)
		return -ENOMEM;
	fd = openat(m->root.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(m->dir = fdopendir(fd))) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return r;
	}
	m->loadavg_fd = open_loadavg(&m->root, m->self);
	return 0;
}

void discover_reconfigure(struct monitor *m)
{
	m->needs = match_needs(m->cfg);
	m->rematch = true;
	forget_denied_pidfiles(m);
	free(m->undecided);
	/* NULL: the undecidable are not reported (report_undecided) */
	m->undecided = calloc(m->cfg->n_watches + 1, sizeof(*m->undecided));
}

void discover_exited(struct monitor *m, pid_t pid)
{
	struct pid_entry *e = discover_lookup(m, pid);

	if (e)
		remove_entry(m, e);
}

void discover_never(struct monitor *m, pid_t pid)
{
	struct pid_entry *e = discover_lookup(m, pid);

	if (e) {
		e->w = NULL;
		e->never = true;
	}
}

void discover_free(struct monitor *m)
{
	for (unsigned i = 0; i < PID_TABLE_SIZE; i++)
		while (m->table[i]) {
			struct pid_entry *e = m->table[i];

			m->table[i] = e->next;
			proc_info_clear(&e->info);
			free(e);
		}
	m->n_entries = m->n_seen = 0;
	if (m->dir)
		closedir(m->dir);
	m->dir = NULL;
	free(m->pidfiles);
	m->pidfiles = NULL;
	m->n_pidfiles = m->cap_pidfiles = 0;
	free(m->young);
	m->young = NULL;
	m->n_young = m->cap_young = 0;
	if (m->loadavg_fd >= 0)
		close(m->loadavg_fd);
	m->loadavg_fd = -1;
	free(m->cmdline_buf);
	m->cmdline_buf = NULL;
	free(m->undecided);
	m->undecided = NULL;
	forget_denied_pidfiles(m);
}
