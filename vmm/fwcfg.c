// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fwcfg: QEMU's firmware configuration device, the traditional port-I/O interface
 * only (QEMU docs/specs/fw_cfg.rst): a 16-bit selector register at 0x510 and an
 * 8-bit data register at 0x511 that returns the selected item's bytes one by one and
 * 0x00 past its end.  Items: the signature, the feature bitmap (traditional interface,
 * no DMA), RAM size, CPU counts, kvm-unit-tests' MAX_RAM (both taken from the guest
 * RAM itself, so they cannot disagree with its layout) and a file directory with
 * read-only files.  Writes (data port, selector bit 14) are ignored as in QEMU 2.4+.
 * It has no DMA interface and no kernel/initrd items: mpvmm loads those itself.
 * docs/platform.md lists the keys.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/vmm.h"

#define FWCFG_WRITE_BIT 0x4000u
#define FWCFG_FILE_NAME_MAX 56
#define FWCFG_FILE_ENTRY 64 /* size BE32, select BE16, reserved 16, name[56] */

struct fwcfg_item {
	uint16_t key;
	uint32_t len;
	uint8_t *data;			/* owned */
	char name[FWCFG_FILE_NAME_MAX]; /* files only; "" for the fixed keys */
};

struct fwcfg {
	pthread_mutex_t lock; /* selector and offset are shared by every vCPU */
	uint16_t sel;
	uint32_t off;
	unsigned nr, nr_files;
	struct fwcfg_item item[FWCFG_MAX_ITEMS];
};

static struct fwcfg_item *fwcfg_find(struct fwcfg *f, uint16_t key)
{
	for (unsigned i = 0; i < f->nr; i++) {
		if (f->item[i].key == key)
			return &f->item[i];
	}
	return NULL;
}

static int fwcfg_set(struct fwcfg *f, uint16_t key, const void *data, size_t len)
{
	struct fwcfg_item *it = fwcfg_find(f, key);

	if (len > UINT32_MAX)
		return -EFBIG;
	if (!it) {
		if (f->nr == FWCFG_MAX_ITEMS)
			return -ENOSPC;
		it = &f->item[f->nr++];
		it->key = key;
	}
	g_free(it->data);
	it->data = g_memdup2(data, len);
	it->len = (uint32_t)len;
	return 0;
}

static int fwcfg_set_le(struct fwcfg *f, uint16_t key, uint64_t v, size_t len)
{
	uint8_t b[8];

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fwcfg_set(f, key, b, len);
}

/* FILE_DIR: a big-endian count, then one 64-byte entry per file (fw_cfg.rst). */
static int fwcfg_update_dir(struct fwcfg *f)
{
	size_t len = 4 + (size_t)f->nr_files * FWCFG_FILE_ENTRY;
	g_autofree uint8_t *dir = g_malloc0(len);
	unsigned n = 0;

	dir[3] = (uint8_t)f->nr_files; /* < 256 files */
	for (unsigned i = 0; i < f->nr; i++) {
		const struct fwcfg_item *it = &f->item[i];
		uint8_t *e = dir + 4 + (size_t)n * FWCFG_FILE_ENTRY;

		if (!it->name[0])
			continue;
		e[0] = it->len >> 24, e[1] = it->len >> 16, e[2] = it->len >> 8, e[3] = it->len;
		e[4] = it->key >> 8, e[5] = it->key & 0xff;
		memcpy(e + 8, it->name, strlen(it->name));
		n++;
	}
	return fwcfg_set(f, FWCFG_FILE_DIR, dir, len);
}

int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, size_t len)
{
	uint16_t key = (uint16_t)(FWCFG_FILE_FIRST + f->nr_files);
	int ret;

	if (!*name || strlen(name) >= FWCFG_FILE_NAME_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < f->nr; i++) {
		if (strcmp(f->item[i].name, name) == 0)
			return -EEXIST;
	}
	ret = fwcfg_set(f, key, data, len);
	if (ret < 0)
		return ret;
	g_strlcpy(fwcfg_find(f, key)->name, name, FWCFG_FILE_NAME_MAX);
	f->nr_files++;
	return fwcfg_update_dir(f);
}

static uint32_t fwcfg_port_read(void *opaque, uint16_t off, unsigned size)
{
	struct fwcfg *f = opaque;
	const struct fwcfg_item *it;
	uint32_t val = 0;

	if (off != 1 || size != 1)
		return 0xffffffffu >> (32 - 8 * size); /* the selector is write-only */
	pthread_mutex_lock(&f->lock);
	it = fwcfg_find(f, f->sel & ~FWCFG_WRITE_BIT);
	if (it && f->off < it->len)
		val = it->data[f->off];
	if (f->off < UINT32_MAX)
		f->off++;
	pthread_mutex_unlock(&f->lock);
	return val;
}

static void fwcfg_port_write(void *opaque, uint16_t off, unsigned size, uint32_t val)
{
	struct fwcfg *f = opaque;

	if (off != 0 || size != 2) {
		g_debug("fw_cfg: ignored %u-byte write at 0x%x", size, FWCFG_PORT + off);
		return;
	}
	pthread_mutex_lock(&f->lock);
	f->sel = (uint16_t)val;
	f->off = 0;
	pthread_mutex_unlock(&f->lock);
}

static const struct ioport_ops fwcfg_ops = {
	.read = fwcfg_port_read,
	.write = fwcfg_port_write,
};

/* The first address above guest RAM: the end of its highest region. */
static uint64_t fwcfg_ram_end(const struct gmem *mem)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < mem->nr_regions; i++)
		end = MAX(end, mem->region[i].gpa + mem->region[i].size);
	return end;
}

static int fwcfg_fill(struct fwcfg *f, const struct gmem *mem, unsigned smp)
{
	uint64_t ram_size = gmem_size(mem), ram_end = fwcfg_ram_end(mem);
	int ret = fwcfg_set(f, FWCFG_SIGNATURE, "QEMU", 4);

	if (ret == 0)
		ret = fwcfg_set_le(f, FWCFG_ID, 1, 4); /* bit 0: traditional interface, no DMA */
	if (ret == 0)
		ret = fwcfg_set_le(f, FWCFG_RAM_SIZE, ram_size, 8);
	if (ret == 0)
		ret = fwcfg_set_le(f, FWCFG_NB_CPUS, smp, 2);
	if (ret == 0)
		ret = fwcfg_set_le(f, FWCFG_MAX_CPUS, smp, 2);
	if (ret == 0)
		ret = fwcfg_set_le(f, FWCFG_MAX_RAM, ram_end, 8);
	if (ret == 0)
		ret = fwcfg_update_dir(f);
	if (ret == 0)
		ret = fwcfg_add_file(f, "etc/mpvmm/version", MPVMM_VERSION, strlen(MPVMM_VERSION));
	return ret;
}

int fwcfg_create(struct ioport_table *io, const struct gmem *mem, unsigned smp, struct fwcfg **out)
{
	struct fwcfg *f = g_new0(struct fwcfg, 1);
	int ret;

	pthread_mutex_init(&f->lock, NULL);
	ret = fwcfg_fill(f, mem, smp);
	if (ret == 0)
		ret = ioport_register(io, FWCFG_PORT, 2, &fwcfg_ops, f);
	if (ret < 0) {
		fwcfg_destroy(f);
		return ret;
	}
	*out = f;
	return 0;
}

void fwcfg_destroy(struct fwcfg *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->nr; i++)
		g_free(f->item[i].data);
	pthread_mutex_destroy(&f->lock);
	g_free(f);
}
