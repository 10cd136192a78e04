/* Unit tests of the configuration: values parsed from YAML, defaults, and
 * the exact diagnostics for bad files (the whole path: text, tree, schema;
 * config_load for the file side).  Run from the repository root. */
#include "core/config.h"
#include "core/regex_match.h"
#include "os/config_file.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#define GI (1024.0 * 1024 * 1024)
#define MI (1024.0 * 1024)
#define MEM_TOTAL (16ULL << 30)
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define TEXT_PATH "test.yaml"

static int fake_lookup(const char *name, uid_t *uid)
{
	if (strcmp(name, "root") == 0)
		*uid = 0;
	else if (strcmp(name, "www-data") == 0)
		*uid = 33;
	else if (strcmp(name, "app") == 0)
		*uid = 1000;
	else
		return -ENOENT;
	return 0;
}

static const struct config_env test_env = { MEM_TOTAL, fake_lookup };

/* Load TEXT; the diagnostics come back without their "PATH:" prefix. */
static int load_text(const char *text, const struct config_env *env,
		     struct config **cfg, struct diag *d)
{
	size_t plen = strlen(TEXT_PATH);
	int r;

	memset(d, 0, sizeof(*d));
	r = config_parse_text(TEXT_PATH, text, strlen(text), env, cfg, d);
	for (size_t i = 0; i < d->n; i++) {
		char *m = d->msgs[i];

		CHECK_MSG(strncmp(m, TEXT_PATH, plen) == 0 && m[plen] == ':', "no path prefix: %s", m);
		if (strncmp(m, TEXT_PATH, plen) == 0 && m[plen] == ':')
			memmove(m, m + plen + 1, strlen(m + plen + 1) + 1);
	}
	return r;
}

static const char full_config[] =
	"interval: 2s\n"
	"dry_run: yes\n"
	"state_dir: /var/lib/lw\n"
	"metrics:\n"
	"  textfile: /tmp/lw.prom\n"
	"  listen: \"[::1]:9567\"\n"
	"watches:\n"
	"  - name: api.workers_1\n"
	"    match:\n"
	"      comm: \"python3*\"\n"
	"      exe: \"*/python3*\"\n"
	"      cmdline: \"gunicorn.*app\"\n"
	"      python: true\n"
	"      user: www-data\n"
	"      unit: api.service\n"
	"      pidfile: /run/api.pid\n"
	"      parent:\n"
	"        cmdline: \"gunicorn: master\"\n"
	"        user: 1001\n"
	"        parent: { python: off }\n"
	"    warmup: 2m\n"
	"    window: 1h30m\n"
	"    rss:\n"
	"      max: 1.5G\n"
	"      for: 3\n"
	"      growth: 200M/h\n"
	"      predict: 6h\n"
	"    fds:     { max: 4096, growth: 500/h }\n"
	"    threads: { max: 256,  growth: 60/min, for: 2 }\n"
	"    on_leak: exec\n"
	"    on_limit: restart-unit\n"
	"    signal: SIGHUP\n"
	"    kill_after: 0\n"
	"    unit: api.service\n"
	"    exec: [\"/usr/local/bin/page\", \"--pid\", \"{pid}\"]\n"
	"    cooldown: 15m\n"
	"    max_actions: 5/30m\n"
	"    capture: TRUE\n"
	"  - name: minimal\n"
	"    match: { comm: celery }\n"
	"    rss: { max: 25% }\n";

static void test_full(void)
{
	struct config *c;
	struct diag d;
	const struct watch *w;
	const struct match *m;
	int r = load_text(full_config, &test_env, &c, &d);

	CHECK_MSG(r == 0, "load: %d (%s)", r, d.n ? d.msgs[0] : "");
	CHECK(d.n == 0);
	diag_free(&d);
	if (!c)
		return;
	CHECK(c->interval_ms == 2000);
	CHECK(c->dry_run);
	CHECK_STR(c->state_dir, "/var/lib/lw");
	CHECK_STR(c->metrics_textfile, "/tmp/lw.prom");
	CHECK_STR(c->metrics_listen, "[::1]:9567");
	CHECK(c->n_watches == 2);

	w = config_find_watch(c, "api.workers_1");
	CHECK(w == &c->watches[0]);
	CHECK(config_find_watch(c, "nope") == NULL);
	CHECK(config_find_watch(NULL, "minimal") == NULL);
	if (!w)
		goto out;
	m = &w->match;
	CHECK_STR(m->comm, "python3*");
	CHECK_STR(m->exe, "*/python3*");
	CHECK_STR(m->cmdline, "gunicorn.*app");
	CHECK(regex_search(m->cmdline_rx, "/usr/bin/gunicorn -w 4 app:main", 31));
	CHECK(!regex_search(m->cmdline_rx, "celery worker", 13));
	CHECK(m->python == 1);
	CHECK(m->has_uid && m->uid == 33);
	CHECK_STR(m->user, "www-data");
	CHECK_STR(m->unit, "api.service");
	CHECK_STR(m->pidfile, "/run/api.pid");
	CHECK(m->parent != NULL);
	if (m->parent) {
		CHECK_STR(m->parent->cmdline, "gunicorn: master");
		CHECK(m->parent->has_uid && m->parent->uid == 1001);
		CHECK(m->parent->python == -1);
		CHECK(m->parent->comm == NULL);
		CHECK(m->parent->parent && m->parent->parent->python == 0);
	}
	CHECK(w->warmup_ms == 120000);
	CHECK(w->window_ms == 5400000);
	CHECK(w->rule[METRIC_RSS].has_max);
	CHECK_NEAR(w->rule[METRIC_RSS].max, 1.5 * GI, 0);
	CHECK_NEAR(w->rule[METRIC_RSS].max_percent, 0, 0);
	CHECK(w->rule[METRIC_RSS].for_samples == 3);
	CHECK_NEAR(w->rule[METRIC_RSS].growth, 200 * MI / 3600, 1e-6);
	CHECK_NEAR(w->rule[METRIC_RSS].predict, 6 * 3600, 0);
	CHECK_NEAR(w->rule[METRIC_FDS].max, 4096, 0);
	CHECK(w->rule[METRIC_FDS].for_samples == 1);
	CHECK_NEAR(w->rule[METRIC_FDS].growth, 500.0 / 3600, 1e-9);
	CHECK_NEAR(w->rule[METRIC_FDS].predict, 0, 0);
	CHECK_NEAR(w->rule[METRIC_THREADS].max, 256, 0);
	CHECK_NEAR(w->rule[METRIC_THREADS].growth, 1, 1e-9);
	CHECK(w->rule[METRIC_THREADS].for_samples == 2);
	CHECK(w->on_leak == ACTION_EXEC);
	CHECK(w->on_limit == ACTION_RESTART_UNIT);
	CHECK(w->signal == SIGHUP);
	CHECK(w->kill_after_ms == 0);
	CHECK_STR(w->unit, "api.service");
	CHECK(w->exec_len == 3);
	if (w->exec && w->exec_len == 3) {
		CHECK_STR(w->exec[0], "/usr/local/bin/page");
		CHECK_STR(w->exec[2], "{pid}");
		CHECK(w->exec[3] == NULL);
	}
	CHECK(w->cooldown_ms == 15 * 60000);
	CHECK(w->max_actions == 5 && w->max_actions_period_ms == 30 * 60000);
	CHECK(w->capture);

	/* The second watch has the defaults of leakwatch.yaml(5). */
	w = config_find_watch(c, "minimal");
	CHECK(w == &c->watches[1]);
	if (!w)
		goto out;
	CHECK_STR(w->match.comm, "celery");
	CHECK(w->match.python == -1 && !w->match.has_uid && !w->match.parent);
	CHECK(w->match.cmdline == NULL);
	CHECK(w->warmup_ms == 0);
	CHECK(w->window_ms == 30 * 60000);
	CHECK(w->rule[METRIC_RSS].has_max);
	CHECK_NEAR(w->rule[METRIC_RSS].max_percent, 25, 0);
	CHECK_NEAR(w->rule[METRIC_RSS].max, MEM_TOTAL / 4.0, 0);
	CHECK(!w->rule[METRIC_FDS].has_max && w->rule[METRIC_FDS].growth == 0);
	CHECK(w->rule[METRIC_THREADS].for_samples == 1);
	CHECK(w->on_leak == ACTION_ALERT && w->on_limit == ACTION_ALERT);
	CHECK(w->signal == SIGTERM);
	CHECK(w->kill_after_ms == 30000);
	CHECK(w->unit == NULL);
	CHECK(w->exec == NULL && w->exec_len == 0);
	CHECK(w->cooldown_ms == 10 * 60000);
	CHECK(w->max_actions == 3 && w->max_actions_period_ms == 3600000);
	CHECK(!w->capture);
out:
	config_free(c);
}

static void test_top_defaults(void)
{
	struct config *c;
	struct diag d;
	int r = load_text("watches:\n  - name: a\n    match: { pidfile: /run/a.pid }\n"
			  "    unit: auto\n", &test_env, &c, &d);

	CHECK(r == 0 && d.n == 0);
	if (c) {
		CHECK(c->interval_ms == 5000);
		CHECK(!c->dry_run);
		CHECK(c->state_dir == NULL);
		CHECK(c->metrics_textfile == NULL && c->metrics_listen == NULL);
		CHECK(c->n_watches == 1 && c->watches[0].unit == NULL);
		CHECK_STR(c->path, TEXT_PATH);
	}
	config_free(c);
	diag_free(&d);
}

/* A bad file and every diagnostic it must give, in order, without "PATH:". */
struct bad {
	const char *text;
	const char *want[6];
};

#define W1(x) "watches:\n  - name: a\n    match: { comm: x }\n" x

static const struct bad bad_cases[] = {
	{ "", { "1:1: error: no watches defined" } },
	{ "# nothing\n", { "1:1: error: no watches defined" } },
	{ "interval: 5s\n", { "1:1: error: no watches defined" } },
	{ "watches: []\n", { "1:10: error: no watches defined" } },
	{ "watches:\n", { "1:9: error: no watches defined" } },
	{ "watches: foo\n", { "1:10: error: 'watches' must be a list of watches" } },
	{ "- a\n", { "1:1: error: the configuration must be a mapping of keys like interval and watches, not a list" } },
	{ "a: b: c\n", { "1:5: error: mapping values are not allowed in this context" } },
	{ "watches:\n\t- name: x\n", { "2:1: error: found character that cannot start any token" } },
	{ W1("---\nfoo: 1\n"), { "5:1: error: only one YAML document is allowed" } },
	{ "interval: 50ms\n" W1(""), { "1:11: error: 'interval' must be at least 100ms, not '50ms'" } },
	{ "interval: 5\n" W1(""), { "1:11: error: 'interval' must be a duration like 5s or 250ms, not '5' (a unit is required)" } },
	{ "interval: {a: 1}\n" W1(""), { "1:11: error: 'interval' must be a duration like 5s or 250ms, not a mapping" } },
	{ "interval: 99999999999999d\n" W1(""), { "1:11: error: 'interval' value '99999999999999d' is too large" } },
	{ "dry_run: maybe\n" W1(""), { "1:10: error: 'dry_run' must be true or false, not 'maybe'" } },
	{ "state_dir: var/lib\n" W1(""), { "1:12: error: 'state_dir' must be an absolute path, not 'var/lib'" } },
	{ "metrics: on\n" W1(""), { "1:10: error: 'metrics' must be a mapping with 'textfile' and/or 'listen', not 'on'" } },
	{ "metrics: { listen: \"9567\", textfile: x, port: 1 }\n" W1(""), {
		"1:20: error: 'listen' must be HOST:PORT with a port from 1 to 65535, like 127.0.0.1:9567, not '9567'",
		"1:38: error: 'textfile' must be an absolute path, not 'x'",
		"1:41: error: unknown key 'port'" } },
	{ "metrics: { listen: \"localhost:0\" }\n" W1(""), {
		"1:20: error: 'listen' must be HOST:PORT with a port from 1 to 65535, like 127.0.0.1:9567, not 'localhost:0'" } },
	{ "foo: 1\n" W1("    bar: 2\n"), { "1:1: error: unknown key 'foo'", "5:5: error: unknown key 'bar'" } },
	{ W1("    rss: { max: 1G, bogus: 1 }\n"), { "4:21: error: unknown key 'bogus'" } },
	{ "watches:\n  - name: a\n    match: { comm: x, cmd: y }\n", { "3:23: error: unknown key 'cmd'" } },
	{ W1("    rss: { max: 1G }\n    rss: { max: 2G }\n"), { "5:5: error: duplicate key 'rss'" } },
	{ "watches:\n  - match: { comm: x }\n", { "2:5: error: watch needs a 'name'" } },
	{ "watches:\n  - name: a\n", { "2:5: error: watch needs a 'match'" } },
	{ "watches:\n  - 12\n", { "2:5: error: each watch must be a mapping of keys like name and match, not '12'" } },
	{ "watches:\n  - name: a b\n    match: { comm: x }\n", {
		"2:11: error: 'name' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, not 'a b'" } },
	{ "watches:\n  - name: ..\n    match: { comm: x }\n", {
		"2:11: error: 'name' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, not '..'" } },
	{ "watches:\n  - name: 123\n    match: { comm: x }\n", { NULL } },
	{ "watches:\n  - { name: a, match: { comm: x } }\n  - { name: b, match: { comm: x } }\n"
	  "  - { name: a, match: { comm: y } }\n", { "4:13: error: duplicate watch name 'a' (first defined at line 2)" } },
	{ "watches:\n  - name: a\n    match: {}\n", { "3:12: error: match needs at least one criterion" } },
	{ "watches:\n  - name: a\n    match:\n", { "3:11: error: 'match' must be a mapping of criteria like comm or cmdline, not empty" } },
	{ "watches:\n  - name: a\n    match: { comm: x, parent: {} }\n", { "3:31: error: parent match needs at least one criterion" } },
	{ "watches:\n  - name: a\n    match: { cmdline: \"gunicorn((\" }\n", { "3:23: error: bad regex in 'cmdline': Unmatched ( or \\(" } },
	{ "watches:\n  - name: a\n    match: { user: nosuchuser-leakwatch }\n", { "3:20: error: unknown user 'nosuchuser-leakwatch'" } },
	{ "watches:\n  - name: a\n    match: { user: 99999999999 }\n", { "3:20: error: 'user' value '99999999999' is too large" } },
	{ "watches:\n  - name: a\n    match: { comm: \"\", python: maybe, unit: api, pidfile: run/a }\n", {
		"3:20: error: 'comm' must be a glob like python3*, not empty",
		"3:32: error: 'python' must be true or false, not 'maybe'",
		"3:45: error: 'unit' must be a unit name like api.service, not 'api'",
		"3:59: error: 'pidfile' must be an absolute path, not 'run/a'" } },
	{ W1("    window: 10s\n"), { "4:13: error: 'window' (10s) must be at least 10 times 'interval' (5s): a trend needs at least 10 samples" } },
	{ "interval: 5m\n" W1(""), { "3:5: error: 'window' (30m, the default) must be at least 10 times 'interval' (5m): a trend needs at least 10 samples" } },
	{ W1("    window: 0s\n"), { "4:13: error: 'window' must be more than 0, not '0s'" } },
	{ "interval: 5m\n" W1("    window: 0s\n"), { "5:13: error: 'window' must be more than 0, not '0s'" } },
	{ "interval: 5m\n" W1("    window: abc\n"), { "5:13: error: 'window' must be a duration like 5s or 250ms, not 'abc'" } },
	{ "interval: 10s\n" W1("    window: 100s\n"), { NULL } },
	{ "interval: 10s\n" W1("    window: 99999ms\n"), { "5:13: error: 'window' (1m40s) must be at least 10 times 'interval' (10s): a trend needs at least 10 samples" } },
	{ "interval: 99999999999d\n" W1(""), { "3:5: error: 'window' (30m, the default) must be at least 10 times 'interval' (99999999999d): a trend needs at least 10 samples" } },
	{ W1("    warmup: soon\n    kill_after: -1s\n    cooldown: 1x\n"), {
		"4:13: error: 'warmup' must be a duration like 5s or 250ms, not 'soon'",
		"5:17: error: 'kill_after' must be a duration like 5s or 250ms, not '-1s'",
		"6:15: error: 'cooldown' must be a duration like 5s or 250ms, not '1x'" } },
	{ W1("    rss: { max: 150% }\n"), { "4:17: error: 'max' as a percentage must be more than 0% and at most 100%, not '150%'" } },
	{ W1("    rss: { max: 0% }\n"), { "4:17: error: 'max' as a percentage must be more than 0% and at most 100%, not '0%'" } },
	{ W1("    rss: { max: lots }\n"), { "4:17: error: 'max' must be a size like 1G or 512MiB, or a percentage like 80% (of its cgroup's memory.max, else MemTotal), not 'lots'" } },
	{ W1("    rss: { max: x% }\n"), { "4:17: error: 'max' must be a size like 1G or 512MiB, or a percentage like 80% (of its cgroup's memory.max, else MemTotal), not 'x%'" } },
	{ W1("    rss: { max: 0 }\n"), { "4:17: error: 'max' must be more than 0, not '0'" } },
	{ W1("    rss: { max: 1G, for: 0 }\n"), { "4:26: error: 'for' must be a whole number of samples from 1 to 1000000, not '0'" } },
	{ W1("    rss: { max: 1G, for: 1.5 }\n"), { "4:26: error: 'for' must be a whole number of samples from 1 to 1000000, not '1.5'" } },
	{ W1("    rss: { growth: 200M }\n"), { "4:20: error: 'growth' must be a rate like 200M/h (per s, min, h or d), not '200M'" } },
	{ W1("    rss: { growth: 0/h }\n"), { "4:20: error: 'growth' must be more than 0, not '0/h'" } },
	{ W1("    rss: { predict: 6h }\n"), { "4:10: error: 'predict' needs 'max'" } },
	{ W1("    rss: { max: 1G, predict: 0s }\n"), { "4:30: error: 'predict' must be more than 0, not '0s'" } },
	{ W1("    rss: { for: 3 }\n"), {
		"4:10: error: 'rss' needs at least one of 'max', 'growth' or 'predict'",
		"4:10: error: 'for' needs 'max'" } },
	{ W1("    rss: {}\n"), { "4:10: error: 'rss' needs at least one of 'max', 'growth' or 'predict'" } },
	{ W1("    rss: 1G\n"), { "4:10: error: 'rss' must be a mapping like { max: 1G, growth: 200M/h }, not '1G'" } },
	{ W1("    fds: { max: 4K }\n"), { "4:17: error: fds max must be a count, not a size ('4K')" } },
	{ W1("    threads: { max: 50% }\n"), { NULL } },
	{ W1("    fds: { max: 90%, for: 2, predict: 1h }\n"), { NULL } },
	{ W1("    threads: { max: lots }\n"), { "4:21: error: threads max must be a count like 256, or a percentage like 90% (of its cgroup's pids.max), not 'lots'" } },
	{ W1("    fds: { max: many% }\n"), { "4:17: error: fds max must be a count like 4096, or a percentage like 90% (of its RLIMIT_NOFILE), not 'many%'" } },
	{ W1("    fds: { max: 101% }\n"), { "4:17: error: 'max' as a percentage must be more than 0% and at most 100%, not '101%'" } },
	{ W1("    threads: { max: 0% }\n"), { "4:21: error: 'max' as a percentage must be more than 0% and at most 100%, not '0%'" } },
	{ W1("    fds: { growth: 5M/h }\n"), { "4:20: error: fds growth must be a count per time like 500/h, not a size ('5M/h')" } },
	{ W1("    fds: { growth: 500/ms }\n"), { "4:20: error: 'growth' must be a rate like 500/h (per s, min, h or d), not '500/ms'" } },
	{ W1("    on_leak: reboot\n"), { "4:14: error: 'on_leak' must be one of alert, signal, restart-unit, exec, not 'reboot'" } },
	{ W1("    on_leak: exec\n    on_limit: exec\n"), {
		"4:14: error: on_leak: exec needs an 'exec' command",
		"5:15: error: on_limit: exec needs an 'exec' command" } },
	{ W1("    on_leak: exec\n    exec: []\n"), { "5:11: error: 'exec' must be a non-empty list of strings like [\"/usr/local/bin/notify\", \"{pid}\"], not an empty list" } },
	{ W1("    exec: /bin/true\n"), { "4:11: error: 'exec' must be a non-empty list of strings like [\"/usr/local/bin/notify\", \"{pid}\"], not '/bin/true'" } },
	{ W1("    exec: [\"\", [a]]\n"), {
		"4:12: error: the program in 'exec' must not be empty",
		"4:16: error: 'exec' must be a list of strings, not a list" } },
	{ W1("    signal: FOO\n"), { "4:13: error: 'signal' must be a signal name like TERM or HUP, or a number, not 'FOO'" } },
	{ W1("    signal: 0\n"), { "4:13: error: 'signal' must be a signal name like TERM or HUP, or a number, not '0'" } },
	{ W1("    unit: api\n"), { "4:11: error: 'unit' must be auto or a unit name like api.service, not 'api'" } },
	{ W1("    unit: getty@.service\n"), {
		"4:11: error: 'unit' must be auto or a unit name like api.service, not 'getty@.service'" } },
	{ W1("    unit: getty@tty1.service\n"), { NULL } },
	{ "watches:\n  - name: a\n    match: { unit: x.servic, user_unit: \"a b.service\" }\n", {
		"3:20: error: 'unit' must be a unit name like api.service, not 'x.servic'",
		"3:41: error: 'user_unit' must be a unit name like api.service, not 'a b.service'" } },
	{ "watches:\n  - name: a\n    match: { user_unit: api.service, user: 0 }\n    on_leak: signal\n", { NULL } },
	{ "watches:\n  - name: a\n    match: { user_unit: api.service }\n"
	  "    on_leak: restart-unit\n    on_limit: restart-unit\n    unit: api.service\n", {
		"4:14: error: on_leak: restart-unit cannot restart a unit within a user's service manager "
		"(match: user_unit); use signal or exec",
		"5:15: error: on_limit: restart-unit cannot restart a unit within a user's service manager "
		"(match: user_unit); use signal or exec" } },
	{ "watches:\n  - name: a\n    match: { comm: x, parent: { user_unit: api.service } }\n"
	  "    on_leak: restart-unit\n", { NULL } },
	{ W1("    max_actions: 3\n"), { "4:18: error: 'max_actions' must be a count per period like 3/h or 5/30m, not '3'" } },
	{ W1("    max_actions: 0/h\n"), { "4:18: error: 'max_actions' must be 1 to 1000000 actions per a period longer than 0, not '0/h'" } },
	{ W1("    capture: [yes]\n"), { "4:14: error: 'capture' must be true or false, not a list" } },
	{ W1("    {a: 1}: 2\n"), { "4:5: error: keys must be plain names, not a mapping" } },
	{ "watches:\n  - name: a\n    match: &m { parent: *m }\n", { "3:12: error: 'parent' is nested more than 8 deep" } },
	{ "watches: [ {name: \"a\\x01\", match: {comm: x}} ]\n", {
		"1:19: error: 'name' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, not 'a\\x01'" } },
	{ "x: *nope\n", { "1:4: error: found undefined alias" } },
	/* Several errors at once, and in file order even when found out of order. */
	{ "watches:\n  - name: a\n    match: { comm: x }\n    window: 10s\n"
	  "  - name: b\n    match: {}\ninterval: 2s\nbogus: 1\n", {
		"4:13: error: 'window' (10s) must be at least 10 times 'interval' (2s): a trend needs at least 10 samples",
		"6:12: error: match needs at least one criterion",
		"8:1: error: unknown key 'bogus'" } },
};

static void test_bad(void)
{
	for (size_t i = 0; i < N(bad_cases); i++) {
		const struct bad *b = &bad_cases[i];
		struct config *c;
		struct diag d;
		size_t want = 0;
		int r;

		while (want < N(b->want) && b->want[want])
			want++;
		r = load_text(b->text, &test_env, &c, &d);
		CHECK_MSG(r == (want ? -EINVAL : 0), "case %zu: load = %d", i, r);
		CHECK_MSG(want ? c == NULL : c != NULL, "case %zu: config %p", i, (void *)c);
		CHECK_MSG(d.n == want, "case %zu: %zu diagnostics, want %zu (first: %s)", i, d.n,
			  want, d.n ? d.msgs[0] : "none");
		for (size_t j = 0; j < d.n && j < want; j++)
			CHECK_STR(d.msgs[j], b->want[j]);
		config_free(c);
		diag_free(&d);
	}
}

static void test_env_cases(void)
{
	const char *pct = "watches:\n  - name: a\n    match: { comm: x }\n    rss: { max: 50% }\n";
	const char *users = "watches:\n  - name: a\n    match: { user: root }\n"
			    "  - name: b\n    match: { user: nosuchuser-leakwatch }\n";
	struct config_env no_mem = { 0, fake_lookup }, real = { MEM_TOTAL, NULL };
	struct config *c;
	struct diag d;
	int r;

	r = load_text(pct, &no_mem, &c, &d);
	CHECK(r == -EINVAL && d.n == 1);
	if (d.n == 1)
		CHECK_STR(d.msgs[0], "4:17: error: 'max' as a percentage needs MemTotal, which is unknown");
	diag_free(&d);

	r = load_text(pct, NULL, &c, &d);     /* no env at all: the same */
	CHECK(r == -EINVAL && d.n == 1);
	diag_free(&d);

	/* fds and threads percentages are of the process's own limits: kept
	 * as N, no MemTotal needed */
	r = load_text("watches:\n  - name: a\n    match: { comm: x }\n    fds: { max: 90% }\n"
		      "    threads: { max: 12.5%, for: 3 }\n", &no_mem, &c, &d);
	CHECK(r == 0 && c && d.n == 0);
	if (r == 0 && c) {
		const struct metric_rule *f = &c->watches[0].rule[METRIC_FDS];
		const struct metric_rule *t = &c->watches[0].rule[METRIC_THREADS];

		CHECK(f->has_max && f->max_percent == 90 && f->max == 0);
		CHECK(t->has_max && t->max_percent == 12.5 && t->max == 0 && t->for_samples == 3);
		CHECK(!c->watches[0].rule[METRIC_RSS].has_max);
	}
	config_free(c);
	diag_free(&d);
	/* rss: of MemTotal where the process's cgroup sets less, rounded down */
	r = load_text("watches:\n  - name: a\n    match: { comm: x }\n    rss: { max: 33% }\n", &real, &c, &d);
	CHECK(r == 0 && c && c->watches[0].rule[METRIC_RSS].max == 5669356830.0 &&
	      c->watches[0].rule[METRIC_RSS].max_percent == 33);
	config_free(c);
	diag_free(&d);

	/* getpwnam_r(3) when no lookup is given */
	r = load_text(users, &real, &c, &d);
	CHECK(r == -EINVAL && d.n == 1);
	if (d.n == 1)
		CHECK_STR(d.msgs[0], "5:20: error: unknown user 'nosuchuser-leakwatch'");
	diag_free(&d);
	r = load_text("watches:\n  - name: a\n    match: { user: root }\n", &real, &c, &d);
	CHECK(r == 0 && c && c->watches[0].match.has_uid && c->watches[0].match.uid == 0);
	config_free(c);
	diag_free(&d);
}

/* A file of SIZE bytes: a comment padding out one watch.  Its path goes
 * into PATH; 0 or -errno. */
static int write_padded(size_t size, char *path, size_t path_len)
{
	static const char tail[] = "\nwatches: [{name: a, match: {comm: x}}]\n";
	char *text = malloc(size);
	int fd, r = 0;

	if (!text || size < sizeof(tail))
		return -ENOMEM;
	memset(text, 'x', size);
	text[0] = '#';
	memcpy(text + size - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	snprintf(path, path_len, "/tmp/leakwatch-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	if (write(fd, text, size) != (ssize_t)size)
		r = -EIO;
	close(fd);
	free(text);
	return r;
}

/* The file side: 4 MiB is refused, a byte less is read. */
static void test_file_size(void)
{
	static const struct { size_t size; int ret; } cases[] = {
		{ (4u << 20) - 1, 0 }, { 4u << 20, -EFBIG }, { (4u << 20) + 1, -EFBIG },
	};

	for (size_t i = 0; i < N(cases); i++) {
		char path[64], want[160];
		struct config *c = NULL;
		struct diag d = { 0 };
		int r;

		if (write_padded(cases[i].size, path, sizeof(path)) < 0) {
			CHECK_MSG(0, "cannot write a %zu-byte file", cases[i].size);
			continue;
		}
		r = config_load(path, &test_env, &c, &d);
		CHECK_MSG(r == cases[i].ret, "%zu bytes: %d", cases[i].size, r);
		CHECK(r == 0 ? c && c->n_watches == 1 && d.n == 0 : !c && d.n == 1);
		snprintf(want, sizeof(want), "%s: error: cannot read: larger than 4 MiB, far more "
			 "than a configuration needs", path);
		if (r < 0 && d.n == 1)
			CHECK_STR(d.msgs[0], want);
		if (c)
			CHECK_STR(c->path, path);
		config_free(c);
		diag_free(&d);
		unlink(path);
	}
}

static void test_files(void)
{
	struct config *c = (struct config *)&c;
	struct diag d = { 0 };
	int r;

	r = config_load("tests/conf/does-not-exist.yaml", &test_env, &c, &d);
	CHECK(r == -ENOENT);
	CHECK(c == NULL);
	CHECK(d.n == 1);
	if (d.n == 1)
		CHECK_STR(d.msgs[0], "tests/conf/does-not-exist.yaml: error: cannot open: No such file or directory");
	diag_free(&d);
	CHECK(d.n == 0 && d.msgs == NULL);

	r = config_load("tests", &test_env, &c, &d);
	CHECK(r == -EISDIR && d.n == 1);
	if (d.n == 1)
		CHECK_STR(d.msgs[0], "tests: error: cannot read: Is a directory");
	diag_free(&d);

	/* The shipped example must always be clean. */
	r = config_load("conf/leakwatch.yaml", &test_env, &c, &d);
	CHECK_MSG(r == 0 && d.n == 0, "conf/leakwatch.yaml: %d: %s", r, d.n ? d.msgs[0] : "");
	CHECK(c && c->n_watches >= 2);
	if (c)
		CHECK_STR(c->path, "conf/leakwatch.yaml");
	config_free(c);
	diag_free(&d);
}

static void test_names(void)
{
	CHECK_STR(metric_name(METRIC_RSS), "rss");
	CHECK_STR(metric_name(METRIC_FDS), "fds");
	CHECK_STR(metric_name(METRIC_THREADS), "threads");
	CHECK_STR(action_name(ACTION_ALERT), "alert");
	CHECK_STR(action_name(ACTION_SIGNAL), "signal");
	CHECK_STR(action_name(ACTION_RESTART_UNIT), "restart-unit");
	CHECK_STR(action_name(ACTION_EXEC), "exec");
	config_free(NULL);
	diag_free(NULL);
}

int main(void)
{
	RUN(test_full);
	RUN(test_top_defaults);
	RUN(test_bad);
	RUN(test_env_cases);
	RUN(test_files);
	RUN(test_file_size);
	RUN(test_names);
	return check_done("test_config");
}
