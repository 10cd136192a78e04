/* See regex_cost.h.  A scan of the pattern with a stack of open groups;
 * each level sums the elements of its branches and remembers its last
 * atom, which a following repetition multiplies. */
#include "core/regex_cost.h"
#include "core/regex_bracket.h"

#include <stdbool.h>
#include <string.h>

#define SATURATE (UINT64_C(1) << 40)
#define DUP_MAX  0x7fff    /* glibc's RE_DUP_MAX; larger counts fail regcomp */

struct level {
	uint64_t alt, alt_opt;    /* finished branches */
	uint64_t cur, cur_opt;    /* the branch being read */
	uint64_t last, last_opt;  /* its last atom (included in cur) */
	bool has_last;
};

static uint64_t add(uint64_t a, uint64_t b)
{
	return a + b > SATURATE ? SATURATE : a + b;
}

static uint64_t mul(uint64_t a, uint64_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return a > SATURATE / b ? SATURATE : a * b;
}

static void atom(struct level *l, uint64_t n, uint64_t opt)
{
	l->cur = add(l->cur, n);
	l->cur_opt = add(l->cur_opt, opt);
	l->last = n;
	l->last_opt = opt;
	l->has_last = true;
}

/* Repeat the last atom LO to HI times (HI < 0: no upper bound).  glibc
 * makes HI copies, or LO + 1 with a star on the last when unbounded; the
 * copies beyond LO are optional. */
static void repeat(struct level *l, long lo, long hi)
{
	uint64_t copies = hi < 0 ? (uint64_t)lo + 1 : (uint64_t)hi, n, opt;

	if (!l->has_last)
		return;        /* regcomp reports "Invalid preceding regular expression" */
	n = mul(l->last, copies);
	if (lo == 0)
		opt = n;
	else
		opt = add(mul(l->last_opt, (uint64_t)lo), mul(l->last, copies - (uint64_t)lo));
	l->cur = add(l->cur - l->last, n);
	l->cur_opt = add(l->cur_opt - l->last_opt, opt);
	l->last = n;
	l->last_opt = opt;
}

/* The byte an interval's token at P stands for, its length in *LEN:
 * glibc reads "\0" as the digit 0 and "\," as the comma (an escaped
 * digit 1-9 is a back-reference, no digit). */
static int interval_token(const char *p, int *len)
{
	if (p[0] == '\\' && (p[1] == '0' || p[1] == ',')) {
		*len = 2;
		return p[1];
	}
	*len = 1;
	return (unsigned char)p[0];
}

/* The number at *P (saturating past DUP_MAX), or -1 when there is none. */
static long number(const char **p)
{
	long n = -1;
	int c, len;

	while ((c = interval_token(*p, &len)) >= '0' && c <= '9') {
		if (n < 0)
			n = c - '0';
		else if (n <= DUP_MAX)
			n = n * 10 + (c - '0');
		*p += len;
	}
	return n;
}

bool regex_interval(const char **p, long *lo, long *hi)
{
	const char *s = *p;
	int len;

	*lo = number(&s);
	if (interval_token(s, &len) == ',') {
		s += len;
		if (*lo < 0)
			*lo = 0;         /* "{,N}" is "{0,N}" */
		*hi = number(&s);    /* -1: no bound */
	} else {
		if (*lo < 0)
			return false;    /* "{}" */
		*hi = *lo;
	}
	if (*s != '}' || *lo > DUP_MAX || *hi > DUP_MAX || (*hi >= 0 && *hi < *lo))
		return false;
	*p = s + 1;
	return true;
}

/* Past a bracket expression starting at P (on the '['), read by the
 * compiler's own bracket reader; NULL when it is not a valid one (the
 * compiler then says why). */
static const char *bracket(const char *p)
{
	uint64_t set[4];
	const char *why;

	p++;
	return rx_bracket(&p, set, &why) == 0 ? p : NULL;
}

/* A ')' closing level L: the group is one atom of the level around it,
 * which is returned.  At the outermost level it is a literal ')' to glibc. */
static struct level *close_group(struct level *stack, struct level *l)
{
	if (l == stack) {
		atom(l, 1, 0);
	} else {
		uint64_t n = add(add(l->alt, l->cur), 1), opt = add(l->alt_opt, l->cur_opt);

		l--;
		atom(l, n, opt);
	}
	return l;
}

/* A '|': the branch being read is finished, a new one begins. */
static void alternative(struct level *l)
{
	l->alt = add(l->alt, l->cur);
	l->alt_opt = add(l->alt_opt, l->cur_opt);
	l->cur = l->cur_opt = 0;
	l->has_last = false;
}

/* The totals over the levels still open (STACK to L), and the memory
 * regcomp will take for them. */
static void total(const struct level *stack, const struct level *l, struct regex_cost *out)
{
	/* An unclosed group is a syntax error for regcomp; count it anyway. */
	out->elements = out->optional = 0;
	for (const struct level *x = stack; x <= l; x++) {
		out->elements = add(out->elements, add(x->alt, x->cur));
		out->optional = add(out->optional, add(x->alt_opt, x->cur_opt));
	}
	/* Calibrated on glibc 2.36: about 8 KiB for a short pattern, 128 bytes
	 * an element, and 8 bytes per pair of optional elements (a run of them
	 * can be skipped from each: "a?{2000}" takes 32 MiB).  Optional
	 * elements between mandatory ones cost less than this. */
	out->bytes = add(add(8192, mul(out->elements, 128)), mul(mul(out->optional, out->optional), 8));
}

enum regex_problem regex_cost(const char *re, struct regex_cost *out)
{
	struct level stack[REGEX_MAX_DEPTH + 1], *l = stack;
	enum regex_problem r = REGEX_OK;
	const char *p = re;
	long lo, hi;

	memset(stack, 0, sizeof(stack));
	while (*p) {
		switch (*p) {
		case '\\':
			if (p[1] >= '1' && p[1] <= '9') {
				r = REGEX_BACKREF;
				goto out;
			}
			atom(l, 1, 0);
			p += p[1] ? 2 : 1;
			break;
		case '[':
			atom(l, 1, 0);
			p = bracket(p);
			if (!p)
				goto out;
			break;
		case '(':
			if (l == stack + REGEX_MAX_DEPTH) {
				r = REGEX_TOO_DEEP;
				goto out;
			}
			l++;
			memset(l, 0, sizeof(*l));
			p++;
			break;
		case ')':
			l = close_group(stack, l);
			p++;
			break;
		case '|':
			alternative(l);
			p++;
			break;
		case '*':
			repeat(l, 0, -1);
			p++;
			break;
		case '+':
			repeat(l, 1, -1);
			p++;
			break;
		case '?':
			repeat(l, 0, 1);
			p++;
			break;
		case '{':
			p++;
			if (regex_interval(&p, &lo, &hi))
				repeat(l, lo, hi);
			else
				atom(l, 1, 0);
			break;
		default:
			atom(l, 1, 0);
			p++;
			break;
		}
	}
out:
	total(stack, l, out);
	if (r == REGEX_OK && out->elements > REGEX_MAX_ELEMENTS)
		r = REGEX_TOO_BIG;
	return r;
}
