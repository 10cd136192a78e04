/* The ELF reader on arbitrary bytes as the file: elf_image_open, then
 * every lookup it offers, with what each answer promises checked (a
 * found symbol's name is the one asked, a ret byte found is 0xC3 in the
 * file's bytes of an executable segment, a bias is page-aligned).  The
 * last 8 bytes of the input, when there are more than 64, are also read
 * as a mapping's start and offset for elf_load_bias. */
#include <elf.h>
#include <errno.h>
#include <sys/types.h>

#include "fuzz_proc.h"
#include "core/elf_symbols.h"

struct mem {
	const uint8_t *data;   /* an exact-size copy: ASan sees a read past its end */
	size_t size;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct mem *m = ctx;

	if (off >= m->size)
		return 0;
	if (len > m->size - off)
		len = (size_t)(m->size - off);
	memcpy(buf, m->data + off, len);
	return (ssize_t)len;
}

static void lookups(const struct elf_image *e, const struct mem *m)
{
	struct elf_sym_query q[] = {
		{ .name = "PyEval_SaveThread", .type = STT_FUNC },
		{ .name = "PyRun_SimpleString", .type = STT_FUNC },
		{ .name = "Py_Version", .type = STT_OBJECT },
		{ .name = "a", .type = STT_FUNC },
	};
	uint64_t v, off, bias;

	if (elf_find_symbols(e, q, sizeof(q) / sizeof(q[0])) == 0)
		for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++)
			if (q[k].found && elf_vaddr_offset(e, q[k].value, 1, false, &off) == 0 && off >= m->size)
				abort();
	if (elf_find_ret(e, &v) == 0 &&
	    (elf_vaddr_offset(e, v, 1, true, &off) < 0 || off >= m->size || m->data[off] != 0xC3))
		abort();
	for (size_t i = 0; i < e->nloads; i++) {
		const struct elf_load *l = &e->loads[i];

		if (elf_load_bias(e, 0x7f0000000000 + (l->vaddr & ~0xfffull), l->offset & ~0xfffull,
				  l->exec, 4096, &bias) == 0 && bias % 4096)
			abort();
	}
	if (m->size > 64) {
		const uint8_t *t = m->data + m->size - 8;
		uint64_t start = (uint64_t)t[0] << 40 | (uint64_t)t[1] << 32 | (uint64_t)t[2] << 24 | (uint64_t)t[3] << 12;
		uint64_t moff = (uint64_t)t[4] << 24 | (uint64_t)t[5] << 12;

		if (elf_load_bias(e, start, moff, t[6] & 1, 4096, &bias) == 0 && bias % 4096)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image e;
	struct mem m;
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	m.data = copy;
	m.size = size;
	if (elf_image_open(&e, mem_read, &m, size) == 0) {
		if (e.nloads > ELF_LOADS_MAX || e.nsyms > ELF_SYMS_MAX || e.strsize > ELF_STRTAB_MAX)
			abort();
		lookups(&e, &m);
	}
	free(copy);
	return 0;
}
