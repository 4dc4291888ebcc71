# SPDX-License-Identifier: GPL-2.0
#
# Guest-bound RX queues for KVM/vhost: build the kernel with our changes,
# boot it in QEMU and run the selftests.
#
#   make run              build if needed, boot, show the feature at work
#   make check            build if needed, boot, run every selftest
#   make check T=REGEX    only the selftests whose name matches
#   make check-debug      the same on a KASAN/kmemleak/lockdep kernel
#   make kernel           build the kernel only
#   make vm               a shell in the VM
#   make bench            the benchmarks
#   make lint             checkpatch --strict and a W=1 build of our code
#   make install-tools    the ip plugin and the libvirt hook, on this host
#
# Everything is built under build/ (BUILD=...).  Each step installs what it
# needs from Debian 12 and fetches the kernel source itself.

BUILD		?= $(CURDIR)/build
T		?=

KOBJ		:= $(BUILD)/kbuild
KOBJ_DEBUG	:= $(BUILD)/kbuild-debug
FRAGMENTS	:= kconfig/vm.config selftests/config
SCRIPTS		:= $(CURDIR)/scripts

export CCACHE_DIR	?= $(HOME)/.ccache
export CCACHE_BASEDIR	:= $(BUILD)
export CCACHE_MAXSIZE	?= 20G

.PHONY: all run check check-debug kernel kernel-debug vm bench lint install-tools \
	deps source overlay vng selftests selftests-debug clean distclean help

all: kernel

help:
	@sed -n '3,16p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@$(SCRIPTS)/deps.sh

source: deps
	@$(SCRIPTS)/fetch-kernel.sh $(BUILD)

overlay: source
	@$(SCRIPTS)/overlay.sh $(CURDIR) $(BUILD)

# After source: both use the private apt lists in $(BUILD)/apt.
vng: deps source
	@$(SCRIPTS)/fetch-vng.sh $(BUILD)

# kernel and kernel-debug: scripts/build-kernel.sh OBJ FRAGMENT...
kernel: overlay
	@$(SCRIPTS)/build-kernel.sh $(KOBJ) $(FRAGMENTS)

kernel-debug: overlay
	@$(SCRIPTS)/build-kernel.sh $(KOBJ_DEBUG) $(FRAGMENTS) kconfig/debug.config

selftests: kernel
	@$(SCRIPTS)/build-selftests.sh $(KOBJ) $(BUILD)/kselftest

selftests-debug: kernel-debug
	@$(SCRIPTS)/build-selftests.sh $(KOBJ_DEBUG) $(BUILD)/kselftest

check: selftests vng
	@$(SCRIPTS)/vm.sh check $(BUILD) $(KOBJ)/arch/x86/boot/bzImage "$(T)"

check-debug: selftests-debug vng
	@VM_MEMORY=4G $(SCRIPTS)/vm.sh check $(BUILD) $(KOBJ_DEBUG)/arch/x86/boot/bzImage "$(T)"

run: selftests vng
	@$(SCRIPTS)/vm.sh run $(BUILD) $(KOBJ)/arch/x86/boot/bzImage

vm: selftests vng
	@$(SCRIPTS)/vm.sh shell $(BUILD) $(KOBJ)/arch/x86/boot/bzImage

# BENCH_ARGS go to vhost_net_bench (see its header), e.g. BENCH_ARGS="-t 1".
BENCH_ARGS	?= -t 3 -g -q 2,4
bench: selftests vng
	@$(SCRIPTS)/vm.sh bench $(BUILD) $(KOBJ)/arch/x86/boot/bzImage "$(BENCH_ARGS)"
	@mkdir -p $(BUILD)/bench
	@cp $(BUILD)/results/bench.csv $(BUILD)/bench/receive.csv
	@cp $(BUILD)/results/pool.csv $(BUILD)/bench/pool.csv 2>/dev/null || true
	@cp $(BUILD)/results/out.log $(BUILD)/bench/receive.txt
	@echo "bench: tables in $(BUILD)/bench/receive.txt, CSV in $(BUILD)/bench/receive.csv and pool.csv"
	@$(SCRIPTS)/plot-bench.sh $(BUILD)/bench/receive.csv $(BUILD)/bench/receive.png

lint: kernel
	@$(SCRIPTS)/lint.sh $(CURDIR) $(BUILD) $(KOBJ)

# The userspace side on a host running this kernel (docs/user-guide.rst):
# the link_macvtap.so plugin the selftests load, and the libvirt hook.
# The hook looks for the plugin in /usr/local/lib/guest-bound-rxq unless
# /etc/libvirt/hooks/guest-bound-rxq.conf says otherwise; libvirtd runs
# the hooks it found when it started, so restart it after the first install.
PREFIX		?= /usr/local
KSFT_OUT	:= $(BUILD)/kselftest/kselftest_install/drivers/net/vhost_net
install-tools: selftests
	install -D -m 0644 $(KSFT_OUT)/link_macvtap.so \
		$(DESTDIR)$(PREFIX)/lib/guest-bound-rxq/link_macvtap.so
	install -D -m 0755 tools/virt/libvirt/guest-bound-rxq \
		$(DESTDIR)/etc/libvirt/hooks/qemu.d/guest-bound-rxq

clean:
	rm -rf $(BUILD)/kselftest $(BUILD)/results $(BUILD)/logs

distclean:
	rm -rf $(BUILD)
