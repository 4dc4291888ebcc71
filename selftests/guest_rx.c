// SPDX-License-Identifier: GPL-2.0
/*
 * The receiving side inside a real guest (libvirt_guest): counts the test
 * frames that arrive on a network interface of the guest's own virtio-net
 * driver and checks each byte for byte against the frame the sender made
 * (nsim_build_frame()), and reports on the console.  Built static, so
 * that it runs from a busybox initramfs.
 *
 * Usage: guest_rx IFNAME PEER_MAC COUNT TIMEOUT_S
 *
 * Frame seq has the length guest_rx_len(seq), the sender's rule too.
 * Prints "guest_rx: ready", a progress line every 2 seconds, and at the
 * end (COUNT good frames, or TIMEOUT_S seconds without one)
 * "guest_rx: done frames=N bytes=B bad=K dup=D drops=S" (S: frames its
 * socket dropped), and exits 0 if every frame was intact.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>

#include "guest_rx.h"
#include "nsim.h"
#include "vhost_guest.h"

static unsigned char frame[VHOST_GUEST_MAX_FRAME];

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

static int read_mac(const char *ifname, unsigned char *mac)
{
	char path[64], buf[32];
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		ret = parse_mac(buf, mac);
	fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	struct nsim_port self = { 0 }, peer = { 0 };
	unsigned long count, timeout, frames = 0, bad = 0, dup = 0;
	unsigned long long bytes = 0;
	double last_good, last_print;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(NSIM_ETH_P_TEST),
	};
	struct tpacket_stats st;
	struct pollfd pfd;
	unsigned char *seen;
	socklen_t slen;
	int rcvbuf;
	__u32 seq;
	ssize_t n;
	int fd, ret;

	if (argc != 5 || parse_mac(argv[2], peer.mac)) {
		fprintf(stderr, "usage: guest_rx IFNAME PEER_MAC COUNT TIMEOUT_S\n");
		return 2;
	}
	count = strtoul(argv[3], NULL, 0);
	timeout = strtoul(argv[4], NULL, 0);
	self.ifindex = if_nametoindex(argv[1]);
	if (!self.ifindex) {
		printf("guest_rx: no interface %s\n", argv[1]);
		return 1;
	}
	if (read_mac(argv[1], self.mac)) {
		printf("guest_rx: no MAC for %s\n", argv[1]);
		return 1;
	}
	seen = calloc(count, 1);
	fd = socket(AF_PACKET, SOCK_RAW, htons(NSIM_ETH_P_TEST));
	if (!seen || fd < 0) {
		printf("guest_rx: socket: %s\n", strerror(errno));
		return 1;
	}
	sll.sll_ifindex = self.ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		printf("guest_rx: bind: %s\n", strerror(errno));
		return 1;
	}
	/* A guest under TCG can stall for a while: room for every frame */
	rcvbuf = GUEST_RX_RCVBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		printf("guest_rx: SO_RCVBUFFORCE: %s\n", strerror(errno));
	printf("guest_rx: ready %s\n", argv[1]);
	fflush(stdout);

	last_good = nsim_now();
	last_print = last_good;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (frames < count && nsim_now() - last_good < timeout) {
		if (nsim_now() - last_print >= 2) {
			printf("guest_rx: progress frames=%lu bad=%lu\n", frames,
			       bad);
			fflush(stdout);
			last_print = nsim_now();
		}
		if (poll(&pfd, 1, 500) <= 0)
			continue;
		n = recv(fd, frame, sizeof(frame), 0);
		if (n < 0)
			continue;
		if (n < ETH_HLEN || memcmp(frame + 6, peer.mac, ETH_ALEN))
			continue;
		/* Length from the sequence number, as the sender makes it */
		memcpy(&seq, frame + ETH_HLEN, sizeof(seq));
		ret = nsim_check_frame(frame, n, guest_rx_len(seq), &peer,
				       &self, NULL, &seq);
		if (ret) {
			if (bad++ < 5)
				printf("guest_rx: frame seq %u of %zd bytes: %s\n",
				       seq, n, strerror(-ret));
			continue;
		}
		if (seq >= count || seen[seq]) {
			dup++;
			continue;
		}
		seen[seq] = 1;
		frames++;
		bytes += n;
		last_good = nsim_now();
	}
	slen = sizeof(st);
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &slen))
		st.tp_drops = 0;
	printf("guest_rx: done frames=%lu bytes=%llu bad=%lu dup=%lu drops=%u\n",
	       frames, bytes, bad, dup, st.tp_drops);
	fflush(stdout);
	return bad || dup ? 1 : 0;
}
