// SPDX-License-Identifier: GPL-2.0
/*
 * A guest-bound RX queue on netdevsim: queue 3 of the NIC is leased to the
 * guest's backend device, a macvtap on the NIC or a tap bridged to it; the
 * userspace guest attaches that backend to vhost-net, and the NIC then
 * receives into the guest's own buffers.  Every test runs on both.  Frames steered to
 * the queue arrive byte for byte with no payload copied by the host CPU;
 * frames from other queues take the ordinary path; frames for which the
 * guest has no buffer the NIC can take land in the binding's spare host
 * pages and are copied; unbinding gives the buffers back zeroed; every
 * teardown, with traffic flowing, leaves no page pool of the binding
 * behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/netdev.h>
#include <linux/virtio_ring.h>
#include <net/if.h>

#include "../../../kselftest_harness.h"
#include "nsim.h"
#include "vhost_guest.h"

#define NQ		4
#define QB		3	/* the bound queue */
#define MTU		9000
#define BUF_LEN		4096ULL	/* one guest page per buffer */
#define RING		256U
#define HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)
/* What netdevsim's header/data split puts in the header buffer of a
 * test frame (no IP header): the Ethernet header.
 */
#define SPLIT_LEN	14

#define VS(s, name)	((s).v[NETDEV_A_VHOST_PROVIDER_INFO_ ## name])

static struct vhost_guest_frame frame;

/* The helpers take the fixture as struct _test_data_bind, which is what
 * FIXTURE_DATA(bind) names.
 */

FIXTURE(bind)
{
	struct nsim_port a, b;	/* a sends; b is the guest's side */
	/* The guest's backend device (macvtap or tap): name, ifindex; the
	 * MAC the guest's frames go to (a tap's guest is not the tap).
	 */
	struct nsim_port vif;
	char br[IF_NAMESIZE];	/* the bridge of b and a tap */
	bool mq;		/* a tap made from now on is multi-queue */
	int vif_queue;		/* the backend's queue that leases b's QB */
	int tap_fd;
	int tx_fd;
	struct vhost_guest *g;
};

FIXTURE_VARIANT(bind)
{
	bool tap;		/* a tap (tun) bridged to b, not a macvtap */
};

FIXTURE_VARIANT_ADD(bind, macvtap)
{
	.tap = false,
};

FIXTURE_VARIANT_ADD(bind, tap)
{
	.tap = true,
};

/* The MAC of the guest behind a tap, which the bridge forwards to the tap
 * by a static entry (a macvtap's guest has the macvtap's MAC).
 */
static const unsigned char tap_guest_mac[ETH_ALEN] = {
	0x02, 0x00, 0x00, 0x00, 0xab, 0x01,
};

/* A tap named vif->ifname on the bridge @br (made with @lower on it if
 * need be), to which the bridge forwards only broadcast and frames for
 * vif->mac; multi-queue if @mq.  Returns its fd.
 */
static int tap_create(struct nsim_port *vif, const char *br,
		      const struct nsim_port *lower, bool mq)
{
	char mac[NSIM_MAC_STR_LEN];
	int fd;

	if (!if_nametoindex(br) &&
	    (nsim_run("ip link add %s type bridge", br) ||
	     nsim_run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", br) ||
	     nsim_run("ip link set %s master %s", lower->ifname, br) ||
	     nsim_run("ip link set %s mtu %d up", br, MTU)))
		return -EIO;
	fd = mq ? vhost_guest_tap_open_mq(vif->ifname, HDR_LEN) :
		  vhost_guest_tap_open(vif->ifname, HDR_LEN);
	if (fd < 0)
		return fd;
	nsim_mac_str(mac, vif->mac);
	if (nsim_run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1",
		     vif->ifname) ||
	    nsim_run("ip link set %s mtu %d master %s up", vif->ifname, MTU,
		     br) ||
	    nsim_run("bridge link set dev %s flood off mcast_flood off learning off",
		     vif->ifname) ||
	    nsim_run("bridge fdb add %s dev %s master static", mac,
		     vif->ifname)) {
		close(fd);
		return -EIO;
	}
	vif->ifindex = if_nametoindex(vif->ifname);
	if (!vif->ifindex) {
		close(fd);
		return -ENODEV;
	}
	return fd;
}

/* A backend device on b, a tap (bridged) or a macvtap, named
 * vif->ifname, for a tap with vif->mac; returns the fd to read it by.
 */
static int vif_create(struct _test_data_bind *self, struct nsim_port *vif,
		      bool tap)
{
	int ret;

	if (tap)
		return tap_create(vif, self->br, &self->b, self->mq);
	ret = nsim_macvtap_create(vif, &self->b, MTU);
	return ret ?: vhost_guest_macvtap_open(vif->ifindex, HDR_LEN);
}

/* The guest's frames to the bound queue, by an ntuple rule on its MAC. */
static int guest_steer(const struct nsim_port *vif,
		       const struct nsim_port *lower)
{
	char mac[NSIM_MAC_STR_LEN];

	nsim_mac_str(mac, vif->mac);
	return nsim_run("ethtool -N %s flow-type ether dst %s action %d >/dev/null",
			lower->ifname, mac, QB);
}

/* The guest's backend device, the guest's frames steered to QB, and the
 * fd the guest attaches (a macvtap's tap fd, a tap's own) in
 * self->tap_fd; nothing leased yet.
 */
static int backend_create(struct _test_data_bind *self, bool tap)
{
	int fd, ret;

	snprintf(self->vif.ifname, sizeof(self->vif.ifname), "%s%d",
		 tap ? "tpb" : "mvb", getpid() % 10000);
	memcpy(self->vif.mac, tap_guest_mac, ETH_ALEN);
	fd = vif_create(self, &self->vif, tap);
	if (fd < 0)
		return fd;
	ret = guest_steer(&self->vif, &self->b);
	if (ret) {
		close(fd);
		return ret;
	}
	self->tap_fd = fd;
	return 0;
}

/* Undoes backend_create(); a tap goes with its last fd. */
static void backend_destroy(struct _test_data_bind *self)
{
	if (self->tap_fd >= 0)
		close(self->tap_fd);
	self->tap_fd = -1;
	nsim_run("ip link del %s 2>/dev/null", self->vif.ifname);
}

/* A guest on @tap_fd that posts @n buffers (ids 0..n-1); *@gp NULL on
 * failure.
 */
static int guest_start(struct vhost_guest **gp, int tap_fd, unsigned int n)
{
	struct vhost_guest_opts opts = { .buf_len = BUF_LEN, .ring_num = RING };
	int ret;

	ret = vhost_guest_open(gp, &opts);
	if (ret)
		return ret;
	ret = vhost_guest_set_backend_fd(*gp, tap_fd);
	if (!ret)
		ret = vhost_guest_rx_post(*gp, n);
	if (ret < 0) {
		vhost_guest_close(*gp);
		*gp = NULL;
		return ret;
	}
	return 0;
}

FIXTURE_SETUP(bind)
{
	char msg[256];
	int ret;

	if (access("/sys/bus/netdevsim/new_device", W_OK))
		SKIP(return, "netdevsim is not available (CONFIG_NETDEVSIM)");
	if (access("/dev/vhost-net", R_OK | W_OK))
		SKIP(return, "/dev/vhost-net is not available (CONFIG_VHOST_NET)");
	self->tap_fd = -1;
	self->tx_fd = -1;

	ret = nsim_pair_create(&self->a, &self->b, NQ);
	ASSERT_EQ(0, ret) TH_LOG("netdevsim pair: %s", strerror(-ret));
	ASSERT_EQ(0, nsim_set_mtu(&self->a, MTU));
	ASSERT_EQ(0, nsim_set_mtu(&self->b, MTU));
	/* Memory providers need header/data split */
	ret = nsim_rings_set(&self->b, 1, 0, -1, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("rings-set: %s %s", strerror(-ret), msg);

	/* The guest's frames to QB, everything else elsewhere */
	ASSERT_EQ(0, nsim_run("ethtool -X %s equal %d", self->b.ifname, QB));
	snprintf(self->br, sizeof(self->br), "brb%d", getpid() % 10000);
	ret = backend_create(self, variant->tap);
	ASSERT_EQ(0, ret) TH_LOG("backend: %s", strerror(-ret));
	self->vif_queue = nsim_queue_lease(self->vif.ifindex, self->b.ifindex,
					   QB, msg, sizeof(msg));
	ASSERT_LT(0, self->vif_queue) TH_LOG("queue-create: %s %s",
					     strerror(-self->vif_queue), msg);

	ret = guest_start(&self->g, self->tap_fd, RING);
	ASSERT_EQ(0, ret) TH_LOG("guest: %s", strerror(-ret));
	self->tx_fd = nsim_tx_open(&self->a);
	ASSERT_LE(0, self->tx_fd);
}

static int alloc_faults_set(bool on);

FIXTURE_TEARDOWN(bind)
{
	/* faults_alloc's settings, should it have stopped half way */
	alloc_faults_set(false);
	vhost_guest_close(self->g);
	if (self->tx_fd >= 0)
		close(self->tx_fd);
	backend_destroy(self);
	nsim_run("ip link del %s 2>/dev/null", self->br);
	nsim_pair_destroy(&self->a, &self->b);
}

static int send_frame(struct _test_data_bind *self, __u32 seq, size_t len)
{
	static unsigned char buf[VHOST_GUEST_MAX_FRAME];

	len = nsim_build_frame(buf, len, seq, &self->a, &self->vif, NULL);
	return send(self->tx_fd, buf, len, 0) == (ssize_t)len ? 0 : -errno;
}

/* The next frame from port a (others, such as IPv6 multicast the host
 * sends on its own, are skipped); every free buffer is reposted.  With
 * @tags (NULL-terminated), first count those tags in the whole of every
 * buffer of each frame, past what the frame used too, before the repost
 * poisons them: *@hits gets the tags found, *@bufs the buffers looked at.
 */
static int recv_frame_tags(struct vhost_guest *g, const struct nsim_port *a,
			   int timeout_ms, const char *const *tags,
			   unsigned int *hits, unsigned int *bufs)
{
	const char *const *tag;
	const unsigned char *buf;
	unsigned int i;
	size_t len;
	int ret;

	for (;;) {
		ret = vhost_guest_rx_wait(g, &frame, timeout_ms);
		if (ret)
			return ret;
		for (i = 0; tags && i < frame.nbufs; i++) {
			buf = vhost_guest_rx_buf(g, frame.ids[i], &len);
			if (!buf)
				return -EPROTO;
			for (tag = tags; *tag; tag++)
				*hits += vhost_guest_count_tag(buf, len, *tag);
			(*bufs)++;
		}
		ret = vhost_guest_rx_post(g, RING);
		if (ret < 0)
			return ret;
		if (frame.len >= ETH_HLEN && !memcmp(frame.data + 6, a->mac, 6) &&
		    frame.data[12] == NSIM_ETH_P_TEST >> 8 &&
		    frame.data[13] == (NSIM_ETH_P_TEST & 0xff))
			return 0;
	}
}

static int recv_frame(struct vhost_guest *g, const struct nsim_port *a,
		      int timeout_ms)
{
	return recv_frame_tags(g, a, timeout_ms, NULL, NULL, NULL);
}

/* Receives the frame @seq of @len bytes from a to @to and checks it;
 * @tags, @hits and @bufs as for recv_frame_tags().
 */
static int recv_check_tags(struct _test_data_bind *self,
			   const struct nsim_port *to, __u32 seq, size_t len,
			   const char *const *tags, unsigned int *hits,
			   unsigned int *bufs)
{
	__u32 got;
	int ret;

	ret = recv_frame_tags(self->g, &self->a, 3000, tags, hits, bufs);
	if (ret)
		return ret;
	ret = nsim_check_frame(frame.data, frame.len, len, &self->a, to, NULL,
			       &got);
	if (!ret && got != seq)
		ret = -ENOMSG;
	return ret;
}

static int recv_check(struct _test_data_bind *self, const struct nsim_port *to,
		      __u32 seq, size_t len)
{
	return recv_check_tags(self, to, seq, len, NULL, NULL, NULL);
}

static int bound_stats(struct _test_data_bind *self, struct nsim_vhost_stats *vs)
{
	return nsim_queue_vhost(self->b.ifindex, QB, vs);
}

static void log_stats(struct __test_metadata *_metadata,
		      const struct nsim_vhost_stats *vs)
{
	TH_LOG("binding: armed %llu arm-total %llu refused %llu pinned %llu",
	       VS(*vs, BUFS_ARMED), VS(*vs, ARM_TOTAL), VS(*vs, ARM_REFUSED),
	       VS(*vs, PINNED_PAGES));
	TH_LOG("binding: empty %llu zc %llu copy %llu host %llu other %llu drops %llu",
	       VS(*vs, ALLOC_EMPTY), VS(*vs, ZC_FRAMES), VS(*vs, COPY_FRAMES),
	       VS(*vs, HOST_FRAMES), VS(*vs, OTHER_FRAMES), VS(*vs, DROPS));
}

/* The worker arms buffers after the guest's kick: wait for @want on
 * b's @queue.
 */
static int wait_queue_armed(struct _test_data_bind *self, unsigned int queue,
			    __u64 want, struct nsim_vhost_stats *vs)
{
	int ret, i;

	for (i = 0; i < 50; i++) {
		ret = nsim_queue_vhost(self->b.ifindex, queue, vs);
		if (ret || VS(*vs, BUFS_ARMED) == want)
			return ret;
		usleep(20 * 1000);
	}
	return -ETIMEDOUT;
}

static int wait_armed(struct _test_data_bind *self, __u64 want,
		      struct nsim_vhost_stats *vs)
{
	return wait_queue_armed(self, QB, want, vs);
}

/* No page pool of a binding is left, within 5 s: everything the NIC held
 * came back.
 */
static void expect_no_pools(struct __test_metadata *_metadata)
{
	__u64 inflight;
	int pools;

	pools = nsim_vhost_pools_settle(0, 5000, &inflight);
	ASSERT_LE(0, pools);
	EXPECT_EQ(0, pools) TH_LOG("%llu buffers in flight", (unsigned long long)inflight);
}

/* The length of traffic_run()'s frame @seq. */
static size_t traffic_len(unsigned long seq)
{
	return 60 + (seq * 997) % 8954;
}

/* Traffic from a to the guest on another thread, until stopped. */
struct traffic {
	struct _test_data_bind *self;
	pthread_t thread;
	bool stop;		/* __atomic: set by the test thread */
	unsigned long sent;
};

static void *traffic_run(void *arg)
{
	static unsigned char buf[VHOST_GUEST_MAX_FRAME];
	struct traffic *t = arg;
	size_t len;

	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED) &&
	       t->sent < 100000) {
		len = nsim_build_frame(buf, traffic_len(t->sent), t->sent,
				       &t->self->a, &t->self->vif, NULL);
		if (send(t->self->tx_fd, buf, len, 0) == (ssize_t)len)
			t->sent++;
		usleep(100);
	}
	return NULL;
}

static int traffic_start(struct traffic *t, struct _test_data_bind *self)
{
	memset(t, 0, sizeof(*t));
	t->self = self;
	if (pthread_create(&t->thread, NULL, traffic_run, t))
		return -errno;
	/* Let frames reach the queue before the teardown under test */
	usleep(300 * 1000);
	return 0;
}

static unsigned long traffic_stop(struct traffic *t)
{
	__atomic_store_n(&t->stop, true, __ATOMIC_RELAXED);
	pthread_join(t->thread, NULL);
	return t->sent;
}

/* The binding shows in queue-get on both ends of the lease, and in the
 * page pool of the queue; it holds half the ring for the NIC.
 */
TEST_F_TIMEOUT(bind, shown, 240)
{
	struct nsim_vhost_stats vs, vv;
	unsigned int pools;
	__u64 inflight;

	EXPECT_EQ(0, wait_armed(self, RING / 2, &vs)) {
		struct nsim_rxq q;

		log_stats(_metadata, &vs);
		nsim_rx_stats(&self->b, QB, &q);
		TH_LOG("nic queue %d: packets %llu alloc_fail %llu hw_drops %llu",
		       QB, q.packets, q.alloc_fail, q.hw_drops);
		TH_LOG("nic queue %d: niov_bytes %llu; vq errors %llu", QB,
		       q.niov_bytes, vhost_guest_vq_errors(self->g));
	}
	EXPECT_EQ(BUF_LEN, VS(vs, RX_BUF_LEN));
	EXPECT_EQ(RING / 2, VS(vs, BUFS_ARMED));
	EXPECT_EQ(RING / 2, VS(vs, ARM_TOTAL));
	EXPECT_EQ(RING / 2, VS(vs, PINNED_PAGES));
	EXPECT_EQ(RING / 2, VS(vs, HOST_PAGES));
	EXPECT_EQ(0ULL, VS(vs, ZC_FRAMES));
	EXPECT_EQ(0ULL, VS(vs, HOST_FRAMES));
	ASSERT_EQ(0, nsim_queue_vhost(self->vif.ifindex, self->vif_queue, &vv));
	EXPECT_EQ(RING / 2, VS(vv, BUFS_ARMED));
	/* Other queues are not bound */
	EXPECT_EQ(-ENOENT, nsim_queue_vhost(self->b.ifindex, 0, &vv));
	ASSERT_EQ(0, nsim_vhost_pools(&pools, &inflight));
	EXPECT_EQ(1U, pools);
}

/* Frames of 60..9014 bytes steered to the bound queue arrive byte for
 * byte; their payload was written by the NIC only.  Once every guest
 * buffer has been armed (pinned and mapped) once, receiving pins nothing
 * more: the buffers circle between the guest and the NIC.
 */
TEST_F_TIMEOUT(bind, zero_copy, 240)
{
	static const size_t sizes[] = {
		60, 61, 64, 100, 500, 1000, 1514, 2000, 4095, 4096, 4110,
		5000, 8000, 8192, 8206, 9000, 9014,
	};
	struct nsim_vhost_stats s0, s2;
	__u64 payload = 0, frames = 0;
	struct nsim_rxq q0, q1;
	unsigned int i, warm;
	__u32 seq = 1;
	int ret;

	/* Warm up: until every buffer of the ring has been armed once */
	for (warm = 0; warm < 2000; warm++, seq++) {
		ASSERT_EQ(0, bound_stats(self, &s0));
		if (VS(s0, PIN_TOTAL) == RING)
			break;
		ASSERT_EQ(0, send_frame(self, seq, 1514));
		ASSERT_EQ(0, recv_check(self, &self->vif, seq, 1514));
	}
	ASSERT_EQ(RING, VS(s0, PIN_TOTAL)) log_stats(_metadata, &s0);
	ASSERT_EQ(0, nsim_rx_stats(&self->b, QB, &q0));

	while (frames < 4 * ARRAY_SIZE(sizes)) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++, seq++) {
			ASSERT_EQ(0, send_frame(self, seq, sizes[i]));
			ret = recv_check(self, &self->vif, seq, sizes[i]);
			ASSERT_EQ(0, ret) TH_LOG("frame %u (%zu bytes): %s",
						 seq, sizes[i], strerror(-ret));
			payload += sizes[i] - SPLIT_LEN;
			frames++;
		}
	}
	ASSERT_EQ(0, bound_stats(self, &s2));
	ASSERT_EQ(0, nsim_rx_stats(&self->b, QB, &q1));

	EXPECT_EQ(frames, VS(s2, ZC_FRAMES) - VS(s0, ZC_FRAMES));
	EXPECT_EQ(payload, VS(s2, ZC_BYTES) - VS(s0, ZC_BYTES));
	EXPECT_EQ(frames * (HDR_LEN + SPLIT_LEN),
		  VS(s2, HDR_BYTES) - VS(s0, HDR_BYTES));
	EXPECT_EQ(0ULL, VS(s2, COPY_FRAMES));
	/* No spare lingered in the pool in place of a guest buffer */
	EXPECT_EQ(0ULL, VS(s2, HOST_FRAMES) - VS(s0, HOST_FRAMES));
	EXPECT_EQ(0ULL, VS(s2, DROPS));
	/* What the NIC wrote into guest buffers is all the payload */
	EXPECT_EQ(payload, q1.niov_bytes - q0.niov_bytes);
	EXPECT_EQ(0ULL, q1.hw_drops - q0.hw_drops);
	/* Steady state: buffers recycled, no page pinned or unpinned */
	EXPECT_LT(VS(s0, ARM_TOTAL), VS(s2, ARM_TOTAL));
	EXPECT_EQ(VS(s0, PIN_TOTAL), VS(s2, PIN_TOTAL));
	EXPECT_EQ(RING, VS(s2, PINNED_PAGES));
	EXPECT_EQ(0ULL, vhost_guest_vq_errors(self->g));
	TH_LOG("%u warm-up frames, then %llu frames: %llu payload bytes in place,",
	       warm, frames, payload);
	TH_LOG("%llu header bytes copied, %llu buffers re-armed, %llu pages pinned in all",
	       VS(s2, HDR_BYTES) - VS(s0, HDR_BYTES),
	       VS(s2, ARM_TOTAL) - VS(s0, ARM_TOTAL), VS(s2, PIN_TOTAL));
}

/* Broadcast frames go to the other queues (RSS) and reach the guest by
 * the ordinary path, interleaved with zero-copy ones, each counted.
 */
TEST_F_TIMEOUT(bind, other_queue, 240)
{
	static const struct nsim_port bcast = {
		.mac = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	struct nsim_vhost_stats s0, s1;
	unsigned int i, zc = 0, other = 0;
	static unsigned char buf[2048];
	const struct nsim_port *to;
	size_t len;
	__u32 seq;

	ASSERT_EQ(0, bound_stats(self, &s0));
	for (i = 0; i < 20; i++) {
		to = i & 1 ? &bcast : &self->vif;
		len = nsim_build_frame(buf, 300 + i * 50, i, &self->a, to,
				       NULL);
		ASSERT_EQ((ssize_t)len, send(self->tx_fd, buf, len, 0));
	}
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, recv_frame(self->g, &self->a, 3000));
		memcpy(&seq, frame.data + ETH_HLEN, sizeof(seq));
		ASSERT_GT(20U, seq);
		to = seq & 1 ? &bcast : &self->vif;
		EXPECT_EQ(0, nsim_check_frame(frame.data, frame.len,
					      300 + seq * 50, &self->a, to,
					      NULL, &seq));
		if (seq & 1)
			other++;
		else
			zc++;
	}
	ASSERT_EQ(0, bound_stats(self, &s1));
	EXPECT_EQ(10U, zc);
	EXPECT_EQ(10U, other);
	EXPECT_EQ(10ULL, VS(s1, ZC_FRAMES) - VS(s0, ZC_FRAMES));
	/* The host's own multicast may come by the same way */
	EXPECT_LE(10ULL, VS(s1, OTHER_FRAMES) - VS(s0, OTHER_FRAMES));
	EXPECT_EQ(0ULL, VS(s1, COPY_FRAMES));
}

static __u64 link_drops(const struct nsim_port *p)
{
	__u64 rx = 0, tx = 0;

	nsim_link_stat(p, "rx_dropped", &rx);
	nsim_link_stat(p, "tx_dropped", &tx);
	return rx + tx;
}

/* Frames for another backend device on the NIC (a second macvtap, or a
 * second tap on the bridge) that are steered to the bound queue land in
 * the binding's buffers.  That device drops them, counted, instead of
 * giving its reader frames it cannot read; the guest does not get them
 * either.  Its frames from other queues reach its reader as ever.
 */
#define FOREIGN_FRAMES	8U

TEST_F_TIMEOUT(bind, other_backend, 240)
{
	static const unsigned char other_mac[ETH_ALEN] = {
		0x02, 0x00, 0x00, 0x00, 0xab, 0x02,
	};
	static const struct nsim_port bcast = {
		.mac = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	static unsigned char buf[HDR_LEN + 2048];
	struct nsim_vhost_stats vs;
	struct nsim_port o = {};
	struct pollfd pfd = {};
	__u64 drops0;
	unsigned int i;
	ssize_t n;
	size_t len;
	__u32 seq;

	snprintf(o.ifname, sizeof(o.ifname), "%s%d",
		 variant->tap ? "tpo" : "mvo", getpid() % 10000);
	memcpy(o.mac, other_mac, ETH_ALEN);
	pfd.fd = vif_create(self, &o, variant->tap);
	ASSERT_LE(0, pfd.fd) TH_LOG("%s: %s", o.ifname, strerror(-pfd.fd));
	pfd.events = POLLIN;
	ASSERT_EQ(0, guest_steer(&o, &self->b));
	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));
	drops0 = link_drops(&o);

	for (i = 0; i < FOREIGN_FRAMES; i++) {
		len = nsim_build_frame(buf, 1000, i, &self->a, &o, NULL);
		ASSERT_EQ((ssize_t)len, send(self->tx_fd, buf, len, 0));
	}
	/* The guest's own frame, after them on the same queue */
	ASSERT_EQ(0, send_frame(self, 100, 1000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 100, 1000));
	EXPECT_EQ(0, poll(&pfd, 1, 200));
	EXPECT_EQ((__u64)FOREIGN_FRAMES, link_drops(&o) - drops0);

	/* Broadcast comes by the other queues, readable */
	len = nsim_build_frame(buf, 1000, 7, &self->a, &bcast, NULL);
	ASSERT_EQ((ssize_t)len, send(self->tx_fd, buf, len, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 3000));
	n = read(pfd.fd, buf, sizeof(buf));
	ASSERT_EQ((ssize_t)(HDR_LEN + 1000), n)
		TH_LOG("read: %s", strerror(errno));
	EXPECT_EQ(0, nsim_check_frame(buf + HDR_LEN, n - HDR_LEN, 1000,
				      &self->a, &bcast, NULL, &seq));
	EXPECT_EQ(7U, seq);
	close(pfd.fd);
	nsim_run("ip link del %s 2>/dev/null", o.ifname);
}

/* The next test frame from @from to guest @g, checked as frame @seq of
 * @len bytes; a test frame from anyone else is an error.
 */
static int mq_recv(struct vhost_guest *g, const struct nsim_port *from,
		   const struct nsim_port *to, __u32 seq, size_t len)
{
	__u32 got;
	int ret;

	for (;;) {
		ret = vhost_guest_rx_wait(g, &frame, 3000);
		if (ret)
			return ret;
		ret = vhost_guest_rx_post(g, RING);
		if (ret < 0)
			return ret;
		if (frame.len >= ETH_HLEN &&
		    frame.data[12] == NSIM_ETH_P_TEST >> 8 &&
		    frame.data[13] == (NSIM_ETH_P_TEST & 0xff))
			break;
	}
	if (memcmp(frame.data + ETH_ALEN, from->mac, ETH_ALEN))
		return -EXDEV;
	ret = nsim_check_frame(frame.data, frame.len, len, from, to, NULL,
			       &got);
	if (!ret && got != seq)
		ret = -ENOMSG;
	return ret;
}

/* A guest with two queue pairs: two vhost-net devices, each on its own
 * queue of one backend (a multi-queue tap, or two opens of the macvtap),
 * the backend leasing QB and QB2.  Each device binds the first lease no
 * other has, in the order they are attached, and receives the flow
 * steered to its queue in place; no frame of one reaches the other.
 */
#define QB2		2
#define MQ_FRAMES	64U

TEST_F_TIMEOUT(bind, multiqueue, 240)
{
	struct nsim_port a2 = self->a;	/* a, under another MAC */
	struct nsim_vhost_stats s1, s2, t1, t2;
	static unsigned char buf[VHOST_GUEST_MAX_FRAME];
	struct vhost_guest *g2 = NULL;
	char msg[256], mac[2][NSIM_MAC_STR_LEN];
	int fd2 = -1, q2, ret;
	__u64 drops0;
	unsigned int i;
	size_t len;

	/* The fixture's backend again, as one that can have more queues */
	vhost_guest_close(self->g);
	self->g = NULL;
	backend_destroy(self);
	self->mq = true;
	ASSERT_EQ(0, nsim_run("ethtool -N %s delete 0", self->b.ifname));
	ASSERT_EQ(0, nsim_run("ethtool -X %s equal %d", self->b.ifname, QB2));
	ASSERT_EQ(0, backend_create(self, variant->tap));
	self->vif_queue = nsim_queue_lease(self->vif.ifindex, self->b.ifindex,
					   QB, msg, sizeof(msg));
	ASSERT_LT(0, self->vif_queue) TH_LOG("queue-create: %s", msg);
	q2 = nsim_queue_lease(self->vif.ifindex, self->b.ifindex, QB2, msg,
			      sizeof(msg));
	ASSERT_LT(0, q2) TH_LOG("queue-create: %s", msg);

	/* a2's frames to QB2, ahead of the rule for all of the guest's */
	a2.mac[5] ^= 0x40;
	nsim_mac_str(mac[0], a2.mac);
	nsim_mac_str(mac[1], self->vif.mac);
	ASSERT_EQ(0, nsim_run("ethtool -N %s delete 0", self->b.ifname));
	ASSERT_EQ(0, nsim_run("ethtool -N %s flow-type ether src %s dst %s %s %d loc 0 >/dev/null",
			      self->b.ifname, mac[0], mac[1], "action", QB2));
	ASSERT_EQ(0, nsim_run("ethtool -N %s flow-type ether dst %s action %d loc 1 >/dev/null",
			      self->b.ifname, mac[1], QB));

	/* Queue pair 0, then 1 */
	ASSERT_EQ(0, guest_start(&self->g, self->tap_fd, RING));
	ASSERT_EQ(0, wait_armed(self, RING / 2, &s1));
	fd2 = variant->tap ?
	      vhost_guest_tap_open_mq(self->vif.ifname, HDR_LEN) :
	      vhost_guest_macvtap_open(self->vif.ifindex, HDR_LEN);
	ASSERT_LE(0, fd2) TH_LOG("second queue: %s", strerror(-fd2));
	ret = guest_start(&g2, fd2, RING);
	ASSERT_EQ(0, ret) TH_LOG("second guest: %s", strerror(-ret));
	ret = wait_queue_armed(self, QB2, RING / 2, &s2);
	ASSERT_EQ(0, ret) TH_LOG("queue %d: %s", QB2, strerror(-ret));
	ASSERT_EQ(RING / 2, VS(s2, BUFS_ARMED));
	ASSERT_EQ(0, bound_stats(self, &s1));
	/* Each lease shows its own binding on the backend's side */
	ASSERT_EQ(0, nsim_queue_vhost(self->vif.ifindex, q2, &t2));
	EXPECT_EQ(RING / 2, VS(t2, BUFS_ARMED));
	drops0 = link_drops(&self->vif);

	for (i = 0; i < MQ_FRAMES; i++) {
		len = nsim_build_frame(buf, traffic_len(i), i, &self->a,
				       &self->vif, NULL);
		ASSERT_EQ((ssize_t)len, send(self->tx_fd, buf, len, 0));
		len = nsim_build_frame(buf, traffic_len(i + 1), i, &a2,
				       &self->vif, NULL);
		ASSERT_EQ((ssize_t)len, send(self->tx_fd, buf, len, 0));
	}
	for (i = 0; i < MQ_FRAMES; i++) {
		ret = mq_recv(self->g, &self->a, &self->vif, i,
			      traffic_len(i));
		ASSERT_EQ(0, ret) TH_LOG("queue pair 0, frame %u: %s", i,
					 strerror(-ret));
		ret = mq_recv(g2, &a2, &self->vif, i, traffic_len(i + 1));
		ASSERT_EQ(0, ret) TH_LOG("queue pair 1, frame %u: %s", i,
					 strerror(-ret));
	}
	ASSERT_EQ(0, bound_stats(self, &t1));
	ASSERT_EQ(0, nsim_queue_vhost(self->b.ifindex, QB2, &t2));
	EXPECT_EQ(MQ_FRAMES, VS(t1, ZC_FRAMES) - VS(s1, ZC_FRAMES))
		log_stats(_metadata, &t1);
	EXPECT_EQ(MQ_FRAMES, VS(t2, ZC_FRAMES) - VS(s2, ZC_FRAMES))
		log_stats(_metadata, &t2);
	EXPECT_EQ(0ULL, VS(t1, HOST_FRAMES) + VS(t2, HOST_FRAMES));
	EXPECT_EQ(0ULL, VS(t1, DROPS) + VS(t2, DROPS));
	EXPECT_EQ(0ULL, link_drops(&self->vif) - drops0);
	EXPECT_EQ(0ULL, vhost_guest_vq_errors(self->g));
	EXPECT_EQ(0ULL, vhost_guest_vq_errors(g2));
	TH_LOG("%u frames in place on each of queues %d and %d", MQ_FRAMES,
	       QB, QB2);

	/* Queue pair 1 goes: QB2 is unbound, and its frames reach the
	 * queue left by the ordinary path
	 */
	vhost_guest_close(g2);
	close(fd2);
	EXPECT_EQ(-ENOENT, nsim_queue_vhost(self->b.ifindex, QB2, &t2));
	len = nsim_build_frame(buf, 1000, 1000, &a2, &self->vif, NULL);
	ASSERT_EQ((ssize_t)len, send(self->tx_fd, buf, len, 0));
	ASSERT_EQ(0, mq_recv(self->g, &a2, &self->vif, 1000, 1000));
	ASSERT_EQ(0, bound_stats(self, &s1));
	EXPECT_LE(1ULL, VS(s1, OTHER_FRAMES) - VS(t1, OTHER_FRAMES));
	EXPECT_EQ(0ULL, VS(s1, ZC_FRAMES) - VS(t1, ZC_FRAMES));
}

/* Detaching the backend unbinds: the buffers the NIC held come back with
 * length 0 and every byte zero (the guest filled them with 0xa5); the
 * queue is free again, and attaching binds it anew.
 */
TEST_F_TIMEOUT(bind, unbind_scrubs, 240)
{
	struct nsim_vhost_stats vs;
	unsigned int zeroed;
	int n;

	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));

	ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, -1));
	n = vhost_guest_rx_reclaim(self->g, &zeroed);
	EXPECT_EQ((int)(RING / 2), n);
	EXPECT_EQ(RING / 2, zeroed);
	EXPECT_EQ(-ENOENT, bound_stats(self, &vs));
	EXPECT_EQ(RING - RING / 2, vhost_guest_rx_outstanding(self->g));

	ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, self->tap_fd));
	ASSERT_EQ((int)(RING / 2), vhost_guest_rx_post(self->g, RING));
	EXPECT_EQ(0, wait_armed(self, RING / 2, &vs));
	ASSERT_EQ(0, send_frame(self, 7, 3000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 7, 3000));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(1ULL, VS(vs, ZC_FRAMES));
}

/* A lease of a queue the NIC does not split headers on is not bound:
 * VHOST_NET_SET_BACKEND has no extack, so vhost-net gives the core's
 * reason on the backend in the kernel log, and the guest gets its frames
 * the ordinary way.  With header/data split on again, the next attach
 * binds.
 */
/* Whether the kernel logged, since nsim_kmsg_open(), that the backend's lease
 * was not bound, with @err, for @why (NULL: whatever the reason).
 */
static bool kmsg_refused(int fd, const struct _test_data_bind *self,
			 const char *why, int err)
{
	char want[256], tail[128], rec[8192];

	snprintf(want, sizeof(want),
		 "%s: vhost-net: RX queue %d not bound to the guest: ",
		 self->vif.ifname, self->vif_queue);
	snprintf(tail, sizeof(tail), "%s (%d)", why ?: "", err);
	while (fd >= 0 && nsim_kmsg_next(fd, rec, sizeof(rec)))
		if (strstr(rec, want) && strstr(rec, tail))
			return true;
	return false;
}

static int expect_refusal(struct _test_data_bind *self, const char *why)
{
	struct nsim_vhost_stats vs;
	int ret, kmsg;

	kmsg = nsim_kmsg_open();
	ret = vhost_guest_set_backend_fd(self->g, self->tap_fd);
	if (!ret && bound_stats(self, &vs) != -ENOENT)
		ret = -EEXIST;
	if (!ret && !kmsg_refused(kmsg, self, why, -EINVAL))
		ret = -ENOMSG;
	if (kmsg >= 0)
		close(kmsg);
	if (ret)
		return ret;
	ret = send_frame(self, 5, 3000);
	if (!ret)
		ret = recv_check(self, &self->vif, 5, 3000);
	if (!ret)
		ret = vhost_guest_set_backend_fd(self->g, -1);
	return ret;
}

TEST_F_TIMEOUT(bind, refused_without_hds, 240)
{
	struct nsim_vhost_stats vs;
	unsigned int zeroed;
	char msg[256];
	int ret;

	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));
	ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, -1));
	ASSERT_EQ((int)(RING / 2), vhost_guest_rx_reclaim(self->g, &zeroed));
	ASSERT_EQ((int)(RING / 2), vhost_guest_rx_post(self->g, RING));

	ret = nsim_rings_set(&self->b, 0, -1, -1, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("rings-set: %s %s", strerror(-ret), msg);
	ret = expect_refusal(self, "tcp-data-split is disabled");
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(-ret));

	ret = nsim_rings_set(&self->b, 1, 256, -1, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("rings-set: %s %s", strerror(-ret), msg);
	ret = expect_refusal(self, "hds-thresh is not zero");
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(-ret));

	ret = nsim_rings_set(&self->b, 1, 0, -1, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("rings-set: %s %s", strerror(-ret), msg);
	ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, self->tap_fd));
	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));
	ASSERT_EQ(0, send_frame(self, 7, 3000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 7, 3000));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(1ULL, VS(vs, ZC_FRAMES));
}

/* A fresh guest on the backend that posts @n buffers (ids 0..n-1). */
static int guest_restart(struct _test_data_bind *self, unsigned int n)
{
	vhost_guest_close(self->g);
	return guest_start(&self->g, self->tap_fd, n);
}

/* A fresh guest on the backend whose posted buffers are @len long. */
static int guest_restart_len(struct _test_data_bind *self, unsigned int len)
{
	int ret;

	vhost_guest_close(self->g);
	ret = guest_start(&self->g, self->tap_fd, 0);
	if (!ret)
		ret = vhost_guest_rx_set_post_len(self->g, len);
	if (!ret && vhost_guest_rx_post(self->g, RING) != (int)RING)
		ret = -ENOSPC;
	return ret;
}

/* A guest whose buffers the NIC cannot take (half a page, what a Linux
 * guest posts for small frames) still gets every frame steered to the
 * bound queue: the NIC writes it into a spare host page of the binding
 * and vhost-net copies it, counted as a host frame; no guest page is
 * pinned and nothing dropped.  Once the guest posts page-sized buffers,
 * the spares make way and frames arrive in place again.
 */
TEST_F_TIMEOUT(bind, short_buffers, 240)
{
	static const size_t sizes[] = { 60, 1000, 1514, 3000, 4096, 9014 };
	__u64 bytes = 0, payload = 0, frames = 0;
	struct nsim_vhost_stats s0, s1, s2;
	struct nsim_rxq q0, q1;
	unsigned int i, r;
	__u32 seq = 1;

	ASSERT_EQ(0, guest_restart_len(self, 2048));
	ASSERT_EQ(0, bound_stats(self, &s0));
	ASSERT_EQ(0, nsim_rx_stats(&self->b, QB, &q0));
	for (r = 0; r < 4; r++) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++, seq++) {
			ASSERT_EQ(0, send_frame(self, seq, sizes[i]));
			ASSERT_EQ(0, recv_check(self, &self->vif, seq, sizes[i]));
			bytes += sizes[i];
			payload += sizes[i] - SPLIT_LEN;
			frames++;
		}
	}
	ASSERT_EQ(0, bound_stats(self, &s1));
	ASSERT_EQ(0, nsim_rx_stats(&self->b, QB, &q1));
	log_stats(_metadata, &s1);
	EXPECT_EQ(frames, VS(s1, HOST_FRAMES) - VS(s0, HOST_FRAMES));
	EXPECT_EQ(bytes, VS(s1, HOST_BYTES) - VS(s0, HOST_BYTES));
	EXPECT_EQ(0ULL, VS(s1, ZC_FRAMES));
	EXPECT_EQ(0ULL, VS(s1, COPY_FRAMES));
	EXPECT_EQ(0ULL, VS(s1, DROPS));
	EXPECT_EQ(0ULL, VS(s1, ARM_TOTAL));
	EXPECT_EQ(0ULL, VS(s1, PIN_TOTAL));
	EXPECT_LE(1ULL, VS(s1, ARM_REFUSED));
	EXPECT_EQ(RING / 2, VS(s1, HOST_PAGES));
	/* The NIC wrote the payload into the spares, dropped nothing */
	EXPECT_EQ(payload, q1.niov_bytes - q0.niov_bytes);
	EXPECT_EQ(0ULL, q1.hw_drops - q0.hw_drops);
	TH_LOG("%llu frames (%llu bytes) through the spares, %llu buffers refused",
	       frames, bytes, VS(s1, ARM_REFUSED));

	/* Page-sized buffers from now on: once the short ones still posted
	 * are used up, frames are received in place, and stay so.
	 */
	ASSERT_EQ(0, vhost_guest_rx_set_post_len(self->g, 0));
	for (i = 0; i < 400; i++, seq++) {
		ASSERT_EQ(0, bound_stats(self, &s1));
		if (VS(s1, BUFS_ARMED) == RING / 2)
			break;
		ASSERT_EQ(0, send_frame(self, seq, 9014));
		ASSERT_EQ(0, recv_check(self, &self->vif, seq, 9014));
	}
	ASSERT_EQ(RING / 2, VS(s1, BUFS_ARMED)) log_stats(_metadata, &s1);
	for (r = 0; r < 2; r++) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++, seq++) {
			ASSERT_EQ(0, send_frame(self, seq, sizes[i]));
			ASSERT_EQ(0, recv_check(self, &self->vif, seq, sizes[i]));
		}
	}
	ASSERT_EQ(0, bound_stats(self, &s2));
	EXPECT_EQ(2 * ARRAY_SIZE(sizes), VS(s2, ZC_FRAMES) - VS(s1, ZC_FRAMES));
	EXPECT_EQ(0ULL, VS(s2, HOST_FRAMES) - VS(s1, HOST_FRAMES));
	EXPECT_EQ(0ULL, VS(s2, DROPS));
}

/* The NIC goes down while spares are parked with the binding: its pool
 * is let go as soon as the RX worker runs again (here on the guest's
 * kick), not held until the guest goes; when the NIC comes back up the
 * binding serves its new pool.
 */
TEST_F_TIMEOUT(bind, nic_down_spares, 240)
{
	struct nsim_vhost_stats s0, s1;
	unsigned int i;

	ASSERT_EQ(0, guest_restart_len(self, 2048));
	for (i = 1; i <= 20; i++) {
		ASSERT_EQ(0, send_frame(self, i, 1000));
		ASSERT_EQ(0, recv_check(self, &self->vif, i, 1000));
	}
	/* The last frame's buffer is kept back, for a kick later */
	ASSERT_EQ(0, send_frame(self, i, 1000));
	ASSERT_EQ(0, vhost_guest_rx_wait(self->g, &frame, 3000));
	ASSERT_EQ(0, bound_stats(self, &s0));
	EXPECT_EQ(21ULL, VS(s0, HOST_FRAMES));

	ASSERT_EQ(0, nsim_run("ip link set %s down", self->b.ifname));
	ASSERT_LT(0, vhost_guest_rx_post(self->g, RING));
	expect_no_pools(_metadata);

	ASSERT_EQ(0, nsim_run("ip link set %s up", self->b.ifname));
	usleep(500 * 1000);
	ASSERT_EQ(0, send_frame(self, 100, 1000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 100, 1000));
	ASSERT_EQ(0, bound_stats(self, &s1));
	EXPECT_EQ(VS(s0, HOST_FRAMES) + 1, VS(s1, HOST_FRAMES));
}

/* A guest that posts nothing: the spares take the first frames, which
 * wait for buffers; once every spare is waiting, the NIC drops (counted)
 * and the host allocates nothing to make up.  When the guest posts, the
 * frames that waited arrive intact, and the next ones in place.
 */
TEST_F_TIMEOUT(bind, starved_guest, 240)
{
	const unsigned int n = RING / 2 + 64;
	struct nsim_vhost_stats s0, s1, s2;
	unsigned int i, got = 0;
	struct nsim_rxq q0, q1;
	__u32 seq;
	int ret;

	ASSERT_EQ(0, guest_restart(self, 0));
	ASSERT_EQ(0, bound_stats(self, &s0));
	ASSERT_EQ(0, nsim_rx_stats(&self->b, QB, &q0));
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, send_frame(self, i, 1000));
	usleep(500 * 1000);
	ASSERT_EQ(0, bound_stats(self, &s1));
	ASSERT_EQ(0, nsim_rx_stats(&self->b, QB, &q1));
	log_stats(_metadata, &s1);
	EXPECT_EQ(RING / 2, q1.packets - q0.packets);
	EXPECT_EQ(n - RING / 2, q1.hw_drops - q0.hw_drops);
	EXPECT_LE(n - RING / 2, VS(s1, ALLOC_EMPTY) - VS(s0, ALLOC_EMPTY));

	ASSERT_EQ((int)RING, vhost_guest_rx_post(self->g, RING));
	for (;;) {
		ret = recv_frame(self->g, &self->a, 1000);
		if (ret)
			break;
		memcpy(&seq, frame.data + ETH_HLEN, sizeof(seq));
		ASSERT_EQ(0, nsim_check_frame(frame.data, frame.len, 1000,
					      &self->a, &self->vif, NULL,
					      &seq));
		ASSERT_EQ(got, seq);
		got++;
	}
	EXPECT_EQ(-ETIMEDOUT, ret);
	EXPECT_EQ(RING / 2, got);
	ASSERT_EQ(0, bound_stats(self, &s2));
	EXPECT_EQ(RING / 2, VS(s2, HOST_FRAMES) - VS(s0, HOST_FRAMES));
	EXPECT_EQ(0ULL, VS(s2, DROPS));
	TH_LOG("%u frames sent: %u waited in spares and arrived, %llu dropped by the NIC",
	       n, got, q1.hw_drops - q0.hw_drops);

	ASSERT_EQ(0, wait_armed(self, RING / 2, &s1));
	ASSERT_EQ(0, send_frame(self, n, 3000));
	ASSERT_EQ(0, recv_check(self, &self->vif, n, 3000));
	ASSERT_EQ(0, bound_stats(self, &s2));
	EXPECT_EQ(1ULL, VS(s2, ZC_FRAMES) - VS(s1, ZC_FRAMES));
}

/* Times @tag appears anywhere in the guest's memory. */
static unsigned int guest_tags(const struct vhost_guest *g, const char *tag)
{
	const unsigned char *mem;
	size_t len;

	mem = vhost_guest_mem(g, &len);
	return vhost_guest_count_tag(mem, len, tag);
}

/* A frame from a to @to whose payload past the sequence number is @tag
 * over and over.
 */
static int send_tagged(struct _test_data_bind *self, const struct nsim_port *to,
		       __u32 seq, size_t len, const char *tag)
{
	static unsigned char buf[VHOST_GUEST_MAX_FRAME];
	const size_t off = ETH_HLEN + sizeof(seq);
	size_t i;

	len = nsim_build_frame(buf, len, seq, &self->a, to, NULL);
	for (i = off; i < len; i++)
		buf[i] = tag[(i - off) % 8];
	return send(self->tx_fd, buf, len, 0) == (ssize_t)len ? 0 : -errno;
}

/* Nothing the guest may see comes from the host's memory or from traffic
 * for anyone else.  Host pages are filled with a tag before the binding
 * is made; frames for other MACs (steered to other queues) carry another;
 * the guest's frames come in place, then through the spares, then the
 * binding is undone.  Neither tag is anywhere in guest memory afterwards,
 * while a tag sent to the guest itself is found.
 */
TEST_F_TIMEOUT(bind, no_leak, 240)
{
	static const char host_tag[8] = "HoStTaG!", foreign_tag[8] = "FoReIgN!";
	static const char own_tag[8] = "GuEsT0k!";
	static const char *const bad[] = { host_tag, foreign_tag, NULL };
	static const char *const own[] = { own_tag, NULL };
	static const struct nsim_port stranger = {
		.mac = { 0x02, 0x00, 0x00, 0x00, 0xee, 0x01 },
	};
	static const size_t sizes[] = { 60, 700, 1514, 4096, 9014 };
	unsigned int i, zeroed, others = 0, hits = 0, bufs = 0, found = 0;
	struct nsim_vhost_stats vs;
	__u32 seq = 1;
	size_t len;

	ASSERT_EQ(0, vhost_guest_host_prefill(host_tag, 512UL << 20));
	/* The spares and the guest's memory come from those pages, maybe */
	ASSERT_EQ(0, guest_restart(self, RING));
	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));

	/* In place, with tagged frames for others in between */
	for (i = 0; i < 4 * ARRAY_SIZE(sizes); i++, seq++) {
		len = sizes[i % ARRAY_SIZE(sizes)];
		ASSERT_EQ(0, send_tagged(self, &stranger, seq, len, foreign_tag));
		ASSERT_EQ(0, send_tagged(self, &self->b, seq, len, foreign_tag));
		others += 2;
		ASSERT_EQ(0, send_frame(self, seq, len));
		ASSERT_EQ(0, recv_check_tags(self, &self->vif, seq, len, bad, &hits, &bufs));
	}
	/* Then short buffers, so frames come through the spares */
	ASSERT_EQ(0, vhost_guest_rx_set_post_len(self->g, 2048));
	for (i = 0; i < 2 * RING; i++, seq++) {
		ASSERT_EQ(0, send_tagged(self, &stranger, seq, 1000, foreign_tag));
		others++;
		ASSERT_EQ(0, send_frame(self, seq, 1000));
		ASSERT_EQ(0, recv_check_tags(self, &self->vif, seq, 1000, bad, &hits,
					     &bufs));
	}
	/* The scan finds a tag that was sent to the guest */
	ASSERT_EQ(0, send_tagged(self, &self->vif, seq, 3000, own_tag));
	ASSERT_EQ(0, recv_frame_tags(self->g, &self->a, 3000, own, &found,
				     &bufs));
	EXPECT_LT(0U, found);
	ASSERT_EQ(0, bound_stats(self, &vs));
	log_stats(_metadata, &vs);
	EXPECT_LT(0ULL, VS(vs, ZC_FRAMES));
	EXPECT_LT(0ULL, VS(vs, HOST_FRAMES));

	/* Unbound: what the NIC held comes back zeroed */
	ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, -1));
	EXPECT_EQ(vhost_guest_rx_reclaim(self->g, &zeroed), (int)zeroed);

	EXPECT_EQ(0U, hits);
	EXPECT_EQ(0U, guest_tags(self->g, host_tag));
	EXPECT_EQ(0U, guest_tags(self->g, foreign_tag));
	TH_LOG("%u frames for others, %u for the guest (%llu in place, %llu through spares)",
	       others, seq, VS(vs, ZC_FRAMES), VS(vs, HOST_FRAMES));
	TH_LOG("%u received buffers scanned whole: %u foreign tags; %u given back zeroed",
	       bufs, hits, zeroed);
}

/* A lease made after the guest attached its backend (queue-create while
 * the guest runs) is bound at once, without a frame to notice it by;
 * until then the backend's frames take the ordinary path.
 */
TEST_F_TIMEOUT(bind, late_lease, 240)
{
	struct nsim_vhost_stats vs;
	int i, queue, ret;
	char msg[256];

	/* A new backend, with no lease, and a guest on it */
	vhost_guest_close(self->g);
	self->g = NULL;
	backend_destroy(self);
	ASSERT_EQ(0, backend_create(self, variant->tap));
	ASSERT_EQ(0, guest_start(&self->g, self->tap_fd, RING));
	ASSERT_EQ(0, send_frame(self, 1, 3000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 1, 3000));
	EXPECT_EQ(-ENOENT, bound_stats(self, &vs));

	queue = nsim_queue_lease(self->vif.ifindex, self->b.ifindex, QB, msg,
				 sizeof(msg));
	ASSERT_LT(0, queue) TH_LOG("queue-create: %s %s", strerror(-queue), msg);
	for (i = 0; i < 100; i++) {
		ret = bound_stats(self, &vs);
		if (!ret && VS(vs, BUFS_ARMED) == RING / 2)
			break;
		usleep(20 * 1000);
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ(RING / 2, VS(vs, BUFS_ARMED));
	TH_LOG("bound %d ms after queue-create", i * 20);
	ASSERT_EQ(0, send_frame(self, 2, 3000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 2, 3000));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(1ULL, VS(vs, ZC_FRAMES));
}

static bool log_dirty(const unsigned char *bitmap, __u64 gpa)
{
	__u64 bit = gpa / 4096;

	return bitmap[bit / 8] & (1 << (bit % 8));
}

/* With dirty logging on (live migration), every guest page the NIC wrote
 * through the binding is logged, as those the host CPU wrote are.
 */
TEST_F_TIMEOUT(bind, dirty_log, 240)
{
	static unsigned char bitmap[VHOST_GUEST_LOG_SIZE];
	struct nsim_vhost_stats vs;
	unsigned int i, dirty = 0;
	__u64 gpa;

	ASSERT_EQ(0, vhost_guest_log_start(self->g, bitmap));
	/* Logging does not unbind */
	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));
	ASSERT_EQ(0, send_frame(self, 5, 9014));
	ASSERT_EQ(0, recv_check(self, &self->vif, 5, 9014));
	ASSERT_EQ(0, bound_stats(self, &vs));
	ASSERT_EQ(1ULL, VS(vs, ZC_FRAMES));
	/* the header buffer, then three payload buffers written by the NIC */
	ASSERT_EQ(4U, frame.nbufs);
	for (i = 0; i < frame.nbufs; i++) {
		gpa = vhost_guest_rx_buf_gpa(self->g, frame.ids[i]);
		EXPECT_TRUE(log_dirty(bitmap, gpa))
			TH_LOG("buffer %u (gpa 0x%llx) not logged", frame.ids[i],
			       gpa);
		dirty += log_dirty(bitmap, gpa);
	}
	TH_LOG("%u of %u buffers of a 9014-byte frame logged dirty", dirty,
	       frame.nbufs);
}

/* Posts @n bad buffers (ids from @id on, or @id again and again when
 * @same) at @gpa, or at their own buffer when 0: with 2 of 4 buffers
 * armed, the binding reaches the first bad one once it has armed the
 * other 2 (it takes no more than stay posted).
 */
static int post_bad(struct vhost_guest *g, unsigned int n, __u16 id,
		    bool same, __u64 gpa, __u32 len, bool chain)
{
	__u16 flags = VRING_DESC_F_WRITE | (chain ? VRING_DESC_F_NEXT : 0);
	unsigned int i;
	__u16 d;
	int ret;

	for (i = 0; i < n; i++) {
		d = same ? id : id + i * (chain ? 2 : 1);
		ret = vhost_guest_rx_set_desc(g, d, gpa ?: vhost_guest_rx_buf_gpa(g, d),
					      len, flags, d + 1);
		if (!ret && chain)
			ret = vhost_guest_rx_set_desc(g, d + 1,
						      vhost_guest_rx_buf_gpa(g, d + 1),
						      len, VRING_DESC_F_WRITE, 0);
		if (!ret)
			ret = vhost_guest_rx_post_raw(g, d);
		if (ret)
			return ret;
	}
	usleep(200 * 1000);
	return 0;
}

/* Posted buffers the NIC cannot take, or that are not the guest's to
 * give: a vq error or a refusal, counted, and the binding goes on with
 * what it holds.  Each case starts from a fresh guest that posted 4
 * buffers.
 */
TEST_F_TIMEOUT(bind, hostile_descs, 240)
{
	struct nsim_vhost_stats vs;
	unsigned int i;
	__u64 refused;
	__u16 d;

	/* Outside the memory table: a vq error */
	ASSERT_EQ(0, guest_restart(self, 4));
	ASSERT_EQ(0, wait_armed(self, 2, &vs));
	ASSERT_EQ(0, post_bad(self->g, 6, 10, false, 0x1000, BUF_LEN, false));
	EXPECT_LE(1ULL, vhost_guest_vq_errors(self->g));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(4ULL, VS(vs, BUFS_ARMED));

	/* A buffer the NIC holds, posted again: a vq error, not armed */
	ASSERT_EQ(0, guest_restart(self, 4));
	ASSERT_EQ(0, wait_armed(self, 2, &vs));
	refused = VS(vs, ARM_REFUSED);
	ASSERT_EQ(0, post_bad(self->g, 8, 0, true,
			      vhost_guest_rx_buf_gpa(self->g, 0), BUF_LEN,
			      false));
	EXPECT_LE(1ULL, vhost_guest_vq_errors(self->g));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(4ULL, VS(vs, BUFS_ARMED));
	EXPECT_EQ(refused + 1, VS(vs, ARM_REFUSED));

	/* Of length 0: refused once, however often looked at; no vq error */
	ASSERT_EQ(0, guest_restart(self, 4));
	ASSERT_EQ(0, wait_armed(self, 2, &vs));
	refused = VS(vs, ARM_REFUSED);
	ASSERT_EQ(0, post_bad(self->g, 6, 20, false, 0, 0, false));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(refused + 1, VS(vs, ARM_REFUSED));
	EXPECT_EQ(0ULL, vhost_guest_vq_errors(self->g));
	EXPECT_EQ(4ULL, VS(vs, BUFS_ARMED));

	/* Chained: refused, left to the ordinary path, which takes it for
	 * the head of the next frame; the frame arrives in place.
	 */
	ASSERT_EQ(0, guest_restart(self, 4));
	ASSERT_EQ(0, wait_armed(self, 2, &vs));
	refused = VS(vs, ARM_REFUSED);
	ASSERT_EQ(0, post_bad(self->g, 6, 20, false, 0, BUF_LEN, true));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(refused + 1, VS(vs, ARM_REFUSED));
	EXPECT_EQ(0ULL, vhost_guest_vq_errors(self->g));
	EXPECT_EQ(4ULL, VS(vs, BUFS_ARMED));
	ASSERT_EQ(0, send_frame(self, 9, 1000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 9, 1000));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(1ULL, VS(vs, ZC_FRAMES));
	EXPECT_EQ(20, frame.ids[0]);

	/* Ten buffers in one page: the first is armed, the second overlaps
	 * it and is refused (left to the ordinary path); no vq error.
	 */
	ASSERT_EQ(0, guest_restart(self, 4));
	ASSERT_EQ(0, wait_armed(self, 2, &vs));
	refused = VS(vs, ARM_REFUSED);
	ASSERT_EQ(0, post_bad(self->g, 10, 20, false,
			      vhost_guest_rx_buf_gpa(self->g, 20), BUF_LEN,
			      false));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(refused + 1, VS(vs, ARM_REFUSED));
	EXPECT_EQ(5ULL, VS(vs, BUFS_ARMED));
	EXPECT_EQ(0ULL, vhost_guest_vq_errors(self->g));

	/* Chains that loop: a vq error, nothing armed past them */
	ASSERT_EQ(0, guest_restart(self, 4));
	ASSERT_EQ(0, wait_armed(self, 2, &vs));
	for (i = 0; i < 8; i++) {
		d = 30 + 2 * i;
		ASSERT_EQ(0, vhost_guest_rx_set_desc(self->g, d,
						     vhost_guest_rx_buf_gpa(self->g, d),
						     BUF_LEN, VRING_DESC_F_WRITE |
						     VRING_DESC_F_NEXT, d + 1));
		ASSERT_EQ(0, vhost_guest_rx_set_desc(self->g, d + 1,
						     vhost_guest_rx_buf_gpa(self->g, d + 1),
						     BUF_LEN, VRING_DESC_F_WRITE |
						     VRING_DESC_F_NEXT, d));
		ASSERT_EQ(0, vhost_guest_rx_post_raw(self->g, d));
	}
	usleep(200 * 1000);
	EXPECT_LE(1ULL, vhost_guest_vq_errors(self->g));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(4ULL, VS(vs, BUFS_ARMED));
}

/* Writes @val to @file of the debugfs directory of a fault @attr. */
static int fault_write(const char *attr, const char *file, const char *val)
{
	ssize_t len = strlen(val);
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", attr, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		ret = -EIO;
	close(fd);
	return ret;
}

/*
 * Fault injection (fail_function): make @func fail with @err the next
 * @times calls (-1: every call); @func NULL stops it.  -EOPNOTSUPP
 * if the kernel has no fail_function (CONFIG_FAIL_FUNCTION).
 */
#define FAIL_FN		"/sys/kernel/debug/fail_function"

static int fail_fn_write(const char *file, const char *val)
{
	return fault_write("fail_function", file, val);
}

static int fail_fn(const char *func, int err, int times)
{
	char retval[96], v[32];
	int ret;

	if (access(FAIL_FN "/inject", W_OK))
		return -EOPNOTSUPP;
	/* A line with no name empties the list */
	if (!func)
		return fail_fn_write("inject", "\n");
	ret = fail_fn_write("inject", func);
	snprintf(retval, sizeof(retval), "%s/retval", func);
	snprintf(v, sizeof(v), "%#llx", (unsigned long long)(long long)err);
	ret = ret ?: fail_fn_write(retval, v);
	ret = ret ?: fail_fn_write("probability", "100");
	ret = ret ?: fail_fn_write("interval", "0");
	ret = ret ?: fail_fn_write("verbose", "0");
	snprintf(v, sizeof(v), "%d", times);
	return ret ?: fail_fn_write("times", v);
}

/* arm-errors once it stays put for 100 ms (within 2 s). */
static int arm_errors_settled(struct _test_data_bind *self, __u64 *errs)
{
	struct nsim_vhost_stats vs;
	__u64 last = ~0ULL;
	int i, ret;

	for (i = 0; i < 20; i++) {
		ret = bound_stats(self, &vs);
		if (ret)
			return ret;
		if (VS(vs, ARM_ERRORS) == last)
			break;
		last = VS(vs, ARM_ERRORS);
		usleep(100 * 1000);
	}
	*errs = last;
	return 0;
}

/* This process's pinned memory (VmPin), in pages; -1 if unknown. */
static long vm_pin_pages(void)
{
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / 4;
}

/* Lose CAP_IPC_LOCK (from the effective set only), which lifts the limit. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/* The guest's pinned pages count in the VMM's pinned memory (VmPin)
 * and against its RLIMIT_MEMLOCK: with a limit of 16 pages (and no
 * CAP_IPC_LOCK), the binding pins 16, counts the buffers it could not
 * arm, and every frame still arrives intact, those that find no armed
 * buffer through the spares; the pins are given back with the binding.
 */
#define MEMLOCK_PAGES	16

TEST_F_TIMEOUT(bind, memlock, 240)
{
	struct rlimit rl = {
		.rlim_cur = MEMLOCK_PAGES * 4096, .rlim_max = MEMLOCK_PAGES * 4096,
	};
	struct nsim_vhost_stats s0, s1;
	unsigned int i, in_place;
	long pin = -1;
	__u64 inflight;
	int ret;

	/* Unlimited, the fixture's guest pinned what it armed */
	ASSERT_EQ(0, wait_armed(self, RING / 2, &s0));
	EXPECT_EQ((long)VS(s0, PINNED_PAGES), vm_pin_pages());
	vhost_guest_close(self->g);
	self->g = NULL;
	ASSERT_EQ(0, nsim_vhost_pools_settle(0, 5000, &inflight));
	EXPECT_EQ(0, vm_pin_pages());

	ASSERT_EQ(0, drop_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ret = guest_start(&self->g, self->tap_fd, RING);
	ASSERT_EQ(0, ret) TH_LOG("guest: %s", strerror(-ret));
	ASSERT_EQ(0, wait_armed(self, MEMLOCK_PAGES, &s0)) log_stats(_metadata, &s0);
	EXPECT_EQ((__u64)MEMLOCK_PAGES, VS(s0, PINNED_PAGES));
	EXPECT_LT(0ULL, VS(s0, ARM_ERRORS));
	EXPECT_EQ(MEMLOCK_PAGES, vm_pin_pages());

	for (i = 0; i < 4 * MEMLOCK_PAGES; i++) {
		ASSERT_EQ(0, send_frame(self, i, traffic_len(i)));
		ret = recv_check(self, &self->vif, i, traffic_len(i));
		ASSERT_EQ(0, ret) TH_LOG("frame %u: %s", i, strerror(-ret));
		pin = vm_pin_pages();
		ASSERT_GE(MEMLOCK_PAGES, pin);
	}
	ASSERT_EQ(0, bound_stats(self, &s1));
	in_place = VS(s1, ZC_FRAMES) - VS(s0, ZC_FRAMES);
	EXPECT_EQ((__u64)4 * MEMLOCK_PAGES,
		  in_place + VS(s1, HOST_FRAMES) - VS(s0, HOST_FRAMES))
		log_stats(_metadata, &s1);
	EXPECT_LT(0U, in_place);
	EXPECT_GE((__u64)MEMLOCK_PAGES, VS(s1, PINNED_PAGES));
	EXPECT_EQ(0ULL, VS(s1, DROPS));
	TH_LOG("%u frames, %u in place; %llu buffers not armed for the limit",
	       4 * MEMLOCK_PAGES, in_place, VS(s1, ARM_ERRORS));

	vhost_guest_close(self->g);
	self->g = NULL;
	ASSERT_EQ(0, nsim_vhost_pools_settle(0, 5000, &inflight));
	EXPECT_EQ(0, vm_pin_pages());
}

/* Pinning or mapping a guest page fails for a new guest: nothing is
 * armed, every frame comes through the spares, the failures are counted
 * (arm-errors), and arming goes on when the fault stops.
 */
TEST_F_TIMEOUT(bind, faults_pin_map, 240)
{
	static const char *const funcs[] = {
		"vhost_net_bind_pin", "vhost_net_bind_map",
	};
	struct nsim_vhost_stats vs;
	unsigned int i, f;
	__u64 zc, errs;
	int ret;

	for (f = 0; f < ARRAY_SIZE(funcs); f++) {
		ret = fail_fn(funcs[f], -ENOMEM, -1);
		if (ret == -EOPNOTSUPP)
			SKIP(return, "no fail_function (CONFIG_FAIL_FUNCTION)");
		ASSERT_EQ(0, ret);
		/* A new guest: none of its pages is pinned yet */
		ASSERT_EQ(0, guest_restart(self, RING));
		for (i = 0; i < 10; i++) {
			ASSERT_EQ(0, send_frame(self, i, 1000));
			ASSERT_EQ(0, recv_check(self, &self->vif, i, 1000));
		}
		ASSERT_EQ(0, bound_stats(self, &vs));
		ASSERT_EQ(0, fail_fn(NULL, 0, 0));
		log_stats(_metadata, &vs);
		EXPECT_LE(1ULL, VS(vs, ARM_ERRORS)) TH_LOG("%s", funcs[f]);
		EXPECT_EQ(0ULL, VS(vs, BUFS_ARMED));
		EXPECT_EQ(10ULL, VS(vs, HOST_FRAMES));
		EXPECT_EQ(0ULL, VS(vs, ZC_FRAMES));
		EXPECT_EQ(0ULL, VS(vs, DROPS));
		/* A worker run that met the fault before it stopped may
		 * count it only now
		 */
		ASSERT_EQ(0, arm_errors_settled(self, &errs));
		/* Recovered: at the next run of the worker the binding takes
		 * its share, and receives in place
		 */
		ASSERT_EQ(0, send_frame(self, 99, 1000));
		ASSERT_EQ(0, recv_check(self, &self->vif, 99, 1000));
		ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));
		zc = VS(vs, ZC_FRAMES);
		for (i = 0; i < 5; i++) {
			ASSERT_EQ(0, send_frame(self, 100 + i, 3000));
			ASSERT_EQ(0, recv_check(self, &self->vif, 100 + i, 3000));
		}
		ASSERT_EQ(0, bound_stats(self, &vs));
		EXPECT_EQ(zc + 5, VS(vs, ZC_FRAMES)) TH_LOG("%s", funcs[f]);
		EXPECT_EQ(errs, VS(vs, ARM_ERRORS));
	}
}

/* Binding fails once, for want of a spare page or because the NIC cannot
 * restart the queue with the provider: the reason is in the kernel log,
 * nothing is half bound, frames take the ordinary path, and the next
 * attach binds.
 */
TEST_F_TIMEOUT(bind, faults_bind, 240)
{
	static const char *const funcs[] = {
		"vhost_net_bind_spare_new", "nsim_queue_mem_alloc",
	};
	struct nsim_vhost_stats vs;
	int ret, kmsg;
	unsigned int f;

	for (f = 0; f < ARRAY_SIZE(funcs); f++) {
		/* Unbound first: only the attach may meet the fault (a
		 * restart that fails at unbind makes the core warn)
		 */
		ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, -1));
		ret = fail_fn(funcs[f], -ENOMEM, 1);
		if (ret == -EOPNOTSUPP)
			SKIP(return, "no fail_function (CONFIG_FAIL_FUNCTION)");
		ASSERT_EQ(0, ret);
		kmsg = nsim_kmsg_open();
		ASSERT_LE(0, kmsg);
		ret = vhost_guest_set_backend_fd(self->g, self->tap_fd);
		ASSERT_EQ(0, fail_fn(NULL, 0, 0));
		ASSERT_EQ(0, ret);
		EXPECT_EQ(-ENOENT, bound_stats(self, &vs)) TH_LOG("%s", funcs[f]);
		EXPECT_TRUE(kmsg_refused(kmsg, self, NULL, -ENOMEM))
			TH_LOG("%s: no refusal in the kernel log", funcs[f]);
		close(kmsg);
		/* The pool of the binding before, once its buffers are back */
		expect_no_pools(_metadata);
		ASSERT_EQ(0, send_frame(self, f, 2000));
		ASSERT_EQ(0, recv_check(self, &self->vif, f, 2000));

		/* The fault is over: detach and attach binds */
		ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, -1));
		ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, self->tap_fd));
		ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));
		ASSERT_EQ(0, send_frame(self, 10 + f, 3000));
		ASSERT_EQ(0, recv_check(self, &self->vif, 10 + f, 3000));
		ASSERT_EQ(0, bound_stats(self, &vs));
		EXPECT_EQ(1ULL, VS(vs, ZC_FRAMES)) TH_LOG("%s", funcs[f]);
	}
}

/* Marks around a warning a test makes the kernel give on purpose: the
 * end-of-run check of the kernel log (scripts/tap-summary.awk) lets a
 * "WARNING: ... __netif_mp_close_rxq" through between them, and nothing
 * else.
 */
#define KMSG_EXPECT	"vhost_net selftest: expected: WARNING in __netif_mp_close_rxq"
#define KMSG_EXPECT_END	"vhost_net selftest: expected warning over"

/* A queue restart that fails at unbind (the NIC cannot get memory for
 * the queue without the provider; the core warns): the queue still runs
 * the binding's pool.  Only the armed buffers the NIC had not taken come
 * back to the guest, zeroed, and the kernel log says how many the NIC
 * keeps; the NIC's later writes go to a spare page, so no buffer the
 * guest owns is written while 200 more frames arrive.  Once the queue
 * restarts, the pool goes, and the next attach binds and receives in
 * place.
 */
TEST_F_TIMEOUT(bind, faults_unbind, 240)
{
	struct nsim_vhost_stats vs;
	unsigned int i, got, zeroed, kept = 0, owned = 0;
	const unsigned char *buf;
	char line[1024];
	bool seen = false;
	__u64 inflight;
	size_t len, k;
	int ret, kmsg;

	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, send_frame(self, i, 3000));
		ASSERT_EQ(0, recv_check(self, &self->vif, i, 3000));
	}
	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));

	kmsg = nsim_kmsg_open();
	ASSERT_LE(0, kmsg);
	ret = fail_fn("nsim_queue_mem_alloc", -ENOMEM, 1);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "no fail_function (CONFIG_FAIL_FUNCTION)");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, nsim_run("echo '" KMSG_EXPECT "' > /dev/kmsg"));
	ret = vhost_guest_set_backend_fd(self->g, -1);
	nsim_run("echo '" KMSG_EXPECT_END "' > /dev/kmsg");
	ASSERT_EQ(0, fail_fn(NULL, 0, 0));
	ASSERT_EQ(0, ret);
	while (nsim_kmsg_next(kmsg, line, sizeof(line))) {
		const char *m = strstr(line, "the NIC keeps ");

		if (strstr(line, "did not restart without the guest's buffers") &&
		    m && sscanf(m, "the NIC keeps %u", &kept) == 1)
			seen = true;
	}
	close(kmsg);
	EXPECT_TRUE(seen) TH_LOG("no word of the failed restart in the kernel log");

	ret = vhost_guest_rx_reclaim(self->g, &zeroed);
	ASSERT_LE(0, ret);
	got = ret;
	EXPECT_EQ(got, zeroed);
	/* The NIC had taken some, and the others came back */
	EXPECT_LT(0U, kept);
	EXPECT_EQ(RING / 2, got + kept);
	EXPECT_EQ(-ENOENT, bound_stats(self, &vs));

	/* Every buffer the guest owns now, marked */
	for (i = 0; i < RING; i++) {
		if (vhost_guest_rx_posted(self->g, i))
			continue;
		buf = vhost_guest_rx_buf(self->g, i, &len);
		memset((unsigned char *)buf, 0x5a, len);
		owned++;
	}
	for (i = 0; i < 200; i++)
		ASSERT_EQ(0, send_frame(self, 100 + i, 1500));
	usleep(500 * 1000);
	for (i = 0; i < RING; i++) {
		if (vhost_guest_rx_posted(self->g, i))
			continue;
		buf = vhost_guest_rx_buf(self->g, i, &len);
		for (k = 0; k < len && buf[k] == 0x5a; k++)
			;
		ASSERT_EQ(len, k) TH_LOG("buffer %u written at %zu after the unbind",
					 i, k);
	}
	TH_LOG("%u buffers back (all zero), %u kept by the NIC;", got, kept);
	TH_LOG("%u buffers the guest owns, untouched by 200 frames", owned);

	/* The queue restarts: the binding's pool goes */
	ASSERT_EQ(0, nsim_debugfs_write(&self->b, "queue_reset", "%d %u", QB, 0));
	ASSERT_EQ(0, nsim_vhost_pools_settle(0, 5000, &inflight))
		TH_LOG("%llu buffers in flight", inflight);
	ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, self->tap_fd));
	ret = vhost_guest_rx_post(self->g, RING);
	ASSERT_LE(0, ret);
	for (i = 0; i < 100; i++) {
		if (!bound_stats(self, &vs) && VS(vs, BUFS_ARMED))
			break;
		usleep(20 * 1000);
	}
	ASSERT_LT(0ULL, VS(vs, BUFS_ARMED));
	ASSERT_EQ(0, send_frame(self, 1000, 3000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 1000, 3000));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(1ULL, VS(vs, ZC_FRAMES));
}

/* The NIC's ring runs empty (netdevsim fails five buffer takes): five
 * frames are dropped and counted by the NIC, the next one is received in
 * place.
 */
TEST_F_TIMEOUT(bind, faults_ring_empty, 240)
{
	struct nsim_vhost_stats vs;
	struct nsim_rxq q0, q1;
	unsigned int i;
	__u64 zc;

	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));
	zc = VS(vs, ZC_FRAMES);
	ASSERT_EQ(0, nsim_rx_stats(&self->b, QB, &q0));
	ASSERT_EQ(0, nsim_debugfs_write(&self->b, "rx_fail_alloc", "5"));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, send_frame(self, i, 1500));
	ASSERT_EQ(0, send_frame(self, 5, 1500));
	ASSERT_EQ(0, recv_check(self, &self->vif, 5, 1500));
	EXPECT_EQ(-ETIMEDOUT, recv_frame(self->g, &self->a, 300));
	ASSERT_EQ(0, nsim_rx_stats(&self->b, QB, &q1));
	EXPECT_EQ(5ULL, q1.alloc_fail - q0.alloc_fail);
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(zc + 1, VS(vs, ZC_FRAMES));
}

/*
 * Systematic allocation failures (fail-nth): the Nth allocation this
 * thread makes from now on fails, and no other.  failslab and
 * fail_page_alloc are set to count GFP_KERNEL and order-0 allocations too.
 */
#define FAIL_NTH	"/proc/thread-self/fail-nth"

/* Arms the count on @fd, this thread's fail-nth (open before: opening
 * it allocates).
 */
static int fail_nth_set(int fd, unsigned int n)
{
	char v[16];
	int len;

	len = snprintf(v, sizeof(v), "%u", n);
	return pwrite(fd, v, len, 0) == len ? 0 : -errno;
}

/* What is left of the count: 0 once the failure was injected. */
static int fail_nth_left(int fd)
{
	char v[16] = "";
	ssize_t n;

	n = pread(fd, v, sizeof(v) - 1, 0);
	return n > 0 ? atoi(v) : -EIO;
}

static int alloc_faults_set(bool on)
{
	const char *gfp = on ? "N" : "Y";

	return fault_write("failslab", "ignore-gfp-wait", gfp) ?:
	       fault_write("fail_page_alloc", "ignore-gfp-wait", gfp) ?:
	       fault_write("fail_page_alloc", "ignore-gfp-highmem", gfp) ?:
	       fault_write("fail_page_alloc", "min-order", on ? "0" : "1");
}

/* The function that made the allocation the kernel log says was failed
 * last: the first of ours, the driver's or the core's in its stack dump.
 */
#define MAX_SITES	48
struct alloc_sites {
	unsigned int n;
	char name[MAX_SITES][48];
};

static void alloc_site(int kmsg, struct alloc_sites *s)
{
	static const char *const ours[] = {
		"vhost", "nsim", "page_pool", "netdev", "netif", "__netif",
		"net_mp", "tun_", "tap_", "macv", NULL,
	};
	const char *const *o;
	char rec[8192], *p, *end;
	bool in_dump = false;
	unsigned int i;

	while (nsim_kmsg_next(kmsg, rec, sizeof(rec))) {
		if (strstr(rec, "FAULT_INJECTION: forcing a failure")) {
			in_dump = true;
			continue;
		}
		p = strchr(rec, ';');
		if (!in_dump || !p)
			continue;
		p += strspn(p + 1, " ?") + 1;
		end = strchr(p, '+');
		if (!end)
			continue;
		*end = 0;
		for (o = ours; *o && strncmp(p, *o, strlen(*o)); o++)
			;
		if (!*o)
			continue;
		in_dump = false;
		for (i = 0; i < s->n && strcmp(s->name[i], p); i++)
			;
		if (i == s->n && s->n < MAX_SITES)
			snprintf(s->name[s->n++], sizeof(s->name[0]), "%s", p);
	}
}

/*
 * Every allocation an attach makes, failed in turn, until three attaches
 * in a row make no Nth.  Each attach then fails with ENOMEM, or attaches
 * with no binding and the refusal in the kernel log, or binds (an
 * allocation with a fallback); frames arrive in every case, detaching
 * leaves no binding pool, an attach past the sweep binds, and the kernel
 * warns of nothing.
 * (Only the attach: a queue restart that fails at detach makes the core
 * warn.)
 */
TEST_F_TIMEOUT(bind, faults_alloc, 900)
{
	unsigned int n, rounds = 0, failed = 0, refused = 0, bound = 0, i;
	unsigned int shorts = 0, last = 0;
	struct alloc_sites sites = {};
	struct nsim_vhost_stats vs;
	int ret, left, kmsg, dump, nth, bad;
	char list[MAX_SITES * 48];
	size_t off = 0;

	if (access("/sys/kernel/debug/failslab", F_OK) ||
	    access("/sys/kernel/debug/fail_page_alloc", F_OK) ||
	    access(FAIL_NTH, W_OK))
		SKIP(return,
		     "no failslab or fail_page_alloc (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC)");
	ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, -1));
	expect_no_pools(_metadata);
	nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nth);
	ASSERT_EQ(0, alloc_faults_set(true));

	bad = nsim_kmsg_open();
	ASSERT_LE(0, bad);
	for (n = 1; n < 4096 && shorts < 3; n++) {
		kmsg = nsim_kmsg_open();
		dump = nsim_kmsg_open();
		ASSERT_LE(0, kmsg);
		ASSERT_LE(0, dump);
		ASSERT_EQ(0, fail_nth_set(nth, n));
		ret = vhost_guest_set_backend_fd(self->g, self->tap_fd);
		left = fail_nth_left(nth);
		ASSERT_EQ(0, fail_nth_set(nth, 0));
		ASSERT_LE(0, left);
		if (left) {
			/* Fewer than n allocations.  Three times in a row
			 * ends the sweep: a debug kernel's own bookkeeping
			 * (kmemleak, KASAN, debug objects) allocates more
			 * in one attach than in another.
			 */
			shorts++;
			close(kmsg);
			close(dump);
			/* An attach no fault met binds */
			ASSERT_EQ(0, ret);
			EXPECT_EQ(0, bound_stats(self, &vs));
			ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, -1));
			expect_no_pools(_metadata);
			continue;
		}
		shorts = 0;
		rounds++;
		last = n;
		alloc_site(dump, &sites);
		close(dump);
		if (ret) {
			EXPECT_EQ(-ENOMEM, ret) TH_LOG("allocation %u", n);
			failed++;
			ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, -1));
			ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g,
								self->tap_fd));
		} else if (bound_stats(self, &vs) == -ENOENT) {
			EXPECT_TRUE(kmsg_refused(kmsg, self, NULL, -ENOMEM))
				TH_LOG("allocation %u: no binding, no refusal logged",
				       n);
			refused++;
		} else {
			bound++;
		}
		close(kmsg);
		ASSERT_EQ(0, send_frame(self, n, 1000));
		ASSERT_EQ(0, recv_check(self, &self->vif, n, 1000))
			TH_LOG("allocation %u", n);
		ASSERT_EQ(0, vhost_guest_set_backend_fd(self->g, -1));
		expect_no_pools(_metadata);
	}
	ASSERT_EQ(3U, shorts) TH_LOG("no end to the attach's allocations");
	ASSERT_EQ(0, alloc_faults_set(false));
	close(nth);
	for (i = 0; i < sites.n && off < sizeof(list); i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%s",
				i ? " " : "", sites.name[i]);
	TH_LOG("%u allocations of the attach failed in turn, the last one number %u",
	       rounds, last);
	TH_LOG("then: the attach failed %u times, attached unbound %u, bound %u",
	       failed, refused, bound);
	TH_LOG("where (those the kernel log showed): %s", sites.n ? list : "-");
	EXPECT_LT(0U, rounds);
	EXPECT_LT(0U, refused);
	EXPECT_FALSE(nsim_kmsg_bad(bad, list, sizeof(list)))
		TH_LOG("kernel: %s", list);
	close(bad);

	/* A new guest, all of its ring posted, receives in place */
	ASSERT_EQ(0, guest_restart(self, RING));
	ASSERT_EQ(0, wait_armed(self, RING / 2, &vs));
	ASSERT_EQ(0, send_frame(self, 5000, 3000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 5000, 3000));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_EQ(1ULL, VS(vs, ZC_FRAMES));
}

/* A new memory table with frames flowing: vhost-net unbinds (buffers
 * come back with length 0) and binds again; every frame that arrives is
 * intact, and zero copy resumes.
 */
TEST_F_TIMEOUT(bind, mem_table_under_traffic, 240)
{
	struct nsim_vhost_stats vs;
	unsigned int round, n, frames = 0;
	struct vhost_guest_stats gs;
	__u64 armed, zero_len;
	struct traffic t;
	__u32 seq;
	int ret;

	ASSERT_EQ(0, traffic_start(&t, self));
	for (round = 0; round < 5; round++) {
		for (n = 0; n < 20; n++, frames++) {
			ret = recv_frame(self->g, &self->a, 3000);
			if (ret)
				break;
			memcpy(&seq, frame.data + ETH_HLEN, sizeof(seq));
			ret = nsim_check_frame(frame.data, frame.len,
					       traffic_len(seq), &self->a,
					       &self->vif, NULL, &seq);
			if (ret)
				break;
		}
		if (ret)
			break;
		ret = vhost_guest_set_mem_table(self->g);
		if (ret)
			break;
	}
	TH_LOG("%lu frames sent, %u received intact", traffic_stop(&t), frames);
	ASSERT_EQ(0, ret) TH_LOG("round %u, frame %u: %s", round, n,
				 strerror(-ret));
	/* What the thread sent last may still be on its way */
	do
		ret = recv_frame(self->g, &self->a, 500);
	while (!ret);
	/* Under a flood the NIC may have filled every armed buffer by the
	 * time the table changes, so the rounds above need not give any
	 * back unused.  With the traffic stopped, the armed buffers are
	 * empty: one more new table gives each back with length 0.
	 */
	ASSERT_EQ(0, bound_stats(self, &vs));
	armed = VS(vs, BUFS_ARMED);
	EXPECT_LT(0ULL, armed);
	vhost_guest_get_stats(self->g, &gs);
	zero_len = gs.rx_zero_len;
	ASSERT_EQ(0, vhost_guest_set_mem_table(self->g));
	EXPECT_EQ(-ETIMEDOUT, recv_frame(self->g, &self->a, 500));
	vhost_guest_get_stats(self->g, &gs);
	EXPECT_LE(armed, gs.rx_zero_len - zero_len)
		TH_LOG("%llu armed, %llu given back unused", armed,
		       gs.rx_zero_len - zero_len);
	EXPECT_EQ(0ULL, vhost_guest_vq_errors(self->g));
	ASSERT_EQ(0, send_frame(self, 3, 2000));
	ASSERT_EQ(0, recv_check(self, &self->vif, 3, 2000));
	ASSERT_EQ(0, bound_stats(self, &vs));
	EXPECT_LT(0ULL, VS(vs, ZC_FRAMES));
}

/* Closing the vhost device with frames flowing leaves no pool behind. */
TEST_F_TIMEOUT(bind, teardown_close, 240)
{
	struct traffic t;

	ASSERT_EQ(0, traffic_start(&t, self));
	vhost_guest_close(self->g);
	self->g = NULL;
	TH_LOG("%lu frames sent", traffic_stop(&t));
	expect_no_pools(_metadata);
	EXPECT_EQ(-ENOENT, nsim_queue_vhost(self->b.ifindex, QB,
					    &(struct nsim_vhost_stats){}));
}

/* A guest process killed with traffic flowing leaves no pool behind. */
TEST_F_TIMEOUT(bind, teardown_kill, 240)
{
	struct nsim_vhost_stats vs;
	struct traffic t;
	unsigned int i;
	pid_t pid;
	int status;

	/* The guest is the child's, alone on the backend */
	vhost_guest_close(self->g);
	self->g = NULL;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vhost_guest *g;

		if (guest_start(&g, self->tap_fd, RING))
			_exit(1);
		for (;;)
			recv_frame(g, &self->a, 1000);
	}
	ASSERT_EQ(0, traffic_start(&t, self));
	for (i = 0; i < 100; i++) {
		if (!bound_stats(self, &vs) && VS(vs, ZC_FRAMES))
			break;
		usleep(50 * 1000);
	}
	EXPECT_LT(0ULL, VS(vs, ZC_FRAMES));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("%lu frames sent, %llu received in place before the kill",
	       traffic_stop(&t), (unsigned long long)VS(vs, ZC_FRAMES));
	expect_no_pools(_metadata);
}

/* Runs @cmd (deleting a device) with frames flowing, then closes the
 * guest: no pool is left behind.  With @nic_stays, the NIC's queue has
 * no binding any more before the guest closes.
 */
static void delete_under_traffic(struct __test_metadata *_metadata,
				 struct _test_data_bind *self, const char *cmd,
				 bool nic_stays)
{
	struct traffic t;

	ASSERT_EQ(0, traffic_start(&t, self));
	ASSERT_EQ(0, nsim_run("%s", cmd));
	TH_LOG("%lu frames sent", traffic_stop(&t));
	if (nic_stays)
		EXPECT_EQ(-ENOENT, nsim_queue_vhost(self->b.ifindex, QB,
						    &(struct nsim_vhost_stats){}));
	vhost_guest_close(self->g);
	self->g = NULL;
	expect_no_pools(_metadata);
}

/* Deleting the backend device (macvtap or tap) ends the lease and the
 * binding's use of the queue at once.
 */
TEST_F_TIMEOUT(bind, teardown_del_backend, 240)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "ip link del %s", self->vif.ifname);
	delete_under_traffic(_metadata, self, cmd, true);
}

/* Deleting the NIC uninstalls the provider from under the binding. */
TEST_F_TIMEOUT(bind, teardown_del_nic, 240)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "echo %u > /sys/bus/netdevsim/del_device",
		 self->b.dev_id);
	self->b.dev_id = 0;
	delete_under_traffic(_metadata, self, cmd, false);
}

TEST_HARNESS_MAIN
