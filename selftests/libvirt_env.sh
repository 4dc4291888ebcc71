#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian 12's stock libvirtd (9.0), started by hand for libvirt_guest: no
# systemd, dbus, polkit, cgroups, virtlogd or virtlockd, on the test VM's
# read-only root filesystem.  Run it in a mount namespace of its own (the
# test unshares one): it mounts tmpfs on the directories libvirtd writes,
# and a copy of CONFDIR (qemu.conf, hooks/) on /etc/libvirt.
#
#   libvirt_env.sh start CONFDIR CACHEDIR   CACHEDIR keeps QEMU's probed
#                                            capabilities across starts
#   libvirt_env.sh stop
set -eu

pidfile=/run/libvirt-guest-test.pid

# A writable directory: tmpfs on it if it exists, else an overlay on its
# parent (whose contents stay visible) and the directory in there.
writable_dir()
{
	local d=$1 p t

	t="$d/.w$$"
	if [ -d "$d" ] && : 2>/dev/null > "$t"; then
		rm -f "$t"
		return 0
	fi
	if [ -d "$d" ]; then
		mount -t tmpfs -o mode=0755 tmpfs "$d"
		return 0
	fi
	p=$(dirname "$d")
	t="$p/.w$$"
	if ! : 2>/dev/null > "$t"; then
		mkdir -p "/run/lvg-ov$p/u" "/run/lvg-ov$p/w"
		mount -t overlay overlay \
			-o "lowerdir=$p,upperdir=/run/lvg-ov$p/u,workdir=/run/lvg-ov$p/w" "$p"
	fi
	rm -f "$t"
	mkdir -p "$d"
}

start()
{
	local conf=$1 cache=$2

	: 2>/dev/null > /run/.w$$ || mount -t tmpfs -o mode=0755 tmpfs /run
	rm -f /run/.w$$
	mkdir -p /run/libvirt

	# The qemu driver looks up its built-in user and group before it
	# reads qemu.conf (which says root) and will not start without
	# them; libvirt-daemon-system would create them.
	if ! getent passwd libvirt-qemu >/dev/null || ! getent group libvirt-qemu >/dev/null; then
		mkdir -p /run/lvg-passwd
		cp /etc/passwd /etc/group /run/lvg-passwd/
		getent passwd libvirt-qemu >/dev/null ||
			echo 'libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin' \
				>> /run/lvg-passwd/passwd
		getent group libvirt-qemu >/dev/null ||
			echo 'libvirt-qemu:x:64055:' >> /run/lvg-passwd/group
		mount --bind /run/lvg-passwd/passwd /etc/passwd
		mount --bind /run/lvg-passwd/group /etc/group
	fi

	mkdir -p /etc/libvirt 2>/dev/null || writable_dir /etc/libvirt
	mount -t tmpfs -o mode=0755 tmpfs /etc/libvirt
	cp -a "$conf"/. /etc/libvirt/
	for d in /var/lib/libvirt /var/log/libvirt; do
		writable_dir "$d"
	done
	writable_dir /var/cache/libvirt
	mount --bind "$cache" /var/cache/libvirt
	mkdir -p /var/log/libvirt/qemu

	/usr/sbin/libvirtd -d -p "$pidfile"
	for _ in $(seq 300); do
		[ -S /run/libvirt/libvirt-sock ] && return 0
		sleep 0.1
	done
	echo "libvirt_env: libvirtd did not start; its log:" >&2
	tail -n 20 /var/log/libvirt/libvirtd.log >&2 2>/dev/null
	return 1
}

stop()
{
	local pid

	pid=$(cat "$pidfile" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$pidfile" /run/libvirt/libvirt-sock
	# Let the caller remove CACHEDIR.
	if mountpoint -q /var/cache/libvirt; then
		umount /var/cache/libvirt
	fi
}

case "${1:-}" in
start) start "${2:?CONFDIR}" "${3:?CACHEDIR}" ;;
stop) stop ;;
*) echo "usage: libvirt_env.sh start CONFDIR CACHEDIR | stop" >&2; exit 2 ;;
esac
