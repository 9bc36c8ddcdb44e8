// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qmp_session: one QMP client's protocol state, independent of the transport.  It
 * splits the inbound byte stream into JSON messages with a streaming json_tokener,
 * enforces the per-message size limit, recovers from malformed JSON, holds the fds
 * that arrived with the input and the getfd table, and writes replies and events.
 * What a message means (the "execute" rules, argument checks, the commands) is
 * qmp_dispatch.c's and the command tables' business; sockets are qmp_server.c's.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "protocol/qmp_priv.h"

/* json-c flags: RFC 8259 (plus json-c's single-quote leniency, which QEMU shares),
 * UTF-8 checked, and a stream may hold several messages back to back. */
#define QMP_TOKENER_FLAGS                                                                          \
	(JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS | JSON_TOKENER_VALIDATE_UTF8)

int qmp_session_create(const struct qmp_command *const *tables, void *opaque,
		       const struct qmp_version *ver, qmp_write_fn write, void *write_ctx,
		       struct qmp_session **out)
{
	struct qmp_session *s;

	if (!write || !ver)
		return -EINVAL;
	s = g_new0(struct qmp_session, 1);
	s->tok = json_tokener_new_ex(QMP_DEPTH_MAX);
	if (!s->tok) {
		g_free(s);
		return -ENOMEM;
	}
	json_tokener_set_flags(s->tok, QMP_TOKENER_FLAGS);
	s->tables = tables;
	s->opaque = opaque;
	s->ver_major = ver->major;
	s->ver_minor = ver->minor;
	s->ver_micro = ver->micro;
	s->package = g_strdup(ver->package ? ver->package : "");
	s->write = write;
	s->write_ctx = write_ctx;
	s->named = g_array_new(FALSE, TRUE, sizeof(struct qmp_named_fd));
	*out = s;
	return 0;
}

static void qmp_session_close_msg_fds(struct qmp_session *s)
{
	for (unsigned i = 0; i < s->nr_fds; i++)
		close(s->fds[i]);
	s->nr_fds = 0;
	s->fds_loose = false;
}

void qmp_session_destroy(struct qmp_session *s)
{
	if (!s)
		return;
	qmp_session_close_msg_fds(s);
	for (guint i = 0; i < s->named->len; i++) {
		struct qmp_named_fd *n = &g_array_index(s->named, struct qmp_named_fd, i);

		close(n->fd);
		g_free(n->name);
	}
	g_array_free(s->named, TRUE);
	json_tokener_free(s->tok);
	g_free(s->package);
	g_free(s);
}

bool qmp_session_negotiated(const struct qmp_session *s)
{
	return s->negotiated;
}

/* Serialize obj (reference taken) and hand it to the transport with QEMU's "\r\n". */
int qmp_session_write_obj(struct qmp_session *s, json_object *obj)
{
	const char *txt;
	g_autofree char *line = NULL;
	size_t len;
	int ret;

	txt = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_SPACED |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	line = g_strconcat(txt ? txt : "null", "\r\n", NULL);
	len = strlen(line);
	json_object_put(obj);
	if (s->failed)
		return -EPIPE;
	ret = s->write(s->write_ctx, line, len);
	if (ret < 0)
		s->failed = true;
	return ret < 0 ? ret : 0;
}

json_object *qmp_version_object(const struct qmp_session *s)
{
	json_object *v = json_object_new_object(), *q = json_object_new_object();

	json_object_object_add(q, "micro", json_object_new_int(s->ver_micro));
	json_object_object_add(q, "minor", json_object_new_int(s->ver_minor));
	json_object_object_add(q, "major", json_object_new_int(s->ver_major));
	json_object_object_add(v, "qemu", q);
	json_object_object_add(v, "package", json_object_new_string(s->package));
	return v;
}

/* Spec "Server Greeting": we offer no capability (no "oob"). */
int qmp_session_greet(struct qmp_session *s)
{
	json_object *g = json_object_new_object(), *qmp = json_object_new_object();

	json_object_object_add(qmp, "version", qmp_version_object(s));
	json_object_object_add(qmp, "capabilities", json_object_new_array());
	json_object_object_add(g, "QMP", qmp);
	return qmp_session_write_obj(s, g);
}

/* Spec "Asynchronous events": {"event", "data"?, "timestamp"} (data omitted if NULL). */
int qmp_event_send_at(struct qmp_session *s, const char *name, json_object *data, gint64 us)
{
	json_object *ev, *ts;

	if (!s->negotiated || s->failed) {
		json_object_put(data);
		return 0;
	}
	ev = json_object_new_object();
	ts = json_object_new_object();
	json_object_object_add(ev, "event", json_object_new_string(name));
	if (data)
		json_object_object_add(ev, "data", data);
	json_object_object_add(ts, "seconds", json_object_new_int64(us / G_USEC_PER_SEC));
	json_object_object_add(ts, "microseconds", json_object_new_int64(us % G_USEC_PER_SEC));
	json_object_object_add(ev, "timestamp", ts);
	return qmp_session_write_obj(s, ev);
}

int qmp_session_send_event(struct qmp_session *s, const char *name, json_object *data)
{
	return qmp_event_send_at(s, name, data, g_get_real_time());
}

/* ---- fds ---- */

int qmp_session_take_msg_fd(struct qmp_session *s)
{
	int fd;

	if (s->nr_fds == 0)
		return -ENOENT;
	fd = s->fds[0];
	memmove(s->fds, s->fds + 1, --s->nr_fds * sizeof(s->fds[0]));
	if (s->nr_fds == 0)
		s->fds_loose = false;
	return fd;
}

static int qmp_session_named_index(const struct qmp_session *s, const char *name)
{
	for (guint i = 0; i < s->named->len; i++)
		if (!strcmp(g_array_index(s->named, struct qmp_named_fd, i).name, name))
			return (int)i;
	return -ENOENT;
}

int qmp_session_take_fd(struct qmp_session *s, const char *name)
{
	int i = qmp_session_named_index(s, name);
	struct qmp_named_fd n;

	if (i < 0)
		return i;
	n = g_array_index(s->named, struct qmp_named_fd, i);
	g_array_remove_index(s->named, i);
	g_free(n.name);
	return n.fd;
}

int qmp_session_put_fd(struct qmp_session *s, const char *name, int fd)
{
	int i = qmp_session_named_index(s, name);
	struct qmp_named_fd n;

	if (fd < 0 || !name || !*name || strlen(name) > QMP_FDNAME_MAX) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (i >= 0) { /* QEMU: a name given again replaces the old fd, which is closed */
		close(g_array_index(s->named, struct qmp_named_fd, i).fd);
		g_array_index(s->named, struct qmp_named_fd, i).fd = fd;
		return 0;
	}
	if (s->named->len >= QMP_NAMED_FDS_MAX) {
		close(fd);
		return -ENOSPC;
	}
	n = (struct qmp_named_fd){.name = g_strdup(name), .fd = fd};
	g_array_append_val(s->named, n);
	return 0;
}

/*
 * Queue the fds of one read; true if there was any.  Loose fds from an earlier read are
 * replaced (closed), as QEMU's socket chardev replaces the fds it holds with newer ones.
 */
static bool qmp_session_queue_fds(struct qmp_session *s, int *fds, unsigned nr_fds)
{
	bool any = false;

	for (unsigned i = 0; i < nr_fds; i++) {
		if (fds[i] < 0)
			continue;
		if (!any && s->fds_loose) {
			g_debug("qmp: %u pending fd(s) replaced by newer ones", s->nr_fds);
			qmp_session_close_msg_fds(s);
		}
		any = true;
		if (s->nr_fds < QMP_FDS_MAX && !s->failed) {
			s->fds[s->nr_fds++] = fds[i];
		} else {
			g_debug("qmp: more than %u fds pending, one closed", QMP_FDS_MAX);
			close(fds[i]);
		}
	}
	return any;
}

/* ---- the byte stream ---- */

static int qmp_session_parse_error(struct qmp_session *s, enum json_tokener_error jerr)
{
	g_debug("qmp: JSON parse error: %s", json_tokener_error_desc(jerr));
	json_tokener_reset(s->tok);
	s->in_msg = false;
	s->skipping = true;
	return qmp_reply_error(s, NULL, QMP_ERROR_GENERIC, "JSON parse error, %s",
			       json_tokener_error_desc(jerr));
}

static int qmp_session_oversize(struct qmp_session *s)
{
	int ret;

	g_debug("qmp: message over %u bytes, closing", QMP_MSG_MAX);
	ret = qmp_reply_error(s, NULL, QMP_ERROR_GENERIC,
			      "QMP message exceeds %u bytes; closing the connection", QMP_MSG_MAX);
	s->failed = true;
	return ret < 0 ? ret : -EMSGSIZE;
}

/* Feed up to len bytes of a started message; *used gets what the tokener consumed. */
static int qmp_session_feed(struct qmp_session *s, const char *buf, size_t len, size_t *used)
{
	size_t room = QMP_MSG_MAX - s->msg_len + 1; /* one past the limit detects excess */
	json_object *obj;
	enum json_tokener_error jerr;
	int ret;

	obj = json_tokener_parse_ex(s->tok, buf, (int)MIN(len, room));
	jerr = json_tokener_get_error(s->tok);
	*used = json_tokener_get_parse_end(s->tok);
	s->msg_len += *used;
	if (jerr == json_tokener_continue)
		return s->msg_len > QMP_MSG_MAX ? qmp_session_oversize(s) : 0;
	if (jerr != json_tokener_success)
		return qmp_session_parse_error(s, jerr);
	json_tokener_reset(s->tok);
	s->in_msg = false;
	/* json-c also eats the blanks after a value: they are not the message's */
	for (size_t i = *used; i > 0 && buf[i - 1] && strchr(" \t\r\n", buf[i - 1]); i--)
		s->msg_len--;
	if (s->msg_len > QMP_MSG_MAX) {
		json_object_put(obj);
		return qmp_session_oversize(s);
	}
	ret = qmp_dispatch(s, obj);
	json_object_put(obj);
	return ret;
}

/* Skip blanks between messages, or everything up to a newline after a parse error. */
static size_t qmp_session_skip(struct qmp_session *s, const char *buf, size_t len)
{
	size_t n = 0;

	if (s->skipping) {
		const char *nl = memchr(buf, '\n', len);

		if (!nl)
			return len;
		s->skipping = false;
		n = (size_t)(nl - buf) + 1;
	}
	while (n < len && buf[n] && strchr(" \t\r\n", buf[n]))
		n++;
	return n;
}

/*
 * fds and messages (docs/qmp.md "File descriptors"): fds that came in a read holding
 * bytes of a message belong to the message(s) of that read and are closed once the
 * session is idle at a message boundary, if no command took them.  fds that came in a
 * read holding only blanks between messages (QEMU's Python QMP library sends an fd on
 * one ' ', then the command) are "loose": they wait, through commands that take no fd,
 * until a command takes them, newer fds replace them, or the session ends.
 */
int qmp_session_input(struct qmp_session *s, const char *buf, size_t len, int *fds, unsigned nr_fds)
{
	bool fresh = qmp_session_queue_fds(s, fds, nr_fds);
	int ret = 0;

	if (fresh)
		s->fds_loose = !s->in_msg && !s->skipping;
	while (len > 0 && ret >= 0 && !s->failed) {
		size_t n = 0;

		if (!s->in_msg) {
			n = qmp_session_skip(s, buf, len);
			if (n < len && !s->skipping) {
				s->in_msg = true;
				s->msg_len = 0;
				if (fresh)
					s->fds_loose = false; /* they came with this message */
			}
		} else {
			ret = qmp_session_feed(s, buf, len, &n);
			if (n == 0 && ret >= 0 && s->in_msg)
				n = len; /* cannot happen with json-c; never loop forever */
		}
		buf += n;
		len -= n;
	}
	if (s->failed || (!s->in_msg && !s->fds_loose))
		qmp_session_close_msg_fds(s); /* idle at a boundary: nobody took them */
	if (s->failed && ret >= 0)
		ret = -EPIPE;
	return ret;
}
