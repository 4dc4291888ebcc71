#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the kernel config: tinyconfig, then the fragments merged in order,
# then olddefconfig.  Every option a fragment asks for is checked in the
# result, so a dependency we missed fails here, by name, instead of as a
# mysterious test failure in the VM.
#
# Usage: kconfig.sh TREE OBJ_DIR FRAGMENT...
set -euo pipefail

tree=${1:?usage: kconfig.sh TREE OBJ_DIR FRAGMENT...}
obj=${2:?usage: kconfig.sh TREE OBJ_DIR FRAGMENT...}
shift 2
mkdir -p "$obj"
obj=$(cd "$obj" && pwd)

die() { echo "kconfig: $*" >&2; exit 1; }

cat "$@" > "$obj/.fragments.new"
if [ -f "$obj/.config" ] && [ -f "$obj/.fragments" ] &&
   cmp -s "$obj/.fragments" "$obj/.fragments.new" &&
   [ "$obj/.config" -nt "$tree/Makefile" ]; then
	rm -f "$obj/.fragments.new"
	exit 0
fi

log=$obj/kconfig.log
{
	make -C "$tree" O="$obj" ARCH=x86_64 tinyconfig
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$@"
	make -C "$tree" O="$obj" ARCH=x86_64 olddefconfig
} > "$log" 2>&1 || die "configuring the kernel failed; see $log"

missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		opt=${line%%=*}
		if grep -q "^$opt=" "$obj/.config"; then
			echo "kconfig: $opt is set, fragment wants it off" >&2
			missing=1
		fi
		;;
	CONFIG_*=*)
		if ! grep -qx "$line" "$obj/.config"; then
			have=$(grep "^${line%%=*}=" "$obj/.config" || echo "${line%%=*} unset")
			echo "kconfig: fragment wants $line, config has $have" >&2
			missing=1
		fi
		;;
	esac
done < "$obj/.fragments.new"
[ "$missing" = 0 ] || die "the config lacks options the fragments ask for (a dependency is missing)"
mv "$obj/.fragments.new" "$obj/.fragments"
echo "kconfig: $obj/.config ready"
