/* The match survey (daemon/match_survey.h) on a fixture /proc tree: per
 * watch exactly the matching processes, each near miss with the criterion
 * that turns it down and its reason, a process an earlier watch took shown
 * as taken under the later one, PID 1 and a kernel thread as never
 * watched, unrelated processes not listed, each list capped with the rest
 * counted; the renderings (JSON valid, the table printable whatever a
 * title holds) and match_show()'s answers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/config.h"
#include "core/match_report.h"
#include "daemon/match_survey.h"
#include "fixture.h"
#include "json_check.h"
#include "text.h"

#define SELF 300
#define PF_KTHREAD 0x00200040u

static const char *config_text =
	"watches:\n"
	"  - name: special\n"
	"    match: { cmdline: \"^worker special\" }\n"
	"  - name: workers\n"
	"    match:\n"
	"      comm: gunicorn\n"
	"      cmdline: \"^worker\"\n"
	"      user: 33\n"
	"      parent: { cmdline: \"^master\" }\n"
	"  - name: init\n"
	"    match: { comm: \"init*\" }\n"
	"  - name: kthreads\n"
	"    match: { comm: \"kworker*\" }\n";

static void as_uid(int pid, unsigned uid)
{
	char rel[64], text[128];
	int n = snprintf(text, sizeof(text), "Name:\tx\nUid:\t%u\t%u\t%u\t%u\n", uid, uid, uid, uid);

	snprintf(rel, sizeof(rel), "%d/status", pid);
	put(rel, text, (size_t)n);
}

static void gunicorn(int pid, int ppid, const char *argv0, unsigned uid)
{
	make_proc(pid, "gunicorn", ppid, PF_USER, argv0, 1);
	as_uid(pid, uid);
}

static void make_tree(void)
{
	char argv0[32];

	make_proc(1, "init", 0, PF_USER, "/sbin/init", 1);
	make_proc(2, "kworker/0:1", 0, PF_KTHREAD, "", 0);
	gunicorn(100, 1, "master", 33);
	gunicorn(101, 100, "worker 1", 33);
	gunicorn(102, 100, "worker 2", 33);
	gunicorn(103, 100, "worker 3", 0);          /* the wrong user */
	gunicorn(104, 1, "worker 4", 33);           /* the wrong parent */
	gunicorn(105, 100, "worker special", 33);   /* the first watch's */
	make_proc(106, "sshd", 1, PF_USER, "sshd: root", 1);   /* nothing to the watches */
	gunicorn(107, 100, "worker 7 \x1b[2J\n\"x\"", 33);   /* a hostile title */
	for (int pid = 110; pid < 126; pid++) {     /* near misses by comm alone */
		snprintf(argv0, sizeof(argv0), "other %d", pid);
		gunicorn(pid, 1, argv0, 33);
	}
	make_proc(SELF, "test", 1, PF_USER, "worker special", 1);   /* ourselves: never listed */
}

static const struct match_row *row_of(const struct match_rows *l, pid_t pid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].pid == pid)
			return &l->v[i];
	return NULL;
}

static bool pids_are(const struct match_rows *l, const pid_t *want, size_t n)
{
	if (l->n != n || l->seen != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (l->v[i].pid != want[i])
			return false;
	return true;
}

static void check_near(const struct match_rows *l, pid_t pid, int crit, const char *reason)
{
	const struct match_row *r = row_of(l, pid);

	CHECK_MSG(r && r->kind == ROW_NEAR && r->criterion == crit, "pid %d", (int)pid);
	if (r)
		CHECK_STR(r->reason, reason);
}

static void test_lists(const struct config *cfg)
{
	struct match_survey_opts o = { root, 5, SELF, NULL, NULL };
	struct match_report rep;
	const struct match_watch_rows *w;
	const struct match_row *r;
	int e = match_survey(cfg, &o, &rep);

	CHECK(e == 0);
	if (e < 0)
		return;
	CHECK_MSG(rep.n_procs == 26, "%zu processes", rep.n_procs);
	w = &rep.w[0];
	CHECK(pids_are(&w->matched, (pid_t[]){ 105 }, 1) && !w->elsewhere.seen && !w->near.seen);
	w = &rep.w[1];
	CHECK(pids_are(&w->matched, (pid_t[]){ 101, 102, 107 }, 3));
	r = row_of(&w->matched, 101);
	CHECK(r && strcmp(r->comm, "gunicorn") == 0 && strcmp(r->title, "worker 1") == 0 && r->ppid == 100 &&
	      r->has_uid && r->uid == 33);
	CHECK(w->elsewhere.n == 1 && w->elsewhere.seen == 1);
	r = row_of(&w->elsewhere, 105);
	CHECK(r && r->kind == ROW_TAKEN && r->other_watch == 0 && r->criterion == -1);
	if (r)
		CHECK_STR(r->reason, "taken by watch special, which comes first");
	/* near misses in pid order, the first 5 of 19 kept */
	CHECK_MSG(w->near.n == 5 && w->near.seen == 19, "%zu of %zu", w->near.n, w->near.seen);
	CHECK(w->near.n == 5 && w->near.v[0].pid == 100 && w->near.v[3].pid == 110 && w->near.v[4].pid == 111);
	check_near(&w->near, 100, CRIT_CMDLINE, "cmdline: no match for ^worker");
	check_near(&w->near, 103, CRIT_USER, "user: runs as root (0), not 33");
	check_near(&w->near, 104, CRIT_PARENT, "parent: pid 1 (init) does not match: cmdline: no match for ^master");
	r = row_of(&w->near, 110);
	CHECK(r && r->failed == (CRIT_BIT(CRIT_CMDLINE) | CRIT_BIT(CRIT_PARENT)));
	CHECK(!row_of(&w->near, 106) && !row_of(&w->matched, SELF));
	/* PID 1 and a kernel thread match, and are never watched */
	w = &rep.w[2];
	CHECK(!w->matched.n && w->elsewhere.n == 1 && !w->near.seen);
	r = row_of(&w->elsewhere, 1);
	CHECK(r && r->kind == ROW_NEVER);
	if (r)
		CHECK_STR(r->reason, "never watched: PID 1");
	w = &rep.w[3];
	r = row_of(&w->elsewhere, 2);
	CHECK(!w->matched.n && r && r->kind == ROW_NEVER && !r->title[0]);
	if (r)
		CHECK_STR(r->reason, "never watched: a kernel thread");
	match_report_free(&rep);
}

static void test_render(const struct config *cfg)
{
	struct match_survey_opts o = { root, 3, SELF, NULL, NULL };
	struct match_report rep;
	struct buf b = { 0 };

	CHECK(match_survey(cfg, &o, &rep) == 0);
	match_report_json(&rep, &b);
	CHECK(buf_ok(&b) && json_valid(b.data) && utf8_valid(b.data));
	CHECK(strstr(b.data, "\"kind\": \"taken\", \"criterion\": null, \"failed\": [], \"watch\": \"special\""));
	CHECK(strstr(b.data, "\"kind\": \"near_miss\", \"criterion\": \"user\", \"failed\": [\"user\"]"));
	CHECK(strstr(b.data, "\"not_matched_more\": 16}"));
	buf_reset(&b);
	match_report_table(&rep, &b);
	CHECK(buf_ok(&b) && utf8_valid(b.data));
	CHECK(!strchr(b.data, '\x1b') && !strstr(b.data, "\n\"x"));
	CHECK(strstr(b.data, "\nworkers: 3 matched\n      PID COMM            TITLE\n"
			     "      101 gunicorn        \"worker 1\"\n"));
	CHECK(strstr(b.data, "      105 gunicorn        \"worker special\"\n"
			     "                          taken by watch special, which comes first\n"));
	CHECK(strstr(b.data, "  not taken: 20 (1 that match it but are not watched by it, 19 near misses)\n"));
	CHECK(strstr(b.data, "  ... and 16 more\n"));
	CHECK(strstr(b.data, "\ninit: nothing matched\n"));
	for (const char *c = b.data; c && *c; c++)
		CHECK_MSG((unsigned char)*c >= 0x20 || *c == '\n', "byte 0x%02x", (unsigned char)*c);
	buf_free(&b);
	match_report_free(&rep);
}

/* match_show: the table on a file; a bad config, a missing root: -errno. */
static void test_show(void)
{
	struct match_survey_opts o = { root, 10, SELF, NULL, NULL };
	char path[300], missing[300];
	FILE *out = tmpfile();

	snprintf(path, sizeof(path), "%s/cfg.yaml", root);
	put("cfg.yaml", config_text, strlen(config_text));
	CHECK(out && match_show("test", path, &o, true, out) == 0 && ftell(out) > 100);
	snprintf(missing, sizeof(missing), "%s/none", root);
	o.proc_dir = missing;
	CHECK(match_show("test", path, &o, false, out) == -ENOENT);
	CHECK(match_show("test", missing, &o, false, out) < 0);
	if (out)
		fclose(out);
}

int main(void)
{
	struct config *cfg;

	if (!make_root("match-survey"))
		return 2;
	make_tree();
	cfg = load_config(config_text);
	CHECK(cfg != NULL);
	if (cfg) {
		RUN(test_lists, cfg);
		RUN(test_render, cfg);
	}
	RUN(test_show);
	config_free(cfg);
	remove_root();
	return check_done("test_match_survey");
}
