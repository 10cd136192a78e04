/* The fixture /proc tree of the unit tests that run a monitor: make_root()
 * makes it under /tmp, make_proc() adds a process, stat_file() rewrites its
 * stat between ticks, add_fd() opens one more fd, put() writes any file in
 * it, load_config() loads a config text from it, remove_root() removes it. */
#ifndef LEAKWATCH_FIXTURE_H
#define LEAKWATCH_FIXTURE_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "os/config_file.h"

#define WALL_BASE 1795496400000000ull   /* 2026-11-24T05:00:00Z */

/* The flags of an ordinary process's stat: PF_SUPERPRIV | PF_RANDOMIZE. */
#define PF_USER 0x400100u

static char root[256];

/* A new, empty tree: /tmp/leakwatch-test-NAME-XXXXXX. */
static inline bool make_root(const char *name)
{
	snprintf(root, sizeof(root), "/tmp/leakwatch-test-%s-XXXXXX", name);
	return mkdtemp(root) != NULL;
}

/* Removes the tree: 0, or what system() returned. */
static inline int remove_root(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static inline void put(const char *rel, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");   /* truncates in place: kept fds see the update */
	if (!f) {
		perror(path);
		exit(2);
	}
	fwrite(data, 1, len, f);
	fclose(f);
}

/* A symlink PATH -> TARGET in the tree, in place of what PATH was (as put()
 * rewrites a file); exits 2 when it cannot be made. */
static inline void put_link(const char *target, const char *path)
{
	if ((unlink(path) != 0 && errno != ENOENT) || symlink(target, path) != 0) {
		perror(path);
		exit(2);
	}
}

/* START: the start time in clock ticks, PID unless the test needs another. */
static inline void stat_file(int pid, const char *comm, int ppid, unsigned flags, long threads, long rss_pages,
			     unsigned long long start)
{
	char rel[64], buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "%d (%s) S %d %d %d 0 -1 %u 0 0 0 0 0 0 0 0 20 0 %ld 0 %llu 100000 %ld 0\n",
			 pid, comm, ppid, pid, pid, flags, threads, start, rss_pages);

	snprintf(rel, sizeof(rel), "%d/stat", pid);
	put(rel, buf, (size_t)n);
}

static inline void add_fd(int pid, int fd)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%d/fd/%d", root, pid, fd);
	if (symlink("/dev/null", path) < 0 && errno != EEXIST) {
		perror(path);
		exit(2);
	}
}

/* A process with NFDS fds, one thread and 1000 pages, started at tick PID,
 * in api.service, its exe python3.11, its cmdline ARGV0 ("": none, as a
 * kernel thread has). */
static inline void make_proc(int pid, const char *comm, int ppid, unsigned flags, const char *argv0, int nfds)
{
	char path[512], rel[64];

	snprintf(path, sizeof(path), "%s/%d", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/fd", root, pid);
	mkdir(path, 0755);
	for (int i = 0; i < nfds; i++)
		add_fd(pid, i);
	stat_file(pid, comm, ppid, flags, 1, 1000, (unsigned long long)pid);
	snprintf(rel, sizeof(rel), "%d/cmdline", pid);
	put(rel, argv0, *argv0 ? strlen(argv0) + 1 : 0);
	snprintf(rel, sizeof(rel), "%d/status", pid);
	put(rel, "Name:\tx\nUid:\t0\t0\t0\t0\n", 22);
	snprintf(rel, sizeof(rel), "%d/cgroup", pid);
	put(rel, "0::/system.slice/api.service\n", 29);
	snprintf(path, sizeof(path), "%s/%d/exe", root, pid);
	put_link("/usr/bin/python3.11", path);
}

/* TEXT as a config file in the tree, loaded; NULL when it does not load
 * (its diagnostics printed). */
static inline struct config *load_config(const char *text)
{
	struct config_env env = { .mem_total = 1ull << 34 };
	struct config *cfg = NULL;
	struct diag diags = { 0 };
	char path[300];
	int r;

	snprintf(path, sizeof(path), "%s/leakwatch.yaml", root);
	put("leakwatch.yaml", text, strlen(text));
	r = config_load(path, &env, &cfg, &diags);
	for (size_t i = 0; i < diags.n; i++)
		fprintf(stderr, "%s\n", diags.msgs[i]);
	diag_free(&diags);
	unlink(path);
	if (r < 0) {
		fprintf(stderr, "config_load: %d\n", r);
		return NULL;
	}
	return cfg;
}

#endif
