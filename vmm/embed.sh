#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# embed.sh FILE OUT.S SYMBOL: write an assembly file that embeds FILE as read-only
# data between SYMBOL and SYMBOL_end (used for mpvmm's built-in demo guest).
set -eu
cat >"$2" <<EOS
	.section .rodata
	.balign 16
	.global $3
$3:
	.incbin "$(realpath "$1")"
	.global $3_end
$3_end:
	.section .note.GNU-stack,"",@progbits
EOS
