/* leakwatchd: command line, configuration, and the event loop (sd-event):
 * a timer that ticks the monitor every interval, SIGTERM/SIGINT to stop,
 * SIGHUP to reload, and sd_notify for systemd.  Only this file logs and
 * exits; everything it calls returns 0 or -errno. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "io/actor.h"
#include "core/action_policy.h"
#include "daemon/capture.h"
#include "os/config_file.h"
#include "os/clock.h"
#include "core/config.h"
#include "io/control.h"
#include "core/event.h"
#include "io/event_sink.h"
#include "os/files.h"
#include "io/httpd.h"
#include "io/log.h"
#include "core/prometheus.h"
#include "daemon/monitor.h"
#include "os/paths.h"
#include "core/status_report.h"
#include "core/state_codec.h"
#include "daemon/persist.h"

enum { EXIT_CONFIG = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

struct daemon {
	const char *config_path;
	struct config *cfg;
	struct monitor mon;
	enum log_target target;
	bool dry_run;              /* in force: --dry-run or the config's dry_run */
	bool dry_run_flag;         /* --dry-run was given */
	uint64_t interval_us;
	uint64_t next_us;
	sd_event_source *timer;
	struct actor *actor;
	struct control *control;   /* NULL when the socket could not be set up */
	char status[180];          /* the last STATUS= sent */
	bool ready;
	uint64_t save_every_ms;    /* how often the history is saved */
	uint64_t saved_ms;         /* when it was last saved (boot-time ms) */
	bool save_failing;         /* the last save failed (reported once) */
	char boot_id[40];
	struct buf scratch;        /* for the textfile, reused */
	struct metrics_counters counters;
	struct rlimit nofile;      /* RLIMIT_NOFILE as started, for exec commands */
	struct httpd *httpd;       /* metrics: listen, when on */
	char *listening;           /* the address it listens on */
	uint64_t textfile_ms;      /* when the textfile was last written */
	bool textfile_failing;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: leakwatchd [-c FILE] [-t] [--dry-run] [--log-target=auto|journal|console|json]\n"
		"\n"
		"Watch processes for memory, file descriptor and thread leaks.\n"
		"\n"
		"  -c, --config FILE    configuration file (default " DEFAULT_CONFIG ")\n"
		"  -t, --check-config   check the configuration, print 'configuration OK' and exit;\n"
		"                       a FILE after it is the same as -c FILE\n"
		"      --dry-run        evaluate everything, take no action\n"
		"      --log-target=T   auto (default), journal, console or json\n"
		"  -h, --help           show this help and exit\n"
		"  -V, --version        show the version and exit\n");
}

static void on_event(void *ctx, struct event *e)
{
	struct daemon *d = ctx;

	metrics_count_event(&d->counters, e);
	event_emit(d->target, e);   /* a refused journal entry goes to stderr */
}

/* An error event about s (NULL: the daemon itself); warning says it
 * loses nothing (priority warning). */
static void error_event(struct daemon *d, const struct subject *s, bool warning, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void error_event(struct daemon *d, const struct subject *s, bool warning, const char *fmt, ...)
{
	struct event ev;
	va_list ap;

	event_init(&ev, EVENT_ERROR, clock_usec(CLOCK_REALTIME));
	if (s)
		event_about(&ev, s);
	ev.warning = warning;
	va_start(ap, fmt);
	vsnprintf(ev.detail, sizeof(ev.detail), fmt, ap);
	va_end(ap);
	event_describe(&ev);
	on_event(d, &ev);
}

/* READY=1 after the first scan and after each reload; STATUS= (one line:
 * what is watched, what leaks, what is over its limit) whenever it changes. */
static void notify_status(struct daemon *d)
{
	char summary[160], status[180];

	if (!getenv("NOTIFY_SOCKET"))
		return;     /* not under systemd: nobody to tell */
	report_summary(&d->mon.j, summary, sizeof(summary));
	snprintf(status, sizeof(status), "%s%s", summary, d->dry_run ? " (dry run)" : "");
	if (d->ready && strcmp(status, d->status) == 0)
		return;
	snprintf(d->status, sizeof(d->status), "%s", status);
	sd_notifyf(0, "%sSTATUS=%s", d->ready ? "" : "READY=1\n", status);
	d->ready = true;
}

static void on_control(void *ctx, const char *request, struct buf *reply)
{
	struct daemon *d = ctx;

	report_answer(&d->mon.j, request, reply);
}

/* The control socket for leakwatchctl; the daemon runs on without it. */
static void open_control(struct daemon *d, sd_event *e)
{
	char dir[256], path[300];
	int r = runtime_dir(dir, sizeof(dir));

	snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_SOCKET);
	if (r == 0)
		r = control_new(&d->control, e, path, on_control, d);
	if (r == -EADDRINUSE)
		error_event(d, NULL, true, "another leakwatchd answers on %s: leakwatchctl will not reach this one", path);
	else if (r < 0)
		error_event(d, NULL, true, "control socket %s: %s: leakwatchctl will not reach this daemon", path,
			    strerror(-r));
}

/* /proc mounted with hidepid= (systemd's ProtectProc=, or by hand) keeps
 * other users' processes from an unprivileged daemon: said once, at start,
 * as nothing else would tell. */
static bool in_group(gid_t gid)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	if (getegid() == gid)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static void warn_hidepid(struct daemon *d)
{
	struct proc_mount pm;
	char status[4096];
	uint64_t caps = 0;

	if (proc_root_mount(&d->mon.root, &pm) < 0)
		return;
	if (proc_read_file(&d->mon.root, "self/status", status, sizeof(status)) > 0)
		proc_parse_cap_eff(status, &caps);
	if (!proc_mount_hides(&pm, caps, pm.has_gid && in_group(pm.gid)))
		return;
	error_event(d, NULL, true, "/proc is mounted with hidepid=%s: leakwatchd runs as %s and %s, so it cannot "
		    "watch other users' processes; run it as root, with CAP_SYS_PTRACE, or in the group of "
		    "the mount's gid= option",
		    proc_hidepid_name(pm.hidepid), d->mon.self_user,
		    pm.hidepid == HIDEPID_NOACCESS ? "may not read them" : "sees only its own user's processes");
}

/* ---- history that survives a restart ---------------------------------------- */

static int state_dir(const struct daemon *d, char *out, size_t len)
{
	if (d->cfg->state_dir) {
		if (snprintf(out, len, "%s", d->cfg->state_dir) >= (int)len)
			return -ENAMETOOLONG;
		return 0;
	}
	return default_state_dir(out, len);
}

static int state_path(const struct daemon *d, char *out, size_t len)
{
	char dir[PATH_MAX];
	int r = state_dir(d, dir, sizeof(dir));

	if (r < 0)
		return r;
	return snprintf(out, len, "%s/%s", dir, STATE_FILE) >= (int)len ? -ENAMETOOLONG : 0;
}

/* A bucket's worth of samples at most is lost to a crash: the newest
 * bucket of the shortest window, but no more often than every interval,
 * and at least once a minute. */
static void set_save_period(struct daemon *d)
{
	uint64_t p = 60000;

	for (size_t i = 0; i < d->cfg->n_watches; i++)
		if (d->cfg->watches[i].window_ms / HIST_BUCKETS < p)
			p = d->cfg->watches[i].window_ms / HIST_BUCKETS;
	if (p < d->cfg->interval_ms)
		p = d->cfg->interval_ms;
	d->save_every_ms = p;
}

static void save_state(struct daemon *d)
{
	char dir[PATH_MAX] = "", path[PATH_MAX] = "";
	int r;

	d->saved_ms = clock_usec(CLOCK_BOOTTIME) / 1000;
	r = state_dir(d, dir, sizeof(dir));
	if (r == 0)
		r = state_path(d, path, sizeof(path));
	if (r == 0)
		r = mkdir_p(dir, 0700);
	if (r == 0)
		/* streamed, never whole in memory; no fsync: the history is
		 * only of use within this boot, and the page cache outlives a
		 * crash of the daemon */
		r = state_save(path, &d->mon.j, *actor_policies(d->actor), d->boot_id, false);
	if (r < 0 && !d->save_failing)
		error_event(d, NULL, false, "cannot save the history to %s: %s; a restart will start it afresh",
			    path[0] ? path : dir, strerror(-r));
	else if (r == 0 && d->save_failing)
		log_info("the history is saved to %s again", path);
	d->save_failing = r < 0;
}

/* Read the saved history, for the processes the first scan finds again.
 * A missing file is normal; a bad one is reported and left for the next
 * save to replace. */
static void load_state(struct daemon *d)
{
	struct saved_state st;
	char path[PATH_MAX], why[160];
	char *data = NULL;
	size_t len = 0;
	int r = state_path(d, path, sizeof(path));

	if (r == 0)
		r = file_read(AT_FDCWD, path, STATE_MAX_SIZE, FILE_REGULAR, &data, &len);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		error_event(d, NULL, true, "cannot read the saved history %s: %s; starting without it", path, strerror(-r));
		return;
	}
	r = state_decode(data, len, &st, why, sizeof(why));
	free(data);
	if (r < 0) {
		error_event(d, NULL, true, "the saved history %s is unusable (%s); starting without it", path,
			    r == -EINVAL ? why : strerror(-r));
		return;
	}
	if (strcmp(st.boot_id, d->boot_id) != 0) {
		log_info("the saved history %s is from another boot: not used", path);
	} else {
		monitor_restore(&d->mon, &st);
		/* cooldown and max_actions hold across the restart too */
		for (const struct saved_policy *p = st.policies; p; p = p->next) {
			const struct watch *w = config_find_watch(d->cfg, p->watch);

			if (w)
				action_policy_restore(actor_policies(d->actor), w, p->times, p->n);
		}
	}
	saved_state_clear(&st);
}

/* Captures beyond the bounds, and what a crash left half-written: the
 * bounds may have changed with an upgrade, and the next capture is far. */
static void tidy_incidents(struct daemon *d)
{
	char dir[PATH_MAX], incidents[PATH_MAX + 16];

	if (state_dir(d, dir, sizeof(dir)) == 0 &&
	    snprintf(incidents, sizeof(incidents), "%s/incidents", dir) < (int)sizeof(incidents))
		capture_prune(incidents, CAPTURE_MAX_COUNT, CAPTURE_MAX_BYTES);
}

static void read_boot_id(struct daemon *d)
{
	ssize_t n = proc_read_file(&d->mon.root, "sys/kernel/random/boot_id", d->boot_id, sizeof(d->boot_id));

	if (n <= 0)
		snprintf(d->boot_id, sizeof(d->boot_id), "unknown");
	d->boot_id[strcspn(d->boot_id, "\n")] = '\0';
}

/* ---- Prometheus metrics ------------------------------------------------------- */

static void render_metrics(void *ctx, struct buf *out)
{
	struct daemon *d = ctx;

	metrics_render(out, &d->mon.j, &d->counters);
}

/* The textfile for node_exporter: rewritten whole (renamed into place)
 * every interval, at most once a second. */
static void write_textfile(struct daemon *d, uint64_t now_ms)
{
	const char *path = d->cfg->metrics_textfile;
	int r;

	if (!path || now_ms - d->textfile_ms < 1000)
		return;
	d->textfile_ms = now_ms;
	buf_reset(&d->scratch);
	metrics_render(&d->scratch, &d->mon.j, &d->counters);
	r = buf_ok(&d->scratch) ? write_file_atomic(path, d->scratch.data, d->scratch.len, 0644, false) : -ENOMEM;
	if (r < 0 && !d->textfile_failing)
		error_event(d, NULL, false, "cannot write the metrics textfile %s: %s", path, strerror(-r));
	else if (r == 0 && d->textfile_failing)
		log_info("the metrics textfile %s is written again", path);
	d->textfile_failing = r < 0;
}

/* Start, move or stop the HTTP endpoint to match the config. */
static void set_listen(struct daemon *d, sd_event *e)
{
	const char *want = d->cfg->metrics_listen;
	int r;

	if (want && d->listening && strcmp(want, d->listening) == 0)
		return;
	httpd_free(d->httpd);
	d->httpd = NULL;
	free(d->listening);
	d->listening = NULL;
	if (!want)
		return;
	r = httpd_new(&d->httpd, e, want, render_metrics, d);
	if (r < 0) {
		error_event(d, NULL, false, "metrics: cannot listen on %s: %s; no HTTP endpoint", want,
			    r == -EADDRNOTAVAIL ? "no such address" :
			    r == -ELIBACC ? "libmicrohttpd.so.12 cannot be loaded (Debian: libmicrohttpd12)" :
			    strerror(-r));
		return;
	}
	d->listening = strdup(want);
	log_info("metrics served on http://%s/metrics", want);
}

/* ---- diagnostics before an action ----------------------------------------------- */

static int on_capture(void *ctx, const struct watched *w, int procfd, enum event_type why, int metric,
		      char *dir, size_t len)
{
	struct daemon *d = ctx;
	struct buf history = { 0 };
	char sdir[PATH_MAX];
	struct capture c = {
		.state_dir = sdir, .proc_dirfd = procfd, .pid = w->pid,
		.watch = d->cfg->watches[w->watch].name, .comm = w->comm, .event = event_name(why),
		.metric = metric_name((enum metric)metric), .value = w->m[metric].value,
		.wall_usec = d->mon.j.wall_usec,
	};
	int r = state_dir(d, sdir, sizeof(sdir));

	report_history_json(&history, &d->mon.j, w);
	c.history_json = buf_ok(&history) ? history.data : NULL;
	if (r == 0)
		r = capture_incident(&c, dir, len);
	buf_free(&history);
	if (r < 0 && r != -ESRCH && r != -ENOENT) {
		struct subject s = { c.watch, w->pid, w->comm };

		error_event(d, &s, false, "cannot capture diagnostics under %s/incidents: %s", sdir, strerror(-r));
	}
	return r;
}

static int on_action(void *ctx, const struct act_request *r)
{
	struct daemon *d = ctx;

	return actor_run(d->actor, r);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t now = clock_usec(CLOCK_BOOTTIME);

	(void)usec;
	uint64_t t0 = clock_usec(CLOCK_MONOTONIC);

	monitor_tick(&d->mon, now / 1000, clock_usec(CLOCK_REALTIME));
	d->counters.ticks++;
	d->counters.tick_seconds = (double)(clock_usec(CLOCK_MONOTONIC) - t0) / 1e6;
	d->counters.tick_seconds_total += d->counters.tick_seconds;
	notify_status(d);
	write_textfile(d, now / 1000);
	if (now / 1000 - d->saved_ms >= d->save_every_ms)
		save_state(d);
	/* A fixed rate; after a stall, start again from now. */
	d->next_us += d->interval_us;
	if (d->next_us <= now)
		d->next_us = now + d->interval_us;
	sd_event_source_set_time(s, d->next_us);
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)si;
	(void)userdata;
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	struct config *cfg = NULL;
	struct event ev;
	char errors[384] = "";
	int r;

	(void)s;
	(void)si;
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)clock_usec(CLOCK_MONOTONIC));

	r = config_load_report(d->config_path, &cfg, errors, sizeof(errors));
	event_init(&ev, EVENT_RELOAD, clock_usec(CLOCK_REALTIME));
	if (r < 0) {
		ev.result = "failed";
		event_say(&ev, "configuration reload failed, the old configuration stays in force: %s",
			  errors[0] ? errors : d->config_path);
	} else {
		monitor_set_config(&d->mon, cfg);
		config_free(d->cfg);
		d->cfg = cfg;
		d->interval_us = cfg->interval_ms * 1000;
		set_save_period(d);
		set_listen(d, sd_event_source_get_event(s));
		d->dry_run = d->dry_run_flag || cfg->dry_run;
		actor_set_dry_run(d->actor, d->dry_run);
		ev.result = "ok";
		ev.watches = (long)cfg->n_watches;
		event_say(&ev, "configuration reloaded from %s: %zu watch%s", d->config_path, cfg->n_watches,
			  cfg->n_watches == 1 ? "" : "es");
	}
	event_describe(&ev);
	on_event(d, &ev);
	d->ready = false;          /* the reload is over: READY=1 again */
	notify_status(d);
	return 0;
}

static int run(struct daemon *d)
{
	sd_event *e = NULL;
	sigset_t mask;
	struct event ev;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);   /* exec actions: sd-event child sources */
	sigprocmask(SIG_BLOCK, &mask, NULL);

	r = sd_event_default(&e);
	if (r < 0)
		goto out;
	r = actor_new(&d->actor, e, &d->mon.root, getpid(), on_event, d);
	if (r < 0)
		goto out;
	actor_set_dry_run(d->actor, d->dry_run);
	actor_set_child_nofile(d->actor, &d->nofile);
	d->mon.act = on_action;
	d->mon.act_ctx = d;
	d->mon.capture = on_capture;
	d->mon.capture_ctx = d;
	if ((r = sd_event_add_signal(e, NULL, SIGTERM, on_stop, d)) < 0 ||
	    (r = sd_event_add_signal(e, NULL, SIGINT, on_stop, d)) < 0 ||
	    (r = sd_event_add_signal(e, NULL, SIGHUP, on_reload, d)) < 0)
		goto out;
	d->next_us = clock_usec(CLOCK_BOOTTIME);
	/* accuracy 1 µs: the default slack (250 ms) would smear short intervals */
	r = sd_event_add_time(e, &d->timer, CLOCK_BOOTTIME, d->next_us, 1, on_timer, d);
	if (r < 0)
		goto out;
	r = sd_event_set_watchdog(e, true);
	if (r < 0)
		goto out;

	event_init(&ev, EVENT_START, clock_usec(CLOCK_REALTIME));
	ev.watches = (long)d->cfg->n_watches;
	event_say(&ev, "leakwatchd started with %zu watch%s from %s%s", d->cfg->n_watches,
		  d->cfg->n_watches == 1 ? "" : "es", d->config_path, d->dry_run ? " (dry run: no actions)" : "");
	event_describe(&ev);
	on_event(d, &ev);
	warn_hidepid(d);
	open_control(d, e);
	read_boot_id(d);
	set_save_period(d);
	d->saved_ms = clock_usec(CLOCK_BOOTTIME) / 1000;
	load_state(d);
	tidy_incidents(d);
	set_listen(d, e);

	r = sd_event_loop(e);
	if (r >= 0)
		save_state(d);
	/* stale numbers must not outlive the daemon in node_exporter */
	if (d->cfg->metrics_textfile && unlink(d->cfg->metrics_textfile) < 0 && errno != ENOENT)
		log_warn("cannot remove the metrics textfile %s: %s", d->cfg->metrics_textfile, strerror(errno));
out:
	d->mon.act = NULL;
	control_free(d->control);
	d->control = NULL;
	httpd_free(d->httpd);
	d->httpd = NULL;
	free(d->listening);
	d->listening = NULL;
	actor_free(d->actor);
	d->actor = NULL;
	sd_event_source_unref(d->timer);
	sd_event_unref(e);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "log-target", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .config_path = DEFAULT_CONFIG, .target = TARGET_AUTO };
	bool check = false, config_given = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			config_given = true;
			break;
		case 't':
			check = true;
			break;
		case 'n':
			d.dry_run_flag = true;
			break;
		case 'L':
			if (log_target_parse(optarg, &d.target) < 0) {
				fprintf(stderr, "leakwatchd: unknown log target '%s' (auto, journal, console or json)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("leakwatchd %s\n", LEAKWATCH_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* `leakwatchd -t FILE`, as people type it */
	if (check && !config_given && optind == argc - 1)
		d.config_path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "leakwatchd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	if (check)
		return config_check(d.config_path) < 0 ? EXIT_CONFIG : 0;
	if (config_load_report(d.config_path, &d.cfg, NULL, 0) < 0)
		return EXIT_CONFIG;
	d.dry_run = d.dry_run_flag || d.cfg->dry_run;
	d.interval_us = d.cfg->interval_ms * 1000;
	d.target = log_target_resolve(d.target);
	log_setup("leakwatchd", d.target == TARGET_JOURNAL, LOG_INFO);

	/* Three descriptors per watched process: take the hard limit (the soft
	 * one is 1024 under systemd); exec commands get the old one back. */
	if (getrlimit(RLIMIT_NOFILE, &d.nofile) == 0 && d.nofile.rlim_cur < d.nofile.rlim_max) {
		struct rlimit raised = { d.nofile.rlim_max, d.nofile.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &raised) < 0)
			log_warn("cannot raise the open files limit: %s", strerror(errno));
	}
	r = monitor_init(&d.mon, "/proc", d.cfg, getpid(), on_event, &d);
	if (r < 0) {
		log_err("cannot open /proc: %s", strerror(-r));
		config_free(d.cfg);
		return EXIT_RUNTIME;
	}
	r = run(&d);
	if (r < 0)
		log_err("event loop failed: %s", strerror(-r));
	else
		log_info("stopped after %llu process-samples", (unsigned long long)d.mon.j.samples);
	monitor_free(&d.mon);
	buf_free(&d.scratch);
	metrics_counters_free(&d.counters);
	config_free(d.cfg);
	return r < 0 ? EXIT_RUNTIME : 0;
}
