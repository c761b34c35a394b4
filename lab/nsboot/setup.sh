# setup.sh is PID 1 of the machine's new namespaces until it becomes
# systemd. It builds the machine's root: an overlayfs over the host's /
# whose upper layer is a tmpfs, so nothing the machine writes reaches the
# host's files; its own /proc (with /proc/sys read-only), a read-only /sys,
# a cgroup2 tree rooted at the machine's cgroup, a tmpfs /dev with a few
# device nodes and its own devpts, tmpfs /run and /tmp; its hostname,
# machine-id and an empty fstab; the units that must not run masked and a
# small target to boot. Then it chroots there and execs systemd.
#
# Environment: NSBOOT_BASE (an empty host directory to build in),
# NSBOOT_HOSTNAME, NSBOOT_MACHINE_ID, NSBOOT_TARGET, NSBOOT_MASK (unit
# names, separated by spaces).
# Arguments: host directories to bind-mount at the same path inside.
set -eu
base=$NSBOOT_BASE
mount -t tmpfs -o mode=0755 nsboot "$base"
mkdir "$base/upper" "$base/work" "$base/root"
mount -t overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" nsboot "$base/root"
r=$base/root

mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
mount --bind "$r/proc/sys" "$r/proc/sys"
mount -o remount,bind,ro "$r/proc/sys"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$r/sys/fs/cgroup"

mount -t tmpfs -o mode=0755,nosuid tmpfs "$r/dev"
for d in null zero full random urandom tty; do
	touch "$r/dev/$d"
	mount --bind "/dev/$d" "$r/dev/$d"
done
mkdir "$r/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"

mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$r/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/tmp"
for d in "$@"; do
	mkdir -p "$r$d"
	mount --bind "$d" "$r$d"
done

etc=$r/etc
echo "$NSBOOT_HOSTNAME" >"$etc/hostname"
echo "$NSBOOT_MACHINE_ID" >"$etc/machine-id"
echo "# nsboot: this machine mounts nothing" >"$etc/fstab"
for u in $NSBOOT_MASK; do
	ln -sfn /dev/null "$etc/systemd/system/$u"
done
cat >"$etc/systemd/system/$NSBOOT_TARGET" <<UNIT
[Unit]
Description=nsboot machine $NSBOOT_HOSTNAME
Requires=sysinit.target dbus.socket dbus.service
After=sysinit.target dbus.socket dbus.service
AllowIsolate=yes
UNIT
hostname "$NSBOOT_HOSTNAME"

# container= makes systemd behave as in a container: it reads no kernel
# command line, loads no kernel modules, and at poweroff touches no swap,
# loop or device-mapper device; it only ends its PID namespace. Without
# CAP_SYS_MODULE and CAP_SYS_TIME nothing in the machine can load a module
# into the host's kernel or set the host's clock (units that would are
# skipped by their ConditionCapability=).
exec setpriv --bounding-set -sys_module,-sys_time \
	env -i container=nsboot PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	chroot "$r" /lib/systemd/systemd --system "--unit=$NSBOOT_TARGET"
