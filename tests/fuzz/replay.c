/* Runs a fuzz target's LLVMFuzzerTestOneInput on every file given, or on
 * every file in the directories given, without libFuzzer: `make check`
 * replays the corpora this way under ASan and UBSan. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *p = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!p) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			struct dirent **names;
			int n = scandir(argv[i], &names, NULL, alphasort);

			if (n < 0)
				return 1;
			for (int k = 0; k < n; k++) {
				char path[4096];

				if (names[k]->d_name[0] != '.') {
					snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
					if (run_file(path) < 0)
						return 1;
					files++;
				}
				free(names[k]);
			}
			free(names);
		} else {
			if (run_file(argv[i]) < 0)
				return 1;
			files++;
		}
	}
	printf("%s: %d input(s) replayed\n", argc > 0 ? argv[0] : "replay", files);
	return files ? 0 : 1;
}
