/* The pidfile cache (daemon/pidfiles.c): what a pidfile's text gives as a
 * pid, table-driven over real files; the cache within one discovery; the
 * warning for a pidfile we may not read, once.  And whose process a
 * pidfile may name: the rule (core/match.c, pidfile_may_name) over a
 * table of uids, then over real files, what the cache says of a pidfile
 * another user could write (as root, chown'd to nobody; skipped
 * otherwise, saying so), and the refusals: a symlink, a FIFO, a
 * group-writable directory, a root process named, each said once. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "daemon/pidfiles.h"

static int warnings;
static char last_warning[512];

static void on_warn(void *ctx, struct event *e)
{
	(void)ctx;
	CHECK(e->type == EVENT_ERROR && e->warning);
	snprintf(last_warning, sizeof(last_warning), "%s", e->detail);
	warnings++;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_contents(const char *dir)
{
	static const struct { const char *text; pid_t want; } cases[] = {
		{ "1234\n", 1234 },
		{ "  42\n", 42 },
		{ "77", 77 },
		{ "4242\nsecond line 99\n", 4242 },
		{ "", 0 },
		{ "\n", 0 },
		{ "abc\n", 0 },
		{ "-5\n", 0 },
		{ "0\n", 0 },
		/* beyond a pid_t: nothing, not the pid it would wrap to */
		{ "4294967297\n", 0 },
		{ "99999999999999999999999999999\n", 0 },
	};
	char path[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pidfiles p;
		pid_t got;

		snprintf(path, sizeof(path), "%s/case%zu.pid", dir, i);
		write_text(path, cases[i].text);
		pidfiles_init(&p, "root", on_warn, NULL);
		got = pidfiles_pid(&p, path, NULL);   /* freed before path is reused */
		CHECK_MSG(got == cases[i].want, "case %zu (\"%s\"): %d, not %d", i, cases[i].text, (int)got,
			  (int)cases[i].want);
		pidfiles_free(&p);
	}
}

static void test_cache_and_missing(const char *dir)
{
	struct pidfiles p;
	char path[300], missing[300];   /* the cache keeps the paths (the config's) */

	snprintf(path, sizeof(path), "%s/cached.pid", dir);
	write_text(path, "100\n");
	pidfiles_init(&p, "root", on_warn, NULL);
	CHECK(pidfiles_pid(&p, path, NULL) == 100);
	write_text(path, "200\n");
	CHECK(pidfiles_pid(&p, path, NULL) == 100);       /* read once per discovery */
	CHECK(pidfiles_names(&p, 100) && !pidfiles_names(&p, 200));
	snprintf(missing, sizeof(missing), "%s/missing.pid", dir);
	CHECK(pidfiles_pid(&p, missing, NULL) == 0);
	pidfiles_free(&p);
}

/* A pidfile we may not read: no pid, and one warning however often it is
 * read.  Root reads a mode 0000 file, so as root the check runs in a child
 * that became nobody. */
static void denied_as_me(const char *path)
{
	struct pidfiles p;

	warnings = 0;
	pidfiles_init(&p, "nobody", on_warn, NULL);
	CHECK(pidfiles_pid(&p, path, NULL) == 0);
	p.n = 0;                                    /* the next discovery */
	CHECK(pidfiles_pid(&p, path, NULL) == 0);
	CHECK_MSG(warnings == 1, "%d warnings", warnings);
	pidfiles_free(&p);
}

static void test_denied(const char *dir)
{
	char path[300];
	pid_t child;
	int status = -1;

	snprintf(path, sizeof(path), "%s/denied.pid", dir);
	write_text(path, "300\n");
	CHECK(chmod(path, 0) == 0 && chmod(dir, 0755) == 0);
	if (geteuid() != 0) {
		denied_as_me(path);
		return;
	}
	child = fork();
	if (child == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(100);
		check_failed = 0;
		denied_as_me(path);
		_exit(check_failed ? 1 : 0);
	}
	CHECK(child > 0 && waitpid(child, &status, 0) == child);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "as nobody: status %d", status);
}

#define NOBODY 65534

static void test_may_name(void)
{
	static const struct {
		struct pidfile_pid pf;
		struct proc_info p;
		bool want;
	} cases[] = {
		/* root's pidfile: any process, even of unknown uids */
		{ { 10, true, 0 }, { .pid = 10, .has_uid = true, .uid = 0, .euid = 0, .suid = 0 }, true },
		{ { 10, true, 0 }, { .pid = 10, .has_uid = false }, true },
		{ { 10, true, 0 }, { .pid = 10, .has_uid = true, .uid = 33, .euid = 33, .suid = 33 }, true },
		/* nobody's: nobody's processes alone */
		{ { 10, false, NOBODY }, { .pid = 10, .has_uid = true, .uid = NOBODY, .euid = NOBODY, .suid = NOBODY },
		  true },
		{ { 10, false, NOBODY }, { .pid = 10, .has_uid = true, .uid = 0, .euid = 0, .suid = 0 }, false },
		{ { 10, false, NOBODY }, { .pid = 10, .has_uid = true, .uid = 33, .euid = 33, .suid = 33 }, false },
		/* a setuid program nobody ran: its effective or saved uid is root's */
		{ { 10, false, NOBODY }, { .pid = 10, .has_uid = true, .uid = NOBODY, .euid = 0, .suid = 0 }, false },
		{ { 10, false, NOBODY }, { .pid = 10, .has_uid = true, .uid = NOBODY, .euid = NOBODY, .suid = 0 },
		  false },
		{ { 10, false, NOBODY }, { .pid = 10, .has_uid = true, .uid = 0, .euid = NOBODY, .suid = NOBODY },
		  false },
		/* uids unread: not a process known to be nobody's */
		{ { 10, false, NOBODY }, { .pid = 10, .has_uid = false, .uid = NOBODY }, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(pidfile_may_name(&cases[i].pf, &cases[i].p) == cases[i].want, "case %zu", i);
}

/* A pidfile: its pid and whose, read by a fresh cache; the warnings said. */
static pid_t read_one(const char *path, struct pidfile_pid *pf)
{
	struct pidfiles p;
	pid_t pid;

	pidfiles_init(&p, "root", on_warn, NULL);
	pid = pidfiles_pid(&p, path, pf);
	pidfiles_free(&p);
	return pid;
}

static void test_whose(const char *base)
{
	char dir[300], path[350];
	struct pidfile_pid pf;

	snprintf(dir, sizeof(dir), "%s/whose", base);
	snprintf(path, sizeof(path), "%s/a.pid", dir);
	CHECK(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0);
	write_text(path, "321\n");
	CHECK(chmod(path, 0644) == 0);
	warnings = 0;
	CHECK(read_one(path, &pf) == 321 && pf.pid == 321);
	if (geteuid() != 0) {
		/* our own tree: our processes alone */
		CHECK(!pf.any_user && pf.uid == geteuid());
		printf("test_whose: the files of other users skipped: chown needs root\n");
		return;
	}
	CHECK(pf.any_user);
	/* nobody's file, then nobody's directory: nobody's processes */
	CHECK(chown(path, NOBODY, NOBODY) == 0);
	CHECK(read_one(path, &pf) == 321 && !pf.any_user && pf.uid == NOBODY);
	CHECK(chown(path, 0, 0) == 0 && chown(dir, NOBODY, NOBODY) == 0);
	CHECK(read_one(path, &pf) == 321 && !pf.any_user && pf.uid == NOBODY);
	/* nobody's directory and another's file: refused */
	CHECK(chown(path, NOBODY - 1, NOBODY - 1) == 0);
	CHECK(read_one(path, &pf) == 0 && pf.pid == 0);
	CHECK_MSG(warnings == 1 && strstr(last_warning, "is refused: more than one user could write or replace it"),
		  "%d: %s", warnings, last_warning);
	CHECK(warnings == 1);
}

/* The refusals, each said once however often the file is read. */
static void test_refused(const char *base)
{
	char dir[300], path[350], target[350];
	struct proc_info root_proc = { .pid = 321, .comm = "victim", .has_uid = true };
	struct pidfile_pid pf;
	struct pidfiles p;

	snprintf(dir, sizeof(dir), "%s/refused", base);
	snprintf(path, sizeof(path), "%s/a.pid", dir);
	snprintf(target, sizeof(target), "%s/t.pid", dir);
	CHECK(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0);
	write_text(target, "321\n");
	pidfiles_init(&p, "root", on_warn, NULL);

	/* a symlink */
	CHECK(symlink("t.pid", path) == 0);
	warnings = 0;
	for (int i = 0; i < 3; i++, p.n = 0)
		CHECK(pidfiles_pid(&p, path, &pf) == 0);
	CHECK_MSG(warnings == 1 && strstr(last_warning, "is a symbolic link, not a regular file: refused"), "%d: %s",
		  warnings, last_warning);
	/* a FIFO: at once, said once in this configuration (the path was said) */
	CHECK(unlink(path) == 0 && mkfifo(path, 0644) == 0);
	pidfiles_forget_denied(&p);
	warnings = 0;
	for (int i = 0; i < 3; i++, p.n = 0)
		CHECK(pidfiles_pid(&p, path, &pf) == 0);
	CHECK_MSG(warnings == 1 && strstr(last_warning, "is a FIFO, not a regular file: refused"), "%d: %s", warnings,
		  last_warning);
	/* a group-writable directory */
	CHECK(unlink(path) == 0 && rename(target, path) == 0 && chmod(dir, 0775) == 0);
	pidfiles_forget_denied(&p);
	warnings = 0;
	for (int i = 0; i < 3; i++, p.n = 0)
		CHECK(pidfiles_pid(&p, path, &pf) == 0);
	CHECK_MSG(warnings == 1 && strstr(last_warning, "is writable by its group, without the sticky bit"), "%d: %s",
		  warnings, last_warning);
	/* nobody's directory naming a root process: the match refuses it, said once */
	CHECK(chmod(dir, 0755) == 0);
	pidfiles_forget_denied(&p);
	warnings = 0;
	if (geteuid() == 0) {
		CHECK(chown(dir, NOBODY, NOBODY) == 0);
		CHECK(pidfiles_pid(&p, path, &pf) == 321 && !pf.any_user && !pidfile_may_name(&pf, &root_proc));
		for (int i = 0; i < 3; i++, p.n = 0)
			pidfiles_refused(&p, path, &root_proc);
		CHECK_MSG(warnings == 1 && strstr(last_warning, "names pid 321 (victim), a process of root, but nobody "
						  "could write it (the directory ") &&
			  strstr(last_warning, "/refused is owned by nobody): not matched"), "%d: %s", warnings,
			  last_warning);
	} else {
		printf("test_refused: a directory of another user skipped: chown needs root\n");
	}
	pidfiles_free(&p);
}

int main(void)
{
	char dir[] = "/tmp/leakwatch-pidfiles.XXXXXX";

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_contents, dir);
	RUN(test_cache_and_missing, dir);
	RUN(test_denied, dir);
	RUN(test_may_name);
	RUN(test_whose, dir);
	RUN(test_refused, dir);
	{
		char cmd[100];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_done("test_pidfiles");
}
