/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-qmp-client: a minimal QMP client for the tests (unit and integration): connect,
 * send text (with SCM_RIGHTS fds), read "\r\n"-terminated JSON messages, keep events
 * apart from replies.  Every helper asserts (tu_ style); nothing here is product code.
 * It deliberately shares no code with protocol/qmp*.c, so it checks the server from
 * outside.
 */
#ifndef MPVMM_TEST_QMP_CLIENT_H
#define MPVMM_TEST_QMP_CLIENT_H

#include <stdbool.h>
#include <glib.h>
#include <json-c/json.h>

struct tq {
	int fd;
	GString *in;   /* received bytes not yet returned */
	GQueue events; /* json_object *, events seen while waiting for a reply */
	unsigned timeout_s;
};

/* Wrap a connected socket (taken). */
struct tq *tq_open_fd(int fd);
/* Connect to a unix socket path, retrying up to timeout_s while it does not exist. */
struct tq *tq_connect(const char *path, unsigned timeout_s);
/* Like tq_connect, but returns NULL if the connection is refused / path absent. */
struct tq *tq_try_connect(const char *path);
void tq_close(struct tq *q);

void tq_send(struct tq *q, const char *text);
void tq_send_fds(struct tq *q, const char *text, const int *fds, unsigned nr);
void tq_sendf(struct tq *q, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The next message, whatever it is (asserts within the timeout).  Caller puts it. */
json_object *tq_recv(struct tq *q);
/* The next message that is not an event (events are queued).  Caller puts it. */
json_object *tq_reply(struct tq *q);
/* Send text, return the reply. */
json_object *tq_cmd(struct tq *q, const char *text);
/* Read the greeting, check its shape, negotiate; returns the greeting. */
json_object *tq_negotiate(struct tq *q);
/* The next event called name (queued or new), else assert.  Caller puts it. */
json_object *tq_event(struct tq *q, const char *name);
/* true when the server closed the connection (EOF) within timeout_s. */
bool tq_eof(struct tq *q, unsigned timeout_s);

/* Dotted path lookup ("error.class", "return.qemu.major"); NULL if absent. */
json_object *tq_get(json_object *o, const char *path);
const char *tq_str(json_object *o, const char *path);
/* Assert that reply is an error of class cls whose desc equals desc (NULL: any). */
void tq_assert_error(json_object *reply, const char *cls, const char *desc);
/* Assert that reply is a success; returns its "return" (borrowed). */
json_object *tq_assert_return(json_object *reply);
/* Open fds of this process (for leak checks). */
unsigned tq_count_fds(void);

#endif
