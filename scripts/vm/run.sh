#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the VM: the demo of `make run`.  Debian's stock libvirtd starts a
# Linux guest (this kernel, stock virtio-net, a busybox initramfs) from a
# domain XML whose <metadata> binds queue 3 of a netdevsim port to the
# guest's interface; the peer port sends it pattern frames; the guest
# checks them.  That is the libvirt_guest selftest's receives_in_place,
# whose figures are summed up here.  The report goes to RESULTS/out.log
# (streamed to the host), the exit code to RESULTS/done.
#
# Usage: GUEST_KERNEL=BZIMAGE run.sh BUILD RESULTS
build=$1
results=$2
ksft=$build/kselftest/kselftest_install/drivers/net/vhost_net
raw=$results/libvirt_guest.log

cd /tmp || exit 1
{
	echo "== kernel $(uname -r), $(nproc) CPUs"
	echo "== libvirt $(virsh -v 2>/dev/null), $(qemu-system-x86_64 --version | head -n1)"
	echo "== a Linux guest started by libvirtd on a guest-bound RX queue (nested QEMU: a few minutes under TCG)"
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	"$ksft/libvirt_guest" -t receives_in_place > "$raw" 2>&1
	rc=$?
	if [ "$rc" != 0 ]; then
		echo "== the run failed (exit $rc); its output:"
		cat "$raw"
	fi
	# The test's own account of the run, as it went
	echo "== report"
	sed -n 's/^# \(domain XML\|virsh\|guest\|libvirtd\|zero-copy\|copied\|pool\|drops\)/  \1/p' "$raw"
	echo "== demo exit code $rc"
} >> "$results/out.log" 2>&1
dmesg > "$results/dmesg.log"
echo "$rc" > "$results/done"
