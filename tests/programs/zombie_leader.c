/* zombie_leader.c — a leaker whose main thread has exited, for the hostile
 * process tests (tests/hostile/zombie.py, issue 14 item 7).
 *
 *   zombie_leader [-r KIB_PER_S] [-f FDS_PER_S] [-t MAX_SECONDS] [-n THREADS]
 *                 [-d DELAY] [TAG...]
 *
 * The main thread starts THREADS (default 1) threads, waits DELAY seconds
 * (default 0: the daemon may see it alive first), then calls
 * pthread_exit().  The thread-group leader is then a zombie (state Z in
 * /proc/PID/stat, its mm released, its statm all zeros) while the first
 * thread leaks on: KIB_PER_S KiB a second (default 2048), malloc'ed and
 * touched in tenths every 100 ms and never freed, and FDS_PER_S fds a
 * second (default 2) on /dev/null, never closed (up to the soft
 * RLIMIT_NOFILE less 16).  The other threads only sleep.  A process the
 * daemon might take for gone, yet alive and growing.
 *
 * The process ends after MAX_SECONDS (default 120), on SIGTERM (the
 * default action: the whole group dies), or when its parent (the test)
 * dies (PR_SET_PDEATHSIG, set by the leaking thread: the setting is per
 * thread, and the main thread's is gone with it).  The TAG arguments are
 * ignored: a watch's `cmdline:` matches them.  Before the main thread
 * exits it closes the fds it inherited above 2, so the fd counts do not
 * depend on the runner. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct opts {
	double kib_per_s, fds_per_s, max_seconds, delay;
	pid_t parent;
};

static void touch(char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	if (len)
		p[len - 1] = 1;
}

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void *leak(void *arg)
{
	const struct opts *o = arg;
	struct timespec start, next;
	struct rlimit nofile;
	long fd_cap = 1000;
	double fd_debt = 0;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != o->parent)
		exit(0);
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
		fd_cap = (long)nofile.rlim_cur - 16;
	clock_gettime(CLOCK_MONOTONIC, &start);
	next = start;
	while (since(&start) < o->max_seconds) {
		size_t len = (size_t)(o->kib_per_s * 1024 / 10);

		next.tv_nsec += 100000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (len) {
			char *p = malloc(len);

			if (p)
				touch(p, len);      /* the leak: never freed */
		}
		fd_debt += o->fds_per_s / 10;
		while (fd_debt >= 1) {
			fd_debt -= 1;
			if (fd_cap-- > 0 && open("/dev/null", O_RDONLY | O_CLOEXEC) < 0)
				fd_cap = 0;         /* the leak: never closed */
		}
	}
	exit(0);
}

static void *idle(void *arg)
{
	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	static struct opts o = { 2048, 2, 120, 0, 0 };
	long threads = 1;
	pthread_t t;
	int c;

	while ((c = getopt(argc, argv, "+r:f:t:n:d:")) != -1) {
		switch (c) {
		case 'r': o.kib_per_s = strtod(optarg, NULL); break;
		case 'f': o.fds_per_s = strtod(optarg, NULL); break;
		case 't': o.max_seconds = strtod(optarg, NULL); break;
		case 'n': threads = strtol(optarg, NULL, 10); break;
		case 'd': o.delay = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: zombie_leader [-r KIB_PER_S] [-f FDS_PER_S] [-t MAX_SECONDS] "
				"[-n THREADS] [-d DELAY] [TAG...]\n");
			return 2;
		}
	}
	if (o.kib_per_s < 0 || o.fds_per_s < 0 || o.max_seconds <= 0 || o.delay < 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "zombie_leader: bad arguments\n");
		return 2;
	}
	o.parent = getppid();
	close_range(3, ~0U, 0);
	if (pthread_create(&t, NULL, leak, &o) != 0)
		return 1;
	for (long i = 1; i < threads; i++)
		if (pthread_create(&t, NULL, idle, NULL) != 0)
			return 1;
	if (o.delay > 0) {
		struct timespec d = { (time_t)o.delay, (long)((o.delay - (double)(time_t)o.delay) * 1e9) };

		nanosleep(&d, NULL);
	}
	pthread_exit(NULL);
}
