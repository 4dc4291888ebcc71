#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a netdev reviewer runs first:
#   - scripts/checkpatch.pl --strict on every patch of the series and on
#     every new file the repository lays into the tree;
#   - a W=1 build of every kernel object we add or patch.
# Any error, warning or check fails.
#
# Usage: lint.sh REPO BUILD OBJ
set -uo pipefail

repo=$(cd "${1:?usage: lint.sh REPO BUILD OBJ}" && pwd)
build=$(cd "${2:?usage: lint.sh REPO BUILD OBJ}" && pwd)
obj=$(cd "${3:?usage: lint.sh REPO BUILD OBJ}" && pwd)
tree=$build/linux
log=$build/logs/lint.log
bad=0

mkdir -p "$(dirname "$log")"
: > "$log"

checkpatch() {
	local out

	out=$(cd "$tree" && perl scripts/checkpatch.pl --strict --show-types \
		--ignore FILE_PATH_CHANGES "$@" 2>&1)
	echo "$out" >> "$log"
	if ! echo "$out" | grep -q '^total: 0 errors, 0 warnings, 0 checks'; then
		echo "$out" | grep -E -A4 '^(ERROR|WARNING|CHECK)' >&2
		echo "lint: checkpatch: ${*: -1}" >&2
		bad=1
	fi
}

while read -r p _; do
	case "$p" in ''|'#'*) continue ;; esac
	checkpatch "$repo/patches/$p"
done < "$repo/patches/series"

new_files=$(cd "$repo" && find vhost net include drivers selftests tools \
	-type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
for f in $new_files; do
	checkpatch -f "$repo/$f"
done

# Kernel objects: our new .c files and the .c files the patches touch,
# at their place in the tree (see overlay.sh), selftests excluded.
objs=$(
	(cd "$repo" && find vhost net drivers -name '*.c' 2>/dev/null) |
		sed 's|^vhost/|drivers/vhost/|'
	sed -n 's|^+++ b/\(.*\.c\)$|\1|p' "$repo"/patches/*.patch 2>/dev/null |
		grep -v '^tools/'
)
objs=$(echo "$objs" | sed '/^$/d; s/\.c$/.o/' | sort -u)
if [ -n "$objs" ]; then
	# Rebuild them from scratch so every warning shows.
	for o in $objs; do rm -f "$obj/$o"; done
	if ! make -C "$tree" O="$obj" ARCH=x86_64 CC="ccache gcc" W=1 $objs >> "$log" 2>&1; then
		echo "lint: W=1 build failed; see $log" >&2
		bad=1
	elif grep -q 'warning:' "$log"; then
		grep 'warning:' "$log" >&2
		echo "lint: W=1 build has warnings" >&2
		bad=1
	fi
fi

if [ "$bad" = 0 ]; then
	echo "lint: clean ($(echo "$new_files" | sed '/^$/d' | wc -l) files, $(grep -cv '^#\|^$' "$repo/patches/series") patches, $(echo "$objs" | sed '/^$/d' | wc -l) objects with W=1)"
fi
exit "$bad"
