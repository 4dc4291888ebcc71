#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the VM: the demo of `make run`.  Its report goes to
# RESULTS/out.log (streamed to the host), its exit code to RESULTS/done.
#
# Usage: run.sh BUILD RESULTS
build=$1
results=$2
ksft=$build/kselftest/kselftest_install/drivers/net/vhost_net
demo=$ksft/vhost_net_demo

cd /tmp || exit 1
{
	echo "== kernel $(uname -r), $(nproc) CPUs"
	"$demo" 2000
	rc=$?
	echo "== demo exit code $rc"
	# The guest-bound queue: a netdevsim queue leased to a macvtap and
	# bound by vhost-net, against stock vhost-net on the same macvtap
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	echo "== guest-bound RX queue (zero-copy) against stock vhost-net, 1 s a cell"
	"$ksft/vhost_net_bench" -t 1 -r 1 -s 1500,9014 -m zero-copy,stock
	bench_rc=$?
	echo "== bench exit code $bench_rc"
	[ "$rc" = 0 ] && rc=$bench_rc
} >> "$results/out.log" 2>&1
dmesg > "$results/dmesg.log"
echo "$rc" > "$results/done"
