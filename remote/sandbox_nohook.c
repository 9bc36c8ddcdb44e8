// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sandbox_nohook: the release build's side of the test hooks (meson option
 * test_hooks=false): --x-test-forbidden is not an option at all, and nothing is armed.
 * The test build uses sandbox_hook.c instead.
 */
#include "remote/remote.h"

int sandbox_hook_parse(struct sandbox_opts *o, const char *arg, GError **err)
{
	return 0;
}

void sandbox_hook_arm(const struct sandbox *sb)
{
}
