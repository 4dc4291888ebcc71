#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The operator's side of a queue binding: the stock ip binary with our
# link_macvtap.so plugin (IP_LIB_DIR) leases RX queues of a netdevsim
# device to a macvtap on creation and on change, shows them in ip -d
# link show (text and JSON), and refuses what the kernel refuses with
# the kernel's message.  The same leases are seen from the generic side
# with the kernel's YNL CLI and the netdev spec (queue-get).
#
# Runs unchanged on a real NIC: NSIM_IF=eth0 ip_link_lease.sh (the NIC
# needs queue management ops and at least 4 RX queues).
set -u

here=$(dirname "$(readlink -f "$0")")
export IP_LIB_DIR=$here
ksft_skip=4
src=${KSFT_SRC:-$here/../../../..}
ynl_cli=$src/../../net/ynl/pyynl/cli.py
spec=$src/../../../Documentation/netlink/specs/netdev.yaml

pass=0
fail=0
dev_id=$((900 + $$ % 90))
mvt=mvl$$
mvt2=mvm$$
nsim=""

ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) $*"; }
nok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }

cleanup()
{
	ip link del "$mvt" 2>/dev/null
	ip link del "$mvt2" 2>/dev/null
	[ -z "${NSIM_IF:-}" ] && echo "$dev_id" > /sys/bus/netdevsim/del_device 2>/dev/null
}
trap cleanup EXIT

if [ ! -f "$here/link_macvtap.so" ]; then
	echo "not ok 1 link_macvtap.so is not built next to this test"
	exit 1
fi
if [ -n "${NSIM_IF:-}" ]; then
	nsim=$NSIM_IF
else
	if [ ! -w /sys/bus/netdevsim/new_device ]; then
		echo "SKIP: netdevsim is not available (CONFIG_NETDEVSIM)"
		exit $ksft_skip
	fi
	echo "$dev_id 1 4" > /sys/bus/netdevsim/new_device || exit 1
	udevadm settle --timeout=10 >/dev/null 2>&1
	for _ in $(seq 50); do
		nsim=$(ls /sys/bus/netdevsim/devices/netdevsim$dev_id/net/ 2>/dev/null | head -n1)
		[ -n "$nsim" ] && break
		sleep 0.1
	done
	[ -n "$nsim" ] || { echo "not ok 1 no netdev for netdevsim$dev_id"; exit 1; }
fi
ip link set "$nsim" up
nsim_ifindex=$(cat "/sys/class/net/$nsim/ifindex")

# The lease of physical queue $1, as queue-get through the YNL CLI
# shows it: "IFINDEX QUEUE" of the virtual queue, or "none".
ynl_lease()
{
	/usr/bin/python3 "$ynl_cli" --spec "$spec" --do queue-get --output-json \
		--json "{\"ifindex\": $nsim_ifindex, \"id\": $1, \"type\": \"rx\"}" |
	/usr/bin/python3 -c '
import json, sys
q = json.load(sys.stdin)
l = q.get("lease")
print("%d %d" % (l["ifindex"], l["queue"]["id"]) if l else "none")'
}

# The leases ip -d -j link show gives for $1, comma-separated, or "none".
json_lease()
{
	ip -d -j link show "$1" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)[0]["linkinfo"]["info_data"]
print(",".join(str(q) for q in d["lease"]) if d.get("lease") else "none")'
}

# $1 must fail with exit status 2 (the kernel refused) and say $2.
refused()
{
	local want=$1 out
	shift
	out=$("$@" 2>&1) && { echo "# succeeded: $*"; return 1; }
	if ! grep -q -- "$want" <<< "$out"; then
		echo "# $*: $out"
		return 1
	fi
}

echo "TAP version 13"
echo "1..14"

check "help names the lease option" \
	bash -c 'ip link help macvtap 2>&1 | grep -q "lease { QUEUE"'

ip link add link "$nsim" name "$mvt" type macvtap mode passthru lease 3
check "ip link add ... type macvtap mode passthru lease 3" [ $? = 0 ]
mvt_ifindex=$(cat "/sys/class/net/$mvt/ifindex" 2>/dev/null || echo 0)
check "ip -d link show prints mode and lease" \
	bash -c "ip -d link show $mvt | grep -q 'macvtap mode passthru .*lease 3 '"
check "ip -d -j link show gives lease [3]" [ "$(json_lease "$mvt")" = 3 ]
check "queue-get (YNL CLI) shows queue 3 leased to the macvtap's queue 1" \
	[ "$(ynl_lease 3)" = "$mvt_ifindex 1" ]

ip link set "$mvt" type macvtap lease 3,1
check "ip link set ... lease 3,1 adds queue 1" \
	[ "$(json_lease "$mvt")" = "3,1" -a "$(ynl_lease 1)" = "$mvt_ifindex 2" ]

check "leaving a held queue out is refused, with the kernel's reason" \
	refused "all together" ip link set "$mvt" type macvtap lease 1
check "a queue the device lacks is refused" \
	refused "no RX queue 9" ip link set "$mvt" type macvtap lease 3,1,9
check "the refused requests changed nothing" [ "$(json_lease "$mvt")" = "3,1" ]

out=$(ip link set "$mvt" type macvtap lease 1,1 2>&1)
check "a queue listed twice is refused by ip itself" \
	[ $? = 1 -a -n "$(grep "listed twice" <<< "$out")" ]

ip link set "$mvt" type macvtap lease none
check "lease none gives every queue back" \
	[ "$(json_lease "$mvt")" = none -a "$(ynl_lease 3)" = none -a \
	  "$(ynl_lease 1)" = none ]

ip link set "$mvt" type macvtap lease 2
ip link del "$mvt"
check "deleting the macvtap gives its queue back" [ "$(ynl_lease 2)" = none ]

ip link add link "$nsim" name "$mvt2" type macvtap mode bridge lease 0,2
check "a new bridge-mode macvtap takes queues 0 and 2" \
	[ "$(json_lease "$mvt2")" = "0,2" ]

check "a queue leased already is refused, and no macvtap is left" \
	bash -c "! ip link add link $nsim name $mvt type macvtap mode bridge lease 2 2>/tmp/ill.$$ &&
		 grep -q 'in use' /tmp/ill.$$ && ! ip link show $mvt 2>/dev/null"
rm -f /tmp/ill.$$

echo "# $pass passed, $fail failed (ip $(ip -V | sed 's/.*iproute2-//; s/,.*//'), plugin $here/link_macvtap.so)"
[ "$fail" = 0 ]
