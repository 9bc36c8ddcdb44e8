// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The launcher's category logic (tools/launch/label.c) without SELinux: parsing "cN,cM",
 * reading the pair of a process context, and picking a pair no running VM holds (a
 * collision is picked again; when nearly every pair is taken the free one is found; when
 * all are, it fails).  The SELinux calls themselves need an SELinux host
 * (docs/security.md, "What cannot be tested").
 */
#include <errno.h>
#include <stdlib.h>

#include "tools/launch/launch.h"

static void test_parse_pair(void)
{
	const char *const good[][3] = {{"c0,c1", "0", "1"},
				       {"c5,c9", "5", "9"},
				       {"c0,c1023", "0", "1023"},
				       {"c1022,c1023", "1022", "1023"}};
	const char *const bad[] = {
		"",	  "c1",	    "c1,", "c2,c1",  "c1,c1", "c0,c1024", "c01,c2",
		"c1,c2,", "c-1,c2", "1,2", "c1,c2 ", "C1,c2", "c1;c2",	  "c99999999999,c1000000"};
	int cat[2];

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		g_assert_cmpint(launch_label_parse_pair(good[i][0], cat), ==, 0);
		g_assert_cmpint(cat[0], ==, atoi(good[i][1]));
		g_assert_cmpint(cat[1], ==, atoi(good[i][2]));
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("'%s'", bad[i]);
		g_assert_cmpint(launch_label_parse_pair(bad[i], cat), <, 0);
	}
}

static void test_context_pair(void)
{
	int cat[2];

	g_assert_cmpint(
		launch_label_context_pair("system_u:system_r:mpvmm_storage_t:s0:c3,c700", cat), ==,
		0);
	g_assert_cmpint(cat[0], ==, 3);
	g_assert_cmpint(cat[1], ==, 700);
	/* anything but exactly s0:cN,cM holds no VM pair */
	g_assert_cmpint(launch_label_context_pair("system_u:system_r:mpvmm_t:s0", cat), ==,
			-ENOENT);
	g_assert_cmpint(launch_label_context_pair("u:r:unconfined_t:s0-s0:c0.c1023", cat), ==,
			-ENOENT);
	g_assert_cmpint(launch_label_context_pair("u:r:mpvmm_t:s0:c1,c2,c3", cat), ==, -ENOENT);
	g_assert_cmpint(launch_label_context_pair("u:r:mpvmm_t:s1:c1,c2", cat), ==, -ENOENT);
	g_assert_cmpint(launch_label_context_pair("mpvmm_t", cat), ==, -ENOENT);
}

static void assert_valid(const int cat[2])
{
	g_assert_cmpint(cat[0], >=, 0);
	g_assert_cmpint(cat[0], <, cat[1]);
	g_assert_cmpint(cat[1], <=, LAUNCH_CAT_MAX);
}

static void test_pick_collision(void)
{
	g_autoptr(GRand) r1 = g_rand_new_with_seed(42);
	g_autoptr(GRand) r2 = g_rand_new_with_seed(42);
	int first[2], again[2];

	g_assert_cmpint(launch_label_pick_pair(NULL, 0, r1, first), ==, 0);
	assert_valid(first);
	/* the same random draw, with that pair now held by a running VM: another one */
	g_assert_cmpint(launch_label_pick_pair(first, 1, r2, again), ==, 0);
	assert_valid(again);
	g_assert_false(again[0] == first[0] && again[1] == first[1]);
}

/* Every pair but one taken: the free one; every pair taken: ENOSPC. */
static void test_pick_exhausted(void)
{
	unsigned nr = (LAUNCH_CAT_MAX + 1) * LAUNCH_CAT_MAX / 2;
	g_autofree int *used = g_new(int, 2 * nr);
	g_autoptr(GRand) rand = g_rand_new_with_seed(7);
	unsigned n = 0;
	int cat[2];

	for (int a = 0; a < LAUNCH_CAT_MAX; a++) {
		for (int b = a + 1; b <= LAUNCH_CAT_MAX; b++) {
			if (a == 500 && b == 501)
				continue;
			used[2 * n] = a;
			used[2 * n + 1] = b;
			n++;
		}
	}
	g_assert_cmpuint(n, ==, nr - 1);
	g_assert_cmpint(launch_label_pick_pair(used, n, rand, cat), ==, 0);
	g_assert_cmpint(cat[0], ==, 500);
	g_assert_cmpint(cat[1], ==, 501);
	used[2 * n] = 500;
	used[2 * n + 1] = 501;
	g_assert_cmpint(launch_label_pick_pair(used, n + 1, rand, cat), ==, -ENOSPC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/launch/label/parse-pair", test_parse_pair);
	g_test_add_func("/launch/label/context-pair", test_context_pair);
	g_test_add_func("/launch/label/pick-collision", test_pick_collision);
	g_test_add_func("/launch/label/pick-exhausted", test_pick_exhausted);
	return g_test_run();
}
