// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * localdev: a devices/ model running inside mpvmm, wrapped as a struct pcifn backend,
 * so the host bridge treats it exactly like a remote device (the in-VMM baseline).
 * Config accesses go through dev_cfg_read/dev_cfg_write, BAR accesses through the checked
 * dev_bar_read/dev_bar_write.  pcifn serializes calls, as devices/ requires.  This
 * file also holds dev_table, the models mpvmm can run in-process, and opens their
 * host backends as the device-class processes do (the -blockdev images, /dev/urandom):
 * the models themselves never open files.  Doorbells reach an in-process model as BAR
 * writes (a VMM exit each), which is the baseline the remote devices are measured by.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "devices/devices.h"
#include "vmm/vmm.h"

const struct dev_ops *const dev_table[] = {
	&pci_testdev_ops,
	&virtio_blk_ops,
	&virtio_rng_ops,
	NULL,
};

static int localdev_cfg_read(void *be, uint32_t off, unsigned size, uint32_t *val)
{
	struct dev *dev = be;

	return dev_cfg_read(dev, off, size, val);
}

static int localdev_cfg_write(void *be, uint32_t off, unsigned size, uint32_t val)
{
	struct dev *dev = be;

	return dev_cfg_write(dev, off, size, val);
}

static int localdev_bar_read(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	return dev_bar_read(be, bar, off, size, val);
}

static int localdev_bar_write(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	return dev_bar_write(be, bar, off, size, val);
}

static int localdev_reset(void *be)
{
	dev_reset(be);
	return 0;
}

static void localdev_destroy(void *be)
{
	struct irq *irq = ((struct dev *)be)->env.irq;

	dev_destroy(be);
	localirq_destroy(irq);
}

static int localdev_set_irqs(void *be, unsigned index, bool unmask, unsigned start,
			     unsigned count, const int *fds)
{
	return localirq_set_irqs(((struct dev *)be)->env.irq, index, unmask, start, count, fds);
}

static const struct pcifn_backend_ops localdev_ops = {
	.cfg_read = localdev_cfg_read,
	.cfg_write = localdev_cfg_write,
	.bar_read = localdev_bar_read,
	.bar_write = localdev_bar_write,
	.reset = localdev_reset,
	.destroy = localdev_destroy,
	.set_irqs = localdev_set_irqs,
};

/* devices/ and proxy/ spell the BAR flags alike (the PCI register bits); map anyway. */
static void localdev_bars(const struct dev *dev, struct pcifn_bar bars[PCIFN_NUM_BARS])
{
	for (unsigned i = 0; i < PCIFN_NUM_BARS; i++) {
		const struct pcicfg_bar *b = &dev->cfg.bar[i];

		bars[i].size = b->size;
		bars[i].flags = (b->flags & PCI_BAR_IO ? PCIFN_BAR_IO : 0) |
				(b->flags & PCI_BAR_MEM64 ? PCIFN_BAR_MEM64 : 0) |
				(b->flags & PCI_BAR_PREFETCH ? PCIFN_BAR_PREFETCH : 0);
	}
}

/* pci-proxy-dev,rid=...: the device type in its class process (devopt checked it). */
static const char *localdev_remote_driver(const struct devopt *d)
{
	return json_object_get_string(json_object_object_get(d->props, "remote-driver"));
}

static bool localdev_is_rng(const struct devopt *d)
{
	return strcmp(localdev_remote_driver(d), "virtio-rng") == 0;
}

int localdev_backends(const struct vmm_opts *o, GError **err)
{
	struct blockdevs *bds = o->blockdevs ? o->blockdevs : blockdevs_new();
	int ret = blockdevs_open(bds, err);

	for (unsigned i = 0; ret >= 0 && i < o->nr_devices; i++) {
		const struct devopt *d = &o->devices[i];

		/* virtio-rng's fd= is refused by localdev_entropy(), with its own message */
		if (strcmp(d->type, DEVOPT_PROXY_TYPE) != 0 && strcmp(d->type, "virtio-rng") != 0)
			ret = blockdev_resolve(bds, d->type, d->id, d->props, err);
		else if (d->rid && !localdev_is_rng(d)) /* a class process gets the node's fd */
			ret = blockdev_resolve(bds, localdev_remote_driver(d), d->id, d->props, err);
	}
	if (ret >= 0)
		ret = blockdevs_check_used(bds, err);
	if (bds != o->blockdevs)
		blockdevs_free(bds);
	return ret < 0 ? ret : 0;
}

#define LOCALDEV_ENTROPY "/dev/urandom"

/* virtio-rng: open the host entropy source into *fd and give the model fd=N. */
static int localdev_entropy(const char *type, const char *id, json_object *props, int *fd,
			    GError **err)
{
	g_autofree char *num = NULL;
	int e;

	if (strcmp(type, "virtio-rng") != 0)
		return 0;
	if (json_object_object_get_ex(props, "fd", NULL)) {
		g_set_error(err, VMM_ERROR, EINVAL,
			    "-device %s,id=%s: fd= is set by mpvmm, which opens %s itself", type,
			    id, LOCALDEV_ENTROPY);
		return -EINVAL;
	}
	*fd = open(LOCALDEV_ENTROPY, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (*fd < 0) {
		e = errno;
		g_set_error(err, VMM_ERROR, e, "-device %s,id=%s: cannot open %s: %s", type, id,
			    LOCALDEV_ENTROPY, g_strerror(e));
		return -e;
	}
	num = g_strdup_printf("%d", *fd);
	json_object_object_add(props, "fd", json_object_new_string(num));
	return 0;
}

static int localdev_model(const char *type, const char *id, struct dev_env *env, json_object *props,
			  struct dev **dev, GError **err)
{
	g_autofree char *msg = NULL;
	int fd = -1, ret;

	ret = localdev_entropy(type, id, props, &fd, err);
	if (ret < 0)
		return ret;
	ret = dev_create(type, id, env, props, dev, &msg);
	if (fd >= 0) { /* the model holds its own duplicate */
		close(fd);
		json_object_object_del(props, "fd");
	}
	if (ret < 0)
		g_set_error(err, VMM_ERROR, -ret, "-device %s: %s", type, msg);
	return ret;
}

int localdev_create(const char *type, const char *id, json_object *props, struct gmem *mem,
		    struct pcifn **out, GError **err)
{
	struct dev_env env = {.mem = mem};
	struct pcifn_bar bars[PCIFN_NUM_BARS];
	struct dev *dev;
	int ret;

	ret = localirq_create(&env.irq); /* before the device, which keeps it in its env */
	if (ret < 0) {
		g_set_error(err, VMM_ERROR, -ret, "-device %s: out of memory", type);
		return ret;
	}
	ret = localdev_model(type, id, &env, props, &dev, err);
	if (ret < 0) {
		localirq_destroy(env.irq);
		return ret;
	}
	localdev_bars(dev, bars);
	ret = pcifn_create(id, &localdev_ops, dev, bars, out); /* destroys dev on failure */
	if (ret < 0)
		g_set_error(err, VMM_ERROR, -ret,
			    "-device %s,id=%s: the model's BAR layout is "
			    "inconsistent (%s); this is a bug in the device model",
			    type, id, g_strerror(-ret));
	return ret;
}
