#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian 12 packages the build, the VM and the tests need, if
# any is missing.  Only the system's own apt sources are used.
#
# Usage: deps.sh [PACKAGE...]
set -euo pipefail

pkgs=(
	# kernel build
	bc bison build-essential ccache cpio flex kmod libelf-dev libssl-dev
	patch perl python3 rsync xz-utils
	# the VM: QEMU and what virtme-ng needs to run
	busybox-static file python3-argcomplete python3-pkg-resources
	python3-requests qemu-system-x86 udev
	# inside the VM, the tests (the stock netdevsim tests: ping, socat,
	# and the YNL Python library's YAML parser)
	ethtool iproute2 iputils-ping procps python3-yaml socat
	# the kernel's YNL CLI (tools/net/ynl), which checks the spec against
	# its schema
	python3-jsonschema
	# libvirt_guest: Debian's stock libvirtd starts a guest (no
	# libvirt-daemon-system: the test starts libvirtd by hand)
	libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu
)

# With arguments: only those packages (what one target alone needs).
[ $# -gt 0 ] && pkgs=("$@")

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
log=$(mktemp /tmp/deps.XXXXXX.log)
if ! { apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
	--no-install-recommends "${missing[@]}"; } > "$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "deps: apt-get install failed for: ${missing[*]}; see $log" >&2
	exit 1
fi
rm -f "$log"
