#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Negative tests of the policy module: each deliberately bad variant (the module plus
# one rule it must never have) must FAIL to link into Debian's base policy with
# neverallow checking on, with libsepol naming the violating rule; the unmodified
# module, linked the same way, must succeed (so the failure is the added rule's).
# Then all bad rules together, linked with checking OFF (semodule_expand -a), must make
# the rule checks (sesearch.sh, sechecker, sedta.sh) fail: the checks can see a bad
# rule, they do not pass vacuously.  Prints TAP.
# Usage: neverallow.sh BUILD-POLICY SRCDIR WORKDIR TESTDIR
set -u
build=$1
src=$2
work=$3
tests=$4
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

rm -rf "$work"
mkdir -p "$work/good"
if "$build" "$src" "$work/good" base >"$work/good.log" 2>&1; then
	ok "the module links into base.pp with neverallow checks on"
else
	not_ok "the unmodified module does not link:"
	sed 's/^/#   /' "$work/good.log"
fi

# variant NAME RULE PATTERN: the module plus RULE must fail, the message matching PATTERN.
variant()
{
	mkdir -p "$work/$1/src"
	cp "$src/mpvmm.te" "$src/mpvmm.if" "$src/mpvmm.fc" "$work/$1/src/"
	printf '%s\n' "$2" >>"$work/$1/src/mpvmm.te"
	printf '%s\n' "$2" >>"$work/all.rules"
	if "$build" "$work/$1/src" "$work/$1" base >"$work/$1.log" 2>&1; then
		not_ok "$1: linked although it adds '$2'"
	elif grep -q "neverallow violated by allow $3" "$work/$1.log"; then
		ok "$1: '$2' is refused: $(grep -m1 'neverallow violated' "$work/$1.log")"
	else
		not_ok "$1: failed, but not on a neverallow for $3:"
		sed 's/^/#   /' "$work/$1.log"
	fi
}

: >"$work/all.rules"
variant inet "allow mpvmm_net_t self:tcp_socket create;" "mpvmm_net_t mpvmm_net_t:tcp_socket"
variant exec "corecmd_exec_bin(mpvmm_storage_t)" "mpvmm_storage_t bin_t:file"
variant execmem "allow mpvmm_misc_t self:process execmem;" "mpvmm_misc_t mpvmm_misc_t:process"
variant capability "allow mpvmm_misc_t self:capability setuid;" \
	"mpvmm_misc_t mpvmm_misc_t:capability"
# in its own user namespace, anything beyond the namespace layer's sys_admin and setpcap
variant cap_userns "allow mpvmm_storage_t self:cap_userns setuid;" \
	"mpvmm_storage_t mpvmm_storage_t:cap_userns"
variant transition \
	"domain_auto_transition_pattern(mpvmm_storage_t, mpvmm_misc_exec_t, mpvmm_misc_t)" \
	"mpvmm_storage_t mpvmm_misc_t:process"
variant net-image "allow mpvmm_net_t mpvmm_image_t:file read;" "mpvmm_net_t mpvmm_image_t:file"
variant storage-tun "corenet_rw_tun_tap_dev(mpvmm_storage_t)" \
	"mpvmm_storage_t tun_tap_device_t:chr_file"
variant kernel-write "allow mpvmm_t mpvmm_kernel_t:file write;" "mpvmm_t mpvmm_kernel_t:file"

# All of them, with neverallow checking off: the rule checks must catch them.
mkdir -p "$work/all/src"
cp "$src/mpvmm.te" "$src/mpvmm.if" "$src/mpvmm.fc" "$work/all/src/"
cat "$work/all.rules" >>"$work/all/src/mpvmm.te"
"$build" "$work/all/src" "$work/all" base >/dev/null 2>&1
if semodule_link -o "$work/all/l.lnk" "$work/all/refpolicy/base.pp" "$work/all/mpvmm.pp" \
	>/dev/null 2>&1 && semodule_expand -a "$work/all/l.lnk" "$work/all/bad.bin"; then
	for c in "sesearch.sh" "sedta.sh" "sechecker"; do
		if [ "$c" = sechecker ]; then
			sechecker "$tests/sechecker.ini" "$work/all/bad.bin" >"$work/$c.log" 2>&1
		else
			"$tests/$c" "$work/all/bad.bin" >"$work/$c.log" 2>&1
		fi
		if [ $? -eq 0 ]; then
			not_ok "$c passes a policy with every bad rule"
		else
			ok "$c fails a policy with every bad rule ($(grep -c -e '^not ok' \
				-e 'FAILED' "$work/$c.log") failed checks)"
		fi
	done
else
	not_ok "could not link the bad variants with checking off"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
