/* leakwatchd's command line (daemon/cmdline.h) and its -t mode
 * (daemon/check_config.h): a table of argument vectors and what each
 * gives, usage errors included; then check_config_run on a good and a
 * bad file, with and without --show-matches. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "daemon/check_config.h"
#include "daemon/cmdline.h"
#include "os/config_file.h"

#define MAX_ARGS 8

struct parse_case {
	const char *args[MAX_ARGS];   /* after argv[0]; NULL-ended */
	int rc;
	const char *path;             /* the config path when rc is 0 */
	bool check, show, json, dry, done;
	enum log_target target;
};

static const struct parse_case parse_cases[] = {
	{ { NULL }, 0, DEFAULT_CONFIG, false, false, false, false, false, TARGET_AUTO },
	{ { "-c", "/x.yaml", "--dry-run", NULL }, 0, "/x.yaml", false, false, false, true, false, TARGET_AUTO },
	{ { "--log-target=json", NULL }, 0, DEFAULT_CONFIG, false, false, false, false, false, TARGET_JSON },
	{ { "--log-target", "nowhere", NULL }, -EINVAL, NULL, false, false, false, false, false, TARGET_AUTO },
	{ { "-t", NULL }, 0, DEFAULT_CONFIG, true, false, false, false, false, TARGET_AUTO },
	{ { "-t", "/y.yaml", NULL }, 0, "/y.yaml", true, false, false, false, false, TARGET_AUTO },
	{ { "-c", "/x.yaml", "-t", "/y.yaml", NULL }, -EINVAL, NULL, true, false, false, false, false, TARGET_AUTO },
	{ { "-t", "--show-matches", "/y.yaml", NULL }, 0, "/y.yaml", true, true, false, false, false, TARGET_AUTO },
	{ { "--show-matches", "--json", "--check-config", NULL }, 0, DEFAULT_CONFIG, true, true, true, false, false,
	  TARGET_AUTO },
	{ { "--show-matches", NULL }, -EINVAL, NULL, false, true, false, false, false, TARGET_AUTO },
	{ { "-t", "--json", NULL }, -EINVAL, NULL, true, false, true, false, false, TARGET_AUTO },
	{ { "--json", NULL }, -EINVAL, NULL, false, false, true, false, false, TARGET_AUTO },
	{ { "/y.yaml", NULL }, -EINVAL, NULL, false, false, false, false, false, TARGET_AUTO },
	{ { "--frob", NULL }, -EINVAL, NULL, false, false, false, false, false, TARGET_AUTO },
	{ { "-V", "--frob", NULL }, 0, DEFAULT_CONFIG, false, false, false, false, true, TARGET_AUTO },
	{ { "--help", NULL }, 0, DEFAULT_CONFIG, false, false, false, false, true, TARGET_AUTO },
};

/* fd 1 and 2 to /dev/null while told to (the usage texts); the old ones back after */
static void quiet(bool on)
{
	static int saved[2] = { -1, -1 };

	fflush(stdout);
	fflush(stderr);
	for (int fd = 1; fd <= 2; fd++) {
		if (on) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			saved[fd - 1] = dup(fd);
			if (null >= 0) {
				dup2(null, fd);
				close(null);
			}
		} else if (saved[fd - 1] >= 0) {
			dup2(saved[fd - 1], fd);
			close(saved[fd - 1]);
			saved[fd - 1] = -1;
		}
	}
}

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *pc = &parse_cases[i];
		char *argv[MAX_ARGS + 2] = { (char *)"leakwatchd" };
		struct cmdline c = { .check = { .config_path = DEFAULT_CONFIG }, .target = TARGET_AUTO };
		int argc = 1, rc;

		while (pc->args[argc - 1])
			argv[argc] = (char *)pc->args[argc - 1], argc++;
		optind = 0;           /* getopt afresh for each vector */
		quiet(true);
		rc = cmdline_parse(argc, argv, &c);
		quiet(false);
		CHECK_MSG(rc == pc->rc, "case %zu: %d, expected %d", i, rc, pc->rc);
		if (rc != 0 || rc != pc->rc)
			continue;
		CHECK_STR(c.check.config_path, pc->path);
		CHECK_MSG(c.check_only == pc->check && c.check.show_matches == pc->show && c.check.json == pc->json &&
			  c.dry_run == pc->dry && c.done == pc->done && c.target == pc->target,
			  "case %zu: check %d show %d json %d dry %d done %d target %d", i, c.check_only,
			  c.check.show_matches, c.check.json, c.dry_run, c.done, (int)c.target);
	}
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test_cmdline.XXXXXX");
	int fd = path ? mkstemp(path) : -1;

	if (fd < 0) {
		free(path);
		return NULL;
	}
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

static void test_check_run(void)
{
	char *good = write_temp("watches:\n  - name: w\n    match: { cmdline: \"^no-such-process-lwtc \" }\n");
	char *bad = write_temp("watches:\n  - name: w\n    match: { cmdline: \"(\" }\n");
	struct check_config c = { 0 };

	CHECK(good && bad);
	if (!good || !bad)
		goto out;
	quiet(true);
	c.config_path = good;
	int plain = check_config_run(&c);
	c.show_matches = true;
	int shown = check_config_run(&c);
	c.json = true;
	int json = check_config_run(&c);
	c.config_path = bad;
	int refused = check_config_run(&c);
	c.show_matches = c.json = false;
	int refused_plain = check_config_run(&c);
	quiet(false);
	CHECK_MSG(plain == 0 && shown == 0 && json == 0, "%d %d %d", plain, shown, json);
	CHECK_MSG(refused < 0 && refused_plain < 0, "%d %d", refused, refused_plain);
out:
	if (good)
		unlink(good);
	if (bad)
		unlink(bad);
	free(good);
	free(bad);
}

int main(void)
{
	RUN(test_parse);
	RUN(test_check_run);
	return check_done("test_cmdline");
}
