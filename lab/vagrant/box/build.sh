#!/bin/bash
# build.sh builds the Vagrant lab's local box: a Debian 12 machine made
# from Debian's packages only (mmdebstrap), for libvirt, with what every
# Vagrant box has (DHCP on the first NIC through systemd-networkd, sshd,
# a vagrant user with Vagrant's well-known insecure key and passwordless
# sudo, which `vagrant up` replaces with a key of its own) and what fleet
# needs (systemd, D-Bus). The disk has no boot loader: the Vagrantfile
# boots the kernel and initramfs kept beside the box.
#
# Usage: build.sh [CACHE_DIR]   (default /var/cache/fleet-vagrant-box: libvirt's
# QEMU, which runs as its own user, reads the kernel there, never in ~root)
#
# The result is cached under CACHE_DIR/KEY, KEY being a digest of this
# script: a second run with the script unchanged prints the paths and
# takes a second. It needs root (mmdebstrap, mkfs.ext4 -d), mmdebstrap,
# qemu-img and Vagrant's insecure public key (from Debian's vagrant
# package). The last line of its output is the cache directory, holding
# fleet-debian.box, vmlinuz and initrd.img.
set -euo pipefail

cache=${1:-/var/cache/fleet-vagrant-box}
key=$(sha256sum "$0" | cut -c1-16)
out=$cache/$key
say() { printf 'vagrant-box: %s\n' "$*" >&2; }

if [ -s "$out/fleet-debian.box" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ]; then
	say "cached: $out"
	echo "$out"
	exit 0
fi

for tool in mmdebstrap qemu-img mkfs.ext4 tar sha256sum; do
	if ! command -v "$tool" >/dev/null; then
		say "$tool is missing: apt-get install mmdebstrap qemu-utils e2fsprogs"
		exit 1
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	say "needs root (mmdebstrap's root mode, mkfs.ext4 -d keeping owners)"
	exit 1
fi
pubkey=$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub 2>/dev/null | head -n1 || true)
if [ -z "$pubkey" ]; then
	say "Vagrant's insecure public key is missing: apt-get install vagrant"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fleet-vagrant-box.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS

say "root filesystem from Debian's packages (mmdebstrap, about 2 minutes)"
cp "$pubkey" "$work/vagrant.pub"
cat >"$work/customize.sh" <<'HOOK'
#!/bin/sh
# Runs inside mmdebstrap's customize hook; $1 is the root filesystem.
set -eu
root=$1
echo fleet-box >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 fleet-box\n' >"$root/etc/hosts"
echo '/dev/vda / ext4 rw,relatime 0 1' >"$root/etc/fstab"
# DHCP on every Ethernet NIC: Vagrant's management network is the first,
# and private networks get their static addresses from Vagrant's own
# configuration of them.
cat >"$root/etc/systemd/network/80-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
chroot "$root" systemctl enable systemd-networkd.service systemd-resolved.service ssh.service
ln -sf /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
chroot "$root" useradd --create-home --shell /bin/bash vagrant
echo 'vagrant:vagrant' | chroot "$root" chpasswd
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/vagrant"
chmod 0440 "$root/etc/sudoers.d/vagrant"
install -d -m 0700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"
install -m 0600 -o 1000 -g 1000 "$root/tmp/vagrant.pub" "$root/home/vagrant/.ssh/authorized_keys"
rm -f "$root/tmp/vagrant.pub"
printf 'UseDNS no\n' >"$root/etc/ssh/sshd_config.d/vagrant.conf"
# Every VM makes host keys of its own at its first boot: none in the box.
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/systemd/system/ssh.service.d"
# (before Debian's own check of sshd's configuration, which needs them)
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
	>"$root/etc/systemd/system/ssh.service.d/host-keys.conf"
# No console login prompt to wait for, no time spent on a serial getty.
chroot "$root" systemctl mask serial-getty@ttyS0.service
HOOK
chmod +x "$work/customize.sh"
mmdebstrap --variant=minbase --quiet \
	--include=systemd,systemd-sysv,systemd-resolved,dbus,iproute2,udev,openssh-server,sudo,linux-image-amd64,ca-certificates \
	--customize-hook="upload $work/vagrant.pub /tmp/vagrant.pub" \
	--customize-hook="$work/customize.sh \"\$1\"" \
	bookworm "$work/rootfs.tar"

say "disk image (ext4, 4 GiB sparse, qcow2)"
mkdir "$work/rootfs"
tar -C "$work/rootfs" -xf "$work/rootfs.tar"
cp -L "$work/rootfs/vmlinuz" "$work/vmlinuz"
cp -L "$work/rootfs/initrd.img" "$work/initrd.img"
truncate -s 4G "$work/disk.raw"
mkfs.ext4 -q -F -L root -d "$work/rootfs" "$work/disk.raw"
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$work/box.img"

say "the box"
cat >"$work/metadata.json" <<'EOF'
{"provider": "libvirt", "format": "qcow2", "virtual_size": 4}
EOF
cat >"$work/Vagrantfile" <<'EOF'
# The fleet lab's local box: Debian 12, booted by libvirt from the
# kernel and initramfs kept beside the box (lab/vagrant/box/build.sh).
Vagrant.configure("2") do |config|
  config.ssh.username = "vagrant"
end
EOF
tar -C "$work" -cf "$work/fleet-debian.box" metadata.json Vagrantfile box.img

mkdir -p -m 0755 "$cache" "$out"
chmod 0644 "$work/fleet-debian.box" "$work/vmlinuz" "$work/initrd.img"
mv "$work/fleet-debian.box" "$work/vmlinuz" "$work/initrd.img" "$out/"
say "built in $((SECONDS - start)) s: $out ($(du -sh "$out" | cut -f1))"
echo "$out"
