#!/bin/bash
# provision.sh installs fleet on one Flatcar machine of the Vagrant lab
# (see the Vagrantfile): fleetd and fleetctl from /tmp/fleet-upload into
# /opt/bin (Flatcar's /usr is read-only), /etc/fleet/fleet.conf, the
# machine's certificates into /etc/fleet/tls, and fleetd.service,
# enabled and started. Running it again updates them.
#
# Arguments: NAME IP INITIAL_CLUSTER METADATA API_PORT AGENT_TTL SECURITY
# SECURITY is "tls" (the default of the Vagrantfile: the CA certificate
# and NAME.pem, NAME-key.pem are in /tmp/fleet-upload/tls; etcd and the
# API over TCP then speak TLS and require certificates the lab's CA
# signed) or "insecure" (plain HTTP, open to the private network).
# ETCD_REQUEST_TIMEOUT, ETCD_HEARTBEAT_INTERVAL and ETCD_ELECTION_TIMEOUT,
# when set, become etcd_request_timeout, etcd_heartbeat_interval and
# etcd_election_timeout (a CPU emulated by QEMU needs more than fleet's 1s
# for etcd to answer, and more than etcd's 100ms and 1s between its
# members' heartbeats, or they hold elections under load).
# With PROVISION_CONF_ONLY=FILE it only writes the fleet.conf to FILE
# (the lab's tests check it with fleetd's own configuration reader).
set -eu

if [ "$#" -ne 7 ] || { [ "$7" != tls ] && [ "$7" != insecure ]; }; then
	echo "usage: provision.sh NAME IP INITIAL_CLUSTER METADATA API_PORT AGENT_TTL tls|insecure" >&2
	exit 2
fi
name=$1 ip=$2 initial_cluster=$3 metadata=$4 api_port=$5 agent_ttl=$6 security=$7
upload=/tmp/fleet-upload
conf=${PROVISION_CONF_ONLY:-/etc/fleet/fleet.conf}
tls=/etc/fleet/tls

if [ -z "${PROVISION_CONF_ONLY:-}" ]; then
	install -d -m 0755 /opt/bin /etc/fleet /var/lib/fleet
	install -m 0755 "$upload/fleetd" "$upload/fleetctl" /opt/bin/
	install -m 0644 "$upload/fleetd.service" /etc/systemd/system/fleetd.service
	if [ "$security" = tls ]; then
		for f in ca.pem "$name.pem" "$name-key.pem"; do
			if [ ! -s "$upload/tls/$f" ]; then
				echo "provision.sh: $upload/tls/$f is missing: make vagrant-certs on the host, then vagrant provision" >&2
				exit 1
			fi
		done
		install -d -m 0700 "$tls"
		install -m 0644 "$upload/tls/ca.pem" "$upload/tls/$name.pem" "$tls/"
		install -m 0600 "$upload/tls/$name-key.pem" "$tls/"
		rm -f "$upload/tls/$name-key.pem"
	fi
fi

if [ "$security" = tls ]; then
	scheme=https
	files="ca=$tls/ca.pem cert=$tls/$name.pem key=$tls/$name-key.pem"
	# The member's certificate serves both listeners, is presented to
	# peers and to the member by fleetd, and serves the API.
	security_conf="etcd_peer_cafile=$tls/ca.pem
etcd_peer_certfile=$tls/$name.pem
etcd_peer_keyfile=$tls/$name-key.pem
etcd_client_cafile=$tls/ca.pem
etcd_client_certfile=$tls/$name.pem
etcd_client_keyfile=$tls/$name-key.pem
etcd_cafile=$tls/ca.pem
etcd_certfile=$tls/$name.pem
etcd_keyfile=$tls/$name-key.pem
api_cafile=$tls/ca.pem
api_certfile=$tls/$name.pem
api_keyfile=$tls/$name-key.pem"
else
	scheme=http
	files=""
	security_conf="etcd_insecure=true"
fi

cat >"$conf.new" <<CONF
# Written by the Vagrant lab's provision.sh for $name.
public_ip=$ip
metadata="$metadata"
agent_ttl=$agent_ttl
api_listen="unix:///var/run/fleet.sock,$scheme://$ip:$api_port"
etcd_name=$name
etcd_initial_cluster="$initial_cluster"
etcd_peer_url=$scheme://$ip:2380
etcd_client_url=$scheme://$ip:2379
etcd_data_dir=/var/lib/fleet/etcd
$security_conf
CONF
if [ -n "${ETCD_REQUEST_TIMEOUT:-}" ]; then
	echo "etcd_request_timeout=$ETCD_REQUEST_TIMEOUT" >>"$conf.new"
fi
if [ -n "${ETCD_HEARTBEAT_INTERVAL:-}" ]; then
	echo "etcd_heartbeat_interval=$ETCD_HEARTBEAT_INTERVAL" >>"$conf.new"
fi
if [ -n "${ETCD_ELECTION_TIMEOUT:-}" ]; then
	echo "etcd_election_timeout=$ETCD_ELECTION_TIMEOUT" >>"$conf.new"
fi
mv "$conf.new" "$conf"
if [ -n "${PROVISION_CONF_ONLY:-}" ]; then
	exit 0
fi

systemctl daemon-reload
systemctl enable fleetd.service
systemctl restart fleetd.service
echo "$name: fleetd.service started ($security${files:+: $files})"
