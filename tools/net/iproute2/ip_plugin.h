/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What an ip link plugin uses of the ip binary, which exports its
 * symbols (-Wl,-export-dynamic): the link type struct ip looks up by name
 * and the few helpers the plugin calls, declared as iproute2 6.1 defines
 * them.  iproute2 ships no headers for plugins.
 */
#ifndef IP_PLUGIN_H
#define IP_PLUGIN_H

#include <stdio.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define IPP_API		__attribute__((visibility("default")))

/* ip's struct link_util, as iproute2 6.1 lays it out (ip/ip_common.h) */
struct link_util {
	struct link_util *next;
	const char *id;
	int maxattr;
	int (*parse_opt)(struct link_util *lu, int argc, char **argv,
			 struct nlmsghdr *n);
	void (*print_opt)(struct link_util *lu, FILE *f, struct rtattr *tb[]);
	void (*print_xstats)(struct link_util *lu, FILE *f,
			     struct rtattr *xstats);
	void (*print_help)(struct link_util *lu, int argc, char **argv,
			   FILE *f);
	int (*parse_ifla_xstats)(struct link_util *lu, int argc, char **argv);
	int (*print_ifla_xstats)(struct nlmsghdr *n, void *arg);
};

/* From the ip binary (libnetlink.h, json_print.h, color.h) */
enum { IPP_PRINT_FP = 1, IPP_PRINT_JSON = 2 };
enum { IPP_COLOR_NONE = 6 };
int addattr32(struct nlmsghdr *n, int maxlen, int type, __u32 data);
struct rtattr *addattr_nest(struct nlmsghdr *n, int maxlen, int type);
int addattr_nest_end(struct nlmsghdr *n, struct rtattr *nest);
void open_json_array(int type, const char *str);
void close_json_array(int type, const char *str);
int print_color_string(int type, int color, const char *key,
		       const char *fmt, const char *value);
int print_color_uint(int type, int color, const char *key, const char *fmt,
		     unsigned int value);

#endif /* IP_PLUGIN_H */
