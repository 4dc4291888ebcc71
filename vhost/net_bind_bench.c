// SPDX-License-Identifier: GPL-2.0
/*
 * The page pool paths a guest-bound RX queue relies on, timed side by
 * side (CONFIG_VHOST_NET_BIND_BENCH, for make bench).
 *
 * Writing a loop count to debugfs vhost_net_bind_bench/run times, on the
 * writing CPU with bottom halves off, one buffer through:
 *
 *   fast    page_pool_alloc_pages() and page_pool_recycle_direct(): the
 *           pool's per-CPU cache, as a NIC driver recycles in NAPI;
 *   ring    page_pool_alloc_pages() and page_pool_put_full_page()
 *           without direct recycling: into the pool's ptr_ring and back
 *           through a cache refill, the way a guest-bound buffer returns
 *           to its pool when the guest posts it again;
 *   alloc   alloc_page() and __free_page(): the page allocator.
 *
 * Reading the file gives the last run, a line per path: name, loops,
 * cycles and nanoseconds per buffer (the cycle counter is get_cycles()).
 */
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/timex.h>
#include <linux/uaccess.h>
#include <net/page_pool/helpers.h>
#include <net/page_pool/types.h>

#define BENCH_MAX_LOOPS		100000000UL
/* Pages kept in flight by the ring path, so each round goes through it */
#define BENCH_RING_BATCH	64

enum bench_path { BENCH_FAST, BENCH_RING, BENCH_ALLOC, BENCH_NR_PATHS };

static const char *const bench_names[BENCH_NR_PATHS] = {
	[BENCH_FAST]	= "fast",
	[BENCH_RING]	= "ring",
	[BENCH_ALLOC]	= "alloc",
};

struct bench_result {
	unsigned long loops;
	u64 cycles;
	u64 ns;
	bool failed;
};

/* The last run; protected by bench_lock, which also makes runs one at a
 * time.
 */
static DEFINE_MUTEX(bench_lock);
static struct bench_result bench_results[BENCH_NR_PATHS];

static struct page_pool *bench_pool_create(void)
{
	struct page_pool_params pp = {
		.order = 0,
		.pool_size = 256,
		.nid = NUMA_NO_NODE,
	};

	return page_pool_create(&pp);
}

/* @loops buffers out in batches, then back through the pool's ring. */
static bool bench_ring(struct page_pool *pool, unsigned long loops)
{
	struct page *batch[BENCH_RING_BATCH];
	unsigned long done = 0;
	unsigned int n, j;
	bool ok = true;

	while (ok && done < loops) {
		n = min_t(unsigned long, loops - done, BENCH_RING_BATCH);
		for (j = 0; j < n; j++) {
			batch[j] = page_pool_alloc_pages(pool, GFP_ATOMIC);
			if (!batch[j]) {
				ok = false;
				break;
			}
		}
		while (j--)
			page_pool_put_full_page(pool, batch[j], false);
		done += n;
	}
	return ok;
}

/* Runs @loops rounds of @path; false if an allocation failed. */
static bool bench_loop(enum bench_path path, struct page_pool *pool,
		       unsigned long loops)
{
	struct page *page;
	unsigned long i;

	if (path == BENCH_RING)
		return bench_ring(pool, loops);
	for (i = 0; i < loops; i++) {
		if (path == BENCH_FAST) {
			page = page_pool_alloc_pages(pool, GFP_ATOMIC);
			if (!page)
				return false;
			page_pool_recycle_direct(pool, page);
		} else {
			page = alloc_page(GFP_ATOMIC);
			if (!page)
				return false;
			__free_page(page);
		}
	}
	return true;
}

static void bench_run(enum bench_path path, unsigned long loops)
{
	struct bench_result *r = &bench_results[path];
	struct page_pool *pool = NULL;
	cycles_t c0, c1;
	u64 t0, t1;
	bool ok;

	memset(r, 0, sizeof(*r));
	r->loops = loops;
	if (path != BENCH_ALLOC) {
		pool = bench_pool_create();
		if (IS_ERR(pool)) {
			r->failed = true;
			return;
		}
		/* Warm up: the pool's cache and ring hold pages */
		local_bh_disable();
		bench_loop(path, pool, 2 * BENCH_RING_BATCH);
		local_bh_enable();
	}

	local_bh_disable();
	t0 = ktime_get_ns();
	c0 = get_cycles();
	ok = bench_loop(path, pool, loops);
	c1 = get_cycles();
	t1 = ktime_get_ns();
	local_bh_enable();

	r->failed = !ok;
	r->cycles = c1 - c0;
	r->ns = t1 - t0;
	if (pool)
		page_pool_destroy(pool);
}

static ssize_t bench_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	unsigned long loops;
	int path, ret;

	ret = kstrtoul_from_user(ubuf, count, 0, &loops);
	if (ret)
		return ret;
	if (!loops || loops > BENCH_MAX_LOOPS)
		return -ERANGE;

	mutex_lock(&bench_lock);
	for (path = 0; path < BENCH_NR_PATHS; path++) {
		bench_run(path, loops);
		cond_resched();
	}
	mutex_unlock(&bench_lock);
	return count;
}

static int bench_show(struct seq_file *m, void *v)
{
	const struct bench_result *r;
	int path;

	mutex_lock(&bench_lock);
	for (path = 0; path < BENCH_NR_PATHS; path++) {
		r = &bench_results[path];
		if (!r->loops)
			continue;
		if (r->failed) {
			seq_printf(m, "%s %lu failed\n", bench_names[path],
				   r->loops);
			continue;
		}
		/* Per buffer, in hundredths */
		seq_printf(m, "%s %lu %llu.%02llu %llu.%02llu\n",
			   bench_names[path], r->loops,
			   div64_u64(r->cycles * 100, r->loops) / 100,
			   div64_u64(r->cycles * 100, r->loops) % 100,
			   div64_u64(r->ns * 100, r->loops) / 100,
			   div64_u64(r->ns * 100, r->loops) % 100);
	}
	mutex_unlock(&bench_lock);
	return 0;
}

static int bench_open(struct inode *inode, struct file *file)
{
	return single_open(file, bench_show, NULL);
}

static const struct file_operations bench_fops = {
	.owner		= THIS_MODULE,
	.open		= bench_open,
	.read		= seq_read,
	.write		= bench_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

static int __init vhost_net_bind_bench_init(void)
{
	struct dentry *dir;

	dir = debugfs_create_dir("vhost_net_bind_bench", NULL);
	debugfs_create_file("run", 0600, dir, NULL, &bench_fops);
	return 0;
}
late_initcall(vhost_net_bind_bench_init);
