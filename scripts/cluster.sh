#!/usr/bin/env bash
# Starts two more RabbitMQ nodes beside the machine's own (rabbit@localhost,
# 127.0.0.1:5672) and joins them to its cluster, so that Runoff's quorum
# queues have three members:
#
#   rabbit2@localhost  AMQP 127.0.0.1:5673
#   rabbit3@localhost  AMQP 127.0.0.1:5674, AMQPS 127.0.0.1:5675 (a CA made here)
#
# Each has its own distribution port (25673, 25674), data and log
# directories under $RUNOFF_CLUSTER_DIR (default
# /var/lib/rabbitmq/runoff-cluster), the machine node's Erlang cookie, and
# max_message_size set. The machine's own node is never stopped or reset:
# the new nodes join it. scripts/cluster-down.sh undoes all of this.
#
# Prints the AMQP URLs, and writes them to $RUNOFF_CLUSTER_DIR/env for tests.
# Needs root (the nodes run as the rabbitmq user, like the machine's).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/cluster-lib.sh"

[ "$(id -u)" -eq 0 ] || { log "run as root (the nodes run as the rabbitmq user)"; exit 1; }
ctl -n "$ORIGIN" -q await_startup --timeout 60 >/dev/null

mkdir -p "$DIR"
chown rabbitmq:rabbitmq "$DIR"
# What the machine's node looked like before, for cluster-down to compare.
if [ ! -f "$DIR/before.txt" ]; then
  snapshot >"$DIR/before.txt"
fi

make_tls() {
  local tls="$DIR/tls"
  [ -f "$tls/server.pem" ] && return
  log "making a certificate authority and a server certificate for 127.0.0.1 in $tls"
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Runoff test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$tls/ext.cnf"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 30 -extfile "$tls/ext.cnf" -out "$tls/server.pem" 2>/dev/null
  chown -R rabbitmq:rabbitmq "$tls"
  chmod 0644 "$tls/ca.pem" "$tls/server.pem"
  chmod 0600 "$tls/server.key" "$tls/ca.key"
}

write_config() {
  local name=$1 port=$2 base
  base=$(node_dir "$name")
  mkdir -p "$base/mnesia" "$base/log"
  {
    echo "listeners.tcp.local = 127.0.0.1:$port"
    echo "max_message_size = $MAX_MESSAGE_SIZE"
    if [ "$name" = "$TLS_NODE" ]; then
      echo "listeners.ssl.local = 127.0.0.1:$TLS_PORT"
      echo "ssl_options.cacertfile = $DIR/tls/ca.pem"
      echo "ssl_options.certfile = $DIR/tls/server.pem"
      echo "ssl_options.keyfile = $DIR/tls/server.key"
      echo "ssl_options.verify = verify_none"
      echo "ssl_options.fail_if_no_peer_cert = false"
    fi
  } >"$base/rabbitmq.conf"
  echo '[].' >"$base/enabled_plugins"
  # Our own (empty) env file, so the machine's /etc/rabbitmq/rabbitmq-env.conf
  # (which names rabbit@localhost) is not read.
  : >"$base/rabbitmq-env.conf"
  chown -R rabbitmq:rabbitmq "$base"
}

make_tls
for i in 0 1; do
  name=${NODES[$i]} port=${PORTS[$i]}
  if node_running "$name"; then
    log "$name is already running"
  else
    write_config "$name" "$port"
    log "starting $name on 127.0.0.1:$port"
    # One after the other: nodes started together race on the cookie file.
    start_node "$name" "$port"
  fi
  if ! in_cluster "$name"; then
    log "joining $name to $ORIGIN's cluster"
    # (The CLI's chatter while the node resets goes to its log.)
    chatter="$(node_dir "$name")/log/cluster.log"
    ctl -n "$name" -q stop_app 2>>"$chatter"
    ctl -n "$name" -q reset 2>>"$chatter"
    ctl -n "$name" -q join_cluster "$ORIGIN" 2>>"$chatter"
    ctl -n "$name" -q start_app 2>>"$chatter"
    ctl -n "$name" -q await_startup --timeout 60 2>>"$chatter"
  fi
done

# Quorum queues declared from now on get three members (quorum_cluster_size
# is 3); Runoff's queues made before the cluster grew get the new members.
for name in "${NODES[@]}"; do
  ctl_queues -n "$ORIGIN" grow "$name" all --queue-pattern "$RUNOFF_QUEUES" >/dev/null || true
done

ctl -n "$ORIGIN" cluster_status 2>/dev/null | sed -n '/Running Nodes/,/Versions/p' | grep '@' | sed 's/^/cluster: running: /' >&2
urls="amqp://guest:guest@127.0.0.1:5672/,amqp://guest:guest@127.0.0.1:${PORTS[0]}/,amqp://guest:guest@127.0.0.1:${PORTS[1]}/"
tls_url="amqps://guest:guest@localhost:$TLS_PORT/"
cat >"$DIR/env" <<ENV
RUNOFF_CLUSTER_AMQP_URLS=$urls
RUNOFF_CLUSTER_AMQPS_URL=$tls_url
RUNOFF_CLUSTER_CA=$DIR/tls/ca.pem
ENV
echo "AMQP_URL=$urls"
echo "AMQPS (CA $DIR/tls/ca.pem): $tls_url"
