/* The reader of a process's own limits (see own_limits.h).
 *
 * RLIMIT_NOFILE: /proc/PID/limits, through the kept /proc/PID directory,
 * which anyone may read (no ptrace access check, unlike prlimit(2), which
 * needs CAP_SYS_RESOURCE or the target's credentials).
 *
 * The cgroup limits.  Which file: the one of the hierarchy that has the
 * controller.  On cgroup v2 that is the unified one (pids.max, memory.max
 * in every cgroup but the root, where the parent enables the controller);
 * in a hybrid layout a controller bound to a v1 hierarchy is in no other,
 * so a mounted v1 pids or memory hierarchy is the one (pids.max,
 * memory.limit_in_bytes, which says "unlimited" with a huge number: the
 * judge takes the lower of it and MemTotal).  Which cgroup: the limits
 * nest, a cgroup's tasks are held to the lowest limit on its path, so the
 * walk reads every level from the root down and keeps the lowest.  That
 * is also what makes it safe to read files the process's owner may
 * control: below a delegated unit the owner makes and names the cgroups,
 * and may set their limits, but a limit it sets can only be lower than the
 * unit's, which is read too; a level it makes unreadable (a directory it
 * chmods 0700, a daemon without CAP_DAC_READ_SEARCH) ends the walk with
 * the limits above it.  Each directory is opened O_PATH|O_NOFOLLOW from
 * the one above (never a path resolved whole: a rename between two looks
 * cannot make it another's), each file by the safe open (no FIFO waited
 * on, no symlink followed, regular files only) and read to 64 bytes.
 *
 * Costs: the limits text (about 1.3 KB) for fds; for a cgroup limit the
 * process's cgroup text and, per level, an openat of the directory and of
 * the file, an fstat and a read: about 16 system calls for
 * /system.slice/api.service.  Measured (Debian 12, kernel 6.18): 11 us
 * for RLIMIT_NOFILE, 38 us for a pids.max three levels down, 35 us for a
 * v1 memory limit two levels down.  Done when a process is found and once
 * a minute after (each process at its own phase), only for the metrics
 * whose max is a percentage: at 5000 processes with all three, about 0.4 s
 * of CPU a minute, spread over the minute. */
#include "os/own_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/limits_parse.h"
#include "os/files.h"

/* /proc/PID/cgroup: a line per hierarchy, each path below PATH_MAX (as
 * os/proc.c reads it for the unit). */
#define CGROUP_TEXT_MAX (128u << 10)
#define MOUNTINFO_MAX   (64u << 20)

void cgroup_roots_none(struct cgroup_roots *c)
{
	c->unified = c->pids = c->memory = -1;
}

static int open_root(const char *path)
{
	int fd;

	if (!path[0])
		return -1;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -1 : fd;
}

int cgroup_roots_open(struct cgroup_roots *c, const struct proc_root *r)
{
	struct cgroup_mounts *m;
	char *text;
	size_t len;
	int e;

	cgroup_roots_none(c);
	e = file_read(r->fd, "self/mountinfo", MOUNTINFO_MAX, 0, &text, &len);
	if (e < 0)
		return e;
	m = malloc(sizeof(*m));
	if (!m) {
		free(text);
		return -ENOMEM;
	}
	cgroup_parse_mounts(text, m);
	free(text);
	c->unified = open_root(m->unified);
	c->pids = open_root(m->pids);
	c->memory = open_root(m->memory);
	free(m);
	return 0;
}

void cgroup_roots_close(struct cgroup_roots *c)
{
	if (c->unified >= 0)
		close(c->unified);
	if (c->pids >= 0)
		close(c->pids);
	if (c->memory >= 0)
		close(c->memory);
	cgroup_roots_none(c);
}

/* The limit in the file name of the cgroup directory dir: 0 with *v (-1:
 * none; a cgroup without the file, the root, sets none), or -errno. */
static int level_limit(int dir, const char *name, double *v)
{
	struct stat st;
	char buf[64];
	ssize_t n;
	int fd = file_open_regular(dir, name, &st);

	*v = -1;
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	n = file_read_fd(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return (int)n;
	return cgroup_parse_limit(buf, v);
}

static void keep_lowest(double *lowest, double v)
{
	if (v >= 0 && (*lowest < 0 || v < *lowest))
		*lowest = v;
}

/* The lowest limit in file name on the path (len bytes, walkable: core/
 * limits_parse.h) from the hierarchy's root down: 0 with *v (-1: none).
 * A level that cannot be read ends the walk: 0 with what was found above
 * it when something was, else its -errno (-E2BIG: deeper than
 * CGROUP_WALK_MAX). */
static int lowest_limit(int root, const char *path, size_t len, const char *name, double *v)
{
	char comp[256];
	const char *p = path + 1, *end = path + len;
	int dir = root, e, depth = 0;
	double x;

	*v = -1;
	for (;;) {
		const char *slash;
		size_t k;
		int next;

		e = level_limit(dir, name, &x);
		if (e < 0)
			break;
		keep_lowest(v, x);
		if (p >= end)
			break;      /* the process's own cgroup, read */
		if (++depth > CGROUP_WALK_MAX) {
			e = -E2BIG;
			break;
		}
		slash = memchr(p, '/', (size_t)(end - p));
		k = slash ? (size_t)(slash - p) : (size_t)(end - p);
		if (k >= sizeof(comp)) {
			e = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, p, k);
		comp[k] = '\0';
		p += k + 1;
		next = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			e = -errno;
			break;
		}
		if (dir != root)
			close(dir);
		dir = next;
	}
	if (dir != root)
		close(dir);
	return e < 0 && *v < 0 ? e : 0;
}

/* One cgroup limit of the process whose cgroup text is text: 0 with *v,
 * or -errno (-ENOTSUP: no hierarchy has the controller). */
static int cgroup_limit(const struct cgroup_roots *c, const char *text, int metric, double *v)
{
	int v1 = metric == METRIC_THREADS ? c->pids : c->memory;
	int root = v1 >= 0 ? v1 : c->unified;
	const char *file = metric == METRIC_THREADS ? "pids.max" : v1 >= 0 ? "memory.limit_in_bytes" : "memory.max";
	const char *path;
	size_t len;
	int e;

	*v = -1;
	if (root < 0)
		return -ENOTSUP;
	e = cgroup_parse_path(text, v1 >= 0 ? (metric == METRIC_THREADS ? "pids" : "memory") : NULL, &path, &len);
	if (e == -ENOENT)
		return -ENOTSUP;    /* the process is in no cgroup of that hierarchy */
	if (e < 0)
		return e;
	return lowest_limit(root, path, len, file, v);
}

static int read_nofile(int dir, double *v)
{
	char buf[4096];
	ssize_t n = file_read_into(dir, "limits", buf, sizeof(buf));

	*v = -1;
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	return limits_parse_nofile(buf, v);
}

void own_limits_read(const struct cgroup_roots *c, const struct proc_handle *h, unsigned want,
		     struct own_limits *out)
{
	int dir = h->tdirfd >= 0 ? h->tdirfd : h->dirfd;
	unsigned cg = want & (1u << METRIC_THREADS | 1u << METRIC_RSS | METRIC_SPARSE_MASK);
	int mem = -1;   /* the memory metric whose memory.max was read: the others' too */
	char *text = NULL;
	size_t len;
	int e = 0;

	for (int i = 0; i < METRIC_COUNT; i++) {
		out->v[i] = -1;
		out->err[i] = 0;
	}
	if (want & (1u << METRIC_FDS))
		out->err[METRIC_FDS] = read_nofile(dir, &out->v[METRIC_FDS]);
	if (!cg)
		return;
	e = file_read(dir, "cgroup", CGROUP_TEXT_MAX, 0, &text, &len);
	if (e == -ENOENT)
		e = -ESRCH;
	for (int i = METRIC_RSS; i < METRIC_COUNT; i++) {
		if (!(cg & (1u << i)))
			continue;
		if (mem >= 0 && metric_is_memory(i)) {
			out->v[i] = out->v[mem];
			out->err[i] = out->err[mem];
			continue;
		}
		out->err[i] = e < 0 ? e : cgroup_limit(c, text, i, &out->v[i]);
		if (metric_is_memory(i))
			mem = i;
	}
	free(text);
}
