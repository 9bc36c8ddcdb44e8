#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Make a boot module for multiboot.elf: the line "mbmod K SIZE", then bytes up to SIZE
# where byte i (counted from the start of the file) is 'a' + (7 * i + K) % 26.
# Usage: mkmodule.sh K SIZE OUT
set -eu
[ $# -eq 3 ] || { echo "usage: $0 K SIZE OUT" >&2; exit 2; }
awk -v k="$1" -v size="$2" 'BEGIN {
	h = sprintf("mbmod %d %d\n", k, size)
	if (size <= length(h)) { print "mkmodule.sh: SIZE too small" > "/dev/stderr"; exit 1 }
	printf "%s", h
	for (i = length(h); i < size; i++)
		printf "%c", 97 + (7 * i + k) % 26
}' > "$3"
