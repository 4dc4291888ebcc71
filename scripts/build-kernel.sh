#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure (kconfig.sh) and build the overlaid tree into OBJ: bzImage and
# the uapi headers the selftests compile against.  Called by the Makefile,
# which exports KMAKE-style settings through the environment.
#
# Usage: build-kernel.sh OBJ FRAGMENT...
set -euo pipefail

obj=${1:?usage: build-kernel.sh OBJ FRAGMENT...}
shift
here=$(cd "$(dirname "$0")" && pwd)
tree=${CCACHE_BASEDIR:?run from the Makefile}/linux
mkdir -p "$obj"
obj=$(cd "$obj" && pwd)
logs=$CCACHE_BASEDIR/logs
log=$logs/$(basename "$obj").log
jobs=$(( $(nproc) + 1 ))

mkdir -p "$logs"
"$here/kconfig.sh" "$tree" "$obj" "$@"

kmake=(make -C "$tree" O="$obj" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc"
       KBUILD_BUILD_TIMESTAMP=@0 KBUILD_BUILD_USER=vhost KBUILD_BUILD_HOST=build
       -j"$jobs")

echo "kernel: building $(cat "$CCACHE_BASEDIR/linux-source.version") in $obj (log: $log)"
start=$(date +%s)
if ! "${kmake[@]}" bzImage headers > "$log" 2>&1; then
	grep -E -m 20 'error:|Error [0-9]|\*\*\*' "$log" >&2 || tail -n 20 "$log" >&2
	echo "kernel: build failed; see $log" >&2
	exit 1
fi
echo "kernel: $obj/arch/x86/boot/bzImage ready in $(( $(date +%s) - start ))s"
