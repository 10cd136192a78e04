/* holder.c — a process for the benchmarks to watch.
 *
 *   lw-bench-holder NFDS [MAX_SECONDS] [MARKER...]
 *
 * Closes inherited fds above 2, opens /dev/null once and dup()s it to
 * NFDS file descriptors in all, so it has exactly NFDS + 3 open (one open
 * file: 5000 holders with 1000 fds each stay under fs.file-max, which
 * counts open files, not descriptors), then sleeps until
 * SIGTERM/SIGINT, until its parent (the benchmark script) dies, or until
 * MAX_SECONDS (default 3600) have passed, so that no holder outlives a
 * benchmark that was killed hard.  The script runs it as
 * build/bench/lw-bench-holder, so its argv (and comm) contain the marker
 * "lw-bench-holder" that the benchmark watches match on.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    long nfds = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
    long max_seconds = argc > 2 ? strtol(argv[2], NULL, 10) : 3600;
    pid_t parent = getppid();
    struct sigaction sa = { .sa_handler = on_signal };

    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* Die with the script even if its trap never runs (SIGKILL). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        return 0;

    /* Start from exactly 0, 1, 2, whatever the script inherited. */
    close_range(3, ~0U, 0);
    for (long i = 0; i < nfds; i++) {
        if ((i == 0 ? open("/dev/null", O_RDONLY) : dup(3)) < 0) {
            fprintf(stderr, "lw-bench-holder: %s #%ld: %s\n", i ? "dup" : "open", i, strerror(errno));
            return 1;
        }
    }

    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!stop) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = max_seconds - (long)(now.tv_sec - start.tv_sec);
        if (left <= 0)
            break;
        /* sleep() is interrupted by the signals above. */
        sleep(left > 60 ? 60 : (unsigned)left);
    }
    return 0;
}
