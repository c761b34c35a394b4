#!/bin/bash
# provision.sh installs fleet on one Flatcar machine of the Vagrant lab
# (see the Vagrantfile): fleetd and fleetctl from /tmp/fleet-upload into
# /opt/bin (Flatcar's /usr is read-only), /etc/fleet/fleet.conf, and
# fleetd.service, enabled and started. Running it again updates them.
#
# Arguments: NAME IP INITIAL_CLUSTER METADATA API_PORT AGENT_TTL
# With PROVISION_CONF_ONLY=FILE it only writes the fleet.conf to FILE
# (the lab's tests check it with fleetd's own configuration reader).
set -eu

if [ "$#" -ne 6 ]; then
	echo "usage: provision.sh NAME IP INITIAL_CLUSTER METADATA API_PORT AGENT_TTL" >&2
	exit 2
fi
name=$1 ip=$2 initial_cluster=$3 metadata=$4 api_port=$5 agent_ttl=$6
upload=/tmp/fleet-upload
conf=${PROVISION_CONF_ONLY:-/etc/fleet/fleet.conf}

if [ -z "${PROVISION_CONF_ONLY:-}" ]; then
	install -d -m 0755 /opt/bin /etc/fleet /var/lib/fleet
	install -m 0755 "$upload/fleetd" "$upload/fleetctl" /opt/bin/
	install -m 0644 "$upload/fleetd.service" /etc/systemd/system/fleetd.service
fi

cat >"$conf.new" <<CONF
# Written by the Vagrant lab's provision.sh for $name.
public_ip=$ip
metadata="$metadata"
agent_ttl=$agent_ttl
api_listen="unix:///var/run/fleet.sock,http://$ip:$api_port"
etcd_name=$name
etcd_initial_cluster="$initial_cluster"
etcd_peer_url=http://$ip:2380
etcd_client_url=http://$ip:2379
etcd_data_dir=/var/lib/fleet/etcd
CONF
mv "$conf.new" "$conf"
if [ -n "${PROVISION_CONF_ONLY:-}" ]; then
	exit 0
fi

systemctl daemon-reload
systemctl enable fleetd.service
systemctl restart fleetd.service
echo "$name: fleetd.service started; fleetctl --endpoint http://$ip:$api_port list-machines"
