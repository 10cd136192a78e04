/* The compiler of cmdline regexes (see regex_compile.h): the pattern read
 * by recursive descent, the way glibc's regcomp reads it, straight into a
 * Thompson program (regex_prog.h) for regex_match.c.
 *
 * What glibc accepts in ERE (REG_EXTENDED | REG_NOSUB, the C locale; read
 * from glibc 2.36's regcomp.c and checked against it by tests/test_regex_
 * match.c and tests/fuzz/fuzz_regex.c):
 *   - literals; '.' (any byte but NUL, newline included); ^ and $ are
 *     anchors wherever they stand; a ')' with no '(' open and a '}' are
 *     literals; an empty branch, group or pattern matches the empty string;
 *   - a backslash makes the next byte a literal, except the GNU operators
 *     \w \W \s \S (classes) and \b \B \< \> \` \' (assertions); \1-\9 are
 *     back-references, which regex_cost.h refuses;
 *   - * + ? {m} {m,} {,n} {m,n} repeat the atom before them and stack
 *     ("a+?" is (a+)?); regex_interval() reads the braces ("\0" is a digit
 *     there, "\," the comma); nothing to repeat (at the start of a branch,
 *     after an anchor) is an error;
 *   - bracket expressions as regex_bracket.c says; equivalence classes
 *     [=a=] and collating symbols [.a.] are refused with a message.
 * Anything else regcomp refuses, and so does this compiler (-EINVAL); the
 * caller then asks regcomp for its message, which is the better one.  Two of glibc's
 * matching habits that are not those of a plain NFA are reproduced too:
 * ^ and $ around newlines, and anchors next to a repetition's copies
 * (RX_LINE_BEGIN and RX_WEAK in regex_prog.h).
 *
 * A repetition copies the program of its atom, as glibc does (each jump
 * is relative, so a copy is a memcpy), laid out the way glibc lays out its
 * tree, so that the copies are where glibc's are; within REGEX_PROG_MAX
 * instructions in all: the size is checked before every copy, so compiling
 * costs at most the size of what it refuses to build. */
#include "core/regex_compile.h"
#include "core/regex_bracket.h"
#include "core/regex_cost.h"
#include "core/regex_prog.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SETS_MAX 32767        /* a set's index is held in an int16_t */
#define STR(x)   STR_(x)
#define STR_(x)  #x

/* Jumps are int16_t; the matcher's stack holds 4 * pc + 3 in a uint16_t. */
_Static_assert(4 * REGEX_PROG_MAX <= UINT16_MAX + 1, "REGEX_PROG_MAX too large");

struct build {
	const char *re, *p;       /* the pattern, where the reading is */
	struct rx_insn *code;     /* REGEX_PROG_MAX of them */
	uint8_t *copied;          /* per instruction: made by copying a repetition's */
	size_t n;
	rx_set *sets;
	size_t n_sets, cap_sets;
	int err;                  /* the first problem: -errno */
	const char *why;
	size_t at;
};

static bool fail(struct build *b, int err, const char *why)
{
	if (!b->err) {
		b->err = err;
		b->why = why;
		b->at = (size_t)(b->p - b->re);
	}
	return false;
}

/* Room for K more instructions, one being kept for the final RX_MATCH. */
static bool room(struct build *b, uint64_t k)
{
	if (k >= REGEX_PROG_MAX - b->n)
		return fail(b, -E2BIG, "more than " STR(REGEX_PROG_MAX) " instructions once compiled");
	return true;
}

static void emit(struct build *b, enum rx_op op, unsigned c, long x, long y)
{
	b->copied[b->n] = 0;
	b->code[b->n++] = (struct rx_insn){ (uint8_t)op, (uint8_t)c, (int16_t)x, (int16_t)y };
}

/* Room made for K instructions at AT (the program after it moves up),
 * each to be written. */
static void insert(struct build *b, size_t at, size_t k)
{
	memmove(&b->code[at + k], &b->code[at], (b->n - at) * sizeof(b->code[0]));
	memmove(&b->copied[at + k], &b->copied[at], b->n - at);
	memset(&b->copied[at], 0, k);
	b->n += k;
}

/* A copy of the LEN instructions at FROM, at the end.  An empty group's
 * RX_NOP stands for nodes glibc makes after copying (lower_subexp()),
 * never copies. */
static void copy(struct build *b, size_t from, size_t len)
{
	memcpy(&b->code[b->n], &b->code[from], len * sizeof(b->code[0]));
	for (size_t i = 0; i < len; i++)
		b->copied[b->n + i] = b->code[from + i].op != RX_NOP;
	b->n += len;
}

/* An instruction reading one byte of SET: RX_CHAR when it holds one. */
static bool emit_set(struct build *b, const uint64_t *set)
{
	int members = 0, last = 0;

	if (!room(b, 1))
		return false;
	for (int c = 0; c < 256; c++)
		if (rx_in_set(set, (unsigned char)c)) {
			members++;
			last = c;
		}
	if (members == 1) {
		emit(b, RX_CHAR, (unsigned)last, 0, 0);
		return true;
	}
	if (b->n_sets == b->cap_sets) {
		size_t cap = b->cap_sets ? 2 * b->cap_sets : 8;
		rx_set *s = cap <= SETS_MAX ? realloc(b->sets, cap * sizeof(*s)) : NULL;

		if (!s)
			return fail(b, cap <= SETS_MAX ? -ENOMEM : -E2BIG,
				    "more than " STR(SETS_MAX) " bracket expressions");
		b->sets = s;
		b->cap_sets = cap;
	}
	memcpy(b->sets[b->n_sets], set, sizeof(rx_set));
	emit(b, RX_SET, 0, (long)b->n_sets++, 0);
	return true;
}

/* \w \W \s \S: [_[:alnum:]], [[:space:]] and their complements. */
static bool gnu_class(struct build *b, char c)
{
	rx_set set = { 0 };

	if (c == 'w' || c == 'W') {
		rx_set_class(set, "alnum", 5);
		rx_set_add(set, '_', '_');
	} else {
		rx_set_class(set, "space", 5);
	}
	if (c == 'W' || c == 'S')
		for (int i = 0; i < 4; i++)
			set[i] = ~set[i];
	return emit_set(b, set);
}

/* A backslash and what follows it, at b->p. */
static bool escape(struct build *b, bool *anchor)
{
	static const char asserts[] = "`'bB<>";
	static const enum rx_assert kinds[] = {
		RX_BEGIN, RX_END, RX_WORD_BOUNDARY, RX_NOT_BOUNDARY, RX_WORD_START, RX_WORD_END,
	};
	char c = b->p[1];
	const char *a = c ? strchr(asserts, c) : NULL;

	if (!c)
		return fail(b, -EINVAL, "trailing backslash");
	if (c >= '1' && c <= '9')
		return fail(b, -EINVAL, "back-reference");
	b->p += 2;
	if (a) {
		*anchor = true;
		if (!room(b, 1))
			return false;
		emit(b, RX_ASSERT, kinds[a - asserts], 0, 0);
		return true;
	}
	if (strchr("wWsS", c))
		return gnu_class(b, c);
	if (!room(b, 1))
		return false;
	emit(b, RX_CHAR, (unsigned char)c, 0, 0);
	return true;
}

static bool alternation(struct build *b, int depth);

/* A parenthesised group at b->p. */
static bool group(struct build *b, int depth)
{
	size_t s = b->n;

	if (depth >= REGEX_NEST_MAX)
		return fail(b, -E2BIG, "parentheses nested more than " STR(REGEX_NEST_MAX) " deep");
	b->p++;
	if (!alternation(b, depth + 1))
		return false;
	if (*b->p != ')')
		return fail(b, -EINVAL, "unmatched (");
	b->p++;
	if (b->n == s && room(b, 1))
		emit(b, RX_NOP, 0, 0, 0);   /* glibc's nodes of an empty group */
	return !b->err;
}

/* One atom at b->p; *ANCHOR when it is an assertion (nothing may repeat it). */
static bool atom(struct build *b, int depth, bool *anchor)
{
	rx_set set;
	const char *why;
	char c = *b->p;
	int r;

	*anchor = false;
	switch (c) {
	case '(':
		return group(b, depth);
	case '[':
		b->p++;
		r = rx_bracket(&b->p, set, &why);
		return r < 0 ? fail(b, r, why) : emit_set(b, set);
	case '\\':
		return escape(b, anchor);
	case '*': case '+': case '?': case '{':
		return fail(b, -EINVAL, "nothing to repeat");
	default:
		break;
	}
	if (!room(b, 1))
		return false;
	b->p++;
	if (c == '^' || c == '$') {
		*anchor = true;
		emit(b, RX_ASSERT, c == '^' ? RX_LINE_BEGIN : RX_LINE_END, 0, 0);
	} else if (c == '.') {
		emit(b, RX_ANY, 0, 0, 0);
	} else {
		emit(b, RX_CHAR, (unsigned char)c, 0, 0);   /* ')' at the top level, '}' too */
	}
	return true;
}

/* K optional copies of the LEN instructions at FROM, as glibc builds
 * them: "(((X?)X)?X)?", K SPLITs first (at AT, room made) then the copies
 * from XS on (the first already there when XS is FROM), each SPLIT
 * skipping to a later copy or the end. */
static void optional_copies(struct build *b, size_t at, size_t xs, size_t from, size_t len, long k)
{
	while (b->n < xs + (size_t)k * len)
		copy(b, from, len);
	for (long j = 1; j <= k; j++) {
		size_t split = at + (size_t)(k - j);

		b->code[split] = (struct rx_insn){ RX_SPLIT, 0, 1, (int16_t)(xs + (size_t)j * len - split) };
	}
}

/* The atom whose program starts at S, repeated LO to HI times (HI < 0:
 * no upper bound), laid out as glibc's parse_dup_op() lays out its tree
 * (the first copy the original, a star over a copy after LO of them):
 * glibc weakens an anchor followed by a copy (see weak_anchors()). */
static bool repeat(struct build *b, size_t s, long lo, long hi)
{
	size_t len = b->n - s, x;
	uint64_t need = (uint64_t)lo * len;

	if (hi == 0 || len == 0) {
		b->n = hi == 0 ? s : b->n;
		return true;
	}
	if (hi < 0)
		need += len + 2;
	else
		need += (uint64_t)(hi - lo) * (len + 1);
	if (!room(b, need - len))
		return false;
	if (lo == 0) {
		insert(b, s, hi < 0 ? 1 : (size_t)hi);
		x = s + (hi < 0 ? 1 : (size_t)hi);
		if (hi > 0) {
			optional_copies(b, s, x, x, len, hi);
			return true;
		}
	} else {
		for (long k = 1; k < lo; k++)
			copy(b, s, len);
		if (hi == lo)
			return true;
		x = b->n + (hi < 0 ? 1 : (size_t)(hi - lo));
		if (hi > 0) {
			insert(b, b->n, (size_t)(hi - lo));
			optional_copies(b, x - (size_t)(hi - lo), x, s, len, hi - lo);
			return true;
		}
		insert(b, b->n, 1);
		copy(b, s, len);
	}
	b->code[x - 1] = (struct rx_insn){ RX_SPLIT, 0, 1, (int16_t)(len + 2) };   /* a star */
	emit(b, RX_JMP, 0, -(long)(len + 1), 0);
	return true;
}

/* The repetition operators after the atom whose program starts at S. */
static bool repetitions(struct build *b, size_t s)
{
	for (;;) {
		long lo = 0, hi = -1;
		const char *q = b->p + 1;

		switch (*b->p) {
		case '*': break;
		case '+': lo = 1; break;
		case '?': hi = 1; break;
		case '{':
			if (!regex_interval(&q, &lo, &hi))
				return fail(b, -EINVAL, "bad interval");
			break;
		default:
			return true;
		}
		b->p = q;
		if (!repeat(b, s, lo, hi))
			return false;
	}
}

static bool branch(struct build *b, int depth)
{
	while (*b->p && *b->p != '|' && !(*b->p == ')' && depth > 0)) {
		size_t s = b->n;
		bool anchor;

		if (!atom(b, depth, &anchor) || (!anchor && !repetitions(b, s)))
			return false;
	}
	return true;
}

/* Branches separated by '|': each but the last gets a SPLIT before it and
 * a JMP to the end after it; the JMPs wait for the end chained through x. */
static bool alternation(struct build *b, int depth)
{
	size_t start = b->n;
	long chain = -1;

	for (;;) {
		if (!branch(b, depth))
			return false;
		if (*b->p != '|')
			break;
		b->p++;
		if (!room(b, 2))
			return false;
		insert(b, start, 1);
		emit(b, RX_JMP, 0, chain, 0);
		chain = (long)b->n - 1;
		b->code[start] = (struct rx_insn){ RX_SPLIT, 0, 1, (int16_t)(b->n - start) };
		start = b->n;
	}
	while (chain >= 0) {
		size_t j = (size_t)chain;

		chain = b->code[j].x;
		b->code[j].x = (int16_t)(b->n - j);
	}
	return true;
}

/* An anchor followed by a copy of a repetition is weak (RX_WEAK). */
static void weak_anchors(struct build *b)
{
	for (size_t pc = 0; pc < b->n; pc++) {
		size_t t = pc + 1;

		if (b->code[pc].op != RX_ASSERT)
			continue;
		while (b->code[t].op == RX_JMP)
			t = (size_t)((long)t + b->code[t].x);
		if (b->copied[t])
			b->code[pc].c |= RX_WEAK;
	}
}

/* What a match can start with: the bytes read first from the start (any
 * assertion taken as holding), unless a match can be empty. */
static void first_bytes(struct regex_prog *rx)
{
	size_t sp = 0;
	bool empty = false;

	memset(rx->first, 0, sizeof(rx->first));
	rx->seen[0] = 1;
	rx->stack[sp++] = 0;
	while (sp) {
		size_t pc = rx->stack[--sp], to[2];
		const struct rx_insn *in = &rx->code[pc];
		int n = 0;

		switch (in->op) {
		case RX_CHAR: rx_set_add(rx->first, in->c, in->c); break;
		case RX_ANY: rx_set_add(rx->first, 1, 255); break;
		case RX_SET: for (int i = 0; i < 4; i++) rx->first[i] |= rx->sets[in->x][i]; break;
		case RX_MATCH: empty = true; break;
		case RX_SPLIT: to[n++] = (size_t)((long)pc + in->y); /* fall through */
		case RX_JMP: to[n++] = (size_t)((long)pc + in->x); break;
		default: to[n++] = pc + 1; break;   /* RX_ASSERT */
		}
		while (n--)
			if (!rx->seen[to[n]]) {
				rx->seen[to[n]] = 1;
				rx->stack[sp++] = (uint16_t)to[n];
			}
	}
	memset(rx->seen, 0, rx->n * sizeof(rx->seen[0]));
	rx->skip = !empty;
	rx->anchored = rx->code[0].op == RX_ASSERT &&
		       (rx->code[0].c == RX_BEGIN || rx->code[0].c == RX_LINE_BEGIN);   /* not weak */
}

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

/* The program built, moved into one allocation with the matcher's scratch. */
static struct regex_prog *assemble(const struct build *b)
{
	size_t n = b->n, at_sets = ALIGN8(sizeof(struct regex_prog));
	size_t at_seen = at_sets + b->n_sets * sizeof(rx_set);
	size_t at_code = ALIGN8(at_seen + n * sizeof(uint32_t));
	size_t at_lists = ALIGN8(at_code + n * sizeof(struct rx_insn));
	size_t bytes = at_lists + 6 * n * sizeof(uint16_t);
	char *m = calloc(1, bytes);
	struct regex_prog *rx = (struct regex_prog *)m;

	if (!m)
		return NULL;
	rx->n = n;
	rx->bytes = bytes;
	rx->n_sets = b->n_sets;
	rx->sets = (rx_set *)(m + at_sets);
	rx->seen = (uint32_t *)(m + at_seen);
	rx->code = (struct rx_insn *)(m + at_code);
	rx->list[0] = (uint16_t *)(m + at_lists);
	rx->list[1] = rx->list[0] + n;
	rx->stack = rx->list[1] + n;   /* 4 * n */
	if (b->n_sets)
		memcpy(rx->sets, b->sets, b->n_sets * sizeof(rx_set));
	memcpy(rx->code, b->code, n * sizeof(struct rx_insn));
	first_bytes(rx);
	return rx;
}

int regex_compile(const char *pattern, struct regex_prog **out, const char **why, size_t *at)
{
	struct build b = { .re = pattern, .p = pattern };
	int r;

	*out = NULL;
	b.code = malloc(REGEX_PROG_MAX * sizeof(*b.code));
	b.copied = malloc(REGEX_PROG_MAX);
	if (!b.code || !b.copied) {
		free(b.code);
		free(b.copied);
		return -ENOMEM;
	}
	if (alternation(&b, 0) && *b.p)
		fail(&b, -EINVAL, "unmatched )");   /* not reached: ')' is a literal here */
	r = b.err;
	if (r == 0) {
		emit(&b, RX_MATCH, 0, 0, 0);
		weak_anchors(&b);
		*out = assemble(&b);
		if (!*out)
			r = -ENOMEM;
	}
	if (r == -ENOMEM)
		b.why = "out of memory";
	if (why)
		*why = b.why;
	if (at)
		*at = b.at;
	free(b.code);
	free(b.copied);
	free(b.sets);
	return r;
}

size_t regex_prog_bytes(const struct regex_prog *rx)
{
	return rx ? rx->bytes : 0;
}

void regex_free(struct regex_prog *rx)
{
	free(rx);
}
