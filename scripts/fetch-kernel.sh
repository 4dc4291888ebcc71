#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's linux-source-7.3 (trixie-backports) through the private apt
# configuration (lib-apt.sh) and unpack it as the pristine tree.  Any 7.3.y
# point release is accepted; the exact version used is recorded in
# $BUILD/linux-source.version.
#
# Usage: fetch-kernel.sh BUILD_DIR
set -euo pipefail

build=${1:?usage: fetch-kernel.sh BUILD_DIR}
mkdir -p "$build"
build=$(cd "$build" && pwd)
pkg=linux-source-7.3
pristine=$build/linux-pristine
papt_who=fetch-kernel

. "$(dirname "$0")/lib-apt.sh"

[ -f "$pristine/.unpacked" ] && exit 0

papt_init "$build"
echo "fetch-kernel: looking for $pkg in trixie-backports"
papt_update
version=$(papt_candidate "$pkg")
case "$version" in
7.3.*) ;;
*) papt_die "$pkg: no 7.3.y version in trixie-backports (found '${version:-nothing}')" ;;
esac

echo "fetch-kernel: downloading $pkg $version"
deb=$(papt_download "$pkg=$version")

rm -rf "$build/linux-deb" "$pristine.tmp"
dpkg -x "$deb" "$build/linux-deb" || papt_die "dpkg -x $deb failed"
tarball=$(ls "$build"/linux-deb/usr/src/linux-source-7.3.tar.* 2>/dev/null | head -n1)
[ -n "$tarball" ] || papt_die "$deb holds no usr/src/linux-source-7.3.tar.*"

echo "fetch-kernel: unpacking $(basename "$tarball")"
mkdir -p "$pristine.tmp"
tar -C "$pristine.tmp" --strip-components=1 -xf "$tarball" || papt_die "unpacking $tarball failed"
rm -rf "$build/linux-deb" "$pristine"
mv "$pristine.tmp" "$pristine"
echo "$version" > "$build/linux-source.version"
touch "$pristine/.unpacked"
echo "fetch-kernel: $pkg $version unpacked in $pristine"
