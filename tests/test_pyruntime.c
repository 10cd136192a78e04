/* os/pyruntime: pyruntime_resolve, first on fake /proc/PID directories
 * (a maps file written here, an exe symlink, a root symlink to "/"), so
 * each refusal can be asked for: the mapped file replaced, moved, cut,
 * not root's, writable, a FIFO, a symlink, misnamed; then on live
 * processes: /usr/bin/python3 and every pyenv CPython (3.8 to 3.13
 * resolved, 2.7, 3.6 and 3.7 refused), /bin/sleep, a copy of python in a
 * world-writable directory, one replaced while it runs, one gone.  The
 * addresses of a live process are checked against what the process
 * itself says (ctypes: dlsym in the process) and against its memory:
 * /proc/PID/mem at each function holds the file's bytes there, and a
 * 0xC3 at ret_byte.  Needs root (copies owned by root and by nobody,
 * /proc/PID/mem); skipped otherwise. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/elf_symbols.h"
#include "os/pyruntime.h"

#define PAGE 4096ull
static char tmp[64];          /* the test's directory */

static const char *const fnames[4] = { "PyEval_SaveThread", "PyErr_Occurred", "PyMem_RawMalloc",
				       "PyRun_SimpleString" };

static ssize_t fd_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(*(int *)ctx, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

/* The four functions' vaddrs and file offsets in path: 0 or -1. */
static int file_symbols(const char *path, uint64_t v[4], uint64_t off[4], struct elf_image *e, int *fdp)
{
	struct elf_sym_query q[4];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || elf_image_open(e, fd_read, &fd, (uint64_t)st.st_size) < 0)
		goto fail;
	for (int k = 0; k < 4; k++)
		q[k] = (struct elf_sym_query){ .name = fnames[k], .type = STT_FUNC };
	if (elf_find_symbols(e, q, 4) < 0)
		goto fail;
	for (int k = 0; k < 4; k++)
		if (!q[k].found || elf_vaddr_offset(e, q[k].value, 1, true, &off[k]) < 0)
			goto fail;
		else
			v[k] = q[k].value;
	if (fdp) {
		*fdp = fd;
		e->ctx = fdp;
	} else {
		close(fd);
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Flags of the maps written for a fake process. */
#define F_DELETED    0x01   /* " (deleted)" after the path */
#define F_INODE      0x02   /* the inode off by one */
#define F_NO_EXEC    0x04   /* the code mapped r--p */
#define F_TEXT_SHORT 0x08   /* only the code's first page mapped */
#define F_SHIFT      0x10   /* the code mapped a page higher than it should */
#define F_TWO_BIASES 0x20   /* a second r-xp mapping elsewhere */
#define F_LIBC       0x40   /* libc mapped too */
#define F_JUNK       0x80   /* a line that does not parse */
#define F_EMPTY      0x100  /* no maps at all */

static int line(char *o, size_t cap, uint64_t s, uint64_t e, const char *perm, uint64_t off,
		const struct stat *st, unsigned flags, const char *path)
{
	return snprintf(o, cap, "%llx-%llx %sp %08llx %02x:%02x %llu                %s%s\n",
			(unsigned long long)s, (unsigned long long)e, perm, (unsigned long long)off,
			major(st->st_dev), minor(st->st_dev),
			(unsigned long long)st->st_ino + (flags & F_INODE ? 1 : 0), path,
			flags & F_DELETED ? " (deleted)" : "");
}

/* maps as the kernel would show path loaded at bias, changed as flags say. */
static size_t fake_maps(char *o, size_t cap, const char *path, uint64_t bias, unsigned flags)
{
	struct elf_image e;
	struct stat st;
	uint64_t v[4], off[4];
	size_t n = 0;

	if (flags & F_EMPTY)
		return 0;
	if (lstat(path, &st) < 0)
		memset(&st, 0, sizeof(st)), st.st_ino = 12345, st.st_dev = makedev(8, 1);
	if (flags & F_LIBC)
		n += (size_t)snprintf(o + n, cap - n, "7f7000000000-7f7000100000 r-xp 00028000 08:01 200 /usr/lib/x86_64-linux-gnu/libc.so.6\n");
	if (file_symbols(path, v, off, &e, NULL) < 0) {
		n += (size_t)line(o + n, cap - n, 0x7f0000000000, 0x7f0000100000, "r-x", 0, &st, flags, path);
		return n;
	}
	for (size_t i = 0; i < e.nloads; i++) {
		const struct elf_load *l = &e.loads[i];
		uint64_t s = (l->vaddr & ~(PAGE - 1)) + bias, end = ((l->vaddr + l->memsz + PAGE - 1) & ~(PAGE - 1)) + bias;
		char perm[4] = { 'r', l->write ? 'w' : '-', l->exec && !(flags & F_NO_EXEC) ? 'x' : '-', 0 };

		if (l->exec && (flags & F_TEXT_SHORT))
			end = s + PAGE;
		if (l->exec && (flags & F_SHIFT))
			s += PAGE, end += PAGE;
		n += (size_t)line(o + n, cap - n, s, end, perm, l->offset & ~(PAGE - 1), &st, flags, path);
		if (l->exec && (flags & F_TWO_BIASES))
			n += (size_t)line(o + n, cap - n, s + 0x10000000, end + 0x10000000, "r-x",
					  l->offset & ~(PAGE - 1), &st, flags, path);
	}
	if (flags & F_JUNK)
		n += (size_t)snprintf(o + n, cap - n, "this is no maps line\n");
	return n;
}

/* A fake /proc/PID: dir with maps, exe -> exe, root -> "/", stat. */
static int fake_proc(const char *dir, const char *maps, size_t len, const char *exe, char state)
{
	char p[PATH_MAX + 16];
	FILE *f;

	mkdir(dir, 0755);
	snprintf(p, sizeof(p), "%s/maps", dir);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fwrite(maps, 1, len, f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/stat", dir);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fprintf(f, "4242 (python3) %c 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 100 1000 10 "
		   "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n", state);
	fclose(f);
	snprintf(p, sizeof(p), "%s/exe", dir);
	unlink(p);
	if (symlink(exe, p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/root", dir);
	unlink(p);
	if (symlink("/", p) < 0)
		return -1;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int copy(const char *src, const char *dst, mode_t mode, uid_t uid)
{
	char cmd[3 * PATH_MAX + 32];
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", dst);
	*strrchr(dir, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp '%s' '%s'", dir, src, dst);
	if (system(cmd) != 0 || chown(dst, uid, 0) < 0 || chmod(dst, mode) < 0)
		return -1;
	return 0;
}

#define DEB "/usr/bin/python3.11"
#define LIB311 "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"

struct fake_case {
	const char *what;
	const char *file;    /* "@x" is tmp/x */
	const char *exe;     /* NULL: file */
	uint64_t bias;
	unsigned flags;
	int err;
	const char *why;     /* a part of the reason */
	const char *version;
};

static const struct fake_case fakes[] = {
	{ "Debian's python3.11", DEB, NULL, 0, F_LIBC, 0, NULL, "3.11" },
	{ "inode differs", DEB, NULL, 0, F_INODE, -ESTALE, "not the file the process mapped", NULL },
	{ "deleted", DEB, NULL, 0, F_DELETED, -ESTALE, "deleted or replaced", NULL },
	{ "ET_EXEC moved", DEB, NULL, 0, F_SHIFT, -EFAULT, "in no executable segment", NULL },
	{ "code cut short", DEB, NULL, 0, F_TEXT_SHORT, -EFAULT, "in no executable mapping", NULL },
	{ "no code mapped", DEB, NULL, 0, F_NO_EXEC, -EFAULT, "no executable mapping", NULL },
	{ "a line that does not parse", DEB, NULL, 0, F_JUNK, -EINVAL, "does not parse", NULL },
	{ "nothing mapped, a zombie", DEB, NULL, 0, F_EMPTY, -ESRCH, "gone", NULL },
	{ "not python", "/usr/bin/sleep", NULL, 0, F_LIBC, -ENOEXEC, "not CPython", NULL },
	{ "a python3.11 mapped, the exe another", DEB, "/usr/bin/gdb", 0, 0, -ENOEXEC, "not CPython", NULL },
	{ "libpython2.7 (never opened)", "/nonexistent/libpython2.7.so.1.0", "/usr/bin/python2.7", 0, 0,
	  -EPROTONOSUPPORT, "CPython 2.7; 3.8 or later", NULL },
	{ "libpython3.7m (never opened)", "/nonexistent/libpython3.7m.so.1.0", "/x", 0, 0,
	  -EPROTONOSUPPORT, "CPython 3.7", NULL },
	{ "pyenv's libpython3.11", LIB311, "/root/.pyenv/versions/3.11.7/bin/python3.11", 0x7f1000000000, F_LIBC,
	  0, NULL, "3.11" },
	{ "libpython at two biases", LIB311, "/x", 0x7f1000000000, F_TWO_BIASES, -EFAULT, "two biases", NULL },
	{ "libpython at an unaligned bias", LIB311, "/x", 0x7f1000000800, 0, -EFAULT, "in no executable segment", NULL },
	{ "a copy, 0755 root, in a 0777 directory", "@python3.11", NULL, 0, 0, 0, NULL, "3.11" },
	{ "a copy owned by nobody", "@nobody/python3.11", NULL, 0, 0, -EPERM, "owned by uid 65534", NULL },
	{ "a copy its group may write", "@gw/python3.11", NULL, 0, 0, -EPERM, "writable by its group", NULL },
	{ "a copy others may write", "@ow/python3.11", NULL, 0, 0, -EPERM, "writable by others", NULL },
	{ "named python3: Py_Version", "@v/python3", NULL, 0, 0, 0, NULL, "3.11" },
	{ "named python3.12, Py_Version 3.11", "@v/python3.12", NULL, 0, 0, -EFAULT, "Py_Version says 3.11", NULL },
	{ "libpython3.9 named python3", "@l39/python3", NULL, 0x7f2000000000, 0, 0, NULL, "3.8-3.10" },
	{ "libpython3.7m named python3", "@l37/python3", NULL, 0x7f2000000000, 0, -EPROTONOSUPPORT,
	  "a CPython older than 3.8", NULL },
	{ "libpython3.9 named libpython3.11", "@l3n/libpython3.11.so", "/x", 0x7f2000000000, 0, -EFAULT,
	  "defines no Py_Version", NULL },
	{ "libpython3.7m named libpython3.9", "@l3o/libpython3.9.so", "/x", 0x7f2000000000, 0, -EPROTONOSUPPORT,
	  "no PyConfig_Read", NULL },
	{ "text named libpython", "@txt/libpython3.11.so", "/x", 0, 0, -ENOEXEC, "not an ELF64", NULL },
	{ "/bin/true named libpython", "@true/libpython3.11.so", "/x", 0x7f3000000000, 0, -ENOEXEC,
	  "defines no PyEval_SaveThread", NULL },
	{ "a FIFO named libpython", "@fifo/libpython3.11.so", "/x", 0, 0, -ESTALE, "is a FIFO", NULL },
	{ "a symlink named libpython", "@link/libpython3.11.so", "/x", 0, 0, -ESTALE, "is a symbolic link", NULL },
	{ "missing", "@missing/libpython3.11.so", "/x", 0, 0, -ESTALE, "is missing", NULL },
};

static void setup_copies(void)
{
	char p[PATH_MAX];
	FILE *f;

	chmod(tmp, 0777);
#define AT(x) (snprintf(p, sizeof(p), "%s/%s", tmp, x), p)
	CHECK(copy(DEB, AT("python3.11"), 0755, 0) == 0);
	CHECK(copy(DEB, AT("nobody/python3.11"), 0755, 65534) == 0);
	CHECK(copy(DEB, AT("gw/python3.11"), 0775, 0) == 0);
	CHECK(copy(DEB, AT("ow/python3.11"), 0757, 0) == 0);
	CHECK(copy(DEB, AT("v/python3"), 0755, 0) == 0);
	CHECK(copy(DEB, AT("v/python3.12"), 0755, 0) == 0);
	copy("/root/.pyenv/versions/3.9.18/lib/libpython3.9.so.1.0", AT("l39/python3"), 0755, 0);
	copy("/root/.pyenv/versions/3.7.16/lib/libpython3.7m.so.1.0", AT("l37/python3"), 0755, 0);
	copy("/root/.pyenv/versions/3.9.18/lib/libpython3.9.so.1.0", AT("l3n/libpython3.11.so"), 0755, 0);
	copy("/root/.pyenv/versions/3.7.16/lib/libpython3.7m.so.1.0", AT("l3o/libpython3.9.so"), 0755, 0);
	CHECK(copy("/bin/true", AT("true/libpython3.11.so"), 0755, 0) == 0);
	mkdir(AT("txt"), 0755);
	f = fopen(AT("txt/libpython3.11.so"), "w");
	if (f) {
		fputs("#!/bin/sh\necho not an ELF file\n", f);
		fclose(f);
	}
	mkdir(AT("fifo"), 0755);
	CHECK(mkfifo(AT("fifo/libpython3.11.so"), 0644) == 0);
	mkdir(AT("link"), 0755);
	CHECK(symlink(DEB, AT("link/libpython3.11.so")) == 0);
#undef AT
}

static void check_addresses(const char *what, const char *path, uint64_t bias, const struct pyruntime *rt)
{
	struct elf_image e;
	uint64_t v[4], off[4];
	const uint64_t got[4] = { rt->save_thread, rt->err_occurred, rt->raw_malloc, rt->run_simple_string };

	if (file_symbols(path, v, off, &e, NULL) < 0) {
		CHECK_MSG(0, "%s: %s does not read", what, path);
		return;
	}
	for (int k = 0; k < 4; k++)
		CHECK_MSG(got[k] == v[k] + bias, "%s: %s %#llx, not %#llx", what, fnames[k],
			  (unsigned long long)got[k], (unsigned long long)(v[k] + bias));
	CHECK_MSG(rt->ret_byte > bias && elf_vaddr_offset(&e, rt->ret_byte - bias, 1, true, &off[0]) == 0,
		  "%s: ret_byte %#llx", what, (unsigned long long)rt->ret_byte);
}

static void test_fakes(void)
{
	static char maps[64 * 1024];

	setup_copies();
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		const struct fake_case *c = &fakes[i];
		char file[PATH_MAX], dir[PATH_MAX], why[256] = "";
		static struct pyruntime rt;
		size_t n;
		int fd, r;

		snprintf(file, sizeof(file), c->file[0] == '@' ? "%s/%s" : "%.0s%s", tmp, c->file + (c->file[0] == '@'));
		if (strstr(file, "/l3") && access(file, F_OK) < 0) {
			printf("skip %s: no pyenv\n", c->what);
			continue;
		}
		if (strncmp(file, "/root/.pyenv", 12) == 0 && access(file, F_OK) < 0) {
			printf("skip %s: no %s\n", c->what, file);
			continue;
		}
		n = fake_maps(maps, sizeof(maps), file, c->bias, c->flags);
		snprintf(dir, sizeof(dir), "%s/proc%zu", tmp, i);
		fd = fake_proc(dir, maps, n, c->exe ? c->exe : file, c->flags & F_EMPTY ? 'Z' : 'S');
		CHECK_MSG(fd >= 0, "%s: fake proc", c->what);
		if (fd < 0)
			continue;
		r = pyruntime_resolve(fd, &rt, why, sizeof(why));
		close(fd);
		printf("%-40s %4d %s\n", c->what, r, r ? why : rt.version);
		CHECK_MSG(r == c->err, "%s: %d (%s), not %d", c->what, r, why, c->err);
		if (c->why)
			CHECK_MSG(strstr(why, c->why) != NULL, "%s: \"%s\" lacks \"%s\"", c->what, why, c->why);
		if (r == 0 && c->err == 0) {
			CHECK_STR(rt.version, c->version);
			CHECK_STR(rt.path, file);
			check_addresses(c->what, file, c->bias, &rt);
		}
		if (r != 0)
			CHECK_MSG(rt.save_thread == 0 && rt.path[0] == '\0', "%s: rt not cleared", c->what);
	}
}

/* A child running argv with its stdout into a pipe; its first line (the
 * code's addresses) into first, within 10 s (wait_exe: instead, until its
 * exe is that). */
static pid_t spawn_in(const char *root, char *const argv[], char *first, size_t len, const char *wait_exe)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		if (root && (chroot(root) < 0 || chdir("/") < 0))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	first[0] = '\0';
	if (wait_exe) {
		char link[64], target[PATH_MAX];

		snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
		for (int i = 0; i < 1000; i++) {
			ssize_t n = readlink(link, target, sizeof(target) - 1);

			if (n > 0 && (size_t)n == strlen(wait_exe) && memcmp(target, wait_exe, (size_t)n) == 0)
				break;
			usleep(10000);
		}
		usleep(100000);   /* its libraries mapped */
	} else {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		ssize_t n = 0;

		if (poll(&pf, 1, 10000) == 1)
			n = read(p[0], first, len - 1);
		first[n > 0 ? n : 0] = '\0';
	}
	close(p[0]);
	return pid;
}

static pid_t spawn(char *const argv[], char *first, size_t len, const char *wait_exe)
{
	return spawn_in(NULL, argv, first, len, wait_exe);
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#define CODE "import sys, time\n" \
	"try:\n" \
	"    import ctypes\n" \
	"    a = [ctypes.cast(getattr(ctypes.pythonapi, n), ctypes.c_void_p).value for n in\n" \
	"         ('PyEval_SaveThread', 'PyErr_Occurred', 'PyMem_RawMalloc', 'PyRun_SimpleString')]\n" \
	"    sys.stdout.write(' '.join('%x' % x for x in a) + '\\n')\n" \
	"except Exception:\n" \
	"    sys.stdout.write('-\\n')\n" \
	"sys.stdout.flush()\n" \
	"time.sleep(30)\n"

/* The process's memory at each function holds the file's bytes there
 * (the file: file, or rt's path under /proc/PID/root), and ret_byte a
 * 0xC3. */
static void check_memory_of(const char *what, pid_t pid, const struct pyruntime *rt, const char *file)
{
	const uint64_t got[4] = { rt->save_thread, rt->err_occurred, rt->raw_malloc, rt->run_simple_string };
	char path[PATH_MAX + 32];
	struct elf_image e;
	uint64_t v[4], off[4];
	unsigned char a[16], b[16], ret = 0;
	int mem, fd = -1;

	if (file)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, rt->path);
	if (file_symbols(path, v, off, &e, &fd) < 0) {
		CHECK_MSG(0, "%s: %s", what, path);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	CHECK_MSG(mem >= 0, "%s: %s", what, path);
	for (int k = 0; mem >= 0 && k < 4; k++) {
		CHECK_MSG(pread(mem, a, sizeof(a), (off_t)got[k]) == (ssize_t)sizeof(a) &&
			  pread(fd, b, sizeof(b), (off_t)off[k]) == (ssize_t)sizeof(b) && memcmp(a, b, sizeof(a)) == 0,
			  "%s: the bytes at %s (%#llx) are not the file's", what, fnames[k], (unsigned long long)got[k]);
	}
	CHECK_MSG(mem >= 0 && pread(mem, &ret, 1, (off_t)rt->ret_byte) == 1 && ret == 0xC3,
		  "%s: %#x at ret_byte %#llx", what, ret, (unsigned long long)rt->ret_byte);
	if (mem >= 0)
		close(mem);
	close(fd);
}

static void check_memory(const char *what, pid_t pid, const struct pyruntime *rt)
{
	check_memory_of(what, pid, rt, NULL);
}

/* Resolve the process pid; the time it took in *ms. */
static int resolve_pid(pid_t pid, struct pyruntime *rt, char *why, size_t len, double *ms)
{
	char dir[64];
	struct timespec t0, t1;
	int fd, r;

	snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = pyruntime_resolve(fd, rt, why, len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	close(fd);
	return r;
}

/* One live python: resolved (0) with the version want, or refused err. */
static void live_python(const char *exe, int err, const char *want)
{
	char *argv[] = { (char *)exe, "-c", CODE, NULL };
	char first[512], why[256] = "";
	static struct pyruntime rt;
	unsigned long long a[4];
	double ms = 0;
	pid_t pid = spawn(argv, first, sizeof(first), NULL);
	int r;

	if (pid < 0) {
		CHECK_MSG(0, "%s: spawn", exe);
		return;
	}
	r = resolve_pid(pid, &rt, why, sizeof(why), &ms);
	printf("%-45s %4d %-8s %.2f ms %s\n", exe, r, r ? "" : rt.version, ms, r ? why : rt.path);
	CHECK_MSG(r == err, "%s: %d (%s), not %d", exe, r, why, err);
	if (r == 0 && err == 0) {
		CHECK_STR(rt.version, want);
		CHECK_MSG(sscanf(first, "%llx %llx %llx %llx", &a[0], &a[1], &a[2], &a[3]) == 4,
			  "%s: its ctypes said \"%s\"", exe, first);
		CHECK_MSG(a[0] == rt.save_thread && a[1] == rt.err_occurred && a[2] == rt.raw_malloc &&
			  a[3] == rt.run_simple_string, "%s: ctypes says %s", exe, first);
		check_memory(exe, pid, &rt);
	} else if (want) {
		CHECK_MSG(strstr(why, want) != NULL, "%s: \"%s\" lacks \"%s\"", exe, why, want);
	}
	stop(pid);
}

static void test_live_pythons(void)
{
	glob_t g;

	live_python("/usr/bin/python3", 0, "3.11");
	if (glob("/root/.pyenv/versions/[23].*/bin/python", 0, NULL, &g) != 0) {
		printf("skip pyenv: none found\n");
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *v = g.gl_pathv[i] + strlen("/root/.pyenv/versions/");
		int major = 0, minor = 0;
		char ver[16];

		if (sscanf(v, "%d.%d", &major, &minor) != 2)
			continue;
		snprintf(ver, sizeof(ver), "%d.%d", major, minor);
		if (major == 3 && minor >= 8)
			live_python(g.gl_pathv[i], 0, ver);
		else
			live_python(g.gl_pathv[i], -EPROTONOSUPPORT, ver);
	}
	globfree(&g);
}

static void test_live_sleep(void)
{
	char *argv[] = { "/bin/sleep", "30", NULL };
	char first[16], why[256] = "";
	static struct pyruntime rt;
	double ms;
	pid_t pid = spawn(argv, first, sizeof(first), "/usr/bin/sleep");
	int r = resolve_pid(pid, &rt, why, sizeof(why), &ms);

	printf("/bin/sleep: %d %s\n", r, why);
	CHECK_MSG(r == -ENOEXEC && strstr(why, "/usr/bin/sleep"), "%d %s", r, why);
	stop(pid);
}

/* Copies of python3.11 run from the test's 0777 directory: a group-writable
 * one refused, a sound one resolved, one replaced while it runs stale. */
static void test_live_copies(void)
{
	char p[PATH_MAX], q[PATH_MAX], first[512], why[256];
	static struct pyruntime rt;
	char *argv[] = { p, "-c", CODE, NULL };
	double ms;
	pid_t pid;
	int r;

	snprintf(p, sizeof(p), "%s/live/gw/python3.11", tmp);
	CHECK(copy(DEB, p, 0775, 0) == 0);
	pid = spawn(argv, first, sizeof(first), NULL);
	r = resolve_pid(pid, &rt, why, sizeof(why), &ms);
	printf("group-writable copy: %d %s\n", r, why);
	CHECK_MSG(r == -EPERM && strstr(why, "writable by its group"), "%d %s", r, why);
	stop(pid);

	snprintf(p, sizeof(p), "%s/live/ok/python3.11", tmp);
	CHECK(copy(DEB, p, 0755, 0) == 0);
	pid = spawn(argv, first, sizeof(first), NULL);
	r = resolve_pid(pid, &rt, why, sizeof(why), &ms);
	CHECK_MSG(r == 0, "%d %s", r, why);
	if (r == 0)
		check_memory("a sound copy", pid, &rt);
	/* replaced by a new copy renamed over it */
	snprintf(q, sizeof(q), "%s/live/ok/python3.11.new", tmp);
	CHECK(copy(DEB, q, 0755, 0) == 0 && rename(q, p) == 0);
	r = resolve_pid(pid, &rt, why, sizeof(why), &ms);
	printf("replaced copy: %d %s\n", r, why);
	CHECK_MSG(r == -ESTALE, "%d %s", r, why);
	stop(pid);
}

/* Resolved as in live_python, the addresses those ctypes printed. */
static void check_chrooted(const char *what, pid_t pid, const char *first)
{
	static struct pyruntime rt;
	char why[256] = "";
	unsigned long long a[4] = { 0 };
	double ms;
	int r = resolve_pid(pid, &rt, why, sizeof(why), &ms);

	printf("%s: %d %s\n", what, r, r ? why : rt.path);
	CHECK_MSG(r == 0, "%s: %d %s", what, r, why);
	CHECK_MSG(sscanf(first, "%llx %llx %llx %llx", &a[0], &a[1], &a[2], &a[3]) == 4 &&
		  a[0] == rt.save_thread && a[3] == rt.run_simple_string, "%s: ctypes says %s", what, first);
	if (r == 0) {
		char exe[64];

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
		check_memory_of(what, pid, &rt, exe);
	}
}

/* A python chrooted into a bind mount of "/" (tmp/cr), in a mount
 * namespace of its own: resolved from within that namespace (maps names
 * the file /tmp/.../cr/usr/bin/python3.11, the process's root is
 * tmp/cr) and from the test's (the same names: the bind mount is not
 * in its tree). */
static void test_live_chroot(void)
{
	char cr[PATH_MAX], first[512];
	char *argv[] = { "/usr/bin/python3", "-c", CODE, NULL };
	int up[2], down[2], status = 0;
	pid_t ns, py = 0;

	snprintf(cr, sizeof(cr), "%s/cr", tmp);
	mkdir(cr, 0755);
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0)
		return;
	ns = fork();
	if (ns == 0) {
		char c;

		close(up[0]);
		close(down[1]);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("/", cr, NULL, MS_BIND, NULL) < 0)
			_exit(77);
		py = spawn_in(cr, argv, first, sizeof(first), NULL);
		check_chrooted("chrooted, resolved in its namespace", py, first);
		if (write(up[1], &py, sizeof(py)) != sizeof(py) || write(up[1], first, sizeof(first)) != sizeof(first))
			check_failed++;
		while (read(down[0], &c, 1) > 0)
			;
		stop(py);
		_exit(check_failed ? 1 : 0);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &py, sizeof(py)) == sizeof(py) && read(up[0], first, sizeof(first)) == sizeof(first))
		check_chrooted("chrooted, resolved from another namespace", py, first);
	close(down[1]);
	close(up[0]);
	waitpid(ns, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("skip chroot: no mount namespace\n");
		return;
	}
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the namespace's side failed (%#x)", status);
}

/* A zombie, then a reaped process, through a directory fd kept open. */
static void test_live_gone(void)
{
	char *argv[] = { "/usr/bin/python3", "-c", CODE, NULL };
	char first[512], why[256], dir[64], stat[512];
	static struct pyruntime rt;
	pid_t pid = spawn(argv, first, sizeof(first), NULL);
	int fd, r;

	snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	kill(pid, SIGKILL);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(strcat(strcpy(stat, dir), "/stat"), "r");
		char *s = f ? fgets(stat, sizeof(stat), f) : NULL;

		if (f)
			fclose(f);
		if (s && strstr(s, ") Z "))
			break;
		usleep(10000);
	}
	r = pyruntime_resolve(fd, &rt, why, sizeof(why));
	printf("zombie: %d %s\n", r, why);
	CHECK_MSG(r == -ESRCH, "zombie: %d %s", r, why);
	waitpid(pid, NULL, 0);
	r = pyruntime_resolve(fd, &rt, why, sizeof(why));
	printf("reaped: %d %s\n", r, why);
	CHECK_MSG(r == -ESRCH, "reaped: %d %s", r, why);
	close(fd);
}

int main(void)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("test_pyruntime: skipped (needs root)\n");
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/lw-pyruntime-XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_fakes);
	RUN(test_live_pythons);
	RUN(test_live_sleep);
	RUN(test_live_copies);
	RUN(test_live_chroot);
	RUN(test_live_gone);
	r = check_done("test_pyruntime");
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp);
	}
	return r;
}
