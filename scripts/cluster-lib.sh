# Shared by scripts/cluster.sh and scripts/cluster-down.sh: the nodes they
# manage beside the machine's own, and how to talk to them.
ORIGIN=rabbit@localhost
NODES=(rabbit2@localhost rabbit3@localhost)
PORTS=(5673 5674)
TLS_NODE=rabbit3@localhost
TLS_PORT=5675
DIR=${RUNOFF_CLUSTER_DIR:-/var/lib/rabbitmq/runoff-cluster}
# Larger than Runoff's largest legitimate message (the worker refuses
# anything over rabbitmq.MaxMessageBytes, about 400 KB), so the broker
# refuses only what no Runoff process sends.
MAX_MESSAGE_SIZE=16777216
# Runoff's queues, with or without a test prefix.
RUNOFF_QUEUES='^(.*\.)?runoff\.(votes|elections|dead)$'

log() { printf 'cluster: %s\n' "$*" >&2; }
ctl() { rabbitmqctl "$@"; }
ctl_queues() { rabbitmq-queues "$@"; }
node_dir() { echo "$DIR/${1%@*}"; }

# node_running NAME: the node's Erlang VM answers.
node_running() { rabbitmq-diagnostics -q -n "$1" ping >/dev/null 2>&1; }

# in_cluster NAME: the machine's node lists NAME among its cluster's nodes.
in_cluster() {
  ctl -n "$ORIGIN" -q cluster_status --formatter json 2>/dev/null | grep -q "\"$1\""
}

# start_node NAME PORT: start a node as the rabbitmq user, detached, with its
# own directories and ports, and wait for it.
start_node() {
  local name=$1 port=$2 base
  base=$(node_dir "$name")
  (cd /var/lib/rabbitmq && runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq \
    RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf" \
    RABBITMQ_NODENAME="$name" \
    RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT=$((port + 20000)) \
    RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$base/mnesia" \
    RABBITMQ_LOG_BASE="$base/log" \
    RABBITMQ_PID_FILE="$base/pid" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
    /usr/lib/rabbitmq/bin/rabbitmq-server -detached) >"$base/log/startup.log" 2>&1
  # The VM takes a moment to register; await_startup needs it reachable.
  for _ in $(seq 1 60); do node_running "$name" && break; sleep 1; done
  if ! ctl -n "$name" -q await_startup --timeout 90 >/dev/null 2>&1; then
    log "$name did not start; see $base/log"
    return 1
  fi
}

# snapshot: what cluster-down must find unchanged on the machine's node.
snapshot() {
  ctl -n "$ORIGIN" -q --no-table-headers list_users | sort
  ctl -n "$ORIGIN" -q --no-table-headers list_vhosts | sort
  ctl -n "$ORIGIN" -q --no-table-headers list_permissions | sort
  ctl -n "$ORIGIN" -q --no-table-headers list_topic_permissions | sort
  ctl -n "$ORIGIN" -q --no-table-headers list_policies | sort
  ctl -n "$ORIGIN" -q --no-table-headers list_feature_flags | sort
  # Queues of no test (tests name theirs test-*).
  ctl -n "$ORIGIN" -q --no-table-headers list_queues name type 2>/dev/null | { grep -v '^test-' || true; } | sort
}
