/* leakwatchd: command line, configuration, and the event loop (sd-event):
 * a timer that ticks the monitor every interval, SIGTERM/SIGINT to stop,
 * SIGHUP to reload, and sd_notify for systemd.  Only this file logs and
 * exits; everything it calls returns 0 or -errno. */
#include <errno.h>
#include <getopt.h>
#include <libproc2/meminfo.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "act.h"
#include "clock.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "monitor.h"

#define DEFAULT_CONFIG "/etc/leakwatch/leakwatch.yaml"

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
	char status[160];          /* the last STATUS= sent */
	bool ready;
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

/* MemTotal through libproc2, for "N%" limits. */
static uint64_t mem_total(void)
{
	struct meminfo_info *info = NULL;
	uint64_t kib = 0;

	if (procps_meminfo_new(&info) < 0)
		return 0;
	kib = MEMINFO_GET(info, MEMINFO_MEM_TOTAL, ul_int);
	procps_meminfo_unref(&info);
	return kib * 1024;
}

/* Load a config; every diagnostic goes to stderr, and when summary is
 * given the first ones also go there, joined by "; " as room allows. */
static int load_config(const char *path, struct config **out, char *summary, size_t len)
{
	struct config_env env = { .mem_total = mem_total(), .lookup_user = NULL };
	struct diag diags = { 0 };
	int r = config_load(path, &env, out, &diags);
	size_t used = 0;

	for (size_t i = 0; i < diags.n; i++) {
		fprintf(stderr, "%s\n", diags.msgs[i]);
		if (summary && used + strlen(diags.msgs[i]) + 40 < len)
			used += (size_t)snprintf(summary + used, len - used, "%s%s", used ? "; " : "",
						 diags.msgs[i]);
	}
	if (summary && diags.n > 0 && used < len)
		snprintf(summary + used, len - used, " (%zu error%s)", diags.n, diags.n == 1 ? "" : "s");
	diag_free(&diags);
	return r;
}

static void on_event(void *ctx, struct event *e)
{
	struct daemon *d = ctx;

	if (event_emit(d->target, e) < 0 && d->target == TARGET_JOURNAL)
		fprintf(stderr, "leakwatchd: %s: %s\n", event_name(e->type), e->message);
}

/* READY=1 after the first scan and after each reload; STATUS= (one line:
 * what is watched, what leaks, what is over its limit) whenever it changes. */
static void notify_status(struct daemon *d)
{
	char status[160];
	unsigned leaking = 0, over = 0;

	for (const struct watched *w = d->mon.watched; w; w = w->next) {
		bool leak = false, limit = false;

		for (int i = 0; i < METRIC_COUNT; i++) {
			leak |= w->m[i].leaking;
			limit |= w->m[i].in_limit;
		}
		leaking += leak;
		over += limit;
	}
	snprintf(status, sizeof(status), "watching %zu process%s with %zu watch%s: %u leaking, %u over a limit%s",
		 d->mon.n_watched, d->mon.n_watched == 1 ? "" : "es", d->cfg->n_watches,
		 d->cfg->n_watches == 1 ? "" : "es", leaking, over, d->dry_run ? " (dry run)" : "");
	if (d->ready && strcmp(status, d->status) == 0)
		return;
	memcpy(d->status, status, sizeof(status));
	sd_notifyf(0, "%sSTATUS=%s", d->ready ? "" : "READY=1\n", status);
	d->ready = true;
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
	monitor_tick(&d->mon, now / 1000, clock_usec(CLOCK_REALTIME));
	notify_status(d);
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

	r = load_config(d->config_path, &cfg, errors, sizeof(errors));
	event_init(&ev, EVENT_RELOAD, clock_usec(CLOCK_REALTIME));
	if (r < 0) {
		ev.result = "failed";
		snprintf(ev.message, sizeof(ev.message),
			 "configuration reload failed, the old configuration stays in force: %s",
			 errors[0] ? errors : d->config_path);
	} else {
		monitor_set_config(&d->mon, cfg);
		config_free(d->cfg);
		d->cfg = cfg;
		d->interval_us = cfg->interval_ms * 1000;
		d->dry_run = d->dry_run_flag || cfg->dry_run;
		actor_set_dry_run(d->actor, d->dry_run);
		ev.result = "ok";
		ev.watches = (long)cfg->n_watches;
		snprintf(ev.message, sizeof(ev.message), "configuration reloaded from %s: %zu watch%s",
			 d->config_path, cfg->n_watches, cfg->n_watches == 1 ? "" : "es");
	}
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
	d->mon.act = on_action;
	d->mon.act_ctx = d;
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
	snprintf(ev.message, sizeof(ev.message), "leakwatchd started with %zu watch%s from %s%s",
		 d->cfg->n_watches, d->cfg->n_watches == 1 ? "" : "es", d->config_path,
		 d->dry_run ? " (dry run: no actions)" : "");
	on_event(d, &ev);

	r = sd_event_loop(e);
out:
	d->mon.act = NULL;
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

	if (load_config(d.config_path, &d.cfg, NULL, 0) < 0)
		return EXIT_CONFIG;
	if (check) {
		printf("configuration OK\n");
		config_free(d.cfg);
		return 0;
	}
	d.dry_run = d.dry_run_flag || d.cfg->dry_run;
	d.interval_us = d.cfg->interval_ms * 1000;
	d.target = log_target_resolve(d.target);
	log_setup("leakwatchd", d.target == TARGET_JOURNAL, LOG_INFO);

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
		log_info("stopped after %llu process-samples", (unsigned long long)d.mon.samples);
	monitor_free(&d.mon);
	config_free(d.cfg);
	return r < 0 ? EXIT_RUNTIME : 0;
}
