// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Access decisions computed on the linked binary policy (Debian's reference policy
 * plus the mpvmm module, built by tools/selinux/build-policy) with libsepol's security
 * server, in this process: the same type enforcement, RBAC and MLS/MCS constraint
 * evaluation the kernel does, for a source and a target context.  It proves that MCS
 * separates VMs (s0:c1,c2 against s0:c3,c4 is denied by a constraint while the same
 * pair is allowed), that TE separates classes, and that the sandbox's namespace layer
 * gets what it needs in the process's own user namespace and nothing in the initial
 * one (docs/security.md).  It does not need an SELinux kernel
 * and loads nothing into one.  The policy's path comes from $MPVMM_SELINUX_POLICY.
 */
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sepol/policydb/services.h>
#include <sepol/sepol.h>

#define VM1 "s0:c1,c2"
#define VM2 "s0:c3,c4"

/* An access decision and, when denied, why (SEPOL_COMPUTEAV_* bits). */
struct av {
	bool allowed;
	unsigned reason;
};

/* The four mpvmm domains run in system_r; everything else is an object (object_r). */
static bool is_domain(const char *type)
{
	const char *const domains[] = {"mpvmm_t", "mpvmm_misc_t", "mpvmm_storage_t", "mpvmm_net_t"};

	for (size_t i = 0; i < G_N_ELEMENTS(domains); i++) {
		if (!strcmp(type, domains[i]))
			return true;
	}
	return false;
}

static sepol_security_id_t sid(const char *type, const char *level)
{
	g_autofree char *ctx = g_strdup_printf(
		"system_u:%s:%s:%s", is_domain(type) ? "system_r" : "object_r", type, level);
	sepol_security_id_t s;

	if (sepol_context_to_sid(ctx, strlen(ctx) + 1, &s) < 0)
		g_error("context %s is not valid in the policy", ctx);
	return s;
}

/* May @stype at @slevel have @perm on a @cls object of @ttype at @tlevel? */
static struct av check(const char *stype, const char *slevel, const char *ttype, const char *tlevel,
		       const char *cls, const char *perm)
{
	struct sepol_av_decision avd;
	sepol_security_class_t c;
	sepol_access_vector_t p;
	struct av r = {0};
	char *buf = NULL;

	g_assert_cmpint(sepol_string_to_security_class(cls, &c), ==, 0);
	g_assert_cmpint(sepol_string_to_av_perm(c, perm, &p), ==, 0);
	g_assert_cmpint(sepol_compute_av_reason_buffer(sid(stype, slevel), sid(ttype, tlevel), c, p,
						       &avd, &r.reason, &buf, 0),
			==, 0);
	r.allowed = (avd.allowed & p) == p;
	g_test_message("%s:%s -> %s:%s %s { %s }: %s (reason 0x%x)%s%s", stype, slevel, ttype,
		       tlevel, cls, perm, r.allowed ? "allowed" : "denied", r.reason,
		       buf ? "\n" : "", buf ? buf : "");
	free(buf);
	return r;
}

/* Allowed for one VM's pair; denied by a constraint (not TE) across VMs. */
static void assert_mcs(const char *stype, const char *ttype, const char *cls, const char *perm)
{
	struct av same = check(stype, VM1, ttype, VM1, cls, perm);
	struct av other = check(stype, VM1, ttype, VM2, cls, perm);

	g_assert_true(same.allowed);
	g_assert_false(other.allowed);
	g_assert_cmphex(other.reason & SEPOL_COMPUTEAV_CONS, !=, 0);
	g_assert_cmphex(other.reason & SEPOL_COMPUTEAV_TE, ==, 0);
}

static void test_mcs_image(void)
{
	assert_mcs("mpvmm_storage_t", "mpvmm_image_t", "file", "read");
	assert_mcs("mpvmm_storage_t", "mpvmm_image_t", "file", "write");
	assert_mcs("mpvmm_storage_t", "mpvmm_image_t", "file", "open");
	/* mpvmm opens a VMM-launched or in-process device's -blockdev O_RDWR itself */
	assert_mcs("mpvmm_t", "mpvmm_image_t", "file", "open");
	assert_mcs("mpvmm_t", "mpvmm_image_t", "file", "read");
	assert_mcs("mpvmm_t", "mpvmm_image_t", "file", "write");
	assert_mcs("mpvmm_t", "mpvmm_image_t", "file", "lock");
	/* MCS does not constrain getattr (a stat by path); open, read and write it does */
	g_assert_true(check("mpvmm_t", VM1, "mpvmm_image_t", VM1, "file", "getattr").allowed);
}

/* A kernel labeled mpvmm_kernel_t:s0 (no categories) is readable by every VM's mpvmm. */
static void test_mcs_shared_kernel(void)
{
	g_assert_true(check("mpvmm_t", VM1, "mpvmm_kernel_t", "s0", "file", "read").allowed);
	g_assert_true(check("mpvmm_t", VM2, "mpvmm_kernel_t", "s0", "file", "read").allowed);
	/* but not writable by TE, whatever the level */
	g_assert_false(check("mpvmm_t", VM1, "mpvmm_kernel_t", "s0", "file", "write").allowed);
	g_assert_false(check("mpvmm_t", VM1, "mpvmm_kernel_t", VM1, "file", "write").allowed);
	g_assert_false(check("mpvmm_t", VM1, "mpvmm_kernel_t", VM1, "file", "append").allowed);
}

static void test_mcs_socket(void)
{
	/* The socketpairs are created labeled mpvmm_t with the VM's pair. */
	assert_mcs("mpvmm_storage_t", "mpvmm_t", "unix_stream_socket", "read");
	assert_mcs("mpvmm_misc_t", "mpvmm_t", "unix_stream_socket", "write");
	assert_mcs("mpvmm_t", "mpvmm_net_t", "unix_stream_socket", "write");
}

static void test_mcs_tmpfs(void)
{
	/* Guest RAM: another VM's memfd can be neither read nor written. */
	assert_mcs("mpvmm_misc_t", "mpvmm_tmpfs_t", "file", "read");
	assert_mcs("mpvmm_storage_t", "mpvmm_tmpfs_t", "file", "write");
	assert_mcs("mpvmm_t", "mpvmm_tmpfs_t", "file", "read");
}

static void test_mcs_process(void)
{
	assert_mcs("mpvmm_t", "mpvmm_storage_t", "process", "signal");
	assert_mcs("mpvmm_t", "mpvmm_misc_t", "process", "sigkill");
}

/* TE separates classes: denied by type enforcement even within one VM. */
static void test_te_classes(void)
{
	const char *const denied[][4] = {
		{"mpvmm_net_t", "mpvmm_image_t", "file", "read"},
		{"mpvmm_misc_t", "mpvmm_image_t", "file", "write"},
		{"mpvmm_storage_t", "tun_tap_device_t", "chr_file", "read"},
		{"mpvmm_storage_t", "mpvmm_storage_t", "tcp_socket", "create"},
		{"mpvmm_misc_t", "mpvmm_misc_t", "capability", "setuid"},
		{"mpvmm_storage_t", "mpvmm_storage_t", "capability", "sys_admin"},
		{"mpvmm_net_t", "mpvmm_net_t", "capability", "setpcap"},
		{"mpvmm_misc_t", "mpvmm_misc_t", "capability2", "bpf"},
		{"mpvmm_storage_t", "mpvmm_storage_t", "cap_userns", "setuid"},
		{"mpvmm_net_t", "mpvmm_net_t", "cap_userns", "net_admin"},
		{"mpvmm_misc_t", "mpvmm_misc_t", "cap_userns", "dac_override"},
		{"mpvmm_storage_t", "mpvmm_storage_t", "cap2_userns", "bpf"},
		{"mpvmm_storage_t", "tmpfs_t", "filesystem", "unmount"},
		{"mpvmm_net_t", "fs_t", "filesystem", "mount"},
		{"mpvmm_misc_t", "proc_t", "filesystem", "mount"},
		{"mpvmm_storage_t", "mpvmm_sandbox_root_t", "dir", "write"},
		{"mpvmm_t", "mpvmm_t", "cap_userns", "sys_admin"},
		{"mpvmm_t", "mpvmm_image_t", "file", "execute"},
		{"mpvmm_t", "mpvmm_image_t", "file", "relabelto"},
		{"mpvmm_misc_t", "mpvmm_misc_t", "process", "execmem"},
		{"mpvmm_storage_t", "mpvmm_t", "process", "transition"},
		{"mpvmm_misc_t", "bin_t", "file", "execute_no_trans"},
		{"mpvmm_storage_t", "shell_exec_t", "file", "execute"},
		{"mpvmm_misc_t", "mpvmm_storage_t", "process", "ptrace"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(denied); i++) {
		const char *const *d = denied[i];
		/* host objects carry no categories; mpvmm's own carry the VM's */
		const char *level = g_str_has_prefix(d[1], "mpvmm_") ? VM1 : "s0";
		struct av r = check(d[0], VM1, d[1], level, d[2], d[3]);

		g_assert_false(r.allowed);
		g_assert_cmphex(r.reason & SEPOL_COMPUTEAV_TE, !=, 0);
	}
	/* and what each class needs is there */
	g_assert_true(
		check("mpvmm_net_t", VM1, "tun_tap_device_t", "s0", "chr_file", "write").allowed);
	g_assert_true(
		check("mpvmm_misc_t", VM1, "urandom_device_t", "s0", "chr_file", "read").allowed);
}

/*
 * The sandbox's namespace layer (remote/sandbox_ns.c) under the policy: capabilities in
 * the process's own user namespace (cap_userns) and the mounts of its own empty root.
 * Host objects (root_t, tmp_t, the superblocks) carry no categories.
 */
static void test_te_sandbox(void)
{
	const char *const classes[] = {"mpvmm_misc_t", "mpvmm_storage_t", "mpvmm_net_t"};
	const char *const allowed[][4] = {
		{"self", VM1, "cap_userns", "sys_admin"}, /* unshare, uid_map, mount, pivot_root */
		{"self", VM1, "cap_userns", "setpcap"},	  /* PR_CAPBSET_DROP */
		{"self", VM1, "process", "setcap"},	  /* capset: clearing its sets */
		{"root_t", "s0", "dir", "mounton"},	  /* mount --make-rprivate / */
		{"tmp_t", "s0", "dir", "mounton"},	  /* the tmpfs on /tmp */
		{"tmpfs_t", "s0", "filesystem", "mount"},
		{"tmpfs_t", "s0", "filesystem", "remount"},	/* read-only */
		{"fs_t", "s0", "filesystem", "unmount"},	/* detach the old root */
		{"mpvmm_sandbox_root_t", VM1, "dir", "search"}, /* chdir, pivot_root */
	};

	for (size_t c = 0; c < G_N_ELEMENTS(classes); c++) {
		for (size_t i = 0; i < G_N_ELEMENTS(allowed); i++) {
			const char *const *a = allowed[i];
			const char *t = strcmp(a[0], "self") ? a[0] : classes[c];

			g_assert_true(check(classes[c], VM1, t, a[1], a[2], a[3]).allowed);
		}
	}
}

int main(int argc, char **argv)
{
	const char *path = getenv("MPVMM_SELINUX_POLICY");
	FILE *fp;

	g_test_init(&argc, &argv, NULL);
	if (!path)
		g_error("MPVMM_SELINUX_POLICY is not set (meson sets it to the linked policy)");
	fp = fopen(path, "re");
	if (!fp)
		g_error("%s: %s; build it with tools/selinux/build-policy", path,
			g_strerror(errno));
	if (sepol_set_policydb_from_file(fp) < 0)
		g_error("%s: not a binary policy libsepol can load", path);
	fclose(fp);
	g_test_add_func("/selinux/mcs/image", test_mcs_image);
	g_test_add_func("/selinux/mcs/shared-kernel", test_mcs_shared_kernel);
	g_test_add_func("/selinux/mcs/socket", test_mcs_socket);
	g_test_add_func("/selinux/mcs/tmpfs", test_mcs_tmpfs);
	g_test_add_func("/selinux/mcs/process", test_mcs_process);
	g_test_add_func("/selinux/te/classes", test_te_classes);
	g_test_add_func("/selinux/te/sandbox", test_te_sandbox);
	return g_test_run();
}
