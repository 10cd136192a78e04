/* The state directory's contents: the history saved and loaded, and the
 * incidents captured and tidied (persist.h says what and when).  Kept out
 * of main.c so that the event loop does not carry paths, the boot id and
 * the save's reporting state; it reaches the monitor and the actor through
 * borrowed pointers, and tells what goes wrong through the notice sink.
 *
 * The save streams the encoder's chunks into an atomic file (os/files.h),
 * the header written over its placeholder last, since its counts and
 * checksum are known only at the end.  Why not encode into memory and
 * write once: the image grows with the watched processes, and the daemon's
 * memory must not. */
#include "daemon/persist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/action_policy.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/state_codec.h"
#include "core/history_report.h"
#include "core/plot_report.h"
#include "core/status_report.h"
#include "daemon/capture.h"
#include "daemon/monitor.h"
#include "io/actor.h"
#include "os/clock.h"
#include "os/files.h"
#include "os/paths.h"
#include "os/users.h"

int state_save(const char *path, const struct judged *j, const struct action_policy *policies,
	       const char *boot_id, bool sync)
{
	struct atomic_file f;
	unsigned char header[STATE_HEADER_LEN];
	int r;

	r = atomic_file_open(&f, path, 0600);
	if (r < 0)
		return r;
	r = state_encode(j, policies, boot_id, atomic_file_write, &f, header);
	if (r < 0)
		goto fail;
	/* the placeholder at the start, replaced by the header proper */
	r = atomic_file_pwrite(&f, header, sizeof(header), 0);
	if (r < 0)
		goto fail;
	return atomic_file_commit(&f, sync);
fail:
	atomic_file_abort(&f);
	return r;
}

static int state_dir(const struct persist *p, char *out, size_t len)
{
	if (p->cfg->state_dir) {
		if (snprintf(out, len, "%s", p->cfg->state_dir) >= (int)len)
			return -ENAMETOOLONG;
		return 0;
	}
	return default_state_dir(out, len);
}

/* The history's path, and its directory. */
static int state_path(const struct persist *p, char *dir, size_t dir_len, char *out, size_t len)
{
	int r = state_dir(p, dir, dir_len);

	if (r < 0)
		return r;
	return snprintf(out, len, "%s/%s", dir, STATE_FILE) >= (int)len ? -ENAMETOOLONG : 0;
}

/* A bucket's worth of samples at most is lost to a crash: the newest
 * bucket of the shortest window, but no more often than every interval,
 * and at least once a minute. */
static void set_save_period(struct persist *p)
{
	uint64_t period = 60000;

	for (size_t i = 0; i < p->cfg->n_watches; i++)
		if (p->cfg->watches[i].window_ms / HIST_BUCKETS < period)
			period = p->cfg->watches[i].window_ms / HIST_BUCKETS;
	if (period < p->cfg->interval_ms)
		period = p->cfg->interval_ms;
	p->save_every_ms = period;
}

/* Why the file at path is not one the daemon may read back or replace
 * (file_check_mine said r), as words into out. */
static void not_mine(const char *path, int r, char *out, size_t len)
{
	struct stat st;
	char user[64];

	if (r == -ELOOP || r == -EINVAL || r == -EPERM)
		r = file_check_mine(path, &st);
	if (r == -EINVAL) {
		snprintf(out, len, "it is %s, not a regular file", file_type_name(st.st_mode));
	} else if (r == -EPERM && st.st_uid != geteuid()) {
		user_name(st.st_uid, user, sizeof(user));
		snprintf(out, len, "it is owned by %s, not by leakwatchd's user", user);
	} else if (r == -EPERM) {
		snprintf(out, len, "its group or others may write it");
	} else {
		snprintf(out, len, "%s", strerror(-r));
	}
}

void persist_save(struct persist *p)
{
	char dir[PATH_MAX] = "", path[PATH_MAX] = "", why[160] = "";
	struct stat st;
	int r;

	p->saved_ms = clock_usec(CLOCK_BOOTTIME) / 1000;
	r = state_path(p, dir, sizeof(dir), path, sizeof(path));
	if (r == 0)
		r = mkdir_p(dir, 0700);
	if (r == 0) {
		/* replace only what a save of ours left: not a FIFO or
		 * another's file that someone put there */
		r = file_check_mine(path, &st);
		if (r == -ENOENT)
			r = 0;
		else if (r < 0)
			not_mine(path, r, why, sizeof(why));
	}
	if (r == 0)
		/* streamed, never whole in memory; no fsync: the history is
		 * only of use within this boot, and the page cache outlives a
		 * crash of the daemon */
		r = state_save(path, &p->mon->j, *actor_policies(p->actor), p->boot_id, false);
	if (r < 0 && !p->save_failing && why[0])
		notice(&p->say, NOTICE_ERROR, NULL, "cannot save the history to %s: %s, so it is left as it is; "
		       "the history is not saved until it is removed", path, why);
	else if (r < 0 && !p->save_failing)
		notice(&p->say, NOTICE_ERROR, NULL, "cannot save the history to %s: %s; a restart will start it afresh",
		       path[0] ? path : dir, strerror(-r));
	else if (r == 0 && p->save_failing)
		notice(&p->say, NOTICE_LOG_INFO, NULL, "the history is saved to %s again", path);
	p->save_failing = r < 0;
}

/* Read the saved history, for the processes the first scan finds again.
 * A missing file is normal; a bad one is reported and left for the next
 * save to replace.  Read only when it is a regular file of the daemon's
 * user that no one else may write (opened without blocking: a FIFO there
 * held the start for good), and otherwise left as it is, the save too
 * leaving it (persist_save): someone put it there, and may want it. */
static void load_state(struct persist *p)
{
	struct saved_state st;
	char dir[PATH_MAX], path[PATH_MAX], why[160];
	char *data = NULL;
	size_t len = 0;
	int r = state_path(p, dir, sizeof(dir), path, sizeof(path));

	if (r == 0)
		r = file_read(AT_FDCWD, path, STATE_MAX_SIZE, FILE_REGULAR | FILE_MINE, &data, &len);
	if (r == -ENOENT)
		return;
	if (r == -ELOOP || r == -EINVAL || r == -EPERM) {
		not_mine(path, r, why, sizeof(why));
		notice(&p->say, NOTICE_WARNING, NULL, "the saved history %s is not read: %s; starting without it, "
		       "and leaving it as it is (the history is not saved until it is removed)", path, why);
		return;
	}
	if (r < 0) {
		notice(&p->say, NOTICE_WARNING, NULL, "cannot read the saved history %s: %s; starting without it", path,
		       strerror(-r));
		return;
	}
	r = state_decode(data, len, &st, why, sizeof(why));
	free(data);
	if (r < 0) {
		notice(&p->say, NOTICE_WARNING, NULL, "the saved history %s is unusable (%s); starting without it", path,
		       r == -EINVAL ? why : strerror(-r));
		return;
	}
	if (strcmp(st.boot_id, p->boot_id) != 0) {
		notice(&p->say, NOTICE_LOG_INFO, NULL, "the saved history %s is from another boot: not used", path);
	} else {
		size_t groups = monitor_restore(p->mon, &st);

		if (groups)
			notice(&p->say, NOTICE_LOG_INFO, NULL, "the group totals of %zu watch%s continue their saved "
			       "history", groups, groups == 1 ? "" : "es");
		/* cooldown and max_actions hold across the restart too */
		for (const struct saved_policy *sp = st.policies; sp; sp = sp->next) {
			const struct watch *w = config_find_watch(p->cfg, sp->watch);

			if (w)
				action_policy_restore(actor_policies(p->actor), w, sp->times, sp->n);
		}
	}
	saved_state_clear(&st);
}

/* Captures beyond the bounds, and what a crash left half-written: the
 * bounds may have changed with an upgrade, and the next capture is far. */
static void tidy_incidents(struct persist *p)
{
	char dir[PATH_MAX], incidents[PATH_MAX + 16];

	if (state_dir(p, dir, sizeof(dir)) == 0 &&
	    snprintf(incidents, sizeof(incidents), "%s/incidents", dir) < (int)sizeof(incidents))
		capture_prune(incidents, CAPTURE_MAX_COUNT, CAPTURE_MAX_BYTES);
}

static void read_boot_id(struct persist *p)
{
	ssize_t n = proc_read_file(&p->mon->root, "sys/kernel/random/boot_id", p->boot_id, sizeof(p->boot_id));

	if (n <= 0)
		snprintf(p->boot_id, sizeof(p->boot_id), "unknown");
	p->boot_id[strcspn(p->boot_id, "\n")] = '\0';
}

void persist_init(struct persist *p, const struct config *cfg, struct monitor *mon, struct actor *actor,
		  const struct notice_sink *say)
{
	*p = (struct persist){ .cfg = cfg, .mon = mon, .actor = actor, .say = *say };
}

void persist_start(struct persist *p)
{
	read_boot_id(p);
	set_save_period(p);
	p->saved_ms = clock_usec(CLOCK_BOOTTIME) / 1000;
	load_state(p);
	tidy_incidents(p);
}

void persist_set_config(struct persist *p, const struct config *cfg)
{
	p->cfg = cfg;
	set_save_period(p);
}

void persist_tick(struct persist *p, uint64_t now_ms)
{
	if (now_ms - p->saved_ms >= p->save_every_ms)
		persist_save(p);
}

/* ---- diagnostics before an action ----------------------------------------------- */

int persist_capture(void *ctx, const struct watched *w, const struct proc_handle *h, enum event_type why,
		    int metric, char *dir, size_t len)
{
	struct persist *p = ctx;
	struct buf history = { 0 }, plot = { 0 };
	char sdir[PATH_MAX];
	struct capture c = {
		.state_dir = sdir, .proc_dirfd = h->dirfd, .pid = w->pid,
		.has_live = h->tdirfd >= 0, .live_dirfd = h->tdirfd,
		.watch = p->cfg->watches[w->watch].name, .comm = w->comm, .title = w->title, .event = event_name(why),
		.metric = metric_name((enum metric)metric), .value = watched_metric(w, metric) ? watched_metric(w, metric)->value : -1,
		.wall_usec = p->mon->j.wall_usec,
	};
	int r = state_dir(p, sdir, sizeof(sdir));

	report_history_json(&history, &p->mon->j, w);
	c.history_json = buf_ok(&history) ? history.data : NULL;
	report_plot_svg(&plot, &p->mon->j, w, 0);
	c.plot_svg = buf_ok(&plot) ? plot.data : NULL;
	if (r == 0)
		r = capture_incident(&c, dir, len);
	buf_free(&history);
	buf_free(&plot);
	if (r < 0 && r != -ESRCH && r != -ENOENT) {
		struct subject s = { c.watch, w->pid, w->comm, w->title };

		notice(&p->say, NOTICE_ERROR, &s, "cannot capture diagnostics under %s/incidents: %s", sdir,
		       strerror(-r));
	}
	return r;
}
