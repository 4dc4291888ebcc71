// SPDX-License-Identifier: GPL-2.0
/*
 * netdevsim receive engine: a model of a NIC's RX DMA.
 *
 * A frame sent by the peer waits on the RX queue's FIFO as the peer's skb
 * (the "wire").  In NAPI the model takes buffers from the queue's page
 * pool, as a NIC takes posted descriptors, and writes the frame into them
 * through their DMA addresses, never more than one buffer length into a
 * buffer.  The skb handed to the stack is built from those buffers only.
 *
 * Header/data split, when enabled with ethtool, puts the protocol headers
 * into a page from a separate header pool and the payload into the
 * queue's data buffers, so a memory provider bound to the queue supplies
 * the payload buffers (they may be unreadable net_iovs).  Without it the
 * whole frame goes into data buffers and the driver pulls the headers
 * into the skb head with the CPU.
 *
 * Writing through a DMA address needs that address to be a physical one:
 * true for the bus device, which has no IOMMU and uses dma-direct.
 */

#include <linux/dma-direct.h>
#include <linux/etherdevice.h>
#include <linux/highmem.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/netdev_queues.h>
#include <net/page_pool/helpers.h>

#include "netdevsim.h"

/* Room in front of the headers, as drivers reserve it for the stack. */
#define NSIM_RX_HEADROOM	(NET_SKB_PAD + NET_IP_ALIGN)
/* Most header bytes the parser looks at to find the end of the headers. */
#define NSIM_RX_HDR_PARSE	256

int nsim_rx_ring_create(struct net_device *dev, struct napi_struct *napi,
			unsigned int idx, u32 buf_len, struct nsim_rx_ring *ring)
{
	struct netdevsim *ns = netdev_priv(dev);
	struct page_pool_params pp = {
		.flags		= PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
		.pool_size	= NSIM_RING_SIZE,
		.nid		= NUMA_NO_NODE,
		.dev		= dev->dev.parent,
		.napi		= napi,
		.netdev		= dev,
		.dma_dir	= DMA_FROM_DEVICE,
		.max_len	= PAGE_SIZE,
	};
	struct page_pool *pool;

	memset(ring, 0, sizeof(*ring));
	ring->buf_len = buf_len;
	ring->hds = ns->rx.hds;
	ring->hds_thresh = ns->rx.hds_thresh;

	if (ring->hds) {
		pool = page_pool_create(&pp);
		if (IS_ERR(pool))
			return PTR_ERR(pool);
		ring->hdr = pool;
	}

	pp.flags |= PP_FLAG_ALLOW_UNREADABLE_NETMEM;
	pp.queue_idx = idx;
	pp.order = get_order(buf_len);
	pp.max_len = PAGE_SIZE << pp.order;
	pool = page_pool_create(&pp);
	if (IS_ERR(pool)) {
		page_pool_destroy(ring->hdr);
		ring->hdr = NULL;
		return PTR_ERR(pool);
	}
	ring->data = pool;
	return 0;
}

void nsim_rx_ring_destroy(struct nsim_rx_ring *ring)
{
	page_pool_destroy(ring->data);
	page_pool_destroy(ring->hdr);
	ring->data = NULL;
	ring->hdr = NULL;
}

void nsim_rx_ring_disable_direct(struct nsim_rx_ring *ring)
{
	if (ring->hdr)
		page_pool_disable_direct_recycling(ring->hdr);
	page_pool_disable_direct_recycling(ring->data);
}

static void nsim_rq_stat_add(struct nsim_rq *rq, u64_stats_t *stat, u64 val)
{
	u64_stats_update_begin(&rq->stats.syncp);
	u64_stats_add(stat, val);
	u64_stats_update_end(&rq->stats.syncp);
}

/**
 * nsim_rx_count() - count a frame handed to the stack
 * @rq: receiving queue
 * @len: its length, as the link statistics count it
 *
 * Context: NAPI of @rq.
 */
void nsim_rx_count(struct nsim_rq *rq, unsigned int len)
{
	u64_stats_update_begin(&rq->stats.syncp);
	u64_stats_inc(&rq->stats.packets);
	u64_stats_add(&rq->stats.bytes, len);
	u64_stats_update_end(&rq->stats.syncp);
}

/* The NIC's DMA write: @len bytes of @wire from @off to @addr. */
static void nsim_rx_dma_write(struct device *dma_dev, dma_addr_t addr,
			      const struct sk_buff *wire, unsigned int off,
			      unsigned int len)
{
	phys_addr_t phys = dma_to_phys(dma_dev, addr);
	unsigned int pg_off, chunk;
	void *va;

	while (len) {
		pg_off = offset_in_page(phys);
		chunk = min_t(unsigned int, len, PAGE_SIZE - pg_off);
		va = kmap_local_pfn(PHYS_PFN(phys));
		if (WARN_ON_ONCE(skb_copy_bits(wire, off, va + pg_off, chunk)))
			memset(va + pg_off, 0, chunk);
		kunmap_local(va);
		phys += chunk;
		off += chunk;
		len -= chunk;
	}
}

/* Take the next posted buffer, or fail as an empty ring does. */
static netmem_ref nsim_rx_buf_get(struct netdevsim *ns, struct nsim_rq *rq,
				  struct page_pool *pool)
{
	netmem_ref netmem;

	if (atomic_add_unless(&ns->rx.fail_alloc, -1, 0))
		netmem = 0;
	else
		netmem = page_pool_alloc_netmems(pool, GFP_ATOMIC | __GFP_NOWARN);
	if (!netmem)
		nsim_rq_stat_add(rq, &rq->stats.alloc_fail, 1);
	return netmem;
}

static u32 nsim_rx_headlen(struct net_device *dev, const struct sk_buff *wire,
			   u32 max)
{
	u8 buf[NSIM_RX_HDR_PARSE];
	const void *hdr;
	u32 len;

	len = min3(wire->len, max, (u32)NSIM_RX_HDR_PARSE);
	hdr = skb_header_pointer(wire, 0, len, buf);
	if (!hdr)
		return min_t(u32, wire->len, ETH_HLEN);
	return eth_get_headlen(dev, hdr, len);
}

/* Header buffer of a split frame: the skb head, from the header pool. */
static struct sk_buff *nsim_rx_head_hds(struct netdevsim *ns,
					struct nsim_rq *rq,
					const struct sk_buff *wire, u32 hlen)
{
	struct page_pool *pool = rq->ring.hdr;
	struct sk_buff *skb;
	netmem_ref netmem;
	struct page *page;

	netmem = nsim_rx_buf_get(ns, rq, pool);
	if (!netmem)
		return NULL;
	page = netmem_to_page(netmem);

	nsim_rx_dma_write(pool->p.dev,
			  page_pool_get_dma_addr(page) + NSIM_RX_HEADROOM,
			  wire, 0, hlen);
	page_pool_dma_sync_for_cpu(pool, page, NSIM_RX_HEADROOM, hlen);

	skb = napi_build_skb(page_address(page), PAGE_SIZE);
	if (!skb) {
		page_pool_recycle_direct(pool, page);
		nsim_rq_stat_add(rq, &rq->stats.alloc_fail, 1);
		return NULL;
	}
	skb_mark_for_recycle(skb);
	skb_reserve(skb, NSIM_RX_HEADROOM);
	__skb_put(skb, hlen);
	return skb;
}

/* Fill data buffers with [@off, @len) of the frame, one frag each. */
static bool nsim_rx_payload(struct netdevsim *ns, struct nsim_rq *rq,
			    struct sk_buff *skb, const struct sk_buff *wire,
			    u32 off, u32 len)
{
	struct page_pool *pool = rq->ring.data;
	unsigned int truesize = PAGE_SIZE << pool->p.order;
	netmem_ref netmem;
	u32 chunk;
	int i;

	for (i = 0; off < len; i++, off += chunk) {
		if (i == MAX_SKB_FRAGS) {
			nsim_rq_stat_add(rq, &rq->stats.too_long, 1);
			return false;
		}
		netmem = nsim_rx_buf_get(ns, rq, pool);
		if (!netmem)
			return false;

		chunk = min(len - off, rq->ring.buf_len);
		nsim_rx_dma_write(pool->p.dev,
				  page_pool_get_dma_addr_netmem(netmem),
				  wire, off, chunk);
		if (netmem_is_net_iov(netmem))
			nsim_rq_stat_add(rq, &rq->stats.niov_bytes, chunk);
		else
			page_pool_dma_sync_netmem_for_cpu(pool, netmem, 0,
							  chunk);
		skb_add_rx_frag_netmem(skb, i, netmem, 0, chunk, truesize);
	}
	return true;
}

static void nsim_rx_meta(struct sk_buff *skb, struct nsim_rq *rq,
			 struct sk_buff *wire)
{
	int start;

	skb_record_rx_queue(skb, rq->napi.index);

	if (wire->ip_summed == CHECKSUM_PARTIAL) {
		/* The peer offloaded its checksum and the frame crossed the
		 * wire coalesced, as hardware GRO hands it over: pass the
		 * checksum state on, as veth does.
		 */
		start = skb_checksum_start_offset(wire);
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = skb_headroom(skb) + start;
		skb->csum_offset = wire->csum_offset;
	} else {
		/* The NIC sums everything past the Ethernet header. */
		skb->csum = skb_checksum(wire, ETH_HLEN, wire->len - ETH_HLEN,
					 0);
		skb->ip_summed = CHECKSUM_COMPLETE;
	}

	if (skb_is_gso(wire)) {
		skb_shinfo(skb)->gso_size = skb_shinfo(wire)->gso_size;
		skb_shinfo(skb)->gso_type = skb_shinfo(wire)->gso_type;
		skb_shinfo(skb)->gso_segs = skb_shinfo(wire)->gso_segs;
	}
	if (skb_vlan_tag_present(wire))
		__vlan_hwaccel_put_tag(skb, wire->vlan_proto,
				       skb_vlan_tag_get(wire));
	if (wire->hash)
		skb_set_hash(skb, wire->hash, wire->l4_hash ?
			     PKT_HASH_TYPE_L4 : PKT_HASH_TYPE_L3);
	skb_ext_copy(skb, wire);
	/* PSP (nsim_do_psp) decrypted it on the way */
	skb_copy_decrypted(skb, wire);
}

/**
 * nsim_rx_dma() - receive one frame from the wire into the RX ring
 * @rq: receiving queue
 * @wire: the frame, data at the Ethernet header; consumed
 *
 * Context: NAPI of @rq.
 * Return: an skb built from the ring's buffers, or NULL if the frame was
 * dropped (counted).
 */
struct sk_buff *nsim_rx_dma(struct nsim_rq *rq, struct sk_buff *wire)
{
	struct net_device *dev = rq->napi.dev;
	struct netdevsim *ns = netdev_priv(dev);
	struct nsim_rx_ring *ring = &rq->ring;
	u32 len = wire->len, hlen, off;
	struct sk_buff *skb;
	bool split = false;

	if (ring->hds) {
		hlen = len;
		if (len > ring->hds_thresh)
			hlen = nsim_rx_headlen(dev, wire, len);
		split = hlen < len;
		skb = nsim_rx_head_hds(ns, rq, wire, hlen);
		off = hlen;
	} else {
		skb = napi_alloc_skb(&rq->napi, NSIM_RX_HDR_PARSE);
		if (skb)
			skb_mark_for_recycle(skb);
		else
			nsim_rq_stat_add(rq, &rq->stats.alloc_fail, 1);
		off = 0;
	}
	if (!skb)
		goto err_drop;

	if (!nsim_rx_payload(ns, rq, skb, wire, off, len))
		goto err_free;

	if (!ring->hds) {
		/* The driver's CPU copies the headers into the skb head. */
		hlen = nsim_rx_headlen(dev, wire, ring->buf_len);
		if (!__pskb_pull_tail(skb, hlen))
			goto err_free;
		nsim_rq_stat_add(rq, &rq->stats.cpu_copy_bytes, hlen);
	}

	nsim_rx_meta(skb, rq, wire);

	u64_stats_update_begin(&rq->stats.syncp);
	u64_stats_add(&rq->stats.dma_bytes, len);
	if (split)
		u64_stats_inc(&rq->stats.hds_split);
	u64_stats_update_end(&rq->stats.syncp);

	napi_consume_skb(wire, 1);
	return skb;

err_free:
	napi_consume_skb(skb, 1);
err_drop:
	nsim_rq_stat_add(rq, &rq->stats.hw_drops, 1);
	DEV_STATS_INC(dev, rx_missed_errors);
	kfree_skb_reason(wire, SKB_DROP_REASON_NOMEM);
	return NULL;
}

void nsim_rq_stats_read(const struct nsim_rq *rq, struct nsim_rq_counters *c)
{
	const struct nsim_rq_stats *s = &rq->stats;
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		c->packets = u64_stats_read(&s->packets);
		c->bytes = u64_stats_read(&s->bytes);
		c->alloc_fail = u64_stats_read(&s->alloc_fail);
		c->hw_drops = u64_stats_read(&s->hw_drops);
		c->too_long = u64_stats_read(&s->too_long);
		c->hds_split = u64_stats_read(&s->hds_split);
		c->dma_bytes = u64_stats_read(&s->dma_bytes);
		c->cpu_copy_bytes = u64_stats_read(&s->cpu_copy_bytes);
		c->niov_bytes = u64_stats_read(&s->niov_bytes);
	} while (u64_stats_fetch_retry(&s->syncp, start));
	c->overruns = atomic64_read(&rq->overruns);
}

void nsim_rq_counters_add(struct nsim_rq_counters *sum,
			  const struct nsim_rq_counters *c)
{
	sum->packets += c->packets;
	sum->bytes += c->bytes;
	sum->alloc_fail += c->alloc_fail;
	sum->hw_drops += c->hw_drops;
	sum->too_long += c->too_long;
	sum->hds_split += c->hds_split;
	sum->dma_bytes += c->dma_bytes;
	sum->cpu_copy_bytes += c->cpu_copy_bytes;
	sum->niov_bytes += c->niov_bytes;
	sum->overruns += c->overruns;
}
