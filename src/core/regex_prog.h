/* The compiled form of a cmdline regex, shared by its compiler
 * (regex_compile.c) and its matcher (regex_match.c); nothing else looks
 * inside.  A Thompson NFA as a program: each instruction either reads one
 * byte (RX_CHAR, RX_ANY, RX_SET) and goes on to the next, or moves without
 * reading (RX_SPLIT, RX_JMP, RX_NOP, RX_ASSERT).  Jumps are relative to the
 * instruction, so a piece of program copied elsewhere (a repetition) runs
 * unchanged. */
#ifndef LEAKWATCH_REGEX_PROG_H
#define LEAKWATCH_REGEX_PROG_H

#include <stddef.h>
#include <stdint.h>

enum rx_op {
	RX_CHAR,     /* reads the byte c */
	RX_ANY,      /* reads any byte but NUL ('.') */
	RX_SET,      /* reads a byte of set x (a bracket expression, \w, \s...) */
	RX_SPLIT,    /* goes on at both x and y */
	RX_JMP,      /* goes on at x */
	RX_NOP,      /* goes on at the next one (where glibc has a node) */
	RX_ASSERT,   /* goes on at the next one when assertion c holds here */
	RX_MATCH,    /* the regex has matched */
};

/* What RX_ASSERT tests, between the byte before and the byte after.  A
 * word byte is [0-9A-Za-z_] (the C locale's).  ^ and $ are glibc's
 * without REG_NEWLINE, which is not just the start and the end: glibc's
 * DFA enters its after-a-newline state on every newline it reads, and
 * lets a byte read right after $ be a newline.  So ^ also holds after a
 * newline this match has read (not where a match starts), and $ before
 * a newline this match goes on to read (not where it ends). */
enum rx_assert {
	RX_BEGIN,           /* \` */
	RX_LINE_BEGIN,      /* ^ */
	RX_END,             /* \' */
	RX_LINE_END,        /* $ */
	RX_WORD_BOUNDARY,   /* \b */
	RX_NOT_BOUNDARY,    /* \B */
	RX_WORD_START,      /* \< */
	RX_WORD_END,        /* \> */
};

/* glibc gives an anchor's constraint to the nodes after it only when the
 * node right after it is not one that duplicate_tree() made for a
 * repetition (calc_eclosure_iter()); a path through no other anchor then
 * passes it untested.  "(^x){2}" matches "xx" there, "(a$){2}" "aa".
 * regex_compile.c marks such an RX_ASSERT weak, and the matcher does
 * the same. */
#define RX_WEAK 0x80u

struct rx_insn {
	uint8_t op;          /* enum rx_op */
	uint8_t c;           /* RX_CHAR: the byte; RX_ASSERT: enum rx_assert */
	int16_t x, y;        /* RX_SPLIT, RX_JMP: targets, relative; RX_SET: x the set */
};

typedef uint64_t rx_set[4];   /* 256 bits, one per byte value */

static inline int rx_in_set(const uint64_t *set, unsigned char c)
{
	return (int)((set[c >> 6] >> (c & 63)) & 1);
}

struct regex_prog {
	size_t n;                 /* instructions; the program starts at 0 */
	struct rx_insn *code;
	size_t n_sets;
	rx_set *sets;
	rx_set first;             /* the bytes a match can start with (when skip) */
	int skip;                 /* no match is empty: skip to a byte of first */
	int anchored;             /* the program starts with ^ or \`: tried at 0 only */
	size_t bytes;             /* the whole allocation */
	/* The matcher's scratch, sized here so that it allocates nothing. */
	uint32_t *seen;           /* 16 * stamp + the ways pc was reached here */
	uint32_t stamp;           /* one per position */
	uint16_t *list[2];        /* the reading instructions at this position and the next */
	uint16_t *stack;          /* 4 * pc + the way, 4 * n of them */
};

#endif
