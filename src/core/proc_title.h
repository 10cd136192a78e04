/* A process's title: what an operator reads to tell one worker from
 * another ("api uWSGI worker 2", "[celeryd: w1@web1:ForkPoolWorker-3]",
 * "gunicorn: worker [api]"), from its /proc/PID/cmdline.  comm alone is
 * 15 bytes of the executable's name ("uwsgi", "[celeryd: worke"), the
 * same for a master and all its workers.  Pure: the caller reads the
 * file (os/proc.h proc_read_title). */
#ifndef LEAKWATCH_PROC_TITLE_H
#define LEAKWATCH_PROC_TITLE_H

#include <stddef.h>

/* A title's room, its NUL included.  A longer one keeps its first
 * PROC_TITLE_HEAD and last PROC_TITLE_TAIL bytes (at most; cut at whole
 * characters) around "...": the program and the slot, which servers put
 * at the two ends. */
#define PROC_TITLE_SIZE 64
#define PROC_TITLE_HEAD 24
#define PROC_TITLE_TAIL 36

/* The title of the cmdline text raw (len bytes, NUL-separated argv, as
 * read; raw holds len + 1 bytes and is overwritten): its first line, the
 * arguments joined by spaces, spaces trimmed at both ends, every byte that
 * is not printable UTF-8 (a control character, C1 included, or a byte of
 * no valid character) made '?' and every '"' a '\'' (the human line quotes
 * the title), clipped as above.  Into out
 * (PROC_TITLE_SIZE bytes); returns its length, 0 when there is none (a
 * kernel thread, an exited leader: cmdline empty). */
size_t proc_title(char *raw, size_t len, char out[PROC_TITLE_SIZE]);

#endif
