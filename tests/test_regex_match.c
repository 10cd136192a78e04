/* Unit tests for the cmdline matcher (regex_compile.c, regex_bracket.c,
 * regex_match.c): a table of patterns and texts whose answers are glibc's
 * (each is checked against regexec too, so the table cannot drift from
 * it), the refusals, the size bound, and a differential pass: generated
 * patterns that regex_cost accepts, refused when regcomp refuses them,
 * and otherwise, on generated texts, answered as regexec(REG_EXTENDED |
 * REG_NOSUB) answers (C locale). */
#include "core/regex_compile.h"
#include "core/regex_cost.h"
#include "core/regex_match.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>

#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* glibc's answer on TEXT (a string); -1 when it refuses PATTERN. */
static int glibc_match(const char *pattern, const char *text)
{
	regex_t rx;
	int r;

	if (regcomp(&rx, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return -1;
	r = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return r;
}

/* Ours; -1 when regex_compile refuses. */
static int our_match(const char *pattern, const char *text)
{
	struct regex_prog *rx;
	int r;

	if (regex_compile(pattern, &rx, NULL, NULL) < 0)
		return -1;
	r = regex_search(rx, text, strlen(text));
	regex_free(rx);
	return r;
}

struct mcase {
	const char *re, *text;
	int want;
};

static void test_table(void)
{
	static const struct mcase cases[] = {
		{ "celery .*worker", "/usr/bin/python3 -m celery -A app worker", 1 },
		{ "celery .*worker", "celery beat", 0 },
		{ "^gunicorn: worker \\[api\\]", "gunicorn: worker [api] (pid 4)", 1 },
		{ "^gunicorn: worker \\[api\\]", " gunicorn: worker [api]", 0 },
		{ "", "", 1 }, { "", "x", 1 }, { "()", "x", 1 }, { "a|", "x", 1 }, { "(|b)c", "c", 1 },
		{ "a{0}", "", 1 }, { "x(a{0})*y", "xy", 1 }, { "(){3}", "", 1 },
		{ "a)", "a)", 1 }, { "}", "}", 1 }, { "a{2}}", "aa}", 1 }, { ")*x", "x", 1 },
		{ "a.c", "a\nc", 1 },                   /* '.' reads a newline */
		{ "[^a]", "\n", 1 }, { "a[^b]c", "abc", 0 },
		/* intervals as glibc reads them */
		{ "^a{2,3}$", "aaa", 1 }, { "^a{2,3}$", "aaaa", 0 }, { "^a{,2}$", "aa", 1 },
		{ "^a{,}$", "aaaa", 1 }, { "^a{2,}$", "a", 0 }, { "^a{\\02}$", "aa", 1 },
		{ "^a{1\\,2}$", "aa", 1 }, { "^(ab){2}$", "abab", 1 }, { "^a+?$", "", 1 },
		{ "^(a|b)*a(a|b){3}c", "abbbaabac", 1 }, { "(a|b)*a(a|b){3}c", "ababbc", 0 },
		/* brackets */
		{ "[]a]", "]", 1 }, { "[^]a]", "]", 0 }, { "[a-]", "-", 1 }, { "[-a]", "-", 1 },
		{ "[!--]", ",", 1 }, { "[]-a]", "_", 1 }, { "[a\\]", "\\", 1 }, { "[[a]", "[", 1 },
		{ "[[:digit:]x]+", "7", 1 }, { "[[:alpha:]-]", "-", 1 }, { "[^[:space:]]", " \t", 0 },
		{ "[[:punct:]]", "~", 1 }, { "[[:xdigit:]]", "g", 0 }, { "[a^]", "^", 1 },
		{ "[\x80-\xff]", "\xe9", 1 }, { "[[:alpha:]]", "\xe9", 0 }, { ".", "\xff", 1 },
		/* GNU operators */
		{ "\\w+\\s\\W", "ab_ !", 1 }, { "\\S", " \t\n", 0 }, { "\\bab\\b", "x ab y", 1 },
		{ "\\bab\\b", "xab", 0 }, { "a\\B", "ab", 1 }, { "\\<w", "a w", 1 }, { "\\<w", "aw", 0 },
		{ "w\\>", "w.", 1 }, { "\\`a", "a", 1 }, { "\\`a", "ba", 0 }, { "a\\'", "ba", 1 },
		{ "\\B", "", 1 }, { "\\b", "", 0 }, { "\\.", "a", 0 }, { "\\n", "n", 1 }, { "a\\|b", "a|b", 1 },
		/* anchors anywhere, and glibc's ^ and $ around newlines (regex_prog.h) */
		{ "a^b", "ab", 0 }, { "a$b", "ab", 0 }, { "(^|x)a", "ya", 0 }, { "(^|x)a", "a", 1 },
		{ "^b", "a\nb", 0 }, { "a$", "a\nb", 0 }, { ".^b", "a\nb", 1 }, { "a$.", "a\nb", 1 },
		{ "a$\n", "a\n", 1 }, { "\n^b", "a\nb", 1 }, { "\\`b", "a\nb", 0 }, { "a\\'.", "a\nb", 0 },
		{ "(a$)*\nb", "\nb", 1 }, { "x$|y", "x\n", 0 }, { "$^", "", 1 }, { "$.", "\n", 1 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		const struct mcase *c = &cases[i];
		int g = glibc_match(c->re, c->text), o = our_match(c->re, c->text);

		CHECK_MSG(g == c->want, "glibc: /%s/ on \"%s\": %d, the table says %d", c->re, c->text, g, c->want);
		CHECK_MSG(o == c->want, "/%s/ on \"%s\": %d, want %d", c->re, c->text, o, c->want);
	}
}

struct rcase {
	const char *re;
	int want;
};

/* What is refused (glibc accepting it or not), and what is not. */
static void test_refused(void)
{
	static const struct rcase cases[] = {
		{ "[[=a=]]", -ENOTSUP }, { "[[.a.]]", -ENOTSUP }, { "[a-[.z.]]", -ENOTSUP },
		{ "[[.-.]a]", -ENOTSUP }, { "x{32767}", -E2BIG }, { "(a|b){8000}", -E2BIG },
		{ "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))", -E2BIG },
		{ "(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))", -E2BIG },
		{ "((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))", 0 },
		{ "x{5000}", 0 }, { "[[:alpha:][:digit:]]", 0 },
		/* what regcomp refuses, so does the compiler */
		{ "(a", -EINVAL }, { "[a", -EINVAL }, { "*a", -EINVAL }, { "a|*b", -EINVAL },
		{ "^*", -EINVAL }, { "\\b+", -EINVAL }, { "a{2,1}", -EINVAL }, { "a{1", -EINVAL },
		{ "a{x}", -EINVAL }, { "a\\", -EINVAL }, { "[[:foo:]]", -EINVAL }, { "[z-a]", -EINVAL },
		{ "[a-c-e]", -EINVAL }, { "[a-[:digit:]]", -EINVAL },
		{ "[[:alpha:]-z]", -EINVAL }, { "a{32768}", -EINVAL },
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct regex_prog *rx = NULL;
		const char *why = NULL;
		size_t at = 0;
		int r = regex_compile(cases[i].re, &rx, &why, &at);

		CHECK_MSG(r == cases[i].want, "%s: %d, want %d (%s at %zu)", cases[i].re, r, cases[i].want,
			  why ? why : "-", at);
		CHECK(r == 0 ? rx != NULL && regex_prog_bytes(rx) > 0 : rx == NULL && why != NULL);
		if (cases[i].want == -EINVAL)
			CHECK_MSG(glibc_match(cases[i].re, "") == -1, "glibc accepts %s", cases[i].re);
		regex_free(rx);
	}
	regex_free(NULL);
	/* glibc takes a back-reference; regex_cost.h has refused it before */
	CHECK(our_match("(a)\\1", "aa") == -1 && glibc_match("(a)\\1", "aa") == 1);
}

/* The program is bounded: a pattern regex_cost lets through at its most
 * costly stays within REGEX_PROG_MAX; the scratch goes with the program. */
static void test_bounds(void)
{
	struct regex_prog *rx;
	struct regex_cost cost;
	static char text[4096];

	CHECK(regex_cost("(a|b)?{666}", &cost) == REGEX_OK);
	CHECK(regex_compile("(a|b)?{666}", &rx, NULL, NULL) == 0);
	CHECK(regex_prog_bytes(rx) < 128u << 10);
	memset(text, 'a', sizeof(text) - 1);
	CHECK(regex_search(rx, text, sizeof(text) - 1));
	regex_free(rx);
	CHECK(regex_compile("(a|b)*a(a|b){20}c", &rx, NULL, NULL) == 0);
	for (size_t i = 0; i < sizeof(text) - 1; i++)
		text[i] = "ab"[(i * 7 + i / 3) % 2];
	CHECK(!regex_search(rx, text, sizeof(text) - 1));
	text[sizeof(text) - 2] = 'c';
	text[sizeof(text) - 23] = 'a';
	CHECK(regex_search(rx, text, sizeof(text) - 1));
	regex_free(rx);
}

/* A generator of patterns from the pieces glibc's ERE is made of, and of
 * texts over bytes those pieces treat differently. */
struct gen {
	unsigned seed;
	char *out, *end;
};

static unsigned pick(struct gen *g, unsigned n)
{
	return (unsigned)rand_r(&g->seed) % n;
}

static void put(struct gen *g, const char *s)
{
	while (*s && g->out < g->end)
		*g->out++ = *s++;
}

static void put_one(struct gen *g, const char *const *choices, size_t n)
{
	put(g, choices[pick(g, (unsigned)n)]);
}

static void gen_bracket(struct gen *g)
{
	static const char *const first[] = { "", "", "", "^", "]", "^]", "-", "^-" };
	static const char *const items[] = {
		"a", "b", "_", " ", "\\", "^", "[", ".", "a-c", "!--", "]-a", "0-9", "\x80-\xff",
		"[:alpha:]", "[:digit:]", "[:space:]", "[:punct:]", "[:upper:]", "[:alnum:]", "[:cntrl:]",
	};

	put(g, "[");
	put_one(g, first, N(first));
	for (unsigned k = pick(g, 3); k > 0; k--)
		put_one(g, items, N(items));
	if (pick(g, 6) == 0)
		put(g, "-");
	put(g, "]");
}

static void gen_alternation(struct gen *g, int depth);

static void gen_atom(struct gen *g, int depth)
{
	static const char *const atoms[] = {
		"a", "b", "a", "b", "_", " ", "\n", ".", "\\.", "\\*", "\\[", "\\{", "\\n", "\\\\", "}",
		"\\w", "\\W", "\\s", "\\S", "^", "$", "\\`", "\\'", "\\b", "\\B", "\\<", "\\>", "\xe9",
	};
	unsigned k = pick(g, 12);

	if (k == 0 && depth < 2) {
		put(g, "(");
		gen_alternation(g, depth + 1);
		put(g, ")");
	} else if (k == 1) {
		gen_bracket(g);
	} else if (k == 2 && depth == 0) {
		put(g, ")");
	} else {
		put_one(g, atoms, N(atoms));
	}
}

static void gen_piece(struct gen *g, int depth)
{
	static const char *const reps[] = {
		"*", "+", "?", "{2}", "{0}", "{1,}", "{0,2}", "{,2}", "{1,3}", "{\\02}", "{1\\,2}",
	};

	gen_atom(g, depth);
	/* One operator, now and then two: glibc's regcomp takes exponential
	 * time on optional copies around loops of what may be empty, stacked
	 * ("(a*)*{1,2}{1,2}{1,2}{1,2}{1,2}": 3 s), which regex_cost allows. */
	if (pick(g, 5) >= 3)
		put_one(g, reps, N(reps));
	if (pick(g, 8) == 0)
		put_one(g, reps, N(reps));
}

static void gen_alternation(struct gen *g, int depth)
{
	for (unsigned b = 1 + (pick(g, 4) == 0 ? pick(g, 3) : 0); b > 0; b--) {
		for (unsigned k = pick(g, 4); k > 0; k--)
			gen_piece(g, depth);
		if (b > 1)
			put(g, "|");
	}
}

static void gen_text(struct gen *g)
{
	static const char bytes[] = "aab_ \n-]^.\\9A\xe9\t";

	for (unsigned k = pick(g, 10); k > 0 && g->out < g->end; k--)
		*g->out++ = bytes[pick(g, sizeof(bytes) - 1)];
}

/* Generated patterns that regcomp and regex_cost take, each on generated
 * texts: regexec's answer, always (N patterns from SEED). */
static void test_differential(unsigned seed, int n)
{
	struct gen g = { .seed = seed };
	int compared = 0, patterns = 0;

	for (int i = 0; i < n; i++) {
		char re[96], text[16];
		struct regex_cost cost;
		struct regex_prog *ours;
		regex_t rx;
		int r;

		g.out = re;
		g.end = re + sizeof(re) - 1;
		gen_alternation(&g, 0);
		*g.out = '\0';
		if (regex_cost(re, &cost) != REGEX_OK || cost.elements > 100)
			continue;
		r = regex_compile(re, &ours, NULL, NULL);
		if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
			/* the config asks glibc only when the compiler refuses */
			CHECK_MSG(r == -EINVAL, "/%s/: %d, glibc refuses it", re, r);
			regex_free(ours);
			continue;
		}
		CHECK_MSG(r == 0, "/%s/: refused (%d), glibc takes it", re, r);
		patterns++;
		for (int k = 0; r == 0 && k < 20; k++) {
			int want, got;

			g.out = text;
			g.end = text + sizeof(text) - 1;
			gen_text(&g);
			*g.out = '\0';
			want = regexec(&rx, text, 0, NULL, 0) == 0;
			got = regex_search(ours, text, strlen(text));
			compared++;
			CHECK_MSG(got == want, "/%s/ on \"%s\": %d, glibc %d", re, text, got, want);
			if (got != want)
				break;
		}
		regex_free(ours);
		regfree(&rx);
	}
	CHECK_MSG(patterns > n / 4 && compared > 10 * patterns, "only %d patterns, %d texts", patterns, compared);
}

int main(void)
{
	RUN(test_table);
	RUN(test_refused);
	RUN(test_bounds);
	RUN(test_differential, 20240601u, 30000);
	return check_done("test_regex_match");
}
