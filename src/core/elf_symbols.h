/* A reader of the few things an injector needs from an ELF64
 * little-endian file (a libpython or a python executable): its PT_LOAD
 * segments, the defined symbols of its .dynsym by name, a byte 0xC3
 * (`ret`) in an executable segment, and the load bias of a mapping of it
 * as /proc/PID/maps shows one.  Pure: the file is read through a
 * pread-like callback, so tests hand it images built in memory and the
 * fuzz target arbitrary bytes.
 *
 * The file may be anything (a hostile one included): every offset, size
 * and count it states is checked against the file's size before it is
 * used, and the work is bounded whatever it says (at most ELF_PHDRS_MAX
 * program headers, ELF_LOADS_MAX PT_LOADs, ELF_SECTIONS_MAX sections,
 * ELF_SYMS_MAX symbols, ELF_STRTAB_MAX bytes of names, ELF_RET_SCAN_MAX
 * bytes scanned for a `ret`). */
#ifndef LEAKWATCH_ELF_SYMBOLS_H
#define LEAKWATCH_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ELF_PHDRS_MAX    256
#define ELF_LOADS_MAX    16
#define ELF_SECTIONS_MAX 4096
#define ELF_SYMS_MAX     (1u << 18)     /* libpython3.13 has about 3,300 */
#define ELF_STRTAB_MAX   (4u << 20)     /* its .dynstr: 38 KiB */
#define ELF_RET_SCAN_MAX (1u << 20)

/* Reads len bytes at off into buf: the bytes read (0 at the end of the
 * file), or -errno. */
typedef ssize_t elf_pread_fn(void *ctx, void *buf, size_t len, uint64_t off);

struct elf_load {              /* one PT_LOAD */
	uint64_t offset, vaddr, filesz, memsz;
	bool exec, write;
};

struct elf_image {
	elf_pread_fn *read;
	void *ctx;
	uint64_t size;             /* the file's */
	uint16_t type;             /* ET_EXEC or ET_DYN */
	uint16_t machine;          /* EM_X86_64, ... */
	size_t nloads;
	struct elf_load loads[ELF_LOADS_MAX];   /* by vaddr, not overlapping */
	uint64_t symoff, nsyms;    /* .dynsym; nsyms 0 when there is none */
	uint64_t stroff, strsize;  /* the string table it links to */
};

/* Read and check the headers of the file of size bytes.  0; -ENOEXEC when
 * it is not an ELF64 little-endian ET_EXEC or ET_DYN file; -EINVAL when a
 * header is out of the file's bounds or inconsistent (PT_LOADs out of
 * order or overlapping, a .dynsym whose link is no string table, an entry
 * size not the ELF64 one); -E2BIG when a count or size is over the caps
 * above; or the callback's -errno (-EIO when it reads short).  A file
 * without section headers or .dynsym opens, with no symbols. */
int elf_image_open(struct elf_image *e, elf_pread_fn *read, void *ctx, uint64_t size);

/* A symbol looked for: name and type in, the rest out. */
struct elf_sym_query {
	const char *name;
	unsigned char type;        /* STT_FUNC, STT_OBJECT */
	bool found;
	uint64_t value, size;      /* st_value (a vaddr), st_size */
};

/* One pass over .dynsym for all n queries: for each, the first symbol of
 * that name and type that is defined (in a section, not SHN_UNDEF, ABS or
 * COMMON) and GLOBAL or WEAK.  0 (found says which were); -ENOENT when
 * the file has no .dynsym; -ENOMEM; or the read's -errno. */
int elf_find_symbols(const struct elf_image *e, struct elf_sym_query *q, size_t n);

/* The file offset of the len bytes at vaddr, when they lie within the
 * file bytes of one PT_LOAD (an executable one when exec): 0 and *off,
 * or -EFAULT. */
int elf_vaddr_offset(const struct elf_image *e, uint64_t vaddr, uint64_t len, bool exec,
		     uint64_t *off);

/* The vaddr of the first byte 0xC3 in the file bytes of the executable
 * PT_LOADs, reading at most ELF_RET_SCAN_MAX of them: 0 and *vaddr;
 * -ENOENT when there is none in that; or the read's -errno. */
int elf_find_ret(const struct elf_image *e, uint64_t *vaddr);

/* The load bias (what is added to a vaddr to get its address in the
 * process) of a mapping of the file at start from file offset off (the
 * first and third fields of a /proc/PID/maps line), from the PT_LOAD
 * whose pages hold off: only the executable ones when exec (a mapping
 * with 'x'), since a page may hold the end of one segment and the start
 * of the next.  page: the page size.  0 and *bias; -EFAULT when no
 * PT_LOAD or two hold off, start or off is not page-aligned, the PT_LOAD's
 * vaddr and offset are not congruent modulo page, or the file is ET_EXEC
 * and the bias not 0. */
int elf_load_bias(const struct elf_image *e, uint64_t start, uint64_t off, bool exec,
		  uint64_t page, uint64_t *bias);

#endif
