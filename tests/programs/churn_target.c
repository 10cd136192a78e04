/* churn_target.c — a cheap process for the churn and soak tests to watch.
 *
 *   lwc-target MODE RATE MAX_SECONDS [MARKER...]
 *
 * MODE:
 *   steady  touches 1 MiB once and holds 3 extra fds, nothing else;
 *           RATE > 0 adds a sawtooth: RATE KiB mapped, touched and unmapped
 *           again every second (churn around a flat floor, no leak)
 *   rss     leaks RATE KiB/s: malloc'ed and touched in tenths every 100 ms,
 *           never freed
 *   fds     leaks RATE fds/s: /dev/null opened and never closed (up to the
 *           soft RLIMIT_NOFILE less 16, then it holds)
 *
 * It closes the fds it inherited above 2 first, so its counts do not depend
 * on the runner.  It exits 0 on SIGTERM/SIGINT/SIGHUP, when its parent (the
 * test) dies (PR_SET_PDEATHSIG) and after MAX_SECONDS.  The tests run it
 * as .../lwc-target, so its comm is "lwc-target", and put a marker unique
 * to the run in MARKER for a watch's `cmdline:`.  Plain C: 500 of them cost
 * a few MiB, where 500 Python interpreters would cost gigabytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void touch(char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	if (len)
		p[len - 1] = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec start, next, now;
	struct rlimit nofile;
	pid_t parent = getppid();
	const char *mode;
	double rate, max_seconds, fd_debt = 0;
	long fd_cap = 1000, ticks = 0;
	char *base;

	if (argc < 4) {
		fprintf(stderr, "usage: lwc-target steady|rss|fds RATE MAX_SECONDS [MARKER...]\n");
		return 2;
	}
	mode = argv[1];
	rate = strtod(argv[2], NULL);
	max_seconds = strtod(argv[3], NULL);
	if ((strcmp(mode, "steady") != 0 && strcmp(mode, "rss") != 0 && strcmp(mode, "fds") != 0) ||
	    rate < 0 || max_seconds <= 0) {
		fprintf(stderr, "lwc-target: bad arguments\n");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		return 0;
	close_range(3, ~0U, 0);
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
		fd_cap = (long)nofile.rlim_cur - 16;

	/* the same start for every mode: 1 MiB touched, 3 extra fds */
	base = malloc(1 << 20);
	if (!base)
		return 1;
	touch(base, 1 << 20);
	for (int i = 0; i < 3; i++)
		if (open("/dev/null", O_RDONLY) < 0)
			return 1;

	clock_gettime(CLOCK_MONOTONIC, &start);
	next = start;
	while (!stop) {
		/* a tick every 100 ms on an absolute schedule */
		next.tv_nsec += 100000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		if (stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >= max_seconds)
			break;
		ticks++;
		if (strcmp(mode, "rss") == 0 && rate > 0) {
			size_t len = (size_t)(rate * 1024 / 10);
			char *p = malloc(len);

			if (p)
				touch(p, len);      /* the leak: never freed */
		} else if (strcmp(mode, "fds") == 0) {
			fd_debt += rate / 10;
			while (fd_debt >= 1) {
				fd_debt -= 1;
				if (fd_cap-- > 0 && open("/dev/null", O_RDONLY) < 0)
					fd_cap = 0;     /* the leak: never closed */
			}
		} else if (strcmp(mode, "steady") == 0 && rate > 0 && ticks % 10 == 5) {
			size_t len = (size_t)(rate * 1024);
			char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p != MAP_FAILED) {
				touch(p, len);
				struct timespec hold = { 0, 300000000L };
				nanosleep(&hold, NULL);
				munmap(p, len);
			}
		}
	}
	return 0;
}
