# enter.sh runs on the host, started by Boot. It moves this shell into the
# machine's fresh cgroups, so that the cgroup namespace made next is rooted
# there, then makes the namespaces and runs the setup script ($NSBOOT_SETUP)
# as PID 1 of the new PID namespace. --kill-child: if unshare dies, so does
# the machine. --propagation private: no mount made inside reaches the host.
# With NSBOOT_NET=true the machine gets a network namespace of its own too.
#
# Arguments: cgroup-dir... -- host-dir-to-bind...
set -eu
while [ "$1" != "--" ]; do
	echo $$ >"$1/cgroup.procs"
	shift
done
shift
net=
if [ "${NSBOOT_NET:-false}" = true ]; then
	net=--net
fi
exec unshare --pid --fork --kill-child --mount --uts --ipc --cgroup $net --propagation private \
	/bin/sh -c 'eval "$NSBOOT_SETUP"' nsboot-setup "$@"
