/* Incident captures (capture.h lists the files).
 *
 * The evidence must be the process that was reported, complete or absent.
 * Paths like /proc/PID/status would read whatever process has the pid by
 * then; every read here goes through the kept /proc/PID dirfd, which
 * yields ENOENT or ESRCH once that process is gone.  Written straight into
 * the final directory, a capture cut short (the process exits, the disk
 * fills, the daemon is killed) would look like a complete one; it is built
 * as .tmp-NAME and renamed, and capture_prune removes stale .tmp- trees.
 *
 * Costs, bounded whatever the process opens or names (it picks its fd
 * targets, thread names and argv): each /proc file is read whole
 * (os/files.h's file_read, cut at CAPTURE_FILE_MAX) before it is written;
 * the fd links are read one at a time into one buffer and grouped at once
 * into the summary's table of at most FD_GROUPS_MAX targets (core/fdsum.h,
 * about 2 MB at worst), each pass over at most CAPTURE_MAX_FDS links, a
 * second one only when the first met more targets than the table holds;
 * the thread list holds 20 bytes per thread, up to CAPTURE_MAX_THREADS;
 * the files' text stops at CAPTURE_FILE_MAX, where they would be cut.
 * The time is a readlink per fd (twice at most; with the table's lookups,
 * about 0.5 s of CPU for 100,000 fds on distinct 4 KiB paths) and a read
 * of comm per thread.  A capture runs once per report of a watch with
 * capture: true, and the incidents are pruned to CAPTURE_MAX_COUNT and
 * CAPTURE_MAX_BYTES after each.
 *
 * The incident's own files are opened O_NOFOLLOW | O_CLOEXEC (and O_EXCL)
 * in the root-owned state directory, the directories O_NOFOLLOW too. */
#include "daemon/capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/event.h"
#include "core/fdsum.h"
#include "core/units.h"
#include "os/files.h"

static int write_at(int dirfd, const char *name, const char *data, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len > CAPTURE_FILE_MAX ? CAPTURE_FILE_MAX : len);
	close(fd);
	return r;
}

/* Copy a /proc file of the process (through its dirfd) into outfd, cut at
 * CAPTURE_FILE_MAX.  0 or -errno (-ENOENT, -ESRCH: the process is gone). */
static int copy_proc(int procfd, int outfd, const char *name)
{
	char *data;
	size_t len;
	int r = file_read(procfd, name, CAPTURE_FILE_MAX, FILE_CUT, &data, &len);

	if (r < 0)
		return r;
	r = write_at(outfd, name, data, len);
	free(data);
	return r;
}

/* argv, space-separated, ending in a newline (when it ended in a NUL).
 * Left out when it cannot be read. */
static void copy_cmdline(int procfd, int outfd)
{
	char *data;
	size_t len;

	if (file_read(procfd, "cmdline", CAPTURE_FILE_MAX, FILE_CUT, &data, &len) < 0)
		return;
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\0')
			data[i] = i + 1 == len ? '\n' : ' ';
	write_at(outfd, "cmdline", data, len);
	free(data);
}

/* One pass over the fd links into s, each read into the same buffer;
 * s->stopped_at is set when more than CAPTURE_MAX_FDS are open.  0, or
 * -errno: the directory cannot be opened (-ENOENT, -EACCES), -ENOMEM. */
static int scan_fds(int procfd, struct fd_summary *s)
{
	DIR *d = opendir_at(procfd, "fd");
	char target[PATH_MAX];
	struct dirent *de;
	unsigned seen = 0;
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		if (seen == CAPTURE_MAX_FDS) {
			s->stopped_at = seen;
			break;
		}
		seen++;
		n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n < 0) {
			s->unreadable++;
			continue;
		}
		target[n] = '\0';
		if ((r = fd_summary_add(s, target)) < 0)
			break;
	}
	closedir(d);
	return r;
}

/* The fds file: one pass, or two when the process has more distinct
 * targets than the summary keeps (fdsum.h).  0 or -errno. */
static int capture_fds(int procfd, int outfd, struct buf *b)
{
	struct fd_summary s = { 0 };
	int r = scan_fds(procfd, &s);

	if (r == 0 && s.overflowed) {
		fd_summary_recount(&s);
		r = scan_fds(procfd, &s);
	}
	if (r == 0) {
		buf_reset(b);
		fd_summary_render(b, &s, 500, CAPTURE_FILE_MAX);
		r = buf_ok(b) ? write_at(outfd, "fds", b->data, b->len) : -ENOMEM;
	}
	fd_summary_free(&s);
	return r;
}

struct thread_name {
	pid_t tid;
	char name[16];           /* a comm: at most 15 bytes */
};

static int by_tid(const void *a, const void *b)
{
	const struct thread_name *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int by_name(const void *a, const void *b)
{
	const struct thread_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : by_tid(a, b);
}

/* The thread ids and names, at most CAPTURE_MAX_THREADS, into *t (*n of
 * them).  0 or -errno: the directory cannot be opened, -ENOMEM. */
static int read_threads(int procfd, struct thread_name **t, size_t *n)
{
	DIR *d = opendir_at(procfd, "task");
	size_t cap = 0;
	struct dirent *de;
	int r = 0;

	*t = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d)) && *n < CAPTURE_MAX_THREADS) {
		struct thread_name *e;
		char rel[300];
		ssize_t len;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (*n == cap) {
			size_t c = cap ? 2 * cap : 64;
			struct thread_name *p = realloc(*t, c * sizeof(*p));

			if (!p) {
				r = -ENOMEM;
				break;
			}
			*t = p;
			cap = c;
		}
		e = &(*t)[*n];
		e->tid = (pid_t)strtol(de->d_name, NULL, 10);
		snprintf(rel, sizeof(rel), "%s/comm", de->d_name);
		len = file_read_into(dirfd(d), rel, e->name, sizeof(e->name));
		if (len < 0)
			continue;     /* the thread ended meanwhile */
		/* the newline that ends the file; one inside the name is kept */
		if (len > 0 && e->name[len - 1] == '\n')
			e->name[len - 1] = '\0';
		(*n)++;
	}
	closedir(d);
	return r;
}

/* The threads file: the count, the count per name, every tid with its
 * name; the lines stop at CAPTURE_FILE_MAX, where the file is cut. */
static void render_threads(struct buf *b, struct thread_name *t, size_t n)
{
	buf_reset(b);
	buf_printf(b, "threads: %zu\n\n%7s  %s\n", n, "COUNT", "NAME");
	if (n)
		qsort(t, n, sizeof(*t), by_name);
	for (size_t i = 0; i < n && b->len < CAPTURE_FILE_MAX;) {
		size_t j = i;

		while (j < n && strcmp(t[j].name, t[i].name) == 0)
			j++;
		buf_printf(b, "%7zu  ", j - i);
		buf_line_text(b, t[i].name);
		buf_puts(b, "\n");
		i = j;
	}
	if (n)
		qsort(t, n, sizeof(*t), by_tid);
	buf_printf(b, "\n%7s  %s\n", "TID", "NAME");
	for (size_t i = 0; i < n && b->len < CAPTURE_FILE_MAX; i++) {
		buf_printf(b, "%7ld  ", (long)t[i].tid);
		buf_line_text(b, t[i].name);
		buf_puts(b, "\n");
	}
}

static int capture_threads(int procfd, int outfd, struct buf *b)
{
	struct thread_name *t;
	size_t n;
	int r = read_threads(procfd, &t, &n);

	if (r == 0) {
		render_threads(b, t, n);
		r = buf_ok(b) ? write_at(outfd, "threads", b->data, b->len) : -ENOMEM;
	}
	free(t);
	return r;
}

static int remove_tree_at(int parent, const char *name)
{
	DIR *d = opendir_at(parent, name);
	struct dirent *de;

	if (!d)
		return errno == ENOTDIR || errno == ELOOP ? (unlinkat(parent, name, 0) < 0 ? -errno : 0) : -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			remove_tree_at(dirfd(d), de->d_name);   /* incidents are one level deep */
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

/* STATE_DIR/incidents, created when missing and opened (*idir); its path
 * in incidents.  0 or -errno. */
static int open_incidents(const char *state_dir, char *incidents, size_t size, int *idir)
{
	int r;

	if (snprintf(incidents, size, "%s/incidents", state_dir) >= (int)size)
		return -ENAMETOOLONG;
	r = mkdir_p(incidents, 0700);
	if (r < 0)
		return r;
	*idir = open(incidents, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return *idir < 0 ? -errno : 0;
}

/* TIME-WATCH-PID, or TIME-WATCH-PID-K for the K-th in the same second. */
static void incident_name(int idir, const struct capture *c, char *name, size_t size)
{
	char stamp[32];
	struct tm tm;
	time_t secs = (time_t)(c->wall_usec / 1000000);

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(name, size, "%s-%.100s-%d", stamp, c->watch, (int)c->pid);
	for (int k = 2; faccessat(idir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 && k < 100; k++)
		snprintf(name, size, "%s-%.100s-%d-%d", stamp, c->watch, (int)c->pid, k);
}

/* The process's files into out.  0, or -errno: status could not be read
 * (-ENOENT, -ESRCH: the process is gone) or a file not written. */
static int capture_files(const struct capture *c, int out, struct buf *b)
{
	/* a process whose leader has exited: the memory, fds and argv a live
	 * thread shows, the thread list the process's */
	int live = c->has_live ? c->live_dirfd : c->proc_dirfd;
	/* The process first: if it is gone, there is no incident to keep. */
	int r = copy_proc(live, out, "status");

	if (r < 0)
		return r;
	copy_proc(live, out, "smaps_rollup");   /* missing on old kernels */
	copy_cmdline(live, out);
	/* what cannot be read (EACCES without CAP_SYS_PTRACE) is left out */
	r = capture_fds(live, out, b);
	if (r < 0 && r != -ENOENT && r != -EACCES)
		return r;
	r = capture_threads(c->proc_dirfd, out, b);
	if (r < 0 && r != -ENOENT && r != -EACCES)
		return r;
	if (c->history_json)
		write_at(out, "history.json", c->history_json, strlen(c->history_json));
	if (c->plot_svg)
		write_at(out, "plot.svg", c->plot_svg, strlen(c->plot_svg));
	return 0;
}

/* incident.json: what was reported.  0 or -errno. */
static int write_incident_json(const struct capture *c, int out, struct buf *b)
{
	char ts[40];

	buf_reset(b);
	format_rfc3339(c->wall_usec, ts, sizeof(ts));
	buf_printf(b, "{\"ts\": \"%s\", \"watch\": ", ts);
	buf_json_string(b, c->watch);
	buf_printf(b, ", \"pid\": %d, \"comm\": ", (int)c->pid);
	buf_json_string(b, c->comm ? c->comm : "");
	buf_puts(b, ", \"title\": ");
	if (c->title && c->title[0])
		buf_json_string(b, c->title);
	else
		buf_puts(b, "null");
	buf_printf(b, ", \"event\": \"%s\", \"metric\": \"%s\", \"value\": ", c->event, c->metric);
	buf_json_number(b, c->value);
	buf_puts(b, "}\n");
	return buf_ok(b) ? write_at(out, "incident.json", b->data, b->len) : -ENOMEM;
}

int capture_incident(const struct capture *c, char *dir, size_t len)
{
	char incidents[PATH_MAX], name[200], tmp[220];
	struct buf b = { 0 };
	int idir = -1, out = -1, r;

	r = open_incidents(c->state_dir, incidents, sizeof(incidents), &idir);
	if (r < 0)
		return r;
	incident_name(idir, c, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), ".tmp-%s", name);
	if (mkdirat(idir, tmp, 0700) < 0) {
		r = -errno;
		goto out;
	}
	out = openat(idir, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (out < 0) {
		r = -errno;
		goto fail;
	}
	r = capture_files(c, out, &b);
	if (r == 0)
		r = write_incident_json(c, out, &b);
	if (r < 0)
		goto fail;
	if (renameat(idir, tmp, idir, name) < 0) {
		r = -errno;
		goto fail;
	}
	if (snprintf(dir, len, "%s/%s", incidents, name) >= (int)len)
		r = -ENAMETOOLONG;
	goto out;
fail:
	remove_tree_at(idir, tmp);
out:
	if (out >= 0)
		close(out);
	if (idir >= 0)
		close(idir);
	buf_free(&b);
	if (r == 0)
		capture_prune(incidents, CAPTURE_MAX_COUNT, CAPTURE_MAX_BYTES);
	return r;
}

struct incident {
	char *name;
	uint64_t bytes;
};

static int by_incident_name(const void *a, const void *b)
{
	return strcmp(((const struct incident *)a)->name, ((const struct incident *)b)->name);
}

static uint64_t dir_bytes(int parent, const char *name)
{
	DIR *d = opendir_at(parent, name);
	struct dirent *de;
	uint64_t sum = 0;
	struct stat st;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			sum += (uint64_t)st.st_blocks * 512;
	closedir(d);
	return sum;
}

int capture_prune(const char *incidents_dir, unsigned max_count, uint64_t max_bytes)
{
	struct incident *v = NULL;
	size_t n = 0, cap = 0, first = 0;
	uint64_t total = 0;
	struct dirent *de;
	int removed = 0;
	DIR *d;

	d = opendir_at(AT_FDCWD, incidents_dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ".tmp-", 5) == 0) {
			/* an interrupted capture: ours are renamed within a tick */
			struct stat st;

			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    time(NULL) - st.st_mtime > 60)
				remove_tree_at(dirfd(d), de->d_name);
			continue;
		}
		if (de->d_name[0] == '.' || de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (n == cap) {
			size_t c = cap ? 2 * cap : 64;
			struct incident *p = realloc(v, c * sizeof(*p));

			if (!p)
				break;
			v = p;
			cap = c;
		}
		v[n].name = strdup(de->d_name);
		if (!v[n].name)
			break;
		v[n].bytes = dir_bytes(dirfd(d), de->d_name);
		total += v[n].bytes;
		n++;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_incident_name);   /* names start with the time */
	while (first < n && (n - first > max_count || total > max_bytes)) {
		if (remove_tree_at(dirfd(d), v[first].name) == 0)
			removed++;
		total -= v[first].bytes;
		first++;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	closedir(d);
	return removed;
}
