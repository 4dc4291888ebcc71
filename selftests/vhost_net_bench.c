// SPDX-License-Identifier: GPL-2.0
/*
 * The receive path, measured side by side in one run: frames of a given
 * size from netdevsim port a to a guest on port b, through
 *
 *   zero-copy  queue 3 of b leased to the guest's macvtap and bound by
 *              vhost-net: the NIC writes into the guest's buffers;
 *   copy       the same binding, with a guest that posts half-page
 *              buffers the NIC cannot take: every frame lands in the
 *              binding's spare pages and vhost-net copies it;
 *   stock      the same macvtap with no lease: the ordinary vhost-net
 *              copy from host pages.
 *
 * The sender keeps a fixed number of frames in flight, so that nothing is
 * dropped and every cell does the same work.  It runs on CPU 0, where
 * the NIC's receive (NAPI) runs too; the guest driver and vhost-net's
 * worker run on CPU 1, so the worker's CPU time is vhost-net's alone.  For each cell it prints
 * frames per second, CPU time per frame (vhost-net's worker alone, and the
 * whole VM: sender, NIC model, guest driver), bytes the host CPU copied
 * per frame, page allocator calls per million frames on b, guest pages
 * pinned, and the ratios against stock.  A CSV of the same goes to -o.
 *
 * Usage: vhost_net_bench [-t SECONDS] [-r ROUNDS] [-s SIZE,...] [-m MODE,...] [-g]
 *			  [-q PAIRS,...] [-o FILE] [-p LOOPS] [-P FILE] [--smoke]
 *   -t   seconds per cell (default 3)
 *   -r   rounds of every cell, the median reported (default 3)
 *   -s   frame sizes (default 64,1500,4096,9014)
 *   -m   modes (default zero-copy,copy,stock)
 *   -g   two guests, each on a queue of its own (zero-copy only)
 *   -q   queue pairs of one multi-queue guest, e.g. 2,4: the guest's
 *        vhost-net devices on as many queues of one macvtap, each bound
 *        to a queue of its own and fed a flow of its own (zero-copy only)
 *   -p   buffers through each page pool path (default 1000000; 0: none)
 *   -P   CSV of the page pool paths
 *   --smoke  the pool paths once, and one short cell per mode at 1500
 *	      bytes; fails unless every frame arrived intact, none was
 *	      dropped, and at least 99 in 100 zero-copy frames were not
 *	      copied
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/netdev.h>

#include "nsim.h"
#include "vhost_guest.h"

#define NQ		5	/* queue 0 for RSS, the others bound */
#define MTU		9000
#define RING		256U
#define BUF_LEN		4096U
#define SHORT_LEN	2048U	/* what the NIC cannot take */
/* Frames in flight: at most 64, and at most 96 pages of them, below the
 * binding's 128 spares and half-ring share.
 */
#define WINDOW_FRAMES	64U
#define WINDOW_PAGES	96U
#define POST_BATCH	32U
#define CHECK_EVERY	64U	/* frames checked byte for byte */
#define HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)
/* vhost-net devices at once: guests, or queue pairs of one guest */
#define MAX_GUESTS	4

#define VS(s, name)	((s).v[NETDEV_A_VHOST_PROVIDER_INFO_ ## name])

enum bench_mode { BENCH_ZC, BENCH_COPY, BENCH_STOCK, BENCH_NR_MODES };

static const char *const mode_names[BENCH_NR_MODES] = {
	[BENCH_ZC]	= "zero-copy",
	[BENCH_COPY]	= "copy",
	[BENCH_STOCK]	= "stock",
};

/* One guest, or one queue pair of a multi-queue guest: its macvtap on b
 * (the first pair's, for the others), the queue it leases, its vhost-net
 * device; the sender's address for its flow.
 */
struct bench_guest {
	struct nsim_port vif;
	struct nsim_port src;
	unsigned int queue;
	int tap_fd;
	pid_t worker;		/* vhost-net's worker thread */
	struct vhost_guest *g;
	struct vhost_guest_frame frame;
	unsigned long long received;	/* __atomic: read by the sender */
	unsigned long long bad, lost;
};

struct bench {
	struct nsim_port a, b;
	int tx_fd;
	unsigned int nguests;	/* vhost-net devices */
	unsigned int qpairs;	/* of each guest */
	struct bench_guest guests[MAX_GUESTS];
	unsigned char frame[MAX_GUESTS][VHOST_GUEST_MAX_FRAME];
	size_t len;
	unsigned int window;
	bool stop;			/* __atomic */
	unsigned long long sent[MAX_GUESTS];	/* __atomic */
};

/* Counters at one moment. */
struct bench_sample {
	double t;
	unsigned long long worker_ns, busy_ticks;
	unsigned long long nic_drops;
	__u64 page_allocs;
	struct nsim_vhost_stats vs[MAX_GUESTS];
};

struct bench_result {
	enum bench_mode mode;
	size_t len;
	unsigned int nguests, qpairs;
	double secs;
	unsigned long long frames, bad, lost, nic_drops;
	double worker_ns, busy_ns;	/* per frame */
	double copied, payload_copied, hdr;	/* bytes per frame */
	double page_allocs;		/* per million frames */
	unsigned long long pins, pinned_bytes, pool_bytes;
	/* Over the rounds of the cell (medians() fills them) */
	unsigned int rounds;
	double worker_min, worker_max;
};

/* CPU time of one of our threads (vhost-net's worker is one), in ns:
 * its per-thread CPU clock, which counts what the scheduler ran it
 * for, not ticks.
 */
static unsigned long long thread_cpu_ns(pid_t tid)
{
	/* The kernel's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) */
	clockid_t clk = (clockid_t)(~(unsigned int)tid << 3) | 4 | 2;
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		return 0;
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Every CPU's busy time (all but idle and iowait), in clock ticks. */
static unsigned long long busy_ticks(void)
{
	unsigned long long v[8] = {};
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		memset(v, 0, sizeof(v));
	fclose(f);
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

/* vhost-net's worker for a device just opened: a thread of ours named
 * vhost-<pid> that none of @known is.
 */
static pid_t find_worker(const pid_t *known, unsigned int nknown)
{
	char path[64], comm[32], want[32];
	struct dirent *d;
	unsigned int i;
	pid_t tid, found = 0;
	DIR *dir;
	FILE *f;

	snprintf(want, sizeof(want), "vhost-%d", getpid());
	dir = opendir("/proc/self/task");
	if (!dir)
		return 0;
	while (!found && (d = readdir(dir))) {
		tid = atoi(d->d_name);
		if (tid <= 0)
			continue;
		for (i = 0; i < nknown && known[i] != tid; i++)
			;
		if (i < nknown)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, want, strlen(want)))
			found = tid;
		fclose(f);
	}
	closedir(dir);
	return found;
}

static int sample(struct bench *bn, struct bench_sample *s)
{
	struct nsim_qstats q;
	unsigned int i;
	int ret;

	memset(s, 0, sizeof(*s));
	s->t = nsim_now();
	s->busy_ticks = busy_ticks();
	for (i = 0; i < bn->nguests; i++) {
		s->worker_ns += thread_cpu_ns(bn->guests[i].worker);
		ret = nsim_qstats(&bn->b, bn->guests[i].queue, &q);
		if (ret)
			return ret;
		s->nic_drops += q.hw_drops + q.alloc_fail;
		ret = nsim_queue_vhost(bn->b.ifindex, bn->guests[i].queue,
				       &s->vs[i]);
		if (ret && ret != -ENOENT)
			return ret;
	}
	return nsim_page_allocs(&bn->b, &s->page_allocs);
}

/* Keeps a window of frames in flight to each guest until told to stop.
 * On CPU 0, where the NIC's NAPI then runs too (netdevsim raises it on
 * the sending CPU); the guests and vhost-net's workers are on CPU 1.
 */
static void *sender(void *arg)
{
	struct bench *bn = arg;
	unsigned long long sent, got;
	unsigned int i, idle;
	ssize_t n;

	nsim_pin_cpu(0);
	while (!__atomic_load_n(&bn->stop, __ATOMIC_RELAXED)) {
		idle = 0;
		for (i = 0; i < bn->nguests; i++) {
			sent = bn->sent[i];
			got = __atomic_load_n(&bn->guests[i].received,
					      __ATOMIC_ACQUIRE);
			if (sent - got >= bn->window) {
				idle++;
				continue;
			}
			n = send(bn->tx_fd, bn->frame[i], bn->len, 0);
			if (n == (ssize_t)bn->len)
				__atomic_store_n(&bn->sent[i], sent + 1,
						 __ATOMIC_RELEASE);
		}
		if (idle == bn->nguests)
			sched_yield();
	}
	return NULL;
}

/* Receives for guest @gi until @until (seconds, nsim_now() scale); with
 * @drain, once the sender stopped, until it has all that was sent or
 * nothing comes for a second (bg->lost counts what did not).
 */
static int receive(struct bench *bn, struct bench_guest *bg, unsigned int gi,
		   double until, bool drain)
{
	struct vhost_guest_frame *f = &bg->frame;
	unsigned long long n = 0;
	int ret;

	while (drain ? bg->received < bn->sent[gi] : nsim_now() < until) {
		ret = vhost_guest_rx_wait(bg->g, f, drain ? 1000 : 100);
		if (ret == -ETIMEDOUT && drain) {
			bg->lost += bn->sent[gi] - bg->received;
			return 0;
		}
		if (ret == -ETIMEDOUT)
			continue;
		if (ret)
			return ret;
		if (RING - vhost_guest_rx_outstanding(bg->g) >= POST_BATCH) {
			ret = vhost_guest_rx_post(bg->g, RING);
			if (ret < 0)
				return ret;
		}
		/* Only the sender's frames: the stack may send its own */
		if (f->len < ETH_HLEN || memcmp(f->data + 6, bg->src.mac, 6))
			continue;
		/* The one frame the sender sends this guest, over and over */
		if (f->len != bn->len ||
		    (!(n++ % CHECK_EVERY) &&
		     memcmp(f->data, bn->frame[gi], f->len)))
			bg->bad++;
		__atomic_store_n(&bg->received, bg->received + 1,
				 __ATOMIC_RELEASE);
	}
	return 0;
}

struct receiver {
	struct bench *bn;
	unsigned int gi;
	double until;
	int ret;
	pthread_t thread;
};

static void *receiver_run(void *arg)
{
	struct receiver *r = arg;

	r->ret = receive(r->bn, &r->bn->guests[r->gi], r->gi, r->until,
			 false);
	return NULL;
}

/* Sends and receives for @secs; every guest on a thread of its own but
 * the first, which is this one.
 */
static int run_traffic(struct bench *bn, double secs)
{
	struct receiver r[MAX_GUESTS] = {};
	pthread_t tx;
	unsigned int i;
	int ret = 0;

	__atomic_store_n(&bn->stop, false, __ATOMIC_RELAXED);
	if (pthread_create(&tx, NULL, sender, bn))
		return -errno;
	for (i = 0; i < bn->nguests; i++) {
		r[i] = (struct receiver){ .bn = bn, .gi = i,
					  .until = nsim_now() + secs };
		if (i && pthread_create(&r[i].thread, NULL, receiver_run,
					&r[i])) {
			r[i].ret = -errno;
			r[i].bn = NULL;
		}
	}
	receiver_run(&r[0]);
	__atomic_store_n(&bn->stop, true, __ATOMIC_RELAXED);
	for (i = 1; i < bn->nguests; i++)
		if (r[i].bn)
			pthread_join(r[i].thread, NULL);
	pthread_join(tx, NULL);
	for (i = 0; i < bn->nguests; i++)
		ret = ret ?: r[i].ret;
	/* What was still in flight when the time was up */
	for (i = 0; i < bn->nguests && !ret; i++)
		ret = receive(bn, &bn->guests[i], i, 0, true);
	return ret;
}

static void guest_stop(struct bench *bn, struct bench_guest *bg)
{
	vhost_guest_close(bg->g);
	bg->g = NULL;
	if (bg->tap_fd >= 0)
		close(bg->tap_fd);
	bg->tap_fd = -1;
	/* A guest's macvtap goes with its first queue pair */
	if (!((bg - bn->guests) % bn->qpairs))
		nsim_run("ip link del %s 2>/dev/null", bg->vif.ifname);
	nsim_run("ethtool -N %s delete %u 2>/dev/null", bn->b.ifname,
		 100 + bg->queue);
}

/* Guest @gi on a new macvtap of b, its frames steered to its queue,
 * leased and bound unless @mode is stock.  When a guest has several
 * queue pairs, the first makes the macvtap and the others open more
 * queues of it; each pair's flow, from an address of its own, is steered
 * to its queue, which the pair binds (it is the first lease no pair has
 * bound yet).
 */
static int guest_start(struct bench *bn, unsigned int gi, enum bench_mode mode)
{
	struct vhost_guest_opts opts = { .buf_len = BUF_LEN, .ring_num = RING };
	struct bench_guest *bg = &bn->guests[gi];
	unsigned int pair = gi % bn->qpairs;
	char msg[256], mac[NSIM_MAC_STR_LEN], src[NSIM_MAC_STR_LEN];
	pid_t known[MAX_GUESTS] = {};
	unsigned int i;
	int ret;

	memset(bg, 0, sizeof(*bg));
	bg->tap_fd = -1;
	bg->queue = NQ - 1 - gi;
	bg->src = bn->a;
	if (pair) {
		bg->vif = bn->guests[gi - pair].vif;
	} else {
		snprintf(bg->vif.ifname, sizeof(bg->vif.ifname), "mvbench%u",
			 gi);
		ret = nsim_macvtap_create(&bg->vif, &bn->b, MTU);
		if (ret)
			return ret;
	}
	nsim_mac_str(mac, bg->vif.mac);
	if (bn->qpairs > 1) {
		bg->src.mac[5] ^= 0x40 + pair;
		nsim_mac_str(src, bg->src.mac);
		ret = nsim_run("ethtool -N %s flow-type ether src %s dst %s action %u loc %u%s",
			       bn->b.ifname, src, mac, bg->queue,
			       100 + bg->queue, " >/dev/null");
	} else {
		ret = nsim_run("ethtool -N %s flow-type ether dst %s action %u loc %u >/dev/null",
			       bn->b.ifname, mac, bg->queue, 100 + bg->queue);
	}
	if (ret)
		return -EIO;
	if (mode != BENCH_STOCK) {
		ret = nsim_queue_lease(bg->vif.ifindex, bn->b.ifindex,
				       bg->queue, msg, sizeof(msg));
		if (ret < 0) {
			fprintf(stderr, "queue-create: %s %s\n",
				strerror(-ret), msg);
			return ret;
		}
	}

	bg->tap_fd = vhost_guest_macvtap_open(bg->vif.ifindex, HDR_LEN);
	if (bg->tap_fd < 0)
		return bg->tap_fd;
	for (i = 0; i < gi; i++)
		known[i] = bn->guests[i].worker;
	ret = vhost_guest_open(&bg->g, &opts);
	if (ret)
		return ret;
	ret = vhost_guest_set_backend_fd(bg->g, bg->tap_fd);
	if (ret)
		return ret;
	bg->worker = find_worker(known, gi);
	if (!bg->worker)
		return -ESRCH;
	if (mode == BENCH_COPY) {
		ret = vhost_guest_rx_set_post_len(bg->g, SHORT_LEN);
		if (ret)
			return ret;
	}
	ret = vhost_guest_rx_post(bg->g, RING);
	if (ret < 0)
		return ret;
	nsim_build_frame(bn->frame[gi], bn->len, gi, &bg->src, &bg->vif, NULL);
	return 0;
}

/* Last first: a guest's first queue pair takes its macvtap with it. */
static void guests_stop(struct bench *bn)
{
	unsigned int i;

	for (i = bn->nguests; i--; )
		guest_stop(bn, &bn->guests[i]);
}

/* Whether every buffer of every guest's ring has been pinned once. */
static bool all_pinned(const struct bench *bn, const struct bench_sample *s)
{
	unsigned int i;

	for (i = 0; i < bn->nguests; i++)
		if (VS(s->vs[i], PIN_TOTAL) < RING)
			return false;
	return true;
}

/* One cell: @nguests vhost-net devices, @qpairs of them to a guest. */
static int cell(struct bench *bn, enum bench_mode mode, size_t len,
		unsigned int nguests, unsigned int qpairs, double secs,
		struct bench_result *res)
{
	struct bench_sample s0, s1;
	unsigned long long frames = 0, bad = 0, hdr = 0, copies;
	unsigned long long copied = 0, pins = 0, pinned = 0, lost = 0;
	double tick_ns = 1e9 / sysconf(_SC_CLK_TCK);
	unsigned int i;
	int ret;

	bn->nguests = nguests;
	bn->qpairs = qpairs;
	bn->len = len;
	bn->window = WINDOW_PAGES / ((len - ETH_HLEN + 4095) / 4096);
	if (bn->window > WINDOW_FRAMES)
		bn->window = WINDOW_FRAMES;
	memset(bn->sent, 0, sizeof(bn->sent));
	for (i = 0; i < nguests; i++) {
		ret = guest_start(bn, i, mode);
		if (ret) {
			bn->nguests = i + 1;
			goto out;
		}
	}
	/* Warm up: every guest buffer armed and pinned once, however slow
	 * the kernel (a debug one takes seconds)
	 */
	ret = run_traffic(bn, secs / 3 > 0.3 ? secs / 3 : 0.3);
	for (i = 0; !ret && mode == BENCH_ZC && i < 50; i++) {
		ret = sample(bn, &s0);
		if (ret || all_pinned(bn, &s0))
			break;
		ret = run_traffic(bn, 0.2);
	}
	if (ret)
		goto out;
	for (i = 0; i < nguests; i++) {
		bn->guests[i].bad = 0;
		bn->guests[i].lost = 0;
		bn->guests[i].received = 0;
		bn->sent[i] = 0;
	}
	ret = sample(bn, &s0);
	if (ret)
		goto out;
	ret = run_traffic(bn, secs);
	if (ret)
		goto out;
	ret = sample(bn, &s1);
	if (ret)
		goto out;

	for (i = 0; i < nguests; i++) {
		struct nsim_vhost_stats *v0 = &s0.vs[i], *v1 = &s1.vs[i];

		frames += bn->guests[i].received;
		bad += bn->guests[i].bad;
		lost += bn->guests[i].lost;
		if (mode == BENCH_STOCK) {
			/* vhost-net copies the whole frame, and writes the
			 * virtio-net header; it keeps no count of its own.
			 */
			copied += bn->guests[i].received * (len + HDR_LEN);
			hdr += bn->guests[i].received * (ETH_HLEN + HDR_LEN);
			continue;
		}
		hdr += VS(*v1, HDR_BYTES) - VS(*v0, HDR_BYTES);
		copied += VS(*v1, HDR_BYTES) - VS(*v0, HDR_BYTES) +
			  VS(*v1, COPY_BYTES) - VS(*v0, COPY_BYTES) +
			  VS(*v1, HOST_BYTES) - VS(*v0, HOST_BYTES);
		/* A copied frame: its virtio-net header too, and its
		 * headers count as such
		 */
		copies = VS(*v1, HOST_FRAMES) - VS(*v0, HOST_FRAMES) +
			 VS(*v1, COPY_FRAMES) - VS(*v0, COPY_FRAMES);
		copied += copies * HDR_LEN;
		hdr += copies * (HDR_LEN + ETH_HLEN);
		pins += VS(*v1, PIN_TOTAL) - VS(*v0, PIN_TOTAL);
		pinned += VS(*v1, PINNED_PAGES);
	}
	if (!frames) {
		ret = -ENODATA;
		goto out;
	}
	*res = (struct bench_result){
		.mode = mode, .len = len, .nguests = nguests / qpairs,
		.qpairs = qpairs, .secs = s1.t - s0.t, .frames = frames, .bad = bad,
		.lost = lost,
		.nic_drops = s1.nic_drops - s0.nic_drops,
		.worker_ns = (double)(s1.worker_ns - s0.worker_ns) / frames,
		.busy_ns = (s1.busy_ticks - s0.busy_ticks) * tick_ns / frames,
		.copied = (double)copied / frames,
		.hdr = (double)hdr / frames,
		.page_allocs = (s1.page_allocs - s0.page_allocs) * 1e6 / frames,
		.pins = pins,
		.pinned_bytes = pinned * 4096ULL,
		/* One page per guest buffer of the ring */
		.pool_bytes = mode == BENCH_STOCK ? 0 : nguests * RING * 4096ULL,
	};
	/* Copied payload: all but the frame and virtio-net headers */
	res->payload_copied = res->copied - res->hdr;
out:
	guests_stop(bn);
	return ret;
}

static const char *const csv_cols[] = {
	"mode", "guests", "queue_pairs", "frame_bytes", "frames", "seconds", "frames_per_s",
	"worker_ns_per_frame", "vm_cpu_ns_per_frame", "frames_per_worker_cpu_s",
	"frames_per_vm_cpu_s", "copied_bytes_per_frame",
	"payload_copied_per_frame", "hdr_bytes_per_frame",
	"page_allocs_per_mframe", "pins", "pinned_bytes", "pool_bound_bytes",
	"nic_drops", "lost_frames", "bad_frames", "worker_vs_stock",
	"vm_cpu_vs_stock", "rounds", "worker_ns_min", "worker_ns_max",
};

static double per_s(double ns)
{
	return ns > 0 ? 1e9 / ns : 0;
}

/* The stock cell of the same size, for the ratios. */
static const struct bench_result *stock_of(const struct bench_result *r,
					   unsigned int n, size_t len)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (r[i].mode == BENCH_STOCK && r[i].len == len &&
		    r[i].nguests == 1 && r[i].qpairs == 1)
			return &r[i];
	return NULL;
}

static int cmp_worker(const void *a, const void *b)
{
	const struct bench_result *x = a, *y = b;

	return (x->worker_ns > y->worker_ns) - (x->worker_ns < y->worker_ns);
}

/* One result per cell (mode, guests, size), from its rounds: the round
 * with the median worker time, with the spread of that time and every
 * round's bad, lost and dropped frames added up.  Returns how many.
 */
static unsigned int medians(const struct bench_result *r, unsigned int n,
			    struct bench_result *m)
{
	struct bench_result *g = calloc(n, sizeof(*g));
	unsigned int i, j, k, nm = 0, ng;

	if (!g)
		return 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < nm; j++)
			if (m[j].mode == r[i].mode && m[j].len == r[i].len &&
			    m[j].nguests == r[i].nguests &&
			    m[j].qpairs == r[i].qpairs)
				break;
		if (j < nm)
			continue;
		ng = 0;
		for (k = i; k < n; k++)
			if (r[k].mode == r[i].mode && r[k].len == r[i].len &&
			    r[k].nguests == r[i].nguests &&
			    r[k].qpairs == r[i].qpairs)
				g[ng++] = r[k];
		qsort(g, ng, sizeof(*g), cmp_worker);
		m[nm] = g[ng / 2];
		m[nm].rounds = ng;
		m[nm].worker_min = g[0].worker_ns;
		m[nm].worker_max = g[ng - 1].worker_ns;
		m[nm].bad = 0;
		m[nm].lost = 0;
		m[nm].nic_drops = 0;
		for (k = 0; k < ng; k++) {
			m[nm].bad += g[k].bad;
			m[nm].lost += g[k].lost;
			m[nm].nic_drops += g[k].nic_drops;
		}
		nm++;
	}
	free(g);
	return nm;
}

static void report(const struct bench_result *r, unsigned int n, FILE *csv)
{
	const struct bench_result *s;
	double wr, cr;
	unsigned int i;

	printf("%-9s %2s %2s %5s %8s %9s %9s %7s %9s %7s %7s %9s %9s %7s %9s %9s\n",
	       "mode", "g", "qp", "bytes", "frames", "frames/s", "worker", "spread",
	       "vm-cpu", "x-stock", "x-stock", "copied", "payload", "hdr",
	       "pg-alloc", "pinned");
	printf("%-9s %2s %2s %5s %8s %9s %9s %7s %9s %7s %7s %9s %9s %7s %9s %9s\n",
	       "", "", "", "", "", "", "ns/frame", "%", "ns/frame", "worker",
	       "vm-cpu", "B/frame", "B/frame", "B/frame", "/Mframe", "KiB");
	for (i = 0; csv && i < ARRAY_SIZE(csv_cols); i++)
		fprintf(csv, "%s%c", csv_cols[i],
			i + 1 < ARRAY_SIZE(csv_cols) ? ',' : '\n');
	for (i = 0; i < n; i++) {
		s = stock_of(r, n, r[i].len);
		/* Frames per CPU-second against stock: >1 is better */
		wr = s && r[i].worker_ns ? s->worker_ns / r[i].worker_ns : 0;
		cr = s && r[i].busy_ns ? s->busy_ns / r[i].busy_ns : 0;
		printf("%-9s %2u %2u %5zu %8llu %9.0f %9.0f %7.1f %9.0f ",
		       mode_names[r[i].mode], r[i].nguests, r[i].qpairs,
		       r[i].len,
		       r[i].frames, r[i].frames / r[i].secs, r[i].worker_ns,
		       100 * (r[i].worker_max - r[i].worker_min) / r[i].worker_ns,
		       r[i].busy_ns);
		printf("%7.2f %7.2f %9.1f %9.1f %7.1f %9.1f %9llu\n", wr, cr,
		       r[i].copied, r[i].payload_copied, r[i].hdr,
		       r[i].page_allocs, r[i].pinned_bytes / 1024);
		if (!csv)
			continue;
		fprintf(csv, "%s,%u,%u,%zu,%llu,%.3f,%.0f,%.0f,%.0f,%.0f,%.0f,",
			mode_names[r[i].mode], r[i].nguests, r[i].qpairs,
			r[i].len,
			r[i].frames, r[i].secs, r[i].frames / r[i].secs,
			r[i].worker_ns, r[i].busy_ns, per_s(r[i].worker_ns),
			per_s(r[i].busy_ns));
		fprintf(csv, "%.1f,%.1f,%.1f,%.1f,%llu,%llu,%llu,%llu,%llu,%llu,",
			r[i].copied, r[i].payload_copied, r[i].hdr,
			r[i].page_allocs, r[i].pins, r[i].pinned_bytes,
			r[i].pool_bytes, r[i].nic_drops, r[i].lost, r[i].bad);
		fprintf(csv, "%.3f,%.3f,%u,%.0f,%.0f\n", wr, cr, r[i].rounds,
			r[i].worker_min, r[i].worker_max);
	}
}

static int parse_list(char *arg, size_t *sizes, unsigned int max)
{
	unsigned int n = 0;
	char *tok, *save;

	for (tok = strtok_r(arg, ",", &save); tok && n < max;
	     tok = strtok_r(NULL, ",", &save))
		sizes[n++] = strtoul(tok, NULL, 0);
	return n;
}

static int parse_modes(char *arg, bool *modes)
{
	char *tok, *save;
	int m;

	memset(modes, 0, BENCH_NR_MODES * sizeof(*modes));
	for (tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (m = 0; m < BENCH_NR_MODES; m++)
			if (!strcmp(tok, mode_names[m]))
				break;
		if (m == BENCH_NR_MODES)
			return -EINVAL;
		modes[m] = true;
	}
	return 0;
}

/* The smoke test of make check: the benchmark runs, and what it measures
 * holds.
 */
static int smoke_check(const struct bench_result *r, unsigned int n)
{
	unsigned int i, fails = 0;

	for (i = 0; i < n; i++) {
		bool ok = r[i].frames && !r[i].bad && !r[i].lost &&
			  !r[i].nic_drops;

		/* Under load a frame may find no guest buffer armed and go
		 * through a spare (copied): allow 1 in 100, no more.  The
		 * exact zero is vhost_net_bind's zero_copy test, one frame at
		 * a time.  Stock vhost-net counts no copies: frames only.
		 */
		if (r[i].mode == BENCH_ZC)
			ok = ok && r[i].payload_copied * 100 <=
				   r[i].len - ETH_HLEN && !r[i].pins;
		else if (r[i].mode == BENCH_COPY)
			ok = ok && r[i].payload_copied >= r[i].len - ETH_HLEN;
		printf("%s %u bench %s %zu bytes: %llu frames, %llu bad, %llu lost, ",
		       ok ? "ok" : "not ok", i + 2, mode_names[r[i].mode],
		       r[i].len, r[i].frames, r[i].bad, r[i].lost);
		printf("%llu dropped by the NIC, %.1f payload bytes copied a frame\n",
		       r[i].nic_drops, r[i].payload_copied);
		fails += !ok;
	}
	return fails ? 1 : 0;
}

/* The page pool paths, from CONFIG_VHOST_NET_BIND_BENCH's debugfs file */
#define POOL_BENCH	"/sys/kernel/debug/vhost_net_bind_bench/run"
#define POOL_PATHS	3

struct pool_result {
	char name[16];
	unsigned long loops;
	double cycles, ns;
};

/* Runs the pool benchmark; the paths measured, or a negative errno. */
static int pool_bench(unsigned long loops, struct pool_result *r)
{
	char line[128];
	int n = 0;
	FILE *f;

	f = fopen(POOL_BENCH, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%lu\n", loops) < 0 || fclose(f))
		return -EIO;
	f = fopen(POOL_BENCH, "r");
	if (!f)
		return -errno;
	while (n < POOL_PATHS && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %lu %lf %lf", r[n].name, &r[n].loops,
			   &r[n].cycles, &r[n].ns) != 4) {
			fclose(f);
			return -EPROTO;
		}
		n++;
	}
	fclose(f);
	return n;
}

/* The table and CSV of the pool benchmark; ratios against "alloc". */
static void pool_report(const struct pool_result *r, int n, const char *out)
{
	double alloc = 0;
	FILE *csv = NULL;
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(r[i].name, "alloc"))
			alloc = r[i].cycles;
	if (out) {
		csv = fopen(out, "w");
		if (!csv)
			perror(out);
	}
	printf("page pool against the page allocator, per buffer (one CPU, bottom halves off):\n");
	printf("%-6s %10s %10s %10s %14s\n", "path", "loops", "cycles", "ns",
	       "x-cheaper");
	if (csv)
		fprintf(csv, "path,loops,cycles,ns,alloc_cycles_over_path_cycles\n");
	for (i = 0; i < n; i++) {
		double x = r[i].cycles > 0 ? alloc / r[i].cycles : 0;

		printf("%-6s %10lu %10.2f %10.2f %14.2f\n", r[i].name,
		       r[i].loops, r[i].cycles, r[i].ns, x);
		if (csv)
			fprintf(csv, "%s,%lu,%.2f,%.2f,%.3f\n", r[i].name,
				r[i].loops, r[i].cycles, r[i].ns, x);
	}
	printf("\n");
	if (csv)
		fclose(csv);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "smoke", no_argument, NULL, 'S' },
		{}
	};
	size_t sizes[16] = { 64, 1500, 4096, 9014 }, qpairs[4];
	bool modes[BENCH_NR_MODES] = { true, true, true };
	unsigned int nsizes = 4, nqpairs = 0, nres = 0, nmed, rounds = 3;
	unsigned int round, i, q;
	struct bench_result *res, *med;
	bool smoke = false, two = false;
	struct pool_result pool[POOL_PATHS];
	unsigned long pool_loops = 1000000;
	const char *out = NULL, *pool_out = NULL;
	int npool;
	double secs = 3;
	struct bench *bn;
	char msg[256];
	FILE *csv = NULL;
	int opt, m, ret;

	while ((opt = getopt_long(argc, argv, "t:s:m:r:gq:o:p:P:", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 't':
			secs = atof(optarg);
			break;
		case 's':
			nsizes = parse_list(optarg, sizes, ARRAY_SIZE(sizes));
			break;
		case 'm':
			if (parse_modes(optarg, modes)) {
				fprintf(stderr, "unknown mode in %s\n", optarg);
				return 2;
			}
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 0);
			break;
		case 'g':
			two = true;
			break;
		case 'q':
			nqpairs = parse_list(optarg, qpairs,
					     ARRAY_SIZE(qpairs));
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			pool_loops = strtoul(optarg, NULL, 0);
			break;
		case 'P':
			pool_out = optarg;
			break;
		case 'S':
			smoke = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-t S] [-r N] [-s SIZES] [-m MODES] ",
				argv[0]);
			fprintf(stderr, "[-g] [-q PAIRS] [-o CSV] [-p LOOPS] [-P CSV] [--smoke]\n");
			return 2;
		}
	}
	if (smoke) {
		secs = 0.3;
		sizes[0] = 1500;
		nsizes = 1;
		two = false;
		nqpairs = 0;
		rounds = 1;
		pool_loops = 20000;
	}
	if (!rounds || rounds > 9) {
		fprintf(stderr, "rounds not in 1..9\n");
		return 2;
	}
	for (i = 0; i < nqpairs; i++) {
		if (qpairs[i] < 2 || qpairs[i] > MAX_GUESTS) {
			fprintf(stderr, "queue pairs %zu not in 2..%d\n",
				qpairs[i], MAX_GUESTS);
			return 2;
		}
	}
	for (i = 0; i < nsizes; i++) {
		if (sizes[i] < 60 || sizes[i] > MTU + ETH_HLEN) {
			fprintf(stderr, "frame size %zu not in 60..%d\n",
				sizes[i], MTU + ETH_HLEN);
			return 2;
		}
	}
	if (access("/sys/bus/netdevsim/new_device", W_OK) ||
	    access("/dev/vhost-net", R_OK | W_OK)) {
		printf("%sneeds netdevsim and vhost-net (CONFIG_NETDEVSIM, CONFIG_VHOST_NET)\n",
		       smoke ? "TAP version 13\n1..1\nok 1 # SKIP " : "");
		return smoke ? 4 : 1;
	}
	if (smoke)
		printf("TAP version 13\n1..%d\n", BENCH_NR_MODES + 1);

	npool = pool_loops ? pool_bench(pool_loops, pool) : 0;
	if (smoke && npool == -ENOENT)
		printf("ok 1 # SKIP pool benchmark not built (CONFIG_VHOST_NET_BIND_BENCH)\n");
	else if (smoke)
		printf("%s 1 pool benchmark: %d paths, %lu buffers each\n",
		       npool == POOL_PATHS ? "ok" : "not ok", npool,
		       pool_loops);
	else if (npool > 0)
		pool_report(pool, npool, pool_out);
	else if (npool < 0)
		printf("pool benchmark: %s (CONFIG_VHOST_NET_BIND_BENCH)\n\n",
		       strerror(-npool));

	/* The guests, and the vhost-net workers they create, on CPU 1 */
	nsim_pin_cpu(1);
	bn = calloc(1, sizeof(*bn));
	res = calloc(rounds * nsizes * (BENCH_NR_MODES + 1 + nqpairs),
		     sizeof(*res));
	med = calloc(rounds * nsizes * (BENCH_NR_MODES + 1 + nqpairs),
		     sizeof(*med));
	if (!bn || !res || !med)
		return 1;
	ret = nsim_pair_create(&bn->a, &bn->b, NQ);
	if (ret) {
		fprintf(stderr, "netdevsim pair: %s\n", strerror(-ret));
		return 1;
	}
	if (nsim_set_mtu(&bn->a, MTU) || nsim_set_mtu(&bn->b, MTU) ||
	    nsim_rings_set(&bn->b, 1, 0, -1, msg, sizeof(msg)) ||
	    nsim_run("ethtool -X %s equal 1", bn->b.ifname)) {
		fprintf(stderr, "netdevsim setup failed %s\n", msg);
		ret = -EIO;
		goto out;
	}
	bn->tx_fd = nsim_tx_open(&bn->a);
	if (bn->tx_fd < 0) {
		ret = bn->tx_fd;
		goto out;
	}

	/* Round after round of every cell, so that whatever else the
	 * machine does falls on all of them alike
	 */
	for (round = 0; round < rounds && !ret; round++) {
		for (i = 0; i < nsizes && !ret; i++) {
			for (m = 0; m < BENCH_NR_MODES && !ret; m++) {
				if (!modes[m])
					continue;
				ret = cell(bn, m, sizes[i], 1, 1, secs,
					   &res[nres]);
				if (!ret)
					nres++;
			}
			if (two && modes[BENCH_ZC] && !ret) {
				ret = cell(bn, BENCH_ZC, sizes[i], 2, 1, secs,
					   &res[nres]);
				if (!ret)
					nres++;
			}
			for (q = 0; q < nqpairs && modes[BENCH_ZC] && !ret;
			     q++) {
				ret = cell(bn, BENCH_ZC, sizes[i], qpairs[q],
					   qpairs[q], secs, &res[nres]);
				if (!ret)
					nres++;
			}
		}
	}
	if (ret)
		fprintf(stderr, "benchmark failed: %s\n", strerror(-ret));
	nmed = medians(res, nres, med);
	if (smoke) {
		ret = ret ? 1 : smoke_check(med, nmed);
		if (npool != POOL_PATHS && npool != -ENOENT)
			ret = 1;
		goto out;
	}
	if (out) {
		csv = fopen(out, "w");
		if (!csv)
			perror(out);
	}
	printf("median of %u rounds of %.1f s a cell; ", rounds, secs);
	printf("spread: (max - min) / median of the worker's time\n");
	report(med, nmed, csv);
	if (csv)
		fclose(csv);
	ret = ret ? 1 : 0;
out:
	if (bn->tx_fd > 0)
		close(bn->tx_fd);
	nsim_pair_destroy(&bn->a, &bn->b);
	free(med);
	free(res);
	free(bn);
	return ret;
}
