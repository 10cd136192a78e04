/* libproc2_poll.c — the same sampling done through libproc2 (procps 4).
 *
 *   libproc2_poll INTERVAL_MS SECONDS PID...
 *
 * One pids_info with the items PIDS_MEM_RES and PIDS_NLWP is created once;
 * every interval procps_pids_select(PIDS_SELECT_PID) fetches them for the
 * given pids.  libproc2 has no item for the number of open fds, so this
 * poller gets only RSS and threads: it does strictly less than the others.
 * Rounds are paced with clock_nanosleep(TIMER_ABSTIME).
 *
 * Prints one line:  RESULT tool=libproc2 cpu_s=... rounds=... samples=... ...
 * CPU is this process's own user+system time (getrusage), whole run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <libproc2/pids.h>

#include "pace.h"

enum rel { REL_RES, REL_NLWP };

int main(int argc, char **argv)
{
    enum pids_item items[] = { PIDS_MEM_RES, PIDS_NLWP };
    struct pids_info *info = NULL;

    if (argc < 4) {
        fprintf(stderr, "usage: libproc2_poll INTERVAL_MS SECONDS PID...\n");
        return 2;
    }
    long interval_ms = strtol(argv[1], NULL, 10);
    double seconds = strtod(argv[2], NULL);
    int n = argc - 3;
    long rounds = (long)(seconds * 1000.0 / (double)interval_ms + 0.5);
    unsigned *pids = calloc((size_t)n, sizeof *pids);
    if (!pids || interval_ms <= 0 || rounds <= 0)
        return 2;
    for (int i = 0; i < n; i++)
        pids[i] = (unsigned)strtoul(argv[3 + i], NULL, 10);

    int rc = procps_pids_new(&info, items, (int)(sizeof items / sizeof items[0]));
    if (rc < 0) {
        fprintf(stderr, "libproc2_poll: procps_pids_new: error %d\n", rc);
        return 1;
    }

    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long done = 0, late = 0, short_rounds = 0, samples = 0;
    unsigned long long sum_res_kib = 0, sum_threads = 0;

    for (long r = 0; r < rounds; r++) {
        struct pids_fetch *f = procps_pids_select(info, pids, n, PIDS_SELECT_PID);
        if (!f) {
            fprintf(stderr, "libproc2_poll: procps_pids_select failed\n");
            return 1;
        }
        int total = f->counts->total;
        if (total != n)
            short_rounds++;
        for (int i = 0; i < total; i++) {
            struct pids_stack *s = f->stacks[i];
            sum_res_kib += PIDS_VAL(REL_RES, ul_int, s, info);
            sum_threads += (unsigned long long)PIDS_VAL(REL_NLWP, s_int, s, info);
        }
        samples += total;
        done++;
        pace_round(&next, interval_ms, r + 1 >= rounds, &late);
    }
    double cpu = cpu_seconds();
    procps_pids_unref(&info);

    printf("RESULT tool=libproc2 cpu_s=%.6f rounds=%ld samples=%ld procs=%d late_rounds=%ld "
           "short_rounds=%ld avg_threads=%.2f avg_rss_kib=%.1f fds=unavailable\n",
           cpu, done, samples, n, late, short_rounds,
           samples ? (double)sum_threads / (double)samples : 0.0,
           samples ? (double)sum_res_kib / (double)samples : 0.0);
    return short_rounds ? 1 : 0;
}
