/* The walk to a file that others may have a hand in (see safe_path.h).
 *
 * The path still to walk is kept as text (todo): a symlink's target is
 * put in front of what remained, and an absolute one restarts from "/".
 * The directory reached is held as an O_PATH fd (no read right needed,
 * only search, so an unprivileged daemon walks as far as open(2) would),
 * and its path as text (at) for the messages alone.  Each directory is
 * judged before a name is looked up in it, as its writers could have put
 * anything under that name; ".." is a directory like another (judged
 * again: it may be one never judged, the parent of a symlink's target). */
#include "os/safe_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "os/files.h"
#include "os/users.h"

struct walk {
	int dirfd;
	char at[PATH_MAX];        /* dirfd's path, for the messages */
	struct path_writers *w;
};

static void lowered(struct path_writers *w, enum path_why why, uid_t uid, const char *where)
{
	w->why = why;
	w->why_uid = uid;
	snprintf(w->where, sizeof(w->where), "%s", where);
}

/* uid (not root) could have written it. */
static void add_user(struct path_writers *w, uid_t uid, enum path_why why, const char *where)
{
	if (uid == 0)
		return;
	if (w->trust == PATH_ROOT) {
		w->trust = PATH_ONE_USER;
		w->uid = uid;
		lowered(w, why, uid, where);
	} else if (w->trust == PATH_ONE_USER && w->uid != uid) {
		w->trust = PATH_MANY;
		lowered(w, why, uid, where);
	}
}

static void add_many(struct path_writers *w, enum path_why why, const char *where)
{
	if (w->trust == PATH_MANY)
		return;
	w->trust = PATH_MANY;
	lowered(w, why, 0, where);
}

/* A directory names are looked up in: its owner, and without the sticky
 * bit its group and anyone when they may write it, may replace what it
 * holds.  With the sticky bit they may not replace what another owns, and
 * what they own is judged by its owner. */
static void judge_dir(struct path_writers *w, const struct stat *st, const char *where)
{
	add_user(w, st->st_uid, WHY_DIR_OWNER, where);
	if (st->st_mode & S_ISVTX)
		return;
	if (st->st_mode & S_IWOTH)
		add_many(w, WHY_DIR_OTHERS, where);
	else if (st->st_mode & S_IWGRP)
		add_many(w, WHY_DIR_GROUP, where);
}

static void judge_file(struct path_writers *w, const struct stat *st, const char *where)
{
	add_user(w, st->st_uid, WHY_FILE_OWNER, where);
	if (st->st_mode & S_IWOTH)
		add_many(w, WHY_FILE_OTHERS, where);
	else if (st->st_mode & S_IWGRP)
		add_many(w, WHY_FILE_GROUP, where);
}

/* at + "/" + name into out.  0 or -ENAMETOOLONG. */
static int join(char *out, size_t len, const char *at, const char *name)
{
	if (snprintf(out, len, "%s%s%s", at, strcmp(at, "/") == 0 ? "" : "/", name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* Take the directory fd (whose path is where) as the one reached, once
 * judged.  0 or -errno (fd closed then). */
static int enter(struct walk *k, int fd, const char *where)
{
	struct stat st;

	int r = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;

	if (r < 0) {
		close(fd);
		return r;
	}
	judge_dir(k->w, &st, where);
	if (k->dirfd >= 0)
		close(k->dirfd);
	k->dirfd = fd;
	if (where != k->at)
		snprintf(k->at, sizeof(k->at), "%s", where);
	return 0;
}

static int enter_root(struct walk *k)
{
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : enter(k, fd, "/");
}

/* The next component of *todo (a NUL-terminated copy in name), *todo
 * moved past it, and in *last whether it is the last: true; false at the
 * end of the path; true with name "" for a component longer than len - 1
 * bytes (the caller's -ENAMETOOLONG). */
static bool next_name(char **todo, char *name, size_t len, bool *last)
{
	char *p = *todo;
	size_t n;

	while (*p == '/')
		p++;
	n = strcspn(p, "/");
	if (n == 0 || n >= len) {
		*name = '\0';
		return n != 0;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	*todo = p;
	while (*p == '/')
		p++;
	*last = *p == '\0';
	return true;
}

/* A symlink on the way (fd, O_PATH, of it; where its path): its owner is
 * judged, and its target put before what remains of todo.  0 or -errno. */
static int follow(struct walk *k, int fd, const struct stat *st, const char *where, char *todo, size_t len,
		  char **rest)
{
	char target[PATH_MAX], joined[PATH_MAX];
	ssize_t n;

	add_user(k->w, st->st_uid, WHY_LINK_OWNER, where);
	n = readlinkat(fd, "", target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (snprintf(joined, sizeof(joined), "%s/%s", target, *rest) >= (int)sizeof(joined))
		return -ENAMETOOLONG;
	snprintf(todo, len, "%s", joined);
	*rest = todo;
	return target[0] == '/' ? enter_root(k) : 0;
}

/* One component that is not the last: a directory entered, a symlink
 * followed, anything else -ENOTDIR.  0 or -errno. */
static int step(struct walk *k, const char *name, char *todo, size_t len, char **rest, int *hops)
{
	char where[PATH_MAX];
	struct stat st;
	int fd, r;

	if (strcmp(name, ".") == 0)
		return 0;
	if (strcmp(name, "..") == 0) {
		char *slash;

		snprintf(where, sizeof(where), "%s", k->at);
		slash = strrchr(where, '/');
		if (slash)
			*(slash == where ? slash + 1 : slash) = '\0';
	} else if (join(where, sizeof(where), k->at, name) < 0) {
		return -ENAMETOOLONG;
	}
	fd = openat(k->dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (S_ISDIR(st.st_mode))
		return enter(k, fd, where);
	if (!S_ISLNK(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	r = ++*hops > SAFE_PATH_HOPS ? -ELOOP : follow(k, fd, &st, where, todo, len, rest);
	close(fd);
	return r;
}

int safe_path_open(const char *path, struct path_writers *w, struct stat *st)
{
	char todo[PATH_MAX], name[NAME_MAX + 1], where[PATH_MAX];
	struct walk k = { .dirfd = -1, .w = w };
	char *rest = todo;
	int hops = 0, r;
	bool last = false;

	memset(w, 0, sizeof(*w));
	memset(st, 0, sizeof(*st));
	if (path[0] != '/')
		return -EINVAL;
	if (snprintf(todo, sizeof(todo), "%s", path) >= (int)sizeof(todo))
		return -ENAMETOOLONG;
	r = enter_root(&k);
	while (r == 0) {
		if (!next_name(&rest, name, sizeof(name), &last)) {
			r = -EISDIR;             /* the path ends at a directory */
			break;
		}
		if (!name[0]) {
			r = -ENAMETOOLONG;
			break;
		}
		if (!last) {
			r = step(&k, name, todo, sizeof(todo), &rest, &hops);
			continue;
		}
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			r = -EISDIR;
			break;
		}
		r = join(where, sizeof(where), k.at, name);
		if (r == 0)
			r = file_open_regular(k.dirfd, name, st);
		if (r >= 0)
			judge_file(w, st, where);
		break;
	}
	if (k.dirfd >= 0)
		close(k.dirfd);
	return r;
}

void path_writers_say(const struct path_writers *w, char *out, size_t len)
{
	char user[64] = "";

	if (w->why == WHY_DIR_OWNER || w->why == WHY_LINK_OWNER || w->why == WHY_FILE_OWNER)
		user_name(w->why_uid, user, sizeof(user));
	switch (w->why) {
	case WHY_NONE:
		snprintf(out, len, "only root can write it or its directories");
		break;
	case WHY_DIR_OWNER:
		snprintf(out, len, "the directory %s is owned by %s", w->where, user);
		break;
	case WHY_DIR_GROUP:
		snprintf(out, len, "the directory %s is writable by its group, without the sticky bit", w->where);
		break;
	case WHY_DIR_OTHERS:
		snprintf(out, len, "the directory %s is writable by anyone, without the sticky bit", w->where);
		break;
	case WHY_LINK_OWNER:
		snprintf(out, len, "the symbolic link %s is owned by %s", w->where, user);
		break;
	case WHY_FILE_OWNER:
		snprintf(out, len, "it is owned by %s", user);
		break;
	case WHY_FILE_GROUP:
		snprintf(out, len, "it is writable by its group");
		break;
	case WHY_FILE_OTHERS:
		snprintf(out, len, "it is writable by anyone");
		break;
	}
}
