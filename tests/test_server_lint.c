/* Unit tests of the server warnings (core/server_lint.h): every recipe of
 * README, leakwatch.yaml(5) and conf/leakwatch.yaml gives none, each
 * wrong watch exactly its own, unrelated watches none.  Run from the
 * repository root (the README and the shipped example are read). */
#include "core/config.h"
#include "core/server_lint.h"
#include "os/config_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define TEXT_PATH "test.yaml"

static int fake_lookup(const char *name, uid_t *uid)
{
	if (strcmp(name, "www-data") != 0)
		return -ENOENT;
	*uid = 33;
	return 0;
}

static const struct config_env test_env = { 16ULL << 30, fake_lookup };

static struct config *load(const char *path, const char *text)
{
	struct config *c = NULL;
	struct diag d = { 0 };
	int r = config_parse_text(path, text, strlen(text), &test_env, &c, &d);

	CHECK_MSG(r == 0, "%s: load: %d: %s", path, r, d.n ? d.msgs[0] : "");
	diag_free(&d);
	return c;
}

/* Every warning of C, checked for room; "(none)" when there is none. */
static size_t lint_all(const struct config *c, struct server_lint *each, size_t max)
{
	uint64_t budget = SERVER_MATCH_BUDGET;
	size_t n = 0;

	for (size_t i = 0; i < c->n_watches && i < max; i++) {
		n += server_lint_watch(&c->watches[i], &budget, &each[i]);
		for (size_t k = 0; k < each[i].n; k++)
			CHECK_MSG(strlen(each[i].w[k].text) < LINT_TEXT_MAX - 1, "cut short: %s",
				  each[i].w[k].text);
	}
	return n;
}

/* ---- recipes: no warning ------------------------------------------------ */

#define MAN_EXAMPLE \
	"interval: 5s\n" \
	"watches:\n" \
	"  - name: api-workers\n" \
	"    match:\n" \
	"      cmdline: \"^gunicorn: worker \\\\[api\\\\]\"\n" \
	"      python: true\n" \
	"      user: www-data\n" \
	"      unit: api.service\n" \
	"      parent:\n" \
	"        cmdline: \"^gunicorn: master \\\\[api\\\\]\"\n" \
	"    rss: { max: 1536M, for: 3, growth: 100M/h, predict: 6h }\n" \
	"    on_leak: signal\n" \
	"    on_limit: signal\n" \
	"    signal: TERM\n" \
	"    kill_after: 30s\n" \
	"  - name: celery-pool\n" \
	"    match:\n" \
	"      cmdline: \"^\\\\[celeryd: worker1@[^]]*:ForkPoolWorker-[0-9]+\\\\]$\"\n" \
	"      python: true\n" \
	"      parent:\n" \
	"        cmdline: \"^\\\\[celeryd: worker1@[^]]*:MainProcess\\\\] \"\n" \
	"    rss: { max: 25%, growth: 50M/h, predict: 6h }\n" \
	"    on_leak: signal\n" \
	"    on_limit: signal\n" \
	"    signal: URG\n" \
	"    kill_after: 6m\n"

#define MAN_UWSGI \
	"watches:\n" \
	"  - name: api-uwsgi\n" \
	"    match:\n" \
	"      cmdline: \"^api uWSGI worker [0-9]+$\"\n" \
	"      parent:\n" \
	"        cmdline: \"^api uWSGI master$\"\n" \
	"    rss: { max: 1536M, for: 3, growth: 100M/h, predict: 6h }\n" \
	"    on_leak: signal\n" \
	"    on_limit: signal\n" \
	"    signal: HUP\n" \
	"    kill_after: 65s\n"

/* Without setproctitle (leakwatch.yaml(5), conf/leakwatch.yaml). */
#define CELERY_PLAIN \
	"watches:\n" \
	"  - name: celery-pool\n" \
	"    match:\n" \
	"      cmdline: \"celery .*worker .*-n worker1@\"\n" \
	"      parent: { cmdline: \"celery .*worker .*-n worker1@\" }\n" \
	"    rss: { max: 1G }\n" \
	"    on_limit: signal\n" \
	"    signal: URG\n" \
	"    kill_after: 6m\n"

/* gunicorn without setproctitle: master and workers share argv. */
#define GUNICORN_PLAIN \
	"watches:\n" \
	"  - name: api\n" \
	"    match: { cmdline: \"gunicorn .*app:app\", parent: { cmdline: \"gunicorn .*app:app\" } }\n" \
	"    rss: { max: 1G }\n" \
	"    on_limit: signal\n"

static const struct {
	const char *name, *yaml;
	enum lint_server server;   /* of the first watch */
} clean[] = {
	{ "man EXAMPLE", MAN_EXAMPLE, LINT_GUNICORN },
	{ "man uWSGI workers", MAN_UWSGI, LINT_UWSGI },
	{ "Celery without setproctitle", CELERY_PLAIN, LINT_CELERY },
	{ "gunicorn without setproctitle", GUNICORN_PLAIN, LINT_GUNICORN },
	/* not the servers', or not acted on */
	{ "python3 app.py", "watches:\n  - name: a\n    match: { cmdline: \"python3 app.py\" }\n"
	  "    on_limit: signal\n    rss: { max: 1G }\n", LINT_SERVER_NONE },
	{ "comm python3", "watches:\n  - name: a\n    match: { comm: \"python3*\", python: true }\n"
	  "    on_limit: signal\n    signal: INT\n    kill_after: 1s\n    rss: { max: 1G }\n", LINT_SERVER_NONE },
	{ "celery flower", "watches:\n  - name: a\n    match: { cmdline: \"celery -A proj flower\" }\n"
	  "    on_limit: signal\n    rss: { max: 1G }\n", LINT_SERVER_NONE },
	{ "two servers named", "watches:\n  - name: a\n    match: { comm: \"gunicorn\", parent: { comm: uwsgi } }\n"
	  "    on_limit: signal\n    rss: { max: 1G }\n", LINT_GUNICORN },
	{ "either server", "watches:\n  - name: a\n    match: { cmdline: \"gunicorn|uwsgi\" }\n"
	  "    on_limit: signal\n    rss: { max: 1G }\n", LINT_SERVER_NONE },
	{ "a command a uWSGI master starts", "watches:\n  - name: a\n"
	  "    match: { cmdline: \"^python3 job.py\", parent: { cmdline: \"uWSGI master\" } }\n"
	  "    on_limit: signal\n    rss: { max: 1G }\n", LINT_SERVER_NONE },
	{ "uWSGI, alert only", "watches:\n  - name: a\n    match: { comm: uwsgi }\n"
	  "    rss: { max: 1G }\n", LINT_UWSGI },
	{ "uWSGI, restart-unit", "watches:\n  - name: a\n    match: { comm: uwsgi }\n"
	  "    on_limit: restart-unit\n    rss: { max: 1G }\n", LINT_UWSGI },
	{ "gunicorn, kill_after 0", "watches:\n  - name: a\n    match: { cmdline: \"^gunicorn: worker\" }\n"
	  "    on_limit: signal\n    kill_after: 0\n    rss: { max: 1G }\n", LINT_GUNICORN },
	{ "gunicorn workers by parent", "watches:\n  - name: a\n"
	  "    match: { user: www-data, parent: { cmdline: \"gunicorn: master\" } }\n"
	  "    on_limit: signal\n    rss: { max: 1G }\n", LINT_GUNICORN },
};

static void test_clean(void)
{
	for (size_t i = 0; i < N(clean); i++) {
		struct config *c = load(clean[i].name, clean[i].yaml);
		struct server_lint l[4];
		size_t n;

		if (!c)
			continue;
		n = lint_all(c, l, N(l));
		CHECK_MSG(n == 0, "%s: %zu warnings, the first: %s", clean[i].name, n,
			  l[0].n ? l[0].w[0].text : c->n_watches > 1 && l[1].n ? l[1].w[0].text : "?");
		CHECK_MSG(server_lint_recognise(&c->watches[0]) == clean[i].server, "%s: server %s",
			  clean[i].name, lint_server_name(server_lint_recognise(&c->watches[0])));
		config_free(c);
	}
}

/* The yaml blocks of the README that hold watches, each loaded alone. */
static void test_readme(void)
{
	FILE *f = fopen("README.md", "r");
	char line[512], text[8192];
	size_t len = 0, blocks = 0;
	bool in = false;

	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!in && strcmp(line, "```yaml\n") == 0) {
			in = true;
			len = 0;
			text[0] = '\0';
			continue;
		}
		if (!in)
			continue;
		if (strcmp(line, "```\n") != 0) {
			if (len + strlen(line) < sizeof(text))
				len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", line);
			continue;
		}
		in = false;
		if (!strstr(text, "- name:"))
			continue;
		char yaml[8300];
		struct config *c;

		snprintf(yaml, sizeof(yaml), "%s%s", strncmp(text, "  - ", 4) == 0 ? "watches:\n" : "", text);
		c = load("README.md block", yaml);
		blocks++;
		for (size_t i = 0; c && i < c->n_watches; i++) {
			struct server_lint l;
			uint64_t budget = SERVER_MATCH_BUDGET;

			CHECK(server_lint_recognise(&c->watches[i]) != LINT_SERVER_NONE);
			CHECK_MSG(server_lint_watch(&c->watches[i], &budget, &l) == 0, "README %s: %s",
				  c->watches[i].name, l.w[0].text);
		}
		config_free(c);
	}
	fclose(f);
	CHECK_MSG(blocks >= 3, "%zu README blocks with watches (gunicorn, uWSGI, Celery)", blocks);
}

static void test_shipped(void)
{
	static const enum lint_server order[] = { LINT_GUNICORN, LINT_CELERY, LINT_UWSGI };
	struct config *c = NULL;
	struct diag d = { 0 };
	int r = config_load("conf/leakwatch.yaml", &test_env, &c, &d);

	CHECK_MSG(r == 0, "conf/leakwatch.yaml: %d", r);
	diag_free(&d);
	if (!c)
		return;
	CHECK(c->n_watches == N(order));
	for (size_t i = 0; i < c->n_watches && i < N(order); i++) {
		struct server_lint l;
		uint64_t budget = SERVER_MATCH_BUDGET;

		CHECK_MSG(server_lint_watch(&c->watches[i], &budget, &l) == 0, "%s: %s", c->watches[i].name,
			  l.w[0].text);
		CHECK(l.server == order[i]);
	}
	CHECK(server_lint_count(c) == 0);
	r = server_lint_config(c, &d);
	CHECK(r == 0 && d.n == 0);
	diag_free(&d);
	config_free(c);
}

/* ---- wrong watches: exactly their warnings -------------------------------- */

/* A uWSGI recipe with KEYS instead of the signal and kill_after lines. */
#define UWSGI(keys) \
	"watches:\n" \
	"  - name: u\n" \
	"    match:\n" \
	"      cmdline: \"^api uWSGI worker [0-9]+$\"\n" \
	"      parent: { cmdline: \"^api uWSGI master$\" }\n" \
	"    rss: { max: 1G }\n" \
	"    on_limit: signal\n" \
	keys
#define GUNICORN(keys) \
	"watches:\n" \
	"  - name: g\n" \
	"    match:\n" \
	"      cmdline: \"^gunicorn: worker \\\\[api\\\\]\"\n" \
	"      parent: { cmdline: \"^gunicorn: master \\\\[api\\\\]\" }\n" \
	"    rss: { max: 1G }\n" \
	"    on_limit: signal\n" \
	keys
#define CELERY(keys) \
	"watches:\n" \
	"  - name: c\n" \
	"    match:\n" \
	"      cmdline: \"^\\\\[celeryd: w1@[^]]*:ForkPoolWorker-[0-9]+\\\\]$\"\n" \
	"      parent: { cmdline: \"^\\\\[celeryd: w1@[^]]*:MainProcess\\\\] \" }\n" \
	"    rss: { max: 1G }\n" \
	"    on_limit: signal\n" \
	keys

struct want {
	enum lint_code code;
	unsigned line, column;
	const char *says;        /* a part of the text */
};

static const struct {
	const char *name, *yaml;
	size_t n;
	struct want w[2];
} wrong[] = {
	{ "uWSGI TERM", UWSGI("    signal: TERM\n    kill_after: 65s\n"), 1,
	  { { LINT_SIGNAL, 8, 13, "signal TERM ends a uWSGI worker in the middle of its request" } } },
	{ "uWSGI INT", UWSGI("    signal: INT\n    kill_after: 65s\n"), 1,
	  { { LINT_SIGNAL, 8, 13, "use signal: HUP (the worker finishes the request, and the master respawns it)" } } },
	{ "uWSGI QUIT", UWSGI("    signal: QUIT\n    kill_after: 65s\n"), 1,
	  { { LINT_SIGNAL, 8, 13, "kills the --http router" } } },
	{ "uWSGI USR1", UWSGI("    signal: USR1\n    kill_after: 65s\n"), 1,
	  { { LINT_SIGNAL, 8, 13, "signal USR1 does not end a uWSGI worker" } } },
	{ "uWSGI KILL", UWSGI("    signal: KILL\n    kill_after: 65s\n"), 1,
	  { { LINT_SIGNAL, 8, 13, "signal KILL ends a uWSGI worker" } } },
	{ "uWSGI default signal", UWSGI("    kill_after: 65s\n"), 1,
	  { { LINT_SIGNAL, 7, 15, "signal TERM (the default) ends a uWSGI worker" } } },
	{ "uWSGI kill_after", UWSGI("    signal: HUP\n    kill_after: 40s\n"), 1,
	  { { LINT_KILL_AFTER, 9, 17, "kill_after 40s is shorter than uWSGI's default worker reload mercy (60s)" } } },
	{ "uWSGI default kill_after", UWSGI("    signal: HUP\n"), 1,
	  { { LINT_KILL_AFTER, 8, 13, "kill_after 30s (the default) is shorter than uWSGI's" } } },
	{ "uWSGI python", "watches:\n  - name: u\n    match:\n      cmdline: \"^api uWSGI worker [0-9]+$\"\n"
	  "      python: true\n    rss: { max: 1G }\n", 1,
	  { { LINT_PYTHON, 5, 15, "python: true never matches a uWSGI process" } } },
	{ "uWSGI python in parent", UWSGI("    signal: HUP\n    kill_after: 1m5s\n")
	  "  - name: v\n    match:\n      comm: uwsgi\n      parent: { comm: uwsgi, python: yes }\n", 1,
	  { { LINT_PYTHON, 13, 38, "leave python: out" } } },
	{ "uWSGI by comm", "watches:\n  - name: u\n    match: { comm: uwsgi, parent: { comm: uwsgi } }\n"
	  "    rss: { max: 1G }\n    on_leak: signal\n    signal: HUP\n    kill_after: 65s\n", 1,
	  { { LINT_MASTER, 3, 12, "this watch can match the uWSGI master or its router too: no cmdline regex" } } },
	{ "uWSGI master or worker", "watches:\n  - name: u\n    match: { cmdline: \"^api uWSGI (master|worker)\" }\n"
	  "    rss: { max: 1G }\n    on_leak: exec\n    exec: [/bin/true]\n", 1,
	  { { LINT_MASTER, 3, 23, "its cmdline regex also matches \"api uWSGI master\"" } } },
	{ "uWSGI worker or router", "watches:\n  - name: u\n    match: { cmdline: \"^shop uWSGI (worker|http)\" }\n"
	  "    rss: { max: 1G }\n    on_leak: signal\n    signal: HUP\n    kill_after: 65s\n", 1,
	  { { LINT_MASTER, 3, 23, "also matches \"shop uWSGI http 1\"" } } },
	{ "uWSGI TERM and the router", "watches:\n  - name: u\n    match: { comm: uwsgi }\n"
	  "    rss: { max: 1G }\n    on_leak: signal\n", 2,
	  { { LINT_MASTER, 3, 12, "uWSGI master" }, { LINT_SIGNAL, 5, 14, "signal TERM (the default)" } } },
	{ "gunicorn QUIT", GUNICORN("    signal: QUIT\n"), 1,
	  { { LINT_SIGNAL, 8, 13, "signal QUIT ends a gunicorn worker at once, in the middle of its request "
	      "(QUIT and INT are gunicorn's quick shutdown); use signal: TERM" } } },
	{ "gunicorn HUP", GUNICORN("    signal: HUP\n"), 1,
	  { { LINT_SIGNAL, 8, 13, "a worker does not handle HUP" } } },
	{ "gunicorn kill_after", GUNICORN("    kill_after: 10s\n"), 1,
	  { { LINT_KILL_AFTER, 8, 17, "kill_after 10s is shorter than gunicorn's default graceful timeout (30s)" } } },
	{ "gunicorn no parent", "watches:\n  - name: g\n    match: { cmdline: \"^gunicorn\" }\n"
	  "    rss: { max: 1G }\n    on_limit: signal\n", 1,
	  { { LINT_MASTER, 3, 23, "can match the gunicorn master too: its cmdline names no worker" } } },
	{ "gunicorn master or worker", "watches:\n  - name: g\n"
	  "    match: { cmdline: \"^gunicorn: (master|worker) \\\\[shop\\\\]\" }\n"
	  "    rss: { max: 1G }\n    on_limit: signal\n", 1,
	  { { LINT_MASTER, 3, 23, "also matches \"gunicorn: master [shop]\"" } } },
	{ "Celery TERM", CELERY("    signal: TERM\n    kill_after: 6m\n"), 1,
	  { { LINT_SIGNAL, 8, 13, "signal TERM ends a Celery pool child in the middle of its task, which is lost "
	      "under Celery's defaults (WorkerLostError) and run again only with task_acks_late and "
	      "task_reject_on_worker_lost; use signal: URG" } } },
	{ "Celery default", CELERY(""), 1, { { LINT_SIGNAL, 7, 15, "signal TERM (the default) ends a Celery" } } },
	{ "Celery HUP", CELERY("    signal: HUP\n"), 1, { { LINT_SIGNAL, 8, 13, "signal HUP ends a Celery" } } },
	{ "Celery QUIT", CELERY("    signal: QUIT\n"), 1, { { LINT_SIGNAL, 8, 13, "signal QUIT ends a Celery" } } },
	{ "Celery INT", CELERY("    signal: SIGINT\n"), 1, { { LINT_SIGNAL, 8, 13, "signal INT ends a Celery" } } },
	{ "Celery USR1", CELERY("    signal: USR1\n"), 1, { { LINT_SIGNAL, 8, 13, "soft time limit" } } },
	{ "Celery node title", "watches:\n  - name: c\n    match: { cmdline: \"^\\\\[celeryd: worker1@\" }\n"
	  "    rss: { max: 1G }\n    on_limit: signal\n    signal: URG\n", 1,
	  { { LINT_MASTER, 3, 23, "can match Celery's MainProcess too: its cmdline names no pool child" } } },
	{ "Celery main or child", "watches:\n  - name: c\n"
	  "    match: { cmdline: \"^\\\\[celeryd: w2@web1:(MainProcess|ForkPoolWorker-[0-9]+)\" }\n"
	  "    rss: { max: 1G }\n    on_limit: signal\n    signal: URG\n", 1,
	  { { LINT_MASTER, 3, 23, "also matches \"[celeryd: w2@web1:MainProcess] -active- (" } } },
	{ "Celery argv", "watches:\n  - name: c\n    match: { cmdline: \"celery .*worker\" }\n"
	  "    rss: { max: 1G }\n    on_limit: signal\n    signal: URG\n", 1,
	  { { LINT_MASTER, 3, 23, "MainProcess" } } },
};

static void test_wrong(void)
{
	for (size_t i = 0; i < N(wrong); i++) {
		struct config *c = load(wrong[i].name, wrong[i].yaml);
		struct server_lint l[2];
		size_t n, k = 0;

		if (!c)
			continue;
		n = lint_all(c, l, N(l));
		CHECK_MSG(n == wrong[i].n, "%s: %zu warnings, want %zu", wrong[i].name, n, wrong[i].n);
		for (size_t j = 0; j < c->n_watches && j < N(l); j++) {
			for (size_t m = 0; m < l[j].n && k < wrong[i].n; m++, k++) {
				const struct lint_warning *g = &l[j].w[m];
				const struct want *w = &wrong[i].w[k];

				CHECK_MSG(g->code == w->code && g->at.line == w->line &&
					  g->at.column == w->column && strstr(g->text, w->says),
					  "%s: got code %d at %u:%u: %s", wrong[i].name, (int)g->code,
					  g->at.line, g->at.column, g->text);
			}
		}
		config_free(c);
	}
}

/* What -t prints: the path, the place, "warning:", the sentence. */
static void test_lines(void)
{
	struct config *c = load(TEXT_PATH, UWSGI("    signal: TERM\n    kill_after: 65s\n")
				"  - name: g\n    match: { comm: gunicorn }\n    on_leak: signal\n");
	struct diag d = { 0 };
	int r;

	if (!c)
		return;
	CHECK(server_lint_count(c) == 2);
	r = server_lint_config(c, &d);
	CHECK(r == 2 && d.n == 2);
	if (d.n == 2) {
		CHECK_STR(d.msgs[0], "test.yaml:8:13: warning: signal TERM ends a uWSGI worker in the middle "
			  "of its request, and its client gets no answer; use signal: HUP (the worker "
			  "finishes the request, and the master respawns it)");
		CHECK_STR(d.msgs[1], "test.yaml:11:12: warning: this watch can match the gunicorn master "
			  "too: its cmdline names no worker and it has no parent criterion, and an action "
			  "meant for a worker stops or reloads the whole server when it reaches the master; "
			  "match cmdline: \"^gunicorn: worker \\\\[NAME\\\\]\" with parent: { cmdline: "
			  "\"^gunicorn: master \\\\[NAME\\\\]\" }");
	}
	diag_free(&d);
	/* a watch built by hand has no places: the watch's name instead */
	memset(&c->watches[1].match.at, 0, sizeof(c->watches[1].match.at));
	memset(&c->watches[1].at, 0, sizeof(c->watches[1].at));
	r = server_lint_config(c, &d);
	CHECK(r == 2 && d.n == 2);
	if (d.n == 2)
		CHECK(strncmp(d.msgs[1], "test.yaml: warning: g: this watch can match", 43) == 0);
	diag_free(&d);
	config_free(c);
}

/* Past the budget the titles are not tried: a regex that names a worker
 * then passes, one that does not still gets its warning. */
static void test_budget(void)
{
	struct config *c = load("budget", "watches:\n"
				"  - name: g\n    match: { cmdline: \"^gunicorn: (master|worker)\" }\n"
				"    on_limit: signal\n"
				"  - name: h\n    match: { cmdline: \"^gunicorn\" }\n    on_limit: signal\n");
	struct server_lint l;
	uint64_t budget = SERVER_MATCH_BUDGET;

	if (!c)
		return;
	CHECK(server_lint_watch(&c->watches[0], &budget, &l) == 1 && l.w[0].code == LINT_MASTER);
	CHECK(budget < SERVER_MATCH_BUDGET);
	budget = 100;
	CHECK(server_lint_watch(&c->watches[0], &budget, &l) == 0);
	CHECK(budget == 100);     /* no search fitted */
	CHECK(server_lint_watch(&c->watches[1], &budget, &l) == 1 && l.w[0].code == LINT_MASTER);
	config_free(c);
}

/* Names and hosts from the regex: a MainProcess title with this node's
 * name and host is matched, the worker's word is never a name. */
static void test_names(void)
{
	static const struct {
		const char *rx;
		bool master;
	} cases[] = {
		{ "^\\\\[celeryd: (node7|x)@(db2\\\\.example\\\\.com|y):(MainProcess|ForkPoolWorker)", true },
		{ "^\\\\[celeryd: node7@(y|db2):(MainProcess|ForkPoolWorker)", true },
		{ "^\\\\[celeryd: node7@y:(MainProcess|ForkPoolWorker)", true },
		{ "^\\\\[celeryd: node7@db2\\\\.example\\\\.com:ForkPoolWorker-", false },
		{ "celeryd.*ForkPoolWorker", false },
		{ "^\\\\[celeryd: [a-z0-9]+@[^]]*:[A-Za-z]+(PoolWorker)?", true },
	};

	for (size_t i = 0; i < N(cases); i++) {
		char yaml[512];
		struct config *c;
		struct server_lint l;
		uint64_t budget = SERVER_MATCH_BUDGET;

		snprintf(yaml, sizeof(yaml), "watches:\n  - name: c\n    match: { cmdline: \"%s\" }\n"
			 "    on_limit: signal\n    signal: URG\n", cases[i].rx);
		c = load(cases[i].rx, yaml);
		if (!c)
			continue;
		CHECK_MSG(server_lint_watch(&c->watches[0], &budget, &l) == (cases[i].master ? 1u : 0u),
			  "%s: %zu warnings: %s", cases[i].rx, l.n, l.n ? l.w[0].text : "");
		config_free(c);
	}
}

int main(void)
{
	RUN(test_clean);
	RUN(test_readme);
	RUN(test_shipped);
	RUN(test_wrong);
	RUN(test_lines);
	RUN(test_budget);
	RUN(test_names);
	return check_done("test_server_lint");
}
