/* Where leakwatch keeps its files: the runtime directory (the control
 * socket, the inspections' channels) and the state directory (history,
 * incidents), from systemd's RUNTIME_DIRECTORY and STATE_DIRECTORY when
 * set; and where the inspect script is installed. */
#ifndef LEAKWATCH_PATHS_H
#define LEAKWATCH_PATHS_H

#include <stddef.h>

#define DEFAULT_RUNTIME_DIR "/run/leakwatch"
#define DEFAULT_STATE_DIR   "/var/lib/leakwatch"
#define CONTROL_SOCKET      "control.sock"
#define STATE_FILE          "history.state"
#ifndef LEAKWATCH_DATADIR
#define LEAKWATCH_DATADIR   "/usr/local/share"   /* the Makefile says, from PREFIX */
#endif
#define INSPECT_SCRIPT      LEAKWATCH_DATADIR "/leakwatch/inspect.py"

/* The first directory of $RUNTIME_DIRECTORY, or /run/leakwatch.  -ENAMETOOLONG. */
int runtime_dir(char *out, size_t len);
/* The first directory of $STATE_DIRECTORY, or /var/lib/leakwatch. */
int default_state_dir(char *out, size_t len);
/* $LEAKWATCH_INSPECT_SCRIPT when absolute (tests, a build tree), or the
 * installed INSPECT_SCRIPT.  -ENAMETOOLONG. */
int inspect_script_path(char *out, size_t len);

#endif
