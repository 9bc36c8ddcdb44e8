// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_version: the VFIO_USER_VERSION payload (spec "VFIO_USER_VERSION"): version
 * numbers plus a NUL-terminated JSON capabilities object, encoded and strictly decoded
 * with json-c, and the client's check of the server's answer.  It carries our one
 * extension, the device id (docs/protocol.md, "Extensions").  It does not decide
 * which version a server answers with; the server does.
 */
#include <errno.h>
#include <glib.h>
#include <json-c/json.h>
#include <string.h>

#include "protocol/protocol.h"

#define VFU_VERSION_FIXED 4u /* u16 major, u16 minor */
#define VFU_JSON_DEPTH 16
#define VFU_EXT_OBJECT "mpvmm"
#define VFU_EXT_DEVICE_ID "device-id"

/* Capabilities the spec defines and the JSON type it gives each. */
static const struct {
	const char *name;
	json_type type;
} vfu_spec_caps[] = {
	{ "max_msg_fds", json_type_int },  { "max_data_xfer_size", json_type_int },
	{ "max_dma_maps", json_type_int }, { "pgsizes", json_type_int },
	{ "twin_socket", json_type_object }, { "write_multiple", json_type_boolean },
};

static int vfu_version_bad(const char *why)
{
	g_debug("VERSION: %s", why);
	return -EPROTO;
}

/* Ids end up in error messages: printable ASCII, no spaces, bounded. */
static bool vfu_device_id_ok(const char *id, size_t len)
{
	if (len == 0 || len > VFU_DEVICE_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (id[i] <= 0x20 || id[i] >= 0x7f)
			return false;
	}
	return true;
}

/* Takes ownership of val whatever happens. */
static int vfu_json_add(json_object *obj, const char *key, json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int vfu_caps_to_json(const struct vfu_caps *caps, json_object *top)
{
	json_object *c = json_object_new_object(), *ext;
	int ret;

	ret = vfu_json_add(top, "capabilities", c);
	if (ret == 0)
		ret = vfu_json_add(c, "max_msg_fds", json_object_new_int64(caps->max_msg_fds));
	if (ret == 0)
		ret = vfu_json_add(c, "max_data_xfer_size",
				   json_object_new_uint64(caps->max_data_xfer_size));
	if (ret < 0 || !caps->device_id)
		return ret;
	ext = json_object_new_object();
	ret = vfu_json_add(c, VFU_EXT_OBJECT, ext);
	if (ret == 0)
		ret = vfu_json_add(ext, VFU_EXT_DEVICE_ID,
				   json_object_new_string(caps->device_id));
	return ret;
}

int vfu_version_encode(const struct vfu_caps *caps, uint8_t **payload, size_t *len)
{
	json_object *top;
	const char *str;
	size_t slen, total;
	uint8_t *buf;
	int ret;

	if (caps->device_id && !vfu_device_id_ok(caps->device_id, strlen(caps->device_id)))
		return -EINVAL;
	top = json_object_new_object();
	if (!top)
		return -ENOMEM;
	ret = vfu_caps_to_json(caps, top);
	str = ret == 0 ? json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN) : NULL;
	if (ret == 0 && !str)
		ret = -ENOMEM;
	if (ret < 0)
		goto put;
	slen = strlen(str);
	total = VFU_VERSION_FIXED + slen + 1;
	ret = -EMSGSIZE;
	if (total > VFU_MAX_MSG - VFU_HDR_SIZE)
		goto put;
	ret = -ENOMEM;
	buf = g_try_malloc(total);
	if (!buf)
		goto put;
	memcpy(buf, &caps->major, 2);
	memcpy(buf + 2, &caps->minor, 2);
	memcpy(buf + VFU_VERSION_FIXED, str, slen + 1);
	*payload = buf;
	*len = total;
	ret = 0;
put:
	json_object_put(top);
	return ret;
}

/* Strict parse of exactly len bytes (no NUL among them): one JSON value, valid UTF-8. */
static json_object *vfu_json_parse(const char *str, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(VFU_JSON_DEPTH);
	json_object *obj;

	if (!tok || len > INT32_MAX)
		goto fail;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, str, (int)len);
	if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
fail:
	if (tok)
		json_tokener_free(tok);
	return NULL;
}

/* Our extension: {"mpvmm": {"device-id": "<id>"}} inside "capabilities". */
static int vfu_ext_parse(json_object *c, struct vfu_caps *caps)
{
	json_object *ext, *id;

	if (!json_object_object_get_ex(c, VFU_EXT_OBJECT, &ext))
		return 0;
	if (!json_object_is_type(ext, json_type_object))
		return vfu_version_bad("capability mpvmm is not an object");
	if (!json_object_object_get_ex(ext, VFU_EXT_DEVICE_ID, &id))
		return 0;
	if (!json_object_is_type(id, json_type_string) ||
	    !vfu_device_id_ok(json_object_get_string(id), (size_t)json_object_get_string_len(id)))
		return vfu_version_bad("mpvmm.device-id is not a valid id string");
	caps->device_id = g_strdup(json_object_get_string(id));
	return 0;
}

/* Spec "VFIO_USER_VERSION", capabilities table: types and the ranges we can represent. */
static int vfu_caps_parse(json_object *c, struct vfu_caps *caps)
{
	json_object *v;
	int64_t n;

	for (size_t i = 0; i < G_N_ELEMENTS(vfu_spec_caps); i++) {
		if (json_object_object_get_ex(c, vfu_spec_caps[i].name, &v) &&
		    !json_object_is_type(v, vfu_spec_caps[i].type))
			return vfu_version_bad("a capability has the wrong JSON type");
	}
	if (json_object_object_get_ex(c, "max_msg_fds", &v)) {
		n = json_object_get_int64(v);
		if (n < 0 || n > UINT32_MAX)
			return vfu_version_bad("max_msg_fds out of range");
		caps->max_msg_fds = (uint32_t)n;
	}
	if (json_object_object_get_ex(c, "max_data_xfer_size", &v)) {
		if (json_object_get_int64(v) < 1)
			return vfu_version_bad("max_data_xfer_size below 1");
		caps->max_data_xfer_size = json_object_get_uint64(v);
	}
	return vfu_ext_parse(c, caps);
}

static int vfu_version_json(const char *json, size_t len, struct vfu_caps *caps)
{
	json_object *top, *c;
	int ret = 0;

	/* "version data ... (including terminating NUL)": it ends the payload. */
	if (json[len - 1] != '\0' || memchr(json, '\0', len - 1))
		return vfu_version_bad("JSON does not end with the payload's only NUL");
	top = vfu_json_parse(json, len - 1);
	if (!top)
		return vfu_version_bad("version data is not JSON");
	if (!json_object_is_type(top, json_type_object))
		ret = vfu_version_bad("version data is not a JSON object");
	else if (json_object_object_get_ex(top, "capabilities", &c)) {
		if (json_object_is_type(c, json_type_object))
			ret = vfu_caps_parse(c, caps);
		else
			ret = vfu_version_bad("capabilities is not an object");
	}
	json_object_put(top);
	return ret;
}

int vfu_version_decode(const uint8_t *payload, size_t len, struct vfu_caps *caps)
{
	int ret;

	memset(caps, 0, sizeof(*caps));
	if (len < VFU_VERSION_FIXED)
		return vfu_version_bad("payload shorter than the version numbers");
	memcpy(&caps->major, payload, 2);
	memcpy(&caps->minor, payload + 2, 2);
	caps->max_msg_fds = VFU_DEFAULT_MAX_MSG_FDS;
	caps->max_data_xfer_size = VFU_DEFAULT_MAX_DATA_XFER;
	if (len == VFU_VERSION_FIXED)
		return 0; /* version data is optional */
	ret = vfu_version_json((const char *)payload + VFU_VERSION_FIXED,
			       len - VFU_VERSION_FIXED, caps);
	if (ret < 0)
		vfu_caps_clear(caps);
	return ret;
}

int vfu_version_check(const struct vfu_caps *proposed, const struct vfu_caps *reply)
{
	/* "The major version in the reply must be the same as proposed." */
	if (reply->major != proposed->major)
		return -EPROTONOSUPPORT;
	/* "The minor version in the reply must be equal to or less than ... proposed." */
	if (reply->minor > proposed->minor)
		return -EPROTO;
	if (proposed->device_id &&
	    (!reply->device_id || strcmp(reply->device_id, proposed->device_id) != 0))
		return -ENODEV;
	return 0;
}

void vfu_caps_clear(struct vfu_caps *caps)
{
	g_free(caps->device_id);
	memset(caps, 0, sizeof(*caps));
}
