/* A tiny assertion header for the unit tests: CHECK() records a failure and
 * goes on; check_done() prints "N passed, N failed" and returns the exit code. */
#ifndef LEAKWATCH_CHECK_H
#define LEAKWATCH_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

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

static inline int check_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
