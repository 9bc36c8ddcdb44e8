/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * class_ids.h: the default uid and gid of a device-class process, in one place for the
 * two programs that choose them: the class binaries (remote/sandbox.c, the sandbox's uid
 * step) and mpvmm-launch (tools/launch/spawn.c, which switches a class process to them
 * before execve), so both always pick the same ids.
 */
#ifndef MPVMM_REMOTE_CLASS_IDS_H
#define MPVMM_REMOTE_CLASS_IDS_H

/*
 * Those of the system user and group "mpvmm-CLASS" when the host has them (useradd
 * --system mpvmm-storage), else CLASS_ID_BASE + the class's index: 65100 misc, 65101
 * storage, 65102 net, in Debian's reserved 65000-65533 block that neither adduser nor
 * packages hand out.  class is "misc", "storage" or "net" (checked by the caller).
 */
#define CLASS_ID_BASE 65100
unsigned class_default_uid(const char *class);
unsigned class_default_gid(const char *class);

#endif
