/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest side of vhost-net, played by a test program.
 *
 * A vhost_guest is what QEMU and a virtio-net driver would be for vhost-net,
 * without either: one region of process memory stands for guest RAM, the
 * split virtqueues (RX = 0, TX = 1) live inside it, descriptors carry guest
 * physical addresses, and kick/call are eventfds.  The backend is a tap
 * device (or any socket vhost-net accepts), so a frame sent out of that
 * interface by the host stack lands in a buffer the "guest" posted, exactly
 * as it would in a VM.
 *
 * Typical use:
 *
 *	struct vhost_guest *g;
 *
 *	vhost_guest_open(&g, &(struct vhost_guest_opts){ .buf_len = 2048 });
 *	vhost_guest_set_backend_tap(g, NULL);
 *	vhost_guest_rx_post(g, 64);
 *	vhost_guest_inject(g, frame, len);
 *	vhost_guest_rx_wait(g, &frame_out, 1000);
 *	vhost_guest_close(g);
 *
 * Every function returns 0 or a negative errno; nothing calls exit() or
 * asserts, so the tests decide what a failure means.  Guest memory is a
 * plain process mapping, so tests may read it to check what the host wrote
 * there and where.
 */
#ifndef __VHOST_GUEST_H
#define __VHOST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define VHOST_GUEST_RX_VQ		0
#define VHOST_GUEST_TX_VQ		1
#define VHOST_GUEST_NUM_VQS		2

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Largest frame the library reassembles; a 9000 MTU frame plus slack. */
#define VHOST_GUEST_MAX_FRAME		(64 * 1024)
/* Most buffers one frame may use, and so the smallest buffer length. */
#define VHOST_GUEST_MAX_BUFS		256
#define VHOST_GUEST_MIN_BUF_LEN		(VHOST_GUEST_MAX_FRAME / VHOST_GUEST_MAX_BUFS + \
					 sizeof(struct virtio_net_hdr_mrg_rxbuf))
/* What posted RX buffers are filled with before the host gets them. */
#define VHOST_GUEST_POISON		0xa5

struct vhost_guest_opts {
	/* Size of the memory region standing for guest RAM, 0: 16 MiB. */
	size_t mem_size;
	/* Guest physical address of that region, 0: 1 GiB. */
	__u64 mem_gpa;
	/* Descriptors per virtqueue (power of two), 0: 256. */
	unsigned int ring_num;
	/* Length of each posted RX buffer, 0: 2048; at least
	 * VHOST_GUEST_MIN_BUF_LEN, at most VHOST_GUEST_MAX_FRAME.
	 */
	unsigned int buf_len;
	/* Negotiate VIRTIO_NET_F_MRG_RXBUF; otherwise every RX buffer must
	 * hold a whole frame.
	 */
	bool no_mergeable;
	/* Negotiate VIRTIO_RING_F_INDIRECT_DESC. */
	bool indirect;
};

/* One received frame, reassembled from its buffers. */
struct vhost_guest_frame {
	struct virtio_net_hdr_mrg_rxbuf hdr;
	/* Ethernet frame, without the virtio-net header. */
	unsigned char data[VHOST_GUEST_MAX_FRAME];
	size_t len;
	/* Buffers the frame used, from the used ring (num_buffers). */
	unsigned int nbufs;
	/* Descriptor ids of those buffers, in order. */
	__u16 ids[VHOST_GUEST_MAX_BUFS];
};

/* Counters kept by the library, for tests to check against. */
struct vhost_guest_stats {
	__u64 rx_posted;
	__u64 rx_used;
	__u64 rx_frames;
	__u64 rx_bytes;
	__u64 rx_calls;
	__u64 vq_errors;
	/* Used RX buffers of length 0 that vhost_guest_rx_wait() skipped */
	__u64 rx_zero_len;
};

struct vhost_guest;

int vhost_guest_open(struct vhost_guest **gp, const struct vhost_guest_opts *opts);
void vhost_guest_close(struct vhost_guest *g);

/* VHOST_SET_MEM_TABLE again, with the same table, as a VMM does when its
 * memory layout changes.
 */
int vhost_guest_set_mem_table(struct vhost_guest *g);
/* VHOST_SET_MEM_TABLE with a table of only the first @size bytes of guest
 * memory (0: all of it, as at open): what the guest posted past them is
 * no longer the guest's.
 */
int vhost_guest_set_mem_limit(struct vhost_guest *g, size_t size);

/*
 * Backends.  _set_backend_tap() creates a tap device (name chosen by the
 * kernel unless @name is given), sets the vnet header length, brings the
 * link up and attaches it to both virtqueues.  _set_backend_fd() attaches
 * an fd the caller made (tap or macvtap); -1 detaches.  _tap_open()
 * creates a tap with a vnet header of @hdr_len and no offloads, named
 * @name (IFNAMSIZ bytes; the kernel's choice, written back, if empty),
 * and returns its fd; _tap_open_mq() the same for a multi-queue tap, and
 * with the name of one that exists, attaches another queue to it.
 * _macvtap_open() opens a queue of the macvtap @ifindex (/dev/tapN) the
 * same way; every open of it is another queue.
 */
int vhost_guest_set_backend_tap(struct vhost_guest *g, const char *name);
int vhost_guest_set_backend_fd(struct vhost_guest *g, int fd);
int vhost_guest_tap_open(char *name, unsigned int hdr_len);
int vhost_guest_tap_open_mq(char *name, unsigned int hdr_len);
int vhost_guest_macvtap_open(int ifindex, unsigned int hdr_len);
const char *vhost_guest_ifname(const struct vhost_guest *g);
int vhost_guest_ifindex(const struct vhost_guest *g);
/* The vhost-net device, for tests that drive it themselves. */
int vhost_guest_fd(const struct vhost_guest *g);
int vhost_guest_set_mtu(struct vhost_guest *g, unsigned int mtu);

/* Post up to @n RX buffers (fewer if the ring is full) and kick. Returns
 * the number posted or a negative errno.
 */
int vhost_guest_rx_post(struct vhost_guest *g, unsigned int n);

/*
 * A hostile guest: _set_desc() writes RX descriptor @id as given, however
 * wrong; _post_raw() puts @id on the avail ring (again, if it is there
 * already) and kicks.  @id counts as posted, so the host may use it; the
 * library's list of free ids is left as it was, so use ids it has not
 * posted.
 */
int vhost_guest_rx_set_desc(struct vhost_guest *g, __u16 id, __u64 gpa,
			    __u32 len, __u16 flags, __u16 next);
int vhost_guest_rx_post_raw(struct vhost_guest *g, __u16 id);

/* Length of the RX buffers vhost_guest_rx_post() posts from now on, at
 * least VHOST_GUEST_MIN_BUF_LEN and at most the buffer length set at open
 * (0: that length), as a guest that sizes its buffers to its traffic.
 */
int vhost_guest_rx_set_post_len(struct vhost_guest *g, unsigned int len);

/* Buffers currently posted and not yet used by the host. */
unsigned int vhost_guest_rx_outstanding(const struct vhost_guest *g);

/*
 * Wait up to @timeout_ms for the next frame and reassemble it into @f;
 * buffers used with length 0 before it are skipped (counted in
 * rx_zero_len, and free to post again).
 * Returns 0, -ETIMEDOUT when no frame arrived in time, or -EPROTO when
 * the host completed buffers in a way virtio forbids (bad id, bad length,
 * num_buffers inconsistent); the tests treat that as a failure of the host.
 * The buffers of the frame are not reposted: call vhost_guest_rx_post().
 */
int vhost_guest_rx_wait(struct vhost_guest *g, struct vhost_guest_frame *f,
			int timeout_ms);

/*
 * Take back the RX buffers the host returned unused (used length 0), as
 * vhost-net does when a guest-bound queue is unbound; stops at the first
 * entry not available yet.  Returns how many, or -EPROTO if an entry has
 * a length; *@zeroed counts those whose every byte is 0.
 */
int vhost_guest_rx_reclaim(struct vhost_guest *g, unsigned int *zeroed);

/* Whether RX descriptor @id is posted (the host owns it). */
bool vhost_guest_rx_posted(const struct vhost_guest *g, __u16 id);

/* RX buffer @id, all of it (*@len bytes), or NULL if there is none. */
const unsigned char *vhost_guest_rx_buf(const struct vhost_guest *g, __u16 id,
					size_t *len);

/* The memory standing for guest RAM, all of it: rings and buffers. */
unsigned char *vhost_guest_mem(const struct vhost_guest *g, size_t *len);

/*
 * For a test that is its own RX driver: the RX vring as the host sees it,
 * and what of guest memory the library does not use (past its RX
 * buffers).  The test then writes descriptors and the avail ring itself,
 * kicks with _rx_kick() and reads the used ring; the library's own RX
 * functions must not be used on the same guest.  _rx_stop() detaches the
 * backend from the RX virtqueue (a bound queue is unbound: the buffers
 * the NIC held come back with length 0); _rx_restart() then empties the
 * rings, moves both indices back to 0 and attaches the backend again, as
 * a driver does when it resets the virtqueue.
 */
struct vhost_guest_vring {
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	__u64 desc_gpa, avail_gpa, used_gpa;
	/* The TX vring, all of it */
	__u64 tx_gpa;
	size_t tx_len;
	/* Guest memory nobody else uses */
	unsigned char *free_mem;
	__u64 free_gpa;
	size_t free_len;
};

void vhost_guest_rx_vring(const struct vhost_guest *g,
			  struct vhost_guest_vring *vr);
int vhost_guest_rx_kick(struct vhost_guest *g);
int vhost_guest_rx_stop(struct vhost_guest *g);
int vhost_guest_rx_restart(struct vhost_guest *g);

/* Guest physical address of RX buffer @id. */
__u64 vhost_guest_rx_buf_gpa(const struct vhost_guest *g, __u16 id);

/*
 * Start dirty logging, as a VMM does for live migration: VHOST_SET_LOG_BASE
 * with @bitmap (one bit per 4 KiB page of guest physical address, zeroed
 * by the caller, VHOST_GUEST_LOG_SIZE bytes) and VHOST_F_LOG_ALL.
 */
#define VHOST_GUEST_LOG_SIZE	(256 * 1024)
int vhost_guest_log_start(struct vhost_guest *g, void *bitmap);

/* Errors vhost signalled on either virtqueue (VHOST_SET_VRING_ERR) so far. */
__u64 vhost_guest_vq_errors(struct vhost_guest *g);

/*
 * Send @len bytes as one Ethernet frame out of the backend interface, from
 * the host side (an AF_PACKET socket bound to the tap), so vhost-net
 * receives it on the RX virtqueue.
 */
int vhost_guest_inject(struct vhost_guest *g, const void *frame, size_t len);

void vhost_guest_get_stats(const struct vhost_guest *g,
			   struct vhost_guest_stats *stats);

/* Times the 8-byte @tag appears in @len bytes at @mem. */
unsigned int vhost_guest_count_tag(const unsigned char *mem, size_t len,
				   const char *tag);

/* Fill @size bytes of a child's memory with the 8-byte @tag and let it
 * exit: the page allocator hands those pages out again with the tag in
 * them, for a test to look for where the host must not put them.
 */
int vhost_guest_host_prefill(const char *tag, size_t size);

/* Fill @buf with a pattern that identifies @seq at every byte offset. */
void vhost_guest_pattern(void *buf, size_t len, __u32 seq);

/*
 * Build a test frame of @len bytes (>= 60): broadcast destination, a
 * locally administered source, ethertype 0x88b5 (IEEE local experimental),
 * then a pattern from vhost_guest_pattern() keyed by @seq.
 */
void vhost_guest_build_frame(void *buf, size_t len, __u32 seq);

#endif /* __VHOST_GUEST_H */
