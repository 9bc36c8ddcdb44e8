// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for protocol/vfu_version.c: the VERSION payload and its JSON capabilities,
 * received over a real socketpair, and the client's check of the server's answer.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "protocol/protocol.h"
#include "tests/unit/test-protocol.h"

/* --- VERSION -------------------------------------------------------------------- */

/* Send a VERSION payload over a socketpair and decode what arrived. */
static int tp_version(const void *p, size_t len, struct vfu_caps *caps)
{
	struct vfu_msg m;
	int ret;

	tp_loop(VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, p, len, NULL, 0, &m);
	ret = vfu_version_decode(m.payload, m.len, caps);
	vfu_msg_clear(&m);
	return ret;
}

/* Version 0.1 followed by json; with_nul adds the terminating NUL. */
static int tp_version_json(const char *json, bool with_nul, struct vfu_caps *caps)
{
	size_t jlen = strlen(json) + (with_nul ? 1 : 0);
	g_autofree uint8_t *p = g_malloc0(4 + jlen + 1);

	p[2] = 1;
	memcpy(p + 4, json, jlen);
	return tp_version(p, 4 + jlen, caps);
}

static void test_version_roundtrip(void)
{
	struct vfu_caps in = { .major = 0, .minor = 1, .max_msg_fds = VFU_MAX_FDS,
			       .max_data_xfer_size = 1ull << 40, .device_id = "t0" };
	struct vfu_caps out = { 0 };
	g_autofree uint8_t *p = NULL;
	size_t len;

	g_assert_cmpint(vfu_version_encode(&in, &p, &len), ==, 0);
	g_assert_cmpuint(p[len - 1], ==, 0);
	g_assert_cmpint(tp_version(p, len, &out), ==, 0);
	g_assert_cmpuint(out.major, ==, 0);
	g_assert_cmpuint(out.minor, ==, 1);
	g_assert_cmpuint(out.max_msg_fds, ==, VFU_MAX_FDS);
	g_assert_cmpuint(out.max_data_xfer_size, ==, 1ull << 40);
	g_assert_cmpstr(out.device_id, ==, "t0");
	g_assert_cmpint(vfu_version_check(&in, &out), ==, 0);
	vfu_caps_clear(&out);
	g_assert_null(out.device_id);
	/* No device id: none on the wire, none decoded. */
	g_clear_pointer(&p, g_free);
	in.device_id = NULL;
	g_assert_cmpint(vfu_version_encode(&in, &p, &len), ==, 0);
	g_assert_null(strstr((char *)p + 4, "mpvmm"));
	g_assert_cmpint(tp_version(p, len, &out), ==, 0);
	g_assert_null(out.device_id);
	/* Version data is optional: the spec's defaults apply. */
	g_assert_cmpint(tp_version(p, 4, &out), ==, 0);
	g_assert_cmpuint(out.max_msg_fds, ==, VFU_DEFAULT_MAX_MSG_FDS);
	g_assert_cmpuint(out.max_data_xfer_size, ==, VFU_DEFAULT_MAX_DATA_XFER);
	/* Unknown capabilities and top-level keys are ignored; known ones may be absent. */
	g_assert_cmpint(tp_version_json("{\"capabilities\":{\"x\":[1,{}],\"pgsizes\":4096,"
					"\"twin_socket\":{\"supported\":false}},\"y\":1}",
					true, &out), ==, 0);
	g_assert_cmpuint(out.max_msg_fds, ==, VFU_DEFAULT_MAX_MSG_FDS);
	g_assert_cmpint(tp_version_json("{}", true, &out), ==, 0);
}

static void test_version_bad_json(void)
{
	static const char *const bad[] = {
		"",                                           /* empty JSON text */
		"{",                                          /* not JSON */
		"{} x",                                       /* trailing garbage */
		"{\"capabilities\":{},}",                    /* not strict JSON */
		"{/* comment */}",
		"{\"capabilities\":{\"max_msg_fds\":NaN}}",
		"[]", "3", "\"caps\"", "null",                /* not an object */
		"{\"capabilities\":[]}",                      /* capabilities not an object */
		"{\"capabilities\":{\"max_msg_fds\":\"8\"}}", /* wrong types */
		"{\"capabilities\":{\"max_msg_fds\":8.0}}",
		"{\"capabilities\":{\"max_msg_fds\":-1}}",
		"{\"capabilities\":{\"max_msg_fds\":4294967296}}",
		"{\"capabilities\":{\"max_data_xfer_size\":0}}",
		"{\"capabilities\":{\"max_data_xfer_size\":true}}",
		"{\"capabilities\":{\"max_dma_maps\":null}}",
		"{\"capabilities\":{\"pgsizes\":\"4k\"}}",
		"{\"capabilities\":{\"twin_socket\":true}}",
		"{\"capabilities\":{\"write_multiple\":1}}",
		"{\"capabilities\":{\"mpvmm\":\"t0\"}}",      /* our extension */
		"{\"capabilities\":{\"mpvmm\":{\"device-id\":7}}}",
		"{\"capabilities\":{\"mpvmm\":{\"device-id\":\"\"}}}",
		"{\"capabilities\":{\"mpvmm\":{\"device-id\":\"a b\"}}}",
		"{\"capabilities\":{\"mpvmm\":{\"device-id\":\"a\\nb\"}}}",
		"{\"capabilities\":{\"mpvmm\":{\"device-id\":\"a\\u0000b\"}}}",
		"{\"capabilities\":{\"mpvmm\":{\"device-id\":\"\xc3\xa9\"}}}",
		"{\"capabilities\":{\"mpvmm\":{\"device-id\":\"\xff\"}}}", /* not UTF-8 */
	};
	uint8_t nul_inside[] = { 0, 0, 1, 0, '{', 0, '}', 0 };
	struct vfu_caps out;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("bad JSON #%zu", i);
		g_assert_cmpint(tp_version_json(bad[i], true, &out), ==, -EPROTO);
		g_assert_null(out.device_id);
	}
	g_assert_cmpint(tp_version_json("{}", false, &out), ==, -EPROTO); /* missing NUL */
	g_assert_cmpint(tp_version(nul_inside, sizeof(nul_inside), &out), ==, -EPROTO);
	g_assert_cmpint(tp_version(nul_inside, 3, &out), ==, -EPROTO); /* short payload */
	g_assert_cmpint(tp_version(nul_inside, 0, &out), ==, -EPROTO);
}

static void test_version_encode_bad(void)
{
	char long_id[VFU_DEVICE_ID_MAX + 2];
	struct vfu_caps c = { .max_msg_fds = 1, .max_data_xfer_size = 1 };
	uint8_t *p = NULL;
	size_t len;

	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = 0;
	c.device_id = long_id;
	g_assert_cmpint(vfu_version_encode(&c, &p, &len), ==, -EINVAL);
	long_id[VFU_DEVICE_ID_MAX] = 0; /* exactly the limit */
	g_assert_cmpint(vfu_version_encode(&c, &p, &len), ==, 0);
	g_free(p);
	c.device_id = "";
	g_assert_cmpint(vfu_version_encode(&c, &p, &len), ==, -EINVAL);
	c.device_id = "t 0";
	g_assert_cmpint(vfu_version_encode(&c, &p, &len), ==, -EINVAL);
	c.device_id = "t\x01";
	g_assert_cmpint(vfu_version_encode(&c, &p, &len), ==, -EINVAL);
}

static void test_version_check(void)
{
	struct vfu_caps mine = { .major = 0, .minor = 1, .device_id = "t0" };
	struct vfu_caps theirs = { .major = 0, .minor = 0, .device_id = "t0" };

	g_assert_cmpint(vfu_version_check(&mine, &theirs), ==, 0);
	theirs.major = 1; /* major mismatch */
	g_assert_cmpint(vfu_version_check(&mine, &theirs), ==, -EPROTONOSUPPORT);
	theirs.major = 0;
	theirs.minor = 2; /* minor above what we proposed */
	g_assert_cmpint(vfu_version_check(&mine, &theirs), ==, -EPROTO);
	theirs.minor = 1;
	theirs.device_id = "t1";
	g_assert_cmpint(vfu_version_check(&mine, &theirs), ==, -ENODEV);
	theirs.device_id = NULL;
	g_assert_cmpint(vfu_version_check(&mine, &theirs), ==, -ENODEV);
	mine.device_id = NULL; /* we asked for no particular device */
	g_assert_cmpint(vfu_version_check(&mine, &theirs), ==, 0);
}

void tp_add_version_tests(void)
{
	g_test_add_func("/protocol/version/roundtrip", test_version_roundtrip);
	g_test_add_func("/protocol/version/bad-json", test_version_bad_json);
	g_test_add_func("/protocol/version/encode-bad", test_version_encode_bad);
	g_test_add_func("/protocol/version/check", test_version_check);
}
