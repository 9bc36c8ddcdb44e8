// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * argv: the command lines of mpvmm and of the class processes for a parsed description.
 * Sockets are numbered as the children see them: each process gets its sockets as fds 3,
 * 4, ... in the order of its devices, mpvmm in the order of all devices, process by
 * process (spawn.c puts them there).  It builds strings; it opens and runs nothing.
 */
#include <string.h>

#include "tools/launch/launch.h"

GPtrArray *launch_vmm_argv(const struct launch_vm *vm)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	int fd = 3;

	g_ptr_array_add(argv, g_strdup(vm->vmm.binary ? vm->vmm.binary : "mpvmm"));
	for (unsigned i = 0; i < vm->vmm.args->len; i++)
		g_ptr_array_add(argv, g_strdup(vm->vmm.args->pdata[i]));
	for (unsigned i = 0; i < vm->procs->len; i++) {
		const struct launch_proc *p = vm->procs->pdata[i];

		for (unsigned j = 0; j < p->devices->len; j++) {
			const struct launch_device *d = p->devices->pdata[j];

			g_ptr_array_add(argv, g_strdup("-device"));
			g_ptr_array_add(argv, g_strdup_printf("pci-proxy-dev,id=%s,socket=%d",
							      d->id, fd++));
		}
	}
	g_ptr_array_add(argv, NULL);
	return argv;
}

GPtrArray *launch_proc_argv(const struct launch_proc *p)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

	if (p->binary)
		g_ptr_array_add(argv, g_strdup(p->binary));
	else
		g_ptr_array_add(argv, g_strdup_printf("mpvmm-%s", launch_class_name(p->cls)));
	if (p->sandbox)
		g_ptr_array_add(argv, g_strdup_printf("--sandbox=%s", p->sandbox));
	/* Already its ids when the launcher switched to them; by hand as root, it switches. */
	if (p->uid >= 0)
		g_ptr_array_add(argv, g_strdup_printf("--uid=%" G_GINT64_FORMAT, p->uid));
	if (p->gid >= 0)
		g_ptr_array_add(argv, g_strdup_printf("--gid=%" G_GINT64_FORMAT, p->gid));
	for (unsigned i = 0; i < p->blockdevs->len; i++) {
		const struct launch_blockdev *b = p->blockdevs->pdata[i];

		g_ptr_array_add(argv, g_strdup("-blockdev"));
		g_ptr_array_add(argv,
				g_strdup_printf("driver=file,node-name=%s,filename=%s%s", b->node,
						b->filename, b->read_only ? ",read-only=on" : ""));
	}
	for (unsigned i = 0; i < p->devices->len; i++) {
		const struct launch_device *d = p->devices->pdata[i];
		g_autoptr(GString) s = g_string_new(NULL);

		g_string_printf(s, "%s,id=%s,socket=%u", d->type, d->id, 3 + i);
		for (unsigned j = 0; j < d->props->len; j++)
			g_string_append_printf(s, ",%s", (const char *)d->props->pdata[j]);
		g_ptr_array_add(argv, g_strdup("-device"));
		g_ptr_array_add(argv, g_string_free(g_steal_pointer(&s), FALSE));
	}
	g_ptr_array_add(argv, NULL);
	return argv;
}

char *launch_argv_string(const GPtrArray *argv)
{
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; i < argv->len && argv->pdata[i]; i++) {
		g_autofree char *q = g_shell_quote(argv->pdata[i]);
		const char *a = argv->pdata[i];

		if (i)
			g_string_append_c(s, ' ');
		/* plain words stay plain, so a printed recipe reads like one */
		g_string_append(s, *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
						   "VWXYZ0123456789_.,-=/:+") == strlen(a)
					   ? a
					   : q);
	}
	return g_string_free(s, FALSE);
}
