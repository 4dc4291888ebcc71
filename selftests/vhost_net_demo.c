// SPDX-License-Identifier: GPL-2.0
/*
 * What `make run` shows: a guest (played by vhost_guest.c) receives a
 * stream of frames through vhost-net and a tap backend, checks every byte,
 * and reports what went through.
 *
 * Usage: vhost_net_demo [frames per size]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/if_ether.h>

#include "vhost_guest.h"

#define DEMO_MTU	9000
#define DEMO_TIMEOUT_MS	5000

static const size_t demo_sizes[] = { 64, 1500, 4096, DEMO_MTU + ETH_HLEN };

static double demo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int demo_size(struct vhost_guest *g, struct vhost_guest_frame *f,
		     unsigned char *frame, size_t len, unsigned int count)
{
	unsigned int i, bad = 0, bufs = 0;
	double t0 = demo_now(), dt;
	int ret;

	for (i = 0; i < count; i++) {
		vhost_guest_build_frame(frame, len, i);
		ret = vhost_guest_inject(g, frame, len);
		if (ret)
			return ret;
		ret = vhost_guest_rx_wait(g, f, DEMO_TIMEOUT_MS);
		if (ret)
			return ret;
		if (f->len != len || memcmp(frame, f->data, len))
			bad++;
		bufs += f->nbufs;
		ret = vhost_guest_rx_post(g, f->nbufs);
		if (ret < 0)
			return ret;
	}
	dt = demo_now() - t0;
	printf("  %5zu bytes  %6u frames  %6u intact  %4.1f buffers/frame  %8.0f frames/s\n",
	       len, count, count - bad, (double)bufs / count, count / dt);
	return bad ? -EIO : 0;
}

int main(int argc, char **argv)
{
	struct vhost_guest_opts opts = { .buf_len = 1536, .ring_num = 256 };
	unsigned int count = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000;
	struct vhost_guest_stats st;
	struct vhost_guest_frame *f;
	struct vhost_guest *g;
	unsigned char *frame;
	unsigned int i;
	int ret;

	f = calloc(1, sizeof(*f));
	frame = calloc(1, VHOST_GUEST_MAX_FRAME);
	if (!f || !frame || !count)
		return 1;

	ret = vhost_guest_open(&g, &opts);
	if (!ret)
		ret = vhost_guest_set_backend_tap(g, NULL);
	if (!ret)
		ret = vhost_guest_set_mtu(g, DEMO_MTU);
	if (!ret)
		ret = vhost_guest_rx_post(g, opts.ring_num) < 0 ? -EIO : 0;
	if (ret) {
		fprintf(stderr, "vhost_net_demo: guest setup failed: %s\n", strerror(-ret));
		return 1;
	}

	printf("vhost-net RX into a userspace guest: tap %s, %u x %u-byte buffers, mergeable\n",
	       vhost_guest_ifname(g), opts.ring_num, opts.buf_len);
	for (i = 0; i < ARRAY_SIZE(demo_sizes); i++) {
		ret = demo_size(g, f, frame, demo_sizes[i], count);
		if (ret) {
			fprintf(stderr, "vhost_net_demo: %zu-byte frames: %s\n",
				demo_sizes[i], strerror(-ret));
			break;
		}
	}
	vhost_guest_get_stats(g, &st);
	printf("guest: %llu frames, %llu bytes, %llu buffers used, %llu interrupts\n",
	       (unsigned long long)st.rx_frames, (unsigned long long)st.rx_bytes,
	       (unsigned long long)st.rx_used, (unsigned long long)st.rx_calls);
	printf("path: copy (stock vhost-net over a tap, no queue bound)\n");
	vhost_guest_close(g);
	free(frame);
	free(f);
	return ret ? 1 : 0;
}
