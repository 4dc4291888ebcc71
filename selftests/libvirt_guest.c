// SPDX-License-Identifier: GPL-2.0
/*
 * A real guest on a bound queue, set up the way an operator would: Debian's
 * stock libvirtd starts an unmodified Linux guest (this kernel, its own
 * virtio-net driver, a busybox initramfs) from a domain XML whose
 * <metadata> asks for queue 3 of a netdevsim port, through our hook
 * (tools/virt/libvirt/guest-bound-rxq) and ip plugin.  The peer port sends
 * pattern frames to the guest's MAC; the guest checks every byte and
 * reports on its console; the binding's stats show the frames completed
 * in place.  Also: a bad option or a queue in use fails the domain's
 * start with the hook's message and leaves nothing behind, a libvirtd
 * restart keeps the binding, and destroying the domain gives everything
 * back.
 *
 * Nested QEMU under TCG: a guest boots in minutes, so one guest runs.
 * Needs GUEST_KERNEL (make check sets it to the kernel under test).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/netdev.h>
#include <net/if.h>

#include "../../../kselftest_harness.h"
#include "guest_rx.h"
#include "nsim.h"
#include "vhost_guest.h"

#define NQ		4
#define QB		3
#define GUEST_MAC	"52:54:00:6b:72:01"
#define RXQ_NS		"urn:x-guest-bound-rxq:1"
/* More than the guest's RX ring (256): every buffer it posts after this
 * was sized from big frames (guest_rx.h).
 */
#define WARM_FRAMES	384
#define MEASURE_FRAMES	256
#define SEND_GAP_US	10000
#define BOOT_TIMEOUT_S	900

#define VS(s, name)	((s).v[NETDEV_A_VHOST_PROVIDER_INFO_ ## name])

static const char *guest_kernel(void)
{
	const char *k = getenv("GUEST_KERNEL");

	return k && !access(k, R_OK) ? k : NULL;
}

static bool have(const char *path)
{
	return !access(path, X_OK);
}

FIXTURE(guest)
{
	struct nsim_port a, b, g;
	char dir[64], here[256];
	/* The interface's <source dev>, when not b */
	char src[IF_NAMESIZE];
	bool libvirtd;
	int tx_fd;
};

static char *read_file(const char *path)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd;

	buf[0] = 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
	return buf;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fputs(text, f) < 0 ? -EIO : 0;
	if (fclose(f))
		ret = -errno;
	return ret;
}

/* The guest's initramfs: busybox, guest_rx and an /init that runs it.
 * The guest sets its MTU itself: libvirt 9.0 refuses <mtu> on a direct
 * interface, and virtio-net without VIRTIO_NET_F_MTU takes any MTU.
 */
static int make_initramfs(const char *dir, const char *here)
{
	static const char init[] =
		"#!/bin/sh\n"
		"export PATH=/bin\n"
		"mount -t proc none /proc\n"
		"mount -t sysfs none /sys\n"
		"mount -t devtmpfs none /dev\n"
		"for a in $(cat /proc/cmdline); do\n"
		"	case $a in lvg.*=*) eval \"${a#lvg.}\" ;; esac\n"
		"done\n"
		"ip link set eth0 mtu $mtu up\n"
		"n=/sys/class/net/eth0\n"
		"d=$(basename $(readlink $n/device/driver))\n"
		"echo \"guest: eth0 $(cat $n/address) mtu $(cat $n/mtu) driver $d\"\n"
		"/bin/guest_rx eth0 $peer $count 120\n"
		"echo \"guest: guest_rx exit $?\"\n"
		"# the test destroys the domain; this is in case it does not\n"
		"sleep 900\n"
		"poweroff -f\n";
	char path[128];

	snprintf(path, sizeof(path), "%s/root/init", dir);
	if (nsim_run("mkdir -p %s/root/bin %s/root/proc %s/root/sys %s/root/dev",
		     dir, dir, dir, dir) ||
	    nsim_run("cp /bin/busybox %s/guest_rx %s/root/bin/", here, dir) ||
	    nsim_run("for a in %s; do ln -s busybox %s/root/bin/$a; done",
		     "sh mount cat ip echo basename readlink poweroff", dir) ||
	    write_file(path, init) || chmod(path, 0755))
		return -EIO;
	return nsim_run("cd %s/root && find . | cpio -o -H newc --quiet | gzip -1 > %s/initrd.gz",
			dir, dir) ? -EIO : 0;
}

static int make_config(const char *dir, const char *here)
{
	static const char qemu_conf[] =
		"# Root, no cgroups (CONFIG_CGROUPS=n), no seccomp, no\n"
		"# virtlogd/virtlockd, no private /dev (QEMU opens vhost-net)\n"
		"user = \"root\"\n"
		"group = \"root\"\n"
		"dynamic_ownership = 0\n"
		"remember_owner = 0\n"
		"security_driver = \"none\"\n"
		"stdio_handler = \"file\"\n"
		"cgroup_controllers = [ ]\n"
		"seccomp_sandbox = 0\n"
		"lock_manager = \"nop\"\n"
		"namespaces = [ ]\n";
	char path[128], text[512];

	snprintf(path, sizeof(path), "%s/conf/qemu.conf", dir);
	if (nsim_run("mkdir -p %s/conf/hooks/qemu.d %s/cache", dir, dir) ||
	    write_file(path, qemu_conf) ||
	    nsim_run("cp %s/guest-bound-rxq %s/conf/hooks/qemu.d/", here, dir))
		return -EIO;
	snprintf(path, sizeof(path), "%s/conf/hooks/guest-bound-rxq.conf", dir);
	snprintf(text, sizeof(text), "ip_lib_dir=%s\nstate_dir=%s/state\n",
		 here, dir);
	return write_file(path, text);
}

/* The domain: @option is the <metadata> body, @model the NIC model. */
static int make_domain(const struct _test_data_guest *self, const char *name,
		       const char *option, const char *model)
{
	char path[128], *xml;
	int ret;

	if (asprintf(&xml,
		     "<domain type='qemu'>\n"
		     "  <name>%s</name>\n"
		     "  <metadata>%s</metadata>\n"
		     "  <memory unit='MiB'>256</memory>\n"
		     "  <vcpu>1</vcpu>\n"
		     "  <os>\n"
		     "    <type arch='x86_64' machine='pc'>hvm</type>\n"
		     "    <kernel>%s</kernel>\n"
		     "    <initrd>%s/initrd.gz</initrd>\n"
		     "    <cmdline>console=ttyS0 panic=-1 quiet lvg.peer=%02x:%02x:%02x:%02x:%02x:%02x lvg.count=%d lvg.mtu=%d</cmdline>\n"
		     "  </os>\n"
		     "  <features><acpi/></features>\n"
		     "  <on_poweroff>destroy</on_poweroff>\n"
		     "  <on_crash>destroy</on_crash>\n"
		     "  <devices>\n"
		     "    <emulator>%s/qemu-vhost</emulator>\n"
		     "    <interface type='direct'>\n"
		     "      <mac address='%s'/>\n"
		     "      <source dev='%s' mode='bridge'/>\n"
		     "      <model type='%s'/>\n"
		     "      <driver name='vhost'/>\n"
		     "    </interface>\n"
		     "    <serial type='file'>\n"
		     "      <source path='%s/%s.log'/>\n"
		     "      <target port='0'/>\n"
		     "    </serial>\n"
		     "    <memballoon model='none'/>\n"
		     "  </devices>\n"
		     "</domain>\n",
		     name, option, guest_kernel(), self->dir,
		     self->a.mac[0], self->a.mac[1], self->a.mac[2],
		     self->a.mac[3], self->a.mac[4], self->a.mac[5],
		     WARM_FRAMES + MEASURE_FRAMES, GUEST_RX_MTU, self->here,
		     GUEST_MAC, self->src[0] ? self->src : self->b.ifname,
		     model, self->dir,
		     name) < 0)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s.xml", self->dir, name);
	ret = write_file(path, xml);
	free(xml);
	if (ret)
		return ret;
	return nsim_run("virsh -q -c qemu:///system define %s >/dev/null", path) ?
		-EIO : 0;
}

/* The <metadata> body asking for a bound queue for @mac's interface */
static const char *option_for(const char *mac, const char *attrs)
{
	static char buf[256];

	snprintf(buf, sizeof(buf),
		 "<rxq:binding xmlns:rxq='%s'><rxq:interface mac='%s' %s/></rxq:binding>",
		 RXQ_NS, mac, attrs);
	return buf;
}

static const char *option(const char *attrs)
{
	return option_for(GUEST_MAC, attrs);
}

/* virsh start; its error output in @err.  0 if the domain started. */
static int domain_start(const struct _test_data_guest *self, const char *name,
			char *err, size_t len)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "%s/%s.err", self->dir, name);
	ret = nsim_run("virsh -q -c qemu:///system start %s >/dev/null 2>%s",
		       name, path);
	snprintf(err, len, "%s", read_file(path));
	return ret;
}

static void domain_gone(const char *name)
{
	nsim_run("virsh -q -c qemu:///system destroy %s >/dev/null 2>&1", name);
	nsim_run("virsh -q -c qemu:///system undefine %s >/dev/null 2>&1", name);
}

/* Macvtaps on @p, the lower device. */
static int macvtaps_on(const struct nsim_port *p)
{
	char cmd[160];
	FILE *f;
	int n;

	snprintf(cmd, sizeof(cmd),
		 "ls -d /sys/class/net/%s/upper_* 2>/dev/null | wc -l", p->ifname);
	f = popen(cmd, "r");
	if (!f || fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -EINVAL;
}

FIXTURE_SETUP(guest)
{
	char msg[256];
	int ret;

	self->tx_fd = -1;
	if (access("/sys/bus/netdevsim/new_device", W_OK))
		SKIP(return, "netdevsim is not available (CONFIG_NETDEVSIM)");
	if (access("/dev/vhost-net", R_OK | W_OK))
		SKIP(return, "/dev/vhost-net is not available (CONFIG_VHOST_NET)");
	if (!have("/usr/sbin/libvirtd") || !have("/usr/bin/virsh"))
		SKIP(return, "libvirt is not installed (%s)",
		     "libvirt-daemon-driver-qemu, libvirt-clients");
	if (!have("/usr/bin/qemu-system-x86_64") || !have("/bin/busybox"))
		SKIP(return, "qemu-system-x86 or busybox-static is not installed");
	if (!guest_kernel())
		SKIP(return, "no guest kernel: set GUEST_KERNEL to a bzImage");
	ASSERT_NE(NULL, realpath("/proc/self/exe", self->here));
	*strrchr(self->here, '/') = 0;

	ret = nsim_pair_create(&self->a, &self->b, NQ);
	ASSERT_EQ(0, ret) TH_LOG("netdevsim pair: %s", strerror(-ret));
	ASSERT_EQ(0, nsim_set_mtu(&self->a, GUEST_RX_MTU));
	ASSERT_EQ(0, nsim_set_mtu(&self->b, GUEST_RX_MTU));
	ret = nsim_rings_set(&self->b, 1, 0, -1, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("rings-set: %s %s", strerror(-ret), msg);
	ASSERT_EQ(0, nsim_run("ethtool -X %s equal %d", self->b.ifname, QB));
	ASSERT_EQ(0, parse_mac(GUEST_MAC, self->g.mac));

	snprintf(self->dir, sizeof(self->dir), "/tmp/lvg.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, make_initramfs(self->dir, self->here));
	ASSERT_EQ(0, make_config(self->dir, self->here));

	/* libvirtd's mounts stay in this test's mount namespace */
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, nsim_run("%s/libvirt_env.sh start %s/conf %s/cache",
			      self->here, self->dir, self->dir));
	self->libvirtd = true;
	self->tx_fd = nsim_tx_open(&self->a);
	ASSERT_LE(0, self->tx_fd);
}

FIXTURE_TEARDOWN(guest)
{
	if (self->tx_fd >= 0)
		close(self->tx_fd);
	if (self->libvirtd) {
		domain_gone("lvg-bad");
		domain_gone("lvg");
		nsim_run("%s/libvirt_env.sh stop", self->here);
	}
	if (self->src[0])
		nsim_run("ip link del %s 2>/dev/null", self->src);
	nsim_pair_destroy(&self->a, &self->b);
	if (self->dir[0] && strcmp(self->dir, "/tmp/lvg.XXXXXX"))
		nsim_run("rm -rf %s", self->dir);
}

/* The domain's start fails with the hook's @want in virsh's message,
 * and leaves no macvtap and no lease behind.
 */
static void expect_refused(struct __test_metadata *_metadata,
			   struct _test_data_guest *self, const char *opt,
			   const char *model, const char *want)
{
	int lifindex, lqueue, before = macvtaps_on(&self->b);
	char err[1024];

	ASSERT_EQ(0, make_domain(self, "lvg-bad", opt, model));
	EXPECT_NE(0, domain_start(self, "lvg-bad", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, want)) TH_LOG("virsh start: %s", err);
	EXPECT_NE(NULL, strstr(err, "guest-bound-rxq")) TH_LOG("virsh: %s", err);
	EXPECT_EQ(before, macvtaps_on(&self->b));
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, 1, &lifindex,
					  &lqueue));
	EXPECT_EQ(-1, lifindex);
	EXPECT_EQ(0, nsim_ntuple_count(&self->b));
	domain_gone("lvg-bad");
	printf("# refused as expected: %s", err);
}

/* Bad options fail at prepare, before anything is made; a queue that
 * cannot be leased fails at start, after libvirt made the macvtap,
 * which goes again.
 */
TEST_F_TIMEOUT(guest, refused, 1200)
{
	char msg[256], err[1024], mvt[IF_NAMESIZE];
	int ifx;

	expect_refused(_metadata, self, option("queue='9'"), "virtio",
		       "no queue 9");
	expect_refused(_metadata, self, option("queue='1,1'"), "virtio",
		       "listed twice");
	expect_refused(_metadata, self, option("queue='3' steer='maybe'"),
		       "virtio", "steer='maybe'");
	expect_refused(_metadata, self, option("queue='3' vlan='5'"),
		       "virtio", "unknown attribute vlan");
	expect_refused(_metadata, self, option("queue='3'"), "e1000",
		       "not virtio");
	expect_refused(_metadata, self,
		       option_for("52:54:00:6b:72:99", "queue='3'"), "virtio",
		       "no <interface>");

	/* A <source dev> that does not exist */
	snprintf(self->src, sizeof(self->src), "lvn%d", getpid() % 10000);
	expect_refused(_metadata, self, option("queue='0'"), "virtio",
		       "no network device");
	/* One that cannot lease its queues (a veth: virtual), at start:
	 * the kernel's reason, and libvirt's macvtap on it is gone.
	 */
	snprintf(self->src, sizeof(self->src), "lvv%d", getpid() % 10000);
	ASSERT_EQ(0, nsim_run("ip link add %s type veth peer name %sp && ip link set %s up",
			      self->src, self->src, self->src));
	expect_refused(_metadata, self, option("queue='0'"), "virtio",
		       "virtual device");
	EXPECT_EQ(0, nsim_run("! ls -d /sys/class/net/%s/upper_* 2>/dev/null",
			      self->src));
	nsim_run("ip link del %s", self->src);
	self->src[0] = 0;

	/* Queue 3 leased to another macvtap already */
	snprintf(mvt, sizeof(mvt), "lvo%d", getpid() % 10000);
	ASSERT_EQ(0, nsim_run("ip link add link %s name %s type macvtap mode bridge",
			      self->b.ifname, mvt));
	ifx = if_nametoindex(mvt);
	ASSERT_EQ(1, nsim_queue_lease(ifx, self->b.ifindex, QB, msg,
				      sizeof(msg)));
	ASSERT_EQ(0, make_domain(self, "lvg-bad", option("queue='3'"), "virtio"));
	EXPECT_NE(0, domain_start(self, "lvg-bad", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "in use")) TH_LOG("virsh start: %s", err);
	printf("# refused as expected: %s", err);
	/* Only our own macvtap is left, with its lease */
	EXPECT_EQ(1, macvtaps_on(&self->b));
	EXPECT_EQ(0, nsim_ntuple_count(&self->b));
	domain_gone("lvg-bad");
	nsim_run("ip link del %s", mvt);
}

static int send_frames(struct _test_data_guest *self, __u32 first, __u32 n)
{
	static unsigned char buf[VHOST_GUEST_MAX_FRAME];
	size_t len;
	__u32 seq;

	for (seq = first; seq < first + n; seq++) {
		len = nsim_build_frame(buf, guest_rx_len(seq), seq, &self->a,
				       &self->g, NULL);
		if (send(self->tx_fd, buf, len, 0) != (ssize_t)len)
			return -errno;
		usleep(SEND_GAP_US);
	}
	return 0;
}

/* Seconds until @what is in the guest's console log, or -1. */
static int wait_console(const struct _test_data_guest *self, const char *what,
			int timeout_s)
{
	char path[128];
	time_t t0 = time(NULL);

	snprintf(path, sizeof(path), "%s/lvg.log", self->dir);
	while (time(NULL) - t0 < timeout_s) {
		if (strstr(read_file(path), what))
			return time(NULL) - t0;
		sleep(1);
	}
	return -1;
}

static __u64 accounted(const struct nsim_vhost_stats *s0,
		       const struct nsim_vhost_stats *s1)
{
	return VS(*s1, ZC_FRAMES) - VS(*s0, ZC_FRAMES) +
	       VS(*s1, COPY_FRAMES) - VS(*s0, COPY_FRAMES) +
	       VS(*s1, HOST_FRAMES) - VS(*s0, HOST_FRAMES) +
	       VS(*s1, DROPS) - VS(*s0, DROPS);
}

/* The binding's stats in @s1 once MEASURE_FRAMES frames since @s0 are
 * counted in them (or the last ones read before the binding went).
 */
static int wait_accounted(const struct _test_data_guest *self,
			  const struct nsim_vhost_stats *s0,
			  struct nsim_vhost_stats *s1, int timeout_s)
{
	struct nsim_vhost_stats s;
	time_t t0 = time(NULL);
	int ret = -ETIMEDOUT;

	*s1 = *s0;
	while (time(NULL) - t0 < timeout_s) {
		if (nsim_queue_vhost(self->b.ifindex, QB, &s))
			return ret;
		*s1 = s;
		ret = 0;
		if (accounted(s0, s1) >= MEASURE_FRAMES)
			return 0;
		usleep(100000);
	}
	return -ETIMEDOUT;
}

/* What `make run` shows: @s0 after warm-up, @s1 at the end. */
static void print_report(const struct nsim_vhost_stats *s0,
			 const struct nsim_vhost_stats *s1)
{
	__u64 d[NSIM_VHOST_NSTATS], all;
	int i;

	for (i = 0; i < NSIM_VHOST_NSTATS; i++)
		d[i] = s1->v[i] - s0->v[i];
	all = VS(*s1, ZC_FRAMES) + VS(*s1, COPY_FRAMES) + VS(*s1, HOST_FRAMES);

	printf("# zero-copy: %llu of %llu frames (%llu%%), %llu of the last %d\n",
	       VS(*s1, ZC_FRAMES), all,
	       all ? VS(*s1, ZC_FRAMES) * 100 / all : 0,
	       d[NETDEV_A_VHOST_PROVIDER_INFO_ZC_FRAMES], MEASURE_FRAMES);
	printf("# copied by the host CPU in the last %d frames: %llu payload bytes",
	       MEASURE_FRAMES,
	       d[NETDEV_A_VHOST_PROVIDER_INFO_COPY_BYTES] +
	       d[NETDEV_A_VHOST_PROVIDER_INFO_HOST_BYTES]);
	printf(" (%llu frames into guest buffers, %llu into host pages),",
	       d[NETDEV_A_VHOST_PROVIDER_INFO_COPY_FRAMES],
	       d[NETDEV_A_VHOST_PROVIDER_INFO_HOST_FRAMES]);
	printf(" %llu header bytes (%llu a frame)\n",
	       d[NETDEV_A_VHOST_PROVIDER_INFO_HDR_BYTES],
	       d[NETDEV_A_VHOST_PROVIDER_INFO_HDR_BYTES] / MEASURE_FRAMES);
	/* The guest's first buffers are sized for small frames */
	printf("# copied during warm-up: %llu frames, %llu payload bytes\n",
	       VS(*s0, COPY_FRAMES) + VS(*s0, HOST_FRAMES),
	       VS(*s0, COPY_BYTES) + VS(*s0, HOST_BYTES));
	/* The guest's kernel reposts its buffers mostly on pages the
	 * binding holds pinned already: a buffer on one of them goes back
	 * to the NIC with no pin; a new page is pinned once.
	 */
	printf("# pool, last %d frames: %llu guest buffers recycled to the NIC,",
	       MEASURE_FRAMES, d[NETDEV_A_VHOST_PROVIDER_INFO_ARM_TOTAL]);
	printf(" %llu guest pages newly pinned (%llu pinned now),",
	       d[NETDEV_A_VHOST_PROVIDER_INFO_PIN_TOTAL],
	       VS(*s1, PINNED_PAGES));
	printf(" pool empty %llu times, %llu posted buffers refused\n",
	       d[NETDEV_A_VHOST_PROVIDER_INFO_ALLOC_EMPTY],
	       d[NETDEV_A_VHOST_PROVIDER_INFO_ARM_REFUSED]);
	printf("# drops: %llu\n", VS(*s1, DROPS));
}

TEST_F_TIMEOUT(guest, receives_in_place, 2400)
{
	unsigned long frames = 0, bytes = 0, bad = 1, dup = 1, sdrops = 0;
	struct nsim_vhost_stats s0, s1;
	int lifindex, lqueue, t, i, n;
	char err[1024], path[128];
	__u64 inflight;
	const char *log;

	ASSERT_EQ(0, make_domain(self, "lvg", option("queue='3'"), "virtio"));
	printf("# domain XML option: <metadata>%s</metadata>\n",
	       option("queue='3'"));
	t = time(NULL);
	ASSERT_EQ(0, domain_start(self, "lvg", err, sizeof(err)))
		TH_LOG("virsh start: %s", err);
	printf("# virsh start returned after %lds\n", (long)(time(NULL) - t));
	t = wait_console(self, "guest_rx: ready", BOOT_TIMEOUT_S);
	snprintf(path, sizeof(path), "%s/lvg.log", self->dir);
	ASSERT_LE(0, t) TH_LOG("guest console: %s", read_file(path));
	printf("# guest ready %ds later\n", t);

	/* Bound: queue 3 leased to libvirt's macvtap, vhost-net on it */
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, QB, &lifindex,
					  &lqueue));
	ASSERT_LT(0, lifindex);
	ASSERT_EQ(0, nsim_queue_vhost(self->b.ifindex, QB, &s0))
		TH_LOG("queue %d is not bound to the guest", QB);
	EXPECT_EQ(1, nsim_ntuple_count(&self->b));

	/* libvirtd restarts under the running guest: it reconnects to
	 * it (the hook's reconnect), and the binding carries on.
	 */
	ASSERT_EQ(0, nsim_run("%s/libvirt_env.sh stop && %s/libvirt_env.sh start %s/conf %s/cache",
			      self->here, self->here, self->dir, self->dir));
	EXPECT_EQ(0, nsim_run("virsh -q -c qemu:///system domstate lvg | grep -qx running"));
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, QB, &lifindex,
					  &lqueue));
	EXPECT_LT(0, lifindex);
	printf("# libvirtd restarted under the guest, binding kept\n");

	ASSERT_EQ(0, send_frames(self, 0, WARM_FRAMES));
	sleep(3);
	ASSERT_EQ(0, nsim_queue_vhost(self->b.ifindex, QB, &s0));
	ASSERT_EQ(0, send_frames(self, WARM_FRAMES, MEASURE_FRAMES));
	/* The binding counts a frame before the guest sees it: read the
	 * stats until they account for every measured frame.
	 */
	ASSERT_EQ(0, wait_accounted(self, &s0, &s1, 600));
	ASSERT_LE(0, wait_console(self, "guest_rx: done", 600));
	log = strstr(read_file(path), "guest_rx: done");
	ASSERT_NE(NULL, log);
	n = sscanf(log, "guest_rx: done frames=%lu bytes=%lu bad=%lu dup=%lu drops=%lu",
		   &frames, &bytes, &bad, &dup, &sdrops);
	ASSERT_EQ(5, n);
	/* lost: frames the guest's socket dropped (its buffer full) */
	printf("# guest: %lu of %d frames intact (%lu bytes), %lu bad, %lu twice, %lu lost\n",
	       frames, WARM_FRAMES + MEASURE_FRAMES, bytes, bad, dup, sdrops);
	print_report(&s0, &s1);
	EXPECT_EQ(0UL, bad);
	EXPECT_EQ(0UL, dup);
	EXPECT_EQ((unsigned long)(WARM_FRAMES + MEASURE_FRAMES), frames);
	/* After warm-up, every frame lands in place: no payload copied */
	EXPECT_EQ((__u64)MEASURE_FRAMES, VS(s1, ZC_FRAMES) - VS(s0, ZC_FRAMES));
	EXPECT_EQ(0ULL, VS(s1, COPY_BYTES) - VS(s0, COPY_BYTES));
	EXPECT_EQ(0ULL, VS(s1, HOST_BYTES) - VS(s0, HOST_BYTES));

	/* virsh destroy of the running guest, whose buffers the NIC
	 * holds: the macvtap goes, and with it the lease; the hook takes
	 * its steering rule back; the binding's pool is gone.
	 */
	EXPECT_EQ(0, nsim_run("virsh -q -c qemu:///system domstate lvg | grep -qx running"));
	ASSERT_EQ(0, nsim_run("virsh -q -c qemu:///system destroy lvg >/dev/null"));
	for (i = 0; i < 120 && macvtaps_on(&self->b); i++)
		sleep(1);
	EXPECT_EQ(0, macvtaps_on(&self->b));
	for (i = 0; i < 60 && nsim_ntuple_count(&self->b); i++)
		sleep(1);
	EXPECT_EQ(0, nsim_ntuple_count(&self->b));
	ASSERT_EQ(0, nsim_queue_get_lease(self->b.ifindex, QB, &lifindex,
					  &lqueue));
	EXPECT_EQ(-1, lifindex);
	EXPECT_EQ(0, nsim_vhost_pools_settle(0, 5000, &inflight))
		TH_LOG("%llu buffers in flight", inflight);
}

TEST_HARNESS_MAIN
