#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ are installed, running and set up for
# Runoff: role "runoff" (password "runoff", may create databases) owning
# database "runoff". Safe to run again and again.
#
# On Debian or Ubuntu, as root or with sudo, it installs what is missing
# from the distribution's packages. Elsewhere it says what to install.
# With --browser it also makes sure Chromium is there, for the browser test.
set -euo pipefail
browser=""
[ "${1:-}" = "--browser" ] && browser=1

log() { printf 'services: %s\n' "$*" >&2; }

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO="none"; fi
as_root() {
  if [ "$SUDO" = none ]; then log "need root for: $*"; return 1; fi
  $SUDO "$@"
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
mq_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

apt_updated=""
apt_install() {
  if ! command -v apt-get >/dev/null; then
    cat >&2 <<MSG
services: $1 is missing and this is not a Debian/Ubuntu system.
(For Chromium: install it, or set RUNOFF_CHROMIUM to a Chrome or Chromium binary.)
Install and start them yourself, then run this again:
  - PostgreSQL 13 or newer, listening on 127.0.0.1:5432
  - RabbitMQ 3.10 or newer, listening on 127.0.0.1:5672 with the guest/guest user
  (macOS with Homebrew: brew install postgresql@16 rabbitmq && brew services start postgresql@16 && brew services start rabbitmq)
Or point DATABASE_URL and AMQP_URL at servers you already have.
MSG
    exit 1
  fi
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL ---
if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null && ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { log "PostgreSQL did not start; see /var/log/postgresql/"; exit 1; }
fi

# Run SQL as a superuser: over TCP as postgres where trust auth allows it,
# otherwise through the local socket as the postgres OS user.
psql_admin() {
  if psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1 </dev/null; then
    psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq "$@"
  else
    as_root su postgres -s /bin/sh -c "psql -d postgres -v ON_ERROR_STOP=1 -tAq $(printf '%q ' "$@")"
  fi
}
if [ "$(psql_admin -c "select 1 from pg_roles where rolname = 'runoff'")" != 1 ]; then
  log "creating role runoff"
  psql_admin -c "create role runoff login createdb password 'runoff'"
fi
if [ "$(psql_admin -c "select 1 from pg_database where datname = 'runoff'")" != 1 ]; then
  log "creating database runoff"
  psql_admin -c "create database runoff owner runoff"
fi

# --- RabbitMQ ---
if ! mq_up; then
  if ! command -v rabbitmq-server >/dev/null && [ ! -x /usr/sbin/rabbitmq-server ]; then
    apt_install rabbitmq-server
  fi
  if ! mq_up; then
    log "starting RabbitMQ"
    as_root rabbitmq-server -detached >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do mq_up && break; sleep 1; done
    mq_up || { log "RabbitMQ did not start; see /var/log/rabbitmq/"; exit 1; }
  fi
fi
# The port answers before the broker is ready for clients.
if command -v rabbitmqctl >/dev/null; then
  as_root rabbitmqctl -q await_startup --timeout 60 >/dev/null 2>&1 || true
fi
# Broker users for development, one per process type (see the script).
if command -v rabbitmqctl >/dev/null; then
  as_root "$(cd "$(dirname "$0")" && pwd)/broker-users.sh"
fi
log "PostgreSQL and RabbitMQ are up"

# --- Chromium, for the browser test ---
if [ -n "$browser" ] && [ -z "${RUNOFF_CHROMIUM:-}" ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  apt_install chromium
fi

# --- axe-core, for the accessibility test of the pages ---
axe_dir="$(cd "$(dirname "$0")" && pwd)/axe"
if [ -n "$browser" ] && [ -z "${RUNOFF_AXE:-}" ] && [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  if ! command -v npm >/dev/null; then apt_install npm; fi
  log "installing axe-core (scripts/axe)"
  (cd "$axe_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
