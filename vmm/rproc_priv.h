/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rproc_priv: shared by vmm/rproc*.c only, not part of vmm.h's API: one spawned class
 * process and the VM's list of them.  Every field is guarded by rprocs.lock, which is
 * also held across a control-channel call (calls are serialized per VM).
 */
#ifndef MPVMM_VMM_RPROC_PRIV_H
#define MPVMM_VMM_RPROC_PRIV_H

#include "vmm/vmm.h"

enum rproc_health { RPROC_RUNNING, RPROC_EXITED, RPROC_KILLED };

struct rproc {
	char *id, *cls;
	char *binary; /* the full path spawned */
	GPid pid;
	int pidfd;
	struct rqmp *qmp;     /* NULL once stopping */
	GPtrArray *devices;   /* ids (char *, owned) of the devices it hosts */
	json_object *sandbox; /* its last query-sandbox answer, or NULL */
	enum rproc_health health;
	int code;      /* exit status, or the signal that killed it */
	bool stopping; /* being stopped on purpose: its end is no failure */
};

struct rprocs {
	GMutex lock;
	GPtrArray *list; /* struct rproc */
	pthread_t watcher;
	int wake_fd; /* eventfd: the list changed, or stop */
	bool stop;
};

/* Lock held for each of these. */
struct rproc *rproc_find(struct rprocs *ps, const char *id);
char *rproc_health_text(const struct rproc *p); /* "running", "killed by SIGSYS", ... */
/* Lock not held: */
void rprocs_wake(struct rprocs *ps);
void rproc_stop(struct rprocs *ps, struct rproc *p); /* p already out of the list; frees it */

#endif
