#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay the repository onto the kernel tree.
#
#   $BUILD/linux-pristine  Debian's source as unpacked, never written to.
#   $BUILD/linux           the tree we build; only overlaid files differ.
#
# The desired state of every file we touch is first assembled in a staging
# directory: the patch series (patches/series, in order) is applied to
# pristine copies, and the repository's new files are copied in.  Only when
# every patch applied is the tree updated, and only files whose content
# changed are written, so an unchanged overlay rebuilds nothing.  Files that
# an earlier overlay touched and this one does not are restored from the
# pristine tree (or removed).  Running it again is always safe.
#
# Where the repository's new files land:
#   vhost/...      drivers/vhost/...
#   net/...        net/...
#   include/...    include/...
#   drivers/...    drivers/...
#   tools/...      tools/...
#   selftests/...  tools/testing/selftests/drivers/net/vhost_net/...
#
# Usage: overlay.sh REPO BUILD_DIR
set -euo pipefail

repo=$(cd "${1:?usage: overlay.sh REPO BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: overlay.sh REPO BUILD_DIR}" && pwd)
pristine=$build/linux-pristine
tree=$build/linux
stage=$build/overlay.stage
manifest=$build/overlay.manifest
selftest_dir=tools/testing/selftests/drivers/net/vhost_net

die() { echo "overlay: $*" >&2; exit 1; }

[ -f "$pristine/.unpacked" ] || die "no pristine tree in $pristine (run make source)"

if [ ! -d "$tree" ]; then
	echo "overlay: copying the pristine tree to $tree"
	rm -rf "$tree.tmp"
	cp -a "$pristine" "$tree.tmp"
	rm -f "$tree.tmp/.unpacked"
	mv "$tree.tmp" "$tree"
fi

rm -rf "$stage"
mkdir -p "$stage"

# New files: every file the repository keeps in a kernel directory.
stage_new() {
	local src=$1 dst=$2 f
	[ -d "$repo/$src" ] || return 0
	(cd "$repo/$src" && find . -type f ! -name '*.orig' ! -name '*.rej' ! -name '.*' -print) |
	while read -r f; do
		f=${f#./}
		mkdir -p "$(dirname "$stage/$dst/$f")"
		cp "$repo/$src/$f" "$stage/$dst/$f"
	done
}
stage_new vhost drivers/vhost
stage_new net net
stage_new include include
stage_new drivers drivers
stage_new tools tools
stage_new selftests "$selftest_dir"

# The patch series, applied in order to pristine copies of what it touches.
series=$repo/patches/series
if [ -f "$series" ]; then
	while read -r p _; do
		case "$p" in ''|'#'*) continue ;; esac
		[ -f "$repo/patches/$p" ] || die "patches/series names $p, which does not exist"
		# Paths as patch -p1 sees them: the first component dropped.
		for f in $(awk '/^\+\+\+ / { sub(/^[^\/]*\//, "", $2); print $2 }' "$repo/patches/$p"); do
			[ "$f" = dev/null ] && continue
			[ -e "$stage/$f" ] && continue
			if [ -f "$pristine/$f" ]; then
				mkdir -p "$(dirname "$stage/$f")"
				cp -p "$pristine/$f" "$stage/$f"
			fi
		done
		if ! out=$(patch -d "$stage" -p1 -F0 -N -s --batch --no-backup-if-mismatch -r - < "$repo/patches/$p" 2>&1); then
			echo "$out" >&2
			die "patch $p does not apply to linux-source $(cat "$build/linux-source.version" 2>/dev/null); the tree is unchanged"
		fi
	done < "$series"
fi

# Record the union first, so an interrupted sync is still undone next time.
new_list=$(cd "$stage" && find . -type f | sed 's|^\./||' | sort)
old_list=$(cat "$manifest" 2>/dev/null || true)
printf '%s\n%s\n' "$old_list" "$new_list" | sed '/^$/d' | sort -u > "$manifest.tmp"
mv "$manifest.tmp" "$manifest"

is_exec() { [ -x "$1" ] && echo x; }

changed=0
for f in $new_list; do
	# A change of content or of the executable bit (cp keeps the
	# mode of a file it overwrites, so the old file goes first).
	if ! cmp -s "$stage/$f" "$tree/$f" ||
	   [ "$(is_exec "$stage/$f")" != "$(is_exec "$tree/$f")" ]; then
		mkdir -p "$(dirname "$tree/$f")"
		rm -f "$tree/$f"
		cp "$stage/$f" "$tree/$f"
		changed=$((changed + 1))
	fi
done
for f in $old_list; do
	[ -e "$stage/$f" ] && continue
	if [ -f "$pristine/$f" ]; then
		# A fresh mtime, so kbuild rebuilds what the change had built.
		cmp -s "$pristine/$f" "$tree/$f" || cp "$pristine/$f" "$tree/$f"
	else
		rm -f "$tree/$f"
	fi
	changed=$((changed + 1))
done
printf '%s\n' $new_list | sed '/^$/d' > "$manifest"
echo "overlay: $(printf '%s\n' $new_list | sed '/^$/d' | wc -l) files overlaid, $changed updated"
