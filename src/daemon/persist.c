/* Saving the history (see persist.h): the encoder's chunks streamed into
 * an atomic file (os/files.h), the header written over its placeholder
 * last, since its counts and checksum are known only at the end.  Why not
 * encode into memory and write once: the image grows with the watched
 * processes, and the daemon's memory must not. */
#include "daemon/persist.h"

#include "os/files.h"
#include "core/state_codec.h"

int state_save(const char *path, const struct judged *j, const struct action_policy *policies,
	       const char *boot_id, bool sync)
{
	struct atomic_file f;
	unsigned char header[STATE_HEADER_LEN];
	int r;

	r = atomic_file_open(&f, path, 0600);
	if (r < 0)
		return r;
	r = state_encode(j, policies, boot_id, atomic_file_write, &f, header);
	if (r < 0)
		goto fail;
	/* the placeholder at the start, replaced by the header proper */
	r = atomic_file_pwrite(&f, header, sizeof(header), 0);
	if (r < 0)
		goto fail;
	return atomic_file_commit(&f, sync);
fail:
	atomic_file_abort(&f);
	return r;
}
