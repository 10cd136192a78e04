/* Shared by the fuzz targets: copy the input into a NUL-terminated buffer,
 * as the daemon's readers hand the parsers (proc_read_file). */
#ifndef LEAKWATCH_FUZZ_PROC_H
#define LEAKWATCH_FUZZ_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
