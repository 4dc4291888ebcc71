// SPDX-License-Identifier: GPL-2.0
/* A pair of linked netdevsim ports for tests; see nsim.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/netdev.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/udp.h>

#include "nsim.h"
#include "vhost_guest.h"

#define NSIM_SYS	"/sys/bus/netdevsim"
#define NSIM_DFS	"/sys/kernel/debug/netdevsim"

static bool nsim_nla_ok(const struct nlattr *a, int len)
{
	return len >= (int)NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len;
}

static const struct nlattr *nsim_nla_next(const struct nlattr *a, int *len)
{
	*len -= NLA_ALIGN(a->nla_len);
	return (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
}

static int nsim_write(const char *path, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int fd, n, ret = 0;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

int nsim_run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st < 0)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -EINTR;
}

static int nsim_ifreq(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, IF_NAMESIZE, "%s", ifname);
	if (ioctl(fd, req, ifr))
		ret = -errno;
	close(fd);
	return ret;
}

static int nsim_port_find(struct nsim_port *p)
{
	char path[128];
	struct ifreq ifr = {};
	struct dirent *de;
	DIR *d;
	int ret;

	snprintf(path, sizeof(path), NSIM_SYS "/devices/netdevsim%u/net",
		 p->dev_id);
	d = opendir(path);
	if (!d)
		return -errno;
	p->ifname[0] = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			snprintf(p->ifname, sizeof(p->ifname), "%.*s",
				 IF_NAMESIZE - 1, de->d_name);
	closedir(d);
	if (!p->ifname[0])
		return -ENODEV;
	p->ifindex = if_nametoindex(p->ifname);
	if (!p->ifindex)
		return -errno;
	ret = nsim_ifreq(p->ifname, SIOCGIFHWADDR, &ifr);
	if (ret)
		return ret;
	memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	snprintf(p->dfs, sizeof(p->dfs), NSIM_DFS "/netdevsim%u/ports/0",
		 p->dev_id);
	return 0;
}

static int nsim_port_up(const struct nsim_port *p)
{
	struct ifreq ifr = {};
	char path[128];
	int ret;

	/* No IPv6 autoconfiguration traffic on the link under test. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 p->ifname);
	nsim_write(path, "1");
	ret = nsim_ifreq(p->ifname, SIOCGIFFLAGS, &ifr);
	if (ret)
		return ret;
	ifr.ifr_flags |= IFF_UP;
	return nsim_ifreq(p->ifname, SIOCSIFFLAGS, &ifr);
}

int nsim_pair_create(struct nsim_port *a, struct nsim_port *b,
		     unsigned int queues)
{
	unsigned int base = 100 + (getpid() % 400) * 2;
	int nsfd, ret, tries;

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->dev_id = base;
	b->dev_id = base + 1;
	ret = nsim_write(NSIM_SYS "/new_device", "%u 1 %u", a->dev_id, queues);
	if (ret)
		return ret;
	ret = nsim_write(NSIM_SYS "/new_device", "%u 1 %u", b->dev_id, queues);
	if (ret)
		goto err_del_a;

	/* Let udev finish renaming the interfaces before taking names */
	nsim_run("udevadm settle --timeout=10 >/dev/null 2>&1");
	for (tries = 0; tries < 50; tries++) {
		ret = nsim_port_find(a);
		if (!ret)
			ret = nsim_port_find(b);
		if (!ret)
			break;
		usleep(20000);
	}
	if (ret)
		goto err_del_b;

	nsfd = open("/proc/self/ns/net", O_RDONLY);
	if (nsfd < 0) {
		ret = -errno;
		goto err_del_b;
	}
	ret = nsim_write(NSIM_SYS "/link_device", "%d:%d %d:%d",
			 nsfd, a->ifindex, nsfd, b->ifindex);
	close(nsfd);
	if (ret)
		goto err_del_b;
	ret = nsim_port_up(a);
	if (!ret)
		ret = nsim_port_up(b);
	if (ret)
		goto err_del_b;
	return 0;

err_del_b:
	nsim_write(NSIM_SYS "/del_device", "%u", b->dev_id);
err_del_a:
	nsim_write(NSIM_SYS "/del_device", "%u", a->dev_id);
	return ret;
}

static int nsim_read_mac(const char *ifname, unsigned char *mac)
{
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fscanf(f, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		   &mac[2], &mac[3], &mac[4], &mac[5]);
	fclose(f);
	return n == 6 ? 0 : -EPROTO;
}

int nsim_macvtap_create(struct nsim_port *vif, const struct nsim_port *lower,
			unsigned int mtu)
{
	if (nsim_run("ip link add link %s name %s type macvtap mode bridge",
		     lower->ifname, vif->ifname) ||
	    nsim_run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1",
		     vif->ifname) ||
	    nsim_run("ip link set %s mtu %u up", vif->ifname, mtu))
		return -EIO;
	vif->ifindex = if_nametoindex(vif->ifname);
	if (!vif->ifindex)
		return -ENODEV;
	return nsim_read_mac(vif->ifname, vif->mac);
}

void nsim_pair_destroy(struct nsim_port *a, struct nsim_port *b)
{
	if (b->dev_id)
		nsim_write(NSIM_SYS "/del_device", "%u", b->dev_id);
	if (a->dev_id)
		nsim_write(NSIM_SYS "/del_device", "%u", a->dev_id);
	a->dev_id = 0;
	b->dev_id = 0;
}

/* By index: the name is only a hint, udev or a test may rename. */
static int nsim_port_ifreq(const struct nsim_port *p, unsigned long req,
			   struct ifreq *ifr)
{
	char name[IF_NAMESIZE];

	if (!if_indextoname(p->ifindex, name))
		return -errno;
	return nsim_ifreq(name, req, ifr);
}

int nsim_set_mtu(const struct nsim_port *p, unsigned int mtu)
{
	struct ifreq ifr = { .ifr_mtu = mtu };

	return nsim_port_ifreq(p, SIOCSIFMTU, &ifr);
}

static int nsim_ethtool_ioctl(const struct nsim_port *p, void *cmd)
{
	struct ifreq ifr = { .ifr_data = cmd };

	return nsim_port_ifreq(p, SIOCETHTOOL, &ifr);
}

int nsim_ntuple_add(const struct nsim_port *p, struct ethtool_rx_flow_spec *fs)
{
	struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_SRXCLSRLINS, .fs = *fs };
	int ret;

	ret = nsim_ethtool_ioctl(p, &nfc);
	fs->location = nfc.fs.location;
	return ret;
}

int nsim_ntuple_del(const struct nsim_port *p, __u32 loc)
{
	struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_SRXCLSRLDEL };

	nfc.fs.location = loc;
	return nsim_ethtool_ioctl(p, &nfc);
}

int nsim_ntuple_count(const struct nsim_port *p)
{
	struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_GRXCLSRLCNT };
	int ret;

	ret = nsim_ethtool_ioctl(p, &nfc);
	return ret ? ret : (int)nfc.rule_cnt;
}

/* Generic netlink, just enough for two requests. */
struct nsim_nl {
	int fd;
	__u32 seq;
	char buf[16384];
};

static struct nlattr *nsim_nla_put(struct nlmsghdr *nlh, int type,
				   const void *data, int len)
{
	struct nlattr *nla = (void *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)nla + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(nla->nla_len);
	return nla;
}

static void nsim_nla_end(struct nlmsghdr *nlh, struct nlattr *nest)
{
	nest->nla_len = (char *)nlh + nlh->nlmsg_len - (char *)nest;
}

static struct nlmsghdr *nsim_genl_msg(struct nsim_nl *nl, int family, int cmd,
				      int flags)
{
	struct nlmsghdr *nlh = (void *)nl->buf;
	struct genlmsghdr *g;

	memset(nl->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g = NLMSG_DATA(nlh);
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

typedef int (*nsim_nl_cb)(const struct nlmsghdr *nlh, void *arg);

/* Sends the request in nl->buf, feeds replies to @cb until the ack. */
static int nsim_nl_talk(struct nsim_nl *nl, nsim_nl_cb cb, void *arg,
			char *msg, size_t msg_len)
{
	struct nlmsghdr *nlh = (void *)nl->buf;
	unsigned int len;
	ssize_t n;
	int ret;

	if (send(nl->fd, nl->buf, nlh->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(nl->fd, nl->buf, sizeof(nl->buf), 0);
		if (n < 0)
			return -errno;
		len = n;
		for (nlh = (void *)nl->buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR ||
			    nlh->nlmsg_type == NLMSG_DONE) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);
				const struct nlattr *a;
				int alen;

				ret = nlh->nlmsg_type == NLMSG_DONE ? 0 : e->error;
				if (!msg || nlh->nlmsg_type == NLMSG_DONE ||
				    !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
					return ret;
				a = (void *)((char *)e + sizeof(*e) +
					     ((nlh->nlmsg_flags & NLM_F_CAPPED) ? 0 :
					      NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN));
				alen = (char *)nlh + nlh->nlmsg_len - (char *)a;
				for (; nsim_nla_ok(a, alen); a = nsim_nla_next(a, &alen))
					if (a->nla_type == NLMSGERR_ATTR_MSG)
						snprintf(msg, msg_len, "%s",
							 (char *)a + NLA_HDRLEN);
				return ret;
			}
			if (cb) {
				ret = cb(nlh, arg);
				if (ret)
					return ret;
			}
		}
	}
}

static int nsim_family_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a = (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	int len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	for (; nsim_nla_ok(a, len); a = nsim_nla_next(a, &len))
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			*(int *)arg = *(__u16 *)((char *)a + NLA_HDRLEN);
	return 0;
}

static int nsim_nl_open(struct nsim_nl *nl, const char *family)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nlh;
	int one = 1, id = 0, ret;

	nl->seq = 0;
	nl->fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (bind(nl->fd, (void *)&sa, sizeof(sa))) {
		ret = -errno;
		goto err_close;
	}
	nlh = nsim_genl_msg(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	nsim_nla_put(nlh, CTRL_ATTR_FAMILY_NAME, family, strlen(family) + 1);
	ret = nsim_nl_talk(nl, nsim_family_cb, &id, NULL, 0);
	if (ret)
		goto err_close;
	if (!id) {
		ret = -ENOENT;
		goto err_close;
	}
	return id;

err_close:
	close(nl->fd);
	return ret;
}

int nsim_rings_set(const struct nsim_port *p, int hds, long thresh,
		   long buf_len, char *msg, size_t msg_len)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct nsim_nl *nl;
	int id, ret;
	__u32 v;
	__u8 b;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	id = nsim_nl_open(nl, ETHTOOL_GENL_NAME);
	if (id < 0) {
		free(nl);
		return id;
	}
	nlh = nsim_genl_msg(nl, id, ETHTOOL_MSG_RINGS_SET, 0);
	nest = nsim_nla_put(nlh, ETHTOOL_A_RINGS_HEADER | NLA_F_NESTED, NULL, 0);
	v = p->ifindex;
	nsim_nla_put(nlh, ETHTOOL_A_HEADER_DEV_INDEX, &v, sizeof(v));
	nsim_nla_end(nlh, nest);
	if (hds >= 0) {
		b = hds ? ETHTOOL_TCP_DATA_SPLIT_ENABLED :
			  ETHTOOL_TCP_DATA_SPLIT_DISABLED;
		nsim_nla_put(nlh, ETHTOOL_A_RINGS_TCP_DATA_SPLIT, &b, sizeof(b));
	}
	if (thresh >= 0) {
		v = thresh;
		nsim_nla_put(nlh, ETHTOOL_A_RINGS_HDS_THRESH, &v, sizeof(v));
	}
	if (buf_len >= 0) {
		v = buf_len;
		nsim_nla_put(nlh, ETHTOOL_A_RINGS_RX_BUF_LEN, &v, sizeof(v));
	}
	if (msg && msg_len)
		msg[0] = 0;
	ret = nsim_nl_talk(nl, NULL, NULL, msg, msg_len);
	close(nl->fd);
	free(nl);
	return ret;
}

struct nsim_qstats_arg {
	int queue;
	struct nsim_qstats *q;
};

static __u64 nsim_nla_uint(const struct nlattr *a)
{
	const void *d = (const char *)a + NLA_HDRLEN;

	if (a->nla_len - NLA_HDRLEN == 8)
		return *(const __u64 *)d;
	return *(const __u32 *)d;
}

static int nsim_qstats_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a = (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	int len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	struct nsim_qstats_arg *qa = arg;
	struct nsim_qstats s = {};
	int type = -1, id = -1;

	for (; nsim_nla_ok(a, len); a = nsim_nla_next(a, &len)) {
		switch (a->nla_type) {
		case NETDEV_A_QSTATS_QUEUE_TYPE:
			type = nsim_nla_uint(a);
			break;
		case NETDEV_A_QSTATS_QUEUE_ID:
			id = nsim_nla_uint(a);
			break;
		case NETDEV_A_QSTATS_RX_PACKETS:
			s.packets = nsim_nla_uint(a);
			break;
		case NETDEV_A_QSTATS_RX_BYTES:
			s.bytes = nsim_nla_uint(a);
			break;
		case NETDEV_A_QSTATS_RX_ALLOC_FAIL:
			s.alloc_fail = nsim_nla_uint(a);
			break;
		case NETDEV_A_QSTATS_RX_HW_DROPS:
			s.hw_drops = nsim_nla_uint(a);
			break;
		case NETDEV_A_QSTATS_RX_HW_DROP_OVERRUNS:
			s.hw_drop_overruns = nsim_nla_uint(a);
			break;
		}
	}
	if (qa->queue < 0 || (type == NETDEV_QUEUE_TYPE_RX && id == qa->queue))
		*qa->q = s;
	return 0;
}

int nsim_qstats(const struct nsim_port *p, int queue, struct nsim_qstats *q)
{
	struct nsim_qstats_arg qa = { .queue = queue, .q = q };
	struct nlmsghdr *nlh;
	struct nsim_nl *nl;
	__u32 v;
	int id, ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	id = nsim_nl_open(nl, NETDEV_FAMILY_NAME);
	if (id < 0) {
		free(nl);
		return id;
	}
	nlh = nsim_genl_msg(nl, id, NETDEV_CMD_QSTATS_GET, NLM_F_DUMP);
	v = p->ifindex;
	nsim_nla_put(nlh, NETDEV_A_QSTATS_IFINDEX, &v, sizeof(v));
	if (queue >= 0) {
		v = NETDEV_QSTATS_SCOPE_QUEUE;
		nsim_nla_put(nlh, NETDEV_A_QSTATS_SCOPE, &v, sizeof(v));
	}
	memset(q, 0xff, sizeof(*q));
	ret = nsim_nl_talk(nl, nsim_qstats_cb, &qa, NULL, 0);
	close(nl->fd);
	free(nl);
	if (!ret && q->packets == ~0ULL)
		ret = -ENOENT;
	return ret;
}

int nsim_rx_stats(const struct nsim_port *p, unsigned int queue,
		  struct nsim_rxq *q)
{
	char path[160], line[512];
	unsigned int idx;
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/rx_stats", p->dfs);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %u %u",
			   &idx, &q->packets, &q->bytes, &q->alloc_fail,
			   &q->hw_drops, &q->too_long, &q->overruns,
			   &q->hds_split, &q->dma_bytes, &q->cpu_copy_bytes,
			   &q->niov_bytes, &q->buf_len, &q->hds) == 13 &&
		    idx == queue) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int nsim_link_stat(const struct nsim_port *p, const char *name, __u64 *val)
{
	char path[160];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s",
		 p->ifname, name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (fscanf(f, "%llu", val) != 1)
		ret = -EIO;
	fclose(f);
	return ret;
}

int nsim_debugfs_write(const struct nsim_port *p, const char *file,
		       const char *fmt, ...)
{
	char path[160], buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", p->dfs, file);
	return nsim_write(path, "%s", buf);
}

static size_t nsim_hdr_len(const struct nsim_flow *flow)
{
	return ETH_HLEN + (flow && flow->udp4 ?
			   sizeof(struct iphdr) + sizeof(struct udphdr) : 0);
}

static __u16 nsim_ip_csum(const void *data, size_t len)
{
	const __u16 *w = data;
	__u32 sum = 0;

	while (len > 1) {
		sum += *w++;
		len -= 2;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

size_t nsim_build_frame(void *buf, size_t len, __u32 seq,
			const struct nsim_port *from, const struct nsim_port *to,
			const struct nsim_flow *flow)
{
	size_t hlen = nsim_hdr_len(flow);
	struct ethhdr *eth = buf;
	unsigned char *p = buf;

	if (len < hlen + sizeof(seq))
		len = hlen + sizeof(seq);
	memcpy(eth->h_dest, to->mac, ETH_ALEN);
	memcpy(eth->h_source, from->mac, ETH_ALEN);
	eth->h_proto = htons(NSIM_ETH_P_TEST);
	if (flow && flow->udp4) {
		struct iphdr *ip = (void *)(p + ETH_HLEN);
		struct udphdr *udp = (void *)(ip + 1);

		eth->h_proto = htons(ETH_P_IP);
		memset(ip, 0, sizeof(*ip));
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons(len - ETH_HLEN);
		ip->saddr = flow->saddr;
		ip->daddr = flow->daddr;
		ip->check = nsim_ip_csum(ip, sizeof(*ip));
		udp->source = htons(flow->sport);
		udp->dest = htons(flow->dport);
		udp->len = htons(len - ETH_HLEN - sizeof(*ip));
		udp->check = 0;
	}
	memcpy(p + hlen, &seq, sizeof(seq));
	vhost_guest_pattern(p + hlen + sizeof(seq), len - hlen - sizeof(seq),
			    seq);
	return len;
}

int nsim_check_frame(const void *buf, size_t len, size_t want_len,
		     const struct nsim_port *from, const struct nsim_port *to,
		     const struct nsim_flow *flow, __u32 *seq)
{
	static unsigned char want[VHOST_GUEST_MAX_FRAME];
	size_t hlen = nsim_hdr_len(flow);

	if (len < hlen + sizeof(*seq))
		return -EPROTO;
	memcpy(seq, (const char *)buf + hlen, sizeof(*seq));
	if (len != want_len)
		return -EMSGSIZE;
	nsim_build_frame(want, want_len, *seq, from, to, flow);
	return memcmp(want, buf, len) ? -EILSEQ : 0;
}

int nsim_tx_open(const struct nsim_port *p)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = p->ifindex,
		.sll_protocol = 0,
	};
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (void *)&sll, sizeof(sll))) {
		close(fd);
		return -errno;
	}
	return fd;
}

int nsim_rx_open(const struct nsim_port *p, unsigned int nq, int *fds)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = p->ifindex,
		.sll_protocol = htons(ETH_P_ALL),
	};
	int group = (getpid() & 0xffff) | (PACKET_FANOUT_QM << 16);
	int rcvbuf = 8 << 20;
	unsigned int i;

	for (i = 0; i < nq; i++) {
		fds[i] = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
		if (fds[i] < 0)
			goto err_close;
		setsockopt(fds[i], SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			   sizeof(rcvbuf));
		if (bind(fds[i], (void *)&sll, sizeof(sll)) ||
		    setsockopt(fds[i], SOL_PACKET, PACKET_FANOUT, &group,
			       sizeof(group))) {
			close(fds[i]);
			goto err_close;
		}
	}
	return 0;

err_close:
	while (i--)
		close(fds[i]);
	return -errno;
}

int nsim_rx_frame(const int *fds, unsigned int nq, void *buf, size_t len,
		  unsigned int *queue, int timeout_ms)
{
	struct pollfd pfd[NSIM_MAX_QUEUES];
	struct sockaddr_ll sll;
	socklen_t slen;
	unsigned int i;
	ssize_t n;
	int ret;

	for (;;) {
		for (i = 0; i < nq; i++)
			pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		ret = poll(pfd, nq, timeout_ms);
		if (ret < 0)
			return -errno;
		if (!ret)
			return -ETIMEDOUT;
		for (i = 0; i < nq; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			slen = sizeof(sll);
			n = recvfrom(fds[i], buf, len, MSG_DONTWAIT,
				     (void *)&sll, &slen);
			if (n < 0)
				return -errno;
			if (sll.sll_pkttype == PACKET_OUTGOING)
				continue;
			/* PACKET_FANOUT_QM hands socket i the frames whose
			 * recorded queue mapping (RX queue + 1) is i mod nq.
			 */
			*queue = (i + nq - 1) % nq;
			return n;
		}
	}
}

struct nsim_queue_arg {
	int id;
	int lease_ifindex;
	int lease_queue;
	struct nsim_vhost_stats *vhost;
	bool has_vhost;
};

/* A netdev netlink request for @cmd in a socket of its own; the caller
 * adds attributes to *@nlh, talks, closes nl->fd and frees nl.
 */
static struct nsim_nl *nsim_netdev_req(int cmd, int flags,
				       struct nlmsghdr **nlh, int *err)
{
	struct nsim_nl *nl;
	int id;

	nl = calloc(1, sizeof(*nl));
	if (!nl) {
		*err = -ENOMEM;
		return NULL;
	}
	id = nsim_nl_open(nl, NETDEV_FAMILY_NAME);
	if (id < 0) {
		free(nl);
		*err = id;
		return NULL;
	}
	*nlh = nsim_genl_msg(nl, id, cmd, flags);
	return nl;
}

static void nsim_netdev_done(struct nsim_nl *nl)
{
	close(nl->fd);
	free(nl);
}

static void nsim_parse_vhost(const struct nlattr *nest,
			     struct nsim_vhost_stats *vs)
{
	const struct nlattr *a = (const void *)((const char *)nest + NLA_HDRLEN);
	int len = nest->nla_len - NLA_HDRLEN;
	unsigned int type;

	memset(vs, 0, sizeof(*vs));
	for (; nsim_nla_ok(a, len); a = nsim_nla_next(a, &len)) {
		type = a->nla_type & NLA_TYPE_MASK;
		if (type < NSIM_VHOST_NSTATS)
			vs->v[type] = nsim_nla_uint(a);
	}
}

static void nsim_parse_lease(const struct nlattr *nest,
			     struct nsim_queue_arg *qa)
{
	const struct nlattr *a = (const void *)((const char *)nest + NLA_HDRLEN);
	int len = nest->nla_len - NLA_HDRLEN;
	const struct nlattr *q;
	int qlen;

	for (; nsim_nla_ok(a, len); a = nsim_nla_next(a, &len)) {
		if ((a->nla_type & NLA_TYPE_MASK) == NETDEV_A_LEASE_IFINDEX)
			qa->lease_ifindex = nsim_nla_uint(a);
		if ((a->nla_type & NLA_TYPE_MASK) != NETDEV_A_LEASE_QUEUE)
			continue;
		q = (const void *)((const char *)a + NLA_HDRLEN);
		qlen = a->nla_len - NLA_HDRLEN;
		for (; nsim_nla_ok(q, qlen); q = nsim_nla_next(q, &qlen))
			if (q->nla_type == NETDEV_A_QUEUE_ID)
				qa->lease_queue = nsim_nla_uint(q);
	}
}

static int nsim_queue_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a = (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	int len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	struct nsim_queue_arg *qa = arg;

	for (; nsim_nla_ok(a, len); a = nsim_nla_next(a, &len)) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NETDEV_A_QUEUE_ID:
			qa->id = nsim_nla_uint(a);
			break;
		case NETDEV_A_QUEUE_LEASE:
			nsim_parse_lease(a, qa);
			break;
		case NETDEV_A_QUEUE_VHOST:
			qa->has_vhost = true;
			if (qa->vhost)
				nsim_parse_vhost(a, qa->vhost);
			break;
		}
	}
	return 0;
}

/* Sends a queue-create request and frees @nl; the new queue's id. */
static int nsim_queue_create_talk(struct nsim_nl *nl, char *msg,
				  size_t msg_len)
{
	struct nsim_queue_arg qa = { .id = -1 };
	int ret;

	if (msg && msg_len)
		msg[0] = 0;
	ret = nsim_nl_talk(nl, nsim_queue_cb, &qa, msg, msg_len);
	nsim_netdev_done(nl);
	if (ret)
		return ret;
	return qa.id < 0 ? -EPROTO : qa.id;
}

int nsim_queue_lease(int ifindex, int phys_ifindex, unsigned int phys_queue,
		     char *msg, size_t msg_len)
{
	struct nlattr *lease, *queue;
	struct nlmsghdr *nlh;
	struct nsim_nl *nl;
	int ret;
	__u32 v;

	nl = nsim_netdev_req(NETDEV_CMD_QUEUE_CREATE, 0, &nlh, &ret);
	if (!nl)
		return ret;
	v = ifindex;
	nsim_nla_put(nlh, NETDEV_A_QUEUE_IFINDEX, &v, sizeof(v));
	v = NETDEV_QUEUE_TYPE_RX;
	nsim_nla_put(nlh, NETDEV_A_QUEUE_TYPE, &v, sizeof(v));
	lease = nsim_nla_put(nlh, NETDEV_A_QUEUE_LEASE | NLA_F_NESTED, NULL, 0);
	v = phys_ifindex;
	nsim_nla_put(nlh, NETDEV_A_LEASE_IFINDEX, &v, sizeof(v));
	queue = nsim_nla_put(nlh, NETDEV_A_LEASE_QUEUE | NLA_F_NESTED, NULL, 0);
	v = phys_queue;
	nsim_nla_put(nlh, NETDEV_A_QUEUE_ID, &v, sizeof(v));
	v = NETDEV_QUEUE_TYPE_RX;
	nsim_nla_put(nlh, NETDEV_A_QUEUE_TYPE, &v, sizeof(v));
	nsim_nla_end(nlh, queue);
	nsim_nla_end(nlh, lease);
	return nsim_queue_create_talk(nl, msg, msg_len);
}

int nsim_queue_create_raw(const void *attrs, size_t len, char *msg,
			  size_t msg_len)
{
	struct nlmsghdr *nlh;
	struct nsim_nl *nl;
	int ret;

	if (len > sizeof(nl->buf) - NLMSG_HDRLEN - GENL_HDRLEN)
		return -EMSGSIZE;
	nl = nsim_netdev_req(NETDEV_CMD_QUEUE_CREATE, 0, &nlh, &ret);
	if (!nl)
		return ret;
	memcpy((char *)nlh + nlh->nlmsg_len, attrs, len);
	nlh->nlmsg_len += NLMSG_ALIGN(len);
	return nsim_queue_create_talk(nl, msg, msg_len);
}

static int nsim_queue_get(int ifindex, unsigned int queue,
			  struct nsim_queue_arg *qa)
{
	struct nlmsghdr *nlh;
	struct nsim_nl *nl;
	int ret;
	__u32 v;

	nl = nsim_netdev_req(NETDEV_CMD_QUEUE_GET, 0, &nlh, &ret);
	if (!nl)
		return ret;
	v = ifindex;
	nsim_nla_put(nlh, NETDEV_A_QUEUE_IFINDEX, &v, sizeof(v));
	v = queue;
	nsim_nla_put(nlh, NETDEV_A_QUEUE_ID, &v, sizeof(v));
	v = NETDEV_QUEUE_TYPE_RX;
	nsim_nla_put(nlh, NETDEV_A_QUEUE_TYPE, &v, sizeof(v));
	ret = nsim_nl_talk(nl, nsim_queue_cb, qa, NULL, 0);
	nsim_netdev_done(nl);
	return ret;
}

int nsim_queue_get_lease(int ifindex, unsigned int queue, int *lease_ifindex,
			 int *lease_queue)
{
	struct nsim_queue_arg qa = {
		.id = -1, .lease_ifindex = -1, .lease_queue = -1,
	};
	int ret;

	ret = nsim_queue_get(ifindex, queue, &qa);
	*lease_ifindex = qa.lease_ifindex;
	*lease_queue = qa.lease_queue;
	return ret;
}

int nsim_queue_vhost(int ifindex, unsigned int queue,
		     struct nsim_vhost_stats *vs)
{
	struct nsim_queue_arg qa = { .id = -1, .vhost = vs };
	int ret;

	ret = nsim_queue_get(ifindex, queue, &qa);
	if (ret)
		return ret;
	return qa.has_vhost ? 0 : -ENOENT;
}

/* rtnetlink: a socket and a link request in an nsim_nl. */
static int nsim_rtnl_open(struct nsim_nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, ret;

	nl->seq = 0;
	nl->fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (nl->fd < 0)
		return -errno;
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (bind(nl->fd, (void *)&sa, sizeof(sa))) {
		ret = -errno;
		close(nl->fd);
		return ret;
	}
	return 0;
}

static struct nlmsghdr *nsim_rtnl_msg(struct nsim_nl *nl, int type, int flags,
				      int ifindex)
{
	struct nlmsghdr *nlh = (void *)nl->buf;
	struct ifinfomsg *ifi;

	memset(nl->buf, 0, NLMSG_SPACE(sizeof(*ifi)));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	ifi = NLMSG_DATA(nlh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int nsim_link_lease(const struct nsim_link_req *r, char *msg, size_t msg_len)
{
	struct nlattr *info, *data, *lease;
	struct nlmsghdr *nlh;
	struct nsim_nl *nl;
	__u32 v;
	int i, ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	ret = nsim_rtnl_open(nl);
	if (ret) {
		free(nl);
		return ret;
	}
	nlh = nsim_rtnl_msg(nl, RTM_NEWLINK,
			    r->ifindex ? 0 : NLM_F_CREATE | NLM_F_EXCL,
			    r->ifindex);
	if (!r->ifindex) {
		v = r->lower;
		nsim_nla_put(nlh, IFLA_LINK, &v, sizeof(v));
		nsim_nla_put(nlh, IFLA_IFNAME, r->name, strlen(r->name) + 1);
	}
	info = nsim_nla_put(nlh, IFLA_LINKINFO | NLA_F_NESTED, NULL, 0);
	nsim_nla_put(nlh, IFLA_INFO_KIND, r->kind, strlen(r->kind) + 1);
	data = nsim_nla_put(nlh, IFLA_INFO_DATA | NLA_F_NESTED, NULL, 0);
	if (!r->ifindex) {
		v = MACVLAN_MODE_BRIDGE;
		nsim_nla_put(nlh, IFLA_MACVLAN_MODE, &v, sizeof(v));
	}
	if (r->nq >= 0) {
		lease = nsim_nla_put(nlh, IFLA_MACVLAN_RX_LEASE | NLA_F_NESTED,
				     NULL, 0);
		for (i = 0; i < r->nq; i++)
			nsim_nla_put(nlh, IFLA_MACVLAN_RX_LEASE_QUEUE,
				     &r->queues[i], sizeof(__u32));
		v = 0;
		if (r->extra_type)
			nsim_nla_put(nlh, r->extra_type, &v, sizeof(v));
		nsim_nla_end(nlh, lease);
	}
	nsim_nla_end(nlh, data);
	nsim_nla_end(nlh, info);
	if (msg && msg_len)
		msg[0] = 0;
	ret = nsim_nl_talk(nl, NULL, NULL, msg, msg_len);
	close(nl->fd);
	free(nl);
	return ret;
}

struct nsim_leases_arg {
	__u32 *queues;
	int max;
	int n;	/* -1 until the nest is seen */
};

static const struct nlattr *nsim_nla_find(const struct nlattr *nest, int type)
{
	const struct nlattr *a = (const void *)((const char *)nest + NLA_HDRLEN);
	int len = nest->nla_len - NLA_HDRLEN;

	for (; nsim_nla_ok(a, len); a = nsim_nla_next(a, &len))
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static int nsim_leases_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a = (const void *)((const char *)NLMSG_DATA(nlh) +
						NLMSG_ALIGN(sizeof(struct ifinfomsg)));
	int len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifinfomsg));
	const struct nlattr *info = NULL, *data, *lease, *q;
	struct nsim_leases_arg *la = arg;
	int qlen;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	for (; nsim_nla_ok(a, len); a = nsim_nla_next(a, &len))
		if ((a->nla_type & NLA_TYPE_MASK) == IFLA_LINKINFO)
			info = a;
	if (!info)
		return 0;
	data = nsim_nla_find(info, IFLA_INFO_DATA);
	lease = data ? nsim_nla_find(data, IFLA_MACVLAN_RX_LEASE) : NULL;
	if (!lease)
		return 0;
	la->n = 0;
	q = (const void *)((const char *)lease + NLA_HDRLEN);
	qlen = lease->nla_len - NLA_HDRLEN;
	for (; nsim_nla_ok(q, qlen); q = nsim_nla_next(q, &qlen)) {
		if (q->nla_type != IFLA_MACVLAN_RX_LEASE_QUEUE ||
		    q->nla_len != NLA_HDRLEN + sizeof(__u32))
			return -EPROTO;
		if (la->n < la->max)
			la->queues[la->n] = *(const __u32 *)((const char *)q +
							     NLA_HDRLEN);
		la->n++;
	}
	return 0;
}

int nsim_link_leases(int ifindex, __u32 *queues, int max)
{
	struct nsim_leases_arg la = { .queues = queues, .max = max, .n = -1 };
	struct nsim_nl *nl;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	ret = nsim_rtnl_open(nl);
	if (ret) {
		free(nl);
		return ret;
	}
	nsim_rtnl_msg(nl, RTM_GETLINK, 0, ifindex);
	ret = nsim_nl_talk(nl, nsim_leases_cb, &la, NULL, 0);
	close(nl->fd);
	free(nl);
	if (ret)
		return ret;
	return la.n < 0 ? -ENOENT : la.n;
}

/* One pool of a page-pool-get dump. */
struct nsim_pp_info {
	__u32 id;
	int ifindex;
	__u64 inflight;
	bool vhost;	/* a vhost-net binding's */
	bool mp;	/* any memory provider's */
};

static void nsim_pp_parse(const struct nlmsghdr *nlh, struct nsim_pp_info *pi)
{
	const struct nlattr *a = (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	int len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	memset(pi, 0, sizeof(*pi));
	for (; nsim_nla_ok(a, len); a = nsim_nla_next(a, &len)) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NETDEV_A_PAGE_POOL_ID:
			pi->id = nsim_nla_uint(a);
			break;
		case NETDEV_A_PAGE_POOL_IFINDEX:
			pi->ifindex = nsim_nla_uint(a);
			break;
		case NETDEV_A_PAGE_POOL_INFLIGHT:
			pi->inflight = nsim_nla_uint(a);
			break;
		case NETDEV_A_PAGE_POOL_VHOST:
			pi->vhost = true;
			pi->mp = true;
			break;
		case NETDEV_A_PAGE_POOL_DMABUF:
		case NETDEV_A_PAGE_POOL_IO_URING:
			pi->mp = true;
			break;
		}
	}
}

struct nsim_pool_arg {
	unsigned int pools;
	__u64 inflight;
};

static int nsim_pool_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nsim_pool_arg *pa = arg;
	struct nsim_pp_info pi;

	nsim_pp_parse(nlh, &pi);
	if (pi.vhost) {
		pa->pools++;
		pa->inflight += pi.inflight;
	}
	return 0;
}

int nsim_vhost_pools(unsigned int *pools, __u64 *inflight)
{
	struct nsim_pool_arg pa = {};
	struct nlmsghdr *nlh;
	struct nsim_nl *nl;
	int ret;

	nl = nsim_netdev_req(NETDEV_CMD_PAGE_POOL_GET, NLM_F_DUMP, &nlh, &ret);
	if (!nl)
		return ret;
	ret = nsim_nl_talk(nl, nsim_pool_cb, &pa, NULL, 0);
	nsim_netdev_done(nl);
	*pools = pa.pools;
	*inflight = pa.inflight;
	return ret;
}

int nsim_vhost_pools_settle(unsigned int want, int ms, __u64 *inflight)
{
	unsigned int pools;
	int ret;

	for (;;) {
		ret = nsim_vhost_pools(&pools, inflight);
		if (ret)
			return ret;
		if (pools <= want || ms <= 0)
			return pools;
		usleep(50 * 1000);
		ms -= 50;
	}
}

/* Pools of one device, by id: which have a memory provider. */
#define NSIM_MAX_POOLS	64
struct nsim_pp_arg {
	int ifindex;
	unsigned int n;
	__u32 mp_ids[NSIM_MAX_POOLS];
	__u64 slow;
};

static int nsim_pp_mp_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nsim_pp_arg *pa = arg;
	struct nsim_pp_info pi;

	nsim_pp_parse(nlh, &pi);
	if (pi.mp && pi.ifindex == pa->ifindex && pa->n < NSIM_MAX_POOLS)
		pa->mp_ids[pa->n++] = pi.id;
	return 0;
}

static int nsim_pp_stats_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a = (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	int len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	struct nsim_pp_arg *pa = arg;
	const struct nlattr *i;
	int ifindex = 0, ilen;
	__u64 slow = 0;
	unsigned int k;
	__u32 id = 0;

	for (; nsim_nla_ok(a, len); a = nsim_nla_next(a, &len)) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NETDEV_A_PAGE_POOL_STATS_INFO:
			i = (const void *)((const char *)a + NLA_HDRLEN);
			ilen = a->nla_len - NLA_HDRLEN;
			for (; nsim_nla_ok(i, ilen); i = nsim_nla_next(i, &ilen)) {
				if (i->nla_type == NETDEV_A_PAGE_POOL_ID)
					id = nsim_nla_uint(i);
				else if (i->nla_type == NETDEV_A_PAGE_POOL_IFINDEX)
					ifindex = nsim_nla_uint(i);
			}
			break;
		case NETDEV_A_PAGE_POOL_STATS_ALLOC_SLOW:
		case NETDEV_A_PAGE_POOL_STATS_ALLOC_SLOW_HIGH_ORDER:
			slow += nsim_nla_uint(a);
			break;
		}
	}
	if (ifindex != pa->ifindex)
		return 0;
	for (k = 0; k < pa->n; k++)
		if (pa->mp_ids[k] == id)
			return 0;
	pa->slow += slow;
	return 0;
}

int nsim_page_allocs(const struct nsim_port *p, __u64 *slow)
{
	struct nsim_pp_arg pa = { .ifindex = p->ifindex };
	struct nlmsghdr *nlh;
	struct nsim_nl *nl;
	int ret;

	nl = nsim_netdev_req(NETDEV_CMD_PAGE_POOL_GET, NLM_F_DUMP, &nlh, &ret);
	if (!nl)
		return ret;
	ret = nsim_nl_talk(nl, nsim_pp_mp_cb, &pa, NULL, 0);
	nsim_netdev_done(nl);
	if (ret)
		return ret;
	nl = nsim_netdev_req(NETDEV_CMD_PAGE_POOL_STATS_GET, NLM_F_DUMP, &nlh,
			     &ret);
	if (!nl)
		return ret;
	ret = nsim_nl_talk(nl, nsim_pp_stats_cb, &pa, NULL, 0);
	nsim_netdev_done(nl);
	*slow = pa.slow;
	return ret;
}

int nsim_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

ssize_t nsim_kmsg_next(int fd, char *rec, size_t len)
{
	ssize_t n;

	do {
		/* EPIPE: records were overwritten; EINVAL: one was longer
		 * than @len.  Either way the read moved past them.
		 */
		n = read(fd, rec, len - 1);
	} while (n < 0 && (errno == EPIPE || errno == EINVAL));
	if (n <= 0)
		return 0;
	rec[n] = 0;
	return n;
}

bool nsim_kmsg_bad(int fd, char *line, size_t len)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "KASAN", "UBSAN", "kernel BUG",
		"general protection", "stalled pool", "possible circular",
		"possible recursive", "blocked for more than", "list_add corruption",
		"list_del corruption", NULL,
	};
	const char *const *b;
	char rec[8192];

	while (nsim_kmsg_next(fd, rec, sizeof(rec))) {
		for (b = bad; *b; b++) {
			if (strstr(rec, *b)) {
				snprintf(line, len, "%s", rec);
				return true;
			}
		}
	}
	return false;
}

char *nsim_mac_str(char *buf, const unsigned char *mac)
{
	snprintf(buf, NSIM_MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

unsigned long nsim_env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v ? strtoul(v, NULL, 0) : def;
}

double nsim_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void nsim_pin_cpu(unsigned int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) <= cpu)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}
