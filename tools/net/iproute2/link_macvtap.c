// SPDX-License-Identifier: GPL-2.0
/*
 * link_macvtap.so: RX queue leases for the macvtap link type of iproute2's
 * ip, as a link plugin for the stock binary (iproute2 6.1 and later).
 *
 * ip looks for IP_LIB_DIR/link_<kind>.so before its built-in support of a
 * link kind (IP_LIB_DIR defaults to /usr/lib/<multiarch>/ip).  This plugin
 * takes the "macvtap" kind, handles the lease option, and hands every
 * other option to ip's own macvtap support, which the binary exports:
 *
 *   ip link add link eth0 name mvtap0 type macvtap mode passthru lease 3
 *   ip link set mvtap0 type macvtap lease 3,5
 *   ip link set mvtap0 type macvtap lease none
 *   ip -d link show mvtap0           ... macvtap mode passthru ... lease 3,5
 *   ip -d -j link show mvtap0        ... "info_data": {..., "lease": [3, 5]}
 *
 * "lease" is the kernel's IFLA_MACVLAN_RX_LEASE: the queues of the lower
 * device the macvtap is to hold (include/uapi/linux/if_link.h).
 *
 * The plugin cannot include iproute2's headers, which no Debian package
 * ships: ip_plugin.h declares what it uses of the binary.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "ip_plugin.h"

/* ip's request buffer: what its own link types pass as maxlen */
#define MVT_MAXLEN	1024
/* More leases than a macvtap can hold; the kernel says how many it can */
#define MVT_MAX_LEASES	64

static struct link_util *mvt_builtin(void)
{
	static struct link_util *lu;

	/* The binary's symbol: this plugin is not in the global scope */
	if (!lu)
		lu = dlsym(RTLD_DEFAULT, "macvtap_link_util");
	if (!lu)
		fprintf(stderr,
			"link_macvtap.so: this ip has no macvtap support to extend\n");
	return lu;
}

static void mvt_explain(FILE *f)
{
	fprintf(f,
		"\n"
		"Leased RX queues (link_macvtap.so):\n"
		"\t[ lease { QUEUE[,QUEUE...] | none } ]\n"
		"\n"
		"QUEUE := RX queue id of the lower device, leased to the macvtap\n"
		"\tfor a guest-bound RX queue; the list names every queue it is\n"
		"\tto hold, \"none\" gives all back.\n");
}

/* "none", or queue ids separated by commas, none twice */
static int mvt_parse_queues(const char *arg, __u32 *q, int *nq)
{
	char *end;
	unsigned long v;
	int i;

	*nq = 0;
	if (!strcmp(arg, "none"))
		return 0;
	for (;;) {
		if (*arg < '0' || *arg > '9')
			goto err_bad;
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || v > 0xffffffffUL)
			goto err_bad;
		for (i = 0; i < *nq; i++) {
			if (q[i] == v) {
				fprintf(stderr, "Error: lease: queue %lu is listed twice\n",
					v);
				return -1;
			}
		}
		if (*nq == MVT_MAX_LEASES) {
			fprintf(stderr, "Error: lease: more than %d queues\n",
				MVT_MAX_LEASES);
			return -1;
		}
		q[(*nq)++] = v;
		if (!*end)
			return 0;
		if (*end != ',')
			goto err_bad;
		arg = end + 1;
	}

err_bad:
	fprintf(stderr,
		"Error: lease: \"%s\" is not a list of queue ids or \"none\"\n",
		arg);
	return -1;
}

static int mvt_parse_opt(struct link_util *lu, int argc, char **argv,
			 struct nlmsghdr *n)
{
	struct link_util *builtin = mvt_builtin();
	char **rest = calloc(argc + 1, sizeof(*rest));
	const char *lease = NULL;
	__u32 q[MVT_MAX_LEASES];
	struct rtattr *nest;
	int i, nq, nrest = 0;
	int ret = -1;

	(void)lu;
	if (!builtin || !rest)
		goto out;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "help")) {
			if (builtin->print_help)
				builtin->print_help(builtin, 0, NULL, stderr);
			mvt_explain(stderr);
			goto out;
		}
		if (strcmp(argv[i], "lease")) {
			rest[nrest++] = argv[i];
			continue;
		}
		if (++i == argc) {
			fprintf(stderr,
				"Error: lease: a list of queue ids or \"none\" is missing\n");
			goto out;
		}
		if (lease) {
			fprintf(stderr, "Error: lease is given twice\n");
			goto out;
		}
		lease = argv[i];
	}
	if (nrest && builtin->parse_opt(builtin, nrest, rest, n))
		goto out;
	if (lease) {
		if (mvt_parse_queues(lease, q, &nq))
			goto out;
		nest = addattr_nest(n, MVT_MAXLEN,
				    IFLA_MACVLAN_RX_LEASE | NLA_F_NESTED);
		if (!nest)
			goto out;
		for (i = 0; i < nq; i++)
			if (addattr32(n, MVT_MAXLEN,
				      IFLA_MACVLAN_RX_LEASE_QUEUE, q[i]))
				goto out;
		addattr_nest_end(n, nest);
	}
	ret = 0;
out:
	free(rest);
	return ret;
}

static void mvt_print_lease(const struct rtattr *nest)
{
	int len = RTA_PAYLOAD(nest), n = 0, off = 0;
	const struct rtattr *a;
	char buf[16 * MVT_MAX_LEASES];
	__u32 v;

	open_json_array(IPP_PRINT_JSON, "lease");
	for (a = RTA_DATA(nest); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type != IFLA_MACVLAN_RX_LEASE_QUEUE ||
		    RTA_PAYLOAD(a) < sizeof(v))
			continue;
		memcpy(&v, RTA_DATA(a), sizeof(v));
		print_color_uint(IPP_PRINT_JSON, IPP_COLOR_NONE, NULL, "%u", v);
		if (off < (int)sizeof(buf) - 12)
			off += snprintf(buf + off, sizeof(buf) - off, "%s%u",
					n ? "," : "", v);
		n++;
	}
	close_json_array(IPP_PRINT_JSON, NULL);
	if (n)
		print_color_string(IPP_PRINT_FP, IPP_COLOR_NONE, NULL,
				   "lease %s ", buf);
}

static void mvt_print_opt(struct link_util *lu, FILE *f, struct rtattr *tb[])
{
	struct link_util *builtin = mvt_builtin();

	(void)lu;
	if (builtin && builtin->print_opt)
		builtin->print_opt(builtin, f, tb);
	if (tb && tb[IFLA_MACVLAN_RX_LEASE])
		mvt_print_lease(tb[IFLA_MACVLAN_RX_LEASE]);
}

static void mvt_print_help(struct link_util *lu, int argc, char **argv,
			   FILE *f)
{
	struct link_util *builtin = mvt_builtin();

	(void)lu;
	if (builtin && builtin->print_help)
		builtin->print_help(builtin, argc, argv, f);
	mvt_explain(f);
}

/* ip finds it by name, and links it into its list through ->next */
IPP_API struct link_util macvtap_link_util = {
	.id		= "macvtap",
	.maxattr	= IFLA_MACVLAN_MAX,
	.parse_opt	= mvt_parse_opt,
	.print_opt	= mvt_print_opt,
	.print_help	= mvt_print_help,
};
