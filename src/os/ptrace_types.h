/* The request and result of ptrace_call (os/ptrace_call.h says what it
 * does): apart, so that the call and its task set (os/ptrace_tasks.h)
 * both see them without including each other. */
#ifndef LEAKWATCH_PTRACE_TYPES_H
#define LEAKWATCH_PTRACE_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PTRACE_CALL_ARG_MAX     4096
#define PTRACE_CALL_THREADS_MAX 4096

struct ptrace_call_req {
	pid_t pid;
	int procfd;            /* its /proc/PID directory, kept by the caller */
	uint64_t safe_point;   /* entry of the function where the trap goes */
	uint64_t check_fn;     /* long f(void): nonzero = not now */
	uint64_t alloc_fn;     /* void *f(size_t) */
	uint64_t run_fn;       /* int f(const char *) */
	uint64_t ret_byte;     /* an address holding 0xC3 in executable memory */
	const char *arg;       /* copied into the target, NUL-terminated */
	size_t arg_len;        /* <= PTRACE_CALL_ARG_MAX */
	unsigned timeout_ms;   /* for a thread to reach the safe point */
};

struct ptrace_call_result {
	pid_t tid;             /* the thread sent into run_fn */
	uint64_t wait_usec;    /* from the breakpoint armed to the trap taken */
	uint64_t held_usec;    /* that thread stopped: trap to release */
	uint64_t total_usec;   /* first attach to last detach */
	unsigned threads;      /* tasks traced */
	unsigned skipped;      /* traps let go (an exception was set) */
	char why[200];         /* what failed, when it did */
};

#endif
