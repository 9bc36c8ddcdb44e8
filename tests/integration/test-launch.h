/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-launch: what the two files of the mpvmm-launch test share: running the launcher
 * on a description (test-launch.c) and the tests of bad descriptions
 * (test-launch-desc.c), which register themselves with launch_desc_tests_add().
 */
#ifndef MPVMM_TESTS_TEST_LAUNCH_H
#define MPVMM_TESTS_TEST_LAUNCH_H

#define LAUNCH_START_FAILED 2 /* the launcher's (and mpvmm's) "could not start" */

struct launch_run {
	int status; /* exit code, or 128 + signal */
	char *out;
	char *err;
};

/* Run mpvmm-launch [@opt] on @json (written to vm.json in @dir). */
struct launch_run launch(const char *dir, const char *json, const char *opt);
void launch_run_clear(struct launch_run *r);

void launch_desc_tests_add(void);

#endif
