/* A tiny assertion header for the unit tests: CHECK() records a failure and
 * goes on; check_done() prints "N passed, N failed" and returns the exit code.
 *
 * One case, or a few, run alone: main() calls its cases through RUN(fn,
 * args...), which calls fn only when the environment's CASE is unset or an
 * fnmatch(3) glob matching "fn" (`make test-units CASE='test_r*'`), and then
 * prints "case fn".  A part of main() that is no function of its own is
 * asked for with check_case("name").  A CASE that matches no case makes
 * check_done() fail, saying so, so that a misspelt name cannot pass as a
 * run of nothing. */
#ifndef LEAKWATCH_CHECK_H
#define LEAKWATCH_CHECK_H

#include <fnmatch.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed, check_cases_run;

#define CHECK(cond) do { \
	if (cond) { check_passed++; } else { check_failed++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_MSG(cond, ...) do { \
	if (cond) { check_passed++; } else { check_failed++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
	CHECK_MSG(a_ && b_ && strcmp(a_, b_) == 0, "\"%s\" != \"%s\"", a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
} while (0)

#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); \
	CHECK_MSG(fabs(a_ - b_) <= (tol), "%g not within %g of %g", a_, (double)(tol), b_); \
} while (0)

/* Whether the case called name is to run: CASE unset, or matching it. */
static inline bool check_case(const char *name)
{
	const char *pattern = getenv("CASE");

	if (!pattern)
		return true;
	if (fnmatch(pattern, name, 0) != 0)
		return false;
	check_cases_run++;
	printf("case %s\n", name);
	fflush(stdout);
	return true;
}

#define RUN(fn, ...) do { if (check_case(#fn)) fn(__VA_ARGS__); } while (0)

static inline int check_done(const char *name)
{
	const char *pattern = getenv("CASE");

	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	if (pattern && check_cases_run == 0) {
		fprintf(stderr, "%s: CASE='%s' matches no case\n", name, pattern);
		return 1;
	}
	return check_failed ? 1 : 0;
}

#endif
