// SPDX-License-Identifier: GPL-2.0
/*
 * netdevsim RX steering: ntuple rules and RSS, evaluated the way a NIC's
 * classifier does before it picks the RX ring a frame is written to.
 *
 * The classifier runs on the receiving port, from the peer's transmit
 * path (any CPU, BH disabled, under RCU).  Rules are RCU-published
 * pointers in a fixed table; the lowest location that matches wins, as
 * in a TCAM.  Without a match, a user-configured RSS indirection table
 * and a Toeplitz hash over the IP addresses and ports pick the queue.
 * Without either, the port keeps netdevsim's original pairing of the
 * sender's TX queue i with RX queue i.
 */

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <net/ip.h>
#include <net/netdev_lock.h>

#include "netdevsim.h"

/* What the classifier looks at, parsed from the frame on the wire. */
struct nsim_flow {
	u8 dst[ETH_ALEN];
	u8 src[ETH_ALEN];
	__be16 proto;
	u8 l4proto;
	bool has_ports;
	__be32 addr4[2];		/* source, destination */
	struct in6_addr addr6[2];	/* source, destination */
	__be16 ports[2];		/* source, destination */
};

struct nsim_rxnfc_rule {
	struct ethtool_rx_flow_spec fs;
	struct rcu_head rcu;
};

/* Rules change under the instance lock, which every ethtool op holds. */
static struct nsim_rxnfc_rule *nsim_rule(struct netdevsim *ns, u32 loc)
{
	return netdev_lock_dereference(ns->steer.rules[loc], ns->netdev);
}

static void nsim_flow_parse(const struct sk_buff *skb, struct nsim_flow *f)
{
	const struct ipv6hdr *ip6h;
	const struct iphdr *iph;
	const struct ethhdr *eth;
	struct ipv6hdr _ip6h;
	struct iphdr _iph;
	struct ethhdr _eth;
	const __be16 *ports;
	__be16 _ports[2];
	int off = ETH_HLEN;

	memset(f, 0, sizeof(*f));
	eth = skb_header_pointer(skb, 0, sizeof(_eth), &_eth);
	if (!eth)
		return;
	ether_addr_copy(f->dst, eth->h_dest);
	ether_addr_copy(f->src, eth->h_source);
	f->proto = eth->h_proto;

	if (f->proto == htons(ETH_P_IP)) {
		iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);
		if (!iph || iph->ihl < 5) {
			f->proto = 0;
			return;
		}
		f->addr4[0] = iph->saddr;
		f->addr4[1] = iph->daddr;
		f->l4proto = iph->protocol;
		/* Every fragment of a datagram hashes the same: no ports */
		if (ip_is_fragment(iph))
			return;
		off += iph->ihl * 4;
	} else if (f->proto == htons(ETH_P_IPV6)) {
		ip6h = skb_header_pointer(skb, off, sizeof(_ip6h), &_ip6h);
		if (!ip6h) {
			f->proto = 0;
			return;
		}
		f->addr6[0] = ip6h->saddr;
		f->addr6[1] = ip6h->daddr;
		f->l4proto = ip6h->nexthdr;
		off += sizeof(*ip6h);
	} else {
		return;
	}

	if (f->l4proto != IPPROTO_TCP && f->l4proto != IPPROTO_UDP)
		return;
	ports = skb_header_pointer(skb, off, sizeof(_ports), _ports);
	if (!ports)
		return;
	f->ports[0] = ports[0];
	f->ports[1] = ports[1];
	f->has_ports = true;
}

static bool nsim_match_bytes(const void *val, const void *spec,
			     const void *mask, size_t len)
{
	const u8 *v = val, *s = spec, *m = mask;
	size_t i;

	for (i = 0; i < len; i++)
		if ((v[i] ^ s[i]) & m[i])
			return false;
	return true;
}

#define nsim_match(val, spec, mask) \
	nsim_match_bytes(&(val), &(spec), &(mask), sizeof(val))

static bool nsim_rxnfc_match_l4(const struct nsim_flow *f, __be16 proto,
				u8 l4proto)
{
	return f->proto == proto && f->l4proto == l4proto && f->has_ports;
}

static bool nsim_rxnfc_match(const struct ethtool_rx_flow_spec *fs,
			     const struct nsim_flow *f)
{
	const union ethtool_flow_union *h = &fs->h_u, *m = &fs->m_u;

	switch (fs->flow_type) {
	case ETHER_FLOW:
		return nsim_match(f->dst, h->ether_spec.h_dest,
				  m->ether_spec.h_dest) &&
		       nsim_match(f->src, h->ether_spec.h_source,
				  m->ether_spec.h_source) &&
		       nsim_match(f->proto, h->ether_spec.h_proto,
				  m->ether_spec.h_proto);
	case IP_USER_FLOW:
		return f->proto == htons(ETH_P_IP) &&
		       nsim_match(f->addr4[0], h->usr_ip4_spec.ip4src,
				  m->usr_ip4_spec.ip4src) &&
		       nsim_match(f->addr4[1], h->usr_ip4_spec.ip4dst,
				  m->usr_ip4_spec.ip4dst) &&
		       nsim_match(f->l4proto, h->usr_ip4_spec.proto,
				  m->usr_ip4_spec.proto);
	case TCP_V4_FLOW:
	case UDP_V4_FLOW:
		return nsim_rxnfc_match_l4(f, htons(ETH_P_IP),
					   fs->flow_type == TCP_V4_FLOW ?
					   IPPROTO_TCP : IPPROTO_UDP) &&
		       nsim_match(f->addr4[0], h->tcp_ip4_spec.ip4src,
				  m->tcp_ip4_spec.ip4src) &&
		       nsim_match(f->addr4[1], h->tcp_ip4_spec.ip4dst,
				  m->tcp_ip4_spec.ip4dst) &&
		       nsim_match(f->ports[0], h->tcp_ip4_spec.psrc,
				  m->tcp_ip4_spec.psrc) &&
		       nsim_match(f->ports[1], h->tcp_ip4_spec.pdst,
				  m->tcp_ip4_spec.pdst);
	case TCP_V6_FLOW:
	case UDP_V6_FLOW:
		return nsim_rxnfc_match_l4(f, htons(ETH_P_IPV6),
					   fs->flow_type == TCP_V6_FLOW ?
					   IPPROTO_TCP : IPPROTO_UDP) &&
		       nsim_match(f->addr6[0], h->tcp_ip6_spec.ip6src,
				  m->tcp_ip6_spec.ip6src) &&
		       nsim_match(f->addr6[1], h->tcp_ip6_spec.ip6dst,
				  m->tcp_ip6_spec.ip6dst) &&
		       nsim_match(f->ports[0], h->tcp_ip6_spec.psrc,
				  m->tcp_ip6_spec.psrc) &&
		       nsim_match(f->ports[1], h->tcp_ip6_spec.pdst,
				  m->tcp_ip6_spec.pdst);
	}
	return false;
}

/* Toeplitz hash, as RSS hardware computes it: for every set bit of the
 * input, XOR in the 32-bit window of the key starting at that bit.
 */
static u32 nsim_rss_toeplitz(const u8 *key, const u8 *data, unsigned int len)
{
	u32 window = get_unaligned_be32(key);
	unsigned int i, bit;
	u32 hash = 0;

	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			if (data[i] & (0x80 >> bit))
				hash ^= window;
			window <<= 1;
			window |= (key[i + 4] >> (7 - bit)) & 1;
		}
	}
	return hash;
}

static u32 nsim_rss_hash(const u8 *key, const struct nsim_flow *f)
{
	u8 in[2 * sizeof(struct in6_addr) + 2 * sizeof(__be16)];
	unsigned int len;

	if (f->proto == htons(ETH_P_IP)) {
		len = sizeof(f->addr4);
		memcpy(in, f->addr4, len);
	} else {
		len = sizeof(f->addr6);
		memcpy(in, f->addr6, len);
	}
	if (f->has_ports) {
		memcpy(in + len, f->ports, sizeof(f->ports));
		len += sizeof(f->ports);
	}
	return nsim_rss_toeplitz(key, in, len);
}

/**
 * nsim_rx_steer() - pick the RX queue of @ns that receives @skb
 * @ns: receiving port
 * @skb: frame as transmitted by the peer, data at the Ethernet header
 *
 * Context: peer's transmit path, BH disabled, under RCU.
 * Return: queue index, or -1 if a rule drops the frame.
 */
int nsim_rx_steer(struct netdevsim *ns, struct sk_buff *skb)
{
	struct net_device *dev = ns->netdev;
	struct nsim_rxnfc_rule *rule;
	unsigned int nq, i;
	struct nsim_flow f;
	u32 hash;

	nq = READ_ONCE(dev->real_num_rx_queues);
	if (!READ_ONCE(ns->steer.nrules) && !netif_is_rxfh_configured(dev))
		return skb_get_queue_mapping(skb) % dev->num_rx_queues;

	nsim_flow_parse(skb, &f);

	if (dev->features & NETIF_F_NTUPLE) {
		for (i = 0; i < NSIM_RXNFC_MAX; i++) {
			rule = rcu_dereference(ns->steer.rules[i]);
			if (!rule || !nsim_rxnfc_match(&rule->fs, &f))
				continue;
			if (rule->fs.ring_cookie == RX_CLS_FLOW_DISC)
				return -1;
			return (u32)rule->fs.ring_cookie % nq;
		}
	}

	if (!netif_is_rxfh_configured(dev))
		return skb_get_queue_mapping(skb) % dev->num_rx_queues;
	if (f.proto != htons(ETH_P_IP) && f.proto != htons(ETH_P_IPV6))
		return 0;

	/* The key and table are written under the instance lock while
	 * frames flow; a frame hashed with half of an update lands on
	 * some valid queue, as it would on hardware.
	 */
	hash = nsim_rss_hash(ns->steer.rss_key, &f);
	skb_set_hash(skb, hash, f.has_ports ? PKT_HASH_TYPE_L4 :
					      PKT_HASH_TYPE_L3);
	return READ_ONCE(ns->steer.rss_indir[hash % NSIM_RSS_INDIR_SIZE]) % nq;
}

static int nsim_rxnfc_check(struct netdevsim *ns,
			    const struct ethtool_rx_flow_spec *fs)
{
	const union ethtool_flow_union *m = &fs->m_u;

	if (fs->flow_type & (FLOW_EXT | FLOW_MAC_EXT | FLOW_RSS))
		return -EOPNOTSUPP;

	switch (fs->flow_type) {
	case ETHER_FLOW:
		break;
	case IP_USER_FLOW:
		if (fs->h_u.usr_ip4_spec.ip_ver != ETH_RX_NFC_IP4 ||
		    m->usr_ip4_spec.l4_4_bytes || m->usr_ip4_spec.tos ||
		    m->usr_ip4_spec.ip_ver)
			return -EOPNOTSUPP;
		break;
	case TCP_V4_FLOW:
	case UDP_V4_FLOW:
		if (m->tcp_ip4_spec.tos)
			return -EOPNOTSUPP;
		break;
	case TCP_V6_FLOW:
	case UDP_V6_FLOW:
		if (m->tcp_ip6_spec.tclass)
			return -EOPNOTSUPP;
		break;
	default:
		return -EOPNOTSUPP;
	}

	if (fs->ring_cookie == RX_CLS_FLOW_DISC)
		return 0;
	if (fs->ring_cookie == RX_CLS_FLOW_WAKE ||
	    ethtool_get_flow_spec_ring_vf(fs->ring_cookie))
		return -EOPNOTSUPP;
	if (fs->ring_cookie >= ns->netdev->real_num_rx_queues)
		return -EINVAL;
	return 0;
}

static int nsim_rxnfc_ins(struct netdevsim *ns, struct ethtool_rx_flow_spec *fs)
{
	struct nsim_rxnfc_rule *rule, *old;
	u32 loc = fs->location;
	int err;

	if (!(ns->netdev->features & NETIF_F_NTUPLE))
		return -EOPNOTSUPP;
	err = nsim_rxnfc_check(ns, fs);
	if (err)
		return err;

	if (loc == RX_CLS_LOC_ANY) {
		for (loc = 0; loc < NSIM_RXNFC_MAX; loc++)
			if (!nsim_rule(ns, loc))
				break;
		if (loc == NSIM_RXNFC_MAX)
			return -ENOSPC;
	} else if (loc >= NSIM_RXNFC_MAX) {
		return -EINVAL;
	}

	rule = kzalloc_obj(*rule);
	if (!rule)
		return -ENOMEM;
	rule->fs = *fs;
	rule->fs.location = loc;
	fs->location = loc;

	old = nsim_rule(ns, loc);
	rcu_assign_pointer(ns->steer.rules[loc], rule);
	if (old)
		kfree_rcu(old, rcu);
	else
		WRITE_ONCE(ns->steer.nrules, ns->steer.nrules + 1);
	return 0;
}

static int nsim_rxnfc_del(struct netdevsim *ns, u32 loc)
{
	struct nsim_rxnfc_rule *rule;

	if (loc >= NSIM_RXNFC_MAX)
		return -EINVAL;
	rule = nsim_rule(ns, loc);
	if (!rule)
		return -ENOENT;
	RCU_INIT_POINTER(ns->steer.rules[loc], NULL);
	WRITE_ONCE(ns->steer.nrules, ns->steer.nrules - 1);
	kfree_rcu(rule, rcu);
	return 0;
}

int nsim_set_rxnfc(struct net_device *dev, struct ethtool_rxnfc *cmd)
{
	struct netdevsim *ns = netdev_priv(dev);

	switch (cmd->cmd) {
	case ETHTOOL_SRXCLSRLINS:
		return nsim_rxnfc_ins(ns, &cmd->fs);
	case ETHTOOL_SRXCLSRLDEL:
		return nsim_rxnfc_del(ns, cmd->fs.location);
	}
	return -EOPNOTSUPP;
}

int nsim_get_rxnfc(struct net_device *dev, struct ethtool_rxnfc *cmd,
		   u32 *rule_locs)
{
	struct netdevsim *ns = netdev_priv(dev);
	struct nsim_rxnfc_rule *rule;
	u32 loc, n = 0;

	switch (cmd->cmd) {
	case ETHTOOL_GRXCLSRLCNT:
		cmd->rule_cnt = ns->steer.nrules;
		cmd->data = NSIM_RXNFC_MAX | RX_CLS_LOC_SPECIAL;
		return 0;
	case ETHTOOL_GRXCLSRULE:
		if (cmd->fs.location >= NSIM_RXNFC_MAX)
			return -EINVAL;
		rule = nsim_rule(ns, cmd->fs.location);
		if (!rule)
			return -ENOENT;
		cmd->fs = rule->fs;
		return 0;
	case ETHTOOL_GRXCLSRLALL:
		for (loc = 0; loc < NSIM_RXNFC_MAX; loc++) {
			if (!nsim_rule(ns, loc))
				continue;
			if (n == cmd->rule_cnt)
				return -EMSGSIZE;
			rule_locs[n++] = loc;
		}
		cmd->rule_cnt = n;
		cmd->data = NSIM_RXNFC_MAX;
		return 0;
	}
	return -EOPNOTSUPP;
}

u32 nsim_get_rx_ring_count(struct net_device *dev)
{
	return dev->real_num_rx_queues;
}

u32 nsim_get_rxfh_key_size(struct net_device *dev)
{
	return NSIM_RSS_KEY_SIZE;
}

u32 nsim_get_rxfh_indir_size(struct net_device *dev)
{
	return NSIM_RSS_INDIR_SIZE;
}

int nsim_get_rxfh(struct net_device *dev, struct ethtool_rxfh_param *rxfh)
{
	struct netdevsim *ns = netdev_priv(dev);

	rxfh->hfunc = ETH_RSS_HASH_TOP;
	if (rxfh->indir)
		memcpy(rxfh->indir, ns->steer.rss_indir,
		       sizeof(ns->steer.rss_indir));
	if (rxfh->key)
		memcpy(rxfh->key, ns->steer.rss_key, NSIM_RSS_KEY_SIZE);
	return 0;
}

int nsim_set_rxfh(struct net_device *dev, struct ethtool_rxfh_param *rxfh,
		  struct netlink_ext_ack *extack)
{
	struct netdevsim *ns = netdev_priv(dev);
	unsigned int i;

	if (rxfh->hfunc != ETH_RSS_HASH_NO_CHANGE &&
	    rxfh->hfunc != ETH_RSS_HASH_TOP) {
		NL_SET_ERR_MSG_MOD(extack, "only the Toeplitz hash is supported");
		return -EOPNOTSUPP;
	}
	if (rxfh->input_xfrm != RXH_XFRM_NO_CHANGE && rxfh->input_xfrm) {
		NL_SET_ERR_MSG_MOD(extack, "input transformation not supported");
		return -EOPNOTSUPP;
	}

	if (rxfh->indir)
		for (i = 0; i < NSIM_RSS_INDIR_SIZE; i++)
			WRITE_ONCE(ns->steer.rss_indir[i], rxfh->indir[i]);
	if (rxfh->key)
		memcpy(ns->steer.rss_key, rxfh->key, NSIM_RSS_KEY_SIZE);
	return 0;
}

/* Called when the number of RX queues changes while RSS is not set by
 * the user, so the default table always covers every queue.
 */
void nsim_rss_init_indir(struct netdevsim *ns)
{
	unsigned int i, nq = ns->netdev->real_num_rx_queues;

	if (netif_is_rxfh_configured(ns->netdev))
		return;
	for (i = 0; i < NSIM_RSS_INDIR_SIZE; i++)
		WRITE_ONCE(ns->steer.rss_indir[i],
			   ethtool_rxfh_indir_default(i, nq));
}

void nsim_steer_init(struct netdevsim *ns)
{
	netdev_rss_key_fill(ns->steer.rss_key, NSIM_RSS_KEY_SIZE);
	nsim_rss_init_indir(ns);
}

void nsim_steer_uninit(struct netdevsim *ns)
{
	struct nsim_rxnfc_rule *rule;
	unsigned int loc;

	for (loc = 0; loc < NSIM_RXNFC_MAX; loc++) {
		rule = rcu_dereference_protected(ns->steer.rules[loc], true);
		RCU_INIT_POINTER(ns->steer.rules[loc], NULL);
		if (rule)
			kfree_rcu(rule, rcu);
	}
	ns->steer.nrules = 0;
}
