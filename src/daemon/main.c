/* leakwatchd's top: the event loop (sd-event) that
 * runs everything else: a timer that ticks the monitor every interval,
 * SIGTERM/SIGINT to stop, SIGHUP (or leakwatchctl reload) to reload the
 * configuration, and sd_notify for systemd (READY, STATUS, RELOADING,
 * STOPPING).
 *
 * It owns the modules and wires them together: the monitor (what is
 * watched), the actor (what is done), the control socket, the history and
 * incidents on disk (persist.h), the Prometheus outputs (export.h).  It
 * is the one place that logs and exits (io/log.h): every module returns 0
 * or -errno, and tells events and log lines through a callback that
 * comes back here (on_event, on_notice), where events are counted for
 * the metrics on their way out.  What each concern needs to remember
 * lives in its module's context, so this file keeps only the loop's.  The
 * command line is daemon/cmdline.c's, and -t is daemon/check_config.c's. */
#include <errno.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/event.h"
#include "core/prometheus.h"
#include "core/server_lint.h"
#include "core/plot_report.h"
#include "core/status_report.h"
#include "core/watch_summary.h"
#include "daemon/check_config.h"
#include "daemon/cmdline.h"
#include "daemon/export.h"
#include "daemon/inspections.h"
#include "daemon/monitor.h"
#include "daemon/notice.h"
#include "daemon/persist.h"
#include "daemon/requests.h"
#include "daemon/watch_lint.h"
#include "daemon/visibility.h"
#include "io/actor.h"
#include "io/control.h"
#include "io/event_sink.h"
#include "io/log.h"
#include "os/clock.h"
#include "os/config_file.h"
#include "os/paths.h"

enum { EXIT_CONFIG = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

struct daemon {
	const char *config_path;
	struct config *cfg;
	struct monitor mon;
	enum log_target target;
	struct logger log;         /* where log lines go (io/log.h) */
	bool dry_run;              /* in force: --dry-run or the config's dry_run */
	bool dry_run_flag;         /* --dry-run was given */
	uint64_t interval_us;
	uint64_t next_us;
	sd_event *event;           /* the loop's, borrowed */
	sd_event_source *timer;
	struct actor *actor;
	struct control *control;   /* NULL when the socket could not be set up */
	char status[180];          /* the last STATUS= sent */
	bool ready;
	struct metrics_counters counters;
	struct rlimit nofile;      /* RLIMIT_NOFILE as started, for exec commands */
	struct persist persist;    /* the history and incidents on disk */
	struct metrics_export export;   /* the textfile and the HTTP endpoint */
	struct inspections inspections; /* looking inside leaking CPython processes */
};

static void on_event(void *ctx, struct event *e)
{
	struct daemon *d = ctx;

	metrics_count_event(&d->counters, e);
	if (e->type == EVENT_ACTION)   /* for the status's watch lines; -ENOMEM loses it alone */
		(void)last_action_note(&d->mon.j.actions, e);
	event_emit(d->target, d->log.stamp, e);   /* a refused journal entry goes to stderr */
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

/* What the helpers tell (notice.h): an error event, or a log line. */
static void on_notice(void *ctx, enum notice_kind kind, const struct subject *about, const char *text)
{
	struct daemon *d = ctx;

	switch (kind) {
	case NOTICE_ERROR:
	case NOTICE_WARNING:
		error_event(d, about, kind == NOTICE_WARNING, "%s", text);
		break;
	case NOTICE_LOG_INFO:
		log_info(&d->log, "%s", text);
		break;
	case NOTICE_LOG_WARN:
		log_warn(&d->log, "%s", text);
		break;
	}
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

static void reload(struct daemon *d, struct buf *reply);

static void on_control(void *ctx, const char *request, uid_t peer, struct buf *reply)
{
	struct daemon *d = ctx;
	int alone = requests_alone(request, "reload");

	if (!requests_allowed(request, peer, geteuid(), reply))
		return;
	if (alone > 0)
		reload(d, reply);     /* in the loop, as SIGHUP's: the reply says how it went */
	else if (alone < 0)
		buf_puts(reply, "ERR reload takes no argument\n");
	else if (!requests_forget(&d->mon, &d->inspections, request, reply) &&
		 !inspections_answer(&d->inspections, request, reply) &&
		 !report_plot_answer(&d->mon.j, request, reply))
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

static int on_action(void *ctx, const struct act_request *r)
{
	struct daemon *d = ctx;

	if (inspections_busy(&d->inspections, r->pid))
		return -EAGAIN;        /* diagnosed first: asked again at the next tick */
	return actor_run(d->actor, r);
}

/* A line the actor logs: an exec command's output ("WATCH: exec (pid N)
 * for pid N: LINE", LOG_INFO). */
static void on_action_note(void *ctx, int priority, const char *text)
{
	struct daemon *d = ctx;

	log_msg(&d->log, priority, "%s", text);
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
	if (d->counters.tick_seconds > d->counters.tick_seconds_max)
		d->counters.tick_seconds_max = d->counters.tick_seconds;
	notify_status(d);
	export_tick(&d->export, now / 1000);
	persist_tick(&d->persist, now / 1000);
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

/* Load the configuration again (SIGHUP, or "reload" on the control
 * socket): the reload event, then the watches' warnings.  reply, when
 * given, gets "OK" and what the event says, a line per warning, or "ERR"
 * and what the event says. */
static void reload(struct daemon *d, struct buf *reply)
{
	const struct notice_sink say = { on_notice, d };
	struct config *cfg = NULL;
	struct event ev;
	char errors[384] = "", note[48];
	struct server_lint *lints = NULL;
	int r;

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
		persist_set_config(&d->persist, cfg);
		export_set_config(&d->export, cfg, d->event);
		d->dry_run = d->dry_run_flag || cfg->dry_run;
		actor_set_dry_run(d->actor, d->dry_run);
		ev.result = "ok";
		ev.watches = (long)cfg->n_watches;
		lints = watch_lint(cfg, note, sizeof(note));
		event_say(&ev, "configuration reloaded from %s: %zu watch%s%s", d->config_path, cfg->n_watches,
			  cfg->n_watches == 1 ? "" : "es", note);
	}
	event_describe(&ev);
	on_event(d, &ev);
	if (reply) {
		buf_puts(reply, r < 0 ? "ERR " : "OK\n");
		buf_line_text(reply, ev.detail);
		buf_puts(reply, r >= 0 && !note[0] ? ", no warnings\n" : "\n");
	}
	if (r >= 0)
		watch_lint_tell(&say, d->cfg, lints, reply);
	d->ready = false;          /* the reload is over: READY=1 again */
	notify_status(d);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)s;
	(void)si;
	reload(userdata, NULL);
	return 0;
}

/* The loop's sources (signals, the timer, the watchdog) and the modules
 * it drives, wired to each other.  0 or -errno; what was set up is freed
 * by run() in any case. */
static int setup(struct daemon *d, sd_event *e)
{
	const struct notice_sink say = { on_notice, d };
	int r;

	d->event = e;
	r = actor_new(&d->actor, e, &d->mon.root, getpid(), on_event, on_action_note, d);
	if (r < 0)
		return r;
	actor_set_dry_run(d->actor, d->dry_run);
	actor_set_child_nofile(d->actor, &d->nofile);
	persist_init(&d->persist, d->cfg, &d->mon, d->actor, &say);
	export_init(&d->export, d->cfg, &d->mon.j, &d->counters, &say);
	d->mon.act = on_action;
	d->mon.act_ctx = d;
	d->mon.capture = persist_capture;
	d->mon.capture_ctx = &d->persist;
	if (inspections_init(&d->inspections, e, &d->mon, &d->persist, on_event, d) == 0) {
		d->mon.inspect = inspections_on_leak;
		d->mon.inspect_ctx = &d->inspections;
	}
	if ((r = sd_event_add_signal(e, NULL, SIGTERM, on_stop, d)) < 0 ||
	    (r = sd_event_add_signal(e, NULL, SIGINT, on_stop, d)) < 0 ||
	    (r = sd_event_add_signal(e, NULL, SIGHUP, on_reload, d)) < 0)
		return r;
	d->next_us = clock_usec(CLOCK_BOOTTIME);
	/* accuracy 1 µs: the default slack (250 ms) would smear short intervals */
	r = sd_event_add_time(e, &d->timer, CLOCK_BOOTTIME, d->next_us, 1, on_timer, d);
	if (r < 0)
		return r;
	return sd_event_set_watchdog(e, true);
}

/* The start event, then what is said and opened once at start, in this
 * order: the watches' warnings, the hidepid warning, the control socket,
 * the saved history, the HTTP endpoint. */
static void start(struct daemon *d, sd_event *e)
{
	const struct notice_sink say = { on_notice, d };
	struct event ev;
	char note[48];
	struct server_lint *lints = watch_lint(d->cfg, note, sizeof(note));

	event_init(&ev, EVENT_START, clock_usec(CLOCK_REALTIME));
	ev.watches = (long)d->cfg->n_watches;
	event_say(&ev, "leakwatchd started with %zu watch%s from %s%s%s", d->cfg->n_watches,
		  d->cfg->n_watches == 1 ? "" : "es", d->config_path, note, d->dry_run ? " (dry run: no actions)" : "");
	event_describe(&ev);
	on_event(d, &ev);
	watch_lint_tell(&say, d->cfg, lints, NULL);
	visibility_warn_hidepid(&d->mon, &say);
	open_control(d, e);
	persist_start(&d->persist);
	export_set_config(&d->export, d->cfg, e);
}

static int run(struct daemon *d)
{
	sd_event *e = NULL;
	sigset_t mask;
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
	r = setup(d, e);
	if (r < 0)
		goto out;
	start(d, e);

	r = sd_event_loop(e);
	if (r >= 0)
		persist_save(&d->persist);
	export_stop(&d->export);
out:
	d->mon.act = NULL;
	d->mon.inspect = NULL;
	inspections_free(&d->inspections);
	control_free(d->control);
	d->control = NULL;
	export_free(&d->export);
	actor_free(d->actor);
	d->actor = NULL;
	sd_event_source_unref(d->timer);
	sd_event_unref(e);
	return r;
}

int main(int argc, char **argv)
{
	struct cmdline cl = { .check = { .config_path = DEFAULT_CONFIG }, .target = TARGET_AUTO };
	struct daemon d = { 0 };
	int r;

	if (cmdline_parse(argc, argv, &cl) < 0)
		return EXIT_USAGE;
	if (cl.done)
		return 0;
	if (cl.check_only)
		return check_config_run(&cl.check) < 0 ? EXIT_CONFIG : 0;
	d.config_path = cl.check.config_path;
	d.dry_run_flag = cl.dry_run;
	d.target = cl.target;
	if (config_load_report(d.config_path, &d.cfg, NULL, 0) < 0)
		return EXIT_CONFIG;
	d.dry_run = d.dry_run_flag || d.cfg->dry_run;
	d.interval_us = d.cfg->interval_ms * 1000;
	d.target = log_target_resolve(d.target);
	d.log = (struct logger){ "leakwatchd", d.target == TARGET_JOURNAL, LOG_INFO, !stderr_is_journal() };

	/* Three descriptors per watched process: take the hard limit (the soft
	 * one is 1024 under systemd); exec commands get the old one back. */
	if (getrlimit(RLIMIT_NOFILE, &d.nofile) == 0 && d.nofile.rlim_cur < d.nofile.rlim_max) {
		struct rlimit raised = { d.nofile.rlim_max, d.nofile.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &raised) < 0)
			log_warn(&d.log, "cannot raise the open files limit: %s", strerror(errno));
	}
	r = monitor_init(&d.mon, "/proc", d.cfg, getpid(), on_event, &d);
	if (r < 0) {
		log_err(&d.log, "cannot open /proc: %s", strerror(-r));
		config_free(d.cfg);
		return EXIT_RUNTIME;
	}
	r = run(&d);
	if (r < 0)
		log_err(&d.log, "event loop failed: %s", strerror(-r));
	else
		log_info(&d.log, "stopped after %llu process-samples", (unsigned long long)d.mon.j.samples);
	monitor_free(&d.mon);
	metrics_counters_free(&d.counters);
	config_free(d.cfg);
	return r < 0 ? EXIT_RUNTIME : 0;
}
