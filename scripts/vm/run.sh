#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the VM: the demo of `make run`.  Its report goes to
# RESULTS/out.log (streamed to the host), its exit code to RESULTS/done.
#
# Usage: run.sh BUILD RESULTS
build=$1
results=$2
demo=$build/kselftest/kselftest_install/drivers/net/vhost_net/vhost_net_demo

cd /tmp || exit 1
{
	echo "== kernel $(uname -r), $(nproc) CPUs"
	"$demo" 2000
	rc=$?
	echo "== demo exit code $rc"
} >> "$results/out.log" 2>&1
dmesg > "$results/dmesg.log"
echo "$rc" > "$results/done"
