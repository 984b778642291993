# shellcheck shell=bash
# Shared by bin/serve, bin/test and the benchmarks: prepares the machine, the
# virtualenv and project-local PostgreSQL and Redis servers under .var/<instance>/.
# Everything here is idempotent: running it twice changes nothing the second time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3.11}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  printf '%s' "$d"
}

ensure_system_packages() {
  local missing=()
  [ -n "$(pg_bindir)" ] && [ -x "$(pg_bindir)/pg_ctl" ] || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "Installing ${missing[*]} with apt-get"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian starts the packaged services; this project runs its own, so stop theirs.
    as_root systemctl disable --now redis-server postgresql >/dev/null 2>&1 || true
  fi
}

# ensure_venv FILE...: (re)install requirements when any of the files changed.
ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "Creating virtualenv in .venv"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
  fi
  local stamp="$VENV/.requirements.sha256" want
  want=$(cd "$ROOT" && cat "$@" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    log "Installing pinned requirements ($*)"
    local args=()
    for f in "$@"; do args+=(-r "$ROOT/$f"); done
    "$VENV/bin/pip" install -q --disable-pip-version-check "${args[@]}"
    echo "$want" >"$stamp"
  fi
}

# Instance layout: .var/<instance>/{pg,redis,run,log}. Ports per instance so a
# running demo and the test suite never share data.
instance_env() {
  INSTANCE="$1"
  VAR="$ROOT/.var/$INSTANCE"
  case "$INSTANCE" in
    dev) : "${PG_PORT:=15432}" "${REDIS_PORT:=16379}" ;;
    test) : "${PG_PORT:=15433}" "${REDIS_PORT:=16380}" ;;
    *) : "${PG_PORT:=15434}" "${REDIS_PORT:=16381}" ;;
  esac
  mkdir -p "$VAR/run" "$VAR/log" "$VAR/redis"
  pg_layout
  PG_USER=gateway
  PG_DB=gateway
  export DATABASE_URL="postgres://$PG_USER:$(pg_password)@127.0.0.1:$PG_PORT/$PG_DB"
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export PG_PORT REDIS_PORT
}

pg_password() {
  local f="$ROOT/.var/pg-password"
  if [ ! -s "$f" ]; then
    mkdir -p "$ROOT/.var"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$f")
  fi
  cat "$f"
}

# PostgreSQL refuses to run as root: when we are root, the cluster belongs to
# the "postgres" system user that Debian's package creates. From "/", since
# the current directory may be one that user cannot enter.
pg_run() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# pg_layout: where the instance's cluster (PG_DATA), its sockets (PG_RUN) and
# logs (PG_LOG) live. Under $VAR, unless we are root and the postgres user
# cannot reach $VAR, as in a clone under root's home (mode 0700): then in the
# postgres user's home, under a name made from the clone's path, so that no two
# clones or instances share a cluster; $VAR/pg links to it.
pg_layout() {
  PG_BASE="$VAR"
  if [ "$(id -u)" = 0 ] && id -u postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$VAR"; then
    local home
    home=$(getent passwd postgres | cut -d: -f6)
    PG_BASE="$home/gateway-clusters/$(basename "$ROOT")-$(printf '%s' "$ROOT" | sha256sum | cut -c1-16)/$INSTANCE"
  fi
  PG_DATA="$PG_BASE/pg"
  PG_RUN="$PG_BASE/run"
  PG_LOG="$PG_BASE/log"
}

start_postgres() {
  local bin data="$PG_DATA"
  bin=$(pg_bindir)
  if [ ! -s "$data/PG_VERSION" ]; then
    log "Creating PostgreSQL cluster in ${data#"$ROOT"/}"
    mkdir -p "$data" "$PG_RUN" "$PG_LOG"
    local pwfile="$PG_RUN/pwfile"
    pg_password >"$pwfile"
    if [ "$(id -u)" = 0 ]; then chown -R postgres: "$data" "$PG_RUN" "$PG_LOG"; chmod 700 "$data"; fi
    pg_run "$bin/initdb" -D "$data" -U "$PG_USER" --pwfile="$pwfile" --auth-local=scram-sha-256 \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$VAR/log/initdb.log"
    rm -f "$pwfile"
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_RUN'
max_connections = 200
shared_buffers = 256MB
synchronous_commit = ${PG_SYNCHRONOUS_COMMIT:-on}
timezone = 'UTC'
CONF
  fi
  if [ "$data" != "$VAR/pg" ]; then
    # Where the benchmarks and people look for it.
    if [ -d "$VAR/pg" ] && [ ! -L "$VAR/pg" ]; then rmdir "$VAR/pg" 2>/dev/null || true; fi
    ln -sfn "$data" "$VAR/pg"
  fi
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$data" "$PG_RUN" "$PG_LOG"; fi
  if ! pg_run "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "Starting PostgreSQL on 127.0.0.1:$PG_PORT"
    # Three tries, as for Redis below.
    local try
    for try in 1 2 3; do
      pg_run "$bin/pg_ctl" -D "$data" -l "$PG_LOG/postgres.log" -o "-p $PG_PORT" -w -t 60 start >/dev/null && break
      if [ "$try" = 3 ]; then log "PostgreSQL did not start; see ${PG_LOG#"$ROOT"/}/postgres.log"; return 1; fi
      sleep 1
    done
  fi
  if ! PGPASSWORD=$(pg_password) psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "select 1 from pg_database where datname='$PG_DB'" | grep -q 1; then
    PGPASSWORD=$(pg_password) psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "create database $PG_DB"
  fi
}

stop_postgres() {
  local bin
  bin=$(pg_bindir)
  [ -s "$PG_DATA/PG_VERSION" ] || return 0
  pg_run "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
}

# remove_postgres: stops the instance's cluster and deletes it, wherever pg_layout put it.
remove_postgres() {
  stop_postgres
  rm -rf "$PG_DATA" "$VAR/pg"
  if [ "$PG_BASE" != "$VAR" ]; then
    rm -rf "$PG_BASE"
    # The clone's directory and gateway-clusters/, once no other instance or clone uses them.
    rmdir "$(dirname "$PG_BASE")" "$(dirname "$(dirname "$PG_BASE")")" 2>/dev/null || true
  fi
}

start_redis() {
  if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then return 0; fi
  log "Starting Redis on 127.0.0.1:$REDIS_PORT"
  # Three tries (PostgreSQL above likewise): when the ports sat inside Linux's
  # ephemeral range (32768-60999), a busy machine's short-lived client socket
  # once held one for a moment ("bind: Address already in use"). They now sit
  # below it (15432.., 16379..), where the kernel never picks client ports;
  # the retries stay for a port another program frees a moment late.
  for _ in 1 2 3; do
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$VAR/redis" --daemonize yes \
      --pidfile "$VAR/run/redis.pid" --logfile "$VAR/log/redis.log" --save '' --appendonly no >/dev/null
    for _ in $(seq 50); do
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
      sleep 0.1
    done
    sleep 1
  done
  log "Redis did not start; see ${VAR#"$ROOT"/}/log/redis.log"
  return 1
}

stop_redis() {
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

# start_services INSTANCE: everything a process of the gateway needs.
start_services() {
  ensure_system_packages
  instance_env "$1"
  start_postgres
  start_redis
}

stop_services() {
  stop_redis
  stop_postgres
}
