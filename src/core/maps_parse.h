/* /proc/PID/maps lines, and which mapped file of a process is its
 * Python runtime (the file that defines PyEval_SaveThread and the rest):
 * a libpythonX.Y.so when one is mapped (a build with --enable-shared, as
 * pyenv's, uwsgi's python plugin, anything embedding Python), else the
 * executable itself when it is named pythonX.Y (Debian's /usr/bin/python3.11
 * links libpython statically and exports its symbols).  Pure: the text
 * and the exe link's target come from the caller (os/pyruntime.c). */
#ifndef LEAKWATCH_MAPS_PARSE_H
#define LEAKWATCH_MAPS_PARSE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct maps_entry {
	uint64_t start, end, offset;
	unsigned dev_major, dev_minor;
	uint64_t inode;
	bool r, w, x, shared;
	bool deleted;              /* the path ended in " (deleted)", cut off */
	const char *path;          /* into the line, not NUL-terminated */
	size_t path_len;           /* 0: no path (an anonymous mapping) */
};

/* One line of /proc/PID/maps, without its '\n' ("start-end perms offset
 * major:minor inode   path"; the path may hold spaces, end in
 * " (deleted)", or be absent).  0, or -EINVAL when it does not parse. */
int maps_parse_line(const char *line, size_t len, struct maps_entry *m);

/* The line of text at *pos, *pos moved past it: 1 and *m; 0 at the end
 * of text; -EINVAL when the line does not parse (*pos past it too). */
int maps_next(const char *text, size_t len, size_t *pos, struct maps_entry *m);

enum py_name {
	PY_NAME_NONE,              /* no Python runtime's name */
	PY_NAME_LIBRARY,           /* libpythonX.Y[flags].so, .so.1.0 ... */
	PY_NAME_EXECUTABLE,        /* pythonX.Y[flags], python3, python2, python */
};

/* What the file name (a basename, len bytes) is, as above; flags are up
 * to three of d, m, t, u (debug, pymalloc, free-threaded, wide unicode). */
enum py_name python_name_kind(const char *name, size_t len);

/* The version a runtime's file name says: "libpython3.11.so.1.0" 3.11,
 * "python3.8" 3.8, "python2.7" 2.7, "libpython3.6m.so" 3.6.  0 and
 * *major, *minor; -ENOENT when the name is a Python one without X.Y
 * ("python3"); -EINVAL when it is none. */
int python_version_from_name(const char *name, size_t len, int *major, int *minor);

/* The runtime found in a process's maps. */
struct maps_runtime {
	enum py_name kind;         /* PY_NAME_NONE: none */
	char path[PATH_MAX];       /* as in maps, " (deleted)" cut off */
	bool deleted;
	unsigned dev_major, dev_minor;
	uint64_t inode;
	int major, minor;          /* from the name; -1 when it has none */
	unsigned libraries;        /* libpython files mapped (by dev and inode): 0, 1, or
	                              2 for two or more */
	char other[PATH_MAX];      /* when libraries is 2: the second one's path */
};

/* Pick the runtime among the files mapped in text (the whole of
 * /proc/PID/maps): the first libpython mapped (libraries says whether
 * there are others: then which of them runs the program is not known), else
 * the mapping of exe (the target of /proc/PID/exe, " (deleted)" allowed;
 * NULL when unknown) when its name is PY_NAME_EXECUTABLE.  Paths of
 * PATH_MAX bytes or more are passed over.  0 (rt->kind says whether one
 * was found), or -EINVAL when a line does not parse. */
int maps_pick_runtime(const char *text, size_t len, const char *exe, struct maps_runtime *rt);

#endif
