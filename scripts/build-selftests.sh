#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build and install our kselftests against the uapi headers of the kernel
# built in OBJ.  The result, with run_kselftest.sh, is in DEST.
#
# Usage: build-selftests.sh OBJ DEST
set -euo pipefail

obj=$(cd "${1:?usage: build-selftests.sh OBJ DEST}" && pwd)
dest=${2:?usage: build-selftests.sh OBJ DEST}
tree=${CCACHE_BASEDIR:?run from the Makefile}/linux
log=$CCACHE_BASEDIR/logs/selftests.log
targets="drivers/net/vhost_net"

mkdir -p "$dest" "$(dirname "$log")"
dest=$(cd "$dest" && pwd)
if ! make -C "$tree/tools/testing/selftests" O="$obj" TARGETS="$targets" \
	KSFT_INSTALL_PATH="$dest/kselftest_install" install > "$log" 2>&1; then
	grep -E -m 20 'error|warning' "$log" >&2 || tail -n 20 "$log" >&2
	echo "selftests: build failed; see $log" >&2
	exit 1
fi
if grep -q 'warning:' "$log"; then
	grep 'warning:' "$log" >&2
	echo "selftests: the build has warnings; see $log" >&2
	exit 1
fi
echo "selftests: installed in $dest/kselftest_install"
