// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-net RX through a tap backend, with the guest played by
 * vhost_guest.c: frames sent out of the tap by the host stack must arrive in
 * the buffers the guest posted, byte for byte, with the virtio-net header,
 * used lengths and num_buffers exactly as virtio specifies.
 *
 * This is the baseline the guest-bound RX queue is measured against: the
 * same checks hold whether a frame takes the copy path or zero-copy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>

#include "../../../kselftest_harness.h"
#include "vhost_guest.h"

#define RX_ETH_P_TEST	0x88b5
#define RX_TIMEOUT_MS	5000
#define RX_MTU		9000

static const size_t rx_frame_sizes[] = {
	60, 61, 64, 128, 1000, 1500, 1514, 2036, 2048, 2049,
	4096, 4097, 8192, RX_MTU + ETH_HLEN,
};

static bool rx_have_vhost_net(void)
{
	return access("/dev/vhost-net", R_OK | W_OK) == 0;
}

/*
 * Wait for the next test frame, skipping frames the stack may emit on its
 * own (none are expected: IPv6 is off on the tap).  Returns 0 or -errno.
 */
static int rx_next_test_frame(struct vhost_guest *g, struct vhost_guest_frame *f,
			      unsigned int *foreign)
{
	int ret;

	for (;;) {
		ret = vhost_guest_rx_wait(g, f, RX_TIMEOUT_MS);
		if (ret)
			return ret;
		if (f->len >= ETH_HLEN &&
		    ((f->data[12] << 8) | f->data[13]) == RX_ETH_P_TEST)
			return 0;
		(*foreign)++;
		ret = vhost_guest_rx_post(g, f->nbufs);
		if (ret < 0)
			return ret;
	}
}

static unsigned int rx_bufs_for(size_t frame_len, unsigned int buf_len)
{
	size_t total = frame_len + sizeof(struct virtio_net_hdr_mrg_rxbuf);

	return (total + buf_len - 1) / buf_len;
}

FIXTURE(rx)
{
	struct vhost_guest *g;
	struct vhost_guest_frame *f;
	unsigned char *frame;
	unsigned int foreign;
};

FIXTURE_VARIANT(rx)
{
	unsigned int buf_len;
	unsigned int ring_num;
	bool no_mergeable;
};

/* What Linux's virtio-net posts with mergeable buffers: about 1.5 KiB. */
FIXTURE_VARIANT_ADD(rx, mrg_1536)
{
	.buf_len = 1536,
	.ring_num = 256,
};

FIXTURE_VARIANT_ADD(rx, mrg_4096)
{
	.buf_len = 4096,
	.ring_num = 256,
};

/* "Big packets" mode: every buffer holds a whole frame. */
FIXTURE_VARIANT_ADD(rx, big_9216)
{
	.buf_len = 9216,
	.ring_num = 64,
	.no_mergeable = true,
};

FIXTURE_SETUP(rx)
{
	struct vhost_guest_opts opts = {
		.buf_len = variant->buf_len,
		.ring_num = variant->ring_num,
		.no_mergeable = variant->no_mergeable,
	};

	if (!rx_have_vhost_net())
		SKIP(return, "/dev/vhost-net not available (CONFIG_VHOST_NET)");

	self->f = calloc(1, sizeof(*self->f));
	self->frame = calloc(1, VHOST_GUEST_MAX_FRAME);
	ASSERT_NE(NULL, self->f);
	ASSERT_NE(NULL, self->frame);
	ASSERT_EQ(0, vhost_guest_open(&self->g, &opts));
	ASSERT_EQ(0, vhost_guest_set_backend_tap(self->g, NULL));
	ASSERT_EQ(0, vhost_guest_set_mtu(self->g, RX_MTU));
	ASSERT_EQ((int)variant->ring_num, vhost_guest_rx_post(self->g, variant->ring_num));
}

FIXTURE_TEARDOWN(rx)
{
	if (self->foreign)
		TH_LOG("%u foreign frames skipped", self->foreign);
	vhost_guest_close(self->g);
	free(self->frame);
	free(self->f);
}

/* One frame of each size, checked byte for byte and buffer by buffer. */
TEST_F(rx, sizes)
{
	__u64 bytes = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rx_frame_sizes); i++) {
		size_t len = rx_frame_sizes[i];
		unsigned int want_bufs;

		vhost_guest_build_frame(self->frame, len, i);
		ASSERT_EQ(0, vhost_guest_inject(self->g, self->frame, len));
		ASSERT_EQ(0, rx_next_test_frame(self->g, self->f, &self->foreign));

		want_bufs = variant->no_mergeable ? 1 : rx_bufs_for(len, variant->buf_len);
		EXPECT_EQ(len, self->f->len)
			TH_LOG("size %zu: received %zu bytes", len, self->f->len);
		EXPECT_EQ(want_bufs, self->f->nbufs)
			TH_LOG("size %zu: %u buffers, expected %u", len, self->f->nbufs, want_bufs);
		EXPECT_EQ(VIRTIO_NET_HDR_GSO_NONE, self->f->hdr.hdr.gso_type);
		EXPECT_EQ(0, self->f->hdr.hdr.flags);
		ASSERT_EQ(0, memcmp(self->frame, self->f->data, len))
			TH_LOG("size %zu: payload differs", len);
		bytes += len;
		ASSERT_EQ((int)self->f->nbufs, vhost_guest_rx_post(self->g, self->f->nbufs));
	}
	TH_LOG("%u sizes, %llu bytes checked", i, (unsigned long long)bytes);
}

/*
 * A seeded stream of random sizes, sent in batches while buffers are
 * reposted as the guest consumes them: every frame arrives, in order,
 * intact.
 */
TEST_F(rx, stream)
{
	const unsigned int frames = 1024, batch = 16;
	unsigned int seed = 0x5eed0000u + variant->buf_len;
	unsigned int sent = 0, got = 0, i;
	size_t lens[16];
	__u64 bytes = 0;

	TH_LOG("seed %#x", seed);
	srandom(seed);
	while (sent < frames) {
		for (i = 0; i < batch; i++) {
			lens[i] = 60 + random() % (RX_MTU + ETH_HLEN - 60 + 1);
			vhost_guest_build_frame(self->frame, lens[i], sent + i);
			ASSERT_EQ(0, vhost_guest_inject(self->g, self->frame, lens[i]));
		}
		for (i = 0; i < batch; i++) {
			ASSERT_EQ(0, rx_next_test_frame(self->g, self->f, &self->foreign))
				TH_LOG("frame %u of %u missing", got, frames);
			ASSERT_EQ(lens[i], self->f->len);
			vhost_guest_build_frame(self->frame, lens[i], sent + i);
			ASSERT_EQ(0, memcmp(self->frame, self->f->data, lens[i]))
				TH_LOG("frame %u differs", sent + i);
			bytes += lens[i];
			got++;
			ASSERT_EQ((int)self->f->nbufs,
				  vhost_guest_rx_post(self->g, self->f->nbufs));
		}
		sent += batch;
	}
	EXPECT_EQ(frames, got);
	TH_LOG("%u frames, %llu bytes checked", got, (unsigned long long)bytes);
}

/*
 * With no buffer posted, frames wait in the tap's queue instead of being
 * lost, and arrive in order once the guest posts buffers.
 */
TEST(rx_waits_for_buffers)
{
	struct vhost_guest_opts opts = { .buf_len = 2048, .ring_num = 64 };
	const unsigned int frames = 8;
	struct vhost_guest_frame *f;
	struct vhost_guest *g;
	unsigned char *frame;
	unsigned int foreign = 0, i;

	if (!rx_have_vhost_net())
		SKIP(return, "/dev/vhost-net not available (CONFIG_VHOST_NET)");

	f = calloc(1, sizeof(*f));
	frame = calloc(1, 2048);
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, frame);
	ASSERT_EQ(0, vhost_guest_open(&g, &opts));
	ASSERT_EQ(0, vhost_guest_set_backend_tap(g, NULL));

	for (i = 0; i < frames; i++) {
		vhost_guest_build_frame(frame, 1000 + i, i);
		ASSERT_EQ(0, vhost_guest_inject(g, frame, 1000 + i));
	}
	EXPECT_EQ(-ETIMEDOUT, vhost_guest_rx_wait(g, f, 200));

	ASSERT_EQ(64, vhost_guest_rx_post(g, 64));
	for (i = 0; i < frames; i++) {
		ASSERT_EQ(0, rx_next_test_frame(g, f, &foreign));
		ASSERT_EQ(1000 + i, f->len);
		vhost_guest_build_frame(frame, 1000 + i, i);
		ASSERT_EQ(0, memcmp(frame, f->data, f->len));
	}
	vhost_guest_close(g);
	free(frame);
	free(f);
}

TEST_HARNESS_MAIN
