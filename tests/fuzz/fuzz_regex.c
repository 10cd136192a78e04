/* The cmdline matcher against glibc's, differentially: the input is a
 * pattern, a NUL, then texts separated by NULs.  A pattern that regcomp
 * (REG_EXTENDED|REG_NOSUB) and regex_cost both take must compile
 * (refused only as an equivalence class or collating symbol, or as too
 * big), and on the empty text and each text (the first TEXT_MAX bytes)
 * answer as regexec does; anything else aborts.
 * Patterns and texts are kept short so that glibc stays quick, and so
 * are repetitions, on which glibc's regcomp is exponential: stacked
 * ("(a*)*{1,2}{1,2}{1,2}{1,2}{1,2}" takes it 3 s), or around an anchor
 * ("(\b|)*{50}" more than 20 s), or of what may be empty
 * ("(||.**|){36}b", "(||||)++?{7}").  tests/test_regex_match.c
 * compares larger patterns, from a generator that stays clear of those.
 * The daemon never asks regcomp to compile a pattern it accepts
 * (config_schema_match.c). */
#include <errno.h>
#include <regex.h>
#include <stdio.h>

#include "core/regex_compile.h"
#include "core/regex_cost.h"
#include "core/regex_match.h"
#include "fuzz_proc.h"

#define PATTERN_MAX 64
#define TEXT_MAX    64
#define TEXTS_MAX   16
#define OPS_MAX     2    /* repetition operators in a pattern; 1 with an anchor */
#define ALTS_MAX    4    /* '|' in a pattern */
#define ELEMENTS_MAX 30  /* as regex_cost.h counts them */

static bool too_slow_for_glibc(const char *re)
{
	struct regex_cost cost;
	int ops = 0, alts = 0;
	bool anchor = false;

	for (const char *p = re; *p; p++) {
		ops += *p == '*' || *p == '+' || *p == '?' || *p == '{';
		alts += *p == '|';
		anchor |= *p == '^' || *p == '$' || (p[0] == '\\' && p[1] && strchr("bB<>`'", p[1]));
	}
	return ops > (anchor ? 1 : OPS_MAX) || alts > ALTS_MAX ||
	       regex_cost(re, &cost) != REGEX_OK || cost.elements > ELEMENTS_MAX;
}

static void check_texts(const char *re, regex_t *glibc, struct regex_prog *ours,
			const char *texts, const char *end)
{
	for (int k = 0; k < TEXTS_MAX && (k == 0 || texts < end); k++) {
		size_t len = texts < end ? strnlen(texts, (size_t)(end - texts)) : 0;
		char text[TEXT_MAX + 1];
		bool want, got;

		if (len > TEXT_MAX)
			len = TEXT_MAX;
		memcpy(text, texts, len);
		text[len] = '\0';
		want = regexec(glibc, text, 0, NULL, 0) == 0;
		got = regex_search(ours, text, len);
		if (got != want) {
			fprintf(stderr, "fuzz_regex: /%s/ on \"%s\": %d, glibc %d\n", re, text, got, want);
			abort();
		}
		texts += len + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size), *re;
	struct regex_prog *ours;
	const char *why = NULL;
	regex_t glibc;
	size_t at;
	int r;

	if (!in)
		return 0;
	re = in;
	if (strlen(re) > PATTERN_MAX || too_slow_for_glibc(re) ||
	    regcomp(&glibc, re, REG_EXTENDED | REG_NOSUB) != 0) {
		free(in);
		return 0;
	}
	r = regex_compile(re, &ours, &why, &at);
	if (r == 0) {
		check_texts(re, &glibc, ours, re + strlen(re) + 1, in + size);
		regex_free(ours);
	} else if (r != -ENOTSUP && r != -E2BIG && r != -ENOMEM) {
		fprintf(stderr, "fuzz_regex: /%s/: glibc takes it, ours refuses: %s at %zu\n", re, why, at);
		abort();
	}
	regfree(&glibc);
	free(in);
	return 0;
}
