#!/usr/bin/env bash
# Undoes scripts/cluster.sh: takes rabbit2@localhost and rabbit3@localhost
# out of every quorum queue, stops them, makes the machine's node forget
# them, and deletes their directories. The machine's own node keeps running
# throughout and is left as it was: one node, the same users, vhosts,
# permissions and queues (checked against what cluster.sh saw). Safe to run
# after a failed test, with a node stopped, or when there is no cluster.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/cluster-lib.sh"

[ "$(id -u)" -eq 0 ] || { log "run as root"; exit 1; }
ctl -n "$ORIGIN" -q await_startup --timeout 60 >/dev/null

# A node a test left stopped comes back first, so that removing it from the
# quorum queues is an ordinary membership change with every member up.
for i in 0 1; do
  name=${NODES[$i]}
  in_cluster "$name" || continue
  if ! node_running "$name" && [ -f "$(node_dir "$name")/rabbitmq.conf" ]; then
    log "starting $name again to take it out cleanly"
    start_node "$name" "${PORTS[$i]}" || true
  fi
  if node_running "$name" && ! rabbitmq-diagnostics -q -n "$name" check_running >/dev/null 2>&1; then
    log "starting $name's app again"
    ctl -n "$name" -q start_app || true
    ctl -n "$name" -q await_startup --timeout 60 >/dev/null 2>&1 || true
  fi
done

members_on() { ctl -n "$ORIGIN" -q list_queues name members 2>/dev/null | grep -c "$1" || true; }

for name in "${NODES[@]}"; do
  in_cluster "$name" || continue
  for _ in 1 2 3 4 5; do
    ctl_queues -n "$ORIGIN" shrink "$name" --errors-only >/dev/null 2>&1 || true
    [ "$(members_on "$name")" = 0 ] && break
    sleep 1
  done
  [ "$(members_on "$name")" = 0 ] || log "warning: $name is still a member of $(members_on "$name") queues; forget_cluster_node removes it"
  if node_running "$name"; then
    log "stopping $name"
    ctl -n "$name" -q stop_app >/dev/null 2>&1 || true
  fi
  log "$ORIGIN forgets $name"
  ctl -n "$ORIGIN" -q forget_cluster_node "$name"
done
for name in "${NODES[@]}"; do
  if node_running "$name"; then
    ctl -n "$name" -q stop >/dev/null 2>&1 || true
  fi
done

ok=1
running=$(ctl -n "$ORIGIN" -q cluster_status --formatter json)
for name in "${NODES[@]}"; do
  if grep -q "\"$name\"" <<<"$running"; then
    log "error: $ORIGIN still lists $name: $running"
    ok=""
  fi
done
if [ -f "$DIR/before.txt" ]; then
  # Other tests come and go on the machine's node (their users, queues):
  # a difference must last to count.
  same=""
  for _ in 1 2 3 4 5; do
    if diff "$DIR/before.txt" <(snapshot) >"$DIR/diff.txt"; then same=1; break; fi
    sleep 3
  done
  if [ -z "$same" ]; then
    cat "$DIR/diff.txt" >&2
    log "error: $ORIGIN differs from before the cluster (above: < before, > now)"
    ok=""
  fi
fi
if [ -z "$ok" ]; then
  log "left $DIR in place for a look"
  exit 1
fi
rm -rf "$DIR"
log "$ORIGIN is alone again, as before"
