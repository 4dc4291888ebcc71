// SPDX-License-Identifier: GPL-2.0
/*
 * Binding a physical RX queue to a guest's backend device: netdev netlink
 * queue-create with a lease, from a netdevsim queue to a macvtap or a tap
 * (tun).  The lease shows in queue-get, is refused with the core's errno
 * and message when it cannot be made, and goes away with either device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/if_xdp.h>
#include <linux/netdev.h>
#include <linux/netlink.h>
#include <net/if.h>

#include "../../../kselftest_harness.h"
#include "nsim.h"

#define NQ	4

FIXTURE(lease)
{
	struct nsim_port a, b;
	char mvt[IF_NAMESIZE];
	int mvt_ifindex;
};

static int macvtap_add(const char *name, const struct nsim_port *lower)
{
	char lname[IF_NAMESIZE];
	int ifindex;

	if (!if_indextoname(lower->ifindex, lname))
		return -errno;
	if (nsim_run("ip link add link %s name %s type macvtap mode bridge",
		     lname, name))
		return -EIO;
	ifindex = if_nametoindex(name);
	return ifindex ? ifindex : -ENODEV;
}

FIXTURE_SETUP(lease)
{
	int ret;

	if (access("/sys/bus/netdevsim/new_device", W_OK))
		SKIP(return, "netdevsim is not available (CONFIG_NETDEVSIM)");
	ret = nsim_pair_create(&self->a, &self->b, NQ);
	ASSERT_EQ(0, ret) TH_LOG("netdevsim pair: %s", strerror(-ret));
	snprintf(self->mvt, sizeof(self->mvt), "mvt%d", getpid() % 10000);
	self->mvt_ifindex = macvtap_add(self->mvt, &self->b);
	ASSERT_LT(0, self->mvt_ifindex);
}

FIXTURE_TEARDOWN(lease)
{
	nsim_run("ip link del %s 2>/dev/null", self->mvt);
	nsim_pair_destroy(&self->a, &self->b);
}

/* A lease shows on the physical queue, pointing at the macvtap's queue. */
TEST_F_TIMEOUT(lease, create_and_show, 120)
{
	int ifindex, queue, id;
	char msg[256];

	id = nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, 3, msg,
			      sizeof(msg));
	ASSERT_EQ(1, id) TH_LOG("queue-create: %s %s", strerror(-id), msg);
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, 3, &ifindex,
					  &queue));
	EXPECT_EQ(self->mvt_ifindex, ifindex);
	EXPECT_EQ(1, queue);
	/* and on the macvtap's queue (queue-get wants it up), pointing back */
	ASSERT_EQ(0, nsim_run("ip link set %s up", self->mvt));
	ASSERT_EQ(0, nsim_queue_get_lease(self->mvt_ifindex, 1, &ifindex,
					  &queue));
	EXPECT_EQ(self->b.ifindex, ifindex);
	EXPECT_EQ(3, queue);

	/* A second queue gets the next id; unleased queues show nothing */
	id = nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, 1, msg,
			      sizeof(msg));
	EXPECT_EQ(2, id) TH_LOG("queue-create: %s %s", strerror(-id), msg);
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, 0, &ifindex,
					  &queue));
	EXPECT_EQ(-1, ifindex);
}

/* A queue holds one lease; the queue must exist; the leasee must be a
 * device that creates queues, the leased one a physical device.
 */
TEST_F_TIMEOUT(lease, refused, 120)
{
	char msg[256], mvt2[IF_NAMESIZE], veth[IF_NAMESIZE];
	int mvt2_ifindex, veth_ifindex;

	ASSERT_EQ(1, nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, 3,
				      msg, sizeof(msg)));

	snprintf(mvt2, sizeof(mvt2), "mvu%d", getpid() % 10000);
	mvt2_ifindex = macvtap_add(mvt2, &self->b);
	ASSERT_LT(0, mvt2_ifindex);
	EXPECT_EQ(-EBUSY, nsim_queue_lease(mvt2_ifindex, self->b.ifindex, 3,
					   msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "leasing")) TH_LOG("extack: %s", msg);

	EXPECT_EQ(-ERANGE, nsim_queue_lease(mvt2_ifindex, self->b.ifindex, NQ,
					    msg, sizeof(msg)));

	snprintf(veth, sizeof(veth), "vth%d", getpid() % 10000);
	ASSERT_EQ(0, nsim_run("ip link add %s type veth peer name %sp", veth,
			      veth));
	veth_ifindex = if_nametoindex(veth);
	ASSERT_LT(0, veth_ifindex);
	/* Not a backend that can hold a leased queue */
	EXPECT_EQ(-EINVAL, nsim_queue_lease(veth_ifindex, self->b.ifindex, 2,
					    msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "queue creation")) TH_LOG("extack: %s", msg);
	/* Not a physical queue */
	EXPECT_EQ(-EINVAL, nsim_queue_lease(mvt2_ifindex, veth_ifindex, 0,
					    msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "virtual")) TH_LOG("extack: %s", msg);

	nsim_run("ip link del %s", veth);
	nsim_run("ip link del %s", mvt2);
}

/* A queue in use by AF_XDP cannot be leased. */
TEST_F_TIMEOUT(lease, busy_xsk, 120)
{
	struct xdp_umem_reg umem = { .len = 64 * 4096, .chunk_size = 4096 };
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_queue_id = 2,
		.sxdp_flags = XDP_COPY,
	};
	int fd, ring = 64;
	char msg[256];
	void *mem;

	fd = socket(AF_XDP, SOCK_RAW, 0);
	if (fd < 0)
		SKIP(return, "AF_XDP is not available (CONFIG_XDP_SOCKETS)");
	mem = mmap(NULL, umem.len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	umem.addr = (unsigned long)mem;
	ASSERT_EQ(0, setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &umem, sizeof(umem)));
	ASSERT_EQ(0, setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring,
				sizeof(ring)));
	ASSERT_EQ(0, setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring,
				sizeof(ring)));
	ASSERT_EQ(0, setsockopt(fd, SOL_XDP, XDP_RX_RING, &ring, sizeof(ring)));
	sxdp.sxdp_ifindex = self->b.ifindex;
	ASSERT_EQ(0, bind(fd, (void *)&sxdp, sizeof(sxdp))) {
		TH_LOG("AF_XDP bind: %s", strerror(errno));
	}

	EXPECT_EQ(-EBUSY, nsim_queue_lease(self->mvt_ifindex, self->b.ifindex,
					   2, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "AF_XDP")) TH_LOG("extack: %s", msg);
	close(fd);
	munmap(mem, umem.len);
}

/* queue-create is for CAP_NET_ADMIN only. */
TEST_F_TIMEOUT(lease, needs_cap_net_admin, 120)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	char msg[256];
	pid_t pid;
	int st;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (syscall(SYS_capget, &hdr, data))
			_exit(2);
		data[0].effective &= ~(1u << CAP_NET_ADMIN);
		data[0].permitted &= ~(1u << CAP_NET_ADMIN);
		if (syscall(SYS_capset, &hdr, data))
			_exit(3);
		_exit(nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, 3,
				       msg, sizeof(msg)) == -EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

/* Deleting the macvtap gives the queue back. */
TEST_F_TIMEOUT(lease, gone_with_macvtap, 120)
{
	int ifindex, queue;
	char msg[256];

	ASSERT_EQ(1, nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, 3,
				      msg, sizeof(msg)));
	ASSERT_EQ(0, nsim_run("ip link del %s", self->mvt));
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, 3, &ifindex,
					  &queue));
	EXPECT_EQ(-1, ifindex);
	/* and the queue can be leased again */
	self->mvt_ifindex = macvtap_add(self->mvt, &self->b);
	ASSERT_LT(0, self->mvt_ifindex);
	EXPECT_EQ(1, nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, 3,
				      msg, sizeof(msg)));
}

/* Deleting the physical device under a lease completes (the lease's
 * reference is given back), whether it is the macvtap's lower device or
 * another one.
 */
TEST_F_TIMEOUT(lease, gone_with_device, 120)
{
	char msg[256], other[IF_NAMESIZE];
	int other_ifindex;

	snprintf(other, sizeof(other), "mvo%d", getpid() % 10000);
	other_ifindex = macvtap_add(other, &self->a);
	ASSERT_LT(0, other_ifindex);
	ASSERT_EQ(1, nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, 3,
				      msg, sizeof(msg)));
	ASSERT_EQ(1, nsim_queue_lease(other_ifindex, self->b.ifindex, 2,
				      msg, sizeof(msg)));

	ASSERT_EQ(0, nsim_run("echo %u > /sys/bus/netdevsim/del_device",
			      self->b.dev_id));
	self->b.dev_id = 0;
	/* The macvtap on the deleted device went with it; the other stays */
	EXPECT_EQ(0U, if_nametoindex(self->mvt));
	EXPECT_EQ(other_ifindex, (int)if_nametoindex(other));
	/* and leases again from its first queue on */
	EXPECT_EQ(1, nsim_queue_lease(other_ifindex, self->a.ifindex, 3, msg,
				      sizeof(msg))) TH_LOG("extack: %s", msg);
	nsim_run("ip link del %s", other);
}

/* With queue management ops the macvtap's rx mode is set from the core's
 * work: its multicast list still reaches the lower device.
 */
TEST_F_TIMEOUT(lease, rx_mode_synced, 120)
{
	char lname[IF_NAMESIZE];
	int i, found = 0;

	ASSERT_NE(NULL, if_indextoname(self->b.ifindex, lname));
	ASSERT_EQ(0, nsim_run("ip link set %s up", self->mvt));
	ASSERT_EQ(0, nsim_run("ip maddr add 01:00:5e:01:02:03 dev %s",
			      self->mvt));
	for (i = 0; i < 50 && !found; i++) {
		found = !nsim_run("ip maddr show dev %s | grep -q 01:00:5e:01:02:03",
				  lname);
		if (!found)
			usleep(20000);
	}
	EXPECT_TRUE(found);
}

static int read_mtu(const char *ifname)
{
	char path[64], buf[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return atoi(buf);
}

/* The lower device's MTU changes reach a macvtap holding a lease (from
 * the core's netdev work, since the lower's notifier runs under the
 * lower's lock), while queue-get on the macvtap locks the macvtap and then
 * the physical device.  The two used to lock in opposite orders.
 */
#define MTU_FLIPS	200

TEST_F_TIMEOUT(lease, lower_mtu_follows, 120)
{
	int i, ifindex, queue, mtu = 0, gets = 0;
	char msg[256];
	pid_t pid;
	int st;

	ASSERT_EQ(1, nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, 3,
				      msg, sizeof(msg)));
	ASSERT_EQ(1500, read_mtu(self->mvt));
	ASSERT_EQ(0, nsim_run("ip link set %s up", self->mvt));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (i = 0; i < MTU_FLIPS; i++)
			if (nsim_set_mtu(&self->b, i & 1 ? 1500 : 1400))
				_exit(1);
		_exit(nsim_set_mtu(&self->b, 1280) ? 1 : 0);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		ASSERT_EQ(0, nsim_queue_get_lease(self->mvt_ifindex, 1,
						  &ifindex, &queue));
		gets++;
	}
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	for (i = 0; i < 200; i++) {
		mtu = read_mtu(self->mvt);
		if (mtu == 1280)
			break;
		usleep(10000);
	}
	EXPECT_EQ(1280, mtu);
	TH_LOG("%d lower MTU changes against %d queue-gets on the macvtap",
	       MTU_FLIPS + 1, gets);
}

/* TUNSETOFFLOAD (QEMU sets it when vhost-net starts) recomputes the
 * macvtap's features under its instance lock (lockdep checks it in
 * make check-debug): with TSO the guest takes GRO'd frames.
 */
TEST_F_TIMEOUT(lease, offload_under_lease, 120)
{
	char path[32], msg[256];
	int fd;

	ASSERT_EQ(1, nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, 3,
				      msg, sizeof(msg)));
	snprintf(path, sizeof(path), "/dev/tap%d", self->mvt_ifindex);
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	EXPECT_EQ(0, ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 |
			   TUN_F_TSO6));
	EXPECT_EQ(0, nsim_run("ethtool -k %s | grep -q 'generic-receive-offload: on'",
			      self->mvt));
	EXPECT_EQ(0, ioctl(fd, TUNSETOFFLOAD, 0));
	close(fd);
}

/* A tun device of @flags (IFF_TAP or IFF_TUN, maybe IFF_MULTI_QUEUE)
 * named @name; returns the fd of its first queue.
 */
static int tun_open(const char *name, short flags)
{
	struct ifreq ifr = { .ifr_flags = flags | IFF_NO_PI };
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* A tap's leased queues come after every queue it can have: 1 for a
 * single-queue tap.  The lease shows on both sides; the tap's frames still
 * go through its own queue.
 */
TEST_F_TIMEOUT(lease, tap_create_and_show, 120)
{
	int fd, ifindex, queue, id, tap_ifindex;
	char msg[256], tap[IF_NAMESIZE];

	snprintf(tap, sizeof(tap), "tpl%d", getpid() % 10000);
	fd = tun_open(tap, IFF_TAP);
	ASSERT_LE(0, fd) TH_LOG("tap: %s", strerror(-fd));
	tap_ifindex = if_nametoindex(tap);
	ASSERT_LT(0, tap_ifindex);

	id = nsim_queue_lease(tap_ifindex, self->b.ifindex, 3, msg,
			      sizeof(msg));
	ASSERT_EQ(1, id) TH_LOG("queue-create: %s %s", strerror(-id), msg);
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, 3, &ifindex,
					  &queue));
	EXPECT_EQ(tap_ifindex, ifindex);
	EXPECT_EQ(1, queue);
	ASSERT_EQ(0, nsim_run("ip link set %s up", tap));
	ASSERT_EQ(0, nsim_queue_get_lease(tap_ifindex, 1, &ifindex, &queue));
	EXPECT_EQ(self->b.ifindex, ifindex);
	EXPECT_EQ(3, queue);
	EXPECT_EQ(2, nsim_queue_lease(tap_ifindex, self->b.ifindex, 2, msg,
				      sizeof(msg)));
	/* TUNSETOFFLOAD recomputes the features under the instance lock */
	EXPECT_EQ(0, ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4));
	EXPECT_EQ(0, ioctl(fd, TUNSETOFFLOAD, 0));

	/* Closing the last fd deletes the tap and gives the queues back */
	close(fd);
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, 3, &ifindex,
					  &queue));
	EXPECT_EQ(-1, ifindex);
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, 2, &ifindex,
					  &queue));
	EXPECT_EQ(-1, ifindex);
}

/* On a multi-queue tap the lease comes after its 256 possible queues, so
 * queues attached, detached and attached again never meet it.
 */
TEST_F_TIMEOUT(lease, tap_multi_queue, 120)
{
	struct ifreq ifr = { .ifr_flags = IFF_DETACH_QUEUE };
	int fd[3], i, ifindex, queue, id, tap_ifindex;
	char msg[256], tap[IF_NAMESIZE];

	snprintf(tap, sizeof(tap), "tpm%d", getpid() % 10000);
	for (i = 0; i < 2; i++) {
		fd[i] = tun_open(tap, IFF_TAP | IFF_MULTI_QUEUE);
		ASSERT_LE(0, fd[i]) TH_LOG("tap: %s", strerror(-fd[i]));
	}
	tap_ifindex = if_nametoindex(tap);
	id = nsim_queue_lease(tap_ifindex, self->b.ifindex, 3, msg,
			      sizeof(msg));
	ASSERT_EQ(256, id) TH_LOG("queue-create: %s %s", strerror(-id), msg);

	fd[2] = tun_open(tap, IFF_TAP | IFF_MULTI_QUEUE);
	ASSERT_LE(0, fd[2]);
	ASSERT_EQ(0, ioctl(fd[0], TUNSETQUEUE, &ifr));
	ifr.ifr_flags = IFF_ATTACH_QUEUE;
	ASSERT_EQ(0, ioctl(fd[0], TUNSETQUEUE, &ifr));
	ASSERT_EQ(0, nsim_run("ip link set %s up", tap));
	ASSERT_EQ(0, nsim_queue_get_lease(tap_ifindex, 256, &ifindex, &queue));
	EXPECT_EQ(self->b.ifindex, ifindex);
	EXPECT_EQ(3, queue);
	ASSERT_EQ(0, nsim_queue_get_lease(tap_ifindex, 2, &ifindex, &queue));
	EXPECT_EQ(-1, ifindex);
	for (i = 0; i < 3; i++)
		close(fd[i]);
}

/* A tun (IFF_TUN, no Ethernet) holds no leases.  A persistent tap holds
 * them with no queue attached (a management tool may bind before the VMM
 * opens the tap), and keeps them while queues come and go.
 */
TEST_F_TIMEOUT(lease, tap_kinds, 120)
{
	int fd, ifindex, queue, tap_ifindex;
	char msg[256], name[IF_NAMESIZE];

	snprintf(name, sizeof(name), "tnl%d", getpid() % 10000);
	fd = tun_open(name, IFF_TUN);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, nsim_queue_lease(if_nametoindex(name),
					    self->b.ifindex, 3, msg,
					    sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "queue creation")) TH_LOG("extack: %s", msg);
	close(fd);

	snprintf(name, sizeof(name), "tpp%d", getpid() % 10000);
	fd = tun_open(name, IFF_TAP);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, TUNSETPERSIST, 1));
	close(fd);
	tap_ifindex = if_nametoindex(name);
	EXPECT_EQ(1, nsim_queue_lease(tap_ifindex, self->b.ifindex, 3, msg,
				      sizeof(msg))) TH_LOG("extack: %s", msg);
	fd = tun_open(name, IFF_TAP);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, nsim_run("ip link set %s up", name));
	ASSERT_EQ(0, nsim_queue_get_lease(tap_ifindex, 1, &ifindex, &queue));
	EXPECT_EQ(self->b.ifindex, ifindex);
	EXPECT_EQ(3, queue);
	close(fd);
	nsim_run("ip link del %s", name);
}

/* A macvtap and a tap each hold at most 16 leases; the 17th is refused
 * with ENOSPC and a message, and the queue it asked for stays free.
 */
#define MAX_LEASES	16

TEST_F_TIMEOUT(lease, lease_limit, 120)
{
	char msg[256], tap[IF_NAMESIZE];
	int fd, i, id, tap_ifindex;
	unsigned int q = 0;

	/* One physical queue per lease, and one more for each refusal */
	nsim_run("ip link del %s", self->mvt);
	nsim_pair_destroy(&self->a, &self->b);
	ASSERT_EQ(0, nsim_pair_create(&self->a, &self->b, 2 * MAX_LEASES + 1));
	self->mvt_ifindex = macvtap_add(self->mvt, &self->b);
	ASSERT_LT(0, self->mvt_ifindex);
	snprintf(tap, sizeof(tap), "tpx%d", getpid() % 10000);
	fd = tun_open(tap, IFF_TAP);
	ASSERT_LE(0, fd) TH_LOG("tap: %s", strerror(-fd));
	tap_ifindex = if_nametoindex(tap);

	for (i = 0; i < MAX_LEASES; i++, q++) {
		id = nsim_queue_lease(self->mvt_ifindex, self->b.ifindex, q,
				      msg, sizeof(msg));
		ASSERT_EQ(i + 1, id) TH_LOG("lease %d: %s", i, msg);
	}
	EXPECT_EQ(-ENOSPC, nsim_queue_lease(self->mvt_ifindex,
					    self->b.ifindex, q, msg,
					    sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "macvtap holds at most 16 leased queues"))
		TH_LOG("extack: %s", msg);

	for (i = 0; i < MAX_LEASES; i++, q++) {
		id = nsim_queue_lease(tap_ifindex, self->b.ifindex, q, msg,
				      sizeof(msg));
		ASSERT_EQ(i + 1, id) TH_LOG("tap lease %d: %s", i, msg);
	}
	EXPECT_EQ(-ENOSPC, nsim_queue_lease(tap_ifindex, self->b.ifindex, q,
					    msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "tap holds at most 16 leased queues"))
		TH_LOG("extack: %s", msg);
	close(fd);

	/* Both refused queues were left free: the macvtap's went to the
	 * tap, the tap's goes to another macvtap.
	 */
	snprintf(tap, sizeof(tap), "mvx%d", getpid() % 10000);
	id = macvtap_add(tap, &self->b);
	ASSERT_LT(0, id);
	EXPECT_EQ(1, nsim_queue_lease(id, self->b.ifindex, q, msg,
				      sizeof(msg))) TH_LOG("extack: %s", msg);
	nsim_run("ip link del %s", tap);
}

/* Deleting the physical device gives the tap's leases back; the tap
 * stays, and leases from another device from its first leased queue on.
 */
TEST_F_TIMEOUT(lease, tap_gone_with_device, 120)
{
	int fd, ifindex, queue, tap_ifindex;
	char msg[256], tap[IF_NAMESIZE];

	snprintf(tap, sizeof(tap), "tpd%d", getpid() % 10000);
	fd = tun_open(tap, IFF_TAP);
	ASSERT_LE(0, fd);
	tap_ifindex = if_nametoindex(tap);
	ASSERT_EQ(1, nsim_queue_lease(tap_ifindex, self->b.ifindex, 3, msg,
				      sizeof(msg)));
	ASSERT_EQ(2, nsim_queue_lease(tap_ifindex, self->b.ifindex, 2, msg,
				      sizeof(msg)));
	ASSERT_EQ(0, nsim_run("echo %u > /sys/bus/netdevsim/del_device",
			      self->b.dev_id));
	self->b.dev_id = 0;
	EXPECT_EQ(tap_ifindex, (int)if_nametoindex(tap));
	ASSERT_EQ(0, nsim_run("ip link set %s up", tap));
	ASSERT_EQ(0, nsim_queue_get_lease(tap_ifindex, 1, &ifindex, &queue));
	EXPECT_EQ(-1, ifindex);

	EXPECT_EQ(1, nsim_queue_lease(tap_ifindex, self->a.ifindex, 3, msg,
				      sizeof(msg))) TH_LOG("extack: %s", msg);
	EXPECT_EQ(2, nsim_queue_lease(tap_ifindex, self->a.ifindex, 2, msg,
				      sizeof(msg))) TH_LOG("extack: %s", msg);
	ASSERT_EQ(0, nsim_queue_get_lease(tap_ifindex, 2, &ifindex, &queue));
	EXPECT_EQ(self->a.ifindex, ifindex);
	EXPECT_EQ(2, queue);
	close(fd);
}

/*
 * The same leases through rtnetlink: IFLA_MACVLAN_RX_LEASE, a list of
 * the lower device's queues, on a macvtap's newlink and changelink, and
 * in its getlink.
 */
static int rtnl_set(int ifindex, int nq, const __u32 *queues, char *msg,
		    size_t len)
{
	struct nsim_link_req r = {
		.kind = "macvtap", .ifindex = ifindex, .nq = nq,
		.queues = queues,
	};

	return nsim_link_lease(&r, msg, len);
}

static int rtnl_add(const char *name, const struct nsim_port *lower, int nq,
		    const __u32 *queues, char *msg, size_t len)
{
	struct nsim_link_req r = {
		.kind = "macvtap", .name = name, .lower = lower->ifindex,
		.nq = nq, .queues = queues,
	};

	return nsim_link_lease(&r, msg, len);
}

/* getlink lists exactly @want, in this order. */
static bool rtnl_leases_are(int ifindex, int n, const __u32 *want)
{
	__u32 got[32];
	int i, ret;

	ret = nsim_link_leases(ifindex, got, 32);
	if (ret != n) {
		fprintf(stderr, "# getlink: %d leases, want %d\n", ret, n);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			fprintf(stderr, "# getlink: lease %d is queue %u, want %u\n",
				i, got[i], want[i]);
			return false;
		}
	}
	return true;
}

/* The virtual queue that physical queue @q of @p is leased to, or -1. */
static int leased_to(const struct nsim_port *p, unsigned int q, int ifindex)
{
	int lifindex, lqueue;

	if (nsim_queue_get_lease(p->ifindex, q, &lifindex, &lqueue))
		return -2;
	return lifindex == ifindex ? lqueue : -1;
}

/* A macvtap made with a lease holds it from the start. */
TEST_F_TIMEOUT(lease, rtnl_create, 120)
{
	const __u32 q3[] = { 3 }, q31[] = { 3, 1 };
	char msg[256], name[IF_NAMESIZE];
	int ifindex, ret;

	snprintf(name, sizeof(name), "mvr%d", getpid() % 10000);
	ret = rtnl_add(name, &self->b, 2, q31, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("newlink: %s %s", strerror(-ret), msg);
	ifindex = if_nametoindex(name);
	ASSERT_LT(0, ifindex);
	EXPECT_TRUE(rtnl_leases_are(ifindex, 2, q31));
	EXPECT_EQ(1, leased_to(&self->b, 3, ifindex));
	EXPECT_EQ(2, leased_to(&self->b, 1, ifindex));
	/* A macvtap without leases shows an empty list */
	EXPECT_TRUE(rtnl_leases_are(self->mvt_ifindex, 0, q3));
	ASSERT_EQ(0, nsim_run("ip link del %s", name));
	EXPECT_EQ(-1, leased_to(&self->b, 3, ifindex));
	EXPECT_EQ(-1, leased_to(&self->b, 1, ifindex));
}

/* changelink adds the queues a list names, keeps those it names again,
 * and gives all back on an empty list; leaving some out is refused.
 */
TEST_F_TIMEOUT(lease, rtnl_change, 120)
{
	const __u32 q2[] = { 2 }, q20[] = { 2, 0 }, q0[] = { 0 }, q1[] = { 1 };
	int ifx = self->mvt_ifindex;
	char msg[256];
	int ret;

	ret = rtnl_set(ifx, 1, q2, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("changelink: %s %s", strerror(-ret), msg);
	EXPECT_EQ(1, leased_to(&self->b, 2, ifx));
	ASSERT_EQ(0, rtnl_set(ifx, 2, q20, msg, sizeof(msg)));
	EXPECT_TRUE(rtnl_leases_are(ifx, 2, q20));
	EXPECT_EQ(2, leased_to(&self->b, 0, ifx));
	/* The same list again changes nothing */
	ASSERT_EQ(0, rtnl_set(ifx, 2, q20, msg, sizeof(msg)));
	EXPECT_TRUE(rtnl_leases_are(ifx, 2, q20));
	/* A change without a list leaves the leases alone */
	ASSERT_EQ(0, rtnl_set(ifx, -1, NULL, msg, sizeof(msg)));
	EXPECT_TRUE(rtnl_leases_are(ifx, 2, q20));
	/* Leases go back all together */
	EXPECT_EQ(-EOPNOTSUPP, rtnl_set(ifx, 1, q0, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "all together")) TH_LOG("extack: %s", msg);
	EXPECT_TRUE(rtnl_leases_are(ifx, 2, q20));
	ASSERT_EQ(0, rtnl_set(ifx, 0, NULL, msg, sizeof(msg)));
	EXPECT_TRUE(rtnl_leases_are(ifx, 0, q0));
	EXPECT_EQ(-1, leased_to(&self->b, 2, ifx));
	EXPECT_EQ(-1, leased_to(&self->b, 0, ifx));
	/* and the next lease is the first queue again */
	ASSERT_EQ(0, rtnl_set(ifx, 1, q1, msg, sizeof(msg)));
	EXPECT_EQ(1, leased_to(&self->b, 1, ifx));
	/* A lease made by queue-create is in the list too */
	EXPECT_EQ(2, nsim_queue_lease(ifx, self->b.ifindex, 3, msg,
				      sizeof(msg)));
	EXPECT_TRUE(rtnl_leases_are(ifx, 2, (const __u32[]){ 1, 3 }));
}

/* A refused list changes nothing, on newlink (no device is left) and on
 * changelink (the leases made before the failing queue are taken back,
 * and their queues are used again by the next request).
 */
TEST_F_TIMEOUT(lease, rtnl_refused, 120)
{
	const __u32 q11[] = { 1, 1 }, q0[] = { 0 }, q01r[] = { 0, 1, NQ };
	const __u32 q01[] = { 0, 1 }, q3[] = { 3 };
	struct nsim_link_req r = {
		.kind = "macvtap", .ifindex = self->mvt_ifindex, .nq = 1,
		.queues = q0, .extra_type = IFLA_MACVLAN_RX_LEASE_QUEUE + 1,
	};
	char msg[256], name[IF_NAMESIZE];
	int ifx = self->mvt_ifindex;

	EXPECT_EQ(-EINVAL, rtnl_set(ifx, 2, q11, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "twice")) TH_LOG("extack: %s", msg);
	EXPECT_EQ(-EINVAL, nsim_link_lease(&r, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "Unknown")) TH_LOG("extack: %s", msg);
	EXPECT_EQ(-1, leased_to(&self->b, 0, ifx));

	EXPECT_EQ(-ERANGE, rtnl_set(ifx, 3, q01r, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "no RX queue")) TH_LOG("extack: %s", msg);
	EXPECT_TRUE(rtnl_leases_are(ifx, 0, q0));
	EXPECT_EQ(-1, leased_to(&self->b, 0, ifx));
	EXPECT_EQ(-1, leased_to(&self->b, 1, ifx));

	ASSERT_EQ(0, rtnl_set(ifx, 1, q0, msg, sizeof(msg)));
	EXPECT_EQ(-ERANGE, rtnl_set(ifx, 3, q01r, msg, sizeof(msg)));
	EXPECT_TRUE(rtnl_leases_are(ifx, 1, q0));
	ASSERT_EQ(0, rtnl_set(ifx, 2, q01, msg, sizeof(msg)));
	EXPECT_EQ(1, leased_to(&self->b, 0, ifx));
	EXPECT_EQ(2, leased_to(&self->b, 1, ifx));

	/* A queue in use: the new macvtap is not left behind */
	snprintf(name, sizeof(name), "mvr%d", getpid() % 10000);
	EXPECT_EQ(-EBUSY, rtnl_add(name, &self->b, 1, q0, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "leasing")) TH_LOG("extack: %s", msg);
	EXPECT_EQ(0U, if_nametoindex(name));
	EXPECT_EQ(-ERANGE, rtnl_add(name, &self->b, 1, q01r + 2, msg,
				    sizeof(msg)));
	EXPECT_EQ(0U, if_nametoindex(name));
	/* and with a queue it can have, it is made */
	EXPECT_EQ(0, rtnl_add(name, &self->b, 1, q3, msg, sizeof(msg)));
	EXPECT_LT(0U, if_nametoindex(name));
	nsim_run("ip link del %s", name);
}

/* Only a macvtap holds leases; the lower device must be physical. */
TEST_F_TIMEOUT(lease, rtnl_kinds, 120)
{
	const __u32 q0[] = { 0 };
	struct nsim_link_req r = {
		.kind = "macvlan", .lower = self->b.ifindex, .nq = 1,
		.queues = q0,
	};
	char msg[256], name[IF_NAMESIZE], veth[IF_NAMESIZE];
	int ifx;

	snprintf(name, sizeof(name), "mvl%d", getpid() % 10000);
	r.name = name;
	EXPECT_EQ(-EOPNOTSUPP, nsim_link_lease(&r, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "Only a macvtap")) TH_LOG("extack: %s", msg);
	EXPECT_EQ(0U, if_nametoindex(name));
	r.nq = -1;
	ASSERT_EQ(0, nsim_link_lease(&r, msg, sizeof(msg)));
	r.ifindex = if_nametoindex(name);
	ASSERT_LT(0, r.ifindex);
	r.nq = 1;
	EXPECT_EQ(-EOPNOTSUPP, nsim_link_lease(&r, msg, sizeof(msg)));
	/* A macvlan shows no list */
	EXPECT_EQ(-ENOENT, nsim_link_leases(r.ifindex, NULL, 0));
	nsim_run("ip link del %s", name);

	snprintf(veth, sizeof(veth), "vth%d", getpid() % 10000);
	ASSERT_EQ(0, nsim_run("ip link add %s type veth peer name %sp", veth,
			      veth));
	ifx = macvtap_add(name, &(struct nsim_port){
		.ifindex = if_nametoindex(veth) });
	ASSERT_LT(0, ifx);
	EXPECT_EQ(-EINVAL, rtnl_set(ifx, 1, q0, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "virtual")) TH_LOG("extack: %s", msg);
	nsim_run("ip link del %s", name);
	nsim_run("ip link del %s", veth);
}

/* A macvtap moved into a namespace of its own user namespace: root there
 * may change the macvtap, but not lease the lower device's queues, which
 * are in the host's namespace.
 */
TEST_F_TIMEOUT(lease, rtnl_other_netns, 120)
{
	const __u32 q0[] = { 0 };
	int go[2], ready[2], st;
	char msg[256], c;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int ifx, ret;

		if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
			_exit(10);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(11);
		ifx = if_nametoindex(self->mvt);
		if (!ifx)
			_exit(12);
		ret = rtnl_set(ifx, 1, q0, msg, sizeof(msg));
		if (ret != -EPERM) {
			fprintf(stderr, "# changelink: %d %s\n", ret, msg);
			_exit(13);
		}
		if (!strstr(msg, "CAP_NET_ADMIN")) {
			fprintf(stderr, "# extack: %s\n", msg);
			_exit(14);
		}
		/* A change without a list is still allowed */
		_exit(rtnl_set(ifx, -1, NULL, msg, sizeof(msg)) ? 15 : 0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_EQ(0, nsim_run("ip link set %s netns %d", self->mvt, pid));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	EXPECT_EQ(-1, leased_to(&self->b, 0, self->mvt_ifindex));
}

/*
 * queue-create, fuzzed: a seeded run of requests to the macvtap and a
 * tap, each a valid request or one with a single fault in it (an
 * attribute missing, out of range, of the wrong length, unknown, or a
 * nest without NLA_F_NESTED; a device that cannot lease or be leased; a
 * namespace that does not exist; a queue out of range).  A model of the
 * leases says what each request must get: the new queue's id, or the
 * core's errno (EBUSY for a queue leased already, EOPNOTSUPP for a
 * second physical device).  The tap is made anew now and then, which
 * gives its leases back.  Every 64 requests and at the end, queue-get
 * on every queue of both NICs and on every leased queue shows exactly
 * the model's leases.  QL_FUZZ_SEED=N runs one seed again.
 */
#define FUZZ_ITERS	1500

enum fuzz_fault {
	F_NONE, F_NO_IFINDEX, F_NO_TYPE, F_NO_LEASE, F_TYPE_TX, F_TYPE_BIG,
	F_IFINDEX_0, F_IFINDEX_GONE, F_LEASEE_VETH, F_LEASEE_PHYS,
	F_LEASEE_TUN, F_L_NO_IFINDEX, F_L_NO_QUEUE, F_L_IFINDEX_0,
	F_L_IFINDEX_GONE, F_L_VETH, F_L_SELF, F_NETNS_NEG, F_NETNS_GONE,
	F_Q_NO_ID, F_Q_NO_TYPE, F_Q_TYPE_TX, F_Q_TYPE_BIG, F_Q_ID_RANGE,
	F_Q_ID_HUGE, F_UNKNOWN_TOP, F_UNKNOWN_LEASE, F_SHORT_IFINDEX,
	F_NOT_NESTED, F_NR
};

static const int fault_errno[F_NR] = {
	[F_NO_IFINDEX] = EINVAL, [F_NO_TYPE] = EINVAL, [F_NO_LEASE] = EINVAL,
	[F_TYPE_TX] = EINVAL, [F_TYPE_BIG] = ERANGE, [F_IFINDEX_0] = ERANGE,
	[F_IFINDEX_GONE] = ENODEV, [F_LEASEE_VETH] = EINVAL,
	[F_LEASEE_PHYS] = EINVAL, [F_LEASEE_TUN] = EINVAL,
	[F_L_NO_IFINDEX] = EINVAL, [F_L_NO_QUEUE] = EINVAL,
	[F_L_IFINDEX_0] = ERANGE, [F_L_IFINDEX_GONE] = ENODEV,
	[F_L_VETH] = EINVAL, [F_L_SELF] = EINVAL, [F_NETNS_NEG] = ERANGE,
	[F_NETNS_GONE] = ENONET, [F_Q_NO_ID] = EINVAL, [F_Q_NO_TYPE] = EINVAL,
	[F_Q_TYPE_TX] = EINVAL, [F_Q_TYPE_BIG] = ERANGE,
	[F_Q_ID_RANGE] = ERANGE, [F_Q_ID_HUGE] = ERANGE,
	[F_UNKNOWN_TOP] = EINVAL, [F_UNKNOWN_LEASE] = EINVAL,
	[F_SHORT_IFINDEX] = EINVAL, [F_NOT_NESTED] = EINVAL,
};

#define GONE_IFINDEX	0x7ffffff0

/* The attributes of one queue-create request. */
struct fuzz_msg {
	char buf[512];
	size_t len;
};

static struct nlattr *fuzz_put(struct fuzz_msg *m, int type, const void *data,
			       int len)
{
	struct nlattr *nla = (void *)(m->buf + m->len);

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)nla + NLA_HDRLEN, data, len);
	m->len += NLA_ALIGN(nla->nla_len);
	return nla;
}

static void fuzz_put_u32(struct fuzz_msg *m, int type, __u32 v)
{
	fuzz_put(m, type, &v, sizeof(v));
}

static void fuzz_end(struct fuzz_msg *m, struct nlattr *nest)
{
	nest->nla_len = m->buf + m->len - (char *)nest;
}

/* A lease of queue @q of @phys on @leasee, with @f in it. */
static void fuzz_build(struct fuzz_msg *m, enum fuzz_fault f, int leasee,
		       int phys, unsigned int q, int self_ifindex, int veth,
		       int nsim, int tun)
{
	int nested = f == F_NOT_NESTED ? 0 : NLA_F_NESTED;
	struct nlattr *lease, *queue;
	__u16 short_v = leasee;
	__s32 netns;

	m->len = 0;
	if (f == F_SHORT_IFINDEX)
		fuzz_put(m, NETDEV_A_QUEUE_IFINDEX, &short_v, sizeof(short_v));
	else if (f != F_NO_IFINDEX)
		fuzz_put_u32(m, NETDEV_A_QUEUE_IFINDEX,
			     f == F_IFINDEX_0 ? 0 :
			     f == F_IFINDEX_GONE ? GONE_IFINDEX :
			     f == F_LEASEE_VETH ? veth :
			     f == F_LEASEE_PHYS ? nsim :
			     f == F_LEASEE_TUN ? tun : leasee);
	if (f != F_NO_TYPE)
		fuzz_put_u32(m, NETDEV_A_QUEUE_TYPE,
			     f == F_TYPE_TX ? NETDEV_QUEUE_TYPE_TX :
			     f == F_TYPE_BIG ? 2 : NETDEV_QUEUE_TYPE_RX);
	if (f == F_UNKNOWN_TOP)
		fuzz_put_u32(m, 100, 1);
	if (f == F_NO_LEASE)
		return;
	lease = fuzz_put(m, NETDEV_A_QUEUE_LEASE | nested, NULL, 0);
	if (f != F_L_NO_IFINDEX)
		fuzz_put_u32(m, NETDEV_A_LEASE_IFINDEX,
			     f == F_L_IFINDEX_0 ? 0 :
			     f == F_L_IFINDEX_GONE ? GONE_IFINDEX :
			     f == F_L_VETH ? veth :
			     f == F_L_SELF ? self_ifindex : phys);
	if (f == F_NETNS_NEG || f == F_NETNS_GONE) {
		netns = f == F_NETNS_NEG ? -1 : 12345;
		fuzz_put(m, NETDEV_A_LEASE_NETNS_ID, &netns, sizeof(netns));
	}
	if (f == F_UNKNOWN_LEASE)
		fuzz_put_u32(m, 50, 1);
	if (f != F_L_NO_QUEUE) {
		queue = fuzz_put(m, NETDEV_A_LEASE_QUEUE | NLA_F_NESTED, NULL, 0);
		if (f != F_Q_NO_ID)
			fuzz_put_u32(m, NETDEV_A_QUEUE_ID,
				     f == F_Q_ID_RANGE ? NQ :
				     f == F_Q_ID_HUGE ? 0xffffffff : q);
		if (f != F_Q_NO_TYPE)
			fuzz_put_u32(m, NETDEV_A_QUEUE_TYPE,
				     f == F_Q_TYPE_TX ? NETDEV_QUEUE_TYPE_TX :
				     f == F_Q_TYPE_BIG ? 7 : NETDEV_QUEUE_TYPE_RX);
		fuzz_end(m, queue);
	}
	fuzz_end(m, lease);
}

/* The model: who leases each queue of the two NICs. */
struct fuzz_leasee {
	int ifindex;
	int base;		/* its first leased queue's id */
	int phys;		/* ifindex its leases are of, 0: none */
	unsigned int count;
};

struct fuzz_model {
	int phys[2];
	/* [nic][queue]: index into leasees + 1, and the leased queue id */
	int owner[2][NQ], id[2][NQ];
	struct fuzz_leasee l[2];
};

static void fuzz_forget(struct fuzz_model *mo, unsigned int li)
{
	unsigned int n, q;

	for (n = 0; n < 2; n++)
		for (q = 0; q < NQ; q++)
			if (mo->owner[n][q] == (int)li + 1)
				mo->owner[n][q] = 0;
	mo->l[li].phys = 0;
	mo->l[li].count = 0;
}

/* What a valid request must get, and the model after it. */
static int fuzz_expect(struct fuzz_model *mo, unsigned int li,
		       unsigned int n, unsigned int q)
{
	struct fuzz_leasee *l = &mo->l[li];

	if (mo->owner[n][q])
		return -EBUSY;
	if (l->count && l->phys != mo->phys[n])
		return -EOPNOTSUPP;
	if (l->count == 16)
		return -ENOSPC;
	mo->owner[n][q] = li + 1;
	mo->id[n][q] = l->base + l->count++;
	l->phys = mo->phys[n];
	return mo->id[n][q];
}

/* queue-get everywhere against the model; the number of mismatches. */
static unsigned int fuzz_check(struct __test_metadata *_metadata,
			       const struct fuzz_model *mo)
{
	unsigned int n, q, bad = 0;
	int li, lq, want;

	for (n = 0; n < 2; n++) {
		for (q = 0; q < NQ; q++) {
			if (nsim_queue_get_lease(mo->phys[n], q, &li, &lq))
				return ++bad;
			want = mo->owner[n][q] ?
			       mo->l[mo->owner[n][q] - 1].ifindex : -1;
			if (li != want || (want > 0 && lq != mo->id[n][q])) {
				TH_LOG("nic %d queue %u: lease %d/%d, model %d/%d",
				       mo->phys[n], q, li, lq, want,
				       mo->id[n][q]);
				bad++;
			}
			if (want < 0)
				continue;
			if (nsim_queue_get_lease(want, mo->id[n][q], &li, &lq) ||
			    li != mo->phys[n] || lq != (int)q) {
				TH_LOG("leasee %d queue %d: lease %d/%d", want,
				       mo->id[n][q], li, lq);
				bad++;
			}
		}
	}
	return bad;
}

TEST_F_TIMEOUT(lease, fuzz, 300)
{
	unsigned int i, n, q, li, bad = 0, ok = 0, tap_made = 1;
	unsigned int per_fault[F_NR] = {};
	char msg[256], tap[IF_NAMESIZE], tun[IF_NAMESIZE], veth[IF_NAMESIZE];
	int tap_fd, tun_fd, want, got, veth_ifindex, tun_ifindex;
	const char *env = getenv("QL_FUZZ_SEED");
	struct fuzz_model mo = {};
	unsigned int seed;
	struct fuzz_msg m;
	enum fuzz_fault f;

	seed = env ? strtoul(env, NULL, 0) : (unsigned int)time(NULL);
	srandom(seed);
	TH_LOG("seed %u (QL_FUZZ_SEED=%u to run it again)", seed, seed);

	snprintf(tap, sizeof(tap), "tpz%d", getpid() % 10000);
	snprintf(tun, sizeof(tun), "tnz%d", getpid() % 10000);
	snprintf(veth, sizeof(veth), "vez%d", getpid() % 10000);
	ASSERT_EQ(0, nsim_run("ip link add %s type veth peer name %sp", veth,
			      veth));
	veth_ifindex = if_nametoindex(veth);
	tun_fd = tun_open(tun, IFF_TUN);
	ASSERT_LE(0, tun_fd);
	tun_ifindex = if_nametoindex(tun);
	tap_fd = tun_open(tap, IFF_TAP);
	ASSERT_LE(0, tap_fd);
	ASSERT_EQ(0, nsim_run("ip link set %s up", self->mvt));

	mo.phys[0] = self->a.ifindex;
	mo.phys[1] = self->b.ifindex;
	mo.l[0] = (struct fuzz_leasee){ .ifindex = self->mvt_ifindex, .base = 1 };
	mo.l[1] = (struct fuzz_leasee){ .ifindex = if_nametoindex(tap), .base = 1 };
	ASSERT_EQ(0, nsim_run("ip link set %s up", tap));

	for (i = 0; i < FUZZ_ITERS; i++) {
		/* Now and then a new tap: the old one's leases go with it */
		if (!(random() % 97)) {
			close(tap_fd);
			fuzz_forget(&mo, 1);
			tap_fd = tun_open(tap, IFF_TAP);
			ASSERT_LE(0, tap_fd);
			mo.l[1].ifindex = if_nametoindex(tap);
			ASSERT_EQ(0, nsim_run("ip link set %s up", tap));
			tap_made++;
		}
		/* Half valid requests, half faults */
		f = random() % 2 ? F_NONE : 1 + random() % (F_NR - 1);
		li = random() % 2;
		n = random() % 2;
		q = random() % NQ;
		fuzz_build(&m, f, mo.l[li].ifindex, mo.phys[n], q,
			   mo.l[li].ifindex, veth_ifindex, self->b.ifindex,
			   tun_ifindex);
		want = f == F_NONE ? fuzz_expect(&mo, li, n, q) :
		       -fault_errno[f];
		got = nsim_queue_create_raw(m.buf, m.len, msg, sizeof(msg));
		if (got != want) {
			TH_LOG("request %u (fault %d, leasee %d, nic %d, queue %u):",
			       i, f, mo.l[li].ifindex, mo.phys[n], q);
			TH_LOG("got %d, want %d (%s)", got, want, msg);
			bad++;
		} else {
			ok++;
		}
		per_fault[f]++;
		if (!(i % 64))
			bad += fuzz_check(_metadata, &mo);
		if (bad > 10)
			break;
	}
	bad += fuzz_check(_metadata, &mo);
	EXPECT_EQ(0U, bad) TH_LOG("seed %u", seed);
	for (f = 0, n = 0; f < F_NR; f++)
		n += !!per_fault[f];
	TH_LOG("%u requests (%u valid, %u kinds of fault of %d),", i,
	       per_fault[F_NONE], n - 1, F_NR - 1);
	TH_LOG("%u answered as the model says; %u taps made", ok, tap_made);
	close(tap_fd);
	close(tun_fd);
	nsim_run("ip link del %s", veth);
}

/*
 * IFLA_MACVLAN_RX_LEASE, fuzzed: a seeded run of changelink requests to
 * the macvtap, each good or with one fault (a queue twice, a queue past
 * the device's, an unknown attribute, a list that is not the current one
 * extended), checked against a model of the leases: the errno, an extack
 * message for each refusal, the list getlink shows and the lease every
 * queue of the NIC shows.  QL_FUZZ_SEED=N runs one seed again.
 */
enum rtnl_fuzz {
	R_EXTEND, R_SAME, R_CLEAR, R_NO_LIST, R_TWICE, R_RANGE, R_UNKNOWN,
	R_NOT_EXTENDED, R_NR
};

static const char *const rtnl_fuzz_names[R_NR] = {
	[R_EXTEND] = "list extended", [R_SAME] = "the same list",
	[R_CLEAR] = "empty list", [R_NO_LIST] = "no list",
	[R_TWICE] = "a queue twice", [R_RANGE] = "a queue past the NIC's",
	[R_UNKNOWN] = "unknown attribute", [R_NOT_EXTENDED] = "list not extended",
};

/* A queue of the NIC that @cur does not hold, or -1. */
static int rtnl_fuzz_free(const __u32 *cur, int n)
{
	int q, i, start = random() % NQ;

	for (q = 0; q < NQ; q++) {
		for (i = 0; i < n && cur[i] != (__u32)(start + q) % NQ; i++)
			;
		if (i == n)
			return (start + q) % NQ;
	}
	return -1;
}

TEST_F_TIMEOUT(lease, rtnl_fuzz, 300)
{
	static const __u32 far[] = { NQ, NQ + 1, 1000, 1U << 31, ~0U };
	unsigned int i, done[R_NR] = {}, bad = 0;
	const char *env = getenv("QL_FUZZ_SEED");
	__u32 cur[NQ], req[NQ + 2];
	int n = 0, nq, want, got, q, j;
	struct nsim_link_req r = {
		.kind = "macvtap", .ifindex = self->mvt_ifindex,
	};
	enum rtnl_fuzz f;
	unsigned int seed;
	char msg[256];

	seed = env ? strtoul(env, NULL, 0) : (unsigned int)time(NULL);
	srandom(seed);
	TH_LOG("seed %u (QL_FUZZ_SEED=%u to run it again)", seed, seed);

	for (i = 0; i < 400; i++) {
		f = random() % R_NR;
		memcpy(req, cur, n * sizeof(*cur));
		nq = n;
		want = 0;
		r.extra_type = 0;
		q = rtnl_fuzz_free(cur, n);
		switch (f) {
		case R_EXTEND:
			for (j = 1 + random() % NQ; j && q >= 0; j--) {
				req[nq++] = q;
				q = rtnl_fuzz_free(req, nq);
			}
			break;
		case R_SAME:
			break;
		case R_CLEAR:
			nq = 0;
			break;
		case R_NO_LIST:
			nq = -1;
			break;
		case R_TWICE:
			if (q < 0)
				q = cur[random() % n];
			req[nq++] = q;
			req[nq++] = q;
			want = -EINVAL;
			break;
		case R_RANGE:
			req[nq++] = far[random() % ARRAY_SIZE(far)];
			want = -ERANGE;
			break;
		case R_UNKNOWN:
			r.extra_type = IFLA_MACVLAN_RX_LEASE_QUEUE + 1 + random() % 4;
			want = -EINVAL;
			break;
		default:
			/* Shorter, or another queue in place of the last */
			if (n >= 2 && random() % 2) {
				nq = n - 1;
			} else if (n >= 1 && q >= 0) {
				req[n - 1] = q;
			} else {
				f = R_SAME;
				break;
			}
			want = -EOPNOTSUPP;
			break;
		}
		done[f]++;
		r.nq = nq;
		r.queues = req;
		msg[0] = 0;
		got = nsim_link_lease(&r, msg, sizeof(msg));
		if (got != want || (want && !msg[0])) {
			TH_LOG("request %u (%s, %d queues): %d, want %d; extack '%s'",
			       i, rtnl_fuzz_names[f], nq, got, want, msg);
			bad++;
		}
		if (!want && nq >= 0) {
			memcpy(cur, req, nq * sizeof(*req));
			n = nq;
		}
		if (!rtnl_leases_are(self->mvt_ifindex, n, cur)) {
			TH_LOG("request %u (%s): the list is not the model's", i,
			       rtnl_fuzz_names[f]);
			bad++;
		}
		for (q = 0; q < NQ; q++) {
			for (j = 0; j < n && cur[j] != (__u32)q; j++)
				;
			want = j < n ? j + 1 : -1;
			got = leased_to(&self->b, q, self->mvt_ifindex);
			if (got != want) {
				TH_LOG("request %u (%s): queue %d leased to %d, want %d",
				       i, rtnl_fuzz_names[f], q, got, want);
				bad++;
			}
		}
		if (bad > 10)
			break;
	}
	for (f = 0; f < R_NR; f++)
		TH_LOG("%4u x %s", done[f], rtnl_fuzz_names[f]);
	TH_LOG("%u requests, each answer, the list and %d queues' leases checked: %u wrong",
	       i, NQ, bad);
	EXPECT_EQ(0U, bad);
}

TEST_HARNESS_MAIN
