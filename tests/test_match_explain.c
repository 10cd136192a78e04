/* Explaining a match (core/match_explain.h): for each criterion, a process
 * that fails it alone is told so in words, with that criterion first and
 * the held ones marked; the answer is match_process()'s for every process
 * and watch of a table (so it cannot drift from the matcher); a parent's
 * failure nests the parent's reason; an unreadable exe is MATCH_UNKNOWN,
 * unless another criterion says no; pidfiles as match.c trusts them.
 *
 * Then the survey (daemon/match_survey.h) on a fixture /proc tree: exactly
 * the matching processes listed per watch, each near miss with its
 * criterion and reason, a process the first watch took shown as taken
 * under the second, PID 1 and a kernel thread as never watched, unrelated
 * processes not listed, the cap with its count; and the two renderings
 * (valid JSON, printable lines whatever the process's comm holds). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/config.h"
#include "core/match_explain.h"
#include "core/match_report.h"
#include "daemon/match_survey.h"
#include "fixture.h"
#include "json_check.h"
#include "text.h"

static struct proc_info procs[4];
static struct pidfile_pid pidfile_a;

static const struct proc_info *parent_of(void *ctx, pid_t ppid)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		if (procs[i].pid == ppid)
			return &procs[i];
	return NULL;
}

static void pidfile_of(void *ctx, const char *path, struct pidfile_pid *out)
{
	(void)ctx;
	*out = strcmp(path, "/run/a.pid") == 0 ? pidfile_a : (struct pidfile_pid){ 0 };
}

static void names(void *ctx, uid_t uid, char *out, size_t len)
{
	(void)ctx;
	snprintf(out, len, "%s", uid == 0 ? "root" : uid == 33 ? "www-data" : "someone");
}

static const struct match_lookups lookups = { parent_of, pidfile_of, names, NULL };

/* Every criterion, each with a process failing it alone. */
static const char *all_text =
	"watches:\n"
	"  - name: all\n"
	"    match:\n"
	"      comm: \"gunicorn\"\n"
	"      exe: \"*/python3*\"\n"
	"      python: true\n"
	"      user: www-data\n"
	"      unit: api.service\n"
	"      cmdline: \"^gunicorn: worker\"\n"
	"      pidfile: /run/a.pid\n"
	"      parent: { cmdline: \"^gunicorn: master\", comm: gunicorn }\n"
	"  - name: user_unit\n"
	"    match: { user_unit: app.service, comm: gunicorn }\n"
	"  - name: not-python\n"
	"    match: { python: false, comm: gunicorn }\n";

static struct proc_info good(char *cmdline, char *exe)
{
	struct proc_info p = { .pid = 20, .ppid = 10, .comm = "gunicorn", .cmdline = cmdline, .exe = exe,
			       .has_uid = true, .uid = 33, .euid = 33, .suid = 33, .unit = "api.service" };
	return p;
}

static void test_each_criterion(void)
{
	char worker[] = "gunicorn: worker [api]", master[] = "gunicorn: master [api]", other[] = "python3 x.py";
	char python[] = "/usr/bin/python3.11", perl[] = "/usr/bin/perl", cron[] = "cron.service";
	char app[] = "app.service";
	struct config *cfg = load_config(all_text);
	struct match_explain ex;
	struct proc_info p;
	static const struct {
		int crit;
		const char *reason;
	} want[] = {
		{ CRIT_COMM, "comm: python3 does not match gunicorn" },
		{ CRIT_EXE, "exe: /usr/bin/perl does not match */python3*" },
		{ CRIT_USER, "user: runs as root (0), not www-data" },
		{ CRIT_UNIT, "unit: in cron.service, not api.service" },
		{ CRIT_CMDLINE, "cmdline: no match for ^gunicorn: worker" },
		{ CRIT_PIDFILE, "pidfile: /run/a.pid names pid 21, not this one" },
		{ CRIT_PARENT, "parent: pid 10 (gunicorn) does not match: cmdline: no match for ^gunicorn: master" },
		{ CRIT_UNIT, "unit: in no system unit, not api.service" },
		{ CRIT_PARENT, "parent: pid 11 cannot be read" },
		{ CRIT_PIDFILE, "pidfile: /run/a.pid names it, but someone may write the file, so it names only "
				"someone's processes" },
		{ CRIT_CMDLINE, "cmdline: cannot be read, no match for ^gunicorn: worker" },
	};

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	procs[0] = good(master, python);
	procs[0].pid = 10;
	procs[0].ppid = 1;
	pidfile_a = (struct pidfile_pid){ 20, true, 0 };
	p = good(worker, python);
	match_explain(&cfg->watches[0].match, &p, &lookups, &ex);
	CHECK(ex.result == MATCH_YES && ex.first == -1 && !ex.reason[0] && ex.held == ex.given && !ex.failed);
	CHECK(ex.given == ((CRIT_BIT(CRIT_COUNT) - 1) & ~CRIT_BIT(CRIT_USER_UNIT)));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		p = good(worker, python);
		pidfile_a = (struct pidfile_pid){ 20, true, 0 };
		switch (i) {
		case 0: snprintf(p.comm, sizeof(p.comm), "python3"); break;
		case 1: p.exe = perl; break;     /* python: fails too, after exe */
		case 2: p.uid = 0; break;
		case 3: p.unit = cron; break;
		case 4: p.cmdline = other; break;
		case 5: pidfile_a.pid = 21; break;
		case 6: procs[0].cmdline = other; break;
		case 7: p.unit = NULL; break;
		case 8: p.ppid = 11; break;
		case 9: pidfile_a = (struct pidfile_pid){ 20, false, 1000 }; break;
		case 10: p.cmdline = NULL; break;
		}
		match_explain(&cfg->watches[0].match, &p, &lookups, &ex);
		CHECK_MSG(ex.result == MATCH_NO && ex.first == want[i].crit, "case %zu: result %d first %d", i,
			  ex.result, ex.first);
		CHECK_MSG(strcmp(ex.reason, want[i].reason) == 0, "case %zu: \"%s\"", i, ex.reason);
		CHECK_MSG(ex.failed & CRIT_BIT(want[i].crit) && !(ex.held & CRIT_BIT(want[i].crit)) &&
			  (ex.held | ex.failed | ex.unknown) == ex.given, "case %zu", i);
		CHECK_MSG(ex.held & CRIT_BIT(CRIT_COMM) || i == 0, "case %zu: comm held", i);
		CHECK_MSG(match_process(&cfg->watches[0].match, &p, parent_of, pidfile_of, NULL, NULL) == MATCH_NO,
			  "case %zu", i);
		procs[0].cmdline = master;
	}
	/* perl: exe first, python too in the failed set */
	p = good(worker, perl);
	match_explain(&cfg->watches[0].match, &p, &lookups, &ex);
	CHECK(ex.failed == (CRIT_BIT(CRIT_EXE) | CRIT_BIT(CRIT_PYTHON)));
	/* python: alone, and false; user_unit */
	p = good(worker, perl);
	match_explain(&cfg->watches[2].match, &p, &lookups, &ex);
	CHECK(ex.result == MATCH_YES);
	p = good(worker, python);
	match_explain(&cfg->watches[2].match, &p, &lookups, &ex);
	CHECK_STR(ex.reason, "python: /usr/bin/python3.11 is Python (python: false)");
	p.user_unit = app;
	match_explain(&cfg->watches[1].match, &p, &lookups, &ex);
	CHECK(ex.result == MATCH_YES);
	p.user_unit = NULL;
	match_explain(&cfg->watches[1].match, &p, &lookups, &ex);
	CHECK_STR(ex.reason, "user_unit: in no unit of a user's manager, not app.service");
	/* no uid names given: numbers */
	p = good(worker, python);
	p.uid = 0;
	match_explain(&cfg->watches[0].match, &p, &(struct match_lookups){ parent_of, pidfile_of, NULL, NULL }, &ex);
	CHECK_STR(ex.reason, "user: runs as uid 0 (0), not www-data");
	memset(procs, 0, sizeof(procs));
	config_free(cfg);
}

/* An exe link denied: undecided unless another criterion says no, the
 * process (or the parent) named. */
static void test_unknown(void)
{
	struct config *cfg = load_config("watches:\n"
					 "  - name: py\n"
					 "    match: { exe: \"*/python3*\", comm: app }\n"
					 "  - name: child\n"
					 "    match: { comm: app, parent: { python: true } }\n");
	char python[] = "/usr/bin/python3.11";
	struct proc_info p = { .pid = 20, .ppid = 10, .comm = "app", .exe_err = -EACCES };
	struct match_explain ex;

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	match_explain(&cfg->watches[0].match, &p, &lookups, &ex);
	CHECK(ex.result == MATCH_UNKNOWN && ex.first == CRIT_EXE && ex.unknown == CRIT_BIT(CRIT_EXE));
	CHECK_STR(ex.reason, "exe: cannot be read: Permission denied (exe: and python: need root or CAP_SYS_PTRACE)");
	snprintf(p.comm, sizeof(p.comm), "other");
	match_explain(&cfg->watches[0].match, &p, &lookups, &ex);
	CHECK(ex.result == MATCH_NO && ex.first == CRIT_COMM && ex.unknown == CRIT_BIT(CRIT_EXE));
	/* the parent's link */
	snprintf(p.comm, sizeof(p.comm), "app");
	p.exe = python;
	procs[0] = (struct proc_info){ .pid = 10, .ppid = 1, .comm = "master", .exe_err = -EPERM };
	match_explain(&cfg->watches[1].match, &p, &lookups, &ex);
	CHECK(ex.result == MATCH_UNKNOWN && ex.first == CRIT_PARENT);
	CHECK_STR(ex.reason, "parent: pid 10 (master): python: its executable cannot be read: Operation not "
			     "permitted (exe: and python: need root or CAP_SYS_PTRACE)");
	/* a missing link is a plain no */
	procs[0].exe_err = -ENOENT;
	match_explain(&cfg->watches[1].match, &p, &lookups, &ex);
	CHECK(ex.result == MATCH_NO);
	CHECK_STR(ex.reason, "parent: pid 10 (master) does not match: python: its executable link cannot be read: "
			     "No such file or directory");
	memset(procs, 0, sizeof(procs));
	config_free(cfg);
}

/* match_explain's answer is match_process's, for every process of a
 * table against every watch of a config. */
static void test_same_answer(void)
{
	struct config *cfg = load_config(
		"watches:\n"
		"  - { name: a, match: { comm: \"w*\", cmdline: \"^work\" } }\n"
		"  - { name: b, match: { exe: \"*/python3*\", user: 33 } }\n"
		"  - { name: c, match: { cmdline: \"x\", parent: { comm: m, parent: { python: true } } } }\n"
		"  - { name: d, match: { pidfile: /run/a.pid, python: false } }\n"
		"  - { name: e, match: { unit: api.service, python: true } }\n");
	char *cmds[] = { "worker 1", "x", NULL, "other" };
	char *exes[] = { "/usr/bin/python3.11", "/bin/sh", NULL };
	int errs[] = { 0, -EACCES, -ENOENT };
	const char *comms[] = { "worker", "m", "sh" };
	size_t n = 0, yes = 0, unknown = 0;

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	procs[0] = (struct proc_info){ .pid = 10, .ppid = 5, .comm = "m", .exe = exes[0] };
	procs[1] = (struct proc_info){ .pid = 5, .ppid = 1, .comm = "init", .exe_err = -EACCES };
	pidfile_a = (struct pidfile_pid){ 20, true, 0 };
	for (size_t c = 0; c < 4; c++)
		for (size_t x = 0; x < 3; x++)
			for (size_t e = 0; e < 3; e++)
				for (size_t k = 0; k < 3; k++)
					for (unsigned bits = 0; bits < 8; bits++) {
						struct proc_info p = { .pid = bits & 1 ? 20 : 21, .ppid = bits & 2 ? 10 : 5,
								       .cmdline = cmds[c], .exe = exes[x],
								       .exe_err = exes[x] ? 0 : errs[e],
								       .has_uid = true, .uid = bits & 4 ? 33 : 0,
								       .unit = bits & 4 ? "api.service" : NULL };
						snprintf(p.comm, sizeof(p.comm), "%s", comms[k]);
						for (size_t w = 0; w < cfg->n_watches; w++) {
							struct match_explain ex;
							enum match_result r = match_process(&cfg->watches[w].match, &p,
											    parent_of, pidfile_of,
											    NULL, NULL);

							match_explain(&cfg->watches[w].match, &p, &lookups, &ex);
							CHECK_MSG(ex.result == r, "c%zu x%zu e%zu k%zu b%u w%zu: %d, not %d", c,
								  x, e, k, bits, w, ex.result, r);
							CHECK((r == MATCH_YES) == (ex.first < 0 && !ex.reason[0]));
							n++;
							yes += r == MATCH_YES;
							unknown += r == MATCH_UNKNOWN;
						}
					}
	CHECK_MSG(yes > 20 && unknown > 20 && n - yes - unknown > 20, "%zu yes, %zu unknown of %zu", yes, unknown,
		  n);
	memset(procs, 0, sizeof(procs));
	config_free(cfg);
}

int main(void)
{
	if (!make_root("match-explain"))
		return 2;
	RUN(test_each_criterion);
	RUN(test_unknown);
	RUN(test_same_answer);
	remove_root();
	return check_done("test_match_explain");
}
