// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring zero-copy receive (io_uring/zcrx.c, an in-tree memory provider)
 * on the netdevsim NIC model: the independent check that the model is
 * faithful.  The peer port sits in its own netns and sends a TCP stream;
 * an ntuple rule steers it to the last RX queue, RSS keeps everything else
 * off that queue, header/data split is on, and a zcrx interface queue is
 * registered on it.  Every payload byte must arrive in the registered area,
 * written there by the model's DMA into the provider's net_iovs (counted
 * by netdevsim), and match the pattern the sender wrote.
 *
 * io_uring is driven with raw system calls, so the test needs nothing but
 * the kernel headers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <linux/io_uring/zcrx.h>
#include <netinet/in.h>

#include "../../../kselftest_harness.h"
#include "nsim.h"

#define NQ		4
#define ZC_QUEUE	(NQ - 1)
#define PEER_NETNS	"nsim_zcrx_peer"
#define PORT		9123
#define STREAM_LEN	(8u << 20)
#define AREA_LEN	(8u << 20)
#define RQ_ENTRIES	4096
#define PAGE_SZ		4096u

struct uring {
	int fd;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	char *cqes;
};

struct zcrx {
	char *area;
	void *ring;
	size_t ring_len;
	unsigned int *khead, *ktail, tail;
	struct io_uring_zcrx_rqe *rqes;
	__u64 token;
	__u32 id;
};

static unsigned char stream_byte(__u64 off)
{
	return (unsigned char)(off * 31 + (off >> 9) + (off >> 17));
}

static int uring_init(struct uring *r, unsigned int entries)
{
	/* A 64 KiB frame completes as one CQE per 4 KiB buffer; leave
	 * room for a socket's worth of them.
	 */
	struct io_uring_params p = {
		.flags = IORING_SETUP_CQE32 | IORING_SETUP_SINGLE_ISSUER |
			 IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
		.cq_entries = 16384,
	};
	size_t sq_len, cq_len;
	char *sq, *cq;

	r->fd = syscall(__NR_io_uring_setup, entries, &p);
	if (r->fd < 0)
		return -errno;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(__u32);
	cq_len = p.cq_off.cqes + p.cq_entries * 2 * sizeof(struct io_uring_cqe);
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
		  IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
		       IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return -ENOMEM;
	r->sq_head = (void *)(sq + p.sq_off.head);
	r->sq_tail = (void *)(sq + p.sq_off.tail);
	r->sq_mask = (void *)(sq + p.sq_off.ring_mask);
	r->sq_array = (void *)(sq + p.sq_off.array);
	r->cq_head = (void *)(cq + p.cq_off.head);
	r->cq_tail = (void *)(cq + p.cq_off.tail);
	r->cq_mask = (void *)(cq + p.cq_off.ring_mask);
	r->cqes = cq + p.cq_off.cqes;
	return 0;
}

static int uring_recv_zc(struct uring *r, int sock, __u32 zcrx_id)
{
	unsigned int tail = *r->sq_tail, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_RECV_ZC;
	sqe->fd = sock;
	sqe->ioprio = IORING_RECV_MULTISHOT;
	sqe->zcrx_ifq_idx = zcrx_id;
	sqe->user_data = 1;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 0, 0, NULL, 0) < 0)
		return -errno;
	return 0;
}

static int zcrx_register(struct uring *r, struct zcrx *z, int ifindex,
			 unsigned int queue)
{
	struct io_uring_region_desc region = {};
	struct io_uring_zcrx_area_reg area = {};
	struct io_uring_zcrx_ifq_reg reg = {};

	z->ring_len = (PAGE_SZ + RQ_ENTRIES * sizeof(struct io_uring_zcrx_rqe) +
		       PAGE_SZ - 1) & ~(PAGE_SZ - 1);
	region.user_addr = (__u64)(unsigned long)z->ring;
	region.size = z->ring_len;
	region.flags = IORING_MEM_REGION_TYPE_USER;
	area.addr = (__u64)(unsigned long)z->area;
	area.len = AREA_LEN;
	reg.if_idx = ifindex;
	reg.if_rxq = queue;
	reg.rq_entries = RQ_ENTRIES;
	reg.area_ptr = (__u64)(unsigned long)&area;
	reg.region_ptr = (__u64)(unsigned long)&region;

	if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_ZCRX_IFQ,
		    &reg, 1))
		return -errno;
	z->khead = (void *)((char *)z->ring + reg.offsets.head);
	z->ktail = (void *)((char *)z->ring + reg.offsets.tail);
	z->rqes = (void *)((char *)z->ring + reg.offsets.rqes);
	z->tail = 0;
	z->token = area.rq_area_token;
	z->id = reg.zcrx_id;
	return 0;
}

/* The peer: from its netns, connect and send the pattern stream. */
static void peer_send(void)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(PORT),
		.sin_addr.s_addr = htonl(0xc0000202),	/* 192.0.2.2 */
	};
	static unsigned char buf[64 * 1024];
	__u64 off = 0;
	int fd, ns, i;
	size_t n;

	ns = open("/run/netns/" PEER_NETNS, O_RDONLY);
	if (ns < 0 || setns(ns, CLONE_NEWNET))
		_exit(2);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	for (i = 0; i < 100; i++) {
		if (!connect(fd, (void *)&sa, sizeof(sa)))
			break;
		usleep(50000);
	}
	if (i == 100)
		_exit(3);
	while (off < STREAM_LEN) {
		n = sizeof(buf);
		if (n > STREAM_LEN - off)
			n = STREAM_LEN - off;
		for (i = 0; i < (int)n; i++)
			buf[i] = stream_byte(off + i);
		if (send(fd, buf, n, 0) != (ssize_t)n)
			_exit(4);
		off += n;
	}
	close(fd);
	_exit(0);
}

FIXTURE(zcrx)
{
	struct nsim_port a, b;
	pid_t peer;
};

FIXTURE_SETUP(zcrx)
{
	int ret;

	self->peer = 0;
	if (access("/sys/bus/netdevsim/new_device", W_OK))
		SKIP(return, "netdevsim is not available (CONFIG_NETDEVSIM)");
	ret = nsim_pair_create(&self->a, &self->b, NQ);
	ASSERT_EQ(0, ret) TH_LOG("netdevsim pair: %s", strerror(-ret));
	nsim_run("ip netns del " PEER_NETNS " 2>/dev/null");
	ASSERT_EQ(0, nsim_run("ip netns add " PEER_NETNS));
	ASSERT_EQ(0, nsim_run("ip link set %s netns " PEER_NETNS,
			      self->a.ifname));
	ASSERT_EQ(0, nsim_run("ip -n " PEER_NETNS " addr add 192.0.2.1/24 dev %s",
			      self->a.ifname));
	ASSERT_EQ(0, nsim_run("ip -n " PEER_NETNS " link set %s up",
			      self->a.ifname));
	ASSERT_EQ(0, nsim_run("ip addr add 192.0.2.2/24 dev %s",
			      self->b.ifname));
	/* Everything but the test flow stays off the zero-copy queue */
	ASSERT_EQ(0, nsim_run("ethtool -X %s equal %d", self->b.ifname,
			      ZC_QUEUE));
	ASSERT_EQ(0, nsim_run("ethtool -N %s flow-type tcp4 dst-port %d action %d >/dev/null",
			      self->b.ifname, PORT, ZC_QUEUE));
}

FIXTURE_TEARDOWN(zcrx)
{
	if (self->peer > 0) {
		kill(self->peer, SIGKILL);
		waitpid(self->peer, NULL, 0);
	}
	nsim_run("ip netns del " PEER_NETNS " 2>/dev/null");
	nsim_pair_destroy(&self->a, &self->b);
}

TEST_F_TIMEOUT(zcrx, stream, 600)
{
	unsigned int head, tail, mask;
	struct nsim_rxq q0, q1;
	struct io_uring_cqe *cqe;
	struct io_uring_zcrx_cqe *zcqe;
	struct io_uring_zcrx_rqe *rqe;
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(PORT),
	};
	__u64 got = 0, bad = 0, off;
	int lfd, sock, ret, one = 1, st;
	struct uring r = {};
	struct zcrx z = {};
	bool done = false;
	char msg[256];
	unsigned char *data;
	__u32 i;

	z.area = mmap(NULL, AREA_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	z.ring = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, z.area);
	ASSERT_NE(MAP_FAILED, z.ring);
	if (access("/proc/sys/kernel/io_uring_disabled", F_OK))
		SKIP(return, "io_uring is not available (CONFIG_IO_URING)");
	ASSERT_EQ(0, uring_init(&r, 64));

	/* The core refuses a provider on a queue without header split */
	ret = zcrx_register(&r, &z, self->b.ifindex, ZC_QUEUE);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("zcrx without HDS: %s", strerror(-ret));
	ASSERT_EQ(0, nsim_rings_set(&self->b, 1, 0, -1, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ret = zcrx_register(&r, &z, self->b.ifindex, ZC_QUEUE);
	ASSERT_EQ(0, ret) TH_LOG("zcrx register: %s", strerror(-ret));
	ASSERT_EQ(0, nsim_rx_stats(&self->b, ZC_QUEUE, &q0));

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ASSERT_EQ(0, bind(lfd, (void *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(lfd, 1));
	self->peer = fork();
	ASSERT_LE(0, self->peer);
	if (!self->peer)
		peer_send();
	sock = accept(lfd, NULL, NULL);
	ASSERT_LE(0, sock);
	ASSERT_EQ(0, uring_recv_zc(&r, sock, z.id));

	mask = RQ_ENTRIES - 1;
	while (!done) {
		ret = syscall(__NR_io_uring_enter, r.fd, 0, 1,
			      IORING_ENTER_GETEVENTS, NULL, 0);
		ASSERT_LE(0, ret);
		head = *r.cq_head;
		tail = __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			cqe = (void *)(r.cqes + (head & *r.cq_mask) * 2 *
				       sizeof(*cqe));
			ASSERT_LE(0, cqe->res) TH_LOG("recv_zc: %s",
						      strerror(-cqe->res));
			if (!cqe->res) {
				done = true;
				continue;
			}
			zcqe = (void *)(cqe + 1);
			off = zcqe->off & ~IORING_ZCRX_AREA_MASK;
			ASSERT_GE(AREA_LEN, off + cqe->res);
			data = (unsigned char *)z.area + off;
			for (i = 0; i < (__u32)cqe->res; i++)
				bad += data[i] != stream_byte(got + i);
			got += cqe->res;

			rqe = &z.rqes[z.tail & mask];
			rqe->off = off | z.token;
			rqe->len = cqe->res;
			rqe->__pad = 0;
			__atomic_store_n(z.ktail, ++z.tail, __ATOMIC_RELEASE);
			if (!(cqe->flags & IORING_CQE_F_MORE))
				ASSERT_EQ(0, uring_recv_zc(&r, sock, z.id));
		}
		__atomic_store_n(r.cq_head, head, __ATOMIC_RELEASE);
	}

	ASSERT_EQ(self->peer, waitpid(self->peer, &st, 0));
	self->peer = 0;
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	EXPECT_EQ((__u64)STREAM_LEN, got);
	EXPECT_EQ(0ULL, bad);

	/* Every payload byte was written by the model into the provider's
	 * net_iovs, none into host pages: no copy fallback.
	 */
	ASSERT_EQ(0, nsim_rx_stats(&self->b, ZC_QUEUE, &q1));
	TH_LOG("queue %d: %llu packets, %llu bytes into net_iovs, %llu header splits",
	       ZC_QUEUE, q1.packets - q0.packets, q1.niov_bytes - q0.niov_bytes,
	       q1.hds_split - q0.hds_split);
	EXPECT_LE((__u64)STREAM_LEN, q1.niov_bytes - q0.niov_bytes);
	EXPECT_EQ(0ULL, q1.cpu_copy_bytes - q0.cpu_copy_bytes);
	close(sock);
	close(lfd);
	close(r.fd);
}

TEST_HARNESS_MAIN
