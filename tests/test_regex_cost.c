/* Unit tests for regex_cost.c: repetitions counted as glibc expands them,
 * back-references and deep nesting refused, syntax left to regcomp. */
#include "core/regex_cost.h"

#include <regex.h>
#include <stdlib.h>

#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct rcase {
	const char *re;
	enum regex_problem want;
	uint64_t elements, optional;   /* checked when want is REGEX_OK */
};

static void test_counts(void)
{
	static const struct rcase cases[] = {
		{ "", REGEX_OK, 0, 0 },
		{ "abc", REGEX_OK, 3, 0 },
		{ "^gunicorn: worker \\[api\\]$", REGEX_OK, 24, 0 },
		{ "a*", REGEX_OK, 1, 1 },
		{ "a?", REGEX_OK, 1, 1 },
		{ "a+", REGEX_OK, 2, 1 },             /* a a* */
		{ "a++", REGEX_OK, 4, 3 },            /* a+ (a+)* */
		{ "a{3}", REGEX_OK, 3, 0 },
		{ "a{2,5}", REGEX_OK, 5, 3 },
		{ "a{2,}", REGEX_OK, 3, 1 },
		{ "a{,4}", REGEX_OK, 4, 4 },
		{ "a{0}", REGEX_OK, 0, 0 },
		{ "(ab)", REGEX_OK, 3, 0 },           /* the group is an element */
		{ "(ab){10}", REGEX_OK, 30, 0 },
		{ "(a?){10}", REGEX_OK, 20, 10 },
		{ "(a|b|c)", REGEX_OK, 4, 0 },
		{ "x(a|b)*y", REGEX_OK, 5, 3 },
		{ "[a-z]{10}", REGEX_OK, 10, 0 },
		{ "[]a]x", REGEX_OK, 2, 0 },          /* ']' first is a member */
		{ "[^]a]x", REGEX_OK, 2, 0 },
		{ "[[:digit:]x]+", REGEX_OK, 2, 1 },  /* ']' inside a class name */
		{ "[[.-.]]", REGEX_OK, 1, 0 },
		{ "\\(a\\)", REGEX_OK, 3, 0 },         /* escaped: literals */
		{ "a{x}", REGEX_OK, 4, 0 },           /* not an interval: regcomp judges */
		{ "a{2,1}", REGEX_OK, 6, 0 },
		{ "a{\\02}", REGEX_OK, 2, 0 },       /* glibc: "\0" is a digit, "\," a comma */
		{ "a{1\\,3}", REGEX_OK, 3, 2 },
		{ "a{\\,3}", REGEX_OK, 3, 3 },
		{ "(a{1000}){\\01000}", REGEX_TOO_BIG, 0, 0 },
		{ "a{\\12}", REGEX_BACKREF, 0, 0 },
		{ ")", REGEX_OK, 1, 0 },
		{ "(a", REGEX_OK, 1, 0 },             /* unclosed: regcomp reports it */
		{ "[a", REGEX_OK, 1, 0 },
		{ "*a", REGEX_OK, 1, 0 },
		{ "a\\", REGEX_OK, 2, 0 },
		{ "(a*)*\\1", REGEX_BACKREF, 0, 0 },
		{ "\\9", REGEX_BACKREF, 0, 0 },
		{ "\\\\1", REGEX_OK, 2, 0 },          /* a backslash, then '1' */
		{ "[\\1]", REGEX_OK, 1, 0 },          /* no escapes in brackets */
		{ "a{2001}", REGEX_TOO_BIG, 0, 0 },
		{ "a{2000}", REGEX_OK, 2000, 0 },
		{ "((a{100}){100}){100}", REGEX_TOO_BIG, 0, 0 },
		{ "a+++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++",
		  REGEX_TOO_BIG, 0, 0 },
		{ "(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))",
		  REGEX_TOO_DEEP, 0, 0 },
		{ "((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))",
		  REGEX_OK, 33, 0 },
		{ "(a{32767}){32767}", REGEX_TOO_BIG, 0, 0 },
		{ "a{99999999999999999999}", REGEX_OK, 23, 0 }, /* too large: regcomp says so */
	};

	for (size_t i = 0; i < N(cases); i++) {
		const struct rcase *c = &cases[i];
		struct regex_cost cost;
		enum regex_problem r = regex_cost(c->re, &cost);

		CHECK_MSG(r == c->want, "%s: problem %d, want %d", c->re, r, c->want);
		if (c->want != REGEX_OK)
			continue;
		CHECK_MSG(cost.elements == c->elements && cost.optional == c->optional,
			  "%s: %llu elements, %llu optional; want %llu, %llu", c->re,
			  (unsigned long long)cost.elements, (unsigned long long)cost.optional,
			  (unsigned long long)c->elements, (unsigned long long)c->optional);
		CHECK(cost.bytes >= 8192);
	}
}

/* The estimate grows with the square of the optional run, as glibc does. */
static void test_bytes(void)
{
	struct regex_cost small, big, wide;

	CHECK(regex_cost("a?{100}", &small) == REGEX_OK);
	CHECK(regex_cost("a?{1000}", &big) == REGEX_OK);
	CHECK(regex_cost("a{1000}", &wide) == REGEX_OK);
	CHECK(big.bytes >= 7u << 20);
	CHECK(small.bytes < 256u << 10);
	CHECK(wide.bytes < 256u << 10);
	CHECK(big.bytes > 50 * small.bytes);
}

/* Whatever is accepted, regcomp compiles or rejects without trouble:
 * random patterns from a small alphabet of operators. */
static void test_random(void)
{
	static const char alphabet[] = "ab.()|*+?{}[]^$\\,0123456789";
	unsigned seed = 12345;

	for (int n = 0; n < 20000; n++) {
		char re[40];
		size_t len = 1 + (size_t)(rand_r(&seed) % (sizeof(re) - 1));
		struct regex_cost cost;
		regex_t rx;

		for (size_t i = 0; i < len; i++)
			re[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		re[len] = '\0';
		if (regex_cost(re, &cost) != REGEX_OK)
			continue;
		CHECK(cost.elements <= REGEX_MAX_ELEMENTS);
		if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) == 0)
			regfree(&rx);
	}
}

int main(void)
{
	RUN(test_counts);
	RUN(test_bytes);
	RUN(test_random);
	return check_done("test_regex_cost");
}
