#!/usr/bin/env bash
# Runs web and worker together, logs interleaved and labelled, after
# migrating and publishing the demo election. Ctrl-C stops both.
set -euo pipefail
mkdir -p .dev
[ -s .dev/session_key ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .dev/session_key
export SESSION_KEY=${SESSION_KEY:-$(cat .dev/session_key)}
export PORT=${PORT:-8080}

bin/runoff migrate
trap 'trap - INT TERM EXIT; kill 0 2>/dev/null; wait' INT TERM EXIT
METRICS_PORT=${METRICS_PORT:-9091} bin/runoff worker 2>&1 | sed -u 's/^/worker | /' &
bin/runoff web 2>&1 | sed -u 's/^/web    | /' &
bin/runoff demo 2>&1 | sed -u 's/^/demo   | /'
echo "dev    | Runoff is at http://localhost:$PORT (Ctrl-C stops it)"
wait
