// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * devices: the framework side of struct dev_ops.  Finds a device type in the
 * executable's dev_table, creates devices with human-readable errors, and is the one
 * checked entry point for BAR accesses, so a device op only ever sees a BAR it has,
 * an access size it can handle and a range inside the BAR.  It does not parse
 * command lines (the executables do) or know how accesses arrive.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "devices/devices.h"

const struct dev_ops *dev_find(const char *type)
{
	if (!type)
		return NULL;
	for (unsigned i = 0; dev_table[i]; i++) {
		if (strcmp(dev_table[i]->type, type) == 0)
			return dev_table[i];
	}
	return NULL;
}

char *dev_valid_types(void)
{
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; dev_table[i]; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", dev_table[i]->type);
	return g_string_free(s, FALSE);
}

/* ops->props holds "name=type: help" lines; is `name` one of them? */
static bool dev_has_prop(const struct dev_ops *ops, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = ops->props; p && *p;) {
		const char *eol = strchrnul(p, '\n');

		if ((size_t)(eol - p) > len && strncmp(p, name, len) == 0 && p[len] == '=')
			return true;
		p = *eol ? eol + 1 : eol;
	}
	return false;
}

static char *dev_prop_names(const struct dev_ops *ops)
{
	GString *s = g_string_new(NULL);

	for (const char *p = ops->props; p && *p;) {
		const char *eol = strchrnul(p, '\n'), *eq = memchr(p, '=', eol - p);

		if (eq)
			g_string_append_printf(s, "%s%.*s", s->len ? ", " : "", (int)(eq - p), p);
		p = *eol ? eol + 1 : eol;
	}
	if (s->len == 0)
		g_string_append(s, "none");
	return g_string_free(s, FALSE);
}

static int dev_check_props(const struct dev_ops *ops, const char *id, json_object *props,
			   char **err)
{
	if (!props)
		return 0;
	json_object_object_foreach(props, key, val)
	{
		g_autofree char *names = NULL;

		if (!dev_has_prop(ops, key)) {
			names = dev_prop_names(ops);
			*err = g_strdup_printf("%s '%s': unknown property '%s'; valid properties: "
					       "%s (see -device %s,help)",
					       ops->type, id, key, names, ops->type);
			return -EINVAL;
		}
		if (!json_object_is_type(val, json_type_string)) {
			*err = g_strdup_printf("%s '%s': property '%s' must be a string", ops->type,
					       id, key);
			return -EINVAL;
		}
	}
	return 0;
}

int dev_create(const char *type, const char *id, const struct dev_env *env, json_object *props,
	       struct dev **out, char **err)
{
	const struct dev_ops *ops = dev_find(type);
	struct dev *dev;
	int ret;

	*err = NULL;
	if (!ops) {
		g_autofree char *types = dev_valid_types();

		*err = g_strdup_printf("unknown device type '%s'; valid types: %s",
				       type ? type : "", types);
		return -ENOENT;
	}
	if (!id || !*id) {
		*err = g_strdup_printf("%s: missing id; add id=NAME", ops->type);
		return -EINVAL;
	}
	ret = dev_check_props(ops, id, props, err);
	if (ret < 0)
		return ret;
	ret = ops->create(env, id, props, &dev);
	if (ret < 0) {
		*err = g_strdup_printf("%s '%s': cannot create the device: %s (check the "
				       "properties against -device %s,help)", ops->type, id,
				       g_strerror(-ret), ops->type);
		return ret;
	}
	dev->id = strdup(id);
	if (!dev->id) {
		ops->destroy(dev);
		*err = g_strdup_printf("%s '%s': out of memory", ops->type, id);
		return -ENOMEM;
	}
	dev->ops = ops;
	dev->env = *env;
	*out = dev;
	return 0;
}

void dev_destroy(struct dev *dev)
{
	char *id;

	if (!dev)
		return;
	id = dev->id;
	dev->ops->destroy(dev);
	free(id);
}

void dev_reset(struct dev *dev)
{
	pcicfg_reset(&dev->cfg);
	if (dev->ops->reset)
		dev->ops->reset(dev);
}

/* bar implemented, size 1/2/4/8, [off, off+size) inside the BAR without overflow. */
static bool dev_bar_ok(const struct dev *dev, unsigned bar, uint64_t off, unsigned size)
{
	uint64_t end;

	if (bar >= PCI_NUM_BARS || dev->cfg.bar[bar].size == 0)
		return false;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	return !__builtin_add_overflow(off, size, &end) && end <= dev->cfg.bar[bar].size;
}

int dev_bar_read(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	if (!dev_bar_ok(dev, bar, off, size)) {
		g_debug("%s: bad BAR%u read at 0x%" PRIx64 " size %u", dev->id, bar, off, size);
		*val = UINT64_MAX;
		return -EINVAL;
	}
	return dev->ops->bar_read(dev, bar, off, size, val);
}

int dev_bar_write(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	if (!dev_bar_ok(dev, bar, off, size)) {
		g_debug("%s: bad BAR%u write at 0x%" PRIx64 " size %u", dev->id, bar, off, size);
		return -EINVAL;
	}
	return dev->ops->bar_write(dev, bar, off, size, val);
}

int dev_cfg_read(struct dev *dev, uint32_t off, unsigned size, uint32_t *val)
{
	if (dev->ops->cfg_read)
		return dev->ops->cfg_read(dev, off, size, val);
	return pcicfg_read(&dev->cfg, off, size, val);
}

int dev_cfg_write(struct dev *dev, uint32_t off, unsigned size, uint32_t val)
{
	if (dev->ops->cfg_write)
		return dev->ops->cfg_write(dev, off, size, val);
	return pcicfg_write(&dev->cfg, off, size, val);
}
