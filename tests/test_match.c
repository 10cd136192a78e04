/* Matching a process whose exe link could not be read (another user's
 * process, the daemon unprivileged): exe: and python: criteria cannot be
 * told (MATCH_UNKNOWN) unless another criterion already says no; the
 * first watch that cannot be told stops the search, so a later watch
 * never takes the process; a missing link (ENOENT) is a plain answer;
 * a parent's unreadable link is named as the cause.  And a pidfile: the
 * process it names matches only when the pidfile may name it (root's
 * pidfile any process, a user's only that user's), a refusal named to the
 * caller whichever watch then takes the process, the parent's too.  And
 * the two unit criteria: unit: the system manager's unit, user_unit: the
 * one within a user's manager, never one for the other. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/config.h"
#include "fixture.h"
#include "core/match.h"

static const char *config_text =
	"interval: 1s\n"
	"watches:\n"
	"  - name: api-python\n"                     /* 0 */
	"    match: { exe: \"*/python3*\", cmdline: \"^api\" }\n"
	"  - name: workers\n"                        /* 1 */
	"    match:\n"
	"      cmdline: \"^worker\"\n"
	"      parent: { python: true }\n"
	"  - name: not-python\n"                     /* 2 */
	"    match: { python: false, comm: \"tool\" }\n"
	"  - name: pythons\n"                        /* 3 */
	"    match: { python: true, comm: \"py*\" }\n"
	"  - name: all\n"                            /* 4 */
	"    match: { cmdline: \".\" }\n";

/* The same unit name, of the system manager and within a user's. */
static const char *unit_config_text =
	"interval: 1s\n"
	"watches:\n"
	"  - name: system\n"                        /* 0 */
	"    match: { unit: api.service }\n"
	"  - name: nobodys\n"                       /* 1 */
	"    match: { user_unit: api.service, user: 65534 }\n"
	"  - name: users\n"                         /* 2 */
	"    match: { user_unit: api.service }\n"
	"  - name: managers\n"                      /* 3 */
	"    match: { unit: user@1000.service }\n";

static void test_unit_criteria(void)
{
	static const struct {
		const char *unit, *user_unit;
		uid_t uid;
		int watch;
	} cases[] = {
		{ "api.service", NULL, 0, 0 },
		{ "api.service", NULL, 65534, 0 },
		{ "user@65534.service", "api.service", 65534, 1 },
		{ "user@65534.service", "api.service", 1000, 2 },
		{ "user@1000.service", "api.service", 1000, 2 },
		{ "user@1000.service", "other.service", 1000, 3 },
		{ "user@1000.service", NULL, 1000, 3 },
		{ "other.service", NULL, 0, -1 },
		{ NULL, NULL, 0, -1 },
		{ NULL, "api.service", 0, 2 },   /* not from the parser, but matched as given */
	};
	struct config *cfg = load_config(unit_config_text);

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK(match_needs(cfg) & NEED_UNIT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc_info p = { .pid = 50, .ppid = 1, .comm = "api", .has_uid = true, .uid = cases[i].uid,
				       .unit = (char *)cases[i].unit, .user_unit = (char *)cases[i].user_unit };
		int w = match_watch(cfg, &p, NULL, NULL, NULL, NULL, NULL);

		CHECK_MSG(w == cases[i].watch, "case %zu: watch %d, not %d", i, w, cases[i].watch);
	}
	config_free(cfg);
}

static struct proc_info procs[4];   /* a tiny process table, by index */

static const struct proc_info *parent_of(void *ctx, pid_t ppid)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		if (procs[i].pid == ppid)
			return &procs[i];
	return NULL;
}

static struct proc_info proc(pid_t pid, pid_t ppid, const char *comm, char *cmdline, char *exe, int exe_err)
{
	struct proc_info p = { .pid = pid, .ppid = ppid, .cmdline = cmdline, .exe = exe, .exe_err = exe_err };

	snprintf(p.comm, sizeof(p.comm), "%s", comm);
	return p;
}

/* The watch a process goes to, the undecided one, and who was unreadable. */
static int which(const struct config *cfg, const struct proc_info *p, int *undecided, pid_t *who)
{
	struct match_unknown why = { 0 };
	int idx = match_watch(cfg, p, parent_of, NULL, NULL, undecided, &why);

	*who = why.proc ? why.proc->pid : 0;
	return idx;
}

static const char *pidfile_config =
	"interval: 1s\n"
	"watches:\n"
	"  - name: by-pidfile\n"                     /* 0 */
	"    match: { pidfile: /run/a.pid, comm: app }\n"
	"  - name: workers\n"                        /* 1 */
	"    match: { cmdline: \"^worker\", parent: { pidfile: /run/m.pid } }\n"
	"  - name: apps\n"                           /* 2 */
	"    match: { comm: app }\n";

static struct pidfile_pid pidfile_a, pidfile_m;

static void pidfile_of(void *ctx, const char *path, struct pidfile_pid *out)
{
	(void)ctx;
	*out = strcmp(path, "/run/a.pid") == 0 ? pidfile_a : strcmp(path, "/run/m.pid") == 0 ? pidfile_m :
	       (struct pidfile_pid){ 0 };
}

static void test_pidfile(void)
{
	static const struct {
		struct pidfile_pid a;
		uid_t uid, euid;
		int watch;
		bool refused;
	} cases[] = {
		{ { 10, true, 0 }, 0, 0, 0, false },          /* root's pidfile: any process */
		{ { 10, false, 65534 }, 65534, 65534, 0, false }, /* nobody's, naming nobody's */
		{ { 10, false, 65534 }, 0, 0, 2, true },      /* nobody's, naming root's: refused */
		{ { 10, false, 65534 }, 65534, 0, 2, true },  /* nobody's, naming a setuid root one */
		{ { 11, false, 65534 }, 0, 0, 2, false },     /* another pid: no refusal, no match */
		{ { 0, false, 0 }, 0, 0, 2, false },          /* no pid */
	};
	char worker[] = "worker 1";
	struct config *cfg = load_config(pidfile_config);
	struct match_unknown why;
	struct proc_info p;

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK(match_needs(cfg) & NEED_UID);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = proc(10, 1, "app", NULL, NULL, 0);
		p.has_uid = true;
		p.uid = cases[i].uid;
		p.euid = p.suid = cases[i].euid;
		pidfile_a = cases[i].a;
		memset(&why, 0, sizeof(why));
		CHECK_MSG(match_watch(cfg, &p, parent_of, pidfile_of, NULL, NULL, &why) == cases[i].watch, "case %zu", i);
		CHECK_MSG(cases[i].refused ? why.refused_pidfile && strcmp(why.refused_pidfile, "/run/a.pid") == 0 &&
			  why.refused_proc == &p : !why.refused_pidfile, "case %zu: refused %s", i,
			  why.refused_pidfile ? why.refused_pidfile : "(none)");
	}
	/* the parent named by nobody's pidfile is root's: the worker is not matched, the parent named */
	procs[0] = proc(100, 1, "master", NULL, NULL, 0);
	procs[0].has_uid = true;
	pidfile_m = (struct pidfile_pid){ 100, false, 65534 };
	p = proc(103, 100, "worker", worker, NULL, 0);
	memset(&why, 0, sizeof(why));
	CHECK(match_watch(cfg, &p, parent_of, pidfile_of, NULL, NULL, &why) == -1);
	CHECK(why.refused_pidfile && strcmp(why.refused_pidfile, "/run/m.pid") == 0 && why.refused_proc == &procs[0]);
	/* once the parent is nobody's, it is */
	procs[0].uid = procs[0].euid = procs[0].suid = 65534;
	memset(&why, 0, sizeof(why));
	CHECK(match_watch(cfg, &p, parent_of, pidfile_of, NULL, NULL, &why) == 1 && !why.refused_pidfile);
	memset(procs, 0, sizeof(procs));
	config_free(cfg);
}

/* A cmdline: regex sees the first CMDLINE_REGEX_BYTES of the text, and
 * its $ matches at their end. */
static void cmdline_cap(void)
{
	static char text[CMDLINE_REGEX_BYTES + 16];
	struct config *cfg = load_config("watches:\n"
					 "  - { name: beyond, match: { cmdline: \"worker\" } }\n"
					 "  - { name: end, match: { cmdline: \"a$\" } }\n");
	struct proc_info p = { .pid = 20, .ppid = 1, .comm = "sh", .cmdline = text };

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	memset(text, 'a', CMDLINE_REGEX_BYTES);
	strcpy(text + CMDLINE_REGEX_BYTES, " worker b");
	CHECK(match_process(&cfg->watches[0].match, &p, parent_of, NULL, NULL, NULL) == MATCH_NO);
	CHECK(match_process(&cfg->watches[1].match, &p, parent_of, NULL, NULL, NULL) == MATCH_YES);
	memcpy(text + CMDLINE_REGEX_BYTES - 7, "worker", 6);   /* "workera": within */
	CHECK(match_process(&cfg->watches[0].match, &p, parent_of, NULL, NULL, NULL) == MATCH_YES);
	text[10] = '\0';
	CHECK(match_process(&cfg->watches[1].match, &p, parent_of, NULL, NULL, NULL) == MATCH_YES);
	config_free(cfg);
}

int main(void)
{
	char api[] = "api --port 80", worker[] = "worker 3", other[] = "other", tool[] = "tool -x";
	char python[] = "/usr/bin/python3.11", bash[] = "/usr/bin/bash";
	struct config *cfg;
	struct proc_info p;
	int undecided;
	pid_t who;

	if (!make_root("match"))
		return 2;
	RUN(test_pidfile);
	if (!check_case("test_match")) {
		remove_root();
		return check_done("test_match");
	}
	cfg = load_config(config_text);
	CHECK(cfg != NULL);
	if (!cfg)
		return check_done("test_match");

	/* readable: as ever */
	p = proc(10, 1, "python3", api, python, 0);
	CHECK(match_process(&cfg->watches[0].match, &p, parent_of, NULL, NULL, NULL) == MATCH_YES);
	CHECK(which(cfg, &p, &undecided, &who) == 0 && undecided == -1 && who == 0);

	/* the exe link refused: the first watch may match, so nobody takes it */
	for (int err = 0; err < 2; err++) {
		p = proc(11, 1, "python3", api, NULL, err ? -EPERM : -EACCES);
		CHECK(match_process(&cfg->watches[0].match, &p, parent_of, NULL, NULL, NULL) == MATCH_UNKNOWN);
		CHECK(which(cfg, &p, &undecided, &who) == -1 && undecided == 0 && who == 11);
	}
	/* ... unless another criterion of that watch says no: on to the next */
	p = proc(12, 1, "python3", other, NULL, -EACCES);
	CHECK(match_process(&cfg->watches[0].match, &p, parent_of, NULL, NULL, NULL) == MATCH_NO);
	CHECK(which(cfg, &p, &undecided, &who) == -1 && undecided == 3 && who == 12);   /* pythons: comm py* */
	p = proc(13, 1, "bash", other, NULL, -EACCES);
	CHECK(which(cfg, &p, &undecided, &who) == 4 && undecided == -1);               /* no exe criterion holds back */

	/* python: false cannot be told either (it matched before) */
	p = proc(14, 1, "tool", tool, NULL, -EACCES);
	CHECK(match_process(&cfg->watches[2].match, &p, parent_of, NULL, NULL, NULL) == MATCH_UNKNOWN);
	CHECK(which(cfg, &p, &undecided, &who) == -1 && undecided == 2 && who == 14);
	p = proc(15, 1, "tool", tool, bash, 0);
	CHECK(which(cfg, &p, &undecided, &who) == 2 && undecided == -1);

	/* no link at all (ENOENT: exited, or a kernel thread): a plain answer */
	p = proc(16, 1, "python3", api, NULL, -ENOENT);
	CHECK(match_process(&cfg->watches[0].match, &p, parent_of, NULL, NULL, NULL) == MATCH_NO);
	CHECK(match_process(&cfg->watches[2].match, &(struct proc_info){ .comm = "tool", .exe_err = -ENOENT },
			    parent_of, NULL, NULL, NULL) == MATCH_YES);
	CHECK(which(cfg, &p, &undecided, &who) == 4 && undecided == -1);
	p = proc(17, 1, "python3", api, NULL, 0);   /* not read at all: likewise */
	CHECK(which(cfg, &p, &undecided, &who) == 4 && undecided == -1);

	/* a parent's link refused: the parent is named */
	procs[0] = proc(100, 1, "gunicorn", other, NULL, -EACCES);
	p = proc(101, 100, "gunicorn", worker, bash, 0);
	CHECK(match_process(&cfg->watches[1].match, &p, parent_of, NULL, NULL, NULL) == MATCH_UNKNOWN);
	CHECK(which(cfg, &p, &undecided, &who) == -1 && undecided == 1 && who == 100);
	/* both refused: the process itself is named */
	p = proc(102, 100, "worker", worker, NULL, -EACCES);
	procs[1] = p;
	cfg->watches[1].match.python = 0;   /* the worker itself: python: false */
	CHECK(which(cfg, &p, &undecided, &who) == -1 && undecided == 1 && who == 102);
	cfg->watches[1].match.python = -1;
	/* the parent readable and a Python: a match */
	procs[0] = proc(100, 1, "gunicorn", other, python, 0);
	p = proc(103, 100, "gunicorn", worker, NULL, -EACCES);
	CHECK(which(cfg, &p, &undecided, &who) == 1 && undecided == -1);
	/* the worker's own criterion says no: never unknown for the parent's sake */
	procs[0] = proc(100, 1, "gunicorn", other, NULL, -EACCES);
	p = proc(104, 100, "gunicorn", other, bash, 0);
	CHECK(match_process(&cfg->watches[1].match, &p, parent_of, NULL, NULL, NULL) == MATCH_NO);

	/* NULL outputs are fine */
	p = proc(11, 1, "python3", api, NULL, -EACCES);
	CHECK(match_watch(cfg, &p, parent_of, NULL, NULL, NULL, NULL) == -1);

	config_free(cfg);
	test_unit_criteria();
	cmdline_cap();
	CHECK(remove_root() == 0);
	return check_done("test_match");
}
