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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <linux/if_xdp.h>
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

/* Deleting the physical device gives the tap's lease back; the tap
 * stays.
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
	ASSERT_EQ(0, nsim_run("echo %u > /sys/bus/netdevsim/del_device",
			      self->b.dev_id));
	self->b.dev_id = 0;
	EXPECT_EQ(tap_ifindex, (int)if_nametoindex(tap));
	ASSERT_EQ(0, nsim_run("ip link set %s up", tap));
	ASSERT_EQ(0, nsim_queue_get_lease(tap_ifindex, 1, &ifindex, &queue));
	EXPECT_EQ(-1, ifindex);
	close(fd);
}

TEST_HARNESS_MAIN
