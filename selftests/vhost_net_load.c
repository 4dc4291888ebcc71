// SPDX-License-Identifier: GPL-2.0
/*
 * A sustained load on a guest-bound RX queue and on the copy path beside
 * it, bounded in time.
 *
 * Two guests on netdevsim port b: one on a macvtap leasing queue 3, bound
 * by vhost-net (zero copy, and the binding's spare pages when its ring
 * runs dry); one on a macvtap with no lease, steered to queue 2 (the
 * ordinary vhost-net copy).  A sender on CPU 0 sends frames of 64 to 9014
 * bytes to both, each with its own sequence number, as fast as it can:
 * it waits for nobody, so whatever the guests (both on CPU 1) do not take
 * in time is dropped somewhere.  Each guest also stops now and then for a
 * while (seeded: VHOST_LOAD_SEED), so that its ring runs dry under the
 * flood.  What must hold:
 *  - every frame a guest gets is intact and newer than the one before
 *    (nothing duplicated, reordered or corrupted);
 *  - sent == delivered + the drops the counters show: the NIC queue's
 *    hw-drops, the macvtap's rx_dropped, the binding's drops, port b's
 *    rx_dropped and port a's tx_dropped (less the FIFO overruns, which
 *    hw-drops has already);
 *  - memory stays flat: sampled every VHOST_LOAD_SAMPLE seconds (default
 *    10) and printed, the memory in use and the unreclaimable slab may not
 *    grow past a bound after the first sample under load, and the binding
 *    never holds more buffers or pins more pages than its ring allows;
 *  - no byte of host memory (filled with a tag beforehand) or of the
 *    frames sent to a third tenant (tagged too) is in either guest's
 *    memory, and the buffers the binding gives back at unbind are zero;
 *  - after the guests are gone no binding pool is left and the kernel
 *    logged no warning.
 * VHOST_LOAD_SECS bounds the run (default 180 s).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netdev.h>

#include "../../../kselftest_harness.h"
#include "nsim.h"
#include "vhost_guest.h"

#define NQ		4
#define MTU		9000
#define RING		256U
#define BUF_LEN		4096U
#define HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define POST_BATCH	32U
/* Frames compared byte for byte: one in CHECK_EVERY; the others have
 * their length and sequence number checked.
 */
#define CHECK_EVERY	4U
/* What the memory in use and the unreclaimable slab may grow by after
 * the first sample under load.
 */
#define MAX_USED_GROWTH		(16ULL << 20)
#define MAX_SLAB_GROWTH		(8ULL << 20)
/* Buffers a binding may hold: its ring and its spares (half a ring);
 * pages it may pin: two per buffer of the ring.
 */
#define MAX_INFLIGHT	(RING + RING / 2)
#define MAX_PINNED	(2 * RING)

#define VS(s, name)	((s).v[NETDEV_A_VHOST_PROVIDER_INFO_ ## name])

enum { G_ZC, G_COPY, G_NR };

static const char *const guest_names[G_NR] = {
	[G_ZC]		= "zero-copy",
	[G_COPY]	= "copy",
};

static const unsigned int frame_lens[] = { 64, 1514, 1514, 1514, 4110, 9014 };

static size_t frame_len(__u32 seq)
{
	return frame_lens[seq % ARRAY_SIZE(frame_lens)];
}

struct load_guest {
	struct nsim_port vif;
	unsigned int queue;
	int tap_fd;
	struct vhost_guest *g;
	struct vhost_guest_frame frame;
	unsigned char want[VHOST_GUEST_MAX_FRAME];
	pthread_t thread;
	__u64 rng;
	bool started;
	/* The sender's; read by others once it is stopped */
	unsigned long long sent;
	/* The receiver's; read by others with __atomic */
	unsigned long long delivered, bytes;
	unsigned long long checked, bad, stale, scanned;
	unsigned int stalls, stall_ms;
	__s64 last_seq;
	char fail[160];
	int ret;
};

/* Counters that count drops, at one moment. */
struct load_drops {
	__u64 nic[G_NR];	/* hw-drops of each guest's queue */
	__u64 tap[G_NR];	/* each macvtap's rx_dropped */
	__u64 bind;		/* the binding's drops */
	__u64 rx_dropped;	/* port b */
	__u64 tx_dropped;	/* port a */
	/* b's FIFO overruns, on every queue: also in a's tx_dropped */
	__u64 overruns;
};

struct load_mem {
	__u64 used, slab;	/* bytes */
};

struct load {
	struct nsim_port a, b;
	struct load_guest guests[G_NR];
	/* A third tenant's macvtap, nobody reading it: frames for it carry
	 * a tag no guest may ever see
	 */
	struct nsim_port stranger;
	int tx_fd;
	bool stop;		/* __atomic */
	bool drained;		/* __atomic: the receivers may stop */
	unsigned long long send_errors, foreign;
};

static const char host_tag[8] = "HoStTaG!", foreign_tag[8] = "FoReIgN!";

static int mem_sample(struct load_mem *m)
{
	unsigned long long total = 0, avail = 0, slab = 0, v;
	char key[64];
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %llu kB\n", key, &v) == 2) {
		if (!strcmp(key, "MemTotal:"))
			total = v;
		else if (!strcmp(key, "MemAvailable:"))
			avail = v;
		else if (!strcmp(key, "SUnreclaim:"))
			slab = v;
	}
	fclose(f);
	if (!total || !avail || !slab)
		return -EIO;
	m->used = (total - avail) << 10;
	m->slab = slab << 10;
	return 0;
}

static int drops_sample(const struct load *l, struct load_drops *d)
{
	struct nsim_vhost_stats vs;
	struct nsim_qstats q;
	unsigned int i;
	int ret;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < G_NR; i++) {
		ret = nsim_qstats(&l->b, l->guests[i].queue, &q);
		if (ret)
			return ret;
		d->nic[i] = q.hw_drops;
		ret = nsim_link_stat(&l->guests[i].vif, "rx_dropped",
				     &d->tap[i]);
		if (ret)
			return ret;
	}
	ret = nsim_queue_vhost(l->b.ifindex, l->guests[G_ZC].queue, &vs);
	if (ret)
		return ret;
	d->bind = VS(vs, DROPS);
	ret = nsim_qstats(&l->b, -1, &q);
	if (ret)
		return ret;
	d->overruns = q.hw_drop_overruns;
	return nsim_link_stat(&l->b, "rx_dropped", &d->rx_dropped) ?:
	       nsim_link_stat(&l->a, "tx_dropped", &d->tx_dropped);
}

/* Sends to every guest in turn, as fast as it can, until told to stop;
 * one round in four, a tagged frame to the stranger too.
 */
static void *sender(void *arg)
{
	static unsigned char buf[VHOST_GUEST_MAX_FRAME];
	struct load *l = arg;
	struct load_guest *lg;
	unsigned long round;
	unsigned int i;
	size_t len;

	nsim_pin_cpu(0);
	for (round = 0; !__atomic_load_n(&l->stop, __ATOMIC_RELAXED); round++) {
		if (!(round % 4)) {
			len = nsim_build_frame(buf, 1514, round, &l->a,
					       &l->stranger, NULL);
			for (i = ETH_HLEN + 4; i < len; i++)
				buf[i] = foreign_tag[(i - ETH_HLEN - 4) % 8];
			if (send(l->tx_fd, buf, len, 0) == (ssize_t)len)
				l->foreign++;
		}
		for (i = 0; i < G_NR; i++) {
			lg = &l->guests[i];
			len = nsim_build_frame(buf, frame_len(lg->sent),
					       lg->sent, &l->a, &lg->vif, NULL);
			if (send(l->tx_fd, buf, len, 0) == (ssize_t)len)
				lg->sent++;
			else
				l->send_errors++;
		}
	}
	return NULL;
}

/* Whether the frame @lg got is byte for byte the sender's frame @seq. */
static bool frame_intact(struct load_guest *lg, const struct nsim_port *a,
			 __u32 seq)
{
	nsim_build_frame(lg->want, lg->frame.len, seq, a, &lg->vif, NULL);
	return !memcmp(lg->want, lg->frame.data, lg->frame.len);
}

/* Host or foreign tags in the buffers of the frame @lg got, all of each
 * buffer, past the frame's bytes too, before they are posted again.
 */
static unsigned int frame_tags(struct load_guest *lg)
{
	const unsigned char *buf;
	unsigned int i, tags = 0;
	size_t len;

	for (i = 0; i < lg->frame.nbufs; i++) {
		buf = vhost_guest_rx_buf(lg->g, lg->frame.ids[i], &len);
		if (!buf)
			continue;
		tags += vhost_guest_count_tag(buf, len, host_tag) +
			vhost_guest_count_tag(buf, len, foreign_tag);
		lg->scanned += len;
	}
	return tags;
}

/* Whether @f is one of the sender's frames, intact and newer than the
 * last one; counts it either way.
 */
static void check(struct load_guest *lg, const struct nsim_port *a)
{
	const struct vhost_guest_frame *f = &lg->frame;
	const struct ethhdr *eth = (const void *)f->data;
	__u32 seq;
	int ret = 0;

	if (f->len < ETH_HLEN + sizeof(seq) ||
	    memcmp(eth->h_source, a->mac, ETH_ALEN) ||
	    eth->h_proto != htons(NSIM_ETH_P_TEST))
		return;	/* the stack's own */
	memcpy(&seq, f->data + ETH_HLEN, sizeof(seq));
	if (f->len != frame_len(seq))
		ret = -EMSGSIZE;
	else if (!(seq % CHECK_EVERY) && !frame_intact(lg, a, seq))
		ret = -EILSEQ;
	else if (!(seq % CHECK_EVERY) && frame_tags(lg))
		ret = -EACCES;
	if (!ret && (__s64)seq <= lg->last_seq) {
		lg->stale++;
		ret = -EALREADY;
	}
	if (ret) {
		if (!lg->bad++)
			snprintf(lg->fail, sizeof(lg->fail),
				 "frame %u of %zu bytes after %lld: %s", seq,
				 f->len, lg->last_seq, strerror(-ret));
	} else {
		lg->last_seq = seq;
		lg->checked += !(seq % CHECK_EVERY);
	}
	__atomic_store_n(&lg->bytes, lg->bytes + f->len, __ATOMIC_RELAXED);
	__atomic_store_n(&lg->delivered, lg->delivered + 1, __ATOMIC_RELAXED);
}

struct receiver {
	struct load *l;
	struct load_guest *lg;
};

static unsigned int rnd_below(struct load_guest *lg, unsigned int n)
{
	/* xorshift64* */
	lg->rng ^= lg->rng >> 12;
	lg->rng ^= lg->rng << 25;
	lg->rng ^= lg->rng >> 27;
	return (lg->rng * 0x2545f4914f6cdd1dULL >> 32) % n;
}

/* The guest's RX driver: takes frames and posts buffers again until
 * the sender stopped and nothing came for a second.  Every 1 to 3 s
 * it stops for 100 to 400 ms, as a guest whose vCPU is descheduled:
 * its ring runs dry, the binding's spares fill, then the NIC and the
 * macvtap drop.
 */
static void *receive(void *arg)
{
	struct receiver *r = arg;
	struct load_guest *lg = r->lg;
	double idle_since = 0, stall_at;
	unsigned int ms;
	int ret;

	stall_at = nsim_now() + 1 + rnd_below(lg, 2000) / 1e3;
	for (;;) {
		if (nsim_now() >= stall_at &&
		    !__atomic_load_n(&r->l->drained, __ATOMIC_RELAXED)) {
			ms = 100 + rnd_below(lg, 301);
			usleep(ms * 1000);
			lg->stalls++;
			lg->stall_ms += ms;
			stall_at = nsim_now() + 1 + rnd_below(lg, 2000) / 1e3;
		}
		ret = vhost_guest_rx_wait(lg->g, &lg->frame, 100);
		if (ret == -ETIMEDOUT) {
			if (!__atomic_load_n(&r->l->drained, __ATOMIC_RELAXED))
				continue;
			if (!idle_since)
				idle_since = nsim_now();
			else if (nsim_now() - idle_since > 1)
				break;
			continue;
		}
		if (ret) {
			lg->ret = ret;
			break;
		}
		idle_since = 0;
		check(lg, &r->l->a);
		if (RING - vhost_guest_rx_outstanding(lg->g) >= POST_BATCH) {
			ret = vhost_guest_rx_post(lg->g, RING);
			if (ret < 0) {
				lg->ret = ret;
				break;
			}
		}
	}
	free(r);
	return NULL;
}

/* Guest @gi on a new macvtap of b, its frames steered to its queue, and
 * the queue leased for the zero-copy one.
 */
static int guest_start(struct load *l, unsigned int gi, __u64 seed, char *msg,
		       size_t len)
{
	struct vhost_guest_opts opts = { .buf_len = BUF_LEN, .ring_num = RING };
	struct load_guest *lg = &l->guests[gi];
	struct receiver *r;
	char mac[NSIM_MAC_STR_LEN];
	int ret;

	lg->last_seq = -1;
	lg->rng = (seed + gi) * 0x9e3779b97f4a7c15ULL ?: 1;
	lg->queue = gi == G_ZC ? 3 : 2;
	snprintf(lg->vif.ifname, sizeof(lg->vif.ifname), "mvload%u", gi);
	ret = nsim_macvtap_create(&lg->vif, &l->b, MTU);
	if (ret)
		return ret;
	nsim_mac_str(mac, lg->vif.mac);
	if (nsim_run("ethtool -N %s flow-type ether dst %s action %u >/dev/null",
		     l->b.ifname, mac, lg->queue))
		return -EIO;
	if (gi == G_ZC) {
		ret = nsim_queue_lease(lg->vif.ifindex, l->b.ifindex,
				       lg->queue, msg, len);
		if (ret < 0)
			return ret;
	}
	lg->tap_fd = vhost_guest_macvtap_open(lg->vif.ifindex, HDR_LEN);
	if (lg->tap_fd < 0)
		return lg->tap_fd;
	ret = vhost_guest_open(&lg->g, &opts) ?:
	      vhost_guest_set_backend_fd(lg->g, lg->tap_fd);
	if (ret)
		return ret;
	ret = vhost_guest_rx_post(lg->g, RING);
	if (ret < 0)
		return ret;

	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct receiver){ .l = l, .lg = lg };
	ret = pthread_create(&lg->thread, NULL, receive, r);
	if (ret) {
		free(r);
		return -ret;
	}
	lg->started = true;
	return 0;
}

FIXTURE(load)
{
	struct load l;
	int kmsg_fd;
	pthread_t tx;
	bool sending;
};

FIXTURE_SETUP(load)
{
	__u64 seed = nsim_env_ul("VHOST_LOAD_SEED", time(NULL) ^ getpid());
	char msg[256] = "";
	unsigned int i;
	int ret;

	self->kmsg_fd = -1;
	self->l.tx_fd = -1;
	for (i = 0; i < G_NR; i++)
		self->l.guests[i].tap_fd = -1;
	if (access("/sys/bus/netdevsim/new_device", W_OK))
		SKIP(return, "netdevsim is not available (CONFIG_NETDEVSIM)");
	if (access("/dev/vhost-net", R_OK | W_OK))
		SKIP(return, "/dev/vhost-net is not available (CONFIG_VHOST_NET)");
	self->kmsg_fd = nsim_kmsg_open();
	ASSERT_LE(0, self->kmsg_fd);

	/* The guests, their vhost-net workers and the sampling on CPU 1 */
	nsim_pin_cpu(1);
	ret = nsim_pair_create(&self->l.a, &self->l.b, NQ);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, nsim_set_mtu(&self->l.a, MTU));
	ASSERT_EQ(0, nsim_set_mtu(&self->l.b, MTU));
	ret = nsim_rings_set(&self->l.b, 1, 0, -1, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("header/data split: %s %s", strerror(-ret),
				 msg);
	ASSERT_EQ(0, nsim_run("ethtool -X %s equal 2", self->l.b.ifname));
	/* Host pages with a tag in them, for the guests' memory, the
	 * spares and the NIC's buffers to come from
	 */
	ASSERT_EQ(0, vhost_guest_host_prefill(host_tag, 256UL << 20));
	snprintf(self->l.stranger.ifname, sizeof(self->l.stranger.ifname),
		 "mvload%u", G_NR);
	ASSERT_EQ(0, nsim_macvtap_create(&self->l.stranger, &self->l.b, MTU));
	for (i = 0; i < G_NR; i++) {
		ret = guest_start(&self->l, i, seed, msg, sizeof(msg));
		ASSERT_EQ(0, ret) TH_LOG("%s guest: %s %s", guest_names[i],
					 strerror(-ret), msg);
	}
	self->l.tx_fd = nsim_tx_open(&self->l.a);
	ASSERT_LE(0, self->l.tx_fd);
	TH_LOG("seed %llu (VHOST_LOAD_SEED)", (unsigned long long)seed);
}

FIXTURE_TEARDOWN(load)
{
	struct load_guest *lg;
	unsigned int i;

	if (self->sending) {
		__atomic_store_n(&self->l.stop, true, __ATOMIC_RELAXED);
		pthread_join(self->tx, NULL);
	}
	__atomic_store_n(&self->l.drained, true, __ATOMIC_RELAXED);
	for (i = 0; i < G_NR; i++) {
		lg = &self->l.guests[i];
		if (lg->started)
			pthread_join(lg->thread, NULL);
		vhost_guest_close(lg->g);
		if (lg->tap_fd >= 0)
			close(lg->tap_fd);
		nsim_run("ip link del %s 2>/dev/null", lg->vif.ifname);
	}
	nsim_run("ip link del %s 2>/dev/null", self->l.stranger.ifname);
	if (self->l.tx_fd >= 0)
		close(self->l.tx_fd);
	if (self->kmsg_fd >= 0)
		close(self->kmsg_fd);
	nsim_pair_destroy(&self->l.a, &self->l.b);
}

static void delivered_now(struct load *l, unsigned long long *n)
{
	unsigned int i;

	for (i = 0; i < G_NR; i++)
		n[i] = __atomic_load_n(&l->guests[i].delivered,
				       __ATOMIC_RELAXED);
}

TEST_F_TIMEOUT(load, sustained, 900)
{
	unsigned long secs = nsim_env_ul("VHOST_LOAD_SECS", 180);
	unsigned long every = nsim_env_ul("VHOST_LOAD_SAMPLE", 10);
	unsigned long long got[G_NR], prev[G_NR], counted, sent = 0, total = 0;
	__u64 inflight, max_inflight = 0, max_pinned = 0, allocs0, allocs1;
	struct load_mem m0, m, base = {}, peak = {};
	struct load_drops d0, d1;
	struct nsim_vhost_stats vs0, vs1;
	struct load_guest *lg;
	double t0, t, tprev, next;
	unsigned int i, pools, samples = 0, zeroed = 0, tags;
	unsigned int pool_ticks = 0, pool_bad = 0;
	long long tx_own;
	unsigned char *mem;
	char line[1024];
	size_t len;
	int ret;

	if (every < 1)
		every = 1;
	ASSERT_EQ(0, drops_sample(&self->l, &d0));
	ASSERT_EQ(0, nsim_queue_vhost(self->l.b.ifindex, 3, &vs0));
	ASSERT_EQ(0, nsim_page_allocs(&self->l.b, &allocs0));
	ASSERT_EQ(0, mem_sample(&m0));

	ASSERT_EQ(0, pthread_create(&self->tx, NULL, sender, &self->l));
	self->sending = true;
	t0 = nsim_now();
	tprev = t0;
	memset(prev, 0, sizeof(prev));
	next = t0 + every;
	while ((t = nsim_now()) - t0 < secs) {
		/* The binding's buffers and pins, four times a second */
		usleep(250 * 1000);
		ASSERT_EQ(0, nsim_vhost_pools(&pools, &inflight));
		ASSERT_EQ(0, nsim_queue_vhost(self->l.b.ifindex, 3, &vs1));
		if (inflight > max_inflight)
			max_inflight = inflight;
		if (VS(vs1, PINNED_PAGES) > max_pinned)
			max_pinned = VS(vs1, PINNED_PAGES);
		/* A binding pool, and only one */
		pool_ticks++;
		pool_bad += pools != 1;
		t = nsim_now();
		if (t < next)
			continue;
		next += every;
		delivered_now(&self->l, got);
		ASSERT_EQ(0, mem_sample(&m));
		if (!samples++) {
			base = m;
			peak = m;
		}
		if (m.used > peak.used)
			peak.used = m.used;
		if (m.slab > peak.slab)
			peak.slab = m.slab;
		printf("# t=%3.0fs frames/s: zero-copy %6.0f copy %6.0f; ",
		       t - t0, (got[G_ZC] - prev[G_ZC]) / (t - tprev),
		       (got[G_COPY] - prev[G_COPY]) / (t - tprev));
		printf("MiB: in use %+6.1f, unreclaimable slab %+6.1f; ",
		       ((double)m.used - m0.used) / (1 << 20),
		       ((double)m.slab - m0.slab) / (1 << 20));
		printf("pool buffers %llu, pinned %llu, spare frames %llu\n",
		       inflight, VS(vs1, PINNED_PAGES),
		       VS(vs1, HOST_FRAMES) - VS(vs0, HOST_FRAMES));
		fflush(stdout);
		memcpy(prev, got, sizeof(prev));
		tprev = t;
	}
	EXPECT_EQ(0U, pool_bad)
		TH_LOG("%u of %u looks: no binding pool, or more than one",
		       pool_bad, pool_ticks);
	__atomic_store_n(&self->l.stop, true, __ATOMIC_RELAXED);
	pthread_join(self->tx, NULL);
	self->sending = false;
	t = nsim_now();
	__atomic_store_n(&self->l.drained, true, __ATOMIC_RELAXED);
	for (i = 0; i < G_NR; i++) {
		lg = &self->l.guests[i];
		pthread_join(lg->thread, NULL);
		lg->started = false;
	}
	ASSERT_EQ(0, drops_sample(&self->l, &d1));
	ASSERT_EQ(0, nsim_queue_vhost(self->l.b.ifindex, 3, &vs1));
	ASSERT_EQ(0, nsim_page_allocs(&self->l.b, &allocs1));

	for (i = 0; i < G_NR; i++) {
		lg = &self->l.guests[i];
		counted = d1.nic[i] - d0.nic[i] + d1.tap[i] - d0.tap[i] +
			  (i == G_ZC ? d1.bind - d0.bind : 0);
		TH_LOG("%s: %llu sent, %llu delivered (%.1f MB, %llu compared), %llu bad",
		       guest_names[i], lg->sent, lg->delivered,
		       lg->bytes / 1e6, lg->checked, lg->bad);
		TH_LOG("%s: %u stalls, %u ms in all; %.1f MB of buffers scanned for tags",
		       guest_names[i], lg->stalls, lg->stall_ms,
		       lg->scanned / 1e6);
		TH_LOG("%s: dropped %llu by the NIC, %llu by the macvtap, %llu by the binding",
		       guest_names[i], d1.nic[i] - d0.nic[i],
		       d1.tap[i] - d0.tap[i],
		       i == G_ZC ? d1.bind - d0.bind : 0ULL);
		EXPECT_EQ(0, lg->ret) TH_LOG("%s guest: %s", guest_names[i],
					     strerror(-lg->ret));
		EXPECT_EQ(0ULL, lg->bad)
			TH_LOG("%s guest: %llu bad frames (%llu stale), the first %s",
			       guest_names[i], lg->bad, lg->stale, lg->fail);
		EXPECT_LT(0ULL, lg->delivered);
		/* Only port-wide counters can explain more */
		EXPECT_LE(lg->delivered + counted, lg->sent);
		sent += lg->sent;
		total += lg->delivered + counted;
	}
	/* A FIFO overrun counts on the queue (in hw-drops) and on a, as
	 * tx_dropped: a's own drops are the rest.
	 */
	tx_own = (long long)(d1.tx_dropped - d0.tx_dropped) -
		 (long long)(d1.overruns - d0.overruns);
	EXPECT_LE(0, tx_own);
	total += d1.rx_dropped - d0.rx_dropped + (tx_own > 0 ? tx_own : 0);
	TH_LOG("%.0f s: %llu frames sent (%llu send errors), %llu delivered or counted as dropped",
	       t - t0, sent, self->l.send_errors, total);
	TH_LOG("ports: b rx_dropped %llu, a tx_dropped %llu (%llu FIFO overruns)",
	       d1.rx_dropped - d0.rx_dropped, d1.tx_dropped - d0.tx_dropped,
	       d1.overruns - d0.overruns);
	EXPECT_EQ(sent, total);

	TH_LOG("binding: %llu frames in place, %llu through the spares, %llu pins",
	       VS(vs1, ZC_FRAMES) - VS(vs0, ZC_FRAMES),
	       VS(vs1, HOST_FRAMES) - VS(vs0, HOST_FRAMES),
	       VS(vs1, PIN_TOTAL) - VS(vs0, PIN_TOTAL));
	TH_LOG("binding: at most %llu pool buffers and %llu pages pinned",
	       max_inflight, max_pinned);
	EXPECT_LT(0ULL, VS(vs1, ZC_FRAMES) - VS(vs0, ZC_FRAMES));
	EXPECT_GE((__u64)MAX_INFLIGHT, max_inflight);
	EXPECT_GE((__u64)MAX_PINNED, max_pinned);

	TH_LOG("%u samples: in use %.1f MiB at the first, %.1f MiB at most",
	       samples, base.used / 1048576.0, peak.used / 1048576.0);
	TH_LOG("unreclaimable slab %.1f MiB at the first, %.1f MiB at most",
	       base.slab / 1048576.0, peak.slab / 1048576.0);
	TH_LOG("page allocator calls of b's own page pools: %llu",
	       allocs1 - allocs0);
	ASSERT_LE(2U, samples);
	EXPECT_GE(MAX_USED_GROWTH, peak.used - base.used);
	EXPECT_GE(MAX_SLAB_GROWTH, peak.slab - base.slab);

	/* Unbound, the binding gives back what it held, zeroed */
	lg = &self->l.guests[G_ZC];
	ASSERT_EQ(0, vhost_guest_set_backend_fd(lg->g, -1));
	ret = vhost_guest_rx_reclaim(lg->g, &zeroed);
	TH_LOG("unbound: %d buffers given back unused, %u of them zero",
	       ret, zeroed);
	EXPECT_LT(0, ret);
	EXPECT_EQ((unsigned int)ret, zeroed);

	/* No byte of host memory or of the stranger's frames anywhere in
	 * either guest's memory
	 */
	for (i = 0; i < G_NR; i++) {
		mem = vhost_guest_mem(self->l.guests[i].g, &len);
		tags = vhost_guest_count_tag(mem, len, host_tag) +
		       vhost_guest_count_tag(mem, len, foreign_tag);
		TH_LOG("%s guest: %zu bytes scanned, %u tags", guest_names[i],
		       len, tags);
		EXPECT_EQ(0U, tags);
	}
	TH_LOG("%llu tagged frames sent to a third tenant", self->l.foreign);

	/* The guests gone, so is the binding's pool */
	for (i = 0; i < G_NR; i++) {
		lg = &self->l.guests[i];
		vhost_guest_close(lg->g);
		lg->g = NULL;
		close(lg->tap_fd);
		lg->tap_fd = -1;
	}
	EXPECT_EQ(0, nsim_vhost_pools_settle(0, 5000, &inflight))
		TH_LOG("%llu buffers in flight", inflight);
	EXPECT_FALSE(nsim_kmsg_bad(self->kmsg_fd, line, sizeof(line)))
		TH_LOG("kernel: %s", line);
}

TEST_HARNESS_MAIN
