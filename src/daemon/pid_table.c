/* The pid table (see pid_table.h). */
#include "daemon/pid_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned slot(pid_t pid)
{
	return (unsigned)pid % PID_TABLE_SIZE;
}

struct pid_entry *pid_table_lookup(const struct pid_table *t, pid_t pid)
{
	for (struct pid_entry *e = t->slot[slot(pid)]; e; e = e->next)
		if (e->info.pid == pid)
			return e;
	return NULL;
}

/* The criteria's files beyond stat, as the config needs them: cmdline, exe
 * and cgroup under dir ("PID", or a live thread's "PID/task/TID" once the
 * leader has exited), the user from the leader's status, whose credentials
 * stay the process's. */
static void read_more(const struct pid_reader *r, pid_t pid, const char *dir, struct pid_entry *e)
{
	char rel[64], buf[4096];
	ssize_t n;

	if (r->needs & NEED_CMDLINE) {
		snprintf(rel, sizeof(rel), "%s/cmdline", dir);
		n = proc_read_file(r->root, rel, r->cmdline_buf, CMDLINE_MAX);
		if (n >= 0) {
			proc_join_cmdline(r->cmdline_buf, (size_t)n);
			e->info.cmdline = strdup(r->cmdline_buf);
		}
	}
	if (r->needs & NEED_EXE) {
		snprintf(rel, sizeof(rel), "%s/exe", dir);
		n = readlinkat(r->root->fd, rel, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			e->info.exe = strdup(buf);
		} else {
			e->info.exe_err = n < 0 ? -errno : -ENOENT;
		}
	}
	if (r->needs & NEED_UID) {
		snprintf(rel, sizeof(rel), "%d/status", (int)pid);
		if (proc_read_file(r->root, rel, buf, sizeof(buf)) > 0 &&
		    proc_parse_uids(buf, &e->info.uid, &e->info.euid, &e->info.suid) == 0)
			e->info.has_uid = true;
	}
	if (r->needs & NEED_UNIT) {
		struct cgroup_unit u;

		if (proc_read_unit(r->root, dir, &u) == 0) {
			e->info.unit = strdup(u.system);
			e->info.user_unit = u.user[0] ? strdup(u.user) : NULL;
		}
	}
}

int pid_read(const struct pid_reader *r, pid_t pid, struct pid_entry *e, bool probe)
{
	struct proc_stat st;
	bool thread = false;
	char dir[48];
	int err;

	proc_info_clear(&e->info);
	e->info.pid = pid;
	err = proc_read_stat(r->root, pid, &st, probe ? &thread : NULL);
	if (err < 0)
		return err;
	if (thread)
		return -ESRCH;
	e->info.ppid = st.ppid;
	e->info.start_ticks = st.start_ticks;
	memcpy(e->info.comm, st.comm, sizeof(e->info.comm));
	e->start_ms = st.start_ticks * 1000 / (unsigned long long)r->hz;
	/* Never watched, but PID 1 or a zombie may still be someone's parent
	 * for a `parent:` criterion: only kernel threads are not read further.
	 * A process whose leader exited while a thread lives is no zombie: it
	 * is read from that thread (proc_live_dir), the comm and start time
	 * staying the leader's, its identity.  (With too many dead threads
	 * listed to find one, -E2BIG, it is read from the leader and may be
	 * matched: its sample then says why it cannot be watched.) */
	err = proc_live_dir(r->root, pid, &st, dir, sizeof(dir));
	e->never = pid == 1 || pid == r->self || (st.flags & PF_KTHREAD_FLAG) ||
		   (proc_stat_dead(&st) && (!proc_leader_exited(&st) || err == -ESRCH));
	if (!(st.flags & PF_KTHREAD_FLAG))
		read_more(r, pid, dir, e);
	return 0;
}

struct pid_entry *pid_table_add(struct pid_table *t, const struct pid_reader *r, pid_t pid, bool probe)
{
	struct pid_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (pid_read(r, pid, e, probe) < 0) {
		proc_info_clear(&e->info);
		free(e);
		return NULL;
	}
	e->gen = t->gen;
	e->next = t->slot[slot(pid)];
	t->slot[slot(pid)] = e;
	t->n_entries++;
	t->n_seen++;
	return e;
}

static void drop_entry(struct pid_table *t, struct pid_entry *e)
{
	if (e->gen == t->gen)
		t->n_seen--;
	t->n_entries--;
	proc_info_clear(&e->info);
	free(e);
}

void pid_table_remove(struct pid_table *t, struct pid_entry *e)
{
	struct pid_entry **pp = &t->slot[slot(e->info.pid)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	drop_entry(t, e);
}

void pid_table_seen(struct pid_table *t, struct pid_entry *e)
{
	if (e->gen != t->gen) {
		e->gen = t->gen;
		t->n_seen++;
	}
}

void pid_table_sweep(struct pid_table *t, void (*gone)(void *ctx, const struct pid_entry *e), void *ctx)
{
	if (t->n_seen == t->n_entries)
		return;     /* every pid known was listed: none exited */
	for (unsigned i = 0; i < PID_TABLE_SIZE; i++) {
		struct pid_entry **pp = &t->slot[i];

		while (*pp) {
			struct pid_entry *e = *pp;

			if (e->gen != t->gen) {
				*pp = e->next;
				if (e->owner)
					gone(ctx, e);
				drop_entry(t, e);
			} else {
				pp = &e->next;
			}
		}
	}
}

void pid_table_free(struct pid_table *t)
{
	for (unsigned i = 0; i < PID_TABLE_SIZE; i++)
		while (t->slot[i]) {
			struct pid_entry *e = t->slot[i];

			t->slot[i] = e->next;
			proc_info_clear(&e->info);
			free(e);
		}
	t->n_entries = t->n_seen = 0;
}
