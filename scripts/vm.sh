#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the built kernel in QEMU with virtme-ng (the host's root filesystem,
# read-only, is the guest's) and run something in it:
#
#   vm.sh check BUILD BZIMAGE [PATTERN]  run the selftests, print their TAP
#                                        and a closing "N passed, N failed"
#   vm.sh run BUILD BZIMAGE              the demo of `make run`
#   vm.sh bench BUILD BZIMAGE [ARGS]     the benchmarks of `make bench`
#   vm.sh shell BUILD BZIMAGE            an interactive shell
#
# The whole console (kernel messages included) goes to $BUILD/logs/.  A VM
# that does not power off in $VM_TIMEOUT seconds is killed and the run
# fails.  KVM is used where /dev/kvm is usable, TCG elsewhere.
set -uo pipefail

mode=${1:?usage: vm.sh check|run|shell BUILD BZIMAGE [PATTERN]}
build=$(cd "${2:?missing BUILD}" && pwd)
bzimage=$(realpath "${3:?missing BZIMAGE}")
pattern=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
vng_dir=$build/tools/vng
logs=$build/logs
results=$build/results
: "${VM_TIMEOUT:=2400}"
: "${VM_MEMORY:=2G}"
: "${VM_CPUS:=2}"

die() { echo "vm: $*" >&2; exit 1; }

[ -f "$bzimage" ] || die "no kernel at $bzimage (run make kernel)"
[ -f "$vng_dir/.unpacked" ] || die "virtme-ng is not unpacked in $vng_dir (run make vng)"
mkdir -p "$logs"
rm -rf "$results"
mkdir -p "$results"

vng=(env PYTHONPATH="$vng_dir/usr/lib/python3/dist-packages" PATH="$vng_dir/usr/bin:$PATH"
     /usr/bin/python3 "$vng_dir/usr/bin/vng"
     --run "$bzimage" --memory "$VM_MEMORY" --cpus "$VM_CPUS"
     --rwdir "$results=$results" --force-9p --disable-microvm
     --append "root=/dev/root")
# Linux 7.3 no longer falls back to the name /dev/root when root= is absent,
# and virtme-ng 1.35 relies on that fallback for the 9p root's mount tag.
# Some machines have a /dev/kvm that cannot run a guest: nested KVM that
# rejects the host CPU's MSRs, or one that starts a VM whose CPU then never
# runs.  Boot this kernel under KVM with no init, and use KVM only if it
# gets to its panic for want of one (a second when KVM works); else TCG.
kvm_works() {
	local out

	[ -w /dev/kvm ] || return 1
	# In a subshell that does not exec it, so that the report of an
	# aborted QEMU goes to /dev/null too
	out=$( (timeout 20 qemu-system-x86_64 -accel kvm -cpu host -M pc -m 256 \
		-display none -nodefaults -no-reboot -serial stdio \
		-kernel "$bzimage" -append "console=ttyS0 panic=-1 init=/none"
		exit 0) 2>/dev/null)
	grep -q 'Kernel panic' <<<"$out"
}
if ! kvm_works; then
	[ -e /dev/kvm ] && echo "vm: /dev/kvm cannot run a guest here; using TCG"
	vng+=(--disable-kvm)
fi

case "$mode" in
shell)
	exec "${vng[@]}"
	;;
run)
	# The demo's guest is this kernel again
	cmd=$(printf '%q ' env GUEST_KERNEL="$bzimage" "$here/vm/run.sh" \
		"$build" "$results")
	;;
bench)
	# shellcheck disable=SC2086 # BENCH_ARGS is a list of words
	cmd=$(printf '%q ' "$here/vm/bench.sh" "$build" "$results" $pattern)
	;;
check)
	# libvirt_guest boots this kernel again, as its guest's; the
	# seeded tests take their seed and bounds from the environment
	seeds=()
	while read -r v; do
		seeds+=("$v=${!v}")
	done < <(compgen -v | grep -E '^(QL_FUZZ|VHOST_HOSTILE|VHOST_LIFE|VHOST_LOAD|VHOST_FUZZ)_')
	cmd=$(printf '%q ' env GUEST_KERNEL="$bzimage" "${seeds[@]}" \
		"$here/vm/check.sh" "$build" "$results" "$pattern")
	;;
*)
	die "unknown mode $mode"
	;;
esac
log=$logs/vm-$mode.log

# Stream what the guest writes to its report while the VM runs.
: > "$results/out.log"
timeout -k 10 "$VM_TIMEOUT" "${vng[@]}" --verbose --exec "$cmd" > "$log" 2>&1 &
vm_pid=$!
# timeout(1) leads its own process group: take QEMU down with us.
trap 'kill -TERM -- -"$vm_pid" 2>/dev/null; exit 130' INT TERM
tail -n +1 -F --pid="$vm_pid" "$results/out.log" 2>/dev/null &
tail_pid=$!
wait "$vm_pid"
rc=$?
wait "$tail_pid" 2>/dev/null
trap - INT TERM

finished=1
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "vm: the VM did not finish within ${VM_TIMEOUT}s and was killed; console log: $log" >&2
	finished=0
elif [ ! -f "$results/done" ]; then
	echo "vm: the VM stopped before the guest finished (exit $rc); console log: $log" >&2
	tail -n 20 "$log" >&2
	finished=0
fi

case "$mode" in
run|bench)
	[ "$finished" = 1 ] || exit 1
	exit "$(cat "$results/done")"
	;;
check)
	cp "$results/dmesg.log" "$logs/vm-check.dmesg" 2>/dev/null
	tap=$results/tap.log
	[ -f "$tap" ] || tap=/dev/null
	awk -v dmesg="$results/dmesg.log" -v console="$log" -v finished="$finished" \
		-f "$here/tap-summary.awk" "$tap"
	rc=$?
	[ "$finished" = 1 ] || rc=1
	exit "$rc"
	;;
esac
