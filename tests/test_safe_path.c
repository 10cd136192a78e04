/* The safe open and the walk (os/files.c, os/safe_path.c): who could have
 * written a file, told from a real tree under /tmp, one case a row: the
 * directories and symlinks on its way, their owners and modes, and the
 * file's.  Other owners than ourselves need chown(2): as root every row
 * runs; otherwise the rows that chown are skipped, and said to be.  Then
 * file_open_regular on what is no regular file (a FIFO must not block),
 * file_check_mine, and the temporary names of atomic_file_open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "os/files.h"
#include "os/safe_path.h"

#define U1 65534          /* nobody */
#define U2 65533

/* One entry of a tree: a directory (target NULL, not a link), a file
 * (text), a symlink (link), a FIFO; owner -1 for ours. */
struct node {
	const char *path;     /* under the case's root */
	enum { DIR_, FILE_, LINK_, FIFO_ } kind;
	mode_t mode;
	int owner;
	const char *link;     /* LINK_: its target ("@" for the case's root) */
};

struct walk_case {
	const char *name;
	struct node nodes[6];
	const char *open;     /* the path opened, under the root */
	int want_r;           /* 0: an fd */
	enum path_trust trust;
	int uid;              /* PATH_ONE_USER: the user; -1 ourselves */
	enum path_why why;
	const char *where;    /* the end of w.where, or NULL */
};

static const struct walk_case walk_cases[] = {
	{ "plain", { { "d", DIR_, 0755, -1, NULL }, { "d/a.pid", FILE_, 0644, -1, NULL } },
	  "d/a.pid", 0, PATH_ROOT, 0, WHY_NONE, NULL },
	{ "dir owned by a user", { { "d", DIR_, 0755, U1, NULL }, { "d/a.pid", FILE_, 0644, -1, NULL } },
	  "d/a.pid", 0, PATH_ONE_USER, U1, WHY_DIR_OWNER, "/d" },
	{ "file owned by a user", { { "d", DIR_, 0755, -1, NULL }, { "d/a.pid", FILE_, 0644, U1, NULL } },
	  "d/a.pid", 0, PATH_ONE_USER, U1, WHY_FILE_OWNER, "/d/a.pid" },
	{ "dir and file of one user", { { "d", DIR_, 0755, U1, NULL }, { "d/a.pid", FILE_, 0644, U1, NULL } },
	  "d/a.pid", 0, PATH_ONE_USER, U1, WHY_DIR_OWNER, "/d" },
	{ "dir of one, file of another", { { "d", DIR_, 0755, U1, NULL }, { "d/a.pid", FILE_, 0644, U2, NULL } },
	  "d/a.pid", 0, PATH_MANY, 0, WHY_FILE_OWNER, "/d/a.pid" },
	{ "group-writable dir", { { "d", DIR_, 0775, -1, NULL }, { "d/a.pid", FILE_, 0644, -1, NULL } },
	  "d/a.pid", 0, PATH_MANY, 0, WHY_DIR_GROUP, "/d" },
	{ "world-writable dir", { { "d", DIR_, 0777, -1, NULL }, { "d/a.pid", FILE_, 0644, -1, NULL } },
	  "d/a.pid", 0, PATH_MANY, 0, WHY_DIR_OTHERS, "/d" },
	{ "sticky world-writable dir", { { "d", DIR_, 01777, -1, NULL }, { "d/a.pid", FILE_, 0644, -1, NULL } },
	  "d/a.pid", 0, PATH_ROOT, 0, WHY_NONE, NULL },
	{ "a user's file in a sticky dir", { { "d", DIR_, 01777, -1, NULL }, { "d/a.pid", FILE_, 0644, U1, NULL } },
	  "d/a.pid", 0, PATH_ONE_USER, U1, WHY_FILE_OWNER, "/d/a.pid" },
	{ "group-writable file", { { "d", DIR_, 0755, -1, NULL }, { "d/a.pid", FILE_, 0664, -1, NULL } },
	  "d/a.pid", 0, PATH_MANY, 0, WHY_FILE_GROUP, "/d/a.pid" },
	{ "world-writable file", { { "d", DIR_, 0755, -1, NULL }, { "d/a.pid", FILE_, 0646, -1, NULL } },
	  "d/a.pid", 0, PATH_MANY, 0, WHY_FILE_OTHERS, "/d/a.pid" },
	/* Debian's /var/run -> /run: a symlink among the directories */
	{ "our symlinked dir", { { "run", DIR_, 0755, -1, NULL }, { "run/a.pid", FILE_, 0644, -1, NULL },
				 { "var", DIR_, 0755, -1, NULL }, { "var/run", LINK_, 0, -1, "../run" } },
	  "var/run/a.pid", 0, PATH_ROOT, 0, WHY_NONE, NULL },
	{ "absolute symlinked dir", { { "run", DIR_, 0755, -1, NULL }, { "run/a.pid", FILE_, 0644, -1, NULL },
				      { "vrun", LINK_, 0, -1, "@/run" } },
	  "vrun/a.pid", 0, PATH_ROOT, 0, WHY_NONE, NULL },
	{ "a user's symlinked dir", { { "run", DIR_, 0755, -1, NULL }, { "run/a.pid", FILE_, 0644, -1, NULL },
				      { "vrun", LINK_, 0, U1, "run" } },
	  "vrun/a.pid", 0, PATH_ONE_USER, U1, WHY_LINK_OWNER, "/vrun" },
	{ "through a user's dir and back", { { "d", DIR_, 0755, U1, NULL }, { "e", DIR_, 0755, -1, NULL },
					     { "e/a.pid", FILE_, 0644, -1, NULL } },
	  "d/../e/a.pid", 0, PATH_ONE_USER, U1, WHY_DIR_OWNER, "/d" },
	{ "dot and slashes", { { "d", DIR_, 0755, -1, NULL }, { "d/a.pid", FILE_, 0644, -1, NULL } },
	  "./d//./a.pid", 0, PATH_ROOT, 0, WHY_NONE, NULL },
	/* refused for what the last component is */
	{ "a symlink as the file", { { "d", DIR_, 0755, -1, NULL }, { "d/t", FILE_, 0644, -1, NULL },
				     { "d/a.pid", LINK_, 0, -1, "t" } },
	  "d/a.pid", -ELOOP, PATH_ROOT, 0, WHY_NONE, NULL },
	{ "a FIFO as the file", { { "d", DIR_, 0755, -1, NULL }, { "d/a.pid", FIFO_, 0644, -1, NULL } },
	  "d/a.pid", -EINVAL, PATH_ROOT, 0, WHY_NONE, NULL },
	{ "a directory as the file", { { "d", DIR_, 0755, -1, NULL }, { "d/a.pid", DIR_, 0755, -1, NULL } },
	  "d/a.pid", -EINVAL, PATH_ROOT, 0, WHY_NONE, NULL },
	{ "a file on the way", { { "d", FILE_, 0644, -1, NULL } }, "d/a.pid", -ENOTDIR, PATH_ROOT, 0, WHY_NONE,
	  NULL },
	{ "missing", { { "d", DIR_, 0755, -1, NULL } }, "d/a.pid", -ENOENT, PATH_ROOT, 0, WHY_NONE, NULL },
	{ "a symlink loop", { { "d", DIR_, 0755, -1, NULL }, { "d/l", LINK_, 0, -1, "l" } },
	  "d/l/a.pid", -ELOOP, PATH_ROOT, 0, WHY_NONE, NULL },
	{ "ends at a directory", { { "d", DIR_, 0755, -1, NULL } }, "d/..", -EISDIR, PATH_ROOT, 0, WHY_NONE, NULL },
};

static bool chowns(const struct walk_case *c)
{
	for (size_t i = 0; i < sizeof(c->nodes) / sizeof(c->nodes[0]) && c->nodes[i].path; i++)
		if (c->nodes[i].owner >= 0)
			return true;
	return false;
}

static bool make_node(const char *root, const struct node *n)
{
	char path[600], target[600];
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", root, n->path);
	switch (n->kind) {
	case DIR_:
		r = mkdir(path, n->mode);
		break;
	case FILE_: {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, n->mode);

		r = fd < 0 ? -1 : (int)write(fd, "4242\n", 5) - 5;
		if (fd >= 0)
			close(fd);
		break;
	}
	case LINK_:
		if (n->link[0] == '@')
			snprintf(target, sizeof(target), "%s%s", root, n->link + 1);
		else
			snprintf(target, sizeof(target), "%s", n->link);
		r = symlink(target, path);
		break;
	case FIFO_:
		r = mkfifo(path, n->mode);
		break;
	}
	if (r == 0 && n->kind != LINK_)
		r = chmod(path, n->mode);      /* whatever the umask */
	if (r == 0 && n->owner >= 0)
		r = lchown(path, (uid_t)n->owner, (gid_t)n->owner);
	return r == 0;
}

static void test_walk(const char *base)
{
	uid_t me = geteuid();
	unsigned skipped = 0;

	for (size_t i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		const struct walk_case *c = &walk_cases[i];
		char root[400], path[600];
		struct path_writers w;
		struct stat st;
		bool made = true;
		int r;

		if (me != 0 && chowns(c)) {
			skipped++;
			continue;
		}
		snprintf(root, sizeof(root), "%s/walk%zu", base, i);
		CHECK(mkdir(root, 0755) == 0 && chmod(root, 0755) == 0);
		for (size_t j = 0; j < sizeof(c->nodes) / sizeof(c->nodes[0]) && c->nodes[j].path; j++)
			made = made && make_node(root, &c->nodes[j]);
		CHECK_MSG(made, "%s: the tree", c->name);
		snprintf(path, sizeof(path), "%s/%s", root, c->open);
		r = safe_path_open(path, &w, &st);
		if (r >= 0) {
			char buf[16];

			CHECK_MSG(file_read_fd(r, buf, sizeof(buf)) == 5 && strcmp(buf, "4242\n") == 0, "%s: read",
				  c->name);
			close(r);
			r = 0;
		}
		CHECK_MSG(r == c->want_r, "%s: %d (%s), not %d", c->name, r, strerror(-r), c->want_r);
		if (r != 0 || c->want_r != 0)
			continue;
		/* ourselves, not root, own the tree: one user at best */
		if (me != 0) {
			enum path_trust want = c->trust == PATH_ROOT ? PATH_ONE_USER : c->trust;

			CHECK_MSG(w.trust == want && (want != PATH_ONE_USER || w.uid == me), "%s: trust %d uid %u",
				  c->name, (int)w.trust, (unsigned)w.uid);
			continue;
		}
		CHECK_MSG(w.trust == c->trust, "%s: trust %d, not %d", c->name, (int)w.trust, (int)c->trust);
		CHECK_MSG(c->trust != PATH_ONE_USER || w.uid == (uid_t)c->uid, "%s: uid %u", c->name, (unsigned)w.uid);
		CHECK_MSG(w.why == c->why, "%s: why %d, not %d", c->name, (int)w.why, (int)c->why);
		if (c->where) {
			size_t lw = strlen(w.where), lc = strlen(c->where) + strlen(root);

			CHECK_MSG(lw == lc && strcmp(w.where + lw - strlen(c->where), c->where) == 0 &&
				  strncmp(w.where, root, strlen(root)) == 0, "%s: where %s", c->name, w.where);
		}
	}
	if (skipped)
		printf("test_walk: %u of %zu cases skipped: they chown, which needs root\n", skipped,
		       sizeof(walk_cases) / sizeof(walk_cases[0]));
}

/* What the last component is, as the walk and the safe open say it. */
static void test_not_regular(const char *base)
{
	char dir[400], fifo[500], link[500], file[500];
	struct path_writers w;
	struct stat st;
	struct timespec t0, t1;
	int r;

	snprintf(dir, sizeof(dir), "%s/kinds", base);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(file, sizeof(file), "%s/file", dir);
	CHECK(mkdir(dir, 0755) == 0 && mkfifo(fifo, 0644) == 0 && symlink("file", link) == 0);
	CHECK(make_node(dir, &(struct node){ "file", FILE_, 0644, -1, NULL }));
	/* a FIFO nobody writes to: at once, refused, said to be a FIFO */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = file_open_regular(AT_FDCWD, fifo, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_MSG(r == -EINVAL && S_ISFIFO(st.st_mode), "%d", r);
	CHECK(t1.tv_sec - t0.tv_sec < 2);
	CHECK_STR(file_type_name(st.st_mode), "a FIFO");
	r = safe_path_open(fifo, &w, &st);
	CHECK_MSG(r == -EINVAL && S_ISFIFO(st.st_mode), "%d", r);
	/* a symlink at the end: not followed, said to be one */
	r = file_open_regular(AT_FDCWD, link, &st);
	CHECK_MSG(r == -ELOOP && S_ISLNK(st.st_mode), "%d", r);
	CHECK_STR(file_type_name(st.st_mode), "a symbolic link");
	r = file_open_regular(AT_FDCWD, dir, &st);
	CHECK_MSG(r == -EINVAL && S_ISDIR(st.st_mode), "%d", r);
	r = file_open_regular(AT_FDCWD, file, &st);
	CHECK(r >= 0 && S_ISREG(st.st_mode));
	if (r >= 0)
		close(r);
	/* the reader with FILE_REGULAR, on each */
	{
		char *data = NULL;
		size_t len;

		CHECK(file_read(AT_FDCWD, fifo, 100, FILE_REGULAR, &data, &len) == -EINVAL && !data);
		CHECK(file_read(AT_FDCWD, link, 100, FILE_REGULAR, &data, &len) == -ELOOP && !data);
		CHECK(file_read(AT_FDCWD, file, 100, FILE_REGULAR | FILE_MINE, &data, &len) == 0 && len == 5);
		free(data);
	}
	CHECK(safe_path_open("relative/a.pid", &w, &st) == -EINVAL);
	CHECK(safe_path_open("/", &w, &st) == -EISDIR);
}

static void test_check_mine(const char *base)
{
	char dir[400], path[500], *data = NULL;
	struct stat st;
	size_t len;

	snprintf(dir, sizeof(dir), "%s/mine", base);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(file_check_mine(path, &st) == -ENOENT);
	CHECK(make_node(dir, &(struct node){ "state", FILE_, 0600, -1, NULL }));
	CHECK(file_check_mine(path, &st) == 0);
	CHECK(chmod(path, 0620) == 0 && file_check_mine(path, &st) == -EPERM);
	CHECK(file_read(AT_FDCWD, path, 100, FILE_REGULAR | FILE_MINE, &data, &len) == -EPERM && !data);
	CHECK(file_read(AT_FDCWD, path, 100, FILE_REGULAR, &data, &len) == 0);
	free(data);
	CHECK(unlink(path) == 0 && mkfifo(path, 0600) == 0);
	CHECK(file_check_mine(path, &st) == -EINVAL && S_ISFIFO(st.st_mode));
	if (geteuid() == 0) {
		CHECK(unlink(path) == 0 && make_node(dir, &(struct node){ "state", FILE_, 0600, U1, NULL }));
		CHECK(file_check_mine(path, &st) == -EPERM && st.st_uid == U1);
	} else {
		printf("test_check_mine: another user's file skipped: it needs root\n");
	}
}

/* The temporary file: beside the path, a name no one foresees (two opens
 * differ), never what was planted (a FIFO at the old PATH.tmp-PID name
 * is left alone), gone after the commit. */
static void test_atomic_names(const char *base)
{
	char dir[400], path[500], old[560];
	struct atomic_file a, b;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/atomic", base);
	snprintf(path, sizeof(path), "%s/leakwatch.prom", dir);
	snprintf(old, sizeof(old), "%s.tmp-%d", path, (int)getpid());
	CHECK(mkdir(dir, 0755) == 0 && mkfifo(old, 0644) == 0);
	CHECK(atomic_file_open(&a, path, 0644) == 0);
	CHECK(atomic_file_open(&b, path, 0644) == 0);
	CHECK(strcmp(a.tmp, b.tmp) != 0 && strcmp(a.tmp, old) != 0);
	CHECK(strncmp(a.tmp, path, strlen(path)) == 0 && strlen(a.tmp) == strlen(path) + strlen(".tmp-") + 16);
	CHECK(atomic_file_write(&a, "x 1\n", 4) == 0 && atomic_file_commit(&a, false) == 0);
	atomic_file_abort(&b);
	CHECK(lstat(b.tmp, &st) < 0 && errno == ENOENT);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4 && (st.st_mode & 07777) == 0644);
	CHECK(lstat(old, &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(write_file_atomic(path, "x 2\n", 4, 0644, false) == 0);
}

int main(void)
{
	char base[] = "/tmp/leakwatch-safe-path.XXXXXX";

	if (!mkdtemp(base) || chmod(base, 0755) < 0) {
		perror("mkdtemp");
		return 1;
	}
	umask(022);
	RUN(test_walk, base);
	RUN(test_not_regular, base);
	RUN(test_check_mine, base);
	RUN(test_atomic_names, base);
	{
		char cmd[100];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", base);
	}
	return check_done("test_safe_path");
}
