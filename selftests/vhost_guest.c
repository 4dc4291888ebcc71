// SPDX-License-Identifier: GPL-2.0
/*
 * The guest side of vhost-net, played by a test program: see vhost_guest.h.
 *
 * Guest memory layout (offsets from the start of the region):
 *
 *	RX vring	desc table, avail ring, used ring (page aligned)
 *	TX vring	likewise
 *	RX buffers	ring_num buffers of buf_len bytes; descriptor i
 *			always points at buffer i
 *
 * The library is the "driver": it owns the avail ring and reads the used
 * ring, with the barriers a virtio driver needs (release before publishing
 * avail->idx, acquire after reading used->idx).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "vhost_guest.h"

#define VG_DEF_MEM_SIZE		(16UL << 20)
#define VG_DEF_MEM_GPA		0x40000000ULL
#define VG_DEF_RING_NUM		256
#define VG_DEF_BUF_LEN		2048
#define VG_PAGE			4096UL
#define VG_ETH_P_TEST		0x88b5

struct vhost_guest_vq {
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	__u16 avail_idx;	/* next avail->idx we publish */
	__u16 last_used;	/* next used entry we consume */
	int kick_fd;
	int call_fd;
	int err_fd;		/* VHOST_SET_VRING_ERR: the host's vq errors */
};

struct vhost_guest {
	struct vhost_guest_opts opts;
	int vhost_fd;
	int backend_fd;
	bool own_backend;	/* backend_fd is a tap we created */
	int attached_fd;	/* what the virtqueues have, -1: none */
	int pkt_fd;		/* AF_PACKET socket for vhost_guest_inject() */
	char ifname[IFNAMSIZ];
	int ifindex;
	unsigned char *mem;
	size_t hdr_len;
	struct vhost_guest_vq vqs[VHOST_GUEST_NUM_VQS];
	size_t bufs_off;
	/* Length of the RX buffers vhost_guest_rx_post() posts. */
	unsigned int post_len;
	/* RX descriptor ids not posted to the host, used as a stack. */
	__u16 *free_ids;
	unsigned int nr_free;
	/* posted[i]: RX descriptor i is owned by the host. */
	bool *posted;
	__u64 features;		/* as set with VHOST_SET_FEATURES */
	struct vhost_guest_stats stats;
};

static __u64 vg_gpa(const struct vhost_guest *g, size_t off)
{
	return g->opts.mem_gpa + off;
}

/* Offset in guest memory of RX buffer @id, which descriptor @id always
 * points at.
 */
static size_t vg_buf_off(const struct vhost_guest *g, __u16 id)
{
	return g->bufs_off + (size_t)id * g->opts.buf_len;
}

static unsigned char *vg_buf(const struct vhost_guest *g, __u16 id)
{
	return g->mem + vg_buf_off(g, id);
}

static __u64 vg_hva(const void *p)
{
	return (__u64)(uintptr_t)p;
}

static size_t vg_align(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static size_t vg_vring_size(unsigned int num)
{
	size_t sz;

	sz = vg_align(16UL * num + 6 + 2UL * num, VG_PAGE);
	sz += vg_align(6 + 8UL * num, VG_PAGE);
	return sz;
}

static int vg_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int vg_vq_setup(struct vhost_guest *g, unsigned int idx, size_t off)
{
	struct vhost_guest_vq *vq = &g->vqs[idx];
	unsigned int num = g->opts.ring_num;
	struct vhost_vring_state state;
	struct vhost_vring_addr addr;
	struct vhost_vring_file file;
	unsigned char *base = g->mem + off;
	int ret;

	vq->num = num;
	vq->desc = (struct vring_desc *)base;
	vq->avail = (struct vring_avail *)(base + 16UL * num);
	vq->used = (struct vring_used *)(base + vg_align(16UL * num + 6 + 2UL * num, VG_PAGE));

	vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0 || vq->err_fd < 0)
		return -errno;

	state.index = idx;
	state.num = num;
	ret = vg_ioctl(g->vhost_fd, VHOST_SET_VRING_NUM, &state);
	if (ret)
		return ret;
	state.num = 0;
	ret = vg_ioctl(g->vhost_fd, VHOST_SET_VRING_BASE, &state);
	if (ret)
		return ret;

	memset(&addr, 0, sizeof(addr));
	addr.index = idx;
	addr.desc_user_addr = vg_hva(vq->desc);
	addr.avail_user_addr = vg_hva(vq->avail);
	addr.used_user_addr = vg_hva(vq->used);
	ret = vg_ioctl(g->vhost_fd, VHOST_SET_VRING_ADDR, &addr);
	if (ret)
		return ret;

	file.index = idx;
	file.fd = vq->kick_fd;
	ret = vg_ioctl(g->vhost_fd, VHOST_SET_VRING_KICK, &file);
	if (ret)
		return ret;
	file.fd = vq->call_fd;
	ret = vg_ioctl(g->vhost_fd, VHOST_SET_VRING_CALL, &file);
	if (ret)
		return ret;
	file.fd = vq->err_fd;
	return vg_ioctl(g->vhost_fd, VHOST_SET_VRING_ERR, &file);
}

static int vg_set_features(struct vhost_guest *g)
{
	__u64 want = 1ULL << VIRTIO_F_VERSION_1;
	__u64 have;
	int ret;

	if (!g->opts.no_mergeable)
		want |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
	if (g->opts.indirect)
		want |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;

	ret = vg_ioctl(g->vhost_fd, VHOST_GET_FEATURES, &have);
	if (ret)
		return ret;
	if ((have & want) != want)
		return -EOPNOTSUPP;
	/* VERSION_1 always uses the 12-byte header, num_buffers included. */
	g->hdr_len = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	g->features = want;
	return vg_ioctl(g->vhost_fd, VHOST_SET_FEATURES, &want);
}

static int vg_set_mem_table(struct vhost_guest *g, size_t size)
{
	struct vhost_memory *mem;
	int ret;

	mem = calloc(1, sizeof(*mem) + sizeof(mem->regions[0]));
	if (!mem)
		return -ENOMEM;
	mem->nregions = 1;
	mem->regions[0].guest_phys_addr = g->opts.mem_gpa;
	mem->regions[0].memory_size = size;
	mem->regions[0].userspace_addr = vg_hva(g->mem);
	ret = vg_ioctl(g->vhost_fd, VHOST_SET_MEM_TABLE, mem);
	free(mem);
	return ret;
}

int vhost_guest_set_mem_table(struct vhost_guest *g)
{
	return vg_set_mem_table(g, g->opts.mem_size);
}

int vhost_guest_set_mem_limit(struct vhost_guest *g, size_t size)
{
	if (size > g->opts.mem_size)
		return -EINVAL;
	return vg_set_mem_table(g, size ?: g->opts.mem_size);
}

int vhost_guest_open(struct vhost_guest **gp, const struct vhost_guest_opts *opts)
{
	struct vhost_guest *g;
	size_t need, ring_sz;
	unsigned int i;
	int ret;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->vhost_fd = -1;
	g->backend_fd = -1;
	g->attached_fd = -1;
	g->pkt_fd = -1;
	for (i = 0; i < VHOST_GUEST_NUM_VQS; i++) {
		g->vqs[i].kick_fd = -1;
		g->vqs[i].call_fd = -1;
		g->vqs[i].err_fd = -1;
	}

	if (opts)
		g->opts = *opts;
	if (!g->opts.mem_size)
		g->opts.mem_size = VG_DEF_MEM_SIZE;
	if (!g->opts.mem_gpa)
		g->opts.mem_gpa = VG_DEF_MEM_GPA;
	if (!g->opts.ring_num)
		g->opts.ring_num = VG_DEF_RING_NUM;
	if (!g->opts.buf_len)
		g->opts.buf_len = VG_DEF_BUF_LEN;

	ret = -EINVAL;
	if (g->opts.ring_num & (g->opts.ring_num - 1) || g->opts.ring_num > 32768)
		goto err_free;
	/* A frame must fit f->data and f->ids of struct vhost_guest_frame. */
	if (g->opts.buf_len < VHOST_GUEST_MIN_BUF_LEN ||
	    g->opts.buf_len > VHOST_GUEST_MAX_FRAME)
		goto err_free;

	ring_sz = vg_vring_size(g->opts.ring_num);
	g->bufs_off = VHOST_GUEST_NUM_VQS * ring_sz;
	g->post_len = g->opts.buf_len;
	need = g->bufs_off + (size_t)g->opts.ring_num * g->opts.buf_len;
	ret = -ENOSPC;
	if (need > g->opts.mem_size)
		goto err_free;

	ret = -ENOMEM;
	g->free_ids = calloc(g->opts.ring_num, sizeof(*g->free_ids));
	g->posted = calloc(g->opts.ring_num, sizeof(*g->posted));
	if (!g->free_ids || !g->posted)
		goto err_free;
	for (i = 0; i < g->opts.ring_num; i++)
		g->free_ids[i] = g->opts.ring_num - 1 - i;
	g->nr_free = g->opts.ring_num;

	g->mem = mmap(NULL, g->opts.mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED) {
		ret = -errno;
		g->mem = NULL;
		goto err_free;
	}

	g->vhost_fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (g->vhost_fd < 0) {
		ret = -errno;
		goto err_unmap;
	}
	ret = vg_ioctl(g->vhost_fd, VHOST_SET_OWNER, NULL);
	if (ret)
		goto err_close;
	ret = vg_set_features(g);
	if (ret)
		goto err_close;
	ret = vg_set_mem_table(g, g->opts.mem_size);
	if (ret)
		goto err_close;
	for (i = 0; i < VHOST_GUEST_NUM_VQS; i++) {
		ret = vg_vq_setup(g, i, i * ring_sz);
		if (ret)
			goto err_close;
	}

	*gp = g;
	return 0;

err_close:
	vhost_guest_close(g);
	return ret;
err_unmap:
	munmap(g->mem, g->opts.mem_size);
err_free:
	free(g->posted);
	free(g->free_ids);
	free(g);
	return ret;
}

static void vg_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vhost_guest_close(struct vhost_guest *g)
{
	unsigned int i;

	if (!g)
		return;
	/* The vhost device goes first: it stops using the rings and the
	 * backend before either disappears.
	 */
	vg_close_fd(&g->vhost_fd);
	vg_close_fd(&g->pkt_fd);
	if (g->own_backend)
		vg_close_fd(&g->backend_fd);
	for (i = 0; i < VHOST_GUEST_NUM_VQS; i++) {
		vg_close_fd(&g->vqs[i].kick_fd);
		vg_close_fd(&g->vqs[i].call_fd);
		vg_close_fd(&g->vqs[i].err_fd);
	}
	if (g->mem)
		munmap(g->mem, g->opts.mem_size);
	free(g->posted);
	free(g->free_ids);
	free(g);
}

int vhost_guest_set_backend_fd(struct vhost_guest *g, int fd)
{
	struct vhost_vring_file file;
	unsigned int i;
	int ret;

	for (i = 0; i < VHOST_GUEST_NUM_VQS; i++) {
		file.index = i;
		file.fd = fd;
		ret = vg_ioctl(g->vhost_fd, VHOST_NET_SET_BACKEND, &file);
		if (ret)
			return ret;
	}
	g->attached_fd = fd;
	return 0;
}

static int vg_ifreq(struct vhost_guest *g, unsigned long req, struct ifreq *ifr)
{
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", g->ifname);
	ret = vg_ioctl(fd, req, ifr);
	close(fd);
	return ret;
}

/* A new link would send IPv6 router solicitations and MLD reports into
 * the guest's RX queue; tests want to see only their own frames.
 */
static void vg_disable_ipv6(const char *ifname)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) != 1)
		perror(path);
	close(fd);
}

static int vg_link_up(struct vhost_guest *g)
{
	struct ifreq ifr;
	int ret;

	vg_disable_ipv6(g->ifname);
	memset(&ifr, 0, sizeof(ifr));
	ret = vg_ifreq(g, SIOCGIFFLAGS, &ifr);
	if (ret)
		return ret;
	ifr.ifr_flags |= IFF_UP;
	ret = vg_ifreq(g, SIOCSIFFLAGS, &ifr);
	if (ret)
		return ret;
	g->ifindex = if_nametoindex(g->ifname);
	return g->ifindex ? 0 : -errno;
}

/* A vnet header of @hdr_len and no offloads on a tap or macvtap fd. */
static int vg_tap_setup(int fd, unsigned int hdr_len)
{
	int len = hdr_len;
	int ret;

	ret = vg_ioctl(fd, TUNSETVNETHDRSZ, &len);
	if (!ret)
		ret = vg_ioctl(fd, TUNSETOFFLOAD, (void *)0UL);
	return ret;
}

static int vg_tap_open(char *name, unsigned int hdr_len, short flags)
{
	struct ifreq ifr;
	int fd, ret;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | flags;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ret = vg_ioctl(fd, TUNSETIFF, &ifr);
	if (!ret)
		ret = vg_tap_setup(fd, hdr_len);
	if (ret) {
		close(fd);
		return ret;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

int vhost_guest_tap_open(char *name, unsigned int hdr_len)
{
	return vg_tap_open(name, hdr_len, 0);
}

int vhost_guest_tap_open_mq(char *name, unsigned int hdr_len)
{
	return vg_tap_open(name, hdr_len, IFF_MULTI_QUEUE);
}

int vhost_guest_macvtap_open(int ifindex, unsigned int hdr_len)
{
	char path[32];
	int fd, ret;

	snprintf(path, sizeof(path), "/dev/tap%d", ifindex);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = vg_tap_setup(fd, hdr_len);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int vhost_guest_set_backend_tap(struct vhost_guest *g, const char *name)
{
	int fd, ret;

	snprintf(g->ifname, IFNAMSIZ, "%s", name ? name : "");
	fd = vhost_guest_tap_open(g->ifname, g->hdr_len);
	if (fd < 0)
		return fd;
	ret = vg_link_up(g);
	if (ret)
		goto err_close;
	ret = vhost_guest_set_backend_fd(g, fd);
	if (ret)
		goto err_close;

	g->backend_fd = fd;
	g->own_backend = true;
	return 0;

err_close:
	close(fd);
	return ret;
}

const char *vhost_guest_ifname(const struct vhost_guest *g)
{
	return g->ifname;
}

int vhost_guest_fd(const struct vhost_guest *g)
{
	return g->vhost_fd;
}

int vhost_guest_ifindex(const struct vhost_guest *g)
{
	return g->ifindex;
}

int vhost_guest_set_mtu(struct vhost_guest *g, unsigned int mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = mtu;
	return vg_ifreq(g, SIOCSIFMTU, &ifr);
}

static int vg_kick(struct vhost_guest_vq *vq)
{
	__u64 one = 1;

	return write(vq->kick_fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

int vhost_guest_rx_post(struct vhost_guest *g, unsigned int n)
{
	struct vhost_guest_vq *vq = &g->vqs[VHOST_GUEST_RX_VQ];
	unsigned int posted = 0;
	__u16 id;
	int ret;

	while (posted < n && g->nr_free) {
		id = g->free_ids[--g->nr_free];
		/* Poison, so a buffer the host completes without writing it
		 * never shows an earlier frame's bytes.
		 */
		memset(vg_buf(g, id), VHOST_GUEST_POISON, g->opts.buf_len);
		vq->desc[id].addr = vg_gpa(g, vg_buf_off(g, id));
		vq->desc[id].len = g->post_len;
		vq->desc[id].flags = VRING_DESC_F_WRITE;
		vq->desc[id].next = 0;
		vq->avail->ring[vq->avail_idx % vq->num] = id;
		vq->avail_idx++;
		g->posted[id] = true;
		posted++;
	}
	if (!posted)
		return 0;

	/* The descriptors and ring entries must be visible before the index
	 * that hands them to the host; pairs with vhost's read barrier after
	 * it loads avail->idx.
	 */
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	g->stats.rx_posted += posted;

	ret = vg_kick(vq);
	return ret ? ret : (int)posted;
}

int vhost_guest_rx_set_post_len(struct vhost_guest *g, unsigned int len)
{
	if (!len)
		len = g->opts.buf_len;
	if (len < VHOST_GUEST_MIN_BUF_LEN || len > g->opts.buf_len)
		return -EINVAL;
	g->post_len = len;
	return 0;
}

int vhost_guest_rx_set_desc(struct vhost_guest *g, __u16 id, __u64 gpa,
			    __u32 len, __u16 flags, __u16 next)
{
	struct vhost_guest_vq *vq = &g->vqs[VHOST_GUEST_RX_VQ];

	if (id >= vq->num)
		return -EINVAL;
	vq->desc[id].addr = gpa;
	vq->desc[id].len = len;
	vq->desc[id].flags = flags;
	vq->desc[id].next = next;
	return 0;
}

int vhost_guest_rx_post_raw(struct vhost_guest *g, __u16 id)
{
	struct vhost_guest_vq *vq = &g->vqs[VHOST_GUEST_RX_VQ];

	if (id >= vq->num)
		return -EINVAL;
	vq->avail->ring[vq->avail_idx % vq->num] = id;
	vq->avail_idx++;
	g->posted[id] = true;
	/* Pairs with vhost's read barrier after it loads avail->idx. */
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	return vg_kick(vq);
}

unsigned int vhost_guest_rx_outstanding(const struct vhost_guest *g)
{
	return g->opts.ring_num - g->nr_free;
}

static __s64 vg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the used ring holds at least @want entries we have not read. */
static int vg_wait_used(struct vhost_guest *g, struct vhost_guest_vq *vq,
			__u16 want, __s64 deadline)
{
	struct pollfd pfd = { .fd = vq->call_fd, .events = POLLIN };
	__u64 cnt;
	__s64 left;

	for (;;) {
		/* Pairs with the host's write barrier before it publishes
		 * used->idx: the entries below it are complete.
		 */
		__u16 idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);

		if ((__u16)(idx - vq->last_used) >= want)
			return 0;
		left = deadline - vg_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		if (read(vq->call_fd, &cnt, sizeof(cnt)) == sizeof(cnt))
			g->stats.rx_calls++;
	}
}

/* Take the next used entry; check it is a buffer we gave and that the
 * host stayed inside it.
 */
static int vg_pop_used(struct vhost_guest *g, struct vhost_guest_vq *vq,
		       __u16 *id, __u32 *len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->last_used % vq->num];

	*id = (__u16)e->id;
	*len = e->len;
	if (e->id >= vq->num || !g->posted[*id] || *len > g->opts.buf_len)
		return -EPROTO;
	vq->last_used++;
	g->posted[*id] = false;
	g->free_ids[g->nr_free++] = *id;
	g->stats.rx_used++;
	return 0;
}

int vhost_guest_rx_wait(struct vhost_guest *g, struct vhost_guest_frame *f,
			int timeout_ms)
{
	struct vhost_guest_vq *vq = &g->vqs[VHOST_GUEST_RX_VQ];
	__s64 deadline = vg_now_ms() + timeout_ms;
	unsigned int i, nbufs;
	const unsigned char *buf;
	__u32 len;
	__u16 id;
	int ret;

	for (;;) {
		ret = vg_wait_used(g, vq, 1, deadline);
		if (ret)
			return ret;
		ret = vg_pop_used(g, vq, &id, &len);
		if (ret)
			return ret;
		/* A buffer the host gives back unused, as a virtio-net
		 * driver sees it: dropped, counted.
		 */
		if (len)
			break;
		g->stats.rx_zero_len++;
	}
	if (len < g->hdr_len)
		return -EPROTO;

	buf = vg_buf(g, id);
	memset(&f->hdr, 0, sizeof(f->hdr));
	memcpy(&f->hdr, buf, g->hdr_len);
	/* VERSION_1 devices set num_buffers even without MRG_RXBUF, to 1. */
	nbufs = le16toh(f->hdr.num_buffers);
	if (!nbufs || nbufs > ARRAY_SIZE(f->ids) ||
	    (g->opts.no_mergeable && nbufs != 1))
		return -EPROTO;

	f->len = len - g->hdr_len;
	memcpy(f->data, buf + g->hdr_len, f->len);
	f->ids[0] = id;
	f->nbufs = nbufs;

	for (i = 1; i < nbufs; i++) {
		/* The host publishes a frame's buffers together; a short
		 * wait only covers a slow host, not a missing buffer.
		 */
		ret = vg_wait_used(g, vq, 1, deadline + 1000);
		if (ret)
			return ret == -ETIMEDOUT ? -EPROTO : ret;
		ret = vg_pop_used(g, vq, &id, &len);
		if (ret)
			return ret;
		if (f->len + len > sizeof(f->data))
			return -EPROTO;
		buf = vg_buf(g, id);
		memcpy(f->data + f->len, buf, len);
		f->len += len;
		f->ids[i] = id;
	}

	g->stats.rx_frames++;
	g->stats.rx_bytes += f->len;
	return 0;
}

int vhost_guest_rx_reclaim(struct vhost_guest *g, unsigned int *zeroed)
{
	struct vhost_guest_vq *vq = &g->vqs[VHOST_GUEST_RX_VQ];
	unsigned int n = 0;
	const unsigned char *buf;
	__u32 len;
	size_t i;
	__u16 id;
	int ret;

	*zeroed = 0;
	for (;;) {
		__u16 idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);

		if (idx == vq->last_used)
			return n;
		ret = vg_pop_used(g, vq, &id, &len);
		if (ret)
			return ret;
		if (len)
			return -EPROTO;
		buf = vg_buf(g, id);
		for (i = 0; i < g->opts.buf_len && !buf[i]; i++)
			;
		if (i == g->opts.buf_len)
			(*zeroed)++;
		n++;
	}
}

bool vhost_guest_rx_posted(const struct vhost_guest *g, __u16 id)
{
	return id < g->opts.ring_num && g->posted[id];
}

const unsigned char *vhost_guest_rx_buf(const struct vhost_guest *g, __u16 id,
					size_t *len)
{
	*len = g->opts.buf_len;
	return id < g->opts.ring_num ? vg_buf(g, id) : NULL;
}

unsigned char *vhost_guest_mem(const struct vhost_guest *g, size_t *len)
{
	*len = g->opts.mem_size;
	return g->mem;
}

void vhost_guest_rx_vring(const struct vhost_guest *g,
			  struct vhost_guest_vring *vr)
{
	const struct vhost_guest_vq *vq = &g->vqs[VHOST_GUEST_RX_VQ];
	size_t used = g->bufs_off + (size_t)g->opts.ring_num * g->opts.buf_len;
	const unsigned char *mem = g->mem;

	vr->num = vq->num;
	vr->desc = vq->desc;
	vr->avail = vq->avail;
	vr->used = vq->used;
	vr->desc_gpa = vg_gpa(g, (unsigned char *)vq->desc - mem);
	vr->avail_gpa = vg_gpa(g, (unsigned char *)vq->avail - mem);
	vr->used_gpa = vg_gpa(g, (unsigned char *)vq->used - mem);
	vr->tx_gpa = vg_gpa(g, (unsigned char *)g->vqs[VHOST_GUEST_TX_VQ].desc - mem);
	vr->tx_len = vg_vring_size(vq->num);
	vr->free_mem = g->mem + used;
	vr->free_gpa = vg_gpa(g, used);
	vr->free_len = g->opts.mem_size - used;
}

int vhost_guest_rx_kick(struct vhost_guest *g)
{
	return vg_kick(&g->vqs[VHOST_GUEST_RX_VQ]);
}

static int vg_rx_backend(struct vhost_guest *g, int fd)
{
	struct vhost_vring_file file = { .index = VHOST_GUEST_RX_VQ, .fd = fd };

	return vg_ioctl(g->vhost_fd, VHOST_NET_SET_BACKEND, &file);
}

int vhost_guest_rx_stop(struct vhost_guest *g)
{
	return vg_rx_backend(g, -1);
}

int vhost_guest_rx_restart(struct vhost_guest *g)
{
	struct vhost_guest_vq *vq = &g->vqs[VHOST_GUEST_RX_VQ];
	struct vhost_vring_state state = { .index = VHOST_GUEST_RX_VQ };
	unsigned int i;
	int ret;

	ret = vg_rx_backend(g, -1);
	if (ret)
		return ret;
	memset(vq->desc, 0, 16UL * vq->num);
	memset(vq->avail, 0, 6 + 2UL * vq->num);
	memset(vq->used, 0, 6 + 8UL * vq->num);
	vq->avail_idx = 0;
	vq->last_used = 0;
	for (i = 0; i < vq->num; i++) {
		g->posted[i] = false;
		g->free_ids[i] = vq->num - 1 - i;
	}
	g->nr_free = vq->num;
	ret = vg_ioctl(g->vhost_fd, VHOST_SET_VRING_BASE, &state);
	if (ret)
		return ret;
	return vg_rx_backend(g, g->attached_fd);
}

__u64 vhost_guest_rx_buf_gpa(const struct vhost_guest *g, __u16 id)
{
	return vg_gpa(g, vg_buf_off(g, id));
}

int vhost_guest_log_start(struct vhost_guest *g, void *bitmap)
{
	__u64 base = vg_hva(bitmap);
	__u64 features = g->features | 1ULL << VHOST_F_LOG_ALL;
	int ret;

	ret = vg_ioctl(g->vhost_fd, VHOST_SET_LOG_BASE, &base);
	if (ret)
		return ret;
	ret = vg_ioctl(g->vhost_fd, VHOST_SET_FEATURES, &features);
	if (!ret)
		g->features = features;
	return ret;
}

__u64 vhost_guest_vq_errors(struct vhost_guest *g)
{
	unsigned int i;
	__u64 cnt;

	for (i = 0; i < VHOST_GUEST_NUM_VQS; i++)
		if (read(g->vqs[i].err_fd, &cnt, sizeof(cnt)) == sizeof(cnt))
			g->stats.vq_errors += cnt;
	return g->stats.vq_errors;
}

int vhost_guest_inject(struct vhost_guest *g, const void *frame, size_t len)
{
	struct sockaddr_ll sll;
	ssize_t n;

	if (!g->ifindex)
		return -ENODEV;
	if (g->pkt_fd < 0) {
		g->pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (g->pkt_fd < 0)
			return -errno;
	}

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = g->ifindex;
	sll.sll_halen = ETH_ALEN;
	memcpy(sll.sll_addr, frame, ETH_ALEN);

	n = sendto(g->pkt_fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

void vhost_guest_get_stats(const struct vhost_guest *g,
			   struct vhost_guest_stats *stats)
{
	*stats = g->stats;
}

void vhost_guest_pattern(void *buf, size_t len, __u32 seq)
{
	__u32 key = seq * 0x9e3779b1u;
	unsigned char *p = buf;
	size_t i;

	/* Each byte depends on all 32 bits of the sequence number (one byte
	 * of its hash in turn) and on its offset, so a shifted, truncated or
	 * stale copy of another frame never matches by chance.
	 */
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((key >> ((i & 3) * 8)) ^ (i * 7u) ^ (i >> 8));
}

void vhost_guest_build_frame(void *buf, size_t len, __u32 seq)
{
	static const unsigned char src[ETH_ALEN] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	struct ethhdr *eth = buf;

	memset(eth->h_dest, 0xff, ETH_ALEN);
	memcpy(eth->h_source, src, ETH_ALEN);
	eth->h_proto = htons(VG_ETH_P_TEST);
	vhost_guest_pattern((unsigned char *)buf + ETH_HLEN, len - ETH_HLEN, seq);
}

unsigned int vhost_guest_count_tag(const unsigned char *mem, size_t len,
				   const char *tag)
{
	const unsigned char *p, *end = mem + len;
	unsigned int n = 0;

	for (p = mem; p < end && (p = memmem(p, end - p, tag, 8)); p += 8)
		n++;
	return n;
}

int vhost_guest_host_prefill(const char *tag, size_t size)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		unsigned char *p;
		size_t off;

		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(1);
		for (off = 0; off + 8 <= size; off += 8)
			memcpy(p + off, tag, 8);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ENOMEM;
}
