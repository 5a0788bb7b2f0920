#!/usr/bin/env bash
# go tool task bench: the Go benchmarks, then a short runoff load against
# a local stack of its own (a database of its own, queues prefixed bench., web on
# 127.0.0.1:18180, worker metrics on 19191), with the broker's ceiling
# measured just before; prints the figures and the ratio. Needs the local
# PostgreSQL and RabbitMQ (go tool task services). BENCH_BALLOTS and
# BENCH_CONCURRENCY change the load; BENCH_RATE gives a fixed rate too.
# Then the pages: the ballot (4 candidates, and 12) and the results page,
# asked for BENCH_PAGES times (default 30,000) from 64 connections.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== Go benchmarks"
go test -run '^$' -bench . -benchmem ./rcv/
go test -run '^$' -bench . -benchmem -benchtime 50x ./store/
go test -run '^$' -bench 'BallotSubmit|BallotPage|ResultsPage1M|Count1M' -benchmem ./handlers/
go test -run '^$' -bench 'Recount1M' -benchmem ./worker/
go test -run '^$' -bench 'Bundle' -benchmem ./rabbitmq/

echo "== runoff load against a local stack"
go build -o bin/runoff ./cmd/runoff
admin=${RUNOFF_BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
db=runoff_bench_$$
psql "$admin" -qc "CREATE DATABASE $db" >/dev/null
dir=$(mktemp -d)
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
export AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
export RUNOFF_QUEUE_PREFIX="bench." SESSION_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') LOG_LEVEL=warn
cleanup() {
  kill "${web:-}" "${worker:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  for q in elections votes bundles dead; do rabbitmqctl -q delete_queue "${RUNOFF_QUEUE_PREFIX}runoff.$q" >/dev/null 2>&1 || true; done
  # rabbitmqctl has no delete_exchange: the broker's own function, by eval.
  for x in runoff runoff.dlx runoff.direct; do
    rabbitmqctl -q eval "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"${RUNOFF_QUEUE_PREFIX}$x\">>), false, <<\"bench\">>)." >/dev/null 2>&1 || true
  done
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
bin/runoff migrate
PORT=18180 bin/runoff web >"$dir/web.log" 2>&1 & web=$!
METRICS_PORT=19191 bin/runoff worker >"$dir/worker.log" 2>&1 & worker=$!
PORT=18180 bin/runoff demo >"$dir/demo.log" 2>&1
election=$(sed -n 's#.*ballot: */e/\([0-9a-f-]*\).*#\1#p' "$dir/demo.log")
[ -n "$election" ] || { cat "$dir/demo.log"; exit 1; }
sleep 1
common=(--url http://127.0.0.1:18180 --election "$election" --amqp "$AMQP_URL" --database "$DATABASE_URL" --watch "web=$web,worker=$worker")
bin/runoff load "${common[@]}" --ballots "${BENCH_BALLOTS:-20000}" --concurrency "${BENCH_CONCURRENCY:-64}"
if [ -n "${BENCH_RATE:-}" ]; then
  bin/runoff load "${common[@]}" --ballots $(( BENCH_RATE * 10 )) --concurrency 128 --rate "$BENCH_RATE"
fi

echo "== pages"
# A twelve-candidate election beside the demo's four, with no ballots.
twelve=0196a000-0000-7000-8000-0000000000c2
psql "$DATABASE_URL" -q -v e="'$twelve'" -v template="'$election'" >/dev/null <<'SQL'
INSERT INTO elections (id, owner_id, title, seats, status, opened_at, winner_mode, tiebreak, max_ranks, results_visibility, access, timezone)
SELECT :e, owner_id, 'Twelve candidates', 1, 'open', now(), winner_mode, tiebreak, 0, 'live', 'open', 'UTC' FROM elections WHERE id = :template;
INSERT INTO candidates (id, election_id, name, position)
SELECT gen_random_uuid(), :e, 'Candidate ' || chr(64 + p), p - 1 FROM generate_series(1, 12) p;
SQL
pages=(--url http://127.0.0.1:18180 --ballots "${BENCH_PAGES:-30000}" --concurrency 64 --watch "web=$web")
bin/runoff load "${pages[@]}" --get "/e/$election"
bin/runoff load "${pages[@]}" --get "/e/$twelve"
bin/runoff load "${pages[@]}" --get "/e/$election/results"
