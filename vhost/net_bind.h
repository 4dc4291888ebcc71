/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-net guest-bound RX queue: the contract between net.c and the
 * guest memory provider in net_bind.c.  See the DOC: comment there.
 */
#ifndef _VHOST_NET_BIND_H
#define _VHOST_NET_BIND_H

#include <linux/errno.h>
#include <linux/if_tun.h>
#include <linux/netdevice.h>
#include <linux/types.h>
#include <linux/virtio_types.h>

struct iov_iter;
struct ptr_ring;
struct sk_buff;
struct socket;
struct vhost_log;
struct vhost_net_bind;
struct vhost_virtqueue;
struct vring_used_elem;

/* How vhost-net is to receive a frame (vhost_net_bind_classify()). */
enum vhost_net_bind_rx {
	/* Not from the binding: the ordinary path. */
	VHOST_NET_BIND_RX_OTHER,
	/* Payload in guest buffers, completed where the NIC wrote it. */
	VHOST_NET_BIND_RX_IN_PLACE,
	/* Payload in guest buffers, but it must be copied. */
	VHOST_NET_BIND_RX_COPY,
};

/**
 * vhost_net_ring_free() - free an entry of a backend's ring, interrupts off
 * @ptr: an skb or an XDP frame from a tap's or a macvtap's ptr_ring
 *
 * ptr_ring_unconsume() frees what it cannot put back with the ring's
 * consumer lock held and interrupts off.  An skb whose pages go back to
 * a page pool must not be freed there (the pool takes its locks with
 * softirqs off): dev_kfree_skb_any() defers it to softirq.  An XDP frame
 * is returned at once, as tun_ptr_free() does it.
 */
static inline void vhost_net_ring_free(void *ptr)
{
	if (ptr && !tun_is_xdp_frame(ptr))
		dev_kfree_skb_any(ptr);
	else
		tun_ptr_free(ptr);
}

#if IS_ENABLED(CONFIG_VHOST_NET_BIND)
int vhost_net_bind_open(struct vhost_virtqueue *vq, struct socket *sock,
			struct vhost_net_bind **bindp);
void vhost_net_bind_close(struct vhost_net_bind *b, struct socket *sock,
			  struct ptr_ring *ring);
bool vhost_net_bind_gone(const struct vhost_net_bind *b);
int vhost_net_bind_refill(struct vhost_net_bind *b);
enum vhost_net_bind_rx vhost_net_bind_classify(struct vhost_net_bind *b,
					       const struct sk_buff *skb);
int vhost_net_bind_rx(struct vhost_net_bind *b, struct socket *sock,
		      struct sk_buff *skb, enum vhost_net_bind_rx how,
		      struct iov_iter *iter, struct iov_iter *fixup,
		      __virtio16 num_buffers, struct vring_used_elem *heads,
		      struct vhost_log *log);
void vhost_net_bind_rx_other(struct vhost_net_bind *b, unsigned int len);
void vhost_net_bind_rx_drop(struct vhost_net_bind *b);
u32 vhost_net_bind_lease_seq(struct socket *sock);
#else
static inline int vhost_net_bind_open(struct vhost_virtqueue *vq,
				      struct socket *sock,
				      struct vhost_net_bind **bindp)
{
	*bindp = NULL;
	return 0;
}

static inline void vhost_net_bind_close(struct vhost_net_bind *b,
					struct socket *sock,
					struct ptr_ring *ring)
{
}

static inline bool vhost_net_bind_gone(const struct vhost_net_bind *b)
{
	return true;
}

static inline int vhost_net_bind_refill(struct vhost_net_bind *b)
{
	return 0;
}

static inline enum vhost_net_bind_rx
vhost_net_bind_classify(struct vhost_net_bind *b, const struct sk_buff *skb)
{
	return VHOST_NET_BIND_RX_OTHER;
}

static inline int vhost_net_bind_rx(struct vhost_net_bind *b,
				    struct socket *sock, struct sk_buff *skb,
				    enum vhost_net_bind_rx how,
				    struct iov_iter *iter,
				    struct iov_iter *fixup,
				    __virtio16 num_buffers,
				    struct vring_used_elem *heads,
				    struct vhost_log *log)
{
	return -EOPNOTSUPP;
}

static inline void vhost_net_bind_rx_other(struct vhost_net_bind *b,
					   unsigned int len)
{
}

static inline void vhost_net_bind_rx_drop(struct vhost_net_bind *b)
{
}

static inline u32 vhost_net_bind_lease_seq(struct socket *sock)
{
	return 0;
}
#endif

#endif /* _VHOST_NET_BIND_H */
