/* smaps_cost.c — what a read of /proc/PID/smaps_rollup costs, beside statm
 * and status, and whether it stalls the process being read.
 *
 *   smaps_cost [--sizes MIB,MIB,...] [--reads N] [--stall-seconds S] [--stall-mib MIB]
 *
 * Why: USS (Private_Clean + Private_Dirty) and PSS exist only in smaps and
 * smaps_rollup, which the kernel computes by walking the page tables of
 * every mapping and looking at each resident page's map count: a cost that
 * grows with resident memory, where statm and status are a few counters.
 * The daemon reads smaps_rollup under a per-tick time budget; to size that
 * budget the cost must be known per resident MiB, on this kernel.  A
 * Python poller would add microseconds per read and hide statm's figure,
 * so this is C: pread(2) on fds opened once, timed with CLOCK_MONOTONIC
 * one read at a time (the median is quoted) and with the thread's CPU
 * clock per block (system time is where the walk is).
 *
 * Targets are forked children that map SIZE MiB anonymous memory and
 * write every page, then pause (PR_SET_PDEATHSIG): "4k" one mapping,
 * MADV_NOHUGEPAGE; "thp" the same with MADV_HUGEPAGE (2 MiB pages where
 * the kernel can); "split" the same memory as 1 MiB mappings with a hole
 * between each (one VMA per MiB); "cow" the child of a process that wrote
 * the pages, so every page is shared with its parent (a pre-fork worker
 * before it unshares anything).  Each read kind is timed in blocks, the
 * three kinds in turn, so the machine's noise falls on all of them.
 *
 * The stall: a target with --stall-mib MiB resident loops for S seconds
 * while nobody reads it ("no"), while a reader process reads its
 * smaps_rollup back to back ("yes") or every 100 ms ("paced"), and while
 * it reads another process of that size ("other": the same CPU taken, no
 * lock shared), each twice, for two loops: "fault" re-touches 64 pages
 * after MADV_DONTNEED (mmap_lock for reading, or per-VMA locks), "mmap"
 * maps 64 pages, touches and unmaps them (mmap_lock for writing, which a
 * reader delays).  The iteration times (median, p99, max) are what the
 * process sees.  Costs: twice the largest size in memory at most, 2 min.
 * Exit 1 when a target cannot be made or a read fails, 2 on a bad flag.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024L * 1024L)
#define PAGE 4096L
#define MAX_SIZES 8
#define BLOCK 50
#define LOOP_PAGES 64
#define MAX_ITERS 4000000L

enum kind { K_4K, K_THP, K_SPLIT, K_COW, N_KINDS };
static const char *const kind_name[N_KINDS] = {"4k", "thp", "split", "cow"};
static const char *const file_name[3] = {"statm", "status", "smaps_rollup"};

struct target {
    pid_t pid;       /* the process to read */
    pid_t waited;    /* the child to kill and reap (cow: its parent) */
};

struct cost {
    double median_us[3];
    double cpu_us[3];
    long rss_kib, uss_kib;
};

static double now_us(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q quantile of v[0..n) (sorted in place), 0 when empty. */
static double quantile(double *v, long n, double q)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(long)(q * (double)(n - 1) + 0.5)];
}

/* Map mib MiB as kind, write every page; returns 0 or -errno. */
static int fill(long mib, enum kind kind)
{
    long span = kind == K_SPLIT ? 2 * mib : mib;     /* split: every other MiB unmapped */
    char *p = mmap(NULL, (size_t)(span * MIB), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    madvise(p, (size_t)(span * MIB), kind == K_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    for (long i = 0; i < mib; i++) {
        char *m = p + (kind == K_SPLIT ? 2 * i : i) * MIB;
        if (kind == K_SPLIT)
            munmap(m + MIB, (size_t)MIB);
        for (long off = 0; off < MIB; off += PAGE)
            m[off] = 1;
    }
    return 0;
}

/* The child's body: fill, fork once more for cow, say the pid to read on
 * ready, pause until killed.  Never returns. */
static void target_main(long mib, enum kind kind, int ready)
{
    pid_t pid = getpid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (fill(mib, kind) < 0)
        _exit(1);
    if (kind == K_COW) {
        pid = fork();
        if (pid < 0)
            _exit(1);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;)
                pause();
        }
    }
    if (write(ready, &pid, sizeof pid) != sizeof pid)
        _exit(1);
    close(ready);
    for (;;)
        pause();
}

/* Start a target; returns 0 or -errno. */
static int target_start(struct target *t, long mib, enum kind kind)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    pid_t c = fork();
    if (c < 0) {
        close(fds[0]);
        close(fds[1]);
        return -EAGAIN;
    }
    if (c == 0) {
        close(fds[0]);
        target_main(mib, kind, fds[1]);
    }
    close(fds[1]);
    t->waited = c;
    ssize_t n = read(fds[0], &t->pid, sizeof t->pid);
    close(fds[0]);
    return n == (ssize_t)sizeof t->pid ? 0 : -EIO;
}

static void target_stop(struct target *t)
{
    if (t->waited <= 0)
        return;
    kill(t->waited, SIGKILL);
    waitpid(t->waited, NULL, 0);
    t->waited = 0;
}

/* The value of "Key:   N kB" in a /proc text, or -1. */
static long field_kib(const char *buf, const char *key)
{
    const char *p = strstr(buf, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Time reads of the three files of pid; returns 0 or -errno. */
static int measure(pid_t pid, long reads, struct cost *c)
{
    static char buf[16384];
    static double t[3][MAX_ITERS / 100];
    int fd[3] = {-1, -1, -1}, rc = 0;
    double cpu[3] = {0, 0, 0};
    if (reads > MAX_ITERS / 100)
        reads = MAX_ITERS / 100;
    for (int f = 0; f < 3; f++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file_name[f]);
        fd[f] = open(path, O_RDONLY | O_CLOEXEC);
        if (fd[f] < 0) {
            rc = -errno;
            goto out;
        }
    }
    for (long n = 0; n < reads; n += BLOCK) {
        for (int f = 0; f < 3; f++) {
            double c0 = now_us(CLOCK_THREAD_CPUTIME_ID);
            for (long i = n; i < n + BLOCK && i < reads; i++) {
                double t0 = now_us(CLOCK_MONOTONIC);
                if (pread(fd[f], buf, sizeof buf - 1, 0) <= 0) {
                    rc = -EIO;
                    goto out;
                }
                t[f][i] = now_us(CLOCK_MONOTONIC) - t0;
            }
            cpu[f] += now_us(CLOCK_THREAD_CPUTIME_ID) - c0;
        }
    }
    for (int f = 0; f < 3; f++) {
        c->median_us[f] = quantile(t[f], reads, 0.5);
        c->cpu_us[f] = cpu[f] / (double)reads;
    }
    ssize_t len = pread(fd[2], buf, sizeof buf - 1, 0);
    buf[len > 0 ? len : 0] = '\0';
    c->rss_kib = field_kib(buf, "\nRss:");
    c->uss_kib = field_kib(buf, "Private_Clean:") + field_kib(buf, "Private_Dirty:");
out:
    for (int f = 0; f < 3; f++)
        if (fd[f] >= 0)
            close(fd[f]);
    return rc;
}

/* The daemon's schedule (core/smaps_sched.h): a tick reads until BUDGET_US
 * is spent (the overrunning read finished, the first always made): ceil(budget
 * / cost) reads; a process is due after the interval, window / 192 or 500 x
 * its read's cost, whichever is longest. */
#define BUDGET_US 2000.0
#define COST_FACTOR 500.0
#define INTERVAL_S 5L
#define WINDOW_S 1800L

static void print_cost(long mib, enum kind kind, const struct cost *c)
{
    double per_mib = (c->median_us[2] - c->median_us[0]) / ((double)c->rss_kib / 1024.0);
    long per_tick = (long)(BUDGET_US / c->median_us[2]) + 1;
    double due_ms = COST_FACTOR * c->median_us[2] / 1000.0, quarter_ms = WINDOW_S * 1000.0 / 192;
    long due_ticks = (long)((due_ms > quarter_ms ? due_ms : quarter_ms) / (INTERVAL_S * 1000.0) + 0.999);
    printf("%6ld %-6s %7ld %7ld | %6.2f %6.2f %8.1f | %6.2f %6.2f %8.1f | %6.2f | %5ld %7.2f",
           mib, kind_name[kind], c->rss_kib / 1024, c->uss_kib / 1024, c->median_us[0], c->median_us[1],
           c->median_us[2], c->cpu_us[0], c->cpu_us[1], c->cpu_us[2], per_mib, per_tick,
           (double)per_tick * c->median_us[2] / 1000.0);
    for (long n = 10; n <= 1000; n *= 10) {
        long ticks = (n + per_tick - 1) / per_tick;
        printf(" %6lds", (ticks > due_ticks ? ticks : due_ticks) * INTERVAL_S);
    }
    printf("\n");
}

struct loop_result {
    long iters, reads;                      /* the loop's, the reader's */
    double median_us, p99_us, max_us, read_us;
};

/* One iteration of the loop: 64 pages faulted in (fault: after
 * MADV_DONTNEED of a region kept; mmap: of a new mapping, then unmapped). */
static int loop_once(int mmap_mode, char *region)
{
    char *p = region;
    if (mmap_mode) {
        p = mmap(NULL, (size_t)(LOOP_PAGES * PAGE), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return -errno;
    } else if (madvise(p, (size_t)(LOOP_PAGES * PAGE), MADV_DONTNEED) < 0) {
        return -errno;
    }
    for (long i = 0; i < LOOP_PAGES; i++)
        p[i * PAGE] = (char)i;
    if (mmap_mode && munmap(p, (size_t)(LOOP_PAGES * PAGE)) < 0)
        return -errno;
    return 0;
}

/* The stall target: fill, say ready, wait for go, loop for seconds, write
 * the loop_result to out.  Never returns. */
static void stall_main(long mib, int mmap_mode, double seconds, int go, int out)
{
    static double t[MAX_ITERS];
    struct loop_result r = {0, 0, 0, 0, 0, 0};
    char c = 0;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char *region = mmap(NULL, (size_t)(LOOP_PAGES * PAGE), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || fill(mib, K_4K) < 0)
        _exit(1);
    if (write(out, &c, 1) != 1 || read(go, &c, 1) != 1)
        _exit(1);
    double end = now_us(CLOCK_MONOTONIC) + seconds * 1e6;
    for (double t0 = now_us(CLOCK_MONOTONIC); t0 < end && r.iters < MAX_ITERS; r.iters++) {
        if (loop_once(mmap_mode, region) < 0)
            _exit(1);
        double t1 = now_us(CLOCK_MONOTONIC);
        t[r.iters] = t1 - t0;
        t0 = t1;
    }
    r.median_us = quantile(t, r.iters, 0.5);
    r.p99_us = quantile(t, r.iters, 0.99);
    r.max_us = r.iters ? t[r.iters - 1] : 0;
    if (write(out, &r, sizeof r) != sizeof r)
        _exit(1);
    _exit(0);
}

/* The reader: smaps_rollup of pid back to back (or with pause_us between
 * reads) until killed, each read counted in *count, its time in *total_us. */
static void reader_main(pid_t pid, long pause_us, volatile long *count, volatile double *total_us)
{
    static char buf[16384];
    char path[64];
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        _exit(1);
    for (;;) {
        double t0 = now_us(CLOCK_MONOTONIC);
        if (pread(fd, buf, sizeof buf, 0) <= 0)
            _exit(1);
        *total_us += now_us(CLOCK_MONOTONIC) - t0;
        (*count)++;
        if (pause_us)
            usleep((useconds_t)pause_us);
    }
}

/* One phase of the stall test: nobody reads (read_what 0), the reader
 * reads the looping target (1), another target of the same size (2: the
 * same CPU taken, no lock shared), the target every 100 ms (3: one stall
 * at a time, as a daemon's reads come); returns 0 or -errno. */
static int stall_phase(long mib, int mmap_mode, int read_what, double seconds, struct loop_result *r)
{
    int go[2], out[2], rc = -EIO;
    char c = 1;
    pid_t reader = -1;
    struct target other = {0, 0};
    volatile long *count = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (count == MAP_FAILED)
        return -errno;
    volatile double *total = (volatile double *)(count + 8);
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        return -errno;
    pid_t t = fork();
    if (t == 0)
        stall_main(mib, mmap_mode, seconds, go[0], out[1]);
    close(go[0]);
    close(out[1]);
    if (t < 0 || read(out[0], &c, 1) != 1)
        goto out;
    if (read_what == 2 && target_start(&other, mib, K_4K) < 0)
        goto out;
    if (read_what && (reader = fork()) == 0)
        reader_main(read_what == 2 ? other.pid : t, read_what == 3 ? 100000 : 0, count, total);
    if (write(go[1], &c, 1) != 1 || read(out[0], r, sizeof *r) != (ssize_t)sizeof *r)
        goto out;
    r->reads = *count;
    r->read_us = *count ? *total / (double)*count : 0;
    rc = 0;
out:
    if (reader > 0) {
        kill(reader, SIGKILL);
        waitpid(reader, NULL, 0);
    }
    if (t > 0) {
        kill(t, SIGKILL);
        waitpid(t, NULL, 0);
    }
    target_stop(&other);
    close(go[1]);
    close(out[0]);
    munmap((void *)count, 4096);
    return rc;
}

/* The stall table: each loop idle, read, and beside a read of another
 * process, twice over; returns 0 or -errno. */
static int stall_test(long mib, double seconds)
{
    printf("\nStall: a process with %ld MiB resident (4k pages) loops for %.0f s, idle, while another process\n"
           "reads its smaps_rollup back to back (yes), another's of the same size (other: the same CPU\n"
           "taken, no lock shared), its own every 100 ms (paced); each phase twice.  Per iteration (64 pages):\n",
           mib, seconds);
    printf("%-6s %-6s %9s %11s %11s %11s %9s %11s\n", "loop", "read", "iters", "median us", "p99 us", "max us",
           "reads", "us/read");
    for (int mode = 0; mode < 2; mode++) {
        for (int rep = 0; rep < 8; rep++) {
            struct loop_result r;
            int read_what = rep % 4;
            int rc = stall_phase(mib, mode, read_what, seconds, &r);
            if (rc < 0)
                return rc;
            printf("%-6s %-6s %9ld %11.2f %11.2f %11.1f %9ld %11.1f\n", mode ? "mmap" : "fault",
                   (const char *const[]){"no", "yes", "other", "paced"}[read_what], r.iters, r.median_us, r.p99_us,
                   r.max_us, r.reads, r.read_us);
        }
    }
    return 0;
}

static int parse_sizes(const char *s, long *sizes)
{
    int n = 0;
    while (*s && n < MAX_SIZES) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 65536)
            return -EINVAL;
        if (*end && *end != ',')
            return -EINVAL;
        sizes[n++] = v;
        s = *end ? end + 1 : end;
    }
    return n;
}

static int cost_table(const long *sizes, int nsizes, long reads)
{
    printf("Per read: the median wall time (us) of %ld reads of each file (a tenth at 1000 MiB or more), and\n"
           "the thread's CPU per read (us).  us/MiB = (smaps_rollup - statm) / resident MiB.  The daemon's\n"
           "schedule: reads/tick of such processes under a %.0f us budget (the overrunning read finished),\n"
           "the tick's ms of reads, and each process's uss sample period with 10, 100, 1000 of them\n"
           "watched at interval %lds, window %ldm (never below the interval, window/192, 500 x the cost).\n",
           reads, BUDGET_US, INTERVAL_S, WINDOW_S / 60);
    printf("%6s %-6s %7s %7s | %6s %6s %8s | %6s %6s %8s | %6s | %5s %7s %7s %7s %7s\n", "MiB", "pages", "rss", "uss",
           "statm", "status", "smaps_r", "c:stm", "c:sts", "c:smaps", "us/MiB", "reads", "tick ms", "10", "100",
           "1000");
    for (int i = 0; i < nsizes; i++) {
        for (int k = 0; k < N_KINDS; k++) {
            if ((k == K_THP || k == K_SPLIT || k == K_COW) && sizes[i] != sizes[nsizes - 1])
                continue;
            struct target t = {0, 0};
            struct cost c = {{0}, {0}, 0, 0};
            if (target_start(&t, sizes[i], (enum kind)k) < 0) {
                fprintf(stderr, "smaps_cost: cannot make a %ld MiB %s target\n", sizes[i], kind_name[k]);
                target_stop(&t);
                return 1;
            }
            long r = sizes[i] >= 1000 ? reads / 10 : reads;
            int rc = measure(t.pid, r, &c);
            target_stop(&t);
            if (rc < 0) {
                fprintf(stderr, "smaps_cost: reading pid %d: %s\n", (int)t.pid, strerror(-rc));
                return 1;
            }
            print_cost(sizes[i], (enum kind)k, &c);
            fflush(stdout);
        }
    }
    return 0;
}

/* The 1, 5 and 15 minute load averages: the machine's business at the time. */
static void print_load(void)
{
    char buf[128] = "unknown";
    FILE *f = fopen("/proc/loadavg", "re");
    if (f && !fgets(buf, sizeof buf, f))
        strcpy(buf, "unknown");
    printf("%.15s\n", buf);
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    long sizes[MAX_SIZES] = {10, 100, 1000};
    int nsizes = 3;
    long reads = 2000, stall_mib = 1000;
    double stall_s = 4;
    for (int a = 1; a < argc; a += 2) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (strcmp(argv[a], "--sizes") == 0 && v)
            nsizes = parse_sizes(v, sizes);
        else if (strcmp(argv[a], "--reads") == 0 && v)
            reads = strtol(v, NULL, 10);
        else if (strcmp(argv[a], "--stall-seconds") == 0 && v)
            stall_s = strtod(v, NULL);
        else if (strcmp(argv[a], "--stall-mib") == 0 && v)
            stall_mib = strtol(v, NULL, 10);
        else
            nsizes = -1;
        if (nsizes <= 0 || reads < BLOCK || reads > MAX_ITERS / 100 || stall_s < 0 || stall_s > 600 ||
            stall_mib <= 0) {
            fprintf(stderr, "usage: smaps_cost [--sizes MIB,MIB,...] [--reads N] [--stall-seconds S] "
                            "[--stall-mib MIB]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    double t0 = now_us(CLOCK_MONOTONIC);
    printf("load average ");
    print_load();
    if (cost_table(sizes, nsizes, reads) != 0)
        return 1;
    if (stall_s > 0 && stall_test(stall_mib, stall_s) < 0) {
        fprintf(stderr, "smaps_cost: the stall test failed\n");
        return 1;
    }
    printf("\nsmaps_cost: took %.1f s; load average ", (now_us(CLOCK_MONOTONIC) - t0) / 1e6);
    print_load();
    return 0;
}
