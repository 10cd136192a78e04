/* leakwatchctl's side of the daemon's control socket (leakwatchctl(1)
 * PROTOCOL): send one request line, judge the reply's status line ("OK",
 * or "ERR MESSAGE" told on stderr), hand the answer on.  The exit
 * statuses of leakwatchctl too. */
#ifndef LEAKWATCH_CTL_SOCKET_H
#define LEAKWATCH_CTL_SOCKET_H

#include <stdio.h>

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define REPLY_TIMEOUT_MS 15000

/* Send request; the answer (after the reply's "OK") is copied to out.
 * The exit status: 0, or EXIT_FAIL after telling why on stderr. */
int ask_to(const char *request, FILE *out);

/* ask_to() onto stdout. */
int ask(const char *request);

/* The answer to request, into *text (malloc'd; the caller frees it, also
 * on failure): the exit status. */
int ask_text(const char *request, char **text);

#endif
