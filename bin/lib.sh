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
  [ -x "$(nginx_bin)" ] || missing+=(nginx)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # The footfall report: WeasyPrint prints its PDF through pango (Debian 12's
  # 1.50; WeasyPrint needs >= 1.44) with DejaVu fonts; its tests look at the
  # HTML in headless Chromium and read the PDF with poppler's pdftotext/pdftoppm.
  compgen -G '/usr/lib/*/libpangoft2-1.0.so.0' >/dev/null || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "Installing ${missing[*]} with apt-get"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian starts the packaged services; this project runs its own, so stop theirs
    # (service(8) where there is no systemd, as in a container).
    as_root systemctl disable --now redis-server postgresql nginx >/dev/null 2>&1 || true
    if [ -x /etc/init.d/nginx ]; then as_root /etc/init.d/nginx stop >/dev/null 2>&1 || true; fi
  fi
}

# nginx lives in /usr/sbin, which a normal user's PATH may lack.
nginx_bin() {
  command -v nginx 2>/dev/null || printf '/usr/sbin/nginx'
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

# Redis keeps the Celery queues (and the tasks' results), so it persists them
# in an append-only file under .var/<instance>/redis/, written every second:
# without it a restart lost every queued task (issue defect 4); a crash now
# loses at most the last second, and the database sweeps cover that.
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
      --pidfile "$VAR/run/redis.pid" --logfile "$VAR/log/redis.log" --save '' \
      --appendonly yes --appendfsync everysec >/dev/null
    for _ in $(seq 50); do
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
      sleep 0.1
    done
    sleep 1
  done
  log "Redis did not start; see ${VAR#"$ROOT"/}/log/redis.log"
  return 1
}

# A plain SHUTDOWN writes the append-only file out (no snapshot: save is off).
stop_redis() {
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
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

# ---------------------------------------------------------------- the balancer
# nginx in front of the gateway instances (bin/nginx.conf.template says why),
# as in production: a project-local config, pid, logs and temp files under
# .var/<instance>/nginx/<port>/ (one directory per listen port, so test runs
# side by side each have their own), on loopback, as the invoking user.

balancer_dir() { printf '%s/.var/%s/nginx/%s' "$ROOT" "$1" "$2"; }

# start_balancer INSTANCE LISTEN_PORT UPSTREAM_PORT...: renders the config,
# checks it and starts nginx (a running one of the same directory is reloaded).
start_balancer() {
  local instance="$1" port="$2"
  shift 2
  [ "$#" -gt 0 ] || { log "start_balancer: no upstream port"; return 2; }
  local dir servers="" upstream conf user_line="" max_body
  dir=$(balancer_dir "$instance" "$port")
  mkdir -p "$dir/tmp"
  for upstream in "$@"; do
    # A dead instance is skipped for 5 s after one failure, then tried again.
    servers+="        server 127.0.0.1:$upstream max_fails=1 fail_timeout=5s;"$'\n'
  done
  # As root nginx would hand its workers to "nobody", who may not enter the clone.
  if [ "$(id -u)" = 0 ]; then user_line="user $(id -un) $(id -gn);"; fi
  # The gateway's body cap (gateway/settings/base.py) and 1 MiB of slack.
  max_body=$(( ${MAX_REQUEST_BODY_BYTES:-4194304} + 1048576 ))
  conf=$(<"$ROOT/bin/nginx.conf.template")
  conf=${conf//@USER_LINE@/$user_line}
  conf=${conf//@WORKER_PROCESSES@/${BALANCER_WORKERS:-1}}
  conf=${conf//@SERVERS@/${servers%$'\n'}}
  conf=${conf//@MAX_BODY@/$max_body}
  conf=${conf//@PORT@/$port}
  conf=${conf//@DIR@/$dir}
  printf '%s\n' "$conf" >"$dir/nginx.conf"
  local nginx
  nginx=$(nginx_bin)
  "$nginx" -q -t -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" || return 1
  if [ -s "$dir/nginx.pid" ] && kill -0 "$(cat "$dir/nginx.pid")" 2>/dev/null; then
    "$nginx" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -s reload
    return 0
  fi
  log "Starting nginx on 127.0.0.1:$port in front of $*"
  "$nginx" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
}

# stop_balancer INSTANCE LISTEN_PORT: stops that nginx and waits for it to go.
stop_balancer() {
  local dir pid
  dir=$(balancer_dir "$1" "$2")
  [ -s "$dir/nginx.pid" ] || return 0
  pid=$(cat "$dir/nginx.pid")
  kill -QUIT "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
}

# wait_ready URL [SECONDS]: until URL/health/ready answers 200.
wait_ready() {
  local url="$1" deadline=$((SECONDS + ${2:-60}))
  until curl -fsS -o /dev/null --max-time 2 "$url/health/ready" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then log "$url/health/ready did not answer 200"; return 1; fi
    sleep 0.3
  done
}

# supervise NAME LOG COMMAND...: runs COMMAND, and again whenever it exits (2 s
# later, so a crash loop does not spin), until this loop gets TERM, which it
# passes on to COMMAND before leaving. Run it in the background (&; $! is the
# loop). COMMAND's output is appended to LOG ("-": left where it goes). Why:
# a Celery worker exits on some broker failures (kombu's "Unrecoverable error"
# when Redis goes away, issue defect 2) and must come back by itself, as
# Kubernetes' restartPolicy brings a container back in production.
supervise() {
  local name="$1" out="$2" child="" rc
  shift 2
  trap 'trap - TERM INT; if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi; exit 0' TERM INT
  while true; do
    if [ "$out" = - ]; then "$@" & else "$@" >>"$out" 2>&1 & fi
    child=$!
    rc=0
    wait "$child" || rc=$?
    log "$name exited with status $rc; starting it again in 2 s"
    [ "$out" = - ] || printf 'supervise: %s exited with status %s; starting it again in 2 s\n' "$name" "$rc" >>"$out"
    sleep 2
  done
}
