/* The saved history file (STATE_DIR/history.state): any bytes are refused
 * with a reason or decoded into records the monitor can take over. */
#include "fuzz_proc.h"
#include "core/state_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct saved_state s = { 0 };
	char why[256];
	void *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (state_decode(copy, size, &s, why, sizeof(why)) != 0 && why[0] == '\0')
		abort();   /* a refusal always says why */
	saved_state_clear(&s);
	free(copy);
	return 0;
}
