/* floor.c — the syscall floor for sampling RSS, open fds and threads.
 *
 *   floor [--scan] INTERVAL_MS SECONDS PID...
 *
 * Once per process: a dirfd on /proc/PID (O_PATH|O_DIRECTORY) and fds on
 * /proc/PID/stat and statm.  Every interval, per process: one pread of stat
 * (num_threads parsed with the least work), one of statm (resident pages:
 * stat's RSS field is an estimate) and one fstatat(dirfd, "fd") whose
 * st_size is the number of open fds (Linux >= 6.2; on older kernels, where
 * st_size is 0, the fd directory is counted with getdents64 instead).
 * Rounds are paced with clock_nanosleep(TIMER_ABSTIME).
 *
 * --scan adds, once per round, a full read of /proc's directory (getdents64,
 * names parsed as pids), i.e. the least a daemon that discovers new processes
 * every interval must also do.  Informational; the "floor" proper is without.
 *
 * Prints one line:  RESULT tool=floor cpu_s=... rounds=... samples=... ...
 * CPU is this process's own user+system time (getrusage), whole run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pace.h"

struct target {
    int pid;
    int dirfd;
    int statfd;
    int statmfd;
};

static char dentbuf[32768];

static long count_dir(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    long n = 0;
    if (fd < 0)
        return -1;
    for (;;) {
        long len = syscall(SYS_getdents64, fd, dentbuf, sizeof dentbuf);
        if (len <= 0)
            break;
        for (long off = 0; off < len;) {
            struct dirent64 *d = (struct dirent64 *)(dentbuf + off);
            if (d->d_name[0] != '.')
                n++;
            off += d->d_reclen;
        }
    }
    close(fd);
    return n;
}

/* Reads all of /proc's entries from an fd kept open; returns how many are pids. */
static long scan_proc(int procfd)
{
    long pids = 0;
    if (lseek(procfd, 0, SEEK_SET) < 0)
        return -1;
    for (;;) {
        long len = syscall(SYS_getdents64, procfd, dentbuf, sizeof dentbuf);
        if (len <= 0)
            break;
        for (long off = 0; off < len;) {
            struct dirent64 *d = (struct dirent64 *)(dentbuf + off);
            const char *p = d->d_name;
            unsigned long v = 0;
            while (*p >= '0' && *p <= '9')
                v = v * 10 + (unsigned long)(*p++ - '0');
            if (*p == '\0' && p != d->d_name && v > 0)
                pids++;
            off += d->d_reclen;
        }
    }
    return pids;
}

/* Fields 20 (num_threads) and 24 (rss, pages) of /proc/PID/stat. */
static int parse_stat(const char *buf, long len, long *threads, long *rss_pages)
{
    const char *p = memrchr(buf, ')', (size_t)len);
    const char *end = buf + len;
    int field = 2;
    if (!p)
        return -1;
    p++;
    while (p < end && field < 24) {
        if (*p++ == ' ') {
            field++;
            if (field == 20 || field == 24) {
                long v = 0;
                while (p < end && *p >= '0' && *p <= '9')
                    v = v * 10 + (*p++ - '0');
                if (field == 20)
                    *threads = v;
                else
                    *rss_pages = v;
            }
        }
    }
    return field == 24 ? 0 : -1;
}

int main(int argc, char **argv)
{
    int scan = 0, a = 1;
    if (a < argc && strcmp(argv[a], "--scan") == 0) {
        scan = 1;
        a++;
    }
    if (argc - a < 3) {
        fprintf(stderr, "usage: floor [--scan] INTERVAL_MS SECONDS PID...\n");
        return 2;
    }
    long interval_ms = strtol(argv[a++], NULL, 10);
    double seconds = strtod(argv[a++], NULL);
    int n = argc - a;
    long rounds = (long)(seconds * 1000.0 / (double)interval_ms + 0.5);
    struct target *t = calloc((size_t)n, sizeof *t);
    int procfd = -1;
    if (!t || interval_ms <= 0 || rounds <= 0)
        return 2;

    for (int i = 0; i < n; i++) {
        char path[64];
        t[i].pid = atoi(argv[a + i]);
        snprintf(path, sizeof path, "/proc/%d", t[i].pid);
        t[i].dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t[i].dirfd < 0) {
            fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
            return 1;
        }
        t[i].statfd = openat(t[i].dirfd, "stat", O_RDONLY | O_CLOEXEC);
        t[i].statmfd = openat(t[i].dirfd, "statm", O_RDONLY | O_CLOEXEC);
        if (t[i].statfd < 0 || t[i].statmfd < 0) {
            fprintf(stderr, "floor: %s/stat: %s\n", path, strerror(errno));
            return 1;
        }
    }
    if (scan) {
        procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (procfd < 0) {
            perror("floor: /proc");
            return 1;
        }
    }

    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long done = 0, late = 0, failures = 0, st_size_fallbacks = 0, scanned = 0;
    unsigned long long sum_rss = 0, sum_fds = 0, sum_threads = 0;
    long min_fds = -1;
    char buf[1024];

    for (long r = 0; r < rounds; r++) {
        if (scan)
            scanned = scan_proc(procfd);
        for (int i = 0; i < n; i++) {
            long len = pread(t[i].statfd, buf, sizeof buf - 1, 0);
            long threads = 0, rss = 0, fds;
            struct stat st;
            if (len <= 0 || parse_stat(buf, len, &threads, &rss) < 0) {
                failures++;
                continue;
            }
            /* stat's RSS field is the kernel's unsummed per-CPU estimate:
             * the exact resident pages are statm's second field */
            len = pread(t[i].statmfd, buf, sizeof buf - 1, 0);
            if (len <= 0) {
                failures++;
                continue;
            }
            buf[len] = '\0';
            rss = strtol(strchr(buf, ' ') ? strchr(buf, ' ') + 1 : buf, NULL, 10);
            if (fstatat(t[i].dirfd, "fd", &st, AT_SYMLINK_NOFOLLOW) < 0) {
                failures++;
                continue;
            }
            fds = (long)st.st_size;
            if (fds == 0) {   /* kernel < 6.2: no count in st_size */
                fds = count_dir(t[i].dirfd, "fd");
                st_size_fallbacks++;
            }
            if (min_fds < 0 || fds < min_fds)
                min_fds = fds;
            sum_rss += (unsigned long long)rss;
            sum_fds += (unsigned long long)fds;
            sum_threads += (unsigned long long)threads;
        }
        done++;
        pace_round(&next, interval_ms, r + 1 >= rounds, &late);
    }

    long samples = (long)done * n;
    printf("RESULT tool=%s cpu_s=%.6f rounds=%ld samples=%ld procs=%d late_rounds=%ld "
           "failures=%ld st_size_fallbacks=%ld min_fds=%ld avg_threads=%.2f "
           "avg_fds=%.2f avg_rss_pages=%.1f proc_entries=%ld\n",
           scan ? "floor+scan" : "floor", cpu_seconds(), done, samples, n, late,
           failures, st_size_fallbacks, min_fds,
           samples ? (double)sum_threads / (double)samples : 0.0,
           samples ? (double)sum_fds / (double)samples : 0.0,
           samples ? (double)sum_rss / (double)samples : 0.0, scanned);
    return failures ? 1 : 0;
}
