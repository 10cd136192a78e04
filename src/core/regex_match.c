/* The cmdline matcher (see regex_match.h): a Thompson NFA simulation.
 *
 * Why not glibc's regexec.  A watched process's owner writes its argv, up
 * to 64 KiB of which the daemon reads, and every cmdline: criterion was a
 * regexec over it, at every discovery of the process.  glibc 2.36 takes
 * quadratic time on ordinary patterns, and worse on some regex_cost.h
 * accepts (REG_EXTENDED|REG_NOSUB, C locale, unanchored search, measured):
 *   "celery .*worker" (the shipped example) on 64 KiB of "celery ":
 *     945 ms per regexec, so 50 such processes stall a tick for 47 s;
 *   "(a|b)*a(a|b){20}c" on 64 KiB of random a/b: 165 s and 540 MB; on
 *     4 KiB still 60-300 ms.
 * Rewriting R as "^.*(R)" makes glibc take one DFA pass, but its cache of
 * DFA states has no bound: "^.*(a.{1000}c)" took 9.4 s and 800 MB on
 * 64 KiB.  A shorter text alone does not help either (the 4 KiB figure).
 * So the match is ours, with a bound that holds whatever the text:
 *
 * The program (regex_prog.h) runs on all its paths at once.  At each
 * position the list holds the reading instructions alive there, each at
 * most once (seen[] stamps them); a byte moves each to the next position
 * and follows the jumps, splits and assertions from there.  Time: at most
 * (LEN + 1) * n instruction visits, n <= REGEX_PROG_MAX; memory: the
 * lists, the stamps and a stack of n each, allocated with the program.
 * No back-references (regex_cost.h refuses them), no submatches (the
 * daemon asks only "does it match", REG_NOSUB).
 *
 * Two shortcuts that change no answer: a program that starts with ^ is
 * tried at position 0 only; and when no path is alive, positions whose
 * byte cannot begin a match are skipped (unless a match may be empty). */
#include "core/regex_match.h"
#include "core/regex_prog.h"

#include <stdint.h>
#include <string.h>

static bool is_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

struct run {
	struct regex_prog *rx;
	const unsigned char *s;
	size_t len;
};

enum { FAILS, HOLDS, HOLDS_IF_READ };   /* the last: $ before a newline */

/* Does assertion KIND hold at position I, on a path that started there
 * (FRESH) or read the byte before? */
static int holds(const struct run *r, unsigned kind, size_t i, bool fresh)
{
	bool before = i > 0 && is_word(r->s[i - 1]), after = i < r->len && is_word(r->s[i]);

	switch (kind) {
	case RX_BEGIN: return i == 0;
	case RX_LINE_BEGIN: return i == 0 || (!fresh && r->s[i - 1] == '\n');
	case RX_END: return i == r->len;
	case RX_LINE_END: return i == r->len ? HOLDS : r->s[i] == '\n' ? HOLDS_IF_READ : FAILS;
	case RX_WORD_BOUNDARY: return before != after;
	case RX_NOT_BOUNDARY: return before == after;
	case RX_WORD_START: return !before && after;
	default: return before && !after;   /* RX_WORD_END */
	}
}

/* How a path got where it is at this position, one bit each; more bits
 * can do more.  CLEAN: through no $ that held only before a newline (the
 * path may match here).  FREE: through no assertion yet (it passes a weak
 * one, see RX_WEAK, without testing it). */
#define CLEAN 1u
#define FREE  2u
#define SEEN(stamp) ((stamp) << 4)   /* seen[]: the stamp, then a bit per way */

/* PC reached the way WAY: to be followed unless it was already reached a
 * way that does at least as much (for an instruction that reads a byte,
 * any way: it reads the byte all the same). */
static void push(struct regex_prog *rx, size_t *sp, long pc, unsigned way)
{
	/* the ways that do at least as much as way w: those holding its bits */
	static const uint8_t covering[4] = { 0xf, 0xa, 0xc, 0x8 };
	uint32_t mark = rx->seen[pc], ways = (mark & ~15u) == SEEN(rx->stamp) ? mark & 15u : 0;

	if (ways & (rx->code[pc].op <= RX_SET ? 0xfu : covering[way]))
		return;
	rx->seen[pc] = SEEN(rx->stamp) | ways | 1u << way;
	rx->stack[(*sp)++] = (uint16_t)(4 * pc + way);
}

/* The way on after assertion IN, or -1 where it does not hold. */
static int assertion(const struct run *r, const struct rx_insn *in, size_t i, bool fresh, unsigned way)
{
	int h;

	if ((in->c & RX_WEAK) && (way & FREE))
		return (int)way;
	h = holds(r, in->c & ~RX_WEAK, i, fresh);
	if (h == FAILS)
		return -1;
	return (int)(way & ~FREE & (h == HOLDS ? ~0u : ~CLEAN));
}

/* Adds to LIST (of *N) the reading instructions reached from PC at
 * position I without reading (each once); true when the match is reached.
 * Call it for the paths that read the byte before first, then FRESH for
 * the one starting at I: those take ^ after a newline, and so cover what
 * the fresh one would reach the same way. */
static bool follow(const struct run *r, uint16_t *list, size_t *n, size_t pc, size_t i, bool fresh)
{
	struct regex_prog *rx = r->rx;
	size_t sp = 0;

	push(rx, &sp, (long)pc, CLEAN | FREE);
	while (sp) {
		unsigned way = rx->stack[--sp] & 3u;
		long at = rx->stack[sp] >> 2;
		const struct rx_insn *in = &rx->code[at];
		int w;

		switch (in->op) {
		case RX_MATCH:
			if (way & CLEAN)
				return true;
			break;
		case RX_SPLIT:
			push(rx, &sp, at + in->y, way);
			push(rx, &sp, at + in->x, way);
			break;
		case RX_JMP:
			push(rx, &sp, at + in->x, way);
			break;
		case RX_NOP:
			push(rx, &sp, at + 1, way);
			break;
		case RX_ASSERT:
			w = assertion(r, in, i, fresh, way);
			if (w >= 0)
				push(rx, &sp, at + 1, (unsigned)w);
			break;
		default:
			list[(*n)++] = (uint16_t)at;
			break;
		}
	}
	return false;
}

static bool reads(const struct regex_prog *rx, const struct rx_insn *in, unsigned char c)
{
	switch (in->op) {
	case RX_CHAR: return c == in->c;
	case RX_ANY: return c != 0;
	default: return rx_in_set(rx->sets[in->x], c);   /* RX_SET */
	}
}

/* A new position: a stamp no instruction holds yet. */
static void next_stamp(struct regex_prog *rx)
{
	if (++rx->stamp == UINT32_MAX >> 4) {
		memset(rx->seen, 0, rx->n * sizeof(rx->seen[0]));
		rx->stamp = 1;
	}
}

bool regex_search(struct regex_prog *rx, const char *s, size_t len)
{
	struct run r = { rx, (const unsigned char *)s, len };
	uint16_t *cur = rx->list[0], *next = rx->list[1], *t;
	size_t n_cur = 0, n_next;

	next_stamp(rx);
	for (size_t i = 0;; i++) {
		/* cur: what is alive at position i */
		if (n_cur == 0) {
			if (i > 0 && rx->anchored)
				return false;
			if (rx->skip && i < len && !rx_in_set(rx->first, r.s[i])) {
				while (i < len && !rx_in_set(rx->first, r.s[i]))
					i++;
				next_stamp(rx);
			}
		}
		if ((i == 0 || !rx->anchored) && (!rx->skip || (i < len && rx_in_set(rx->first, r.s[i]))) &&
		    follow(&r, cur, &n_cur, 0, i, true))
			return true;
		if (i == len)
			return false;
		next_stamp(rx);
		n_next = 0;
		for (size_t k = 0; k < n_cur; k++)
			if (reads(rx, &rx->code[cur[k]], r.s[i]) && follow(&r, next, &n_next, cur[k] + 1u, i + 1, false))
				return true;
		t = cur;
		cur = next;
		next = t;
		n_cur = n_next;
	}
}
