#!/bin/bash
# Builds the Debian 12 guest the VM tier boots (systemd as PID 1, pure cgroup v2), or finds it
# already built, and prints the directory that holds it: vmlinuz, initrd.img, disk.img.
#
#   tests/vm/build-image.sh            build when needed, print the image directory
#   tests/vm/build-image.sh --key      print the cache key only
#
# The image is cached under $MDRUN_VM_CACHE (default /var/cache/mdrun-test-vm)/<key>, where
# <key> is a hash of this script and of tests/vm/guest/*: change either and the next run
# rebuilds; older keys are removed then. A build goes to a temporary directory that is
# renamed into place only when complete, under a lock, so an interrupted or concurrent build
# never leaves a half-made image behind.
#
# Network: only Debian's package mirror (the one in apt's own sources), for the host packages
# (debootstrap, qemu) and the guest's packages. Needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
trap 'exit 130' INT TERM HUP # so that the EXIT trap removes a half-made build
cache=${MDRUN_VM_CACHE:-/var/cache/mdrun-test-vm}

# The guest's packages on top of debootstrap's minbase. systemd, dbus and udev: a real
# systemd host. kmod: overlay and 9p are modules. linux-image-amd64: the kernel qemu boots.
# The scenarios use util-linux (mount, findmnt), procps (ps, pgrep) and busybox-static
# (the busybox image is made from it, as on the host); network_in_scope uses ip and nft
# (iproute2, nftables).
guest_packages=systemd,systemd-sysv,dbus,udev,kmod,linux-image-amd64,busybox-static,util-linux,procps,iproute2,nftables

key() {
	cat "$here/build-image.sh" "$here"/guest/* | sha256sum | cut -c1-16
}

log() { echo "build-image: $*" >&2; }

need() { # install the host packages that are missing
	local p miss=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || miss+=("$p")
	done
	[ ${#miss[@]} -eq 0 ] && return 0
	log "installing ${miss[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends "${miss[@]}" >&2
}

# The mirror apt itself uses for bookworm: the only network the build is allowed.
mirror() {
	apt-get indextargets --format '$(REPO_URI)' 'Release: bookworm' 'Identifier: Packages' |
		grep -v -- '-security' | head -n1
}

configure_guest() { # $1: the rootfs
	local r=$1
	echo mdvm >"$r/etc/hostname"
	echo '# root is mounted rw by the kernel (root=/dev/vda rw)' >"$r/etc/fstab"
	mkdir -p "$r/share"
	install -m 0755 "$here/guest/vm-run-share" "$r/usr/local/sbin/vm-run-share"
	install -m 0644 "$here/guest/vm-run-share.service" "$r/etc/systemd/system/vm-run-share.service"
	ln -sf /etc/systemd/system/vm-run-share.service "$r/etc/systemd/system/multi-user.target.wants/"
	ln -sf /lib/systemd/system/multi-user.target "$r/etc/systemd/system/default.target"
	# Nothing periodic or interactive in a test guest: it would compete for the CPU.
	local u
	for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
		fstrim.timer serial-getty@ttyS0.service getty@tty1.service systemd-timesyncd.service \
		systemd-networkd-wait-online.service; do
		ln -sf /dev/null "$r/etc/systemd/system/$u"
	done
	# A small initrd (virtio-blk and ext4 only; 9p and overlay load later from the rootfs):
	# 8 MB instead of 37 MB, which TCG decompresses noticeably faster.
	mkdir -p "$r/etc/initramfs-tools-vm/scripts"
	printf 'MODULES=list\nBUSYBOX=auto\nCOMPRESS=gzip\nRUNSIZE=10%%\nFSTYPE=ext4\n' \
		>"$r/etc/initramfs-tools-vm/initramfs.conf"
	printf 'virtio_pci\nvirtio_blk\next4\n' >"$r/etc/initramfs-tools-vm/modules"
}

build() { # $1: the directory to fill
	local out=$1 r=$1/rootfs m t0=$SECONDS
	m=$(mirror)
	[ -n "$m" ] || { log "no bookworm mirror in apt's sources"; exit 1; }
	log "debootstrap bookworm from $m (a few minutes)"
	debootstrap --variant=minbase --include="$guest_packages" bookworm "$r" "$m" >"$out/debootstrap.log" 2>&1 || {
		tail -n 30 "$out/debootstrap.log" >&2
		log "debootstrap failed (log above)"
		exit 1
	}
	log "debootstrap took $((SECONDS - t0)) s"
	rm -f "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*_Packages
	configure_guest "$r"
	cp "$r"/boot/vmlinuz-* "$out/vmlinuz"
	chroot "$r" mkinitramfs -d /etc/initramfs-tools-vm -o /tmp/initrd.vm "$(ls "$r/lib/modules")" >&2
	mv "$r/tmp/initrd.vm" "$out/initrd.img"
	# mkfs.ext4 -d copies the directory into the new filesystem: no loop device, no mount.
	mkfs.ext4 -q -F -L root -d "$r" "$out/disk.img" 2G >&2
	rm -rf "$r"
	log "image built in $((SECONDS - t0)) s"
}

main() {
	local k dir tmp
	k=$(key)
	if [ "${1:-}" = --key ]; then
		echo "$k"
		return 0
	fi
	[ "$(id -u)" = 0 ] || { log "run as root (debootstrap, chroot)"; exit 1; }
	dir=$cache/$k
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	if [ ! -e "$dir/disk.img" ]; then
		need debootstrap e2fsprogs
		tmp=$(mktemp -d "$cache/.build.XXXXXX")
		# shellcheck disable=SC2064 # expand now: the trap must remove this build's directory
		trap "rm -rf '$tmp'" EXIT
		build "$tmp"
		rm -f "$tmp/debootstrap.log"
		mv "$tmp" "$dir"
		trap - EXIT
		# Only the current image is worth its disk space.
		find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$k" -exec rm -rf {} +
	fi
	echo "$dir"
}

main "$@"
