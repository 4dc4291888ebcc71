#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the VM: run the installed kselftests and write their TAP to
# RESULTS/tap.log (streamed to the host as RESULTS/out.log), the kernel log
# to RESULTS/dmesg.log, and "0" to RESULTS/done when finished.
#
# Usage: check.sh BUILD RESULTS [PATTERN]
build=$1
results=$2
pattern=${3:-}
ksft=$build/kselftest/kselftest_install

cd /tmp || exit 1
# virtme-init points /dev/stdout at its console port, and the kselftest
# runner writes each test's output to /dev/stdout by name: point it back
# at the process's own stdout so the nested TAP reaches tap.log.
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t debugfs none /sys/kernel/debug 2>/dev/null
# A socket hands the skbs it consumed back to the CPU that received them
# (skb_attempt_defer_free); on an idle CPU one can wait there for minutes,
# holding its page pool page, and the pool's shutdown then reports a
# stall that is not a leak.  Free at once, so that a stall the kernel-log
# check reports is a real leak.
sysctl -qw net.core.skb_defer_max=0
# nsim_stock.sh runs the kernel's own netdevsim tests from their source.
export KSFT_SRC=$build/linux/tools/testing/selftests

args=()
if [ -n "$pattern" ]; then
	while read -r t; do
		args+=(-t "$t")
	done < <("$ksft/run_kselftest.sh" -l | grep -E -- "$pattern")
	if [ ${#args[@]} -eq 0 ]; then
		echo "no selftest matches T=$pattern; available:" >> "$results/out.log"
		"$ksft/run_kselftest.sh" -l >> "$results/out.log"
		echo 1 > "$results/done"
		exit 1
	fi
fi

"$ksft/run_kselftest.sh" "${args[@]}" 2>&1 | tee "$results/tap.log" >> "$results/out.log"
# kmemleak reports only what a scan finds; scan twice, since an object
# must be unreferenced across two scans to be reported.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak
	sleep 5
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > "$results/kmemleak.log"
fi
dmesg > "$results/dmesg.log"
echo 0 > "$results/done"
