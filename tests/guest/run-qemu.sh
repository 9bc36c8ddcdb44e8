#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Boot one guest ELF under Debian's QEMU and check how it left through isa-debug-exit.
# Usage: run-qemu.sh tcg|kvm ELF WANT_CODE APPEND [QEMU ARGS...]
# The guest's debugcon stream (TAP) is copied to stdout.  Exit 0 when QEMU exits with
# status (WANT_CODE << 1) | 1, 1 otherwise, 77 (skip) without QEMU or /dev/kvm.
set -u
[ $# -ge 4 ] || { echo "usage: $0 tcg|kvm ELF WANT_CODE APPEND [QEMU ARGS...]" >&2; exit 2; }
accel=$1 elf=$2 want=$3 append=$4
shift 4
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "1..0 # SKIP no qemu-system-x86_64"
	exit 77
fi
if [ "$accel" = kvm ] && [ ! -w /dev/kvm ]; then
	echo "1..0 # SKIP no /dev/kvm"
	exit 77
fi
timeout 100 qemu-system-x86_64 -accel "$accel" -M pc -m 128 -kernel "$elf" -append "$append" \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -display none -serial none \
	-debugcon stdio -no-reboot "$@"
status=$?
expect=$(( (want << 1) | 1 ))
if [ "$status" -ne "$expect" ]; then
	echo "# run-qemu.sh: QEMU exited with status $status, expected $expect (guest code $want)"
	exit 1
fi
exit 0
