/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The frames libvirt_guest sends to a real guest and guest_rx checks
 * there: test frames (nsim_build_frame()) whose length follows from their
 * sequence number.  Over 2 KB on average, so that a Linux guest sizes its
 * mergeable RX buffers to whole pages, which the binding can give to the
 * NIC (guest-bound-rxq.rst, "Using it").
 */
#ifndef GUEST_RX_H
#define GUEST_RX_H

#include <stddef.h>
#include <linux/types.h>

/* guest_rx's socket buffer: room for every frame of a test */
#define GUEST_RX_RCVBUF	(64 << 20)
/* The guest's MTU: the largest frame is GUEST_RX_MTU + 14 bytes */
#define GUEST_RX_MTU	9000
/* Frame lengths, in turn */
#define GUEST_RX_NLENS	8

static inline size_t guest_rx_len(__u32 seq)
{
	static const size_t len[GUEST_RX_NLENS] = {
		9014, 4000, 1514, 7000, 60, 5000, 8000, 3000,
	};

	return len[seq % GUEST_RX_NLENS];
}

#endif /* GUEST_RX_H */
