/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the files of the "protocol" unit-test binary (test-protocol*.c).
 * They assert instead of returning errors.  Not a header for anything else.
 */
#ifndef MPVMM_TEST_PROTOCOL_H
#define MPVMM_TEST_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/protocol.h"

/* A connected AF_UNIX stream socketpair, both ends CLOEXEC. */
void tp_socketpair(int sv[2]);
/* How many fds this process has open (for leak checks). */
unsigned tp_open_fds(void);
/* A fresh eventfd, to have something to pass. */
int tp_eventfd(void);
/* Raw bytes plus up to 16 fds in one sendmsg, bypassing vfu_send's checks. */
void tp_raw(int sock, const void *buf, size_t len, const int *fds, unsigned nr);
/* One message; header size is 16 + len unless size_override is non-zero. */
void tp_msg(int sock, uint16_t id, uint16_t cmd, uint32_t flags, uint32_t error,
	    const void *p, size_t len, uint32_t size_override, const int *fds, unsigned nr);
/* Send a message (id 7) through a fresh socketpair and receive it; must succeed. */
void tp_loop(uint16_t cmd, uint32_t flags, const void *p, size_t len, const int *fds,
	     unsigned nr, struct vfu_msg *m);
/* Receive raw bytes through a fresh socketpair; returns vfu_recv's result. */
int tp_recv_raw(const void *buf, size_t len, const int *fds, unsigned nr, bool close_after,
		struct vfu_msg *m);

void tp_add_version_tests(void);
void tp_add_decode_tests(void);
void tp_add_call_tests(void);
void tp_add_dma_tests(void);
void tp_add_irqs_tests(void);

#endif
