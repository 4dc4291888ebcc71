// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-net guest-bound RX queue: a page_pool memory provider whose
 * buffers are the RX buffers a KVM guest posted to vhost-net.
 */

/**
 * DOC: guest-bound RX queue
 *
 * A macvtap that holds a leased RX queue of its lower device, or a tap
 * (tun) that holds one of a physical device it is bridged to (netdev
 * netlink ``queue-create`` with a ``lease``), can have that queue bound
 * to the guest behind it: when vhost-net gets such a backend, it
 * installs this memory provider on the leased queue, and the NIC then
 * receives straight into buffers the guest posted.
 *
 * Buffers.  Each guest buffer the NIC may use is a net_iov of the
 * binding's own area (type %NET_IOV_VHOST).  The provider's
 * ->alloc_netmems() runs in NAPI, where the guest's rings, which live in
 * the VMM's memory, cannot be read, so the vhost worker is the producer:
 * it takes descriptors off the RX avail ring, pins the guest page behind
 * each (once: pinned and DMA-mapped pages are cached) and puts the armed
 * net_iov on the ready ring that ->alloc_netmems() empties.  The binding
 * holds at most half of the ring's buffers, so the ordinary path (and the
 * headers of bound frames) always finds buffers.
 *
 * Spares.  When no guest buffer is armed (the guest posted too few, or
 * buffers the NIC cannot take) the NIC gets one of the binding's spare
 * host pages instead, and vhost-net copies that frame into the guest's
 * buffers the ordinary way: the queue never drops for want of a guest
 * buffer while spares last.  The spares are zeroed once, when the binding
 * allocates them, and then only ever hold frames of this queue.  A spare
 * vhost-net has copied from is parked with the binding (it keeps the
 * page_pool reference) and handed to the NIC again only when no guest
 * buffer is armed, so spares do not linger in the pool in place of
 * guest buffers.
 *
 * Completion.  Memory providers need header/data split: the protocol
 * headers land in host pages, the payload in guest buffers.  vhost-net
 * writes the virtio-net header and the headers into a buffer of its own
 * and completes the payload buffers where the NIC wrote them, as the
 * following buffers of a mergeable frame.  A completed buffer belongs to
 * the guest: the binding keeps a page_pool reference on its net_iov so
 * that the pool cannot hand it to the NIC again, and drops it when the
 * net_iov gets a new guest buffer, which puts it back into the pool's
 * ring: no page allocator call, no pin and no map in steady state.
 *
 * Multi-queue guests.  A guest with several queue pairs has a vhost-net
 * device per pair, each reading its own queue of the backend.  Each
 * binds the first leased queue that has no provider yet, so the VMM's
 * order of attaching them pairs its queues with the leases in order, and
 * the backend hands the frames of a binding's buffers to the queue whose
 * reader made it (tap_set_rx_provider(), tun_set_rx_provider()), and to
 * no other.
 *
 * Unbind.  The queue is restarted without the provider; every guest
 * buffer the NIC held is zeroed and, in the owner's context, returned
 * with length 0.  The pages are unmapped and unpinned.  The binding itself
 * lives on until the last page pool that used it is gone.
 */

#include <linux/dma-mapping.h>
#include <linux/error-injection.h>
#include <linux/highmem.h>
#include <linux/if_macvlan.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/skb_array.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>
#include <linux/xarray.h>
#include <net/netdev_lock.h>
#include <net/netdev_queues.h>
#include <net/netdev_rx_queue.h>
#include <net/netlink.h>
#include <net/page_pool/helpers.h>
#include <net/page_pool/memory_provider.h>
#include <uapi/linux/netdev.h>

#include "vhost.h"
#include "net_bind.h"

/* Pinned guest pages the binding caches, per guest buffer it may hold: a
 * guest that reposts its buffers where they were costs no pin or map
 * work, one that moves them about gets its oldest unused pages unpinned.
 */
#define VHOST_NET_BIND_PAGES_PER_BUF	2

/**
 * struct vhost_net_bind_page - a pinned, DMA-mapped guest page
 * @uaddr: its address in the VMM (page aligned)
 * @page: the pinned page
 * @dma: its DMA address for the NIC, DMA_MAPPING_ERROR once unmapped
 * @users: armed buffers in the page
 * @lru: on vhost_net_bind::lru while @users is 0
 *
 * @uaddr, @users and @lru are protected by the vq mutex, @dma by
 * vhost_net_bind::dev_lock.
 */
struct vhost_net_bind_page {
	unsigned long uaddr;
	struct page *page;
	dma_addr_t dma;
	unsigned int users;
	struct list_head lru;
};

/**
 * struct vhost_net_bind_buf - what a net_iov of the binding stands for
 * @pg: the guest page of the buffer it is armed with, NULL if none
 * @gpa: guest address of that buffer, for the dirty log
 * @len: its length as posted
 * @head: its descriptor
 * @guest: its last buffer was completed to the guest; the binding holds a
 *	page_pool reference on the net_iov until it has a new buffer
 *
 * Written by the vq mutex holder, while the net_iov is in no page pool or
 * is held by the binding or by a frame vhost-net is completing.
 */
struct vhost_net_bind_buf {
	struct vhost_net_bind_page *pg;
	u64 gpa;
	u32 len;
	u16 head;
	bool guest;
};

/**
 * struct vhost_net_bind_spare - a host page for the NIC when no guest
 *	buffer is armed
 * @page: the page, zeroed when the binding allocated it
 * @dma: its DMA address, DMA_MAPPING_ERROR once unmapped (dev_lock)
 *
 * Its net_iov is on vhost_net_bind::spare while in no page pool (and in
 * no pool's hands, for a parked one), else in a page pool.
 */
struct vhost_net_bind_spare {
	struct page *page;
	dma_addr_t dma;
};

/**
 * struct vhost_net_bind_stats - what the binding counts
 * @zc_frames: frames completed in place
 * @zc_bytes: their payload bytes, written by the NIC only
 * @hdr_bytes: bytes the CPU copied for them (virtio-net and frame headers)
 * @copy_frames: frames of the bound queue the CPU had to copy
 * @copy_bytes: their bytes
 * @other_frames: frames from anywhere else (the ordinary path)
 * @other_bytes: their bytes
 * @arm_total: guest buffers handed to the NIC
 * @arm_refused: posted buffers the NIC could not take
 * @arm_errors: posted buffers the host could not arm: their page could not
 *	be pinned or mapped, or the binding had no room for another page
 * @alloc_empty: NIC requests for a buffer that found none
 * @pin_total: guest pages pinned and mapped
 * @scrubbed: guest buffers zeroed and returned unused
 * @drops: frames of the bound queue dropped by vhost-net
 * @host_frames: frames of the bound queue in spare host pages, copied
 * @host_bytes: their bytes
 *
 * @alloc_empty is protected by vhost_net_bind::ready_lock, the others by
 * the vq mutex; readers (netlink) read them without a lock.
 */
struct vhost_net_bind_stats {
	u64 zc_frames;
	u64 zc_bytes;
	u64 hdr_bytes;
	u64 copy_frames;
	u64 copy_bytes;
	u64 other_frames;
	u64 other_bytes;
	u64 arm_total;
	u64 arm_refused;
	u64 arm_errors;
	u64 alloc_empty;
	u64 pin_total;
	u64 scrubbed;
	u64 drops;
	u64 host_frames;
	u64 host_bytes;
};

/**
 * struct vhost_net_bind - a guest-bound RX queue
 * @area: the net_iovs: one per descriptor of the RX ring, then the spares
 * @bufs: what each net_iov of a guest buffer stands for
 * @nr_bufs: number of those net_iovs (the ring size, a power of 2)
 * @spares: the spare host pages, net_iovs @nr_bufs and on
 * @nr_spares: number of spares (a power of 2)
 * @armed_max: most guest buffers the binding takes at once
 * @buf_size: most bytes the NIC writes into a buffer
 * @vq: the RX virtqueue
 * @armed: guest buffers the binding holds now (vq mutex)
 * @head_armed: descriptors the binding holds now (vq mutex)
 * @refused_at: avail index of the last buffer counted as refused (vq mutex)
 * @idle: FIFO of net_iovs without a guest buffer (vq mutex)
 * @idle_head: first entry of @idle
 * @idle_count: entries in @idle
 * @ready_lock: protects @ready, @spare and their heads and counts, @pp,
 *	@spare_stale and @closed; taken in any context but hard IRQ
 * @ready: ring of armed net_iovs that are in no page pool
 * @ready_head: first entry of @ready
 * @ready_count: entries in @ready
 * @spare: ring of spare net_iovs in no page pool or parked
 * @spare_head: first entry of @spare
 * @spare_count: entries in @spare
 * @pp: the page pool made last for the queue
 * @spare_stale: spares may be parked for a pool other than @pp
 * @closed: vhost-net is done with the binding: nothing is armed again
 * @dev_lock: protects @dev, @dev_tracker, @dma_dev and the DMA mappings;
 *	nests inside the vq mutex and the netdev instance locks, and is never
 *	held while guest memory is touched (device removal waits on it)
 * @dev: the backend's device, held until unbind or until its queue goes
 *	away
 * @dev_tracker: tracker of that reference
 * @rxq_idx: the backend device's queue that leases the bound queue
 * @dma_dev: the NIC's DMA device, held while the pages are mapped for it
 * @pages: the cached guest pages, by page number of their @uaddr; changed
 *	with both the vq mutex and @dev_lock held
 * @lru: cached pages no armed buffer uses, oldest first (vq mutex)
 * @nr_pages: pages in @pages
 * @max_pages: most pages cached
 * @mm: the VMM's mm (grabbed), whose pinned_vm counts the pinned pages
 * @pin_limit: most pages @mm may have pinned before the binding pins no
 *	more: RLIMIT_MEMLOCK, or ULONG_MAX for a VMM with CAP_IPC_LOCK
 * @refs: one for vhost-net until unbind, one for each page pool
 * @stats: counters
 */
struct vhost_net_bind {
	struct net_iov_area area;
	struct vhost_net_bind_buf *bufs;
	unsigned int nr_bufs;
	struct vhost_net_bind_spare *spares;
	unsigned int nr_spares;
	unsigned int armed_max;
	unsigned int buf_size;

	struct vhost_virtqueue *vq;
	unsigned int armed;
	unsigned long *head_armed;
	u16 refused_at;
	u32 *idle;
	unsigned int idle_head;
	unsigned int idle_count;

	/* the worker and NAPI meet here: see @ready_lock above */
	spinlock_t ready_lock;
	u32 *ready;
	unsigned int ready_head;
	unsigned int ready_count;
	u32 *spare;
	unsigned int spare_head;
	unsigned int spare_count;
	struct page_pool *pp;
	bool spare_stale;
	bool closed;

	/* the device and its mappings: see @dev_lock above */
	struct mutex dev_lock;
	struct net_device *dev;
	netdevice_tracker dev_tracker;
	unsigned int rxq_idx;
	struct device *dma_dev;

	struct xarray pages;
	struct list_head lru;
	unsigned int nr_pages;
	unsigned int max_pages;
	struct mm_struct *mm;
	unsigned long pin_limit;

	refcount_t refs;
	struct vhost_net_bind_stats stats;
};

static const struct memory_provider_ops vhost_net_bind_ops;

/* Counters with a single writer, read locklessly by netlink. */
static void vhost_net_bind_stat_add(u64 *stat, u64 val)
{
	WRITE_ONCE(*stat, *stat + val);
}

static struct vhost_net_bind *vhost_net_bind_of(const struct net_iov *niov)
{
	return container_of(net_iov_owner(niov), struct vhost_net_bind, area);
}

static bool vhost_net_bind_owns(const struct vhost_net_bind *b,
				const struct net_iov *niov)
{
	return net_iov_owner(niov) == &b->area;
}

/* The spare a net_iov of the binding is, or NULL if it is a guest's. */
static struct vhost_net_bind_spare *
vhost_net_bind_spare_of(struct vhost_net_bind *b, u32 idx)
{
	return idx >= b->nr_bufs ? &b->spares[idx - b->nr_bufs] : NULL;
}

/* Drop a reference the binding holds on a net_iov of a page pool; the
 * last one puts it back into the pool, through its ring.
 */
static void vhost_net_bind_netmem_put(netmem_ref netmem)
{
	if (!page_pool_unref_netmem(netmem, 1))
		page_pool_put_unrefed_netmem(netmem_to_net_iov(netmem)->desc.pp,
					     netmem, -1, false);
}

static void __vhost_net_bind_page_release(struct vhost_net_bind *b,
					  struct vhost_net_bind_page *pg);

/* Unmap the spares that are mapped.  Context: dev_lock held, or nothing
 * else sees @b any more.
 */
static void vhost_net_bind_spares_unmap(struct vhost_net_bind *b)
{
	struct vhost_net_bind_spare *sp;
	unsigned int i;

	for (i = 0; i < b->nr_spares; i++) {
		sp = &b->spares[i];
		if (sp->dma == DMA_MAPPING_ERROR)
			continue;
		dma_unmap_page_attrs(b->dma_dev, sp->dma, PAGE_SIZE,
				     DMA_FROM_DEVICE, 0);
		sp->dma = DMA_MAPPING_ERROR;
	}
}

/* The last page pool is gone: the NIC cannot write into the guest pages
 * any more, so they are unmapped and unpinned only now.
 */
static void vhost_net_bind_free(struct vhost_net_bind *b)
{
	struct vhost_net_bind_page *pg;
	unsigned long index;
	unsigned int i;

	WARN_ON_ONCE(b->dev);

	xa_for_each(&b->pages, index, pg)
		__vhost_net_bind_page_release(b, pg);
	/* nr_spares is set only once the arrays are there */
	vhost_net_bind_spares_unmap(b);
	for (i = 0; i < b->nr_spares && b->spares[i].page; i++)
		__free_page(b->spares[i].page);
	if (b->dma_dev)
		put_device(b->dma_dev);
	if (b->mm)
		mmdrop(b->mm);
	xa_destroy(&b->pages);
	mutex_destroy(&b->dev_lock);
	bitmap_free(b->head_armed);
	kvfree(b->spare);
	kvfree(b->spares);
	kvfree(b->ready);
	kvfree(b->idle);
	kvfree(b->bufs);
	kvfree(b->area.niovs);
	kfree(b);
}

static void vhost_net_bind_put(struct vhost_net_bind *b)
{
	if (refcount_dec_and_test(&b->refs))
		vhost_net_bind_free(b);
}

static long vhost_net_bind_refs(netmem_ref netmem)
{
	return atomic_long_read(netmem_get_pp_ref_count_ref(netmem));
}

static void vhost_net_bind_idle_push(struct vhost_net_bind *b, u32 idx)
{
	b->idle[(b->idle_head + b->idle_count++) & (b->nr_bufs - 1)] = idx;
}

/* A net_iov for a new guest buffer: one that never had one, or whose last
 * buffer the guest has and that nobody but the binding still references
 * (a clone of the frame may).
 */
static int vhost_net_bind_idle_pop(struct vhost_net_bind *b)
{
	unsigned int tries = b->idle_count;
	netmem_ref netmem;
	u32 idx;

	while (tries--) {
		idx = b->idle[b->idle_head];
		b->idle_head = (b->idle_head + 1) & (b->nr_bufs - 1);
		b->idle_count--;

		netmem = net_iov_to_netmem(&b->area.niovs[idx]);
		if (!b->bufs[idx].guest || vhost_net_bind_refs(netmem) == 1)
			return idx;
		vhost_net_bind_idle_push(b, idx);
	}
	return -EBUSY;
}

static void vhost_net_bind_ready_push(struct vhost_net_bind *b, u32 idx)
{
	lockdep_assert_held(&b->ready_lock);

	b->ready[(b->ready_head + b->ready_count++) & (b->nr_bufs - 1)] = idx;
}

static void vhost_net_bind_spare_push(struct vhost_net_bind *b, u32 idx)
{
	lockdep_assert_held(&b->ready_lock);

	b->spare[(b->spare_head + b->spare_count++) & (b->nr_spares - 1)] = idx;
}

static u32 vhost_net_bind_spare_pop(struct vhost_net_bind *b)
{
	u32 idx = b->spare[b->spare_head];

	lockdep_assert_held(&b->ready_lock);

	b->spare_head = (b->spare_head + 1) & (b->nr_spares - 1);
	b->spare_count--;
	return idx;
}

/* A spare for @pp, when it has no guest buffer to give: one in no pool,
 * or one parked for @pp (the binding's reference becomes the pool's).
 * Spares parked for an older pool are left to the worker.
 */
static netmem_ref vhost_net_bind_spare_get(struct vhost_net_bind *b,
					   struct page_pool *pp)
{
	unsigned int tries = b->spare_count;
	struct net_iov *niov;
	u32 idx;

	lockdep_assert_held(&b->ready_lock);

	while (tries--) {
		idx = vhost_net_bind_spare_pop(b);
		niov = &b->area.niovs[idx];
		if (!niov->desc.pp) {
			net_mp_niov_set_page_pool(pp, niov);
			return net_iov_to_netmem(niov);
		}
		if (niov->desc.pp == pp)
			return net_iov_to_netmem(niov);
		b->spare_stale = true;
		vhost_net_bind_spare_push(b, idx);
	}
	return 0;
}

/* Whether a spare parked for @pp is to be let go: @pp is not the
 * queue's pool any more, or is being destroyed (it waits for the spare).
 */
static bool vhost_net_bind_spare_stale(const struct vhost_net_bind *b,
				       const struct page_pool *pp)
{
	lockdep_assert_held(&b->ready_lock);

	return pp != b->pp || READ_ONCE(pp->destroy_cnt);
}

/* Let go of parked spares: the stale ones, or all of them (@all: at
 * unbind, or once the queue is gone).  The pool may call
 * ->release_netmem() at once, so the puts are made without the lock.
 *
 * Context: vq mutex held.
 */
static void vhost_net_bind_spares_flush(struct vhost_net_bind *b, bool all)
{
	netmem_ref batch[16];
	unsigned int i, n, tries;
	struct net_iov *niov;
	u32 idx;

	do {
		n = 0;
		spin_lock_bh(&b->ready_lock);
		b->spare_stale = false;
		for (tries = b->spare_count; tries && n < ARRAY_SIZE(batch);
		     tries--) {
			idx = vhost_net_bind_spare_pop(b);
			niov = &b->area.niovs[idx];
			if (niov->desc.pp &&
			    (all || vhost_net_bind_spare_stale(b, niov->desc.pp)))
				batch[n++] = net_iov_to_netmem(niov);
			else
				vhost_net_bind_spare_push(b, idx);
		}
		spin_unlock_bh(&b->ready_lock);

		for (i = 0; i < n; i++)
			vhost_net_bind_netmem_put(batch[i]);
	} while (n == ARRAY_SIZE(batch));
}

/* Whether parked spares may have gone stale: a new pool was made, or the
 * queue's pool is being destroyed (the NIC went down).
 */
static bool vhost_net_bind_flush_due(struct vhost_net_bind *b)
{
	bool ret;

	if (!READ_ONCE(b->spare_count))
		return false;
	spin_lock_bh(&b->ready_lock);
	ret = b->spare_stale || (b->pp && READ_ONCE(b->pp->destroy_cnt));
	spin_unlock_bh(&b->ready_lock);
	return ret;
}

/* Take a reference on each spare of @skb, to park it once @skb is freed.
 * Return: how many, at @held.
 */
static unsigned int vhost_net_bind_spares_hold(struct vhost_net_bind *b,
					       const struct sk_buff *skb,
					       netmem_ref *held)
{
	const struct skb_shared_info *sh = skb_shinfo(skb);
	unsigned int i, n = 0;
	struct net_iov *niov;
	netmem_ref netmem;

	for (i = 0; i < sh->nr_frags; i++) {
		netmem = skb_frag_netmem(&sh->frags[i]);
		if (!netmem_is_net_iov(netmem))
			continue;
		niov = netmem_to_net_iov(netmem);
		if (!vhost_net_bind_owns(b, niov) ||
		    !vhost_net_bind_spare_of(b, net_iov_idx(niov)))
			continue;
		page_pool_ref_netmem(netmem);
		held[n++] = netmem;
	}
	return n;
}

/* The frame the spares at @held were in is gone: park each spare that
 * nobody else references with the binding, to be handed to the NIC only
 * when no guest buffer is armed; drop the reference on the others.
 *
 * Context: vq mutex held.
 */
static void vhost_net_bind_spares_park(struct vhost_net_bind *b,
				       const netmem_ref *held, unsigned int n)
{
	struct vhost_net_bind_spare *sp;
	struct net_iov *niov;
	unsigned int i;
	bool parked;

	for (i = 0; i < n; i++) {
		if (vhost_net_bind_refs(held[i]) != 1) {
			vhost_net_bind_netmem_put(held[i]);
			continue;
		}
		niov = netmem_to_net_iov(held[i]);
		sp = vhost_net_bind_spare_of(b, net_iov_idx(niov));
		mutex_lock(&b->dev_lock);
		if (b->dma_dev)
			dma_sync_single_for_device(b->dma_dev, sp->dma,
						   b->buf_size,
						   DMA_FROM_DEVICE);
		mutex_unlock(&b->dev_lock);

		/* Parked only for the queue's live pool: one that is
		 * going would wait for it.
		 */
		spin_lock_bh(&b->ready_lock);
		parked = !vhost_net_bind_spare_stale(b, niov->desc.pp);
		if (parked)
			vhost_net_bind_spare_push(b, net_iov_idx(niov));
		spin_unlock_bh(&b->ready_lock);
		if (!parked)
			vhost_net_bind_netmem_put(held[i]);
	}
}

static void __vhost_net_bind_page_release(struct vhost_net_bind *b,
					  struct vhost_net_bind_page *pg)
{
	xa_erase(&b->pages, pg->uaddr >> PAGE_SHIFT);
	list_del(&pg->lru);
	if (pg->dma != DMA_MAPPING_ERROR)
		dma_unmap_page_attrs(b->dma_dev, pg->dma, PAGE_SIZE,
				     DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	unpin_user_page(pg->page);
	atomic64_dec(&b->mm->pinned_vm);
	kfree(pg);
	WRITE_ONCE(b->nr_pages, b->nr_pages - 1);
}

/* Context: vq mutex and dev_lock held. */
static void vhost_net_bind_page_release(struct vhost_net_bind *b,
					struct vhost_net_bind_page *pg)
{
	lockdep_assert_held(&b->dev_lock);
	WARN_ON_ONCE(pg->users);

	__vhost_net_bind_page_release(b, pg);
}

/* Count a page about to be pinned in the VMM's pinned_vm, as vhost-vdpa
 * does, unless that goes past its limit.
 */
static int vhost_net_bind_account(struct vhost_net_bind *b)
{
	if (atomic64_inc_return(&b->mm->pinned_vm) > b->pin_limit) {
		atomic64_dec(&b->mm->pinned_vm);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Pinning and mapping a guest page, and making a spare, are functions of
 * their own so that tests can make them fail (fail_function): on an
 * injected error nothing was done.
 */
static noinline int vhost_net_bind_pin(unsigned long uaddr, struct page **page)
{
	int ret;

	ret = pin_user_pages_fast(uaddr, 1, FOLL_WRITE | FOLL_LONGTERM, page);
	if (ret == 1)
		return 0;
	return ret < 0 ? ret : -EFAULT;
}
ALLOW_ERROR_INJECTION(vhost_net_bind_pin, ERRNO);

static noinline int vhost_net_bind_map(struct device *dev, struct page *page,
				       dma_addr_t *dma)
{
	*dma = dma_map_page_attrs(dev, page, 0, PAGE_SIZE, DMA_FROM_DEVICE,
				  DMA_ATTR_SKIP_CPU_SYNC);
	return dma_mapping_error(dev, *dma) ? -ENOMEM : 0;
}
ALLOW_ERROR_INJECTION(vhost_net_bind_map, ERRNO);

/* The pinned and mapped guest page at @uaddr, from the cache or pinned
 * and mapped now.  The pin (which may fault, and wait for the VMM) is
 * taken before dev_lock: device removal waits on that lock.
 *
 * Context: vq mutex held, in the VMM's mm.
 */
static struct vhost_net_bind_page *
vhost_net_bind_page_get(struct vhost_net_bind *b, unsigned long uaddr)
{
	struct vhost_net_bind_page *pg, *old;
	int ret;

	pg = xa_load(&b->pages, uaddr >> PAGE_SHIFT);
	if (pg)
		goto out;

	pg = kzalloc_obj(*pg, GFP_KERNEL_ACCOUNT);
	if (!pg)
		return ERR_PTR(-ENOMEM);
	pg->uaddr = uaddr;
	INIT_LIST_HEAD(&pg->lru);
	ret = vhost_net_bind_account(b);
	if (ret)
		goto err_free;
	ret = vhost_net_bind_pin(uaddr, &pg->page);
	if (ret)
		goto err_unaccount;

	mutex_lock(&b->dev_lock);
	if (!b->dma_dev) {
		ret = -ENODEV;
		goto err_unlock;
	}
	if (b->nr_pages >= b->max_pages) {
		old = list_first_entry_or_null(&b->lru,
					       struct vhost_net_bind_page, lru);
		if (!old) {
			ret = -ENOSPC;
			goto err_unlock;
		}
		vhost_net_bind_page_release(b, old);
	}
	ret = vhost_net_bind_map(b->dma_dev, pg->page, &pg->dma);
	if (ret)
		goto err_unlock;
	ret = xa_err(xa_store(&b->pages, uaddr >> PAGE_SHIFT, pg,
			      GFP_KERNEL_ACCOUNT));
	if (ret)
		goto err_unmap;
	WRITE_ONCE(b->nr_pages, b->nr_pages + 1);
	mutex_unlock(&b->dev_lock);
	vhost_net_bind_stat_add(&b->stats.pin_total, 1);
out:
	if (!pg->users++)
		list_del_init(&pg->lru);
	return pg;

err_unmap:
	dma_unmap_page_attrs(b->dma_dev, pg->dma, PAGE_SIZE, DMA_FROM_DEVICE,
			     DMA_ATTR_SKIP_CPU_SYNC);
err_unlock:
	mutex_unlock(&b->dev_lock);
	unpin_user_page(pg->page);
err_unaccount:
	atomic64_dec(&b->mm->pinned_vm);
err_free:
	kfree(pg);
	return ERR_PTR(ret);
}

/* Context: vq mutex held. */
static void vhost_net_bind_page_put(struct vhost_net_bind *b,
				    struct vhost_net_bind_page *pg)
{
	if (!--pg->users)
		list_add_tail(&pg->lru, &b->lru);
}

/* Take the next posted buffer and arm a net_iov with it.  Returns 0,
 * -ENOBUFS when the avail ring is empty, another errno when the buffer
 * (left in the ring for the ordinary path) or the binding cannot do it.
 */
static int vhost_net_bind_arm_one(struct vhost_net_bind *b)
{
	struct vhost_virtqueue *vq = b->vq;
	unsigned int out, in, log_num = 0, ndesc;
	struct vhost_net_bind_page *pg;
	struct vhost_net_bind_buf *buf;
	struct net_iov *niov;
	unsigned long uaddr;
	int head, idx, ret;

	head = vhost_get_vq_desc_n(vq, vq->iov, ARRAY_SIZE(vq->iov), &out,
				   &in, vq->log, &log_num, &ndesc);
	if (head < 0)
		return head;
	if (head == vq->num)
		return -ENOBUFS;

	uaddr = (unsigned long)vq->iov[0].iov_base;
	if (out || in != 1 || log_num != 1 ||
	    vq->iov[0].iov_len < b->buf_size || !PAGE_ALIGNED(uaddr)) {
		ret = -EINVAL;
		goto err_refused;
	}
	if (test_bit(head, b->head_armed)) {
		vq_err(vq, "RX buffer %d posted again while the NIC holds it\n",
		       head);
		ret = -EINVAL;
		goto err_refused;
	}

	idx = vhost_net_bind_idle_pop(b);
	if (idx < 0) {
		ret = idx;
		goto err_discard;
	}
	pg = vhost_net_bind_page_get(b, uaddr);
	if (IS_ERR(pg)) {
		ret = PTR_ERR(pg);
		vhost_net_bind_stat_add(&b->stats.arm_errors, 1);
		goto err_idle;
	}
	/* The NIC writes one page from the buffer's start: a buffer in a
	 * page another armed buffer has overlaps it.
	 */
	if (pg->users > 1) {
		vhost_net_bind_page_put(b, pg);
		vhost_net_bind_idle_push(b, idx);
		ret = -EINVAL;
		goto err_refused;
	}

	niov = &b->area.niovs[idx];
	mutex_lock(&b->dev_lock);
	/* Unmapped by device removal meanwhile? */
	ret = b->dma_dev ? 0 : -ENODEV;
	/* True when the address does not fit the net_iov */
	if (!ret && net_mp_niov_set_dma_addr(niov, pg->dma))
		ret = -EINVAL;
	if (!ret)
		dma_sync_single_for_device(b->dma_dev, pg->dma, b->buf_size,
					   DMA_FROM_DEVICE);
	mutex_unlock(&b->dev_lock);
	if (ret)
		goto err_page;

	buf = &b->bufs[idx];
	buf->pg = pg;
	buf->gpa = vq->log[0].addr;
	buf->len = min_t(size_t, vq->iov[0].iov_len, U32_MAX);
	buf->head = head;
	__set_bit(head, b->head_armed);
	WRITE_ONCE(b->armed, b->armed + 1);
	vhost_net_bind_stat_add(&b->stats.arm_total, 1);

	if (buf->guest) {
		/* Back into the pool it came from, through its ring: the
		 * reference the binding held is the last one.
		 */
		buf->guest = false;
		vhost_net_bind_netmem_put(net_iov_to_netmem(niov));
	} else {
		spin_lock_bh(&b->ready_lock);
		vhost_net_bind_ready_push(b, idx);
		spin_unlock_bh(&b->ready_lock);
	}
	return 0;

err_page:
	vhost_net_bind_page_put(b, pg);
err_idle:
	vhost_net_bind_idle_push(b, idx);
	goto err_discard;
err_refused:
	/* Counted once per buffer, however often it is looked at. */
	if (b->refused_at != vq->last_avail_idx) {
		b->refused_at = vq->last_avail_idx;
		vhost_net_bind_stat_add(&b->stats.arm_refused, 1);
	}
err_discard:
	vhost_discard_vq_desc(vq, 1, ndesc);
	return ret;
}

/**
 * vhost_net_bind_gone() - whether the bound queue went away
 * @b: the binding
 *
 * Return: true once the queue's device or the lease is gone (.uninstall):
 * nothing is armed again, and another lease may be bound instead.
 */
bool vhost_net_bind_gone(const struct vhost_net_bind *b)
{
	return !READ_ONCE(b->dma_dev);
}

/**
 * vhost_net_bind_refill() - hand newly posted guest buffers to the NIC
 * @b: the binding
 *
 * Arms buffers in the order the guest posted them, until the binding
 * holds its share (half the ring, and no more than the buffers left
 * posted), the ring runs short or the next buffer does not suit the NIC
 * (it is left to the ordinary path).
 *
 * Context: vq mutex held, guest notifications disabled, in the VMM's mm
 * (the vhost worker).
 * Return: -EAGAIN if the ring ran short before the binding had its share
 * (the caller asks the guest for a kick), else 0.
 */
int vhost_net_bind_refill(struct vhost_net_bind *b)
{
	int ret = 0;

	struct vhost_virtqueue *vq = b->vq;
	u16 pending;

	/* Gone with the queue (.uninstall): nothing is armed again, and
	 * no parked spare is of use
	 */
	if (!READ_ONCE(b->dma_dev)) {
		vhost_net_bind_spares_flush(b, true);
		return 0;
	}
	if (vhost_net_bind_flush_due(b))
		vhost_net_bind_spares_flush(b, false);
	while (b->armed < b->armed_max) {
		/* Take at most as many as stay posted: a frame needs a buffer
		 * for its head besides those the NIC filled, and the guest
		 * gets buffers back to repost only as frames complete.
		 */
		vhost_vq_avail_empty(vq->dev, vq);
		pending = vq->avail_idx - vq->last_avail_idx;
		if (b->armed + 2 > pending) {
			ret = -ENOBUFS;
			break;
		}
		ret = vhost_net_bind_arm_one(b);
		if (ret)
			break;
	}
	return ret == -ENOBUFS ? -EAGAIN : 0;
}

/**
 * vhost_net_bind_classify() - how to receive a frame
 * @b: the binding
 * @skb: a frame from the backend
 *
 * A frame is in place when each of its fragments is a whole guest buffer
 * of @b that nothing else references, starting at the buffer's start.  A
 * frame in the binding's spares is copied.
 *
 * Context: vq mutex held.
 */
enum vhost_net_bind_rx vhost_net_bind_classify(struct vhost_net_bind *b,
					       const struct sk_buff *skb)
{
	const struct skb_shared_info *sh = skb_shinfo(skb);
	bool in_place = !skb_has_frag_list(skb);
	const struct net_iov *niov;
	const skb_frag_t *frag;
	unsigned int i, idx;

	if (skb_frags_readable(skb) || !sh->nr_frags)
		return VHOST_NET_BIND_RX_OTHER;

	for (i = 0; i < sh->nr_frags; i++) {
		frag = &sh->frags[i];
		if (!skb_frag_is_net_iov(frag)) {
			in_place = false;
			continue;
		}
		niov = netmem_to_net_iov(skb_frag_netmem(frag));
		if (!vhost_net_bind_owns(b, niov))
			return VHOST_NET_BIND_RX_OTHER;
		idx = net_iov_idx(niov);
		if (vhost_net_bind_spare_of(b, idx)) {
			in_place = false;
			continue;
		}
		if (!b->bufs[idx].pg)
			return VHOST_NET_BIND_RX_OTHER;
		if (skb_frag_off(frag) || skb_frag_size(frag) > b->buf_size ||
		    vhost_net_bind_refs(skb_frag_netmem(frag)) != 1)
			in_place = false;
	}
	return in_place ? VHOST_NET_BIND_RX_IN_PLACE : VHOST_NET_BIND_RX_COPY;
}

static void vhost_net_bind_log(struct vhost_net_bind *b,
			       const struct vhost_net_bind_buf *buf,
			       unsigned int len)
{
	struct vhost_log log = { .addr = buf->gpa, .len = len };
	struct iovec iov = {
		.iov_base = (void __user *)buf->pg->uaddr,
		.iov_len = len,
	};

	vhost_log_write(b->vq, &log, 1, len, &iov, 1);
}

/* Complete the payload buffers of @skb where the NIC wrote them. */
static int vhost_net_bind_complete(struct vhost_net_bind *b,
				   const struct sk_buff *skb,
				   struct vring_used_elem *heads,
				   struct vhost_log *log)
{
	const struct skb_shared_info *sh = skb_shinfo(skb);
	struct vhost_virtqueue *vq = b->vq;
	struct vhost_net_bind_buf *buf;
	const skb_frag_t *frag;
	unsigned int i, idx, len;
	netmem_ref netmem;

	mutex_lock(&b->dev_lock);
	for (i = 0; b->dma_dev && i < sh->nr_frags; i++) {
		frag = &sh->frags[i];
		idx = net_iov_idx(skb_frag_net_iov(frag));
		dma_sync_single_for_cpu(b->dma_dev, b->bufs[idx].pg->dma,
					skb_frag_size(frag), DMA_FROM_DEVICE);
	}
	mutex_unlock(&b->dev_lock);

	for (i = 0; i < sh->nr_frags; i++) {
		frag = &sh->frags[i];
		netmem = skb_frag_netmem(frag);
		idx = net_iov_idx(netmem_to_net_iov(netmem));
		buf = &b->bufs[idx];
		len = skb_frag_size(frag);

		heads[i].id = cpu_to_vhost32(vq, buf->head);
		heads[i].len = cpu_to_vhost32(vq, len);
		if (unlikely(log))
			vhost_net_bind_log(b, buf, len);

		/* The buffer is the guest's now: keep the net_iov out of the
		 * pool until it is armed with another one.
		 */
		page_pool_ref_netmem(netmem);
		__clear_bit(buf->head, b->head_armed);
		vhost_net_bind_page_put(b, buf->pg);
		buf->pg = NULL;
		buf->guest = true;
		vhost_net_bind_idle_push(b, idx);
		vhost_net_bind_stat_add(&b->stats.zc_bytes, len);
	}

	WRITE_ONCE(b->armed, b->armed - sh->nr_frags);
	vhost_net_bind_stat_add(&b->stats.zc_frames, 1);
	return sh->nr_frags;
}

/* Copy the fragments of @skb, from the pinned guest pages or the spares
 * for ours.
 */
static int vhost_net_bind_copy(struct vhost_net_bind *b,
			       const struct sk_buff *skb,
			       struct iov_iter *iter)
{
	const struct skb_shared_info *sh = skb_shinfo(skb);
	struct vhost_net_bind_spare *sp;
	unsigned int i, idx, off, len;
	const skb_frag_t *frag;
	struct page *page;
	dma_addr_t dma;

	if (skb_has_frag_list(skb))
		return -EOPNOTSUPP;

	for (i = 0; i < sh->nr_frags; i++) {
		frag = &sh->frags[i];
		off = skb_frag_off(frag);
		len = skb_frag_size(frag);
		if (skb_frag_is_net_iov(frag)) {
			idx = net_iov_idx(skb_frag_net_iov(frag));
			sp = vhost_net_bind_spare_of(b, idx);
			if (off + len > b->buf_size)
				return -EINVAL;
			mutex_lock(&b->dev_lock);
			/* An unmapped page was synced for the CPU */
			dma = sp ? sp->dma : b->bufs[idx].pg->dma;
			if (b->dma_dev)
				dma_sync_single_for_cpu(b->dma_dev, dma + off,
							len, DMA_FROM_DEVICE);
			mutex_unlock(&b->dev_lock);
			page = sp ? sp->page : b->bufs[idx].pg->page;
		} else {
			page = skb_frag_page(frag);
		}
		if (copy_page_to_iter(page, off, len, iter) != len)
			return -EFAULT;
	}
	return 0;
}

/**
 * vhost_net_bind_rx() - receive a frame of the bound queue
 * @b: the binding
 * @sock: the backend, a tap socket
 * @skb: the frame; consumed
 * @how: what vhost_net_bind_classify() said of it
 * @iter: the buffers taken for the frame's head (in place) or for all of
 *	it (copy), past the header vhost-net writes itself, if any
 * @fixup: where num_buffers goes in the first of them
 * @num_buffers: its value, those buffers and the payload buffers
 * @heads: where the used elements of the payload buffers go (in place)
 * @log: the dirty log, or NULL
 *
 * Writes the virtio-net header the backend would write and the frame's
 * linear part, sets num_buffers, then completes or copies the payload.
 *
 * Context: vq mutex held, in the VMM's mm.
 * Return: the number of payload buffers completed at @heads (0 for a
 * copy), or a negative errno: the frame was dropped (counted); -EFAULT
 * if the guest's buffers could not be written.
 */
int vhost_net_bind_rx(struct vhost_net_bind *b, struct socket *sock,
		      struct sk_buff *skb, enum vhost_net_bind_rx how,
		      struct iov_iter *iter, struct iov_iter *fixup,
		      __virtio16 num_buffers, struct vring_used_elem *heads,
		      struct vhost_log *log)
{
	netmem_ref spares[MAX_SKB_FRAGS];
	unsigned int nr_spares = 0;
	ssize_t hlen;
	int ret;

	if (how == VHOST_NET_BIND_RX_COPY)
		nr_spares = vhost_net_bind_spares_hold(b, skb, spares);
	hlen = tap_put_head(sock, skb, iter);
	if (hlen == -EINVAL)
		hlen = tun_put_head(sock, skb, iter);
	if (hlen < 0) {
		ret = hlen == -EFAULT ? -EFAULT : -EINVAL;
		goto err_drop;
	}
	/* Before any payload buffer is the guest's: a fault here leaves
	 * them all armed.
	 */
	if (copy_to_iter(&num_buffers, sizeof(num_buffers), fixup) !=
	    sizeof(num_buffers)) {
		ret = -EFAULT;
		goto err_drop;
	}

	if (how == VHOST_NET_BIND_RX_COPY) {
		ret = vhost_net_bind_copy(b, skb, iter);
		if (ret)
			goto err_drop;
		if (nr_spares) {
			vhost_net_bind_stat_add(&b->stats.host_frames, 1);
			vhost_net_bind_stat_add(&b->stats.host_bytes, skb->len);
		} else {
			vhost_net_bind_stat_add(&b->stats.copy_frames, 1);
			vhost_net_bind_stat_add(&b->stats.copy_bytes, skb->len);
		}
	} else {
		ret = vhost_net_bind_complete(b, skb, heads, log);
		vhost_net_bind_stat_add(&b->stats.hdr_bytes, hlen);
	}
	consume_skb(skb);
	vhost_net_bind_spares_park(b, spares, nr_spares);
	return ret;

err_drop:
	vhost_net_bind_stat_add(&b->stats.drops, 1);
	kfree_skb(skb);
	vhost_net_bind_spares_park(b, spares, nr_spares);
	return ret;
}

/**
 * vhost_net_bind_rx_other() - count a frame received the ordinary way
 * @b: the binding
 * @len: its length
 *
 * Context: vq mutex held.
 */
void vhost_net_bind_rx_other(struct vhost_net_bind *b, unsigned int len)
{
	vhost_net_bind_stat_add(&b->stats.other_frames, 1);
	vhost_net_bind_stat_add(&b->stats.other_bytes, len);
}

/**
 * vhost_net_bind_rx_drop() - count a frame of the bound queue dropped
 * @b: the binding
 *
 * Context: vq mutex held.
 */
void vhost_net_bind_rx_drop(struct vhost_net_bind *b)
{
	vhost_net_bind_stat_add(&b->stats.drops, 1);
}

static netmem_ref vhost_net_bind_alloc_netmems(struct page_pool *pp,
					       gfp_t gfp)
{
	struct vhost_net_bind *b = pp->mp_priv;
	netmem_ref *cache = pp->alloc.cache;
	unsigned int n = 0;
	struct net_iov *niov;
	u32 idx;

	/* The pool asks only once its cache is empty. */
	if (WARN_ON_ONCE(pp->alloc.count))
		return 0;

	spin_lock_bh(&b->ready_lock);
	while (!b->closed && b->ready_count && n < PP_ALLOC_CACHE_REFILL) {
		idx = b->ready[b->ready_head];
		b->ready_head = (b->ready_head + 1) & (b->nr_bufs - 1);
		b->ready_count--;
		niov = &b->area.niovs[idx];
		net_mp_niov_set_page_pool(pp, niov);
		cache[n++] = net_iov_to_netmem(niov);
	}
	/* No guest buffer: one spare, for this frame only */
	if (!n && !b->closed) {
		cache[0] = vhost_net_bind_spare_get(b, pp);
		n = !!cache[0];
	}
	if (!n)
		vhost_net_bind_stat_add(&b->stats.alloc_empty, 1);
	spin_unlock_bh(&b->ready_lock);

	if (!n)
		return 0;
	pp->alloc.count = n - 1;
	return cache[n - 1];
}

static bool vhost_net_bind_release_netmem(struct page_pool *pp,
					  netmem_ref netmem)
{
	struct vhost_net_bind *b = pp->mp_priv;
	struct net_iov *niov;
	u32 idx;

	if (WARN_ON_ONCE(!netmem_is_net_iov(netmem)))
		return false;
	niov = netmem_to_net_iov(netmem);
	if (WARN_ON_ONCE(vhost_net_bind_of(niov) != b))
		return false;
	net_mp_niov_clear_page_pool(niov);
	idx = net_iov_idx(niov);

	/* A spare, or still armed with the guest buffer the NIC did not
	 * fill: the next pool of the binding gets it.  A net_iov the guest's
	 * buffer was completed from is held by the binding and never gets
	 * here.
	 */
	spin_lock_bh(&b->ready_lock);
	if (!b->closed) {
		if (vhost_net_bind_spare_of(b, idx))
			vhost_net_bind_spare_push(b, idx);
		else if (!WARN_ON_ONCE(b->bufs[idx].guest))
			vhost_net_bind_ready_push(b, idx);
	}
	spin_unlock_bh(&b->ready_lock);
	return false;
}

static int vhost_net_bind_pp_init(struct page_pool *pp)
{
	struct vhost_net_bind *b = pp->mp_priv;

	/* One guest page per buffer. */
	if (pp->p.order || pp->p.dma_dir != DMA_FROM_DEVICE)
		return -EOPNOTSUPP;
	if (pp->p.dev != READ_ONCE(b->dma_dev))
		return -EINVAL;

	refcount_inc(&b->refs);
	/* Spares parked for the old pool keep it alive: the worker lets
	 * them go.
	 */
	spin_lock_bh(&b->ready_lock);
	b->pp = pp;
	b->spare_stale = true;
	if (!b->closed)
		vhost_poll_queue(&b->vq->poll);
	spin_unlock_bh(&b->ready_lock);
	return 0;
}

static void vhost_net_bind_pp_destroy(struct page_pool *pp)
{
	struct vhost_net_bind *b = pp->mp_priv;

	spin_lock_bh(&b->ready_lock);
	if (b->pp == pp)
		b->pp = NULL;
	spin_unlock_bh(&b->ready_lock);
	vhost_net_bind_put(b);
}

static int vhost_net_bind_nl_fill(void *mp_priv, struct sk_buff *rsp,
				  struct netdev_rx_queue *rxq)
{
	const struct vhost_net_bind *b = mp_priv;
	const struct vhost_net_bind_stats *s = &b->stats;
	const struct {
		int type;
		u64 val;
	} attrs[] = {
		{ NETDEV_A_VHOST_PROVIDER_INFO_RX_BUF_LEN, b->buf_size },
		{ NETDEV_A_VHOST_PROVIDER_INFO_ZC_FRAMES, READ_ONCE(s->zc_frames) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_ZC_BYTES, READ_ONCE(s->zc_bytes) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_HDR_BYTES, READ_ONCE(s->hdr_bytes) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_COPY_FRAMES, READ_ONCE(s->copy_frames) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_COPY_BYTES, READ_ONCE(s->copy_bytes) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_OTHER_FRAMES, READ_ONCE(s->other_frames) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_OTHER_BYTES, READ_ONCE(s->other_bytes) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_BUFS_ARMED, READ_ONCE(b->armed) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_ARM_TOTAL, READ_ONCE(s->arm_total) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_ARM_REFUSED, READ_ONCE(s->arm_refused) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_ALLOC_EMPTY, READ_ONCE(s->alloc_empty) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_PINNED_PAGES, READ_ONCE(b->nr_pages) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_PIN_TOTAL, READ_ONCE(s->pin_total) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_SCRUBBED, READ_ONCE(s->scrubbed) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_DROPS, READ_ONCE(s->drops) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_HOST_PAGES, b->nr_spares },
		{ NETDEV_A_VHOST_PROVIDER_INFO_HOST_FRAMES, READ_ONCE(s->host_frames) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_HOST_BYTES, READ_ONCE(s->host_bytes) },
		{ NETDEV_A_VHOST_PROVIDER_INFO_ARM_ERRORS, READ_ONCE(s->arm_errors) },
	};
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(rsp, rxq ? NETDEV_A_QUEUE_VHOST :
					 NETDEV_A_PAGE_POOL_VHOST);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		if (nla_put_uint(rsp, attrs[i].type, attrs[i].val)) {
			nla_nest_cancel(rsp, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(rsp, nest);
	return 0;
}

/* Context: dev_lock held. */
static void vhost_net_bind_unmap(struct vhost_net_bind *b)
{
	struct vhost_net_bind_page *pg;
	unsigned long index;

	lockdep_assert_held(&b->dev_lock);

	if (!b->dma_dev)
		return;
	/* Synced for the CPU: frames in flight are still completed. */
	xa_for_each(&b->pages, index, pg) {
		dma_unmap_page_attrs(b->dma_dev, pg->dma, PAGE_SIZE,
				     DMA_FROM_DEVICE, 0);
		pg->dma = DMA_MAPPING_ERROR;
	}
	vhost_net_bind_spares_unmap(b);
	put_device(b->dma_dev);
	WRITE_ONCE(b->dma_dev, NULL);
}

/* The queue goes away (its device unregisters, or the lease ends) before
 * vhost-net unbinds: let go of the device and of the mappings for it now.
 * Frames in flight are still completed; nothing is armed again.
 *
 * Context: the netdev instance lock of the queue's device held.
 */
static void vhost_net_bind_uninstall(void *mp_priv, struct netdev_rx_queue *rxq)
{
	struct vhost_net_bind *b = mp_priv;

	mutex_lock(&b->dev_lock);
	vhost_net_bind_unmap(b);
	if (b->dev) {
		netdev_put(b->dev, &b->dev_tracker);
		b->dev = NULL;
	}
	mutex_unlock(&b->dev_lock);

	rxq->mp_params.mp_ops = NULL;
	rxq->mp_params.mp_priv = NULL;
}

static const struct memory_provider_ops vhost_net_bind_ops = {
	.alloc_netmems	= vhost_net_bind_alloc_netmems,
	.release_netmem	= vhost_net_bind_release_netmem,
	.init		= vhost_net_bind_pp_init,
	.destroy	= vhost_net_bind_pp_destroy,
	.nl_fill	= vhost_net_bind_nl_fill,
	.uninstall	= vhost_net_bind_uninstall,
};

/* A zeroed, mapped page for @sp; on failure, @sp keeps what it had. */
static noinline int vhost_net_bind_spare_new(struct vhost_net_bind *b,
					     struct vhost_net_bind_spare *sp)
{
	struct page *page;
	dma_addr_t dma;

	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		return -ENOMEM;
	dma = dma_map_page_attrs(b->dma_dev, page, 0, PAGE_SIZE,
				 DMA_FROM_DEVICE, 0);
	if (dma_mapping_error(b->dma_dev, dma)) {
		__free_page(page);
		return -ENOMEM;
	}
	sp->page = page;
	sp->dma = dma;
	return 0;
}
ALLOW_ERROR_INJECTION(vhost_net_bind_spare_new, ERRNO);

/* The spares: zeroed once here, as they enter the binding, and mapped
 * for the NIC.  Context: dev_lock not needed, nothing else sees @b yet.
 */
static int vhost_net_bind_spares_alloc(struct vhost_net_bind *b)
{
	struct vhost_net_bind_spare *sp;
	struct net_iov *niov;
	unsigned int i;
	int ret;

	for (i = 0; i < b->nr_spares; i++)
		b->spares[i].dma = DMA_MAPPING_ERROR;
	for (i = 0; i < b->nr_spares; i++) {
		sp = &b->spares[i];
		ret = vhost_net_bind_spare_new(b, sp);
		if (ret)
			return ret;
		niov = &b->area.niovs[b->nr_bufs + i];
		if (net_mp_niov_set_dma_addr(niov, sp->dma))
			return -EINVAL;
		b->spare[i] = b->nr_bufs + i;
	}
	b->spare_count = b->nr_spares;
	return 0;
}

static struct vhost_net_bind *vhost_net_bind_alloc(struct vhost_virtqueue *vq,
						   struct device *dma_dev)
{
	unsigned int i, n = vq->num, spares = max(n / 2, 1U);
	struct vhost_net_bind *b;

	/* vhost_vring_set_num() takes powers of 2 only. */
	if (WARN_ON_ONCE(!is_power_of_2(n)))
		return NULL;

	b = kzalloc_obj(*b, GFP_KERNEL_ACCOUNT);
	if (!b)
		return NULL;
	spin_lock_init(&b->ready_lock);
	mutex_init(&b->dev_lock);
	xa_init(&b->pages);
	INIT_LIST_HEAD(&b->lru);
	b->dma_dev = get_device(dma_dev);
	b->area.niovs = kvcalloc(n + spares, sizeof(*b->area.niovs),
				 GFP_KERNEL_ACCOUNT);
	b->bufs = kvcalloc(n, sizeof(*b->bufs), GFP_KERNEL_ACCOUNT);
	b->idle = kvcalloc(n, sizeof(*b->idle), GFP_KERNEL_ACCOUNT);
	b->ready = kvcalloc(n, sizeof(*b->ready), GFP_KERNEL_ACCOUNT);
	b->spares = kvcalloc(spares, sizeof(*b->spares), GFP_KERNEL_ACCOUNT);
	b->spare = kvcalloc(spares, sizeof(*b->spare), GFP_KERNEL_ACCOUNT);
	b->head_armed = bitmap_zalloc(n, GFP_KERNEL_ACCOUNT);
	if (!b->area.niovs || !b->bufs || !b->idle || !b->ready ||
	    !b->spares || !b->spare || !b->head_armed)
		goto err_free;

	b->area.num_niovs = n + spares;
	b->nr_bufs = n;
	b->nr_spares = spares;
	for (i = 0; i < n + spares; i++)
		net_iov_init(&b->area.niovs[i], &b->area, NET_IOV_VHOST);
	for (i = 0; i < n; i++)
		vhost_net_bind_idle_push(b, i);
	if (vhost_net_bind_spares_alloc(b))
		goto err_free;

	b->armed_max = max(n / 2, 1U);
	b->buf_size = PAGE_SIZE;
	b->max_pages = n * VHOST_NET_BIND_PAGES_PER_BUF;
	/* Pinned for as long as the binding lives, as vfio and io_uring
	 * pin: counted against the VMM's RLIMIT_MEMLOCK like theirs.
	 */
	b->mm = vq->dev->mm;
	mmgrab(b->mm);
	b->pin_limit = capable(CAP_IPC_LOCK) ? ULONG_MAX :
		       rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	b->refused_at = vq->last_avail_idx - 1;
	b->vq = vq;
	refcount_set(&b->refs, 1);
	return b;

err_free:
	vhost_net_bind_free(b);
	return NULL;
}

/* The queue the backend's device leases, the first with no provider if
 * it holds several.  A macvtap gets frames only from its lower device,
 * so only a queue of that one counts; a tap gets them from whatever it
 * is bridged to, so any device's does.
 */
static int vhost_net_bind_find_lease(struct net_device *dev)
{
	struct net_device *lower = NULL;
	struct netdev_rx_queue *rxq;
	unsigned int i;

	netdev_assert_locked(dev);

	if (netif_is_macvlan(dev))
		lower = macvlan_dev_real_dev(dev);
	for (i = 0; i < dev->real_num_rx_queues; i++) {
		rxq = __netif_get_rx_queue(dev, i);
		if (!rxq->lease || (lower && rxq->lease->dev != lower))
			continue;
		/* Not one with a provider already (another binding, or
		 * io_uring's through the same lease)
		 */
		if (!READ_ONCE(rxq->lease->mp_params.mp_ops))
			return i;
	}
	return -ENOENT;
}

/* The device behind a macvtap or tap socket, with a reference held. */
static struct net_device *vhost_net_bind_backend_dev(struct socket *sock,
						     netdevice_tracker *tracker)
{
	struct net_device *dev = tap_get_netdev(sock, tracker);

	if (dev == ERR_PTR(-EINVAL))
		dev = tun_get_netdev(sock, tracker);
	return dev;
}

/* Have the backend's queue that @sock reads take the frames received
 * into the buffers of binding @new in place of @old's: a backend with
 * several queues (a multi-queue guest, one vhost-net device per queue
 * pair) gives each binding's frames to its own queue.
 */
static int vhost_net_bind_set_reader(struct socket *sock,
				     const struct vhost_net_bind *old,
				     const struct vhost_net_bind *new)
{
	int ret = tap_set_rx_provider(sock, old, new);

	return ret == -EINVAL ? tun_set_rx_provider(sock, old, new) : ret;
}

/**
 * vhost_net_bind_lease_seq() - a number that changes when a backend leases
 * @sock: the RX backend
 *
 * Return: the backend's lease sequence number (tap_lease_seq(),
 * tun_lease_seq()), 0 for a backend that cannot lease.
 */
u32 vhost_net_bind_lease_seq(struct socket *sock)
{
	return tap_lease_seq(sock) ?: tun_lease_seq(sock);
}

/**
 * vhost_net_bind_open() - bind the backend's leased RX queue to the guest
 * @vq: the RX virtqueue, with its new backend
 * @sock: the backend
 * @bindp: the binding made, or NULL
 *
 * Nothing is bound, and 0 returned, when @sock is not a macvtap or tap
 * that leases a queue.  When it is but the binding cannot be made, the
 * reason is logged on the backend's device and vhost-net goes
 * on with the ordinary path.  No buffer is armed yet: the caller runs
 * the worker, which calls vhost_net_bind_refill().
 *
 * Context: vq mutex held.
 * Return: 0 or a negative errno.
 */
int vhost_net_bind_open(struct vhost_virtqueue *vq, struct socket *sock,
			struct vhost_net_bind **bindp)
{
	struct pp_memory_provider_params p = { .mp_ops = &vhost_net_bind_ops };
	struct netlink_ext_ack extack = {};
	netdevice_tracker tracker;
	struct vhost_net_bind *b;
	struct net_device *dev;
	struct device *dma_dev;
	int idx, ret;

	*bindp = NULL;
	dev = vhost_net_bind_backend_dev(sock, &tracker);
	if (IS_ERR(dev))
		return 0;

	netdev_lock(dev);
	idx = vhost_net_bind_find_lease(dev);
	if (idx < 0) {
		ret = 0;
		goto err_unlock;
	}
	/* Payload buffers are completed out of order, as buffers after
	 * the one holding the headers.
	 */
	if (!vhost_has_feature(vq, VIRTIO_NET_F_MRG_RXBUF) ||
	    vhost_has_feature(vq, VIRTIO_F_IN_ORDER)) {
		NL_SET_ERR_MSG(&extack,
			       "the guest needs mergeable RX buffers and no in-order use");
		ret = -EOPNOTSUPP;
		goto err_unlock;
	}
	/* IOTLB invalidations would have to disarm buffers: not done. */
	if (vhost_has_feature(vq, VIRTIO_F_ACCESS_PLATFORM)) {
		NL_SET_ERR_MSG(&extack, "the guest uses a vIOMMU");
		ret = -EOPNOTSUPP;
		goto err_unlock;
	}
	dma_dev = netdev_queue_get_dma_dev(dev, idx, NETDEV_QUEUE_TYPE_RX);
	if (!dma_dev) {
		NL_SET_ERR_MSG(&extack, "the queue has no DMA device");
		ret = -EOPNOTSUPP;
		goto err_unlock;
	}
	b = vhost_net_bind_alloc(vq, dma_dev);
	if (!b) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	b->dev = dev;
	b->dev_tracker = tracker;
	b->rxq_idx = idx;

	ret = vhost_net_bind_set_reader(sock, NULL, b);
	if (ret) {
		NL_SET_ERR_MSG(&extack,
			       "the backend queue takes another binding's frames");
		goto err_free;
	}
	p.mp_priv = b;
	ret = netif_mp_open_rxq(dev, idx, &p, &extack);
	if (ret)
		goto err_reader;
	netdev_unlock(dev);

	/* The caller has the worker arm buffers (vhost_net_bind_refill()),
	 * with guest notifications off as taking descriptors needs.  A NIC
	 * that fills its ring at the restart takes spares meanwhile; they
	 * make way for guest buffers as frames complete.
	 */
	*bindp = b;
	return 0;

err_reader:
	vhost_net_bind_set_reader(sock, b, NULL);
err_free:
	mutex_lock(&b->dev_lock);
	vhost_net_bind_unmap(b);
	b->dev = NULL;
	mutex_unlock(&b->dev_lock);
	vhost_net_bind_put(b);
err_unlock:
	if (ret)
		netdev_warn(dev, "vhost-net: RX queue %d not bound to the guest: %s (%d)\n",
			    idx, extack._msg ?: "", ret);
	netdev_unlock(dev);
	netdev_put(dev, &tracker);
	return ret;
}

/* Zero guest buffer @buf and let it go; queue it to return to the guest
 * with length 0 when @to_guest (in vq->heads, *@n of them so far).
 */
static void vhost_net_bind_return_one(struct vhost_net_bind *b,
				      struct vhost_net_bind_buf *buf,
				      bool to_guest, unsigned int *n)
{
	struct vhost_virtqueue *vq = b->vq;

	memzero_page(buf->pg->page, 0, b->buf_size);
	vhost_net_bind_stat_add(&b->stats.scrubbed, 1);
	__clear_bit(buf->head, b->head_armed);
	vhost_net_bind_page_put(b, buf->pg);
	buf->pg = NULL;
	WRITE_ONCE(b->armed, b->armed - 1);
	if (!to_guest)
		return;

	vq->heads[*n].id = cpu_to_vhost32(vq, buf->head);
	vq->heads[*n].len = 0;
	if (++*n == vq->dev->iov_limit) {
		vhost_add_used_n(vq, vq->heads, NULL, *n);
		*n = 0;
	}
}

/* Zero and return every guest buffer the binding holds, with length 0
 * when @to_guest; drop the references that kept completed ones out of
 * their pool.  When @nic_holds, the queue still runs the binding's pool:
 * only the buffers on the ready ring are out of the NIC's reach, and
 * the others stay with it.
 *
 * Context: vq mutex held, the binding closed (the ready ring is still).
 */
static void vhost_net_bind_give_back(struct vhost_net_bind *b, bool to_guest,
				     bool nic_holds)
{
	struct vhost_net_bind_buf *buf;
	unsigned int i, n = 0;
	struct net_iov *niov;

	for (i = 0; nic_holds && i < b->ready_count; i++) {
		buf = &b->bufs[b->ready[(b->ready_head + i) & (b->nr_bufs - 1)]];
		if (buf->pg)
			vhost_net_bind_return_one(b, buf, to_guest, &n);
	}
	for (i = 0; i < b->nr_bufs; i++) {
		buf = &b->bufs[i];
		niov = &b->area.niovs[i];

		if (buf->guest) {
			buf->guest = false;
			vhost_net_bind_netmem_put(net_iov_to_netmem(niov));
			continue;
		}
		if (buf->pg && !nic_holds)
			vhost_net_bind_return_one(b, buf, to_guest, &n);
	}
	if (n)
		vhost_add_used_n(b->vq, b->vq->heads, NULL, n);
	if (to_guest)
		vhost_signal(b->vq->dev, b->vq);
}

/* The NIC keeps the binding's pool: point the DMA address of every guest
 * net_iov at the first spare page, so that whatever the NIC takes from
 * the pool from now on lands there and never in memory the guest gets
 * back.  The buffers it has taken already it may still fill: they stay
 * with it (vhost_net_bind_give_back()).
 */
static void vhost_net_bind_sink(struct vhost_net_bind *b)
{
	dma_addr_t sink;
	unsigned int i;

	mutex_lock(&b->dev_lock);
	sink = b->spares[0].dma;
	for (i = 0; sink != DMA_MAPPING_ERROR && i < b->nr_bufs; i++)
		net_mp_niov_set_dma_addr(&b->area.niovs[i], sink);
	mutex_unlock(&b->dev_lock);
}

/* Frames still queued on the backend with payload in the binding's
 * guest buffers: nobody can read them any more, and they would keep the
 * binding's page pools alive until the backend is closed.  Drop them and
 * put the others back in front, in order.
 */
static void vhost_net_bind_purge(struct vhost_net_bind *b,
				 struct socket *sock, struct ptr_ring *ring)
{
	int i, n, kept = 0;
	void **ptrs;

	if (!ring)
		return;
	ptrs = kvmalloc_array(ring->size, sizeof(*ptrs), GFP_KERNEL);
	if (!ptrs)
		return;
	n = ptr_ring_consume_batched_bh(ring, ptrs, ring->size);
	for (i = 0; i < n; i++) {
		/* A tap's ring also holds XDP frames, never the binding's */
		if (tun_is_xdp_frame(ptrs[i]) ||
		    vhost_net_bind_classify(b, ptrs[i]) ==
		    VHOST_NET_BIND_RX_OTHER) {
			ptrs[kept++] = ptrs[i];
			continue;
		}
		vhost_net_bind_stat_add(&b->stats.drops, 1);
		kfree_skb(ptrs[i]);
	}
	ptr_ring_unconsume(ring, ptrs, kept, vhost_net_ring_free);
	kvfree(ptrs);
	/* A tap stops its queue when the ring is full: room was made */
	if (n > kept && sock) {
		spin_lock_bh(&ring->consumer_lock);
		tun_wake_queue(sock->file, n - kept);
		spin_unlock_bh(&ring->consumer_lock);
	}
}

/**
 * vhost_net_bind_close() - unbind the queue from the guest
 * @b: the binding, or NULL
 * @sock: the backend
 * @ring: the backend's queue of received frames (its ptr_ring)
 *
 * Restarts the queue without the binding, drops the frames of the
 * binding still queued on @ring, zeroes the guest buffers the NIC held
 * and, when called in the VMM's mm, returns them used with length 0 (a
 * VMM that is exiting gets nothing back).  The guest pages are unpinned
 * when the binding's last page pool is gone.  @b must not be used
 * afterwards.
 *
 * Context: vq mutex held, backend being detached; vhost-net has put the
 * frames it took from @ring back.
 */
void vhost_net_bind_close(struct vhost_net_bind *b, struct socket *sock,
			  struct ptr_ring *ring)
{
	struct pp_memory_provider_params p = {
		.mp_ops = &vhost_net_bind_ops,
		.mp_priv = b,
	};
	struct netdev_rx_queue *lease;
	netdevice_tracker tracker;
	struct net_device *dev;
	bool nic_holds;

	if (!b)
		return;

	mutex_lock(&b->dev_lock);
	dev = b->dev;
	tracker = b->dev_tracker;
	b->dev = NULL;
	mutex_unlock(&b->dev_lock);

	if (dev) {
		netdev_lock(dev);
		/* An ended lease took the provider with it, and a lease made
		 * in its place since (the backend's lock keeps one from
		 * coming now) is not ours.
		 */
		lease = READ_ONCE(__netif_get_rx_queue(dev, b->rxq_idx)->lease);
		if (lease && READ_ONCE(lease->mp_params.mp_priv) == b)
			netif_mp_close_rxq(dev, b->rxq_idx, &p);
		netdev_unlock(dev);
	}

	/* The NIC has given back what it held, unless the queue failed to
	 * restart and still runs the binding's pool.  Frames still on their
	 * way (in a backlog) are dropped by the backend from now on, and
	 * return their buffers to a pool that no longer hands them out.
	 */
	if (sock)
		vhost_net_bind_set_reader(sock, b, NULL);
	vhost_net_bind_purge(b, sock, ring);
	spin_lock_bh(&b->ready_lock);
	b->closed = true;
	/* The binding's last pool was not destroyed: the restart failed
	 * (the core warns), and the NIC still takes buffers from it.
	 */
	nic_holds = b->pp && !READ_ONCE(b->pp->destroy_cnt);
	spin_unlock_bh(&b->ready_lock);
	if (nic_holds)
		vhost_net_bind_sink(b);
	vhost_net_bind_spares_flush(b, true);

	vhost_net_bind_give_back(b, current->mm && current->mm == b->vq->dev->mm,
				 nic_holds);
	if (nic_holds && dev)
		netdev_warn(dev, "vhost-net: RX queue %u did not restart without the guest's buffers; the NIC keeps %u of them\n",
			    b->rxq_idx, b->armed);
	if (dev)
		netdev_put(dev, &tracker);

	/* The pages stay pinned until the last pool is gone: a queue that
	 * failed to restart still runs the old one.
	 */
	vhost_net_bind_put(b);
}
