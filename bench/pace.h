/* Shared by the benchmark pollers: fixed-rate pacing and own CPU time. */
#ifndef LEAKWATCH_BENCH_PACE_H
#define LEAKWATCH_BENCH_PACE_H

#include <errno.h>
#include <sys/resource.h>
#include <time.h>

/* Advance *next by one interval and, unless this was the last round,
 * sleep until then; counts a round that ended after its deadline in *late. */
static inline void pace_round(struct timespec *next, long interval_ms, int last, long *late)
{
    next->tv_nsec += interval_ms * 1000000L;
    while (next->tv_nsec >= 1000000000L) {
        next->tv_nsec -= 1000000000L;
        next->tv_sec++;
    }
    if (last)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > next->tv_sec || (now.tv_sec == next->tv_sec && now.tv_nsec > next->tv_nsec))
        (*late)++;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
        ;
}

/* This process's user + system CPU seconds. */
static inline double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

#endif
