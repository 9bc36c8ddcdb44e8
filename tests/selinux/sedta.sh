#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Domain transition analysis of the linked policy with setools' sedta: no transition
# leaves a class domain (mpvmm_misc_t, mpvmm_storage_t, mpvmm_net_t), so a compromised
# device process cannot reach any other domain by exec; mpvmm_t reaches exactly the
# three class domains; an unconfined launcher reaches each of them.  Prints TAP.
# Usage: sedta.sh POLICY
set -u
policy=$1
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

for d in mpvmm_misc_t mpvmm_storage_t mpvmm_net_t; do
	out=$(sedta -p "$policy" -s $d 2>&1)
	if echo "$out" | grep -q '^0 domain transition(s) found\.$'; then
		ok "$d: no domain transition out"
	else
		not_ok "$d: transitions out:"
		echo "$out" | sed 's/^/#   /'
	fi
done

out=$(sedta -p "$policy" -s mpvmm_t 2>&1)
got=$(echo "$out" | sed -n 's/^Transition [0-9]*: mpvmm_t -> //p' | sort | tr '\n' ' ')
if [ "$got" = "mpvmm_misc_t mpvmm_net_t mpvmm_storage_t " ]; then
	ok "mpvmm_t: transitions to the three class domains only"
else
	not_ok "mpvmm_t: transitions to '$got'"
fi

out=$(sedta -p "$policy" -s unconfined_t -t mpvmm_storage_t -S 2>&1)
if echo "$out" | grep -q 'Step 1: unconfined_t -> mpvmm_storage_t'; then
	ok "unconfined_t (the launcher) transitions to mpvmm_storage_t directly"
else
	not_ok "no direct path unconfined_t -> mpvmm_storage_t:"
	echo "$out" | sed 's/^/#   /'
fi

echo "1..$n"
[ "$failed" -eq 0 ]
