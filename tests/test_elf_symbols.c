/* core/elf_symbols on tiny ELF images built here in memory, each case a
 * mutation of one valid image (truncated, out of bounds, overlapping,
 * huge counts: the last through a reader that serves zeros past the
 * image, so a "file" of 7 MiB costs nothing), then on the real
 * /usr/bin/python3.11 and pyenv's libpythons when present: the symbols'
 * values as readelf(1) prints them, and the ret byte really 0xC3. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/elf_symbols.h"

/* The image: ELF header, program headers at 0x40, .dynsym at 0x600,
 * .dynstr at 0x800, text (R+X) at 0x1000 (vaddr 0x11000: a vaddr not its
 * offset), data (RW) at 0x1100 (vaddr 0x12100, sharing the text's page in
 * the file), section headers at 0x1200. */
#define IMG_MAX  0x1400
#define PHOFF    0x40
#define SYMOFF   0x600
#define STROFF   0x800
#define TEXTOFF  0x1000
#define DATAOFF  0x1100
#define SHOFF    0x1200
#define RET_AT   0x1042      /* a file offset; vaddr TEXTVA + 0x42 */
#define TEXTVA   0x11000
#define DATAVA   0x12100

struct img {
	unsigned char b[IMG_MAX];
	size_t len;            /* bytes of b that are the file */
	uint64_t size;         /* the file's size as told (zeros past len) */
	int fail_at;           /* a read from this offset on fails (-1: none) */
	bool dribble;          /* reads return 1 byte at a time */
	bool shrunk;           /* reads past len find the end of the file */
	unsigned reads;
};

static void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(unsigned char *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static ssize_t img_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct img *m = ctx;

	m->reads++;
	if (m->fail_at >= 0 && off + len > (uint64_t)m->fail_at)
		return -EIO;
	if (off >= m->size || (m->shrunk && off >= m->len))
		return 0;
	if (len > m->size - off)
		len = (size_t)(m->size - off);
	if (m->dribble && len > 1)
		len = 1;
	memset(buf, 0, len);
	if (off < m->len)
		memcpy(buf, m->b + off, len < m->len - off ? len : m->len - off);
	return (ssize_t)len;
}

static void phdr(struct img *m, int i, uint32_t flags, uint64_t off, uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	unsigned char *p = m->b + PHOFF + i * 56;

	put32(p, PT_LOAD);
	put32(p + 4, flags);
	put64(p + 8, off);
	put64(p + 16, vaddr);
	put64(p + 24, vaddr);
	put64(p + 32, filesz);
	put64(p + 40, memsz);
	put64(p + 48, 0x1000);
}

static void shdr(struct img *m, int i, uint32_t type, uint64_t off, uint64_t size, uint32_t link, uint64_t entsize)
{
	unsigned char *p = m->b + SHOFF + i * 64;

	put32(p + 4, type);
	put64(p + 24, off);
	put64(p + 32, size);
	put32(p + 40, link);
	put64(p + 56, entsize);
}

static uint32_t add_name(struct img *m, uint32_t *strpos, const char *name)
{
	uint32_t at = *strpos;

	memcpy(m->b + STROFF + at, name, strlen(name) + 1);
	*strpos += (uint32_t)strlen(name) + 1;
	return at;
}

static void sym(struct img *m, int i, uint32_t name, unsigned char bind, unsigned char type, uint16_t shndx, uint64_t value)
{
	unsigned char *p = m->b + SYMOFF + i * 24;

	put32(p, name);
	p[4] = (unsigned char)ELF64_ST_INFO(bind, type);
	put16(p + 6, shndx);
	put64(p + 8, value);
	put64(p + 16, 16);
}

#define NSYMS 11

static void build(struct img *m)
{
	unsigned char *h = m->b;
	uint32_t s = 1, raw, run;

	memset(m, 0, sizeof(*m));
	m->len = m->size = SHOFF + 3 * 64;
	m->fail_at = -1;
	memcpy(h, ELFMAG, SELFMAG);
	h[EI_CLASS] = ELFCLASS64;
	h[EI_DATA] = ELFDATA2LSB;
	h[EI_VERSION] = EV_CURRENT;
	put16(h + 16, ET_DYN);
	put16(h + 18, EM_X86_64);
	put64(h + 32, PHOFF);
	put64(h + 40, SHOFF);
	put16(h + 54, 56);
	put16(h + 56, 3);
	put16(h + 58, 64);
	put16(h + 60, 3);
	phdr(m, 0, PF_R, 0, 0, 0x1000, 0x1000);
	phdr(m, 1, PF_R | PF_X, TEXTOFF, TEXTVA, 0x100, 0x100);
	phdr(m, 2, PF_R | PF_W, DATAOFF, DATAVA, 0x10, 0x40);
	memset(m->b + TEXTOFF, 0x90, 0x100);
	m->b[RET_AT] = 0xC3;
	m->b[DATAOFF + 1] = 0xC3;          /* not code: never the ret byte */
	put32(m->b + DATAOFF, 0x030B07F0);  /* Py_Version 3.11.7 */
	sym(m, 1, add_name(m, &s, "PyEval_SaveThread"), STB_GLOBAL, STT_FUNC, 1, TEXTVA + 0x10);
	sym(m, 2, add_name(m, &s, "PyErr_Occurred"), STB_WEAK, STT_FUNC, 1, TEXTVA + 0x20);
	raw = add_name(m, &s, "PyMem_RawMalloc");
	sym(m, 3, raw, STB_GLOBAL, STT_FUNC, SHN_UNDEF, 0);       /* undefined first */
	sym(m, 4, raw, STB_GLOBAL, STT_FUNC, 1, TEXTVA + 0x30);
	run = add_name(m, &s, "PyRun_SimpleString");
	sym(m, 5, run, STB_LOCAL, STT_FUNC, 1, TEXTVA + 0x99);           /* local first */
	sym(m, 6, run, STB_GLOBAL, STT_FUNC, 1, TEXTVA + 0x40);
	sym(m, 7, add_name(m, &s, "Py_Version"), STB_GLOBAL, STT_OBJECT, 2, DATAVA);
	sym(m, 8, add_name(m, &s, "PyAbs"), STB_GLOBAL, STT_FUNC, SHN_ABS, TEXTVA + 0x50);
	sym(m, 9, 0x7fffffff, STB_GLOBAL, STT_FUNC, 1, TEXTVA + 0x60);   /* name out of the table */
	sym(m, 10, add_name(m, &s, "PyIfunc"), STB_GLOBAL, STT_GNU_IFUNC, 1, TEXTVA + 0x70);
	shdr(m, 1, SHT_DYNSYM, SYMOFF, NSYMS * 24, 2, 24);
	shdr(m, 2, SHT_STRTAB, STROFF, s, 0, 0);
}

/* The mutations. */
static void m_none(struct img *m) { (void)m; }
static void m_magic(struct img *m) { m->b[1] = 'F'; }
static void m_class32(struct img *m) { m->b[EI_CLASS] = ELFCLASS32; }
static void m_bigendian(struct img *m) { m->b[EI_DATA] = ELFDATA2MSB; }
static void m_rel(struct img *m) { put16(m->b + 16, ET_REL); }
static void m_cut40(struct img *m) { m->len = m->size = 40; }
static void m_cut_phdrs(struct img *m) { m->len = m->size = 100; }
static void m_cut_text(struct img *m) { m->len = m->size = TEXTOFF + 0x50; }
static void m_cut_shdrs(struct img *m) { m->len = m->size = SHOFF + 100; }
static void m_phnum_xnum(struct img *m) { put16(m->b + 56, 0xffff); }
static void m_phnum0(struct img *m) { put16(m->b + 56, 0); }
static void m_phentsize(struct img *m) { put16(m->b + 54, 32); }
static void m_phoff_wrap(struct img *m) { put64(m->b + 32, UINT64_MAX - 8); }
static void m_filesz_huge(struct img *m) { phdr(m, 1, PF_R | PF_X, TEXTOFF, 0x1000, UINT64_MAX, UINT64_MAX); }
static void m_filesz_memsz(struct img *m) { phdr(m, 1, PF_R | PF_X, TEXTOFF, TEXTVA, 0x100, 0x80); }
static void m_overlap(struct img *m) { phdr(m, 1, PF_R | PF_X, TEXTOFF, 0x800, 0x100, 0x100); }
static void m_order(struct img *m) { phdr(m, 0, PF_R, 0, 0x30000, 0x1000, 0x1000); }
static void m_vaddr_wrap(struct img *m) { phdr(m, 2, PF_R | PF_W, DATAOFF, UINT64_MAX - 0x10, 0x10, 0x40); }
static void m_many_loads(struct img *m)
{
	put16(m->b + 56, ELF_LOADS_MAX + 1);
	for (int i = 3; i < ELF_LOADS_MAX + 1; i++)
		phdr(m, i, PF_R, 0, 0x10000 * (uint64_t)i, 0x10, 0x10);
}
static void m_shnum_big(struct img *m) { put16(m->b + 60, ELF_SECTIONS_MAX + 1); }
static void m_shentsize(struct img *m) { put16(m->b + 58, 40); }
static void m_shoff_out(struct img *m) { put64(m->b + 40, 0x100000); }
static void m_no_sections(struct img *m) { put64(m->b + 40, 0); put16(m->b + 60, 0); }
static void m_no_dynsym(struct img *m) { shdr(m, 1, SHT_PROGBITS, SYMOFF, NSYMS * 24, 2, 24); }
static void m_entsize(struct img *m) { shdr(m, 1, SHT_DYNSYM, SYMOFF, NSYMS * 24, 2, 16); }
static void m_dynsym_out(struct img *m) { shdr(m, 1, SHT_DYNSYM, SYMOFF, UINT64_MAX - 0x10, 2, 24); }
static void m_link0(struct img *m) { shdr(m, 1, SHT_DYNSYM, SYMOFF, NSYMS * 24, 0, 24); }
static void m_link_out(struct img *m) { shdr(m, 1, SHT_DYNSYM, SYMOFF, NSYMS * 24, 3, 24); }
static void m_link_type(struct img *m) { shdr(m, 1, SHT_DYNSYM, SYMOFF, NSYMS * 24, 1, 24); }
static void m_str_out(struct img *m) { shdr(m, 2, SHT_STRTAB, STROFF, 0x10000, 0, 0); }
static void m_str_huge(struct img *m)
{
	m->size = (uint64_t)ELF_STRTAB_MAX + 0x10000;
	shdr(m, 2, SHT_STRTAB, STROFF, (uint64_t)ELF_STRTAB_MAX + 1, 0, 0);
}
static void m_syms_huge(struct img *m)
{
	m->size = (uint64_t)(ELF_SYMS_MAX + 1) * 24 + 0x2000;
	shdr(m, 1, SHT_DYNSYM, SYMOFF, (uint64_t)(ELF_SYMS_MAX + 1) * 24, 2, 24);
}
static void m_syms_cap(struct img *m)
{
	/* exactly the cap, zeros after the real ones: scanned, bounded */
	m->size = (uint64_t)ELF_SYMS_MAX * 24 + 0x2000;
	shdr(m, 1, SHT_DYNSYM, SYMOFF, (uint64_t)ELF_SYMS_MAX * 24, 2, 24);
}
static void m_str_unterminated(struct img *m)
{
	/* the table ends in the middle of "PyIfunc", the last name */
	unsigned char *p = m->b + SHOFF + 2 * 64 + 32;

	put64(p, (uint64_t)(p[0] | p[1] << 8) - 3);
}
static void m_read_error(struct img *m) { m->fail_at = SYMOFF + 30; }
static void m_dribble(struct img *m) { m->dribble = true; }
static void m_shrunk(struct img *m) { m->len = TEXTOFF; m->shrunk = true; }

struct elf_case {
	const char *name;
	void (*mutate)(struct img *);
	int open_err;       /* of elf_image_open */
	int find_err;       /* of elf_find_symbols, when it opened */
	bool symbols;       /* the four functions are found */
};

static const struct elf_case cases[] = {
	{ "valid", m_none, 0, 0, true },
	{ "not ELF", m_magic, -ENOEXEC, 0, false },
	{ "ELF32", m_class32, -ENOEXEC, 0, false },
	{ "big-endian", m_bigendian, -ENOEXEC, 0, false },
	{ "ET_REL", m_rel, -ENOEXEC, 0, false },
	{ "40 bytes", m_cut40, -ENOEXEC, 0, false },
	{ "program headers cut", m_cut_phdrs, -EINVAL, 0, false },
	{ "text cut", m_cut_text, -EINVAL, 0, false },
	{ "section headers cut", m_cut_shdrs, -EINVAL, 0, false },
	{ "phnum PN_XNUM", m_phnum_xnum, -E2BIG, 0, false },
	{ "phnum 0", m_phnum0, -EINVAL, 0, false },
	{ "phentsize 32", m_phentsize, -EINVAL, 0, false },
	{ "phoff wraps", m_phoff_wrap, -EINVAL, 0, false },
	{ "filesz huge", m_filesz_huge, -EINVAL, 0, false },
	{ "filesz > memsz", m_filesz_memsz, -EINVAL, 0, false },
	{ "loads overlap", m_overlap, -EINVAL, 0, false },
	{ "loads out of order", m_order, -EINVAL, 0, false },
	{ "vaddr wraps", m_vaddr_wrap, -EINVAL, 0, false },
	{ "too many loads", m_many_loads, -E2BIG, 0, false },
	{ "shnum over the cap", m_shnum_big, -E2BIG, 0, false },
	{ "shentsize 40", m_shentsize, -EINVAL, 0, false },
	{ "shoff out of the file", m_shoff_out, -EINVAL, 0, false },
	{ "no section headers", m_no_sections, 0, -ENOENT, false },
	{ "no .dynsym", m_no_dynsym, 0, -ENOENT, false },
	{ "sym entsize 16", m_entsize, -EINVAL, 0, false },
	{ ".dynsym out of the file", m_dynsym_out, -EINVAL, 0, false },
	{ "link 0", m_link0, -EINVAL, 0, false },
	{ "link out of range", m_link_out, -EINVAL, 0, false },
	{ "link to no strtab", m_link_type, -EINVAL, 0, false },
	{ "strtab out of the file", m_str_out, -EINVAL, 0, false },
	{ "strtab over the cap", m_str_huge, -E2BIG, 0, false },
	{ "symbols over the cap", m_syms_huge, -E2BIG, 0, false },
	{ "symbols at the cap", m_syms_cap, 0, 0, true },
	{ "strtab unterminated", m_str_unterminated, 0, 0, true },
	{ "read error", m_read_error, -EIO, 0, false },
	{ "one byte a read", m_dribble, 0, 0, true },
	{ "file shrank", m_shrunk, -EIO, 0, false },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct elf_case *c = &cases[i];
		struct img m;
		struct elf_image e;
		struct elf_sym_query q[] = {
			{ .name = "PyEval_SaveThread", .type = STT_FUNC },
			{ .name = "PyErr_Occurred", .type = STT_FUNC },
			{ .name = "PyMem_RawMalloc", .type = STT_FUNC },
			{ .name = "PyRun_SimpleString", .type = STT_FUNC },
		};
		int r;

		build(&m);
		c->mutate(&m);
		r = elf_image_open(&e, img_read, &m, m.size);
		CHECK_MSG(r == c->open_err, "%s: open %d, not %d", c->name, r, c->open_err);
		if (r < 0)
			continue;
		r = elf_find_symbols(&e, q, 4);
		CHECK_MSG(r == c->find_err, "%s: find %d, not %d", c->name, r, c->find_err);
		for (int k = 0; k < 4; k++)
			CHECK_MSG(q[k].found == c->symbols, "%s: %s found %d", c->name, q[k].name, q[k].found);
	}
}

static void test_lookups(void)
{
	struct img m;
	struct elf_image e;
	struct elf_sym_query q[] = {
		{ .name = "PyEval_SaveThread", .type = STT_FUNC },   /* TEXTVA + 0x10 */
		{ .name = "PyErr_Occurred", .type = STT_FUNC },      /* weak: + 0x20 */
		{ .name = "PyMem_RawMalloc", .type = STT_FUNC },     /* the defined one: + 0x30 */
		{ .name = "PyRun_SimpleString", .type = STT_FUNC },  /* the global one: + 0x40 */
		{ .name = "Py_Version", .type = STT_OBJECT },
		{ .name = "Py_Version", .type = STT_FUNC },          /* wrong type */
		{ .name = "PyAbs", .type = STT_FUNC },               /* SHN_ABS */
		{ .name = "PyIfunc", .type = STT_FUNC },             /* an IFUNC */
		{ .name = "PyEval", .type = STT_FUNC },              /* a prefix */
		{ .name = "", .type = STT_FUNC },
	};
	const bool found[] = { true, true, true, true, true, false, false, false, false, false };
	const uint64_t value[] = { TEXTVA + 0x10, TEXTVA + 0x20, TEXTVA + 0x30, TEXTVA + 0x40, DATAVA };

	build(&m);
	CHECK(elf_image_open(&e, img_read, &m, m.size) == 0);
	CHECK(e.type == ET_DYN && e.machine == EM_X86_64 && e.nloads == 3 && e.nsyms == NSYMS);
	CHECK(elf_find_symbols(&e, q, sizeof(q) / sizeof(q[0])) == 0);
	for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
		CHECK_MSG(q[k].found == found[k], "%s/%d", q[k].name, q[k].type);
		if (k < 5)
			CHECK_MSG(q[k].value == value[k], "%s %#llx", q[k].name, (unsigned long long)q[k].value);
	}
}

static void test_addresses(void)
{
	struct img m;
	struct elf_image e;
	uint64_t off = 0, v = 0, b = 0;

	build(&m);
	CHECK(elf_image_open(&e, img_read, &m, m.size) == 0);
	CHECK(elf_vaddr_offset(&e, TEXTVA + 0x10, 1, true, &off) == 0 && off == 0x1010);
	CHECK(elf_vaddr_offset(&e, TEXTVA + 0xff, 1, true, &off) == 0 && off == 0x10ff);
	CHECK(elf_vaddr_offset(&e, TEXTVA + 0xff, 2, true, &off) == -EFAULT);
	CHECK(elf_vaddr_offset(&e, 0x1010, 1, true, &off) == -EFAULT);   /* an offset, not a vaddr */
	CHECK(elf_vaddr_offset(&e, DATAVA, 4, true, &off) == -EFAULT);   /* data, not code */
	CHECK(elf_vaddr_offset(&e, DATAVA, 4, false, &off) == 0 && off == DATAOFF);
	CHECK(elf_vaddr_offset(&e, DATAVA + 8, 16, false, &off) == -EFAULT); /* past its file bytes */
	CHECK(elf_vaddr_offset(&e, DATAVA + 0x20, 1, false, &off) == -EFAULT);  /* bss */
	CHECK(elf_vaddr_offset(&e, UINT64_MAX, 1, false, &off) == -EFAULT);
	CHECK(elf_vaddr_offset(&e, TEXTVA + 0x10, UINT64_MAX, false, &off) == -EFAULT);
	CHECK(elf_find_ret(&e, &v) == 0 && v == TEXTVA + 0x42);
	CHECK(elf_load_bias(&e, 0x7f0000011000, 0x1000, true, 0x1000, &b) == 0 && b == 0x7f0000000000);
	CHECK(elf_load_bias(&e, 0x7f0000001000, 0x1000, false, 0x1000, &b) == -EFAULT); /* two in that page */
	CHECK(elf_load_bias(&e, 0x7f0000000000, 0, false, 0x1000, &b) == 0 && b == 0x7f0000000000);
	CHECK(elf_load_bias(&e, 0x7f0000000000, 0, true, 0x1000, &b) == -EFAULT);      /* no code there */
	CHECK(elf_load_bias(&e, 0x7f0000001800, 0x1000, true, 0x1000, &b) == -EFAULT); /* unaligned */
	CHECK(elf_load_bias(&e, 0x7f0000001000, 0x2000, true, 0x1000, &b) == -EFAULT); /* past the file */
	CHECK(elf_load_bias(&e, 0x7f0000001000, 0x1000, true, 0x3000, &b) == -EFAULT); /* no page size */
	CHECK(elf_load_bias(&e, 0x7f0000001000, 0x1000, true, 0, &b) == -EFAULT);

	/* ET_EXEC: loaded where it says, bias 0 or refused */
	put16(m.b + 16, ET_EXEC);
	CHECK(elf_image_open(&e, img_read, &m, m.size) == 0);
	CHECK(elf_load_bias(&e, TEXTVA, 0x1000, true, 0x1000, &b) == 0 && b == 0);
	CHECK(elf_load_bias(&e, 0x401000, 0x1000, true, 0x1000, &b) == -EFAULT);

	/* text whose vaddr and offset disagree modulo the page */
	build(&m);
	phdr(&m, 1, PF_R | PF_X, TEXTOFF, TEXTVA + 0x800, 0x100, 0x100);
	CHECK(elf_image_open(&e, img_read, &m, m.size) == 0);
	CHECK(elf_load_bias(&e, 0x7f0000001000, 0x1000, true, 0x1000, &b) == -EFAULT);

	/* no 0xC3 in the code (one in the data does not count) */
	build(&m);
	m.b[RET_AT] = 0x90;
	CHECK(elf_image_open(&e, img_read, &m, m.size) == 0);
	CHECK(elf_find_ret(&e, &v) == -ENOENT);
}

/* Large stated sizes are scanned within bounds and quickly. */
static void test_bounded(void)
{
	struct img m;
	struct elf_image e;
	struct elf_sym_query q = { .name = "PyNowhere", .type = STT_FUNC };
	struct timespec t0, t1;
	double ms;

	build(&m);
	m_syms_cap(&m);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(elf_image_open(&e, img_read, &m, m.size) == 0);
	CHECK(elf_find_symbols(&e, &q, 1) == 0 && !q.found);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("%u symbols (the cap) scanned in %.1f ms, %u reads\n", ELF_SYMS_MAX, ms, m.reads);
	CHECK_MSG(ms < 2000, "%.1f ms", ms);
	CHECK(m.reads < 2 * ELF_SYMS_MAX / 256 + 64);
}

static ssize_t fd_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(*(int *)ctx, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

/* readelf's value of name in path, or 0. */
static uint64_t readelf_value(const char *path, const char *name)
{
	char cmd[PATH_MAX + 64], line[512];
	unsigned long long v = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf --dyn-syms -W '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		char nm[256], type[32], ndx[32];
		unsigned long long val;

		if (sscanf(line, "%*s %llx %*s %31s %*s %*s %31s %255s", &val, type, ndx, nm) == 4 &&
		    strcmp(nm, name) == 0 && strcmp(ndx, "UND") != 0 && strcmp(type, "FUNC") == 0)
			v = val;
	}
	pclose(p);
	return v;
}

static void check_real(const char *path)
{
	static const char *const names[] = { "PyEval_SaveThread", "PyErr_Occurred", "PyMem_RawMalloc",
					     "PyRun_SimpleString" };
	struct elf_sym_query q[4];
	struct elf_image e;
	struct stat st;
	uint64_t ret, off;
	unsigned char byte = 0;
	bool have_readelf = access("/usr/bin/readelf", X_OK) == 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		printf("skip %s: absent\n", path);
		if (fd >= 0)
			close(fd);
		return;
	}
	for (int k = 0; k < 4; k++)
		q[k] = (struct elf_sym_query){ .name = names[k], .type = STT_FUNC };
	CHECK_MSG(elf_image_open(&e, fd_read, &fd, (uint64_t)st.st_size) == 0, "%s", path);
	CHECK_MSG(elf_find_symbols(&e, q, 4) == 0, "%s", path);
	for (int k = 0; k < 4; k++) {
		CHECK_MSG(q[k].found && elf_vaddr_offset(&e, q[k].value, 1, true, &off) == 0,
			  "%s: %s", path, names[k]);
		if (have_readelf)
			CHECK_MSG(q[k].value == readelf_value(path, names[k]), "%s: %s %#llx, readelf %#llx",
				  path, names[k], (unsigned long long)q[k].value,
				  (unsigned long long)readelf_value(path, names[k]));
	}
	CHECK_MSG(elf_find_ret(&e, &ret) == 0 && elf_vaddr_offset(&e, ret, 1, true, &off) == 0, "%s", path);
	CHECK_MSG(pread(fd, &byte, 1, (off_t)off) == 1 && byte == 0xC3, "%s: %#x at %#llx", path, byte,
		  (unsigned long long)off);
	printf("%s: %s at %#llx, ret at %#llx\n", path, names[0], (unsigned long long)q[0].value,
	       (unsigned long long)ret);
	close(fd);
}

static void test_real_files(void)
{
	glob_t g;

	check_real("/usr/bin/python3.11");
	if (glob("/root/.pyenv/versions/3.*/lib/libpython3.*.so.1.0", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			check_real(g.gl_pathv[i]);
		globfree(&g);
	} else {
		printf("skip pyenv: no libpython found\n");
	}
}

int main(void)
{
	RUN(test_cases);
	RUN(test_lookups);
	RUN(test_addresses);
	RUN(test_bounded);
	RUN(test_real_files);
	return check_done("test_elf_symbols");
}
