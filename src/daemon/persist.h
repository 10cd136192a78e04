/* The saved history on disk: state.h's image streamed to a temporary file
 * and renamed over the old one, so that a reader (the next start of the
 * daemon) sees the old file or the new one, never a part; and memory
 * stays flat however many processes are saved. */
#ifndef LEAKWATCH_STATE_FILE_H
#define LEAKWATCH_STATE_FILE_H

#include <stdbool.h>

struct judged;
struct action_policy;

/* Save every watched process of j and the action records (NULL: none) to
 * path, mode 0600, fdatasync'd when sync.  0 or -errno; on failure the
 * file at path is left as it was, and no temporary file remains. */
int state_save(const char *path, const struct judged *j, const struct action_policy *policies,
	       const char *boot_id, bool sync);

#endif
