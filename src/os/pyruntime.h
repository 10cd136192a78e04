/* A live process's CPython runtime, and the addresses in it that the
 * injector (os/ptrace_call.h) calls: which file of the process is
 * CPython (core/maps_parse.h), which version, and where its functions
 * are in the process (core/elf_symbols.h on that file, opened as the
 * process sees it, with the load bias of its mapping). */
#ifndef LEAKWATCH_PYRUNTIME_H
#define LEAKWATCH_PYRUNTIME_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define PYRUNTIME_MAPS_MAX (4u << 20)   /* /proc/PID/maps read at most */

struct pyruntime {
	char version[16];          /* "3.11"; "3.8-3.10" when only that is known */
	char path[PATH_MAX];       /* the runtime's file, as in maps */
	uint64_t save_thread;      /* PyEval_SaveThread: the safe point */
	uint64_t err_occurred;     /* PyErr_Occurred */
	uint64_t raw_malloc;       /* PyMem_RawMalloc */
	uint64_t run_simple_string;/* PyRun_SimpleString */
	uint64_t ret_byte;         /* a byte 0xC3 in an executable mapping of path */
};

/* Resolve the runtime of the process whose /proc/PID directory (or a
 * live thread's /proc/PID/task/TID, when its main thread has exited) is
 * procfd.  0 and *rt; or, with a one-line reason in why:
 *   -ENOEXEC          not CPython: no libpythonX.Y or pythonX.Y executable
 *                     mapped, or it is no ELF file for this machine, or it
 *                     does not define the functions; or two libpythons mapped
 *   -EPROTONOSUPPORT  a CPython 2.x or 3.x older than 3.8
 *   -EPERM            the runtime's file is not root's, or group or others
 *                     may write it
 *   -ESTALE           the file was deleted or replaced since it was mapped
 *                     (what its path opens is not the mapped device and inode)
 *   -ESRCH            the process is gone
 *   -EFAULT           the addresses are not consistent (no executable mapping
 *                     of the file, two at different biases, a function
 *                     outside them or outside an executable segment)
 *   -EFBIG            its maps is over PYRUNTIME_MAPS_MAX
 *   -EINVAL           a line of its maps does not parse
 *   or -errno of a read or open. */
int pyruntime_resolve(int procfd, struct pyruntime *rt, char *why, size_t whylen);

#endif
