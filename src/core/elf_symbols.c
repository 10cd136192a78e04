/* The ELF reader (elf_symbols.h says what it reads).
 *
 * Why our own: the daemon must find PyEval_SaveThread and four other
 * functions in a process it does not trust, from the file that process
 * mapped.  dlopen+dlsym in the daemon would run the file's constructors
 * in the daemon and give the daemon's addresses, not the target's;
 * libelf or libbfd would be a dependency of the pure core (which links
 * libc alone) for a few headers' worth of reading, and neither is made
 * for hostile files.  GDB's way (/proc/PID/map_files, symbol tables)
 * needs more than the daemon has.  What is needed is small: the
 * program headers (where each segment lies in the file and in memory),
 * the section headers to find .dynsym and its string table, and a linear
 * scan of .dynsym.
 *
 * Why .dynsym and not .symtab: .symtab is stripped from every packaged
 * binary; .dynsym is what the dynamic linker itself resolves against, so
 * a symbol there is one the process can call.  Why a linear scan and not
 * the GNU hash table: libpython exports about 3,300 symbols, a scan of
 * them is about 100 KiB read and a few tens of microseconds, once per
 * inspection, and one pass finds all the names asked; the hash table
 * would be a second structure to bound-check for nothing.  A file with
 * no section headers (sstrip) is not read (its PT_DYNAMIC could be: not
 * done, no CPython build ships that way).
 *
 * Hostile input: every field is decoded from bytes explicitly as little
 * endian (no struct overlay, no alignment assumption), every offset plus
 * size checked against the file's size without overflow, every count
 * capped before anything is allocated or looped over.  The string table
 * is read whole (capped at ELF_STRTAB_MAX) and NUL-terminated by us, so
 * a name that runs off its end stops there.  Symbols are read in chunks
 * of SYM_CHUNK into a stack buffer.
 *
 * Costs: elf_image_open reads the ELF header, the program headers
 * (<= 14 KiB) and the section headers (<= 256 KiB, in 4 KiB chunks);
 * elf_find_symbols the string table and the symbols once. */
#include "core/elf_symbols.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EHDR_SIZE  64
#define PHDR_SIZE  56
#define SHDR_SIZE  64
#define SYM_SIZE   24
#define SYM_CHUNK  256
#define SHDR_CHUNK 64
#define RET_CHUNK  4096

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* [off, off + len) within the file */
static bool in_file(const struct elf_image *e, uint64_t off, uint64_t len)
{
	return off <= e->size && len <= e->size - off;
}

/* All of len bytes at off (checked in_file by the caller): 0, -EIO when
 * the file ends early (it shrank), or the callback's -errno. */
static int read_exact(const struct elf_image *e, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = e->read(e->ctx, p + got, len - got, off + got);

		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > len - got)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

static int check_ident(struct elf_image *e, const unsigned char *h)
{
	if (memcmp(h, ELFMAG, SELFMAG) != 0 || h[EI_CLASS] != ELFCLASS64 ||
	    h[EI_DATA] != ELFDATA2LSB || h[EI_VERSION] != EV_CURRENT)
		return -ENOEXEC;
	e->type = le16(h + 16);
	e->machine = le16(h + 18);
	if (e->type != ET_EXEC && e->type != ET_DYN)
		return -ENOEXEC;
	return 0;
}

/* One program header: a PT_LOAD is checked and kept, the rest ignored. */
static int add_phdr(struct elf_image *e, const unsigned char *p)
{
	struct elf_load l;
	const struct elf_load *prev;

	if (le32(p) != PT_LOAD)
		return 0;
	l.offset = le64(p + 8);
	l.vaddr = le64(p + 16);
	l.filesz = le64(p + 32);
	l.memsz = le64(p + 40);
	l.exec = (le32(p + 4) & PF_X) != 0;
	l.write = (le32(p + 4) & PF_W) != 0;
	if (!in_file(e, l.offset, l.filesz) || l.filesz > l.memsz || l.vaddr > UINT64_MAX - l.memsz)
		return -EINVAL;
	if (e->nloads == ELF_LOADS_MAX)
		return -E2BIG;
	prev = e->nloads ? &e->loads[e->nloads - 1] : NULL;
	if (prev && l.vaddr < prev->vaddr + prev->memsz)
		return -EINVAL;   /* out of order, or overlapping the one before */
	e->loads[e->nloads++] = l;
	return 0;
}

static int read_phdrs(struct elf_image *e, const unsigned char *h)
{
	uint64_t phoff = le64(h + 32);
	uint16_t phentsize = le16(h + 54), phnum = le16(h + 56);
	unsigned char buf[PHDR_SIZE];

	if (phnum == 0)
		return -EINVAL;            /* nothing would be loaded */
	if (phnum > ELF_PHDRS_MAX)
		return -E2BIG;             /* PN_XNUM (extended numbering) too */
	if (phentsize != PHDR_SIZE || !in_file(e, phoff, (uint64_t)phnum * PHDR_SIZE))
		return -EINVAL;
	for (uint16_t i = 0; i < phnum; i++) {
		int r = read_exact(e, buf, sizeof(buf), phoff + (uint64_t)i * PHDR_SIZE);

		if (r == 0)
			r = add_phdr(e, buf);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The .dynsym section header sym: its bounds and its string table's. */
static int use_dynsym(struct elf_image *e, const unsigned char *sym, uint64_t shoff, uint16_t shnum)
{
	unsigned char str[SHDR_SIZE];
	uint64_t off = le64(sym + 24), size = le64(sym + 32), entsize = le64(sym + 56);
	uint32_t link = le32(sym + 40);
	int r;

	if (entsize != SYM_SIZE || !in_file(e, off, size) || link == 0 || link >= shnum)
		return -EINVAL;
	if (size / SYM_SIZE > ELF_SYMS_MAX)
		return -E2BIG;
	r = read_exact(e, str, sizeof(str), shoff + (uint64_t)link * SHDR_SIZE);
	if (r < 0)
		return r;
	if (le32(str + 4) != SHT_STRTAB || !in_file(e, le64(str + 24), le64(str + 32)))
		return -EINVAL;
	if (le64(str + 32) > ELF_STRTAB_MAX)
		return -E2BIG;
	e->symoff = off;
	e->nsyms = size / SYM_SIZE;
	e->stroff = le64(str + 24);
	e->strsize = le64(str + 32);
	return 0;
}

/* The first SHT_DYNSYM among the section headers, if any. */
static int read_shdrs(struct elf_image *e, const unsigned char *h)
{
	uint64_t shoff = le64(h + 40);
	uint16_t shentsize = le16(h + 58), shnum = le16(h + 60);
	unsigned char buf[SHDR_CHUNK * SHDR_SIZE];

	if (shnum == 0 || shoff == 0)
		return 0;                  /* none (or extended numbering): no symbols */
	if (shnum > ELF_SECTIONS_MAX)
		return -E2BIG;
	if (shentsize != SHDR_SIZE || !in_file(e, shoff, (uint64_t)shnum * SHDR_SIZE))
		return -EINVAL;
	for (uint16_t i = 0; i < shnum; i += SHDR_CHUNK) {
		uint16_t n = shnum - i < SHDR_CHUNK ? (uint16_t)(shnum - i) : SHDR_CHUNK;
		int r = read_exact(e, buf, (size_t)n * SHDR_SIZE, shoff + (uint64_t)i * SHDR_SIZE);

		if (r < 0)
			return r;
		for (uint16_t k = 0; k < n; k++)
			if (le32(buf + k * SHDR_SIZE + 4) == SHT_DYNSYM)
				return use_dynsym(e, buf + k * SHDR_SIZE, shoff, shnum);
	}
	return 0;
}

int elf_image_open(struct elf_image *e, elf_pread_fn *read, void *ctx, uint64_t size)
{
	unsigned char h[EHDR_SIZE];
	int r;

	memset(e, 0, sizeof(*e));
	e->read = read;
	e->ctx = ctx;
	e->size = size;
	if (size < EHDR_SIZE)
		return -ENOEXEC;
	r = read_exact(e, h, sizeof(h), 0);
	if (r == 0)
		r = check_ident(e, h);
	if (r == 0)
		r = read_phdrs(e, h);
	if (r == 0)
		r = read_shdrs(e, h);
	return r;
}

/* Does the symbol (its st_info and st_shndx) count as defined, of type? */
static bool sym_wanted(unsigned char info, uint16_t shndx, unsigned char type)
{
	unsigned char bind = ELF64_ST_BIND(info);

	return ELF64_ST_TYPE(info) == type && (bind == STB_GLOBAL || bind == STB_WEAK) &&
	       shndx != SHN_UNDEF && shndx < SHN_LORESERVE;
}

/* Match the symbols of one chunk against the queries; the queries still
 * open are counted down in *left. */
static void match_chunk(const unsigned char *buf, size_t n, const char *strtab, uint64_t strsize,
			struct elf_sym_query *q, size_t nq, size_t *left)
{
	for (size_t i = 0; i < n && *left; i++) {
		const unsigned char *s = buf + i * SYM_SIZE;
		uint32_t name = le32(s);

		if (name == 0 || name >= strsize)
			continue;
		for (size_t k = 0; k < nq; k++) {
			if (q[k].found || !sym_wanted(s[4], le16(s + 6), q[k].type) ||
			    strcmp(strtab + name, q[k].name) != 0)
				continue;
			q[k].found = true;
			q[k].value = le64(s + 8);
			q[k].size = le64(s + 16);
			(*left)--;
		}
	}
}

int elf_find_symbols(const struct elf_image *e, struct elf_sym_query *q, size_t n)
{
	unsigned char buf[SYM_CHUNK * SYM_SIZE];
	size_t left = n;
	char *strtab;
	int r;

	for (size_t k = 0; k < n; k++)
		q[k].found = false;
	if (e->nsyms == 0)
		return -ENOENT;
	strtab = malloc((size_t)e->strsize + 1);
	if (!strtab)
		return -ENOMEM;
	r = read_exact(e, strtab, (size_t)e->strsize, e->stroff);
	strtab[e->strsize] = '\0';
	for (uint64_t i = 0; r == 0 && i < e->nsyms && left; i += SYM_CHUNK) {
		size_t c = e->nsyms - i < SYM_CHUNK ? (size_t)(e->nsyms - i) : SYM_CHUNK;

		r = read_exact(e, buf, c * SYM_SIZE, e->symoff + i * SYM_SIZE);
		if (r == 0)
			match_chunk(buf, c, strtab, e->strsize, q, n, &left);
	}
	free(strtab);
	return r;
}

int elf_vaddr_offset(const struct elf_image *e, uint64_t vaddr, uint64_t len, bool exec,
		     uint64_t *off)
{
	for (size_t i = 0; i < e->nloads; i++) {
		const struct elf_load *l = &e->loads[i];

		if ((exec && !l->exec) || vaddr < l->vaddr || vaddr - l->vaddr > l->filesz ||
		    len > l->filesz - (vaddr - l->vaddr))
			continue;
		*off = l->offset + (vaddr - l->vaddr);
		return 0;
	}
	return -EFAULT;
}

int elf_find_ret(const struct elf_image *e, uint64_t *vaddr)
{
	unsigned char buf[RET_CHUNK];
	uint64_t budget = ELF_RET_SCAN_MAX;

	for (size_t i = 0; i < e->nloads && budget; i++) {
		const struct elf_load *l = &e->loads[i];

		for (uint64_t at = 0; l->exec && at < l->filesz && budget; ) {
			size_t c = RET_CHUNK;
			const unsigned char *hit;
			int r;

			if (c > l->filesz - at)
				c = (size_t)(l->filesz - at);
			if (c > budget)
				c = (size_t)budget;
			r = read_exact(e, buf, c, l->offset + at);
			if (r < 0)
				return r;
			hit = memchr(buf, 0xC3, c);
			if (hit) {
				*vaddr = l->vaddr + at + (uint64_t)(hit - buf);
				return 0;
			}
			at += c;
			budget -= c;
		}
	}
	return -ENOENT;
}

int elf_load_bias(const struct elf_image *e, uint64_t start, uint64_t off, bool exec,
		  uint64_t page, uint64_t *bias)
{
	const struct elf_load *hit = NULL;

	if (page == 0 || (page & (page - 1)) || start % page || off % page)
		return -EFAULT;
	for (size_t i = 0; i < e->nloads; i++) {
		const struct elf_load *l = &e->loads[i];
		uint64_t first = l->offset & ~(page - 1);

		if ((exec && !l->exec) || l->filesz == 0 || off < first ||
		    off >= l->offset + l->filesz)   /* in_file: no overflow */
			continue;
		if (hit)
			return -EFAULT;      /* two segments in that page */
		hit = l;
	}
	if (!hit || (hit->vaddr - hit->offset) % page)
		return -EFAULT;
	*bias = start - off - (hit->vaddr - hit->offset);
	if (e->type == ET_EXEC && *bias != 0)
		return -EFAULT;
	return 0;
}
