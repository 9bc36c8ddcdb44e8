// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmdline.c: split a PVH command line ("bench=20000 bar=1 verbose") into key/value
 * options.  The input comes from whoever started the VM, so lengths, counts and
 * numbers are all bounded and checked.  It knows no option names: programs ask for
 * the ones they use.  No quoting or escapes: values cannot contain blanks.
 */
#include "guest.h"

static bool cmdline_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Split the token at @tok (NUL-terminated inside cl->buf) into a key and a value. */
static int cmdline_add(struct cmdline *cl, char *tok)
{
	char *eq;

	if (cl->nr == CMDLINE_MAX_OPTS)
		return -E2BIG;
	eq = tok;
	while (*eq && *eq != '=')
		eq++;
	if (eq == tok)
		return -EINVAL;
	cl->key[cl->nr] = tok;
	cl->val[cl->nr] = "";
	if (*eq) {
		*eq = '\0';
		cl->val[cl->nr] = eq + 1;
	}
	cl->nr++;
	return 0;
}

int cmdline_parse(struct cmdline *cl, const char *s)
{
	size_t len = strnlen(s, CMDLINE_MAX_LEN);
	char *p, *tok;
	int r;

	cl->nr = 0;
	if (len == CMDLINE_MAX_LEN)
		return -E2BIG;
	memcpy(cl->buf, s, len + 1);
	for (p = cl->buf; *p;) {
		if (cmdline_blank(*p)) {
			p++;
			continue;
		}
		tok = p;
		while (*p && !cmdline_blank(*p))
			p++;
		if (*p)
			*p++ = '\0';
		r = cmdline_add(cl, tok);
		if (r < 0) {
			cl->nr = 0;
			return r;
		}
	}
	return 0;
}

const char *cmdline_get(const struct cmdline *cl, const char *key)
{
	for (unsigned i = cl->nr; i-- > 0;)
		if (!strcmp(cl->key[i], key))
			return cl->val[i];
	return NULL;
}

int cmdline_ulong(const struct cmdline *cl, const char *key, unsigned long def, unsigned long max,
		  unsigned long *out)
{
	const char *val = cmdline_get(cl, key);
	unsigned long v;
	int r;

	if (!val) {
		*out = def;
		return 0;
	}
	r = str_to_ulong(val, &v);
	if (r < 0)
		return r;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
