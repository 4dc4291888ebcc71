#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own netdevsim tests, run against our netdevsim: the NIC
# model must not break what the stock driver does.  They run from the
# kernel's selftests source tree (KSFT_SRC), as their authors run them.
#
# A stock case is left out only where this machine lacks what it needs,
# and the SKIP line names it:
#   - BPF objects (net/lib/*.bpf.o) need clang and libbpf's generated
#     headers, which our build does not make (yet);
#   - net/lib/xdp_helper is built along with those objects;
#   - "ethtool --disable-netlink" needs ethtool newer than Debian 12's 6.1.

ksft_skip=4
src=${KSFT_SRC:-}

if [ -z "$src" ] || [ ! -d "$src/drivers/net" ]; then
	echo "SKIP: the kernel selftests source (KSFT_SRC) is not available"
	exit $ksft_skip
fi
if [ ! -w /sys/bus/netdevsim/new_device ]; then
	echo "SKIP: netdevsim is not available (CONFIG_NETDEVSIM)"
	exit $ksft_skip
fi

# name|directory|command|cases left out|why
tests=(
	"stats.py|drivers/net|/usr/bin/python3 ./stats.py||"
	"nl_netdev.py|net|/usr/bin/python3 ./nl_netdev.py||"
	"queues.py|drivers/net|/usr/bin/python3 ./queues.py -T check_xsk|check_xsk|needs net/lib/xdp_helper, built along with the BPF objects, not built here"
	"hds.py|drivers/net|/usr/bin/python3 ./hds.py -T set_xdp -T ioctl -T ioctl_set_xdp|set_xdp ioctl ioctl_set_xdp|set_xdp needs BPF objects, not built here; ioctl needs ethtool --disable-netlink (ethtool > 6.1)"
	"ping.py|drivers/net|/usr/bin/python3 ./ping.py -t test_default_v4 -t test_default_v6|test_xdp_*|need BPF objects, not built here"
	"peer.sh|drivers/net/netdevsim|bash ./peer.sh||"
	"ethtool-features.sh|drivers/net/netdevsim|bash ./ethtool-features.sh||"
	"ethtool-coalesce.sh|drivers/net/netdevsim|bash ./ethtool-coalesce.sh||"
	"ethtool-pause.sh|drivers/net/netdevsim|bash ./ethtool-pause.sh||"
	"ethtool-fec.sh|drivers/net/netdevsim|bash ./ethtool-fec.sh||"
)

# ping.py gives each ping half a second; a KASAN kernel under TCG takes
# longer to resolve the first neighbour.
if dmesg 2>/dev/null | grep -q "KernelAddressSanitizer initialized"; then
	tests[4]="ping.py|drivers/net|/usr/bin/python3 ./ping.py -t test_default_v6|test_default_v4 test_xdp_*|test_default_v4: its 0.5 s ping deadline is too short on a KASAN kernel under TCG; test_xdp_*: need BPF objects, not built here"
fi

echo "TAP version 13"
n=0
fail=0
child=
log=$(mktemp)
# When the runner's timeout kills us, take the running stock test along.
trap '[ -n "$child" ] && kill "$child" 2>/dev/null; rm -f "$log"; exit 143' TERM INT
for t in "${tests[@]}"; do
	IFS='|' read -r name dir cmd left why <<< "$t"
	n=$((n + 1))
	(cd "$src/$dir" && exec timeout 600 $cmd) > "$log" 2>&1 &
	child=$!
	wait $child
	rc=$?
	sed 's/^/# /' "$log" | grep -E '^# (not )?ok |^# # Totals|PASSED|FAILED|FAIL:' || true
	# A python test that fails prints "not ok"; a shell test its count.
	if [ $rc -ne 0 ] || grep -qE '^not ok |FAILED' "$log"; then
		tail -n 30 "$log" | sed 's/^/# /'
		echo "not ok $n $name # exit=$rc"
		fail=$((fail + 1))
	elif grep -qi 'skipping test' "$log"; then
		echo "not ok $n $name # the stock test skipped itself:"
		sed 's/^/# /' "$log" | tail -n 3
		fail=$((fail + 1))
	else
		echo "ok $n $name"
	fi
	if [ -n "$left" ]; then
		n=$((n + 1))
		echo "ok $n $name: $left # SKIP $why"
	fi
done
echo "1..$n"
rm -f "$log"
[ $fail -eq 0 ]
