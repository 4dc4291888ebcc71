#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the VM: the benchmarks of `make bench`.  The table goes to
# RESULTS/out.log (streamed to the host), the CSV to RESULTS/bench.csv,
# the exit code to RESULTS/done.
#
# Usage: bench.sh BUILD RESULTS [ARGS...]   ARGS go to vhost_net_bench
build=$1
results=$2
shift 2
bench=$build/kselftest/kselftest_install/drivers/net/vhost_net/vhost_net_bench

cd /tmp || exit 1
mount -t debugfs none /sys/kernel/debug 2>/dev/null
sysctl -qw net.core.skb_defer_max=0
{
	echo "== kernel $(uname -r), $(nproc) CPUs; vhost_net_bench $*"
	"$bench" -o "$results/bench.csv" -P "$results/pool.csv" "$@"
	rc=$?
	echo "== bench exit code $rc"
} >> "$results/out.log" 2>&1
dmesg > "$results/dmesg.log"
echo "$rc" > "$results/done"
