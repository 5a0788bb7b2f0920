#!/usr/bin/env bash
# Creates (or updates) the broker users for development, one per process
# type, with only what each needs; the README says what to set in
# production. Safe to run again and again.
#
#   runoff_web     publishes to the runoff exchange only with the routing
#                  keys the web sends (not the worker's vote.seal, nothing to
#                  the dead-letter exchange), and to the runoff.direct
#                  exchange, which routes only vote.submit and its bundles
#                  (bundle.vote.submit, to runoff.bundles); may declare,
#                  bind and read only queues named runoff.web.* (its own
#                  per-process queues); consumes no work queue and declares
#                  no topology.
#   runoff_worker  declares the durable topology, consumes the work queues,
#                  publishes dead letters, vote.seal and requeues.
#
# Passwords are the user names: these are for a laptop. With a prefix
# (scripts/broker-users.sh test-1a2b3c4d.), the users and the names they may
# use carry it, as RUNOFF_QUEUE_PREFIX does: a test's own users. With
# --delete, the prefix's users are deleted instead.
set -euo pipefail
delete=""
[ "${1:-}" = "--delete" ] && { delete=1; shift; }
prefix=${1:-}
re_prefix=$(printf '%s' "$prefix" | sed 's/[.[\*^$()+?{|]/\\&/g')
web="${prefix}runoff_web" worker="${prefix}runoff_worker"

if [ -n "$delete" ]; then
  for u in "$web" "$worker"; do rabbitmqctl -q delete_user "$u" >/dev/null 2>&1 || true; done
  exit 0
fi

user() {
  local name=$1 configure=$2 write=$3 read=$4
  if ! rabbitmqctl -q list_users 2>/dev/null | cut -f1 | grep -qxF "$name"; then
    printf 'services: creating RabbitMQ user %s\n' "$name" >&2
    rabbitmqctl -q add_user "$name" "$name" >/dev/null
  fi
  rabbitmqctl -q set_permissions -p / "$name" "$configure" "$write" "$read" >/dev/null
}

# The web's routing keys: runoff.PublishedKeys() but vote.seal, which only
# the worker sends (TestBrokerUsersHaveLeastPrivilege checks both).
web_keys='^(election\.(create|update|open|close|reopen|delete|tiebreak|keys|import|invite)|vote\.submit|deadletter\.requeue|account\.reset)$'
user "$web" "^${re_prefix}runoff\\.web\\..+" "^${re_prefix}runoff(\\.direct|\\.web\\..+)?\$" "^${re_prefix}runoff(\\.web\\..+)?\$"
# Topic permissions name one exchange (not a pattern).
rabbitmqctl -q set_topic_permissions -p / "$web" "${prefix}runoff" "$web_keys" '^election\..+' >/dev/null
worker_names="^${re_prefix}runoff(\\.(dlx|dead|votes|bundles|elections|direct))?\$"
user "$worker" "$worker_names" "$worker_names" "$worker_names"
