/* The pidfile cache (daemon/pidfiles.c): what a pidfile's text gives as a
 * pid, table-driven over real files; the cache within one discovery; the
 * warning for a pidfile we may not read, once. */
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

static void on_warn(void *ctx, struct event *e)
{
	(void)ctx;
	(void)e;
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
		got = pidfiles_pid(&p, path);   /* freed before path is reused */
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
	CHECK(pidfiles_pid(&p, path) == 100);
	write_text(path, "200\n");
	CHECK(pidfiles_pid(&p, path) == 100);       /* read once per discovery */
	CHECK(pidfiles_names(&p, 100) && !pidfiles_names(&p, 200));
	snprintf(missing, sizeof(missing), "%s/missing.pid", dir);
	CHECK(pidfiles_pid(&p, missing) == 0);
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
	CHECK(pidfiles_pid(&p, path) == 0);
	p.n = 0;                                    /* the next discovery */
	CHECK(pidfiles_pid(&p, path) == 0);
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
	{
		char cmd[100];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_done("test_pidfiles");
}
