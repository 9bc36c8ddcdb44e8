/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-qmp: the fixture shared by the QMP core's unit tests (test-qmp.c,
 * test-qmp-io.c): a qmp_server on its own thread listening in a temporary directory,
 * with the test command table fx_commands.
 */
#ifndef MPVMM_TEST_QMP_H
#define MPVMM_TEST_QMP_H

#include "protocol/protocol.h"
#include "tests/unit/test-qmp-client.h"

struct fx {
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	struct qmp_server *srv;
	char *dir, *path;
	unsigned fds_before;
};

#define FX_ADD(path, fn) g_test_add(path, struct fx, NULL, fx_setup, fn, fx_teardown)

void fx_setup(struct fx *f, gconstpointer data);
void fx_teardown(struct fx *f, gconstpointer data);
/* Connect and negotiate. */
struct tq *fx_client(struct fx *f);
void fx_expect(struct tq *q, const char *text, const char *cls, const char *desc);
/* Clients the server has now (asked on its thread). */
unsigned fx_clients(struct fx *f);
/* Wait up to 5 s for the server to have n clients, then assert it. */
void fx_wait_clients(struct fx *f, unsigned n);

/* test-qmp-io.c */
extern const struct qmp_command fx_commands[];
/* Distinct names in fx_commands that are not built-ins. */
unsigned fx_nr_commands(void);
void fx_add_io_tests(void);
/* test-qmp-fd.c */
void fx_add_fd_tests(void);

#endif
