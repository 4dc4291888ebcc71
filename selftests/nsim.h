/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pair of linked netdevsim ports, set up and driven the way a test on
 * real hardware drives a NIC and its link partner: ethtool (ioctl and
 * netlink), netdev netlink queue stats, AF_PACKET to send and receive.
 *
 * Every function returns 0 (or a count) or a negative errno.
 */
#ifndef __NSIM_H
#define __NSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <sys/types.h>
#include <linux/ethtool.h>
#include <linux/types.h>

#include "../../../kselftest.h"	/* __printf */

#define NSIM_MAX_QUEUES		16
/* Ethertype of the test frames that carry no IP header. */
#define NSIM_ETH_P_TEST		0x88b5

struct nsim_port {
	unsigned int dev_id;
	char ifname[IF_NAMESIZE];
	int ifindex;
	unsigned char mac[6];
	char dfs[128];		/* debugfs directory of the port */
};

/* What a test frame carries above Ethernet. */
struct nsim_flow {
	bool udp4;		/* IPv4 + UDP, otherwise NSIM_ETH_P_TEST */
	__u32 saddr, daddr;	/* network order */
	__u16 sport, dport;	/* host order */
};

/* Per-queue counters from debugfs rx_stats. */
struct nsim_rxq {
	__u64 packets, bytes, alloc_fail, hw_drops, too_long, overruns;
	__u64 hds_split, dma_bytes, cpu_copy_bytes, niov_bytes;
	unsigned int buf_len, hds;
};

/* A vhost-net guest-bound queue's counters, by NETDEV_A_VHOST_PROVIDER_INFO_*
 * attribute: v[NETDEV_A_VHOST_PROVIDER_INFO_ZC_FRAMES] and so on.
 */
#define NSIM_VHOST_NSTATS	32
struct nsim_vhost_stats {
	__u64 v[NSIM_VHOST_NSTATS];
};

struct nsim_qstats {
	__u64 packets, bytes, alloc_fail, hw_drops, hw_drop_overruns;
};

int nsim_pair_create(struct nsim_port *a, struct nsim_port *b,
		     unsigned int queues);
void nsim_pair_destroy(struct nsim_port *a, struct nsim_port *b);
/* A macvtap (mode bridge, IPv6 off, up) named vif->ifname on @lower,
 * with MTU @mtu; its ifindex and MAC into @vif.
 */
int nsim_macvtap_create(struct nsim_port *vif, const struct nsim_port *lower,
			unsigned int mtu);
int nsim_set_mtu(const struct nsim_port *p, unsigned int mtu);
__printf(1, 2) int nsim_run(const char *fmt, ...);

/* ethtool netlink rings-set; hds/thresh/buf_len < 0 leave a value as is. */
int nsim_rings_set(const struct nsim_port *p, int hds, long thresh,
		   long buf_len, char *msg, size_t msg_len);
int nsim_ntuple_add(const struct nsim_port *p, struct ethtool_rx_flow_spec *fs);
int nsim_ntuple_del(const struct nsim_port *p, __u32 loc);
int nsim_ntuple_count(const struct nsim_port *p);
int nsim_rx_stats(const struct nsim_port *p, unsigned int queue,
		  struct nsim_rxq *q);
/* queue < 0: the device's total (every queue plus the base). */
int nsim_qstats(const struct nsim_port *p, int queue, struct nsim_qstats *q);
/* netdev netlink queue-create with a lease of @phys_queue of @phys_ifindex
 * on the virtual device @ifindex; returns the new queue's id.
 */
int nsim_queue_lease(int ifindex, int phys_ifindex, unsigned int phys_queue,
		     char *msg, size_t msg_len);
/* queue-create with the attributes @attrs (@len bytes of netlink
 * attributes, as they go after the genetlink header), however wrong;
 * returns the new queue's id or the kernel's errno.
 */
int nsim_queue_create_raw(const void *attrs, size_t len, char *msg,
			  size_t msg_len);
/* rtnetlink RTM_NEWLINK of a macvlan-kind link (@kind) carrying an
 * IFLA_MACVLAN_RX_LEASE list: a new one named @name on @lower (mode
 * bridge) if @ifindex is 0, else a change of @ifindex.  @nq < 0 sends no
 * list; @extra_type, if not 0, adds a u32 attribute of that type to it.
 */
struct nsim_link_req {
	const char *kind;
	int ifindex;
	const char *name;
	int lower;
	int nq;
	const __u32 *queues;
	int extra_type;
};

int nsim_link_lease(const struct nsim_link_req *r, char *msg, size_t msg_len);
/* RTM_GETLINK: the lower device's queues @ifindex leases, as its
 * IFLA_MACVLAN_RX_LEASE lists them (at most @max stored); the count, or
 * -ENOENT if the link has no such list.
 */
int nsim_link_leases(int ifindex, __u32 *queues, int max);
/* queue-get of an RX queue; the lease's ifindex and queue, or -1. */
int nsim_queue_get_lease(int ifindex, unsigned int queue, int *lease_ifindex,
			 int *lease_queue);
/* queue-get's vhost nest of an RX queue; -ENOENT if the queue has none. */
int nsim_queue_vhost(int ifindex, unsigned int queue,
		     struct nsim_vhost_stats *vs);
/* page-pool-get dump: the pools of vhost-net bindings, and their inflight
 * buffers.
 */
int nsim_vhost_pools(unsigned int *pools, __u64 *inflight);
/* nsim_vhost_pools() until at most @want pools are left, for up to @ms
 * (a pool goes once the NIC, and every frame, gave its buffers back);
 * returns the pools left, or a negative errno.
 */
int nsim_vhost_pools_settle(unsigned int want, int ms, __u64 *inflight);
/* Page allocator calls of @p's page pools without a memory provider:
 * the sum of their alloc-slow and alloc-slow-high-order (page-pool-stats).
 */
int nsim_page_allocs(const struct nsim_port *p, __u64 *slow);
int nsim_link_stat(const struct nsim_port *p, const char *name, __u64 *val);
__printf(3, 4)
int nsim_debugfs_write(const struct nsim_port *p, const char *file,
		       const char *fmt, ...);

size_t nsim_build_frame(void *buf, size_t len, __u32 seq,
			const struct nsim_port *from, const struct nsim_port *to,
			const struct nsim_flow *flow);
/* Checks a received frame against what nsim_build_frame() made.  One
 * thread at a time: the frame it compares against is in a static buffer.
 */
int nsim_check_frame(const void *buf, size_t len, size_t want_len,
		     const struct nsim_port *from, const struct nsim_port *to,
		     const struct nsim_flow *flow, __u32 *seq);

int nsim_tx_open(const struct nsim_port *p);
/* One AF_PACKET socket per RX queue, in a PACKET_FANOUT_QM group. */
int nsim_rx_open(const struct nsim_port *p, unsigned int nq, int *fds);
/* Receives one frame from any of @fds; returns its length and queue. */
int nsim_rx_frame(const int *fds, unsigned int nq, void *buf, size_t len,
		  unsigned int *queue, int timeout_ms);

/* /dev/kmsg, at its end: what the kernel logs from now on; or -errno. */
int nsim_kmsg_open(void);
/* The next record logged on @fd (NUL-terminated in @rec), its length; 0
 * when there is none yet.  Records longer than @len are skipped.
 */
ssize_t nsim_kmsg_next(int fd, char *rec, size_t len);
/* Whether a record on @fd since is a warning, an oops, a sanitizer or
 * lockdep report, a hung task or a stalled page pool; the first one goes
 * to @line.
 */
bool nsim_kmsg_bad(int fd, char *line, size_t len);

/* The environment variable @name as a number (any base strtoul takes),
 * or @def when it is not set.
 */
unsigned long nsim_env_ul(const char *name, unsigned long def);
/* @mac as ip and ethtool write it, into @buf (NSIM_MAC_STR_LEN bytes). */
#define NSIM_MAC_STR_LEN	18
char *nsim_mac_str(char *buf, const unsigned char *mac);
/* CLOCK_MONOTONIC, in seconds. */
double nsim_now(void);
/* This thread on @cpu alone; nothing if the machine has fewer CPUs. */
void nsim_pin_cpu(unsigned int cpu);

#endif
