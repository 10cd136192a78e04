/* Incident captures (daemon/capture.h) of a real process: this program run
 * again as a child ("--child"), with a file opened 7 times, pipes, a
 * socket pair, /dev/null on 0-2 and named threads, captured through its
 * /proc/PID dirfd into a temporary state dir.  Checked: the directory's
 * name (and the -2 of a second capture in the same second), the files it
 * holds and each one's content, the cut at CAPTURE_FILE_MAX, a process
 * that has exited (an error and no directory left behind), and
 * capture_prune's bounds, oldest first, and its removal of stale
 * .tmp- leftovers; and a child with more distinct fd targets than the
 * summary keeps (two passes, bounded rows, one row for the rest). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "daemon/capture.h"
#include "os/files.h"

#define WALL 1700000000123456ull        /* 2023-11-14T22:13:20.123456Z */
#define STAMP "20231114T221320Z"
#define FILE_OPENS 7
#define BIG_ARGS 9                      /* of BIG_ARG bytes: cmdline over CAPTURE_FILE_MAX */
#define BIG_ARG 128000

/* ---- the child: fds 3 (ready, written once all is set) and 4 (closed by
 * the parent when the child may exit) --------------------------------------------- */

static pthread_barrier_t named;

static void *thread_main(void *name)
{
	pthread_setname_np(pthread_self(), name);
	pthread_barrier_wait(&named);
	for (;;)
		pause();
	return NULL;
}

/* distinct: NULL, or { DIR, N }: then DIR/0000 ... DIR/N-1 opened too,
 * after the rest */
static int child_main(const char *file, char **distinct)
{
	static char *names[] = { "worker", "other", "worker" };
	int sv[2], p[2][2];
	char c;

	for (int i = 0; i < FILE_OPENS; i++)
		if (open(file, O_RDONLY) < 0)
			return 2;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(p[0]) < 0 || pipe(p[1]) < 0)
		return 3;
	for (int i = 0; distinct && i < atoi(distinct[1]); i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%04d", distinct[0], i);
		if (open(path, O_RDONLY) < 0)
			return 6;
	}
	prctl(PR_SET_NAME, "lw-child");
	pthread_barrier_init(&named, NULL, 4);
	for (int i = 0; i < 3; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, thread_main, names[i]) != 0)
			return 4;
	}
	pthread_barrier_wait(&named);
	if (write(3, "r", 1) != 1)
		return 5;
	while (read(4, &c, 1) > 0)
		;
	return 0;
}

struct child {
	pid_t pid;
	int go;        /* closed: the child exits */
	int dirfd;     /* its /proc/PID */
};

/* Run this program as a child with args (after "--child FILE"); 0 once it
 * is ready, its /proc/PID open. */
static int spawn(const char *file, char **args, size_t nargs, struct child *ch)
{
	int ready[2], go[2];
	char rel[32], c;
	ssize_t n;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	ch->pid = fork();
	if (ch->pid == 0) {
		char *argv[BIG_ARGS + 4] = { "test_capture", "--child", (char *)file };
		int r = fcntl(ready[1], F_DUPFD, 10), g = fcntl(go[0], F_DUPFD, 10);
		int null = open("/dev/null", O_RDWR);

		for (size_t i = 0; i < nargs && i < BIG_ARGS; i++)
			argv[3 + i] = args[i];
		if (r < 0 || g < 0 || null < 0 || dup2(r, 3) < 0 || dup2(g, 4) < 0 ||
		    dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(20);
		close_range(5, ~0u, 0);
		execv("/proc/self/exe", argv);
		_exit(21);
	}
	close(ready[1]);
	close(go[0]);
	ch->go = go[1];
	n = ch->pid > 0 ? read(ready[0], &c, 1) : -1;
	close(ready[0]);
	snprintf(rel, sizeof(rel), "/proc/%d", (int)ch->pid);
	ch->dirfd = n == 1 ? open(rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	return ch->dirfd < 0 ? -ECHILD : 0;
}

/* Let the child exit and reap it: its dirfd then reads nothing. */
static int reap(struct child *ch)
{
	int status = -1;

	close(ch->go);
	if (ch->pid > 0 && waitpid(ch->pid, &status, 0) != ch->pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* ---- helpers ------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The file, read whole (NUL-terminated), or NULL; its length in *len. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX], *data;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (file_read(AT_FDCWD, path, 64u << 20, 0, &data, &n) < 0)
		return NULL;
	if (len)
		*len = n;
	return data;
}

/* The entries of dir not starting with '.' (and those that do when dots),
 * sorted and joined by spaces. */
static void listing(const char *dir, bool dots, char *out, size_t size)
{
	struct dirent **v;
	int n = scandir(dir, &v, NULL, alphasort);
	size_t at = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		const char *d = v[i]->d_name;

		if (strcmp(d, ".") && strcmp(d, "..") && (dots || d[0] != '.') && at < size)
			at += (size_t)snprintf(out + at, size - at, "%s%s", at ? " " : "", d);
		free(v[i]);
	}
	if (n >= 0)
		free(v);
}

/* ---- the captures of a live process --------------------------------------------- */

enum how { EXACT, PREFIX, CONTAINS };

static void check_file(const char *dir, const char *name, enum how how, const char *want)
{
	char *got = slurp(dir, name, NULL);
	bool ok = got && (how == EXACT      ? strcmp(got, want) == 0
			  : how == PREFIX   ? strncmp(got, want, strlen(want)) == 0
					    : strstr(got, want) != NULL);

	CHECK_MSG(ok, "%s/%s: want %s \"%s\", got \"%.300s\"", dir, name,
		  how == EXACT ? "exactly" : how == PREFIX ? "starting" : "containing", want,
		  got ? got : "(unreadable)");
	free(got);
}

/* The TID section of threads: one line per thread, tids ascending, the
 * main thread (tid = pid) named lw-child, two workers and one other. */
static void check_tids(const char *dir, pid_t pid)
{
	char *got = slurp(dir, "threads", NULL), *p = got ? strstr(got, "\n    TID  NAME\n") : NULL;
	int lines = 0, workers = 0, others = 0, main_seen = 0;
	long last = 0;

	CHECK_MSG(p != NULL, "%s/threads: no TID section", dir);
	for (p = p ? p + 15 : NULL; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		long tid;
		char name[64];

		if (sscanf(p, "%7ld  %63s", &tid, name) != 2)
			break;
		CHECK_MSG(tid > last, "threads: tid %ld after %ld", tid, last);
		last = tid;
		lines++;
		workers += strcmp(name, "worker") == 0;
		others += strcmp(name, "other") == 0;
		main_seen += tid == pid && strcmp(name, "lw-child") == 0;
	}
	CHECK_MSG(lines == 4 && workers == 2 && others == 1 && main_seen == 1,
		  "threads: %d lines, %d workers, %d other, main %d", lines, workers, others, main_seen);
	free(got);
}

static void test_capture_live(const char *state, const char *file)
{
	char *two[] = { "two words", "x" };
	char dir[PATH_MAX], dir2[PATH_MAX], want[PATH_MAX + 400], list[4096], real[PATH_MAX];
	const char *history = "{\"samples\": [1, 2]}\n", *plot = "<svg/>\n";
	struct child ch;
	struct capture c = {
		.state_dir = state, .watch = "api", .comm = "lw\"child", .title = "lw child 1", .event = "leak",
		.metric = "fds", .value = 18, .wall_usec = WALL, .history_json = history,
		.plot_svg = plot,
	};
	struct stat st;
	int r;

	if (spawn(file, two, 2, &ch) < 0) {
		CHECK_MSG(false, "the child did not start");
		return;
	}
	c.proc_dirfd = ch.dirfd;
	c.pid = ch.pid;
	r = capture_incident(&c, dir, sizeof(dir));
	CHECK_MSG(r == 0, "capture: %s", strerror(-r));
	snprintf(want, sizeof(want), "%s/incidents/" STAMP "-api-%d", state, (int)ch.pid);
	CHECK_STR(dir, want);
	listing(dir, true, list, sizeof(list));
	CHECK_STR(list, "cmdline fds history.json incident.json plot.svg smaps_rollup status threads");
	CHECK(stat(want, &st) == 0 && (st.st_mode & 0777) == 0700);
	snprintf(want, sizeof(want), "%s/status", dir);
	CHECK(stat(want, &st) == 0 && (st.st_mode & 0777) == 0600);

	if (!realpath(file, real))
		snprintf(real, sizeof(real), "%s", file);
	{
		char json[300], cmd[PATH_MAX + 40], fds[PATH_MAX + 300], pidline[40];
		const struct { const char *name; enum how how; const char *want; } files[] = {
			{ "incident.json", EXACT, json },
			{ "cmdline", EXACT, cmd },
			{ "history.json", EXACT, "{\"samples\": [1, 2]}\n" },
			{ "plot.svg", EXACT, "<svg/>\n" },
			{ "fds", EXACT, fds },
			{ "status", PREFIX, "Name:\tlw-child\n" },
			{ "status", CONTAINS, pidline },
			{ "smaps_rollup", CONTAINS, "\nRss:" },
			{ "threads", PREFIX, "threads: 4\n\n  COUNT  NAME\n      1  lw-child\n      1  other\n"
					     "      2  worker\n\n    TID  NAME\n" },
		};

		snprintf(json, sizeof(json), "{\"ts\": \"2023-11-14T22:13:20.123Z\", \"watch\": \"api\", "
			 "\"pid\": %d, \"comm\": \"lw\\\"child\", \"title\": \"lw child 1\", \"event\": \"leak\", "
			 "\"metric\": \"fds\", "
			 "\"value\": 18}\n", (int)ch.pid);
		snprintf(cmd, sizeof(cmd), "test_capture --child %s two words x\n", file);
		/* most fds first: the file 7, pipes 6 (3, 4 and two pairs), /dev/null 3, sockets 2 */
		snprintf(fds, sizeof(fds), "open fds: 18 (file 7, socket 2, pipe 6, anon_inode 0, device 3, other 0)\n\n"
			 "  COUNT  KIND        TARGET\n"
			 "      7  file        %s\n"
			 "      6  pipe        pipe\n"
			 "      3  device      /dev/null\n"
			 "      2  socket      socket\n", real);
		snprintf(pidline, sizeof(pidline), "\nPid:\t%d\n", (int)ch.pid);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			check_file(dir, files[i].name, files[i].how, files[i].want);
		check_tids(dir, ch.pid);
	}

	/* the same second again: a -2 directory; no history given, none written */
	c.history_json = NULL;
	c.plot_svg = NULL;
	c.value = 1.25;
	r = capture_incident(&c, dir2, sizeof(dir2));
	CHECK_MSG(r == 0, "second capture: %s", strerror(-r));
	snprintf(want, sizeof(want), "%s/incidents/" STAMP "-api-%d-2", state, (int)ch.pid);
	CHECK_STR(dir2, want);
	listing(dir2, true, list, sizeof(list));
	CHECK_STR(list, "cmdline fds incident.json smaps_rollup status threads");
	check_file(dir2, "incident.json", CONTAINS, "\"value\": 1.250}\n");
	CHECK(reap(&ch) == 0);
	close(ch.dirfd);
}

/* A cmdline and a history over CAPTURE_FILE_MAX are cut there; once the
 * process has exited, a capture fails and leaves nothing behind. */
static void test_capture_cut_and_gone(const char *state, const char *file)
{
	char *args[BIG_ARGS], dir[PATH_MAX], before[4096], after[4096], incidents[PATH_MAX];
	char *history = malloc(3 * CAPTURE_FILE_MAX / 2 + 1), *got;
	struct capture c = {
		.state_dir = state, .watch = "big", .comm = "lw-child", .event = "limit",
		.metric = "rss", .value = 1, .wall_usec = WALL + 5000000,
	};
	struct child ch;
	size_t len = 0;
	int r;

	if (!history)
		return;
	memset(history, 'h', 3 * CAPTURE_FILE_MAX / 2);
	history[3 * CAPTURE_FILE_MAX / 2] = '\0';
	c.history_json = history;
	for (int i = 0; i < BIG_ARGS; i++) {
		args[i] = malloc(BIG_ARG + 1);
		memset(args[i], 'a' + i, BIG_ARG);
		args[i][BIG_ARG] = '\0';
	}
	r = spawn(file, args, BIG_ARGS, &ch);
	CHECK_MSG(r == 0, "the child with long arguments did not start");
	for (int i = 0; i < BIG_ARGS; i++)
		free(args[i]);
	if (r < 0) {
		free(history);
		return;
	}
	c.proc_dirfd = ch.dirfd;
	c.pid = ch.pid;
	r = capture_incident(&c, dir, sizeof(dir));
	CHECK_MSG(r == 0, "capture: %s", strerror(-r));
	got = slurp(dir, "cmdline", &len);
	CHECK_MSG(got && len == CAPTURE_FILE_MAX, "cmdline: %zu bytes", len);
	CHECK(got && strncmp(got, "test_capture --child ", 21) == 0 && got[len - 1] == got[len - 2]);
	free(got);
	got = slurp(dir, "history.json", &len);
	CHECK_MSG(got && len == CAPTURE_FILE_MAX && got[len - 1] == 'h', "history.json: %zu bytes", len);
	free(got);

	snprintf(incidents, sizeof(incidents), "%s/incidents", state);
	listing(incidents, true, before, sizeof(before));
	CHECK(reap(&ch) == 0);
	c.wall_usec += 1000000;
	r = capture_incident(&c, dir, sizeof(dir));
	CHECK_MSG(r == -ESRCH || r == -ENOENT, "a capture of an exited process: %d", r);
	listing(incidents, true, after, sizeof(after));
	CHECK_STR(after, before);
	close(ch.dirfd);
	free(history);
}

/* More distinct targets than the fd summary keeps (FD_GROUPS_MAX, 512):
 * the child holds its usual 18 fds and 600 files of one fd each.  The file
 * opened 7 times, the pipes, /dev/null and the sockets are kept with their
 * exact counts, 508 of the files (512 groups in all), and the 92 others
 * are one row; the first 500 groups are shown and the 12 others counted. */
static void test_capture_many_fds(const char *state, const char *file)
{
	char many[PATH_MAX], dir[PATH_MAX], count[8], real[PATH_MAX], want[2 * PATH_MAX + 400];
	char *args[] = { "--distinct", many, count };
	struct capture c = {
		.state_dir = state, .watch = "many", .comm = "lw-child", .event = "limit",
		.metric = "fds", .value = 618, .wall_usec = WALL + 20000000,
	};
	struct child ch;
	char *got;
	int r;

	snprintf(many, sizeof(many), "%s/many", state);
	snprintf(count, sizeof(count), "%d", 600);
	CHECK(mkdir(many, 0700) == 0);
	for (int i = 0; i < 600; i++) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/%04d", many, i);
		if (write_file_atomic(path, "", 0, 0600, false) < 0) {
			CHECK_MSG(false, "%s: %s", path, strerror(errno));
			return;
		}
	}
	if (spawn(file, args, 3, &ch) < 0) {
		CHECK_MSG(false, "the child with 600 files did not start");
		return;
	}
	c.proc_dirfd = ch.dirfd;
	c.pid = ch.pid;
	r = capture_incident(&c, dir, sizeof(dir));
	CHECK_MSG(r == 0, "capture: %s", strerror(-r));
	got = slurp(dir, "fds", NULL);
	if (!realpath(file, real))
		snprintf(real, sizeof(real), "%s", file);
	snprintf(want, sizeof(want), "open fds: 618 (file 607, socket 2, pipe 6, anon_inode 0, device 3, other 0)\n\n"
		 "  COUNT  KIND        TARGET\n"
		 "      7  file        %s\n"
		 "      6  pipe        pipe\n"
		 "      3  device      /dev/null\n"
		 "      2  socket      socket\n"
		 "      1  file        %s/", real, many);
	CHECK_MSG(got && strncmp(got, want, strlen(want)) == 0, "fds starts \"%.400s\"", got ? got : "(none)");
	if (got) {
		const char *tail = "\n     92  file        (other targets)\n(12 more groups)\n";
		size_t rows = 0;

		for (const char *p = strstr(got, "\n      1  file        "); p;
		     p = strstr(p + 1, "\n      1  file        "))
			rows++;
		CHECK_MSG(rows == 496, "%zu rows of one file", rows);
		CHECK_MSG(strlen(got) > strlen(tail) && strcmp(got + strlen(got) - strlen(tail), tail) == 0,
			  "fds ends \"%s\"", got + (strlen(got) > 80 ? strlen(got) - 80 : 0));
	}
	free(got);
	CHECK(reap(&ch) == 0);
	close(ch.dirfd);
}

/* ---- pruning ---------------------------------------------------------------------- */

#define NAME_FMT "202301%02dT000000Z-w-%d"

static bool make_incident(const char *dir, int i, time_t mtime)
{
	char path[PATH_MAX], data[10000];
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };

	memset(data, 'x', sizeof(data));
	snprintf(path, sizeof(path), "%s/" NAME_FMT, dir, i + 1, 100 + i);
	if (mkdir(path, 0700) < 0)
		return false;
	strcat(path, "/status");
	if (write_file_atomic(path, data, sizeof(data), 0600, false) < 0)
		return false;
	path[strlen(path) - 7] = '\0';
	return utimensat(AT_FDCWD, path, ts, 0) == 0;
}

static bool make_tmp(const char *dir, const char *name, time_t mtime)
{
	char path[PATH_MAX];
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (mkdir(path, 0700) < 0)
		return false;
	strcat(path, "/status");
	if (write_file_atomic(path, "s", 1, 0600, false) < 0)
		return false;
	path[strlen(path) - 7] = '\0';
	return utimensat(AT_FDCWD, path, ts, 0) == 0;
}

static void test_prune(const char *state)
{
	/* max_bytes: halves of one incident's size less minus bytes; 0 halves:
	 * unbounded */
	static const struct {
		int n;
		unsigned max_count, halves, minus;
		int removed;
	} cases[] = {
		{ 5, 3, 0, 0, 2 },           /* the count */
		{ 5, 10, 5, 0, 3 },          /* the bytes: 2.5 incidents */
		{ 5, 5, 10, 0, 0 },          /* both met exactly */
		{ 5, 6, 10, 1, 1 },          /* one byte short of five */
		{ 3, 2, 4, 0, 1 },           /* the count, then the bytes are met */
		{ 4, 0, 0, 0, 4 },
		{ 0, 3, 0, 0, 0 },
	};
	char dir[256], got[4096], want[4096], path[PATH_MAX];
	time_t now = time(NULL);
	uint64_t size = 0;
	struct stat st;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		int n = cases[k].n, r;
		size_t at = 0;
		bool ok = true;
		uint64_t max_bytes;

		snprintf(dir, sizeof(dir), "%s/prune-%zu", state, k);
		ok = mkdir(dir, 0700) == 0;
		/* made newest first, the newest names with the oldest mtimes:
		 * the order is the names' (the time they start with) */
		for (int i = n - 1; i >= 0 && ok; i--)
			ok = make_incident(dir, i, now - 1000 + (n - i));
		ok = ok && make_tmp(dir, ".tmp-stale", now - 120) && make_tmp(dir, ".tmp-recent", now - 5);
		snprintf(path, sizeof(path), "%s/README", dir);
		ok = ok && write_file_atomic(path, "not an incident\n", 16, 0644, false) == 0;
		CHECK_MSG(ok, "case %zu: the fixture: %s", k, strerror(errno));
		if (!ok)
			continue;
		if (!size && n) {
			snprintf(path, sizeof(path), "%s/" NAME_FMT "/status", dir, 1, 100);
			size = stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
			CHECK(size > 0);
		}
		max_bytes = cases[k].halves ? cases[k].halves * size / 2 - cases[k].minus : UINT64_MAX;
		r = capture_prune(dir, cases[k].max_count, max_bytes);
		CHECK_MSG(r == cases[k].removed, "case %zu: removed %d, not %d", k, r, cases[k].removed);
		want[0] = '\0';
		for (int i = cases[k].removed; i < n; i++) {
			char name[64];

			snprintf(name, sizeof(name), NAME_FMT, i + 1, 100 + i);
			at += (size_t)snprintf(want + at, sizeof(want) - at, " %s", name);
		}
		snprintf(want + at, sizeof(want) - at, " README");
		listing(dir, false, got, sizeof(got));
		CHECK_MSG(strcmp(got, want + 1) == 0, "case %zu: left \"%s\", not \"%s\"", k, got, want + 1);
		listing(dir, true, got, sizeof(got));
		CHECK_MSG(strstr(got, ".tmp-recent") && !strstr(got, ".tmp-stale"),
			  "case %zu: leftovers \"%s\" (the stale one removed, the recent kept)", k, got);
	}
	CHECK(capture_prune("/nonexistent/leakwatch-incidents", 1, 1) == -ENOENT);
}

int main(int argc, char **argv)
{
	char state[] = "/tmp/leakwatch-test-capture-XXXXXX", file[PATH_MAX];

	if (argc >= 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], argc >= 6 && strcmp(argv[3], "--distinct") == 0 ? argv + 4 : NULL);
	if (!mkdtemp(state)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(file, sizeof(file), "%s/held file", state);
	if (write_file_atomic(file, "held\n", 5, 0600, false) < 0) {
		perror(file);
		return 1;
	}
	test_capture_live(state, file);
	test_capture_cut_and_gone(state, file);
	test_capture_many_fds(state, file);
	test_prune(state);
	rm_tree(state);
	return check_done("test_capture");
}
