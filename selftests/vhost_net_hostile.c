// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest on a guest-bound RX queue, randomized and seeded.
 *
 * The guest is its own RX driver here.  While the peer port sends frames
 * to the bound queue (and frames tagged for others to the other queues),
 * it posts good buffers and bad ones in a random order drawn from a seed:
 * outside its memory, into its own vrings, overlapping each other, of
 * length 0 or 4 GiB, read-only, chained in loops, indirect (nested, too
 * long, misaligned), ids past the ring, an avail index that jumps; it
 * posts buffers the NIC holds again, stops posting for a while, resets
 * the RX virtqueue and shrinks its memory table under the traffic.
 *
 * What must hold, checked as it goes:
 *  - the host completes only what was posted, within what was posted,
 *    and every frame that landed in buffers nobody else could touch is
 *    byte for byte what was sent;
 *  - nothing is written outside the buffers the guest has posted: the
 *    free guest memory carries a guard pattern, restored wherever a
 *    buffer comes back, and is compared against it at every checkpoint;
 *  - a buffer given back unused is zero where the NIC could write;
 *  - no byte from host memory (pages filled with a tag beforehand) or
 *    from frames for others (tagged too) is anywhere in guest memory;
 *  - the binding never pins more than its bound, still receives in place
 *    at the end, leaves no page pool behind, and the kernel logs no
 *    warning.
 * The guest's choices replay from the printed seed (VHOST_HOSTILE_SEED=N);
 * the host's timing does not.  VHOST_HOSTILE_ITERS and VHOST_HOSTILE_SECS
 * bound the run (defaults 3000 iterations, 150 s).
 *
 * life.events_under_traffic puts the same rig through lifecycle events
 * (VHOST_LIFE_*), and life.vhost_ioctl_fuzz fuzzes the vhost ioctls on a
 * bound guest (VHOST_FUZZ_SEED, VHOST_FUZZ_ITERS); see each test.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/netdev.h>
#include <linux/vhost.h>
#include <linux/virtio_ring.h>
#include <net/if.h>

#include "../../../kselftest_harness.h"
#include "nsim.h"
#include "vhost_guest.h"

#define NQ		4
#define QB		3	/* the bound queue */
#define MTU		9000
#define RING		256U
#define PG		4096UL
#define HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define MEM_SIZE	(16UL << 20)
#define MEM_GPA		0x40000000ULL
/* Avail entries the guest keeps outstanding at most, and the most
 * segments one posted buffer may have (an indirect table of a page).
 */
#define MAX_OUT		(RING - 4)
#define MAX_SEG		(PG / sizeof(struct vring_desc))
/* What the binding may pin: two pages per buffer of the ring. */
#define MAX_PINNED	(2 * RING)

#define VS(s, name)	((s).v[NETDEV_A_VHOST_PROVIDER_INFO_ ## name])

static const char host_tag[8] = "HoStTaG!", foreign_tag[8] = "FoReIgN!";

enum act {
	A_GOOD, A_SHORT, A_CHAIN, A_INDIRECT, A_OUTSIDE, A_HUGE, A_ZERO,
	A_RING, A_OVERLAP, A_LOOP, A_READONLY, A_BAD_INDIRECT, A_BAD_ID,
	A_AVAIL_JUMP, A_REPOST, A_STARVE, A_RESET, A_MEM_SAME, A_MEM_HALF,
	A_WAIT, A_NR
};

struct seg {
	__u64 gpa;
	__u32 len;
};

/* What one head descriptor the guest put on the avail ring stands for. */
struct head {
	unsigned int outstanding;	/* avail entries not yet used */
	bool clean;		/* nothing but this buffer can be written there */
	unsigned int nseg;
	struct seg seg[MAX_SEG];
	unsigned int ndesc;
	__u16 desc[8];		/* descriptor table entries it holds */
	__u64 cap;		/* bytes it offers */
};

struct hostile {
	struct vhost_guest *g;
	struct vhost_guest_vring vr;
	unsigned char *mem;
	__u64 rng;
	struct head heads[RING];
	bool desc_busy[RING];
	__u16 avail_idx, last_used;
	unsigned int out;	/* avail entries outstanding, bad ids too */

	/* The free guest memory: its guard, and per byte how many posted
	 * buffers cover it; per page the bytes covered and whether
	 * something else than one clean buffer did.
	 */
	unsigned char *arena;
	__u64 arena_gpa;
	size_t arena_len;
	unsigned char *guard;
	__u32 *cover;
	__u32 *page_covered;
	bool *tainted;
	/* Indirect tables: a page per head in the library's own buffers. */
	unsigned char *tables;
	__u64 tables_gpa;

	/* Frame being reassembled */
	unsigned int need;
	bool fclean;
	size_t flen;
	unsigned char fdata[VHOST_GUEST_MAX_FRAME];
	/* The guest wrote over its own rings or lost the frame boundaries:
	 * checks wait for the next reset.
	 */
	bool clobbered, desync;
	int reset_in;
	bool mem_halved;
	__u64 vq_errors;
	/* Each unbind ends a binding: its counters, summed */
	int nic;
	struct nsim_vhost_stats bound;

	/* What was done and what held */
	unsigned int done[A_NR];
	__u64 posted_good, posted_bad, used, zero_len, zero_checked;
	__u64 frames, frames_checked, bytes_checked, frames_other;
	__u64 guard_checks, guard_bytes, resets, tag_scans;
	char fail[256];
};

static __u64 rnd(struct hostile *h)
{
	/* xorshift64* */
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned int rnd_below(struct hostile *h, unsigned int n)
{
	return (unsigned int)(rnd(h) >> 32) % n;
}

__printf(2, 3)
static void host_fail(struct hostile *h, const char *fmt, ...)
{
	va_list ap;

	if (h->fail[0])
		return;
	va_start(ap, fmt);
	vsnprintf(h->fail, sizeof(h->fail), fmt, ap);
	va_end(ap);
}

static unsigned char guard_byte(size_t off)
{
	return (unsigned char)((off * 131) ^ (off >> 9) ^ 0x5c);
}

/* The part of [@gpa, @gpa + @len) in the arena, as offsets into it. */
static bool arena_part(const struct hostile *h, __u64 gpa, __u64 len,
		       size_t *start, size_t *end)
{
	__u64 lo = gpa, hi = gpa + len;

	if (hi < lo)		/* wraps */
		hi = ~0ULL;
	if (lo < h->arena_gpa)
		lo = h->arena_gpa;
	if (hi > h->arena_gpa + h->arena_len)
		hi = h->arena_gpa + h->arena_len;
	if (lo >= hi)
		return false;
	*start = lo - h->arena_gpa;
	*end = hi - h->arena_gpa;
	return true;
}

/* How far into a buffer the host may write: one frame, whatever the
 * buffer claims.
 */
static __u64 seg_reach(const struct seg *s)
{
	return s->len < 2 * VHOST_GUEST_MAX_FRAME ? s->len : 2 * VHOST_GUEST_MAX_FRAME;
}

/* What lands in the pages of @s may be overwritten by another buffer. */
static void taint(struct hostile *h, const struct seg *s)
{
	size_t i, start, end;

	if (!arena_part(h, s->gpa, seg_reach(s), &start, &end))
		return;
	for (i = start / PG; i <= (end - 1) / PG; i++)
		h->tainted[i] = true;
}

static void cover(struct hostile *h, const struct seg *s, bool clean)
{
	size_t i, start, end;

	if (!arena_part(h, s->gpa, seg_reach(s), &start, &end))
		return;
	for (i = start; i < end; i++)
		if (!h->cover[i]++)
			h->page_covered[i / PG]++;
	if (!clean)
		taint(h, s);
}

/* A buffer came back: its bytes nobody else covers are the guest's again,
 * and get their guard back.
 */
static void uncover(struct hostile *h, const struct seg *s)
{
	size_t i, start, end;

	if (!arena_part(h, s->gpa, seg_reach(s), &start, &end))
		return;
	for (i = start; i < end; i++) {
		if (--h->cover[i])
			continue;
		h->arena[i] = h->guard[i];
		if (!--h->page_covered[i / PG])
			h->tainted[i / PG] = false;
	}
}

static bool head_clean(const struct hostile *h, const struct head *hd)
{
	size_t start, end, p;
	unsigned int i;

	if (!hd->clean)
		return false;
	for (i = 0; i < hd->nseg; i++) {
		if (!arena_part(h, hd->seg[i].gpa, hd->seg[i].len, &start, &end))
			return false;
		for (p = start / PG; p <= (end - 1) / PG; p++)
			if (h->tainted[p])
				return false;
	}
	return true;
}

static void head_release(struct hostile *h, __u16 id)
{
	struct head *hd = &h->heads[id];
	unsigned int i;

	for (i = 0; i < hd->nseg; i++)
		uncover(h, &hd->seg[i]);
	for (i = 0; i < hd->ndesc; i++)
		h->desc_busy[hd->desc[i]] = false;
	hd->nseg = 0;
	hd->ndesc = 0;
	hd->cap = 0;
	hd->outstanding = 0;
}

/* Up to @n free descriptor table entries into @ids; how many. */
static unsigned int desc_alloc(struct hostile *h, __u16 *ids, unsigned int n)
{
	unsigned int i, got = 0, start = rnd_below(h, RING);

	for (i = 0; i < RING && got < n; i++) {
		__u16 d = (start + i) % RING;

		if (!h->desc_busy[d] && !h->heads[d].outstanding)
			ids[got++] = d;
	}
	for (i = 0; i < got; i++)
		h->desc_busy[ids[i]] = true;
	return got;
}

static void desc_free(struct hostile *h, const __u16 *ids, unsigned int n)
{
	while (n--)
		h->desc_busy[ids[n]] = false;
}

static void desc_set(struct hostile *h, __u16 d, __u64 gpa, __u32 len,
		     __u16 flags, __u16 next)
{
	struct vring_desc *desc = &h->vr.desc[d];

	desc->addr = gpa;
	desc->len = len;
	desc->flags = flags;
	desc->next = next;
}

/* A page of the arena no posted buffer covers, or -1. */
static long free_page(struct hostile *h)
{
	size_t pages = h->arena_len / PG, p;
	unsigned int i;

	for (i = 0; i < 16; i++) {
		p = rnd_below(h, pages);
		if (!h->page_covered[p])
			return p;
	}
	return -1;
}

/* A page some posted buffer covers, or -1. */
static long busy_page(struct hostile *h)
{
	size_t pages = h->arena_len / PG, p;
	unsigned int i;

	for (i = 0; i < 64; i++) {
		p = rnd_below(h, pages);
		if (h->page_covered[p])
			return p;
	}
	return -1;
}

static __u64 page_gpa(const struct hostile *h, long p)
{
	return h->arena_gpa + (__u64)p * PG;
}

/* @n distinct free pages for one buffer; false if there are not. */
static bool free_pages(struct hostile *h, struct seg *segs, unsigned int n)
{
	unsigned int i, j;
	long p;

	for (i = 0; i < n; i++) {
		p = free_page(h);
		if (p < 0)
			return false;
		segs[i].gpa = page_gpa(h, p);
		segs[i].len = PG;
		for (j = 0; j < i; j++)
			if (segs[j].gpa == segs[i].gpa)
				return false;
	}
	return true;
}

static void avail_push(struct hostile *h, __u16 id)
{
	h->vr.avail->ring[h->avail_idx % RING] = id;
	h->avail_idx++;
	h->out++;
	/* Pairs with vhost's read barrier after it loads avail->idx. */
	__atomic_store_n(&h->vr.avail->idx, h->avail_idx, __ATOMIC_RELEASE);
}

/* Post the head @d, whose descriptors the caller wrote, standing for
 * @nseg segments.
 */
static void post(struct hostile *h, __u16 d, const __u16 *descs,
		 unsigned int ndesc, const struct seg *segs, unsigned int nseg,
		 bool clean)
{
	struct head *hd = &h->heads[d];
	unsigned int i;

	hd->clean = clean;
	hd->nseg = nseg;
	hd->cap = 0;
	for (i = 0; i < nseg; i++) {
		hd->seg[i] = segs[i];
		hd->cap += segs[i].len;
		cover(h, &segs[i], clean);
	}
	hd->ndesc = ndesc;
	memcpy(hd->desc, descs, ndesc * sizeof(*descs));
	hd->outstanding = 1;
	if (clean)
		h->posted_good++;
	else
		h->posted_bad++;
	avail_push(h, d);
}

/* One buffer of one descriptor. */
static void post_one(struct hostile *h, __u64 gpa, __u32 len, __u16 flags,
		     bool clean)
{
	struct seg s = { gpa, len };
	__u16 d;

	if (!desc_alloc(h, &d, 1))
		return;
	desc_set(h, d, gpa, len, flags, 0);
	post(h, d, &d, 1, &s, flags & VRING_DESC_F_WRITE ? 1 : 0, clean);
}

static bool room(const struct hostile *h, unsigned int n)
{
	return h->out + n <= MAX_OUT;
}

static void act_good(struct hostile *h)
{
	unsigned int i, n = 1 + rnd_below(h, 32);
	long p;

	for (i = 0; i < n && room(h, 1); i++) {
		p = free_page(h);
		/* Now and then two pages in one buffer: the NIC writes
		 * only the first.
		 */
		if (p < 0 || (p + 1) * PG >= h->arena_len)
			continue;
		if (rnd_below(h, 8) || h->page_covered[p + 1])
			post_one(h, page_gpa(h, p), PG, VRING_DESC_F_WRITE, true);
		else
			post_one(h, page_gpa(h, p), 2 * PG, VRING_DESC_F_WRITE,
				 true);
	}
}

/* Buffers the NIC must not get: shorter than a page, or not at a page's
 * start (then across two free pages).
 */
static void act_short(struct hostile *h)
{
	unsigned int i, off, len, n = 1 + rnd_below(h, 4);
	long p;

	for (i = 0; i < n && room(h, 1); i++) {
		p = free_page(h);
		if (p < 0 || (p + 1) * PG >= h->arena_len ||
		    h->page_covered[p + 1])
			continue;
		if (rnd_below(h, 2)) {
			len = VHOST_GUEST_MIN_BUF_LEN + rnd_below(h, PG - VHOST_GUEST_MIN_BUF_LEN);
			off = rnd_below(h, PG - len + 1);
		} else {
			len = PG;
			off = 1 + rnd_below(h, PG - 1);
		}
		post_one(h, page_gpa(h, p) + off, len, VRING_DESC_F_WRITE, true);
	}
}

/* A chain of 2 to 4 free pages: the ordinary path's. */
static void act_chain(struct hostile *h)
{
	unsigned int i, got, n = 2 + rnd_below(h, 3);
	struct seg segs[4];
	__u16 d[4];

	if (!room(h, 1) || !free_pages(h, segs, n))
		return;
	got = desc_alloc(h, d, n);
	if (got != n) {
		desc_free(h, d, got);
		return;
	}
	for (i = 0; i < n; i++)
		desc_set(h, d[i], segs[i].gpa, segs[i].len,
			 VRING_DESC_F_WRITE | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			 i + 1 < n ? d[i + 1] : 0);
	post(h, d[0], d, n, segs, n, true);
}

/* An indirect table of @n entries for head @d, in its page of tables. */
static struct vring_desc *table_of(struct hostile *h, __u16 d)
{
	return (struct vring_desc *)(h->tables + (size_t)d * PG);
}

static __u64 table_gpa(const struct hostile *h, __u16 d)
{
	return h->tables_gpa + (__u64)d * PG;
}

/* An indirect buffer of 1 to 4 free pages; with one, the NIC may take it. */
static void act_indirect(struct hostile *h)
{
	unsigned int i, n = 1 + rnd_below(h, 4);
	struct vring_desc *t;
	struct seg segs[4];
	__u16 d;

	if (!room(h, 1) || !free_pages(h, segs, n) || !desc_alloc(h, &d, 1))
		return;
	t = table_of(h, d);
	for (i = 0; i < n; i++) {
		t[i].addr = segs[i].gpa;
		t[i].len = PG;
		t[i].flags = VRING_DESC_F_WRITE | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		t[i].next = i + 1;
	}
	desc_set(h, d, table_gpa(h, d), n * sizeof(*t), VRING_DESC_F_INDIRECT, 0);
	post(h, d, &d, 1, segs, n, true);
}

static void act_outside(struct hostile *h)
{
	const __u64 end = MEM_GPA + MEM_SIZE;
	const __u64 gpas[] = {
		0, MEM_GPA - PG, MEM_GPA - 100, end, end - 100, end + PG,
		~0ULL - PG + 1, ~0ULL - 10, 1ULL << 52,
	};
	__u64 gpa = gpas[rnd_below(h, ARRAY_SIZE(gpas))];

	if (!rnd_below(h, 4))
		gpa = rnd(h);
	if (room(h, 1))
		post_one(h, gpa, rnd_below(h, 2) ? PG : 1 + rnd_below(h, 65536),
			 VRING_DESC_F_WRITE, false);
}

static void act_huge(struct hostile *h)
{
	long p = free_page(h);

	if (p >= 0 && room(h, 1))
		post_one(h, page_gpa(h, p), rnd_below(h, 2) ? ~0U : 1U << 31,
			 VRING_DESC_F_WRITE, false);
}

static void act_zero(struct hostile *h)
{
	long p = free_page(h);

	if (p >= 0 && room(h, 1))
		post_one(h, page_gpa(h, p), 0, VRING_DESC_F_WRITE, false);
}

/* Into the guest's own rings: the host may write there as asked; the
 * guest's view of its rings is then worth nothing until it resets them.
 */
static void act_ring(struct hostile *h)
{
	const __u64 gpas[] = {
		h->vr.desc_gpa, h->vr.avail_gpa, h->vr.used_gpa,
		h->vr.used_gpa + 8, h->vr.tx_gpa,
	};

	if (!room(h, 1))
		return;
	post_one(h, gpas[rnd_below(h, ARRAY_SIZE(gpas))], PG,
		 VRING_DESC_F_WRITE, false);
	h->clobbered = true;
}

/* Over a page a posted buffer covers: at its start, or across it. */
static void act_overlap(struct hostile *h)
{
	long p = busy_page(h);
	__u64 gpa;

	if (p < 0 || !room(h, 1))
		return;
	gpa = page_gpa(h, p);
	if (rnd_below(h, 2))
		gpa += rnd_below(h, PG);
	if (gpa + PG > h->arena_gpa + h->arena_len)
		gpa = page_gpa(h, p);
	post_one(h, gpa, PG, VRING_DESC_F_WRITE, false);
}

/* A chain that loops, one whose next is past the table, or one longer
 * than the ring through a loop of two.
 */
static void act_loop(struct hostile *h)
{
	unsigned int got;
	struct seg s;
	__u16 d[2];
	long p;

	p = free_page(h);
	if (p < 0 || !room(h, 1))
		return;
	got = desc_alloc(h, d, 2);
	if (got != 2) {
		desc_free(h, d, got);
		return;
	}
	s.gpa = page_gpa(h, p);
	s.len = PG;
	switch (rnd_below(h, 3)) {
	case 0:
		desc_set(h, d[0], s.gpa, PG,
			 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, d[1]);
		desc_set(h, d[1], s.gpa, PG,
			 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, d[0]);
		break;
	case 1:
		desc_set(h, d[0], s.gpa, PG,
			 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
			 RING + rnd_below(h, 65536 - RING));
		desc_set(h, d[1], 0, 0, 0, 0);
		break;
	default:
		desc_set(h, d[0], s.gpa, PG,
			 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, d[0]);
		desc_set(h, d[1], 0, 0, 0, 0);
		break;
	}
	post(h, d[0], d, 2, &s, 1, false);
}

/* Device-readable descriptors in an RX buffer, alone or first. */
static void act_readonly(struct hostile *h)
{
	long p = free_page(h);
	unsigned int got;
	__u16 d[2];
	struct seg s;

	if (p < 0 || !room(h, 1))
		return;
	if (rnd_below(h, 2)) {
		post_one(h, page_gpa(h, p), PG, 0, false);
		return;
	}
	got = desc_alloc(h, d, 2);
	if (got != 2) {
		desc_free(h, d, got);
		return;
	}
	s.gpa = page_gpa(h, p);
	s.len = PG;
	desc_set(h, d[0], s.gpa, 64, VRING_DESC_F_NEXT, d[1]);
	desc_set(h, d[1], s.gpa + 64, PG - 64, VRING_DESC_F_WRITE, 0);
	post(h, d[0], d, 2, &s, 1, false);
}

/* Indirect tables that are wrong: nested, chained on, of a length that is
 * not whole descriptors or is 0, outside memory, looping inside, or more
 * segments in one chain than vhost takes.
 */
static void act_bad_indirect(struct hostile *h)
{
	unsigned int i, n, got, nd, kind = rnd_below(h, 7);
	__u16 d[5];
	struct vring_desc *t;
	struct seg s;
	long p;

	if (!room(h, 1))
		return;
	p = free_page(h);
	if (p < 0)
		return;
	nd = kind == 6 ? 5 : kind == 1 ? 2 : 1;
	got = desc_alloc(h, d, nd);
	if (got != nd) {
		desc_free(h, d, got);
		return;
	}
	s.gpa = page_gpa(h, p);
	s.len = PG;
	for (i = 0; i < nd; i++) {
		t = table_of(h, d[i]);
		for (n = 0; n < MAX_SEG; n++) {
			t[n].addr = s.gpa + rnd_below(h, PG);
			t[n].len = 1;
			t[n].flags = VRING_DESC_F_WRITE |
				     (n + 1 < MAX_SEG ? VRING_DESC_F_NEXT : 0);
			t[n].next = n + 1;
		}
	}
	t = table_of(h, d[0]);
	n = 1 + rnd_below(h, 8);
	switch (kind) {
	case 0:		/* nested */
		t[0].flags = VRING_DESC_F_INDIRECT;
		t[0].addr = table_gpa(h, d[0]);
		t[0].len = 16;
		break;
	case 1:		/* followed by another descriptor */
		desc_set(h, d[1], s.gpa, PG, VRING_DESC_F_WRITE, 0);
		desc_set(h, d[0], table_gpa(h, d[0]), n * 16,
			 VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, d[1]);
		break;
	case 2:		/* not whole descriptors, or empty */
		desc_set(h, d[0], table_gpa(h, d[0]),
			 rnd_below(h, 2) ? n * 16 + 1 + rnd_below(h, 15) : 0,
			 VRING_DESC_F_INDIRECT, 0);
		break;
	case 3:		/* the table outside memory */
		desc_set(h, d[0], MEM_GPA + MEM_SIZE - 8, 64,
			 VRING_DESC_F_INDIRECT, 0);
		break;
	case 4:		/* a loop inside */
		t[n - 1].flags |= VRING_DESC_F_NEXT;
		t[n - 1].next = 0;
		break;
	case 5:		/* next past the table */
		t[n - 1].flags |= VRING_DESC_F_NEXT;
		t[n - 1].next = n + rnd_below(h, 1000);
		break;
	default:	/* 5 tables of 256: more than vhost's 1024 segments */
		for (i = 0; i < nd; i++)
			desc_set(h, d[i], table_gpa(h, d[i]), PG,
				 VRING_DESC_F_INDIRECT |
				 (i + 1 < nd ? VRING_DESC_F_NEXT : 0),
				 i + 1 < nd ? d[i + 1] : 0);
		break;
	}
	if (kind == 0 || kind == 4 || kind == 5)
		desc_set(h, d[0], table_gpa(h, d[0]), n * 16,
			 VRING_DESC_F_INDIRECT, 0);
	post(h, d[0], d, nd, &s, 1, false);
}

/* The upper half of guest memory is not the guest's any more: what was
 * posted there is neither checked nor expected to be zeroed.
 */
static void halve(struct hostile *h)
{
	const __u64 limit = MEM_GPA + MEM_SIZE / 2;
	struct head *hd;
	unsigned int i, j;

	for (i = 0; i < RING; i++) {
		hd = &h->heads[i];
		for (j = 0; hd->outstanding && j < hd->nseg; j++) {
			if (hd->seg[j].gpa + seg_reach(&hd->seg[j]) <= limit)
				continue;
			hd->clean = false;
			taint(h, &hd->seg[j]);
		}
	}
}

static void act_bad_id(struct hostile *h)
{
	if (room(h, 1))
		avail_push(h, RING + rnd_below(h, 65536 - RING));
}

/* The avail index moved past what the ring holds: nothing the guest put
 * there is to be trusted until it resets.
 */
static void act_avail_jump(struct hostile *h)
{
	__atomic_store_n(&h->vr.avail->idx,
			 (__u16)(h->avail_idx + RING + 1 + rnd_below(h, 1000)),
			 __ATOMIC_RELEASE);
	h->clobbered = true;
}

/* A buffer the host has, posted again: whatever lands in it may be
 * overwritten by the second use.
 */
static void act_repost(struct hostile *h)
{
	unsigned int i, j, start = rnd_below(h, RING);
	struct head *hd;
	__u16 id;

	for (i = 0; i < RING && room(h, 1); i++) {
		id = (start + i) % RING;
		hd = &h->heads[id];
		if (!hd->outstanding)
			continue;
		for (j = 0; j < hd->nseg; j++)
			taint(h, &hd->seg[j]);
		hd->clean = false;
		hd->outstanding++;
		avail_push(h, id);
		return;
	}
}

/* What the guest does, how often, and how (NULL: in the test's loop). */
static const struct {
	const char *name;
	unsigned int weight;
	void (*fn)(struct hostile *h);
} acts[A_NR] = {
	[A_GOOD] = { "good buffers", 30, act_good },
	[A_SHORT] = { "short or unaligned", 6, act_short },
	[A_CHAIN] = { "good chains", 4, act_chain },
	[A_INDIRECT] = { "good indirect", 4, act_indirect },
	[A_OUTSIDE] = { "outside memory", 4, act_outside },
	[A_HUGE] = { "huge length", 1, act_huge },
	[A_ZERO] = { "zero length", 3, act_zero },
	[A_RING] = { "into the vrings", 2, act_ring },
	[A_OVERLAP] = { "overlapping", 5, act_overlap },
	[A_LOOP] = { "looped or broken chains", 2, act_loop },
	[A_READONLY] = { "read-only", 2, act_readonly },
	[A_BAD_INDIRECT] = { "bad indirect", 4, act_bad_indirect },
	[A_BAD_ID] = { "id past the ring", 1, act_bad_id },
	[A_AVAIL_JUMP] = { "avail index jump", 1, act_avail_jump },
	[A_REPOST] = { "repost of a held buffer", 4, act_repost },
	[A_STARVE] = { "no repost for a while", 2, NULL },
	[A_RESET] = { "vring reset", 3, NULL },
	[A_MEM_SAME] = { "memory table again", 2, NULL },
	[A_MEM_HALF] = { "memory table halved", 1, NULL },
	[A_WAIT] = { "wait", 10, NULL },
};

static void check_frame(struct hostile *h, const struct nsim_port *a,
			const struct nsim_port *vif);

/* Consume what the host used, checking it as it goes; with the rings
 * clobbered, only skip it.
 */
static void consume(struct hostile *h, const struct nsim_port *a,
		    const struct nsim_port *vif)
{
	struct vring_used_elem e;
	struct head *hd;
	__u16 idx, nb;
	bool clean;
	size_t i, n;
	__u32 k;

	idx = __atomic_load_n(&h->vr.used->idx, __ATOMIC_ACQUIRE);
	while (h->last_used != idx && !h->clobbered) {
		e = h->vr.used->ring[h->last_used % RING];
		h->last_used++;
		h->used++;
		if (e.id >= RING || !h->heads[e.id].outstanding) {
			host_fail(h, "used id %u was not posted", e.id);
			return;
		}
		hd = &h->heads[e.id];
		if (hd->clean && e.len > hd->cap) {
			host_fail(h, "used length %u of id %u, which offered %llu",
				  e.len, e.id, (unsigned long long)hd->cap);
			return;
		}
		clean = head_clean(h, hd);
		h->out--;
		if (!e.len) {
			if (h->need && !h->desync)
				host_fail(h, "id %u given back inside a frame", e.id);
			h->zero_len++;
			/* The NIC writes a page from a page-aligned start */
			if (clean && hd->nseg == 1 && !(hd->seg[0].gpa % PG) &&
			    hd->seg[0].len >= PG) {
				const unsigned char *b = h->mem + hd->seg[0].gpa - MEM_GPA;

				for (i = 0; i < PG && !b[i]; i++)
					;
				if (i < PG)
					host_fail(h, "id %u given back unused with byte %zu = %#x",
						  e.id, i, b[i]);
				h->zero_checked++;
			}
			if (!--hd->outstanding)
				head_release(h, e.id);
			continue;
		}
		if (!h->need) {
			if (!clean)
				h->desync = true;
			h->fclean = true;
			h->flen = 0;
		}
		if (h->desync) {
			if (!--hd->outstanding)
				head_release(h, e.id);
			continue;
		}
		h->fclean &= clean;
		/* The bytes, across the buffer's segments */
		for (k = h->fclean ? e.len : 0, i = 0; k && i < hd->nseg; i++) {
			n = hd->seg[i].len < k ? hd->seg[i].len : k;
			if (h->flen + n > sizeof(h->fdata)) {
				host_fail(h, "frame longer than %zu bytes", sizeof(h->fdata));
				return;
			}
			memcpy(h->fdata + h->flen, h->mem + hd->seg[i].gpa - MEM_GPA, n);
			h->flen += n;
			k -= n;
		}
		if (!h->need) {
			if (e.len < HDR_LEN) {
				host_fail(h, "frame head of %u bytes", e.len);
				return;
			}
			memcpy(&nb, h->fdata + 10, sizeof(nb));
			nb = le16toh(nb);
			if (!nb || nb > RING) {
				host_fail(h, "num_buffers %u", nb);
				return;
			}
			h->need = nb;
		}
		if (!--hd->outstanding)
			head_release(h, e.id);
		if (!--h->need)
			check_frame(h, a, vif);
	}
	if (h->clobbered)
		h->last_used = idx;
}

static size_t frame_len(__u32 seq)
{
	return 60 + (seq * 997U) % 8955;
}

static void check_frame(struct hostile *h, const struct nsim_port *a,
			const struct nsim_port *vif)
{
	const unsigned char *f = h->fdata + HDR_LEN;
	size_t len = h->flen - HDR_LEN;
	__u32 seq;
	int ret;

	h->frames++;
	if (!h->fclean)
		return;
	/* Every frame sent to the guest is a test frame from a */
	if (len < ETH_HLEN + 4 || memcmp(f, vif->mac, ETH_ALEN)) {
		h->frames_other++;
		return;
	}
	memcpy(&seq, f + ETH_HLEN, sizeof(seq));
	ret = nsim_check_frame(f, len, frame_len(seq), a, vif, NULL, &seq);
	if (ret)
		host_fail(h, "frame %u of %zu bytes: %s", seq, len, strerror(-ret));
	h->frames_checked++;
	h->bytes_checked += len;
}

/* Every free byte of the arena still holds its guard. */
static void check_guard(struct hostile *h)
{
	size_t p, i, pages = h->arena_len / PG;

	if (h->clobbered)
		return;
	h->guard_checks++;
	for (p = 0; p < pages; p++) {
		if (!h->page_covered[p]) {
			if (memcmp(h->arena + p * PG, h->guard + p * PG, PG))
				break;
			h->guard_bytes += PG;
			continue;
		}
		for (i = p * PG; i < (p + 1) * PG; i++)
			if (!h->cover[i] && h->arena[i] != h->guard[i])
				break;
		if (i < (p + 1) * PG)
			break;
		h->guard_bytes += PG - h->page_covered[p];
	}
	if (p == pages)
		return;
	for (i = p * PG; h->arena[i] == h->guard[i] || h->cover[i]; i++)
		;
	host_fail(h, "guest byte %#llx not posted, %#x instead of its guard %#x",
		  (unsigned long long)(h->arena_gpa + i), h->arena[i], h->guard[i]);
}

static void check_tags(struct hostile *h)
{
	unsigned int host, foreign;

	h->tag_scans++;
	host = vhost_guest_count_tag(h->mem, MEM_SIZE, host_tag);
	foreign = vhost_guest_count_tag(h->mem, MEM_SIZE, foreign_tag);
	if (host || foreign)
		host_fail(h, "guest memory holds %u host tags, %u foreign tags",
			  host, foreign);
}

/* Before the binding ends: add up its counters. */
static void bound_add(struct hostile *h)
{
	struct nsim_vhost_stats vs;
	unsigned int i;

	if (nsim_queue_vhost(h->nic, QB, &vs))
		return;
	for (i = 0; i < NSIM_VHOST_NSTATS; i++)
		h->bound.v[i] += vs.v[i];
}

/* Reset the RX virtqueue: the host gives back what the NIC held, the
 * guest takes back everything else it posted.
 */
static int reset(struct hostile *h, const struct nsim_port *a,
		 const struct nsim_port *vif)
{
	unsigned int i;
	int ret;

	bound_add(h);
	ret = vhost_guest_rx_stop(h->g);
	if (ret)
		return ret;
	consume(h, a, vif);
	for (i = 0; i < RING; i++)
		if (h->heads[i].outstanding)
			head_release(h, i);
	memset(h->desc_busy, 0, sizeof(h->desc_busy));
	if (h->clobbered) {
		/* Nothing is covered any more: all of it is guard again */
		memcpy(h->arena, h->guard, h->arena_len);
		h->clobbered = false;
	}
	check_guard(h);
	h->avail_idx = 0;
	h->last_used = 0;
	h->out = 0;
	h->need = 0;
	h->desync = false;
	h->reset_in = -1;
	h->resets++;
	return vhost_guest_rx_restart(h->g);
}

/* The kernel log since @fd was opened: the first line that tells of a
 * kernel bug, if any, into @line.
 */
/* Frames to the guest, and tagged ones for others in between. */
struct traffic {
	const struct nsim_port *a, *b, *vif;
	int fd;
	pthread_t thread;
	bool stop;		/* __atomic: set by the test thread */
	unsigned long sent, others;
};

static void *traffic_run(void *arg)
{
	static const struct nsim_port stranger = {
		.mac = { 0x02, 0x00, 0x00, 0x00, 0xee, 0x02 },
	};
	static unsigned char buf[VHOST_GUEST_MAX_FRAME];
	struct traffic *t = arg;
	__u32 seq = 0;
	size_t len, i;

	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
		len = nsim_build_frame(buf, frame_len(seq), seq, t->a, t->vif, NULL);
		if (send(t->fd, buf, len, 0) == (ssize_t)len)
			t->sent++;
		if (!(seq % 4)) {
			len = nsim_build_frame(buf, frame_len(seq), seq, t->a,
					       seq % 8 ? t->b : &stranger, NULL);
			for (i = ETH_HLEN + 4; i < len; i++)
				buf[i] = foreign_tag[(i - ETH_HLEN - 4) % 8];
			if (send(t->fd, buf, len, 0) == (ssize_t)len)
				t->others++;
		}
		seq++;
		usleep(200);
	}
	return NULL;
}

static __s64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum act pick(struct hostile *h)
{
	unsigned int i, total = 0, r;

	for (i = 0; i < A_NR; i++)
		total += acts[i].weight;
	r = rnd_below(h, total);
	for (i = 0; r >= acts[i].weight; i++)
		r -= acts[i].weight;
	return i;
}

/* The ports, the guest's macvtap on b with its frames steered to QB,
 * and QB leased to it.
 */
struct rig {
	struct nsim_port a, b, vif;
};

/* A macvtap named r->vif.ifname on b, with the MAC in r->vif.mac if it
 * has one (else the kernel's, kept there), leasing QB.
 */
static int rig_macvtap(struct rig *r, bool steer, char *msg, size_t len)
{
	static const unsigned char none[ETH_ALEN];
	unsigned char mac[ETH_ALEN];
	char s[NSIM_MAC_STR_LEN];
	int ret;

	memcpy(mac, r->vif.mac, ETH_ALEN);
	ret = nsim_macvtap_create(&r->vif, &r->b, MTU);
	if (ret)
		return ret;
	if (memcmp(mac, none, ETH_ALEN))
		memcpy(r->vif.mac, mac, ETH_ALEN);
	nsim_mac_str(s, r->vif.mac);
	if (nsim_run("ip link set %s address %s", r->vif.ifname, s) ||
	    (steer && nsim_run("ethtool -N %s flow-type ether dst %s action %d >/dev/null",
			       r->b.ifname, s, QB)))
		return -EIO;
	ret = nsim_queue_lease(r->vif.ifindex, r->b.ifindex, QB, msg, len);
	return ret < 0 ? ret : 0;
}

/* The ports with header/data split and RSS off QB, then the macvtap. */
static int rig_up(struct rig *r, char *msg, size_t len)
{
	int ret;

	ret = nsim_pair_create(&r->a, &r->b, NQ);
	if (!ret)
		ret = nsim_set_mtu(&r->a, MTU) ?: nsim_set_mtu(&r->b, MTU);
	if (!ret)
		ret = nsim_rings_set(&r->b, 1, 0, -1, msg, len);
	if (!ret && nsim_run("ethtool -X %s equal %d", r->b.ifname, QB))
		ret = -EIO;
	return ret ?: rig_macvtap(r, true, msg, len);
}

static void rig_down(struct rig *r)
{
	nsim_run("ip link del %s 2>/dev/null", r->vif.ifname);
	nsim_pair_destroy(&r->a, &r->b);
}

FIXTURE(hostile)
{
	struct rig r;
	int tap_fd;
	int kmsg_fd;
	struct hostile *h;
	struct traffic t;
	bool traffic;
};

FIXTURE_SETUP(hostile)
{
	struct vhost_guest_opts opts = {
		.mem_size = MEM_SIZE, .mem_gpa = MEM_GPA, .ring_num = RING,
		.buf_len = PG, .indirect = true,
	};
	struct hostile *h;
	size_t len;
	char msg[256];
	int ret;

	if (access("/sys/bus/netdevsim/new_device", W_OK))
		SKIP(return, "netdevsim is not available (CONFIG_NETDEVSIM)");
	if (access("/dev/vhost-net", R_OK | W_OK))
		SKIP(return, "/dev/vhost-net is not available (CONFIG_VHOST_NET)");
	self->tap_fd = -1;
	self->t.fd = -1;
	self->kmsg_fd = nsim_kmsg_open();
	ASSERT_LE(0, self->kmsg_fd);

	snprintf(self->r.vif.ifname, sizeof(self->r.vif.ifname), "mvh%d",
		 getpid() % 10000);
	ret = rig_up(&self->r, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("netdevsim and macvtap: %s %s",
				 strerror(-ret), msg);
	self->tap_fd = vhost_guest_macvtap_open(self->r.vif.ifindex, HDR_LEN);
	ASSERT_LE(0, self->tap_fd);

	/* Host pages with a tag in them, for the spares and the guest's
	 * memory to come from
	 */
	ASSERT_EQ(0, vhost_guest_host_prefill(host_tag, 256UL << 20));

	h = calloc(1, sizeof(*h));
	ASSERT_NE(NULL, h);
	self->h = h;
	ASSERT_EQ(0, vhost_guest_open(&h->g, &opts));
	h->mem = vhost_guest_mem(h->g, &len);
	vhost_guest_rx_vring(h->g, &h->vr);
	h->arena = h->vr.free_mem;
	h->arena_gpa = h->vr.free_gpa;
	h->arena_len = h->vr.free_len / PG * PG;
	/* The library's own RX buffers, unused here, hold the tables */
	h->tables = (unsigned char *)vhost_guest_rx_buf(h->g, 0, &len);
	h->tables_gpa = vhost_guest_rx_buf_gpa(h->g, 0);
	h->guard = malloc(h->arena_len);
	h->cover = calloc(h->arena_len, sizeof(*h->cover));
	h->page_covered = calloc(h->arena_len / PG, sizeof(*h->page_covered));
	h->tainted = calloc(h->arena_len / PG, sizeof(*h->tainted));
	ASSERT_TRUE(h->guard && h->cover && h->page_covered && h->tainted);
	for (len = 0; len < h->arena_len; len++)
		h->guard[len] = guard_byte(len);
	memcpy(h->arena, h->guard, h->arena_len);
	h->reset_in = -1;
	h->nic = self->r.b.ifindex;
	ASSERT_EQ(0, vhost_guest_set_backend_fd(h->g, self->tap_fd));

	self->t.a = &self->r.a;
	self->t.b = &self->r.b;
	self->t.vif = &self->r.vif;
	self->t.fd = nsim_tx_open(&self->r.a);
	ASSERT_LE(0, self->t.fd);
}

FIXTURE_TEARDOWN(hostile)
{
	struct hostile *h = self->h;

	if (self->traffic) {
		__atomic_store_n(&self->t.stop, true, __ATOMIC_RELAXED);
		pthread_join(self->t.thread, NULL);
	}
	if (h) {
		vhost_guest_close(h->g);
		free(h->guard);
		free(h->cover);
		free(h->page_covered);
		free(h->tainted);
		free(h);
	}
	if (self->t.fd >= 0)
		close(self->t.fd);
	if (self->tap_fd >= 0)
		close(self->tap_fd);
	if (self->kmsg_fd >= 0)
		close(self->kmsg_fd);
	rig_down(&self->r);
}

/* Checks at a checkpoint: guard, tags, the pin bound. */
static void checkpoint(struct _test_data_hostile *self)
{
	struct hostile *h = self->h;
	struct nsim_vhost_stats vs;

	check_guard(h);
	check_tags(h);
	if (!nsim_queue_vhost(self->r.b.ifindex, QB, &vs) &&
	    VS(vs, PINNED_PAGES) > MAX_PINNED)
		host_fail(h, "%llu guest pages pinned, more than %u",
			  VS(vs, PINNED_PAGES), MAX_PINNED);
}

TEST_F_TIMEOUT(hostile, random_guest, 600)
{
	unsigned long iters = nsim_env_ul("VHOST_HOSTILE_ITERS", 3000);
	__s64 end = now_ms() + 1000 * nsim_env_ul("VHOST_HOSTILE_SECS", 150);
	struct nsim_vhost_stats vs = {}, before;
	struct hostile *h = self->h;
	unsigned long seed, it, ms;
	__s64 start = now_ms();
	__u64 zc, vqe;
	unsigned int i, n;
	__u64 inflight;
	char line[1024];
	enum act a;
	bool run;

	seed = nsim_env_ul("VHOST_HOSTILE_SEED", (unsigned long)time(NULL));
	h->rng = seed * 0x9e3779b97f4a7c15ULL | 1;
	TH_LOG("seed %lu (VHOST_HOSTILE_SEED=%lu to replay the guest's choices)",
	       seed, seed);
	ASSERT_EQ(0, pthread_create(&self->t.thread, NULL, traffic_run, &self->t));
	self->traffic = true;

	for (it = 0; it < iters && now_ms() < end && !h->fail[0]; it++) {
		a = pick(h);
		switch (a) {
		case A_STARVE:
			for (ms = 10 + rnd_below(h, 50); ms; ms--) {
				usleep(10 * 1000);
				consume(h, &self->r.a, &self->r.vif);
			}
			break;
		case A_RESET:
			ASSERT_EQ(0, reset(h, &self->r.a, &self->r.vif));
			break;
		case A_MEM_SAME:
			bound_add(h);
			ASSERT_EQ(0, vhost_guest_set_mem_table(h->g));
			break;
		case A_MEM_HALF:
			bound_add(h);
			h->mem_halved = !h->mem_halved;
			if (h->mem_halved)
				halve(h);
			ASSERT_EQ(0, vhost_guest_set_mem_limit(h->g, h->mem_halved ?
							       MEM_SIZE / 2 : 0));
			break;
		case A_WAIT:
			usleep(1000 * (1 + rnd_below(h, 20)));
			break;
		default:
			acts[a].fn(h);
			break;
		}
		h->done[a]++;
		ASSERT_EQ(0, vhost_guest_rx_kick(h->g));
		consume(h, &self->r.a, &self->r.vif);

		/* A vq error stops the RX ring at the bad buffer: reset it
		 * soon, after the traffic has met the stopped ring a while.
		 */
		vqe = vhost_guest_vq_errors(h->g);
		if ((vqe != h->vq_errors || h->clobbered || h->desync) &&
		    h->reset_in < 0)
			h->reset_in = rnd_below(h, 10);
		h->vq_errors = vqe;
		if (h->reset_in >= 0 && !h->reset_in--)
			ASSERT_EQ(0, reset(h, &self->r.a, &self->r.vif));
		if (!(it % 100))
			checkpoint(self);
	}
	TH_LOG("%lu iterations in %lld s", it, (now_ms() - start) / 1000);
	EXPECT_EQ(0, h->fail[0]) TH_LOG("iteration %lu: %s", it, h->fail);

	/* Still a working binding: a clean ring, good buffers, zero copy */
	bound_add(h);
	ASSERT_EQ(0, vhost_guest_set_mem_limit(h->g, 0));
	h->mem_halved = false;
	ASSERT_EQ(0, reset(h, &self->r.a, &self->r.vif));
	ASSERT_EQ(0, nsim_queue_vhost(self->r.b.ifindex, QB, &before));
	for (i = 0, run = true; i < 600 && run; i++) {
		/* As many as the ring takes: the traffic is more than the
		 * NIC can place otherwise
		 */
		for (n = 0; n < 64 && room(h, 8); n++)
			act_good(h);
		ASSERT_EQ(0, vhost_guest_rx_kick(h->g));
		usleep(10 * 1000);
		consume(h, &self->r.a, &self->r.vif);
		ASSERT_EQ(0, nsim_queue_vhost(self->r.b.ifindex, QB, &vs));
		run = VS(vs, ZC_FRAMES) < VS(before, ZC_FRAMES) + 20;
	}
	zc = VS(vs, ZC_FRAMES) - VS(before, ZC_FRAMES);
	EXPECT_LE(20ULL, zc) TH_LOG("%llu frames in place after the run", zc);

	__atomic_store_n(&self->t.stop, true, __ATOMIC_RELAXED);
	pthread_join(self->t.thread, NULL);
	self->traffic = false;
	usleep(300 * 1000);
	consume(h, &self->r.a, &self->r.vif);
	checkpoint(self);
	/* Unbound: what the NIC held comes back, zeroed */
	bound_add(h);
	ASSERT_EQ(0, vhost_guest_rx_stop(h->g));
	consume(h, &self->r.a, &self->r.vif);
	for (i = 0; i < RING; i++)
		if (h->heads[i].outstanding)
			head_release(h, i);
	check_guard(h);
	EXPECT_EQ(0, h->fail[0]) TH_LOG("at the end: %s", h->fail);

	for (i = 0; i < A_NR; i++)
		TH_LOG("%6u x %s", h->done[i], acts[i].name);
	TH_LOG("posted %llu good, %llu bad buffers; %llu vq errors, %llu resets",
	       h->posted_good, h->posted_bad, h->vq_errors, h->resets);
	TH_LOG("%llu used; %llu frames, %llu checked byte for byte (%llu bytes), %llu of others",
	       h->used, h->frames, h->frames_checked, h->bytes_checked,
	       h->frames_other);
	TH_LOG("%llu given back unused, %llu of them checked zeroed",
	       h->zero_len, h->zero_checked);
	TH_LOG("%llu guard checks (%llu MiB compared), %llu tag scans of 16 MiB",
	       h->guard_checks, h->guard_bytes >> 20, h->tag_scans);
	TH_LOG("traffic: %lu frames to the guest, %lu tagged for others",
	       self->t.sent, self->t.others);
	TH_LOG("bindings: zc %llu copy %llu host %llu other %llu drops %llu",
	       VS(h->bound, ZC_FRAMES), VS(h->bound, COPY_FRAMES),
	       VS(h->bound, HOST_FRAMES), VS(h->bound, OTHER_FRAMES),
	       VS(h->bound, DROPS));
	TH_LOG("bindings: armed %llu, refused %llu, pinned %llu times",
	       VS(h->bound, ARM_TOTAL), VS(h->bound, ARM_REFUSED),
	       VS(h->bound, PIN_TOTAL));
	EXPECT_LT(0ULL, h->posted_bad);
	EXPECT_LT(0ULL, h->vq_errors);
	EXPECT_LT(0ULL, h->frames_checked);
	EXPECT_LT(0ULL, VS(h->bound, ARM_REFUSED));
	EXPECT_LT(0ULL, h->zero_checked);

	/* Frames left queued on the macvtap go with its last fd */
	vhost_guest_close(h->g);
	h->g = NULL;
	close(self->tap_fd);
	self->tap_fd = -1;
	EXPECT_EQ(0, nsim_vhost_pools_settle(0, 5000, &inflight))
		TH_LOG("%llu buffers in flight", inflight);
	EXPECT_FALSE(nsim_kmsg_bad(self->kmsg_fd, line, sizeof(line)))
		TH_LOG("kernel: %s", line);
}

/*
 * The lifecycle under traffic, seeded: a guest process on the macvtap
 * that unbinds and binds, moves to another backend and back, swaps its
 * memory table and closes and reopens its vhost device on its own, while
 * the test kills it, restarts the bound queue, tries to change the NIC's
 * channel count, deletes the macvtap and the NIC and makes them again.
 * Frames flow on one CPU and the guest runs on the other.  The guest
 * checks every frame it gets; each event must leave no page pool of a
 * binding that nobody holds, and the last guest receives in place.
 */

/* What a guest process exits with: it could not start, or the host
 * failed it.
 */
#define GUEST_NO_START		2
#define GUEST_BAD_FRAME		3
#define GUEST_BAD_RING		4
#define GUEST_TAGGED		5

/* What the life tests' guests scanned for the host's and other tenants'
 * tags, in memory shared with the test (the guest processes write it,
 * one at a time).
 */
struct life_scan {
	__u64 bufs, bytes, tags;
};

/* Count the host and foreign tags in @len bytes at @mem into @sc. */
static unsigned int scan_tags(struct life_scan *sc, const unsigned char *mem,
			      size_t len)
{
	unsigned int n = vhost_guest_count_tag(mem, len, host_tag) +
			 vhost_guest_count_tag(mem, len, foreign_tag);

	__atomic_add_fetch(&sc->bufs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sc->bytes, len, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sc->tags, n, __ATOMIC_RELAXED);
	return n;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int guest_attach(struct vhost_guest **gp, int fd)
{
	struct vhost_guest_opts opts = { .buf_len = PG, .ring_num = RING };
	int ret;

	ret = vhost_guest_open(gp, &opts);
	if (ret)
		return ret;
	ret = vhost_guest_set_backend_fd(*gp, fd);
	if (!ret)
		ret = vhost_guest_rx_post(*gp, RING);
	return ret < 0 ? ret : 0;
}

/* The guest process: receives and checks frames, scans every buffer of
 * each for tags (into @sc) and, unless @quiet, now and then does to its
 * own vhost device what a VMM does.  Never returns.
 */
static void __noreturn
guest_proc(const struct rig *r, int other_ifindex, __u64 seed, bool quiet,
	   struct life_scan *sc)
{
	static struct vhost_guest_frame f;
	static struct hostile rng;
	struct vhost_guest *g = NULL;
	const unsigned char *buf;
	int fd, other, ret;
	unsigned int i;
	size_t len;
	__u32 seq;
	__s64 next;

	rng.rng = seed | 1;
	pin_cpu(0);
	fd = vhost_guest_macvtap_open(r->vif.ifindex, HDR_LEN);
	other = vhost_guest_macvtap_open(other_ifindex, HDR_LEN);
	if (fd < 0 || other < 0 || guest_attach(&g, fd))
		_exit(GUEST_NO_START);
	next = now_ms() + 20 + rnd_below(&rng, 200);
	for (;;) {
		ret = vhost_guest_rx_wait(g, &f, 100);
		if (ret == -EPROTO)
			_exit(GUEST_BAD_RING);
		/* The whole of each buffer, before the repost poisons it */
		for (i = 0; !ret && i < f.nbufs; i++) {
			buf = vhost_guest_rx_buf(g, f.ids[i], &len);
			if (!buf)
				_exit(GUEST_BAD_RING);
			if (scan_tags(sc, buf, len))
				_exit(GUEST_TAGGED);
		}
		/* Buffers given back at an unbind are free again too */
		vhost_guest_rx_post(g, RING);
		if (!ret) {
			if (f.len >= ETH_HLEN + 4 && !memcmp(f.data + 6, r->a.mac, ETH_ALEN)) {
				memcpy(&seq, f.data + ETH_HLEN, sizeof(seq));
				if (nsim_check_frame(f.data, f.len, frame_len(seq),
						     &r->a, &r->vif, NULL, &seq))
					_exit(GUEST_BAD_FRAME);
			}
		}
		if (quiet || now_ms() < next)
			continue;
		next = now_ms() + 20 + rnd_below(&rng, 200);
		switch (rnd_below(&rng, 4)) {
		case 0:		/* unbind, bind */
			vhost_guest_set_backend_fd(g, -1);
			vhost_guest_set_backend_fd(g, fd);
			break;
		case 1:		/* another backend for a while */
			vhost_guest_set_backend_fd(g, other);
			usleep(1000 * rnd_below(&rng, 50));
			vhost_guest_set_backend_fd(g, fd);
			break;
		case 2:
			vhost_guest_set_mem_table(g);
			break;
		default:	/* close the vhost device, open another */
			vhost_guest_close(g);
			g = NULL;
			/* Fails once the macvtap is gone: wait for the end */
			if (guest_attach(&g, fd))
				for (;;)
					pause();
			break;
		}
	}
}

enum life_event {
	L_KILL, L_QUEUE_RESET, L_CHANNELS, L_MACVTAP, L_NIC, L_WAIT, L_NR
};

static const char *const life_names[L_NR] = {
	[L_KILL] = "kill -9 of the guest",
	[L_QUEUE_RESET] = "restart of the bound queue",
	[L_CHANNELS] = "channel count change",
	[L_MACVTAP] = "macvtap deleted and made again",
	[L_NIC] = "NIC deleted and made again",
	[L_WAIT] = "wait",
};

FIXTURE(life)
{
	struct rig r;
	struct life_scan *scan;	/* shared with the guest processes */
	char other[IF_NAMESIZE];
	int other_ifindex;
	pid_t guest;
	int kmsg_fd;
	struct traffic t;
	bool traffic;
};

static int life_traffic_start(struct _test_data_life *self)
{
	self->t.fd = nsim_tx_open(&self->r.a);
	if (self->t.fd < 0)
		return self->t.fd;
	self->t.stop = false;
	if (pthread_create(&self->t.thread, NULL, traffic_run, &self->t))
		return -errno;
	self->traffic = true;
	return 0;
}

static void life_traffic_stop(struct _test_data_life *self)
{
	if (!self->traffic)
		return;
	__atomic_store_n(&self->t.stop, true, __ATOMIC_RELAXED);
	pthread_join(self->t.thread, NULL);
	close(self->t.fd);
	self->t.fd = -1;
	self->traffic = false;
}

/* A macvtap on b with no lease, for the guest to move to. */
static int life_other(struct _test_data_life *self)
{
	struct nsim_port o = {};
	int ret;

	snprintf(o.ifname, sizeof(o.ifname), "%s", self->other);
	ret = nsim_macvtap_create(&o, &self->r.b, MTU);
	self->other_ifindex = o.ifindex;
	return ret;
}

/* Ends the guest; its exit status, as a guest_proc() code or 0 when it
 * was killed.
 */
static int life_guest_end(struct _test_data_life *self)
{
	int status;

	if (self->guest <= 0)
		return 0;
	kill(self->guest, SIGKILL);
	if (waitpid(self->guest, &status, 0) != self->guest)
		return -errno;
	self->guest = 0;
	if (WIFSIGNALED(status))
		return WTERMSIG(status) == SIGKILL ? 0 : 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int life_guest_start(struct _test_data_life *self, __u64 seed,
			    bool quiet)
{
	self->guest = fork();
	if (self->guest < 0)
		return -errno;
	if (!self->guest)
		guest_proc(&self->r, self->other_ifindex, seed, quiet,
			   self->scan);
	return 0;
}

FIXTURE_SETUP(life)
{
	char msg[256];
	int ret;

	if (access("/sys/bus/netdevsim/new_device", W_OK))
		SKIP(return, "netdevsim is not available (CONFIG_NETDEVSIM)");
	if (access("/dev/vhost-net", R_OK | W_OK))
		SKIP(return, "/dev/vhost-net is not available (CONFIG_VHOST_NET)");
	self->t.fd = -1;
	self->kmsg_fd = nsim_kmsg_open();
	ASSERT_LE(0, self->kmsg_fd);
	snprintf(self->r.vif.ifname, sizeof(self->r.vif.ifname), "mvl%d",
		 getpid() % 10000);
	snprintf(self->other, sizeof(self->other), "mvo%d", getpid() % 10000);
	ret = rig_up(&self->r, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("netdevsim and macvtap: %s %s",
				 strerror(-ret), msg);
	ASSERT_EQ(0, life_other(self));
	self->scan = mmap(NULL, sizeof(*self->scan), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->scan);
	/* Free host pages carry a tag: none may reach a guest */
	ASSERT_EQ(0, vhost_guest_host_prefill(host_tag, 256UL << 20));
	self->t.a = &self->r.a;
	self->t.b = &self->r.b;
	self->t.vif = &self->r.vif;
}

FIXTURE_TEARDOWN(life)
{
	life_guest_end(self);
	life_traffic_stop(self);
	if (self->scan && self->scan != MAP_FAILED)
		munmap(self->scan, sizeof(*self->scan));
	nsim_run("ip link del %s 2>/dev/null", self->other);
	rig_down(&self->r);
	if (self->kmsg_fd >= 0)
		close(self->kmsg_fd);
}

/* No guest saw a tag of the host's or of another tenant's, in what they
 * scanned, and they scanned something.
 */
static void life_scan_check(struct __test_metadata *_metadata,
			    const struct life_scan *sc)
{
	TH_LOG("tag scans: %llu buffers, %llu MiB, %llu host or foreign tags",
	       sc->bufs, sc->bytes >> 20, sc->tags);
	EXPECT_EQ(0ULL, sc->tags);
	EXPECT_LT(0ULL, sc->bufs);
}

/* What a failure to bind was seen with: the lease, the guest, the
 * kernel's last words on bindings.
 */
static void life_dump(struct __test_metadata *_metadata,
		      struct _test_data_life *self)
{
	int lease_ifindex = -1, lease_queue = -1;

	nsim_queue_get_lease(self->r.b.ifindex, QB, &lease_ifindex, &lease_queue);
	TH_LOG("queue %d of %s leased to ifindex %d queue %d (the macvtap is %d); guest %s",
	       QB, self->r.b.ifname, lease_ifindex, lease_queue,
	       self->r.vif.ifindex, kill(self->guest, 0) ? "gone" : "alive");
	nsim_run("dmesg | grep -i 'bound\\|vhost\\|lease' | tail -20 >&2");
}

/* Milliseconds until the queue is bound to a guest (within 30 s), or -1. */
static int bound_after(const struct _test_data_life *self,
		       struct nsim_vhost_stats *vs)
{
	__s64 t0 = now_ms();

	while (now_ms() - t0 < 30000) {
		if (!nsim_queue_vhost(self->r.b.ifindex, QB, vs))
			return now_ms() - t0;
		usleep(10 * 1000);
	}
	return -1;
}

/* Within 5 s, no page pool of a binding is left but @want. */
static int pools_settle(unsigned int want, __u64 *inflight)
{
	int pools = nsim_vhost_pools_settle(want, 5000, inflight);

	return pools < 0 ? -EIO : pools;
}

TEST_F_TIMEOUT(life, events_under_traffic, 600)
{
	unsigned long iters = nsim_env_ul("VHOST_LIFE_ITERS", 60);
	__s64 start = now_ms(), end = start + 1000 * nsim_env_ul("VHOST_LIFE_SECS", 180);
	unsigned int done[L_NR] = {}, i, chan_refused = 0, pools;
	int bound_max = 0;
	struct nsim_vhost_stats vs0, vs;
	static struct hostile rng;
	unsigned long seed, it;
	char msg[256], line[1024];
	enum life_event e;
	__u64 inflight;
	int ret, st;

	seed = nsim_env_ul("VHOST_LIFE_SEED", (unsigned long)time(NULL));
	rng.rng = seed * 0x9e3779b97f4a7c15ULL | 1;
	TH_LOG("seed %lu (VHOST_LIFE_SEED=%lu to replay the events)", seed, seed);
	pin_cpu(1);
	ASSERT_EQ(0, life_traffic_start(self));
	ASSERT_EQ(0, life_guest_start(self, rnd(&rng), false));

	for (it = 0; it < iters && now_ms() < end; it++) {
		usleep(1000 * (50 + rnd_below(&rng, 300)));
		e = rnd_below(&rng, L_NR);
		done[e]++;
		switch (e) {
		case L_KILL:
			st = life_guest_end(self);
			ASSERT_EQ(0, st) TH_LOG("the guest failed: %d", st);
			ASSERT_EQ(0, life_guest_start(self, rnd(&rng), false));
			break;
		case L_QUEUE_RESET:
			ASSERT_EQ(0, nsim_debugfs_write(&self->r.b, "queue_reset",
							"%d %u",
							rnd_below(&rng, 2) ? QB : 0,
							rnd_below(&rng, 4)));
			break;
		case L_CHANNELS:
			/* Fewer queues would take the leased one away */
			if (nsim_run("ethtool -L %s combined %d 2>/dev/null",
				     self->r.b.ifname, QB))
				chan_refused++;
			nsim_run("ethtool -L %s combined %d 2>/dev/null",
				 self->r.b.ifname, NQ);
			break;
		case L_MACVTAP:
			ASSERT_EQ(0, nsim_run("ip link del %s", self->r.vif.ifname));
			st = life_guest_end(self);
			ASSERT_EQ(0, st) TH_LOG("the guest failed: %d", st);
			ret = rig_macvtap(&self->r, false, msg, sizeof(msg));
			ASSERT_EQ(0, ret) TH_LOG("macvtap: %s %s", strerror(-ret), msg);
			ASSERT_EQ(0, life_guest_start(self, rnd(&rng), false));
			break;
		case L_NIC:
			ASSERT_EQ(0, nsim_run("echo %u > /sys/bus/netdevsim/del_device",
					      self->r.b.dev_id));
			self->r.b.dev_id = 0;
			st = life_guest_end(self);
			ASSERT_EQ(0, st) TH_LOG("the guest failed: %d", st);
			life_traffic_stop(self);
			nsim_run("ip link del %s 2>/dev/null", self->other);
			rig_down(&self->r);
			memset(self->r.vif.mac, 0, ETH_ALEN);
			ret = rig_up(&self->r, msg, sizeof(msg));
			ASSERT_EQ(0, ret) TH_LOG("netdevsim: %s %s", strerror(-ret), msg);
			ASSERT_EQ(0, life_other(self));
			ASSERT_EQ(0, life_traffic_start(self));
			ASSERT_EQ(0, life_guest_start(self, rnd(&rng), false));
			break;
		default:
			break;
		}
		/* Nothing outlives its binding: with the guest gone, no
		 * pool of a binding is left.  (While the guest runs, the
		 * pools of the bindings it ended wait for their buffers.)
		 */
		if (it % 5)
			continue;
		st = life_guest_end(self);
		ASSERT_EQ(0, st) TH_LOG("the guest failed: %d", st);
		ret = pools_settle(0, &inflight);
		ASSERT_EQ(0, ret) TH_LOG("after %s: %d pools of bindings, %llu buffers in flight",
					 life_names[e], ret, inflight);
		ASSERT_EQ(0, life_guest_start(self, rnd(&rng), false));
		ret = bound_after(self, &vs);
		if (ret < 0)
			life_dump(_metadata, self);
		ASSERT_LE(0, ret);
		if (ret > bound_max)
			bound_max = ret;
	}
	TH_LOG("%lu events in %lld s", it, (now_ms() - start) / 1000);
	for (i = 0; i < L_NR; i++)
		TH_LOG("%4u x %s", done[i], life_names[i]);
	/* The ntuple rule and the lease both hold queue 3 */
	EXPECT_EQ(done[L_CHANNELS], chan_refused);

	/* The last guest, on a binding that went through all that,
	 * receives in place.
	 */
	st = life_guest_end(self);
	ASSERT_EQ(0, st) TH_LOG("the guest failed: %d", st);
	ASSERT_EQ(0, pools_settle(0, &inflight));
	ASSERT_EQ(0, life_guest_start(self, rnd(&rng), true));
	ret = bound_after(self, &vs0);
	if (ret < 0)
		life_dump(_metadata, self);
	ASSERT_LE(0, ret);
	TH_LOG("a new guest was bound within %d ms at most (%d ms the last time)",
	       ret > bound_max ? ret : bound_max, ret);
	/* A quiet guest: the binding stays the same one */
	for (i = 0; i < 100; i++) {
		usleep(50 * 1000);
		ASSERT_EQ(0, nsim_queue_vhost(self->r.b.ifindex, QB, &vs));
		if (VS(vs, ZC_FRAMES) > VS(vs0, ZC_FRAMES))
			break;
	}
	EXPECT_LT(VS(vs0, ZC_FRAMES), VS(vs, ZC_FRAMES));
	TH_LOG("traffic: %lu frames to the guest, %lu for others",
	       self->t.sent, self->t.others);

	st = life_guest_end(self);
	EXPECT_EQ(0, st) TH_LOG("the guest failed: %d", st);
	life_scan_check(_metadata, self->scan);
	life_traffic_stop(self);
	pools = pools_settle(0, &inflight);
	EXPECT_EQ(0U, pools) TH_LOG("%llu buffers in flight", inflight);
	EXPECT_FALSE(nsim_kmsg_bad(self->kmsg_fd, line, sizeof(line)))
		TH_LOG("kernel: %s", line);
}

/*
 * The vhost ioctls a VMM drives a binding with, fuzzed: there is no new
 * ioctl, but every existing one reaches the binding.
 */
enum fz_op {
	F_GET_FEATURES, F_SET_FEATURES, F_FEATURES_ARRAY, F_SET_OWNER,
	F_RESET_OWNER, F_MEM_TABLE, F_LOG_BASE, F_LOG_FD, F_VRING_NUM,
	F_VRING_ADDR, F_VRING_BASE, F_GET_VRING_BASE, F_VRING_FD,
	F_BACKEND, F_BACKEND_FEATURES, F_UNKNOWN, F_KICK, F_NR
};

/* Per ioctl: its name and the errnos vhost-net may answer it with. */
static const struct {
	const char *name;
	int errs[8];
} fz_ops[F_NR] = {
	[F_GET_FEATURES]	= { "GET_FEATURES", { EFAULT } },
	[F_SET_FEATURES]	= { "SET_FEATURES", { EOPNOTSUPP, EFAULT, ENOMEM } },
	[F_FEATURES_ARRAY]	= { "SET_FEATURES_ARRAY", { EOPNOTSUPP, EFAULT, ENOMEM } },
	[F_SET_OWNER]		= { "SET_OWNER", { EBUSY, ENOMEM } },
	[F_RESET_OWNER]		= { "RESET_OWNER", { EPERM, ENOMEM } },
	[F_MEM_TABLE]		= { "SET_MEM_TABLE", { EPERM, EOPNOTSUPP, E2BIG, ENOMEM, EFAULT } },
	[F_LOG_BASE]		= { "SET_LOG_BASE", { EPERM, EFAULT } },
	[F_LOG_FD]		= { "SET_LOG_FD", { EPERM, EBADF, EINVAL, EFAULT } },
	[F_VRING_NUM]		= { "SET_VRING_NUM", { EPERM, ENOBUFS, EBUSY, EINVAL, EFAULT } },
	[F_VRING_ADDR]		= { "SET_VRING_ADDR",
				    { EPERM, ENOBUFS, EOPNOTSUPP, EINVAL, EFAULT } },
	[F_VRING_BASE]		= { "SET_VRING_BASE", { EPERM, ENOBUFS, EBUSY, EINVAL, EFAULT } },
	[F_GET_VRING_BASE]	= { "GET_VRING_BASE", { EPERM, ENOBUFS, EFAULT } },
	[F_VRING_FD]		= { "SET_VRING_KICK/CALL/ERR",
				    { EPERM, ENOBUFS, EBADF, EINVAL, EFAULT } },
	[F_BACKEND]		= { "NET_SET_BACKEND",
				    { EPERM, ENOBUFS, EFAULT, ENOTSOCK, EBADF, ENOMEM,
				      EINVAL } },
	[F_BACKEND_FEATURES]	= { "SET_BACKEND_FEATURES", { EOPNOTSUPP, EFAULT } },
	/* vhost reads a queue index from any ioctl it does not know */
	[F_UNKNOWN]		= { "unknown", { ENOTTY, EPERM, ENOBUFS, EFAULT } },
	[F_KICK]		= { "kick", { } },
};

/* Ioctls vhost-net does not have (vhost-scsi's and vDPA's, workers,
 * endianness without CONFIG_VHOST_CROSS_ENDIAN_LEGACY, busy polling
 * with a wrong direction).
 */
static const unsigned long fz_unknown[] = {
	VHOST_NEW_WORKER, VHOST_FREE_WORKER, VHOST_ATTACH_VRING_WORKER,
	VHOST_GET_VRING_WORKER, VHOST_SCSI_SET_ENDPOINT, VHOST_VSOCK_SET_RUNNING,
	VHOST_VDPA_GET_STATUS, VHOST_VDPA_SUSPEND, _IO(VHOST_VIRTIO, 0xfe),
	_IOWR(VHOST_VIRTIO, 0x30, struct vhost_vring_file),
};

struct fuzz {
	struct hostile rng;	/* only its rnd() state */
	struct vhost_guest *g;
	int vfd;		/* g's vhost-net device */
	int tap_fd;		/* the leased macvtap */
	int fds[6];		/* what fd arguments are drawn from */
	unsigned char *mem;	/* g's memory */
	size_t mem_len;
	/* Reserved, never accessible: where bad addresses point */
	unsigned char *none;
	unsigned char scratch[4096];
	unsigned int calls[F_NR], ok[F_NR];
	unsigned int unbinds, resyncs, bound_max_ms, bound_calls;
	char fail[256];
};

static __u64 fz_u64(struct fuzz *z)
{
	static const __u64 edge[] = {
		0, 1, 2, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000ULL, ~0ULL, 1ULL << 63, 4095, 4096,
	};

	if (rnd_below(&z->rng, 2))
		return edge[rnd_below(&z->rng, ARRAY_SIZE(edge))];
	return rnd(&z->rng);
}

/*
 * Addresses.  The kernel may write wherever a call lets it, into this
 * process: so a good address has room for @span bytes of guest memory,
 * and a bad one is in a reserved range nothing is mapped in, in the
 * kernel's half or not canonical.  Guest addresses stay below 1 TiB, so
 * that a dirty log based in the reserved range stays in it.
 */
#define FZ_NONE_LEN	(4ULL << 30)
#define FZ_GPA_MAX	0x10000000000ULL	/* 1 TiB */

static __u64 fz_addr_bad(struct fuzz *z)
{
	switch (rnd_below(&z->rng, 3)) {
	case 0:
		return (unsigned long)z->none +
		       rnd_below(&z->rng, FZ_NONE_LEN / 2 / 64) * 64ULL;
	case 1:
		return 0xffff800000000000ULL + rnd_below(&z->rng, 1 << 20) * 64;
	default:
		return (1ULL << 63) | rnd(&z->rng);
	}
}

static __u64 fz_addr(struct fuzz *z, size_t span)
{
	__u64 off;

	if (rnd_below(&z->rng, 2))
		return fz_addr_bad(z);
	off = rnd_below(&z->rng, (z->mem_len - span) / 16) * 16ULL;
	/* Now and then misaligned */
	if (!rnd_below(&z->rng, 8))
		off += 1 + rnd_below(&z->rng, 15);
	return (unsigned long)z->mem + off;
}

static __u64 fz_gpa(struct fuzz *z)
{
	return rnd_below(&z->rng, 2) ? MEM_GPA : fz_u64(z) % FZ_GPA_MAX;
}

/* A memory region: the guest's own (maybe cut short), one in the reserved
 * range, or one the kernel must refuse.
 */
static void fz_region(struct fuzz *z, struct vhost_memory_region *r)
{
	switch (rnd_below(&z->rng, 3)) {
	case 0:
		r->guest_phys_addr = MEM_GPA;
		r->memory_size = rnd_below(&z->rng, 2) ? z->mem_len :
				 rnd_below(&z->rng, z->mem_len) + 1;
		r->userspace_addr = (unsigned long)z->mem;
		break;
	case 1:
		r->guest_phys_addr = fz_gpa(z);
		r->memory_size = rnd_below(&z->rng, FZ_NONE_LEN / 2 / 4096) *
				 4096ULL;
		r->userspace_addr = (unsigned long)z->none +
				    rnd_below(&z->rng, FZ_NONE_LEN / 2 / 4096) *
				    4096ULL;
		break;
	default:
		r->guest_phys_addr = fz_u64(z);
		r->memory_size = fz_u64(z);
		r->userspace_addr = rnd_below(&z->rng, 2) ? (1ULL << 63) |
				    rnd(&z->rng) : 0xffff800000000000ULL;
		break;
	}
	r->flags_padding = rnd_below(&z->rng, 8) ? 0 : fz_u64(z);
}

static int fz_fd(struct fuzz *z)
{
	return z->fds[rnd_below(&z->rng, ARRAY_SIZE(z->fds))];
}

static unsigned int fz_index(struct fuzz *z)
{
	static const unsigned int idx[] = { 0, 0, 0, 1, 1, 2, 0xffff, ~0U };

	return idx[rnd_below(&z->rng, ARRAY_SIZE(idx))];
}

/* One ioctl with random arguments; -errno or 0. *@unbound: it must have
 * left the RX queue with no binding.
 */
static int fz_call(struct fuzz *z, enum fz_op op, bool *unbound)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r[4];
	} mt;
	struct {
		__u64 count;
		__u64 bits[4];
	} fa;
	struct vhost_vring_state st;
	struct vhost_vring_addr ad;
	struct vhost_vring_file vf;
	unsigned long req;
	unsigned int i;
	__u64 v;
	int fd, ret;

	*unbound = false;
	switch (op) {
	case F_GET_FEATURES:
		ret = ioctl(z->vfd, VHOST_GET_FEATURES, &v);
		break;
	case F_SET_FEATURES:
		ret = ioctl(z->vfd, VHOST_GET_FEATURES, &v);
		if (ret)
			break;
		/* The device's features, some of them, or with others; a
		 * vIOMMU (not bound) only now and then
		 */
		v &= rnd_below(&z->rng, 2) ? ~0ULL : rnd(&z->rng);
		if (rnd_below(&z->rng, 8))
			v &= ~(1ULL << VIRTIO_F_ACCESS_PLATFORM);
		if (rnd_below(&z->rng, 3) == 0)
			v |= 1ULL << rnd_below(&z->rng, 64);
		ret = ioctl(z->vfd, VHOST_SET_FEATURES, &v);
		break;
	case F_FEATURES_ARRAY:
		fa.count = rnd_below(&z->rng, 6);
		for (i = 0; i < ARRAY_SIZE(fa.bits); i++)
			fa.bits[i] = rnd_below(&z->rng, 2) ? 0 : fz_u64(z);
		/* A count past the buffer reads past it: keep it inside */
		if (fa.count > ARRAY_SIZE(fa.bits))
			fa.count = ARRAY_SIZE(fa.bits);
		ret = ioctl(z->vfd, VHOST_SET_FEATURES_ARRAY, &fa);
		break;
	case F_SET_OWNER:
		ret = ioctl(z->vfd, VHOST_SET_OWNER, NULL);
		break;
	case F_RESET_OWNER:
		ret = ioctl(z->vfd, VHOST_RESET_OWNER, NULL);
		*unbound = true;
		break;
	case F_MEM_TABLE:
		memset(&mt, 0, sizeof(mt));
		mt.m.nregions = rnd_below(&z->rng, 8) ? rnd_below(&z->rng, 5) :
			       fz_u64(z);
		mt.m.padding = rnd_below(&z->rng, 16) ? 0 : fz_u64(z);
		for (i = 0; i < ARRAY_SIZE(mt.r); i++)
			fz_region(z, &mt.r[i]);
		/* More regions than there is room for, but within vhost's
		 * default limit (64): as many as there are
		 */
		if (mt.m.nregions > ARRAY_SIZE(mt.r) && mt.m.nregions <= 64)
			mt.m.nregions = ARRAY_SIZE(mt.r);
		ret = ioctl(z->vfd, VHOST_SET_MEM_TABLE, &mt);
		break;
	case F_LOG_BASE:
		v = fz_addr_bad(z);
		ret = ioctl(z->vfd, VHOST_SET_LOG_BASE, &v);
		break;
	case F_LOG_FD:
		fd = fz_fd(z);
		ret = ioctl(z->vfd, VHOST_SET_LOG_FD, &fd);
		break;
	case F_VRING_NUM:
	case F_VRING_BASE:
	case F_GET_VRING_BASE:
		st.index = fz_index(z);
		st.num = rnd_below(&z->rng, 2) ? 1U << rnd_below(&z->rng, 17) :
			 fz_u64(z);
		req = op == F_VRING_NUM ? VHOST_SET_VRING_NUM :
		      op == F_VRING_BASE ? VHOST_SET_VRING_BASE :
		      VHOST_GET_VRING_BASE;
		ret = ioctl(z->vfd, req, &st);
		break;
	case F_VRING_ADDR:
		ad.index = fz_index(z);
		ad.flags = rnd_below(&z->rng, 4) ? 0 : fz_u64(z);
		/* Room for the largest ring vhost takes (32768 entries) */
		ad.desc_user_addr = fz_addr(z, 32768 * 16);
		ad.avail_user_addr = fz_addr(z, 6 + 32768 * 2);
		ad.used_user_addr = fz_addr(z, 6 + 32768 * 8);
		ad.log_guest_addr = fz_gpa(z);
		ret = ioctl(z->vfd, VHOST_SET_VRING_ADDR, &ad);
		break;
	case F_VRING_FD:
		vf.index = fz_index(z);
		vf.fd = fz_fd(z);
		req = rnd_below(&z->rng, 3);
		req = req == 0 ? VHOST_SET_VRING_KICK :
		      req == 1 ? VHOST_SET_VRING_CALL : VHOST_SET_VRING_ERR;
		ret = ioctl(z->vfd, req, &vf);
		break;
	case F_BACKEND:
		vf.index = fz_index(z);
		vf.fd = fz_fd(z);
		ret = ioctl(z->vfd, VHOST_NET_SET_BACKEND, &vf);
		*unbound = vf.index == VHOST_GUEST_RX_VQ && vf.fd == -1;
		break;
	case F_BACKEND_FEATURES:
		v = rnd_below(&z->rng, 2) ? 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2 :
		    fz_u64(z);
		ret = ioctl(z->vfd, VHOST_SET_BACKEND_FEATURES, &v);
		break;
	case F_UNKNOWN:
		/* The argument: a zeroed page nothing else uses */
		ret = ioctl(z->vfd, fz_unknown[rnd_below(&z->rng,
							 ARRAY_SIZE(fz_unknown))],
			    z->scratch);
		break;
	default:
		ret = vhost_guest_rx_kick(z->g);
		return ret;
	}
	return ret ? -errno : 0;
}

static bool fz_allowed(enum fz_op op, int err)
{
	unsigned int i;

	if (!err)
		return true;
	for (i = 0; i < ARRAY_SIZE(fz_ops[op].errs) && fz_ops[op].errs[i]; i++)
		if (fz_ops[op].errs[i] == -err)
			return true;
	return false;
}

/* A fresh guest on the leased macvtap: bound within 3 s, and a frame
 * received in place.
 */
static int fz_resync(struct fuzz *z, struct _test_data_life *self)
{
	struct nsim_vhost_stats vs;
	static struct vhost_guest_frame f;
	__s64 t0;
	__u32 seq;
	int ret, ms;

	/* All the memory of the guest that goes, whatever the fuzz made the
	 * host write where
	 */
	if (z->g)
		scan_tags(self->scan, z->mem, z->mem_len);
	vhost_guest_close(z->g);
	z->g = NULL;
	ret = guest_attach(&z->g, z->tap_fd);
	if (ret)
		return ret;
	z->vfd = vhost_guest_fd(z->g);
	z->mem = vhost_guest_mem(z->g, &z->mem_len);
	t0 = now_ms();
	while (nsim_queue_vhost(self->r.b.ifindex, QB, &vs)) {
		if (now_ms() - t0 > 3000)
			return -ETIMEDOUT;
		usleep(10 * 1000);
	}
	ms = now_ms() - t0;
	if (ms > (int)z->bound_max_ms)
		z->bound_max_ms = ms;
	do {
		ret = vhost_guest_rx_wait(z->g, &f, 3000);
		if (ret)
			return ret;
		ret = vhost_guest_rx_post(z->g, RING);
		if (ret < 0)
			return ret;
		ret = nsim_queue_vhost(self->r.b.ifindex, QB, &vs);
		if (ret)
			return ret;
	} while (!VS(vs, ZC_FRAMES) && now_ms() - t0 < 5000);
	if (!VS(vs, ZC_FRAMES))
		return -ENODATA;
	memcpy(&seq, f.data + ETH_HLEN, sizeof(seq));
	if (f.len < ETH_HLEN + sizeof(seq) ||
	    nsim_check_frame(f.data, f.len, frame_len(seq), &self->r.a,
			     &self->r.vif, NULL, &seq))
		return -EILSEQ;
	z->resyncs++;
	return 0;
}

/*
 * Seeded (VHOST_FUZZ_SEED; VHOST_FUZZ_ITERS calls, default 3000) while
 * frames flow to the bound queue: features with unknown bits, the
 * feature array, owner set and reset, memory tables of 0 to 4 regions
 * (or a count far past the limit) with random addresses, sizes and
 * padding, log bases and fds, vring numbers, bases, addresses and
 * eventfds for the two queues and for queues that do not exist, backends
 * (none, the leased macvtap, a macvtap with no lease, a raw packet
 * socket, /dev/null, a closed fd), backend features, ioctls vhost-net
 * does not have, kicks.  Each call must return 0 or an errno vhost-net
 * answers that ioctl with; after a backend removal or an owner reset
 * that succeeded the queue has no binding; every 100 calls, and after
 * five in a row on an unbound queue, a fresh guest is bound and receives
 * in place (a third of the calls at least reach a bound queue); at the
 * end no binding pool is left and the kernel logged no warning.
 */
TEST_F_TIMEOUT(life, vhost_ioctl_fuzz, 600)
{
	unsigned long iters = nsim_env_ul("VHOST_FUZZ_ITERS", 3000), it;
	unsigned long seed = nsim_env_ul("VHOST_FUZZ_SEED", (unsigned long)time(NULL));
	struct nsim_vhost_stats vs;
	struct fuzz *z;
	unsigned int i;
	__u64 inflight;
	char line[1024];
	bool unbound;
	enum fz_op op;
	unsigned int unbound_run = 0;
	int ret, other;

	z = calloc(1, sizeof(*z));
	ASSERT_NE(NULL, z);
	z->none = mmap(NULL, FZ_NONE_LEN, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, z->none);
	z->rng.rng = seed * 0x9e3779b97f4a7c15ULL | 1;
	TH_LOG("seed %lu (VHOST_FUZZ_SEED)", seed);
	z->tap_fd = vhost_guest_macvtap_open(self->r.vif.ifindex, HDR_LEN);
	ASSERT_LE(0, z->tap_fd);
	other = vhost_guest_macvtap_open(self->other_ifindex, HDR_LEN);
	ASSERT_LE(0, other);
	z->fds[0] = -1;
	z->fds[1] = z->tap_fd;
	z->fds[2] = other;
	z->fds[3] = socket(AF_PACKET, SOCK_RAW, 0);
	z->fds[4] = open("/dev/null", O_RDWR | O_CLOEXEC);
	z->fds[5] = 1000;	/* not open */
	ASSERT_LE(0, z->fds[3]);
	ASSERT_LE(0, z->fds[4]);
	ASSERT_EQ(0, life_traffic_start(self));
	ASSERT_EQ(0, fz_resync(z, self));

	for (it = 0; it < iters && !z->fail[0]; it++) {
		op = rnd_below(&z->rng, F_NR);
		z->calls[op]++;
		if (!nsim_queue_vhost(self->r.b.ifindex, QB, &vs)) {
			z->bound_calls++;
			unbound_run = 0;
		} else {
			unbound_run++;
		}
		ret = fz_call(z, op, &unbound);
		if (!fz_allowed(op, ret)) {
			snprintf(z->fail, sizeof(z->fail),
				 "call %lu: %s: %s", it, fz_ops[op].name,
				 strerror(-ret));
			break;
		}
		z->ok[op] += !ret;
		if (!ret && unbound &&
		    !nsim_queue_vhost(self->r.b.ifindex, QB, &vs)) {
			snprintf(z->fail, sizeof(z->fail),
				 "call %lu: %s succeeded and the queue is still bound",
				 it, fz_ops[op].name);
			break;
		}
		z->unbinds += !ret && unbound;
		/* A fresh guest every 100 calls, and once five calls in a
		 * row found the queue unbound: the fuzz is for the binding
		 */
		if (!((it + 1) % 100) || unbound_run >= 5) {
			unbound_run = 0;
			ret = fz_resync(z, self);
			if (ret)
				snprintf(z->fail, sizeof(z->fail),
					 "after call %lu: a fresh guest: %s", it,
					 strerror(-ret));
		}
	}
	life_traffic_stop(self);
	EXPECT_EQ(0, z->fail[0]) TH_LOG("%s", z->fail);
	for (i = 0; i < F_NR; i++)
		TH_LOG("%-24s %5u calls, %5u succeeded", fz_ops[i].name,
		       z->calls[i], z->ok[i]);
	TH_LOG("%lu calls, %u of them on a bound queue, %u unbinds",
	       it, z->bound_calls, z->unbinds);
	TH_LOG("%u fresh guests, each bound within %u ms", z->resyncs,
	       z->bound_max_ms);
	/* The fuzz reached the binding, not only devices it had left */
	EXPECT_LE(it / 3, z->bound_calls);

	if (z->g)
		scan_tags(self->scan, z->mem, z->mem_len);
	life_scan_check(_metadata, self->scan);
	vhost_guest_close(z->g);
	for (i = 1; i < ARRAY_SIZE(z->fds) - 1; i++)
		close(z->fds[i]);
	EXPECT_EQ(0, pools_settle(0, &inflight))
		TH_LOG("%llu buffers in flight", inflight);
	EXPECT_FALSE(nsim_kmsg_bad(self->kmsg_fd, line, sizeof(line)))
		TH_LOG("kernel: %s", line);
	munmap(z->none, FZ_NONE_LEN);
	free(z);
}

TEST_HARNESS_MAIN
