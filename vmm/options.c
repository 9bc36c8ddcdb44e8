// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * options: mpvmm's QEMU-like command line, parsed strictly into struct vmm_opts.
 * One table lists every option with its parser and help line.  Each value is checked
 * here (sizes, counts, overflow, trailing junk); errors name the option, the value,
 * what is wrong and how to fix it.  This file opens nothing and starts nothing: the
 * machine (machine.c) acts on the result.  -device strings are parsed in devopt.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "vmm/vmm.h"

GQuark vmm_error_quark(void)
{
	return g_quark_from_static_string("vmm-error");
}

struct opt_def {
	const char *name; /* without the leading '-' */
	const char *arg;  /* argument name for the help text; NULL for a flag */
	const char *help;
	bool repeatable;
	int (*apply)(struct vmm_opts *o, const char *val, GError **err);
};

static int opt_error(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int opt_error(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(err, g_error_new_valist(VMM_ERROR, EINVAL, fmt, ap));
	va_end(ap);
	return -EINVAL;
}

/* Digits only; every step overflow-checked. */
static int parse_digits(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t n = 0;

	if (!g_ascii_isdigit(*p))
		return -EINVAL;
	for (; g_ascii_isdigit(*p); p++) {
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(*p - '0'), &n))
			return -ERANGE;
	}
	*s = p;
	*out = n;
	return 0;
}

int options_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t n;
	int ret = parse_digits(&s, &n);

	if (ret < 0)
		return ret;
	if (*s)
		return -EINVAL;
	if (n > max)
		return -ERANGE;
	*out = n;
	return 0;
}

int options_parse_size(const char *s, uint64_t unit, uint64_t *out)
{
	uint64_t n, mult = unit;
	int ret = parse_digits(&s, &n);

	if (ret < 0)
		return ret;
	if (*s) {
		switch (g_ascii_toupper(*s++)) {
		case 'B':
			mult = 1;
			break;
		case 'K':
			mult = 1ULL << 10;
			break;
		case 'M':
			mult = 1ULL << 20;
			break;
		case 'G':
			mult = 1ULL << 30;
			break;
		case 'T':
			mult = 1ULL << 40;
			break;
		default:
			return -EINVAL;
		}
	}
	if (*s)
		return -EINVAL;
	if (__builtin_mul_overflow(n, mult, out))
		return -ERANGE;
	return 0;
}

static int opt_m(struct vmm_opts *o, const char *val, GError **err)
{
	uint64_t size;
	int ret = options_parse_size(val, 1ULL << 20, &size);

	if (ret == -EINVAL)
		return opt_error(err,
				 "-m %s: invalid size; use a number with an optional K, M or "
				 "G suffix (a bare number means MiB), e.g. -m 512M",
				 val);
	if (ret == -ERANGE || size > VMM_RAM_MAX)
		return opt_error(err, "-m %s: too large; mpvmm supports at most 1T of guest RAM",
				 val);
	if (size < VMM_RAM_MIN)
		return opt_error(err,
				 "-m %s: too small; the guest is loaded at 1M, give at least "
				 "-m 2M",
				 val);
	if (size % 4096)
		return opt_error(err,
				 "-m %s: not a multiple of the 4K page size; round it, "
				 "e.g. -m %" PRIu64 "K",
				 val, (size / 4096 + 1) * 4);
	o->ram_size = size;
	return 0;
}

static int opt_smp(struct vmm_opts *o, const char *val, GError **err)
{
	uint64_t n;

	if (options_parse_uint(val, VMM_SMP_MAX, &n) < 0 || n == 0)
		return opt_error(err,
				 "-smp %s: invalid CPU count; use a number from 1 to %u, "
				 "e.g. -smp 2",
				 val, VMM_SMP_MAX);
	o->smp = (unsigned)n;
	return 0;
}

static int opt_kernel(struct vmm_opts *o, const char *val, GError **err)
{
	if (!*val)
		return opt_error(
			err,
			"-kernel: empty file name; give the path of a PVH ELF or Multiboot kernel");
	o->kernel = g_strdup(val);
	return 0;
}

static int opt_append(struct vmm_opts *o, const char *val, GError **err)
{
	size_t len = strlen(val);

	if (len > VMM_CMDLINE_MAX)
		return opt_error(err,
				 "-append: the command line is %zu bytes; at most %u fit in "
				 "the guest's boot page",
				 len, VMM_CMDLINE_MAX);
	o->append = g_strdup(val);
	return 0;
}

/* FILE[,FILE...]; each entry is "PATH[ ARGS]", the module's string (Multiboot 3.3). */
static int opt_initrd(struct vmm_opts *o, const char *val, GError **err)
{
	g_auto(GStrv) parts = g_strsplit(val, ",", -1);
	unsigned n = g_strv_length(parts);

	if (n == 0)
		return opt_error(err, "-initrd: empty; use -initrd FILE[ ARGS][,FILE...] (no file "
				      "name given)");
	if (n > MB_MAX_MODULES)
		return opt_error(err, "-initrd: %u modules; mpvmm passes at most %d", n,
				 MB_MAX_MODULES);
	for (unsigned i = 0; i < n; i++) {
		if (!parts[i][0] || parts[i][0] == ' ')
			return opt_error(err,
					 "-initrd %s: module %u has no file name; use "
					 "-initrd FILE[ ARGS][,FILE...]",
					 val, i);
		if (strlen(parts[i]) > VMM_CMDLINE_MAX)
			return opt_error(err, "-initrd: module %u's string is longer than %u bytes",
					 i, VMM_CMDLINE_MAX);
	}
	o->nr_initrd = n;
	o->initrd = g_steal_pointer(&parts);
	return 0;
}

/* QEMU's -machine [pc,]acpi=on|off; other machine types and properties are refused. */
static int opt_machine(struct vmm_opts *o, const char *val, GError **err)
{
	g_auto(GStrv) parts = g_strsplit(val, ",", -1);

	for (unsigned i = 0; parts[i]; i++) {
		if (i == 0 && strcmp(parts[i], "pc") == 0)
			continue;
		if (strcmp(parts[i], "acpi=on") == 0 || strcmp(parts[i], "acpi=off") == 0) {
			o->no_acpi = strcmp(parts[i], "acpi=off") == 0;
			continue;
		}
		return opt_error(err,
				 "-machine %s: '%s' is not supported; mpvmm knows only "
				 "-machine [pc,]acpi=on|off",
				 val, parts[i]);
	}
	return 0;
}

static int opt_serial(struct vmm_opts *o, const char *val, GError **err)
{
	return chardev_parse("-serial", val, &o->serial, err);
}

static int opt_debugcon(struct vmm_opts *o, const char *val, GError **err)
{
	return chardev_parse("-debugcon", val, &o->debugcon, err);
}

static int opt_device(struct vmm_opts *o, const char *val, GError **err)
{
	struct devopt d;
	char *type = NULL;
	bool help = false;
	int ret;

	ret = devopt_parse(val, o->nr_devices, &d, &help, &type, err);
	if (ret < 0)
		return ret;
	if (help) {
		o->action = VMM_DEVICE_HELP;
		o->help_type = type;
		return 0;
	}
	o->devices = g_renew(struct devopt, o->devices, o->nr_devices + 1);
	o->devices[o->nr_devices++] = d;
	return 0;
}

static int opt_blockdev(struct vmm_opts *o, const char *val, GError **err)
{
	if (!o->blockdevs)
		o->blockdevs = blockdevs_new();
	return blockdev_parse(o->blockdevs, val, err);
}

static int opt_object(struct vmm_opts *o, const char *val, GError **err)
{
	struct rproc_opt r;
	int ret = rproc_opt_parse(val, &r, err);

	if (ret < 0)
		return ret;
	o->rprocs = g_renew(struct rproc_opt, o->rprocs, o->nr_rprocs + 1);
	o->rprocs[o->nr_rprocs++] = r;
	return 0;
}

static int opt_no_reboot(struct vmm_opts *o, const char *val, GError **err)
{
	o->no_reboot = true;
	return 0;
}

static int opt_qmp(struct vmm_opts *o, const char *val, GError **err)
{
	char *path;
	int ret;

	if (o->nr_qmp >= QMP_LISTEN_MAX)
		return opt_error(err, "-qmp %s: at most %u -qmp monitors; drop one", val,
				 QMP_LISTEN_MAX);
	ret = monitor_parse_opt(val, &path, err);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < o->nr_qmp; i++) {
		if (strcmp(o->qmp[i], path) == 0) {
			g_free(path);
			return opt_error(err,
					 "-qmp %s: this socket path is already used by "
					 "another -qmp; give each monitor its own path",
					 val);
		}
	}
	o->qmp = g_renew(char *, o->qmp, o->nr_qmp + 2);
	o->qmp[o->nr_qmp++] = path;
	o->qmp[o->nr_qmp] = NULL;
	return 0;
}

static int opt_S(struct vmm_opts *o, const char *val, GError **err)
{
	o->start_paused = true;
	return 0;
}

static int opt_help(struct vmm_opts *o, const char *val, GError **err)
{
	o->action = VMM_HELP;
	return 0;
}

static int opt_version(struct vmm_opts *o, const char *val, GError **err)
{
	o->action = VMM_VERSION;
	return 0;
}

static const struct opt_def opt_table[] = {
	{"m", "SIZE", "guest RAM, e.g. 128M or 1G (default 128M; a bare number is MiB)", false,
	 opt_m},
	{"smp", "N", "number of vCPUs, one thread each (default 1)", false, opt_smp},
	{"kernel", "FILE", "PVH ELF or Multiboot v1 kernel to boot (required)", false, opt_kernel},
	{"append", "STR", "the guest's command line (PVH or Multiboot cmdline)", false, opt_append},
	{"initrd", "FILE[,FILE...]", "Multiboot modules; \"FILE ARGS\" gives a module its string",
	 false, opt_initrd},
	{"machine", "[pc,]acpi=on|off", "acpi=off: no ACPI tables (default on)", false,
	 opt_machine},
	{"serial", "DEV", "16550 UART at 0x3f8: stdio, file:PATH or none (default stdio)", false,
	 opt_serial},
	{"debugcon", "DEV",
	 "debug console at port 0xe9: stdio, file:PATH or none (default "
	 "none)",
	 false, opt_debugcon},
	{"device", "TYPE,...", "add a PCI device; -device help lists types", true, opt_device},
	{"blockdev", "driver=file,...",
	 "a raw image: node-name=N,filename=PATH[,read-only=on], for virtio-blk drive=N", true,
	 opt_blockdev},
	{"object", "remote-process,...",
	 "spawn a class process: id=ID,class=storage|net|misc[,binary=PATH][,sandbox=on|off|log]"
	 "[,uid=N][,gid=N]", true, opt_object},
	{"no-reboot", NULL, "accepted for QEMU compatibility; mpvmm never reboots", false,
	 opt_no_reboot},
	{"qmp", "unix:PATH,server=on,wait=off",
	 "a QMP monitor listening at PATH (repeatable; docs/qmp.md)", true, opt_qmp},
	{"S", NULL, "start with the vCPUs paused; QMP cont starts them", false, opt_S},
	{"h", NULL, "print this help and exit (also -help)", true, opt_help},
	{"help", NULL, NULL, true, opt_help},
	{"version", NULL, "print the version and exit", true, opt_version},
};

void options_print_help(FILE *f)
{
	fprintf(f, "usage: mpvmm [options] -kernel FILE\n\n"
		   "A thin KVM VMM whose PCI devices may run in other processes.\n\n");
	for (size_t i = 0; i < G_N_ELEMENTS(opt_table); i++) {
		if (!opt_table[i].help)
			continue; /* an alias, named in its twin's line */
		g_autofree char *lhs =
			g_strdup_printf("-%s%s%s", opt_table[i].name, opt_table[i].arg ? " " : "",
					opt_table[i].arg ? opt_table[i].arg : "");

		fprintf(f, "  %-18s %s\n", lhs, opt_table[i].help);
	}
	fprintf(f, "\nExit status: (v << 1) | 1 when the guest writes v to port 0xf4; 0 when "
		   "stopped by a signal;\n2 for a setup error; 4 when the guest failed. "
		   "See docs/vmm.md.\n");
}

static const struct opt_def *opt_find(const char *arg)
{
	const char *name = arg + 1;

	if (name[0] == '-') /* QEMU accepts --opt as -opt */
		name++;
	for (size_t i = 0; i < G_N_ELEMENTS(opt_table); i++) {
		if (strcmp(opt_table[i].name, name) == 0)
			return &opt_table[i];
	}
	return NULL;
}

static void options_defaults(struct vmm_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->action = VMM_RUN;
	o->ram_size = VMM_RAM_DEFAULT;
	o->smp = 1;
	o->serial.kind = CHARDEV_STDIO;
	o->debugcon.kind = CHARDEV_NONE;
}

/* -object ids are unique; every rid= names one. */
static int options_check_rprocs(const struct vmm_opts *o, GError **err)
{
	for (unsigned i = 0; i < o->nr_rprocs; i++) {
		for (unsigned j = 0; j < i; j++) {
			if (strcmp(o->rprocs[i].id, o->rprocs[j].id) == 0)
				return opt_error(err, "-object remote-process,id=%s: id '%s' is "
						 "already used by another -object; give each its own id",
						 o->rprocs[i].id, o->rprocs[i].id);
		}
	}
	for (unsigned i = 0; i < o->nr_devices; i++) {
		const struct devopt *d = &o->devices[i];
		bool found = false;

		for (unsigned j = 0; d->rid && j < o->nr_rprocs; j++)
			found |= strcmp(d->rid, o->rprocs[j].id) == 0;
		if (d->rid && !found)
			return opt_error(err, "-device %s,id=%s: rid=%s names no -object "
					 "remote-process; add -object remote-process,id=%s,class=... "
					 "or fix rid=", d->type, d->id, d->rid, d->rid);
	}
	return 0;
}

/* Option and id checks that need the whole command line. */
static int options_check(const struct vmm_opts *o, GError **err)
{
	if (!o->kernel)
		return opt_error(
			err, "no guest to run; give -kernel FILE (a PVH ELF or Multiboot kernel)");
	for (unsigned i = 0; i < o->nr_devices; i++) {
		for (unsigned j = 0; j < i; j++) {
			const struct devopt *a = &o->devices[j], *b = &o->devices[i];

			if (strcmp(a->id, b->id) == 0)
				return opt_error(err,
						 "-device %s,id=%s: id '%s' is already used "
						 "by another -device; give each device its own "
						 "id",
						 b->type, b->id, b->id);
			if (a->socket_fd >= 0 && a->socket_fd == b->socket_fd)
				return opt_error(err,
						 "-device %s,id=%s: socket=%d is already "
						 "used by device '%s'; each device needs its own "
						 "socket",
						 b->type, b->id, b->socket_fd, a->id);
		}
	}
	return options_check_rprocs(o, err);
}

int options_parse(int argc, char **argv, struct vmm_opts *o, GError **err)
{
	bool seen[G_N_ELEMENTS(opt_table)] = {false};
	int ret = 0;

	options_defaults(o);
	for (int i = 1; i < argc && o->action == VMM_RUN && ret == 0; i++) {
		const struct opt_def *d = argv[i][0] == '-' ? opt_find(argv[i]) : NULL;
		const char *val = NULL;

		if (argv[i][0] != '-')
			return opt_error(err,
					 "'%s': unexpected argument; options start with '-' "
					 "(see mpvmm -h)",
					 argv[i]);
		if (!d)
			return opt_error(err, "%s: unknown option; see mpvmm -h", argv[i]);
		if (d->arg && i + 1 >= argc)
			return opt_error(err, "%s: missing argument; use -%s %s", argv[i], d->name,
					 d->arg);
		if (seen[d - opt_table] && !d->repeatable)
			return opt_error(err, "-%s: given more than once; give it once", d->name);
		seen[d - opt_table] = true;
		if (d->arg)
			val = argv[++i];
		ret = d->apply(o, val, err);
	}
	if (ret == 0 && o->action == VMM_RUN)
		ret = options_check(o, err);
	return ret < 0 ? -EINVAL : 0;
}

void options_free(struct vmm_opts *o)
{
	for (unsigned i = 0; i < o->nr_devices; i++)
		devopt_clear(&o->devices[i]);
	g_free(o->devices);
	for (unsigned i = 0; i < o->nr_rprocs; i++)
		rproc_opt_clear(&o->rprocs[i]);
	g_free(o->rprocs);
	blockdevs_free(o->blockdevs);
	g_free(o->help_type);
	g_free(o->kernel);
	g_free(o->append);
	g_strfreev(o->initrd);
	g_strfreev(o->qmp);
	g_free(o->serial.path);
	g_free(o->debugcon.path);
	memset(o, 0, sizeof(*o));
}
