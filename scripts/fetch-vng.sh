#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch virtme-ng (an arch-all Python package of Debian 13) through the
# private apt configuration and unpack it under $BUILD/tools/vng.  It runs
# with Debian 12's python3 and the python3-argcomplete and python3-requests
# packages that deps.sh installs.
#
# Usage: fetch-vng.sh BUILD_DIR
set -euo pipefail

build=${1:?usage: fetch-vng.sh BUILD_DIR}
mkdir -p "$build"
build=$(cd "$build" && pwd)
pkg=virtme-ng
dest=$build/tools/vng
papt_who=fetch-vng

. "$(dirname "$0")/lib-apt.sh"

[ -f "$dest/.unpacked" ] && exit 0

papt_init "$build"
papt_update
version=$(papt_candidate "$pkg")
[ -n "$version" ] && [ "$version" != "(none)" ] || papt_die "$pkg: not found in trixie"

echo "fetch-vng: downloading $pkg $version"
deb=$(papt_download "$pkg=$version")
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
dpkg -x "$deb" "$dest" || papt_die "dpkg -x $deb failed"
echo "$version" > "$dest/.unpacked"
echo "fetch-vng: $pkg $version unpacked in $dest"
