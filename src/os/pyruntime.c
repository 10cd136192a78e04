/* The runtime resolver (pyruntime.h says what it finds).
 *
 * The steps, each a refusal of its own: read /proc/PID/maps whole (at
 * most PYRUNTIME_MAPS_MAX) and the exe link; pick the runtime's file
 * (core/maps_parse.h); refuse an old version by its name before opening
 * anything; open the file as the process sees it; read its symbols; find
 * the load bias from its executable mappings; and check that every
 * address lands in an executable segment of the file and in an
 * executable mapping of it.
 *
 * Which file is read.  The daemon has no CAP_SYS_ADMIN, so
 * /proc/PID/map_files/ (the mapped file itself) is closed to it.  The
 * path in maps is opened under /proc/PID/root, so a process in a
 * container has its own file read, not the host's file of that name.
 * The kernel writes that path as the reader would name it when the
 * reader can reach the file (else from the root of the process's mount
 * namespace): for a chrooted process it begins with the chroot's
 * directory, so when it begins with where /proc/PID/root leads, the rest
 * of it is tried under /proc/PID/root too.  Each open is O_NOFOLLOW and
 * O_NONBLOCK (no FIFO blocks it), a regular file required.  A path can
 * lie (the file renamed or replaced since, a name with "\012" or
 * " (deleted)" in it, a directory on the way swapped for a symlink): so
 * the device and inode of what was opened must be the ones the maps line
 * gives, or nothing is read (-ESTALE).  What matched is the mapped file,
 * whatever path led to it.  Known gap: a file on overlayfs (a
 * container's image) is mapped from its lower layer, whose device maps
 * shows, while the path opens the overlay's inode, of another device:
 * refused as -ESTALE.
 *
 * Whose file.  The daemon (root) parses the file's symbol table and
 * sends the process's threads to the addresses it gives; it refuses a
 * file that someone other than root owns or that group or others may
 * write (-EPERM): the process's owner could have made it say anything.
 * The directories above it are not asked: the inode matched is the one
 * mapped, and whoever could rename files in them cannot change what that
 * inode holds.
 *
 * The version.  From the file's name (libpython3.11.so, python3.8), and
 * from what the file defines: Py_Version (3.11 and later; its value is
 * PY_VERSION_HEX) and PyConfig_Read (3.8 and later).  Where the two
 * disagree (named 3.12, Py_Version 3.11; named 3.11 and no Py_Version)
 * the addresses are not trusted (-EFAULT); without PyConfig_Read it is
 * older than 3.8 whatever its name.  A file named "python3" without
 * Py_Version is "3.8-3.10".  3.8 is the oldest the inspection script
 * runs on.
 *
 * The bias.  Every executable mapping of the file (same device and
 * inode) gives one (core/elf_symbols.h's elf_load_bias); they must all
 * agree, and there must be one.  Then each address is the symbol's vaddr
 * plus the bias, and must lie in an executable PT_LOAD of the file and in
 * an executable mapping of it in maps: what the injector writes its
 * breakpoint to is code of that file in that process.  (The process may
 * have rewritten its own code since: ptrace_call checks the ret byte and
 * the safe point's first byte in its memory.)
 *
 * Costs: two reads of /proc (maps up to 4 MiB: about 40,000 mappings),
 * one open, about a hundred preads of the file (headers, 40 KiB of
 * names, 80 KiB of symbols, a few KiB of code for the ret byte). */
#include "os/pyruntime.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/elf_symbols.h"
#include "core/maps_parse.h"
#include "core/proc_parse.h"
#include "os/files.h"

#define PF_EXITING 0x00000004   /* the kernel's task flags in stat */
#define PF_KTHREAD 0x00200000

enum { Q_SAVE_THREAD, Q_ERR_OCCURRED, Q_RAW_MALLOC, Q_RUN_SIMPLE, Q_PY_VERSION, Q_CONFIG_READ, Q_N };

static const struct { const char *name; unsigned char type; } wanted[Q_N] = {
	[Q_SAVE_THREAD]  = { "PyEval_SaveThread", STT_FUNC },
	[Q_ERR_OCCURRED] = { "PyErr_Occurred", STT_FUNC },
	[Q_RAW_MALLOC]   = { "PyMem_RawMalloc", STT_FUNC },
	[Q_RUN_SIMPLE]   = { "PyRun_SimpleString", STT_FUNC },
	[Q_PY_VERSION]   = { "Py_Version", STT_OBJECT },
	[Q_CONFIG_READ]  = { "PyConfig_Read", STT_FUNC },
};

struct resolve {
	int procfd;
	char *maps;
	size_t maps_len;
	char exe[PATH_MAX];        /* "" when unreadable */
	struct maps_runtime pick;
	int fd;                    /* the runtime's file */
	struct elf_image elf;
	struct elf_sym_query q[Q_N];
	uint64_t bias;
	char *why;
	size_t whylen;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct resolve *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->whylen) {
		va_start(ap, fmt);
		vsnprintf(c->why, c->whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static ssize_t fd_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	int fd = *(const int *)ctx;
	ssize_t n;

	if (off > (uint64_t)INT64_MAX)
		return -EINVAL;
	do
		n = pread(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* maps empty: a zombie, an exiting process, a kernel thread, or a
 * leader that has exited while its threads run. */
static int no_mappings(struct resolve *c)
{
	char buf[1024];
	struct proc_stat st;
	ssize_t n = file_read_into(c->procfd, "stat", buf, sizeof(buf));

	if (n == -ENOENT || n == -ESRCH)
		return fail(c, -ESRCH, "the process is gone");
	if (n < 0 || proc_parse_stat(buf, (size_t)n, &st) < 0)
		return fail(c, -ENOEXEC, "no memory is mapped");
	if (proc_leader_exited(&st))
		return fail(c, -ENOEXEC, "its main thread has exited: no memory to read from it");
	if (proc_stat_dead(&st))
		return fail(c, -ESRCH, "the process is gone (a zombie)");
	if (st.flags & PF_EXITING)
		return fail(c, -ESRCH, "the process is exiting");
	if (st.flags & PF_KTHREAD)
		return fail(c, -ENOEXEC, "a kernel thread");
	return fail(c, -ENOEXEC, "no memory is mapped");
}

static int read_maps(struct resolve *c)
{
	ssize_t n;
	int r = file_read(c->procfd, "maps", PYRUNTIME_MAPS_MAX, 0, &c->maps, &c->maps_len);

	if (r == -ENOENT || r == -ESRCH)
		return fail(c, -ESRCH, "the process is gone");
	if (r == -EFBIG)
		return fail(c, r, "its memory maps are over %u bytes", PYRUNTIME_MAPS_MAX);
	if (r < 0)
		return fail(c, r, "cannot read its memory maps: %s", strerror(-r));
	if (c->maps_len == 0)
		return no_mappings(c);
	n = readlinkat(c->procfd, "exe", c->exe, sizeof(c->exe));
	if (n < 0 && errno == ESRCH)
		return fail(c, -ESRCH, "the process is gone");
	c->exe[n > 0 && (size_t)n < sizeof(c->exe) ? n : 0] = '\0';
	return 0;
}

static int pick_runtime(struct resolve *c)
{
	const struct maps_runtime *p = &c->pick;
	int r = maps_pick_runtime(c->maps, c->maps_len, c->exe[0] ? c->exe : NULL, &c->pick);

	if (r < 0)
		return fail(c, -EINVAL, "a line of its memory maps does not parse");
	if (p->kind == PY_NAME_NONE)
		return fail(c, -ENOEXEC, "not CPython: no libpythonX.Y mapped, and its executable %s is no pythonX.Y",
			    c->exe[0] ? c->exe : "(unknown)");
	if (p->libraries > 1)
		return fail(c, -ENOEXEC, "two Python libraries are mapped (%s and %s): which one runs is not known",
			    p->path, p->other);
	if (p->major >= 0 && (p->major < 3 || (p->major == 3 && p->minor < 8)))
		return fail(c, -EPROTONOSUPPORT, "%s is CPython %d.%d; 3.8 or later is needed",
			    p->path, p->major, p->minor);
	if (p->deleted)
		return fail(c, -ESTALE, "%s was deleted or replaced since the process mapped it", p->path);
	return 0;
}

/* Open rel under procfd: the fd when it is the mapped file (*st its
 * stat), else -errno of the open, or -ESTALE (closed) when it is another. */
static int open_mapped(struct resolve *c, const char *rel, struct stat *st)
{
	const struct maps_runtime *p = &c->pick;
	int fd = file_open_regular(c->procfd, rel, st);

	if (fd >= 0 && (st->st_dev != makedev(p->dev_major, p->dev_minor) || st->st_ino != p->inode)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* The names under which the mapped file may be found in the process's
 * root: its path in maps, and when that begins with where the process's
 * root is (a chroot: maps shows paths as the reader sees them), the rest
 * of it.  The number of names put in rel. */
static int names_in_root(struct resolve *c, char rel[2][PATH_MAX + 8])
{
	const char *path = c->pick.path;
	char root[PATH_MAX];
	ssize_t n = readlinkat(c->procfd, "root", root, sizeof(root) - 1);
	int k = 0;

	if ((size_t)snprintf(rel[k], sizeof(rel[k]), "root%s", path) < sizeof(rel[k]))
		k++;
	if (n > 1 && (size_t)n < sizeof(root) - 1 && root[0] == '/') {
		root[n] = '\0';
		if (strncmp(path, root, (size_t)n) == 0 && path[n] == '/' &&
		    (size_t)snprintf(rel[k], sizeof(rel[k]), "root%s", path + n) < sizeof(rel[k]))
			k++;
	}
	return k;
}

/* The runtime's file as the process sees it, checked to be the mapped one
 * and root's alone. */
static int open_runtime(struct resolve *c)
{
	const struct maps_runtime *p = &c->pick;
	char rel[2][PATH_MAX + 8];
	struct stat st, first;
	int n = names_in_root(c, rel), fd = -ENAMETOOLONG, err = 0;

	for (int i = 0; i < n; i++) {
		fd = open_mapped(c, rel[i], &st);
		if (fd >= 0 || fd == -ESRCH)
			break;
		if (i == 0) {
			err = fd;
			first = st;
		}
	}
	if (fd == -ESRCH)
		return fail(c, fd, "the process is gone");
	if (fd < 0 && n > 0) {
		fd = err;
		st = first;
	}
	if (fd == -ENAMETOOLONG)
		return fail(c, fd, "the path %s is too long", p->path);
	if (fd == -ESTALE)
		return fail(c, fd, "%s is not the file the process mapped (device %u:%u inode %llu there, %u:%u %llu mapped)",
			    p->path, major(st.st_dev), minor(st.st_dev), (unsigned long long)st.st_ino,
			    p->dev_major, p->dev_minor, (unsigned long long)p->inode);
	if (fd == -ENOENT || fd == -ELOOP || fd == -EINVAL || fd == -ENOTDIR)
		return fail(c, -ESTALE, "%s in the process's root is %s, not the file it mapped",
			    p->path, fd == -ENOENT || fd == -ENOTDIR ? "missing" : file_type_name(st.st_mode));
	if (fd < 0)
		return fail(c, fd, "cannot open %s in the process's root: %s", p->path, strerror(-fd));
	c->fd = fd;
	if (st.st_uid != 0)
		return fail(c, -EPERM, "%s is owned by uid %u, not root: its symbols are not trusted",
			    p->path, (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return fail(c, -EPERM, "%s is writable by %s (mode %04o): its symbols are not trusted",
			    p->path, st.st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st.st_mode & 07777));
	c->elf.size = (uint64_t)st.st_size;
	return 0;
}

static int read_symbols(struct resolve *c)
{
	const char *path = c->pick.path;
	int r = elf_image_open(&c->elf, fd_pread, &c->fd, c->elf.size);

	if (r == -ENOEXEC || r == -EINVAL || r == -E2BIG)
		return fail(c, -ENOEXEC, "%s is not an ELF64 file this reader takes (%s)", path, strerror(-r));
	if (r < 0)
		return fail(c, r, "cannot read %s: %s", path, strerror(-r));
#if defined(__x86_64__)
	if (c->elf.machine != EM_X86_64)
		return fail(c, -ENOEXEC, "%s is not an x86-64 file (machine %u)", path, c->elf.machine);
#endif
	for (int i = 0; i < Q_N; i++)
		c->q[i] = (struct elf_sym_query){ .name = wanted[i].name, .type = wanted[i].type };
	r = elf_find_symbols(&c->elf, c->q, Q_N);
	if (r == -ENOENT || (r == 0 && !c->q[Q_SAVE_THREAD].found))
		return fail(c, -ENOEXEC, "not CPython: %s defines no PyEval_SaveThread", path);
	if (r < 0)
		return fail(c, r, "cannot read the symbols of %s: %s", path, strerror(-r));
	return 0;
}

/* Py_Version's value (PY_VERSION_HEX): 0 and *major, *minor, or -errno. */
static int py_version_constant(struct resolve *c, int *major, int *minor)
{
	const struct elf_sym_query *v = &c->q[Q_PY_VERSION];
	unsigned char b[4];
	uint64_t off;
	int r;

	if (v->size != 4 && v->size != 8)
		return -EINVAL;
	if (elf_vaddr_offset(&c->elf, v->value, 4, false, &off) < 0)
		return -EFAULT;
	r = fd_pread(&c->fd, b, sizeof(b), off) == (ssize_t)sizeof(b) ? 0 : -EIO;
	*major = b[3];   /* 0xMMmmppRS, little endian */
	*minor = b[2];
	return r;
}

static int find_version(struct resolve *c, struct pyruntime *rt)
{
	const struct maps_runtime *p = &c->pick;
	int major = p->major, minor = p->minor, vmaj, vmin, r;

	if (c->q[Q_PY_VERSION].found) {
		r = py_version_constant(c, &vmaj, &vmin);
		if (r < 0)
			return fail(c, -EFAULT, "the Py_Version of %s does not read: %s", p->path, strerror(-r));
		if (major >= 0 && (vmaj != major || vmin != minor))
			return fail(c, -EFAULT, "%s is named %d.%d but its Py_Version says %d.%d",
				    p->path, major, minor, vmaj, vmin);
		major = vmaj;
		minor = vmin;
	} else if (!c->q[Q_CONFIG_READ].found) {
		return fail(c, -EPROTONOSUPPORT, "%s defines no PyConfig_Read: a CPython older than 3.8", p->path);
	} else if (major > 3 || (major == 3 && minor >= 11)) {
		return fail(c, -EFAULT, "%s is named %d.%d but defines no Py_Version (3.11 and later do)",
			    p->path, major, minor);
	}
	if (major >= 0 && (major < 3 || (major == 3 && minor < 8)))
		return fail(c, -EPROTONOSUPPORT, "%s is CPython %d.%d; 3.8 or later is needed",
			    p->path, major, minor);
	if (major < 0)
		snprintf(rt->version, sizeof(rt->version), "3.8-3.10");
	else
		snprintf(rt->version, sizeof(rt->version), "%d.%d", major, minor);
	for (int i = Q_ERR_OCCURRED; i <= Q_RUN_SIMPLE; i++)
		if (!c->q[i].found)
			return fail(c, -ENOEXEC, "not CPython %s: %s defines no %s", rt->version, p->path,
				    c->q[i].name);
	return 0;
}

static bool same_file(const struct maps_runtime *p, const struct maps_entry *m)
{
	return m->dev_major == p->dev_major && m->dev_minor == p->dev_minor && m->inode == p->inode;
}

/* The bias from every executable mapping of the file: one and the same. */
static int find_bias(struct resolve *c)
{
	struct maps_entry m;
	size_t pos = 0;
	long page = sysconf(_SC_PAGESIZE);
	bool found = false;
	int r;

	while ((r = maps_next(c->maps, c->maps_len, &pos, &m)) > 0) {
		uint64_t b;

		if (!m.x || !same_file(&c->pick, &m))
			continue;
		if (elf_load_bias(&c->elf, m.start, m.offset, true, (uint64_t)page, &b) < 0)
			return fail(c, -EFAULT, "the mapping of %s at %#llx (offset %#llx) is in no executable segment",
				    c->pick.path, (unsigned long long)m.start, (unsigned long long)m.offset);
		if (found && b != c->bias)
			return fail(c, -EFAULT, "%s is mapped executable at two biases (%#llx, %#llx)",
				    c->pick.path, (unsigned long long)c->bias, (unsigned long long)b);
		c->bias = b;
		found = true;
	}
	if (r < 0)
		return fail(c, -EINVAL, "a line of its memory maps does not parse");
	if (!found)
		return fail(c, -EFAULT, "%s has no executable mapping in the process", c->pick.path);
	return 0;
}

/* The address of vaddr (name's) in the process, checked. */
static int place(struct resolve *c, const char *name, uint64_t vaddr, uint64_t *addr)
{
	struct maps_entry m;
	size_t pos = 0;
	uint64_t off;

	if (elf_vaddr_offset(&c->elf, vaddr, 1, true, &off) < 0)
		return fail(c, -EFAULT, "%s (%#llx) is in no executable segment of %s",
			    name, (unsigned long long)vaddr, c->pick.path);
	if (vaddr > UINT64_MAX - c->bias)
		return fail(c, -EFAULT, "%s (%#llx) is out of the address space", name, (unsigned long long)vaddr);
	*addr = vaddr + c->bias;
	while (maps_next(c->maps, c->maps_len, &pos, &m) > 0)
		if (m.x && same_file(&c->pick, &m) && m.start <= *addr && *addr < m.end &&
		    m.offset + (*addr - m.start) == off)
			return 0;
	return fail(c, -EFAULT, "%s at %#llx is in no executable mapping of %s",
		    name, (unsigned long long)*addr, c->pick.path);
}

static int place_all(struct resolve *c, struct pyruntime *rt)
{
	uint64_t *out[] = { &rt->save_thread, &rt->err_occurred, &rt->raw_malloc, &rt->run_simple_string };
	uint64_t ret;
	int r;

	for (int i = Q_SAVE_THREAD; i <= Q_RUN_SIMPLE; i++) {
		r = place(c, c->q[i].name, c->q[i].value, out[i - Q_SAVE_THREAD]);
		if (r < 0)
			return r;
	}
	r = elf_find_ret(&c->elf, &ret);
	if (r == -ENOENT)
		return fail(c, -ENOEXEC, "no ret byte in the first %u bytes of code of %s",
			    ELF_RET_SCAN_MAX, c->pick.path);
	if (r < 0)
		return fail(c, r, "cannot read %s: %s", c->pick.path, strerror(-r));
	return place(c, "the ret byte", ret, &rt->ret_byte);
}

int pyruntime_resolve(int procfd, struct pyruntime *rt, char *why, size_t whylen)
{
	struct resolve *c = calloc(1, sizeof(*c));
	int r;

	memset(rt, 0, sizeof(*rt));
	if (whylen)
		why[0] = '\0';
	if (!c) {
		if (whylen)
			snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	c->procfd = procfd;
	c->fd = -1;
	c->why = why;
	c->whylen = whylen;
	r = read_maps(c);
	if (r == 0)
		r = pick_runtime(c);
	if (r == 0)
		r = open_runtime(c);
	if (r == 0)
		r = read_symbols(c);
	if (r == 0)
		r = find_version(c, rt);
	if (r == 0)
		r = find_bias(c);
	if (r == 0)
		r = place_all(c, rt);
	if (r == 0)
		snprintf(rt->path, sizeof(rt->path), "%s", c->pick.path);
	else
		memset(rt, 0, sizeof(*rt));
	if (c->fd >= 0)
		close(c->fd);
	free(c->maps);
	free(c);
	return r;
}
