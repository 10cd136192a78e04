/* A file whose path other users may have a hand in (a pidfile), opened
 * with who besides root could have written it or put it there.
 *
 * Why: a root daemon that reads a pid from a file and signals it trusts
 * whoever could write that file, and whoever could replace it: the owner
 * of a directory on its path, or of a symlink on it, or anyone when a
 * directory is group- or world-writable without the sticky bit.  A
 * plain open(2) and fstat tells the file's owner and mode, not those.
 * realpath(3) and an lstat of each prefix tells them of another moment
 * than the open (a directory renamed in between).  openat2(2) with
 * RESOLVE_NO_SYMLINKS would refuse Debian's root-owned /var/run -> /run.
 * Hence a walk from "/", component by component: each directory opened
 * O_PATH|O_NOFOLLOW from the one before and fstat'ed before anything is
 * looked up in it, each symlink's owner checked before it is followed (at
 * most SAFE_PATH_HOPS), and the file itself opened from the last
 * directory's fd by the safe open (os/files.h), so that what was checked
 * is what was opened.
 *
 * Costs: an openat and an fstat per component, a readlinkat per symlink:
 * about ten system calls for /run/app/app.pid.  Trusted as written by
 * root alone: uid 0.  Not seen: ACLs beyond what they show in the mode's
 * group bits (a named user's write shows there, through the mask). */
#ifndef LEAKWATCH_SAFE_PATH_H
#define LEAKWATCH_SAFE_PATH_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SAFE_PATH_HOPS 32     /* symlinks followed at most, as the kernel's 40 */

/* Who could have written the file or put it where the path leads. */
enum path_trust {
	PATH_ROOT,                /* root alone */
	PATH_ONE_USER,            /* root and one user (uid) */
	PATH_MANY,                /* more than one user, or a group, or anyone */
};

/* What made the trust what it is (the step that lowered it last). */
enum path_why {
	WHY_NONE,
	WHY_DIR_OWNER,            /* a directory on the way is owned by why_uid */
	WHY_DIR_GROUP,            /* ... is writable by its group, not sticky */
	WHY_DIR_OTHERS,           /* ... by anyone, not sticky */
	WHY_LINK_OWNER,           /* a symlink on the way is owned by why_uid */
	WHY_FILE_OWNER,           /* the file is owned by why_uid */
	WHY_FILE_GROUP,           /* the file is writable by its group */
	WHY_FILE_OTHERS,          /* ... by anyone */
};

struct path_writers {
	enum path_trust trust;
	uid_t uid;                /* PATH_ONE_USER: that user */
	enum path_why why;
	uid_t why_uid;
	char where[PATH_MAX];     /* the directory, symlink or file that why is about */
};

/* Open the regular file at path (absolute) for reading, as above: the
 * fd, and in *w who could have written it, in *st its stat; or -errno:
 * -EINVAL for a relative path, and as file_open_regular() for the last
 * component (-ELOOP, a symlink; -EINVAL, not a regular file; *st what
 * is there), -ELOOP (st_mode 0) after SAFE_PATH_HOPS symlinks, -ENOTDIR,
 * -ENOENT, -EACCES as the kernel says. */
int safe_path_open(const char *path, struct path_writers *w, struct stat *st);

/* What made w what it is, as words ("the directory /run/app is owned by
 * www-data"), into out. */
void path_writers_say(const struct path_writers *w, char *out, size_t len);

#endif
