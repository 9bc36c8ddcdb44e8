/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qmp_priv: what the QMP files of protocol/ share and nobody else sees: the session
 * structure (qmp_session.c owns it; qmp_builtin.c's commands read its tables and fd
 * tables) and the argument checker.  Not an API: protocol.h is.
 */
#ifndef MPVMM_QMP_PRIV_H
#define MPVMM_QMP_PRIV_H

#include "protocol/protocol.h"

struct qmp_named_fd {
	char *name;
	int fd;
};

struct qmp_session {
	const struct qmp_command *const *tables; /* not owned */
	void *opaque;
	int ver_major, ver_minor, ver_micro;
	char *package;
	qmp_write_fn write;
	void *write_ctx;
	json_tokener *tok;
	size_t msg_len; /* bytes of the message being parsed, from its first non-blank */
	bool in_msg;	/* a message has started and is not complete */
	bool skipping;	/* after a parse error: dropping input up to a newline */
	bool negotiated;
	bool failed;	      /* oversize or write error: nothing more is done */
	int fds[QMP_FDS_MAX]; /* received, not yet taken, oldest first */
	unsigned nr_fds;
	bool fds_loose; /* fds[] came on blanks alone: they wait for a command (see input) */
	GArray *named;	/* struct qmp_named_fd, the getfd table */
};

/* Built-in commands (qmp_builtin.c), looked up before the session's tables. */
extern const struct qmp_command qmp_builtin_commands[];

/* The command called name, or NULL. */
const struct qmp_command *qmp_session_find(const struct qmp_session *s, const char *name);
/*
 * Check args (an object) against cmd's argument list with QEMU's messages: declared
 * arguments in order (missing, wrong type), then unexpected ones.  0 or -EINVAL + *err.
 */
int qmp_args_check(const struct qmp_command *cmd, json_object *args, GError **err);

/* qmp_session.c */
/* Serialize obj (reference taken), append "\r\n", write.  0 or the write error. */
int qmp_session_write_obj(struct qmp_session *s, json_object *obj);
/* {"qemu": {"micro", "minor", "major"}, "package"}, a new reference. */
json_object *qmp_version_object(const struct qmp_session *s);
/* An event with the given timestamp (g_get_real_time() microseconds); data taken. */
int qmp_event_send_at(struct qmp_session *s, const char *name, json_object *data, gint64 us);

/* qmp_dispatch.c */
/* Run one parsed message (NULL for JSON null; not taken) and write the reply. */
int qmp_dispatch(struct qmp_session *s, json_object *msg);
/* Write {"error": {"class", "desc"}}, echoing msg's "id" if it has one (msg not taken). */
int qmp_reply_error(struct qmp_session *s, json_object *msg, enum qmp_error_class cls,
		    const char *fmt, ...) G_GNUC_PRINTF(4, 5);

#endif
