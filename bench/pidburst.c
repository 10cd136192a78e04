/* pidburst.c — allocate pids in bursts, for the discovery benchmark.
 *
 *   pidburst thread|fork COUNT SECONDS
 *
 * At once and then every second for SECONDS seconds: COUNT threads, each
 * created and joined in turn (thread), or COUNT child processes, each
 * forked, exiting at once and reaped (fork).  Every one takes a pid and is
 * gone before the next, so /proc's directory does not grow: a discovery
 * that follows sees COUNT new pids and none of them alive.  Bursts are
 * paced with clock_nanosleep(TIMER_ABSTIME) on CLOCK_MONOTONIC.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *nothing(void *arg)
{
	return arg;
}

static int burst_threads(long count)
{
	for (long i = 0; i < count; i++) {
		pthread_t t;
		int r = pthread_create(&t, NULL, nothing, NULL);

		if (r != 0) {
			fprintf(stderr, "pidburst: pthread_create: %s\n", strerror(r));
			return -1;
		}
		pthread_join(t, NULL);
	}
	return 0;
}

static int burst_forks(long count)
{
	for (long i = 0; i < count; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("pidburst: fork");
			return -1;
		}
		if (p == 0)
			_exit(0);
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec next;
	long count, seconds;
	int threads;

	if (argc != 4 || (strcmp(argv[1], "thread") != 0 && strcmp(argv[1], "fork") != 0)) {
		fprintf(stderr, "usage: pidburst thread|fork COUNT SECONDS\n");
		return 2;
	}
	threads = strcmp(argv[1], "thread") == 0;
	count = strtol(argv[2], NULL, 10);
	seconds = strtol(argv[3], NULL, 10);
	if (count < 1 || seconds < 1) {
		fprintf(stderr, "pidburst: COUNT and SECONDS must be positive\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long s = 0; s < seconds; s++) {
		if ((threads ? burst_threads(count) : burst_forks(count)) < 0)
			return 1;
		next.tv_sec++;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	return 0;
}
