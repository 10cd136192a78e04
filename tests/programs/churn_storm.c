/* churn_storm.c — a fork storm of short-lived processes, for the churn test.
 *
 *   lwc-storm RATE SECONDS MATCH_PERMILLE LINGER_PERMILLE [MARKER...]
 *
 * Forks RATE children a second for SECONDS seconds, in batches every
 * 10 ms (CLOCK_MONOTONIC; a late batch catches up, 50 ms' worth at most),
 * and reaps them between batches (WNOHANG), so a child that exits at once
 * is a zombie for up to 10 ms.  Per child, drawn from a fixed-seed generator:
 *
 *   - MATCH_PERMILLE of them rename themselves (PR_SET_NAME) to
 *     "lwc-target" or, every other one, "lwc-kid": with the storm's own
 *     command line (which carries the test's MARKER) they then match the
 *     test's watches like a real target does, and get discovered, watched
 *     and lost again; the others keep the comm "lwc-storm" and match no
 *     watch;
 *   - LINGER_PERMILLE of them live on for 20 ms to 2 s (long enough to be
 *     seen by a discovery pass and sampled a few times), the others
 *     _exit(0) at once.  At most MAX_LINGER live at once; beyond that a
 *     child exits at once.
 *
 * A fork that fails with EAGAIN (pids or memory short) is counted and the
 * batch cut short; any other failure ends the storm.  A batch that ends
 * after the next one was due counts as late.  At the end it prints
 * one line on stdout:
 *
 *   forks=N matched=N lingered=N eagain=N seconds=S rate=FORKS_PER_S late_batches=N
 *
 * It stops early on SIGTERM/SIGINT, and dies with its parent
 * (PR_SET_PDEATHSIG); the lingering children die with it the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH_NS   10000000L
#define MAX_LINGER 1000
#define PID_LIMIT  (1 << 22)          /* the kernel's largest pid_max */

static unsigned char lingering_pid[PID_LIMIT / 8];

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t draw(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec start, next, now;
	long forks = 0, matched = 0, lingered = 0, eagain = 0, late = 0, lingering = 0;
	double rate, seconds;
	long match_pm, linger_pm;
	pid_t parent = getppid(), self = getpid();

	if (argc < 5) {
		fprintf(stderr, "usage: lwc-storm RATE SECONDS MATCH_PERMILLE LINGER_PERMILLE [MARKER...]\n");
		return 2;
	}
	rate = strtod(argv[1], NULL);
	seconds = strtod(argv[2], NULL);
	match_pm = strtol(argv[3], NULL, 10);
	linger_pm = strtol(argv[4], NULL, 10);
	if (rate <= 0 || seconds <= 0 || match_pm < 0 || match_pm > 1000 || linger_pm < 0 || linger_pm > 1000) {
		fprintf(stderr, "lwc-storm: bad arguments\n");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		return 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	next = start;
	while (!stop) {
		double t;
		long due;

		clock_gettime(CLOCK_MONOTONIC, &now);
		t = elapsed(&start, &now);
		if (t >= seconds)
			break;
		/* catch up with the schedule, but in bursts of 50 ms at most */
		due = (long)(rate * t) - forks;
		if (due > (long)(rate / 20) + 1)
			due = (long)(rate / 20) + 1;
		for (; due > 0 && !stop; due--) {
			bool match = (long)(draw() % 1000) < match_pm;
			bool linger = (long)(draw() % 1000) < linger_pm && lingering < MAX_LINGER;
			unsigned linger_ms = 20 + draw() % 1981;
			const char *name = match ? (forks % 2 ? "lwc-kid" : "lwc-target") : NULL;
			pid_t p;

			p = fork();
			if (p < 0) {
				if (errno == EAGAIN) {
					eagain++;
					break;
				}
				perror("lwc-storm: fork");
				return 1;
			}
			if (p == 0) {
				if (name)
					prctl(PR_SET_NAME, name);
				if (linger) {
					struct timespec d = { linger_ms / 1000, (long)(linger_ms % 1000) * 1000000L };

					prctl(PR_SET_PDEATHSIG, SIGKILL);
					if (getppid() != self)
						_exit(0);       /* the storm is gone already */
					nanosleep(&d, NULL);
				}
				_exit(0);
			}
			forks++;
			matched += match;
			if (linger && p < PID_LIMIT) {
				lingered++;
				lingering++;
				lingering_pid[p / 8] |= (unsigned char)(1u << (p % 8));
			}
		}
		for (;;) {
			pid_t r = waitpid(-1, NULL, WNOHANG);

			if (r <= 0)
				break;
			if (r < PID_LIMIT && (lingering_pid[r / 8] & (1u << (r % 8)))) {
				lingering_pid[r / 8] &= (unsigned char)~(1u << (r % 8));
				lingering--;
			}
		}
		next.tv_nsec += BATCH_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec)) {
			late++;
			next = now;         /* behind: the next batch catches up */
		}
		while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("forks=%ld matched=%ld lingered=%ld eagain=%ld seconds=%.2f rate=%.0f late_batches=%ld\n",
	       forks, matched, lingered, eagain, elapsed(&start, &now), forks / elapsed(&start, &now), late);
	fflush(stdout);
	/* the lingering children die with us (PR_SET_PDEATHSIG) */
	return 0;
}
