// SPDX-License-Identifier: GPL-2.0
/*
 * netdevsim as a NIC model: RX by DMA into the queue's page pool buffers,
 * header/data split, RX buffer length, ntuple and RSS steering, faults and
 * per-queue stats.  Port A sends with AF_PACKET; port B receives into one
 * AF_PACKET socket per RX queue (PACKET_FANOUT_QM), so every frame is
 * checked byte for byte and on the queue it arrived at.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../kselftest_harness.h"
#include "nsim.h"
#include "vhost_guest.h"

#define NQ	4

static unsigned char txbuf[VHOST_GUEST_MAX_FRAME];
static unsigned char rxbuf[VHOST_GUEST_MAX_FRAME];

/* Port a sends on tx; port b receives on one socket per queue. */
struct link {
	struct nsim_port a, b;
	int tx;
	int rx[NQ];
};

FIXTURE(nsim)
{
	struct link l;
};

FIXTURE_VARIANT(nsim)
{
	int hds;		/* header/data split on */
	long buf_len;		/* rx-buf-len, 0: default */
};

FIXTURE_VARIANT_ADD(nsim, plain)
{
	.hds = 0,
};

FIXTURE_VARIANT_ADD(nsim, hds)
{
	.hds = 1,
};

FIXTURE_VARIANT_ADD(nsim, hds_buf1k)
{
	.hds = 1,
	.buf_len = 1024,
};

FIXTURE_VARIANT_ADD(nsim, buf2k)
{
	.hds = 0,
	.buf_len = 2048,
};

FIXTURE_SETUP(nsim)
{
	char msg[256];
	int ret;

	if (access("/sys/bus/netdevsim/new_device", W_OK))
		SKIP(return, "netdevsim is not available (CONFIG_NETDEVSIM)");
	ret = nsim_pair_create(&self->l.a, &self->l.b, NQ);
	ASSERT_EQ(0, ret) TH_LOG("netdevsim pair: %s", strerror(-ret));
	ASSERT_EQ(0, nsim_set_mtu(&self->l.a, 9000));
	ASSERT_EQ(0, nsim_set_mtu(&self->l.b, 9000));
	ret = nsim_rings_set(&self->l.b, variant->hds, variant->hds ? 0 : -1,
			     variant->buf_len ?: -1, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("rings-set: %s %s", strerror(-ret), msg);
	self->l.tx = nsim_tx_open(&self->l.a);
	ASSERT_LE(0, self->l.tx);
	ASSERT_EQ(0, nsim_rx_open(&self->l.b, NQ, self->l.rx));
}

FIXTURE_TEARDOWN(nsim)
{
	int i;

	if (!self->l.b.dev_id)
		return;
	close(self->l.tx);
	for (i = 0; i < NQ; i++)
		close(self->l.rx[i]);
	nsim_pair_destroy(&self->l.a, &self->l.b);
}

static int send_frame(int fd, size_t len)
{
	ssize_t n = send(fd, txbuf, len, 0);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Sends one frame and receives it; returns the queue it came in on. */
static int xfer(struct __test_metadata *_metadata, struct link *l,
		size_t len, __u32 seq, const struct nsim_flow *flow)
{
	unsigned int q;
	__u32 got;
	int n;

	len = nsim_build_frame(txbuf, len, seq, &l->a, &l->b, flow);
	EXPECT_EQ(0, send_frame(l->tx, len));
	for (;;) {
		n = nsim_rx_frame(l->rx, NQ, rxbuf, sizeof(rxbuf), &q, 2000);
		if (n < 0) {
			EXPECT_EQ(0, n) {
				TH_LOG("frame %u of %zu bytes: %s", seq, len,
				       strerror(-n));
			}
			return -1;
		}
		n = nsim_check_frame(rxbuf, n, len, &l->a, &l->b, flow, &got);
		if (n == -EPROTO || got != seq)
			continue;	/* not ours, or a late frame */
		EXPECT_EQ(0, n) TH_LOG("frame %u of %zu bytes differs", seq, len);
		return q;
	}
}

static __u64 sum_field(const struct nsim_port *p, size_t off)
{
	struct nsim_rxq q;
	__u64 sum = 0;
	int i;

	for (i = 0; i < NQ; i++)
		if (!nsim_rx_stats(p, i, &q))
			sum += *(__u64 *)((char *)&q + off);
	return sum;
}

#define RXQ_SUM(p, f)	sum_field(p, offsetof(struct nsim_rxq, f))

/* Frames of 60..9014 bytes arrive intact; the model's DMA wrote every
 * byte; with HDS the CPU copied none; every buffer holds at most
 * rx-buf-len bytes (frames past MAX_SKB_FRAGS buffers would be dropped
 * and counted as too_long, none here).
 */
TEST_F_TIMEOUT(nsim, dma_integrity, 120)
{
	static const size_t sizes[] = {
		60, 61, 64, 127, 128, 500, 1000, 1023, 1024, 1025, 1514,
		2047, 2048, 2049, 4095, 4096, 4097, 6000, 8192, 9000, 9014,
	};
	__u64 dma0, cpu0, split0, total = 0, split = 0;
	struct nsim_qstats qs0, qs1;
	struct nsim_rxq q;
	unsigned int i;

	ASSERT_EQ(0, nsim_rx_stats(&self->l.b, 0, &q));
	EXPECT_EQ((unsigned int)(variant->buf_len ?: getpagesize()), q.buf_len);
	EXPECT_EQ((unsigned int)variant->hds, q.hds);
	ASSERT_EQ(0, nsim_qstats(&self->l.b, -1, &qs0));
	dma0 = RXQ_SUM(&self->l.b, dma_bytes);
	cpu0 = RXQ_SUM(&self->l.b, cpu_copy_bytes);
	split0 = RXQ_SUM(&self->l.b, hds_split);

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_LE(0, xfer(_metadata, &self->l, sizes[i], i, NULL));
		total += sizes[i];
		split += sizes[i] > ETH_HLEN;
	}

	EXPECT_EQ((__u64)total, RXQ_SUM(&self->l.b, dma_bytes) - dma0);
	if (variant->hds) {
		EXPECT_EQ(0ULL, RXQ_SUM(&self->l.b, cpu_copy_bytes) - cpu0);
		EXPECT_EQ((__u64)split, RXQ_SUM(&self->l.b, hds_split) - split0);
	} else {
		EXPECT_LT(0ULL, RXQ_SUM(&self->l.b, cpu_copy_bytes) - cpu0);
		EXPECT_EQ(0ULL, RXQ_SUM(&self->l.b, hds_split) - split0);
	}
	EXPECT_EQ(0ULL, RXQ_SUM(&self->l.b, too_long));
	ASSERT_EQ(0, nsim_qstats(&self->l.b, -1, &qs1));
	EXPECT_EQ((__u64)ARRAY_SIZE(sizes), qs1.packets - qs0.packets);
	EXPECT_EQ(0ULL, qs1.hw_drops - qs0.hw_drops);
}

/* A stream of frames keeps its order and content across buffer reuse. */
TEST_F_TIMEOUT(nsim, stream, 300)
{
	unsigned int i, seed = 7;
	size_t len;

	for (i = 0; i < 600; i++) {
		len = 60 + rand_r(&seed) % 8900;
		ASSERT_LE(0, xfer(_metadata, &self->l, len, 1000 + i, NULL));
	}
}

/* Per-queue qstats over netlink agree with the driver's own counters. */
TEST_F(nsim, queue_stats)
{
	struct nsim_qstats qs;
	struct nsim_rxq q;
	int i;

	for (i = 0; i < 40; i++)
		ASSERT_LE(0, xfer(_metadata, &self->l, 200, i, NULL));
	for (i = 0; i < NQ; i++) {
		ASSERT_EQ(0, nsim_rx_stats(&self->l.b, i, &q));
		ASSERT_EQ(0, nsim_qstats(&self->l.b, i, &qs));
		EXPECT_EQ(q.packets, qs.packets);
		EXPECT_EQ(q.bytes, qs.bytes);
		EXPECT_EQ(q.alloc_fail, qs.alloc_fail);
	}
}

/* ntuple rules put flows on their queue, survive a queue restart, are
 * listed and deleted, and bad rules get the errno drivers return.
 */
TEST_F(nsim, ntuple)
{
	struct nsim_flow udp = {
		.udp4 = true,
		.saddr = htonl(0x0a000001), .daddr = htonl(0x0a000007),
		.sport = 1000, .dport = 4000,
	};
	struct ethtool_rx_flow_spec eth = {
		.flow_type = ETHER_FLOW,
		.ring_cookie = 2,
		.location = RX_CLS_LOC_ANY,
	}, fs;
	__u32 loc_eth, loc_udp;
	unsigned int q;
	__u64 d0, d1;
	int i, rss_q;

	/* Unmatched traffic goes by RSS, to queues 0 and 1 */
	ASSERT_EQ(0, nsim_run("ethtool -X %s equal 2", self->l.b.ifname));
	eth.h_u.ether_spec.h_proto = htons(NSIM_ETH_P_TEST);
	eth.m_u.ether_spec.h_proto = 0xffff;
	memcpy(eth.h_u.ether_spec.h_dest, self->l.b.mac, 6);
	memset(eth.m_u.ether_spec.h_dest, 0xff, 6);
	ASSERT_EQ(0, nsim_ntuple_add(&self->l.b, &eth));
	loc_eth = eth.location;

	memset(&fs, 0, sizeof(fs));
	fs.flow_type = UDP_V4_FLOW;
	fs.h_u.udp_ip4_spec.pdst = htons(4000);
	fs.m_u.udp_ip4_spec.pdst = 0xffff;
	fs.h_u.udp_ip4_spec.ip4dst = udp.daddr;
	fs.m_u.udp_ip4_spec.ip4dst = 0xffffffff;
	fs.ring_cookie = 3;
	fs.location = RX_CLS_LOC_ANY;
	ASSERT_EQ(0, nsim_ntuple_add(&self->l.b, &fs));
	loc_udp = fs.location;
	EXPECT_NE(loc_eth, loc_udp);
	EXPECT_EQ(2, nsim_ntuple_count(&self->l.b));

	for (i = 0; i < 20; i++) {
		EXPECT_EQ(2, xfer(_metadata, &self->l, 100 + i * 100, i, NULL));
		EXPECT_EQ(3, xfer(_metadata, &self->l, 100 + i * 100, 100 + i, &udp));
	}

	/* Rules live in the NIC, not in the rings: a restart keeps them */
	ASSERT_EQ(0, nsim_debugfs_write(&self->l.b, "queue_reset", "2 0"));
	ASSERT_EQ(0, nsim_debugfs_write(&self->l.b, "queue_reset", "3 1"));
	EXPECT_EQ(2, xfer(_metadata, &self->l, 300, 200, NULL));
	EXPECT_EQ(3, xfer(_metadata, &self->l, 300, 201, &udp));

	/* Another port does not match the udp rule */
	udp.dport = 4001;
	rss_q = xfer(_metadata, &self->l, 300, 202, &udp);
	EXPECT_TRUE(rss_q == 0 || rss_q == 1);
	udp.dport = 4000;

	EXPECT_EQ(0, nsim_ntuple_del(&self->l.b, loc_udp));
	EXPECT_EQ(-ENOENT, nsim_ntuple_del(&self->l.b, loc_udp));
	EXPECT_EQ(1, nsim_ntuple_count(&self->l.b));
	rss_q = xfer(_metadata, &self->l, 300, 203, &udp);
	EXPECT_TRUE(rss_q == 0 || rss_q == 1);

	/* Bad rules */
	fs.location = RX_CLS_LOC_ANY;
	fs.ring_cookie = NQ;
	EXPECT_EQ(-EINVAL, nsim_ntuple_add(&self->l.b, &fs));
	fs.ring_cookie = 1;
	fs.location = 100000;
	EXPECT_EQ(-EINVAL, nsim_ntuple_add(&self->l.b, &fs));
	fs.location = RX_CLS_LOC_ANY;
	fs.flow_type = SCTP_V4_FLOW;
	EXPECT_EQ(-EOPNOTSUPP, nsim_ntuple_add(&self->l.b, &fs));
	fs.flow_type = UDP_V4_FLOW | FLOW_EXT;
	EXPECT_EQ(-EOPNOTSUPP, nsim_ntuple_add(&self->l.b, &fs));
	fs.flow_type = UDP_V4_FLOW;
	fs.m_u.udp_ip4_spec.tos = 0xff;
	EXPECT_EQ(-EOPNOTSUPP, nsim_ntuple_add(&self->l.b, &fs));
	EXPECT_EQ(1, nsim_ntuple_count(&self->l.b));

	/* A drop rule drops, and the drop is counted */
	memset(&fs, 0, sizeof(fs));
	fs.flow_type = UDP_V4_FLOW;
	fs.h_u.udp_ip4_spec.pdst = htons(4000);
	fs.m_u.udp_ip4_spec.pdst = 0xffff;
	fs.ring_cookie = RX_CLS_FLOW_DISC;
	fs.location = 0;
	ASSERT_EQ(0, nsim_ntuple_add(&self->l.b, &fs));
	ASSERT_EQ(0, nsim_link_stat(&self->l.b, "rx_dropped", &d0));
	nsim_build_frame(txbuf, 200, 300, &self->l.a, &self->l.b, &udp);
	ASSERT_EQ(0, send_frame(self->l.tx, 200));
	EXPECT_EQ(-ETIMEDOUT, nsim_rx_frame(self->l.rx, NQ, rxbuf, sizeof(rxbuf),
					    &q, 300));
	ASSERT_EQ(0, nsim_link_stat(&self->l.b, "rx_dropped", &d1));
	EXPECT_EQ(1ULL, d1 - d0);
}

/* A user RSS table spreads flows over the queues it names, by weight. */
TEST_F(nsim, rss)
{
	struct nsim_flow udp = {
		.udp4 = true,
		.saddr = htonl(0x0a000001), .daddr = htonl(0x0a000002),
		.dport = 5000,
	};
	int hits[NQ] = {};
	int i, q;

	ASSERT_EQ(0, nsim_run("ethtool -X %s equal 2", self->l.b.ifname));
	for (i = 0; i < 64; i++) {
		udp.sport = 2000 + i;
		q = xfer(_metadata, &self->l, 120, i, &udp);
		ASSERT_LE(0, q);
		hits[q]++;
	}
	EXPECT_LT(0, hits[0]);
	EXPECT_LT(0, hits[1]);
	EXPECT_EQ(0, hits[2] + hits[3]);

	ASSERT_EQ(0, nsim_run("ethtool -X %s weight 0 0 0 1", self->l.b.ifname));
	for (i = 0; i < 16; i++) {
		udp.sport = 3000 + i;
		EXPECT_EQ(3, xfer(_metadata, &self->l, 120, 100 + i, &udp));
	}
	/* The same flow always hashes to the same queue */
	ASSERT_EQ(0, nsim_run("ethtool -X %s equal 4", self->l.b.ifname));
	udp.sport = 4242;
	q = xfer(_metadata, &self->l, 120, 200, &udp);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(q, xfer(_metadata, &self->l, 120, 201 + i, &udp));
	ASSERT_EQ(0, nsim_run("ethtool -X %s default", self->l.b.ifname));
}

/* Failed buffer takes drop the frame, counted as alloc_fail, hw_drops
 * and rx_missed_errors, and nothing else is lost.
 */
TEST_F(nsim, alloc_fail)
{
	struct nsim_qstats qs0, qs1;
	__u64 miss0, miss1;
	unsigned int q;
	int i, got = 0, n;
	__u32 seq;

	ASSERT_EQ(0, nsim_qstats(&self->l.b, -1, &qs0));
	ASSERT_EQ(0, nsim_link_stat(&self->l.b, "rx_missed_errors", &miss0));
	ASSERT_EQ(0, nsim_debugfs_write(&self->l.b, "rx_fail_alloc", "5"));
	for (i = 0; i < 10; i++) {
		nsim_build_frame(txbuf, 100, i, &self->l.a, &self->l.b, NULL);
		ASSERT_EQ(0, send_frame(self->l.tx, 100));
	}
	for (;;) {
		n = nsim_rx_frame(self->l.rx, NQ, rxbuf, sizeof(rxbuf), &q, 500);
		if (n < 0)
			break;
		if (!nsim_check_frame(rxbuf, n, 100, &self->l.a, &self->l.b, NULL,
				      &seq))
			got++;
	}
	EXPECT_EQ(5, got);
	ASSERT_EQ(0, nsim_qstats(&self->l.b, -1, &qs1));
	ASSERT_EQ(0, nsim_link_stat(&self->l.b, "rx_missed_errors", &miss1));
	EXPECT_EQ(5ULL, qs1.alloc_fail - qs0.alloc_fail);
	EXPECT_EQ(5ULL, qs1.hw_drops - qs0.hw_drops);
	EXPECT_EQ(5ULL, miss1 - miss0);
}

struct restarter {
	const struct nsim_port *p;
	int stop;	/* atomic */
	int restarts;
};

static void *restart_loop(void *arg)
{
	struct restarter *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (!nsim_debugfs_write(r->p, "queue_reset", "%d %d",
					r->restarts % NQ, r->restarts % 4))
			r->restarts++;
		usleep(2000);
	}
	return NULL;
}

/* Queue restarts while frames flow lose nothing that is not counted:
 * received + B's drops (hw_drops, rx_dropped) + A's tx_dropped == sent.
 */
TEST_F_TIMEOUT(nsim, restart_under_traffic, 300)
{
	struct restarter r = { .p = &self->l.b };
	__u64 rxd0, rxd1, txd0, txd1;
	struct nsim_qstats qs0, qs1;
	unsigned int i, q, sent = 0, got = 0;
	pthread_t t;
	__u32 seq;
	int n;

	ASSERT_EQ(0, nsim_qstats(&self->l.b, -1, &qs0));
	ASSERT_EQ(0, nsim_link_stat(&self->l.b, "rx_dropped", &rxd0));
	ASSERT_EQ(0, nsim_link_stat(&self->l.a, "tx_dropped", &txd0));
	ASSERT_EQ(0, pthread_create(&t, NULL, restart_loop, &r));
	for (i = 0; i < 3000; i++) {
		nsim_build_frame(txbuf, 64 + i % 1400, i, &self->l.a, &self->l.b,
				 NULL);
		if (!send_frame(self->l.tx, 64 + i % 1400))
			sent++;
		if (!(i % 64))
			usleep(1000);
		while ((n = nsim_rx_frame(self->l.rx, NQ, rxbuf, sizeof(rxbuf),
					  &q, 0)) > 0)
			got += !nsim_check_frame(rxbuf, n, n, &self->l.a,
						 &self->l.b, NULL, &seq);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	while ((n = nsim_rx_frame(self->l.rx, NQ, rxbuf, sizeof(rxbuf), &q,
				  500)) > 0)
		got += !nsim_check_frame(rxbuf, n, n, &self->l.a, &self->l.b, NULL,
					 &seq);

	ASSERT_EQ(0, nsim_qstats(&self->l.b, -1, &qs1));
	ASSERT_EQ(0, nsim_link_stat(&self->l.b, "rx_dropped", &rxd1));
	ASSERT_EQ(0, nsim_link_stat(&self->l.a, "tx_dropped", &txd1));
	TH_LOG("%u restarts, %u sent, %u received, hw_drops %llu, rx_dropped %llu, tx_dropped %llu",
	       r.restarts, sent, got, qs1.hw_drops - qs0.hw_drops, rxd1 - rxd0,
	       txd1 - txd0);
	EXPECT_LT(0, r.restarts);
	EXPECT_EQ((__u64)sent, got + (qs1.hw_drops - qs0.hw_drops) +
			(rxd1 - rxd0) + (txd1 - txd0));
}

/* Bad ring parameters get an extack message and the errno. */
TEST_F(nsim, bad_rings)
{
	char msg[256];

	EXPECT_EQ(-EINVAL, nsim_rings_set(&self->l.b, -1, -1, 1000, msg,
					  sizeof(msg)));
	EXPECT_NE(0, msg[0]);
	EXPECT_EQ(-EINVAL, nsim_rings_set(&self->l.b, -1, -1, 512, msg,
					  sizeof(msg)));
	EXPECT_EQ(-EINVAL, nsim_rings_set(&self->l.b, -1, -1, 128 * 1024, msg,
					  sizeof(msg)));
}

TEST_HARNESS_MAIN
