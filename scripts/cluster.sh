#!/usr/bin/env bash
# A throwaway Plugboard cluster on loopback: PostgreSQL (started by scripts/with-postgres.sh),
# N replicas of `plugboard serve` sharing PLUGBOARD_SECRET_KEY, and HAProxy (Debian's package,
# installed with apt-get when missing and running as root) in front of them, checking /readyz.
#
#   scripts/cluster.sh up [N]     start what is not running (N replicas, default 3 or the
#                                 number of the running cluster); the last line printed is the
#                                 load balancer's URL
#   scripts/cluster.sh status     the replicas' URLs, one a line (running ones); exits 1 when
#                                 none runs
#   scripts/cluster.sh restart    rolling restart: each replica in turn gets SIGTERM (/readyz
#                                 fails, HAProxy takes it out, it drains), starts again, and is
#                                 back in HAProxy before the next one stops
#   scripts/cluster.sh down       stop everything and delete the cluster's directory
#
# State (logs, pids, ports, the binary) lives in PLUGBOARD_CLUSTER_DIR
# (default ${TMPDIR:-/tmp}/plugboard-cluster). Replicas take the caller's PLUGBOARD_* settings;
# the script sets the address, the database, the secret key and, unless given,
# PLUGBOARD_DRAIN_DELAY=2s (HAProxy needs at most 1 s to see /readyz fail: 500 ms checks,
# 2 failures).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${PLUGBOARD_CLUSTER_DIR:-${TMPDIR:-/tmp}/plugboard-cluster}
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

log() { echo "cluster: $*" >&2; }
die() { log "$*"; exit 1; }
# alive PIDFILE WORD: the process of PIDFILE runs, and its command line has WORD (a pid reused by
# another process is not ours).
alive() { [ -f "$1" ] && grep -qa -- "$2" "/proc/$(cat "$1")/cmdline" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for CMD...: up to 30 s for a command to succeed (a stuck start must not hang forever).
wait_for() {
  local i
  for i in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

need_haproxy() {
  command -v haproxy >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing haproxy"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    apt-get install -y -qq haproxy >&2
  fi
  command -v haproxy >/dev/null || die "haproxy not found: apt-get install haproxy"
}

start_postgres() {
  alive "$DIR/postgres.pid" with-postgres && return 0
  # A new server would be empty, under the replicas' feet.
  [ ! -f "$DIR/env" ] || die "the cluster's PostgreSQL is gone: run down, then up"
  rm -f "$DIR/database_url"
  # with-postgres.sh removes its server when its command ends: the command is a sleep that
  # `down` ends. A PLUGBOARD_TEST_POSTGRES_URL of the caller's is not used: the cluster's
  # database is its own, to be thrown away.
  env -u PLUGBOARD_TEST_POSTGRES_URL setsid "$ROOT/scripts/with-postgres.sh" \
    sh -c 'echo "$PLUGBOARD_TEST_POSTGRES_URL" >"$0/database_url"; exec sleep infinity' "$DIR" \
    >"$DIR/postgres.log" 2>&1 </dev/null &
  echo $! >"$DIR/postgres.pid"
  wait_for test -s "$DIR/database_url" || { cat "$DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
}

# start_replica I: starts replica I (on the port it had before) and waits for its /readyz.
start_replica() {
  local i=$1
  alive "$DIR/replica-$i.pid" "$DIR/plugboard" && return 0
  [ -f "$DIR/replica-$i.port" ] || free_port >"$DIR/replica-$i.port"
  local port; port=$(cat "$DIR/replica-$i.port")
  (
    # shellcheck source=/dev/null
    . "$DIR/env"
    export PLUGBOARD_ADDR="127.0.0.1:$port"
    exec setsid "$DIR/plugboard" serve >>"$DIR/replica-$i.log" 2>&1 </dev/null
  ) &
  echo $! >"$DIR/replica-$i.pid"
  wait_for curl -fsS "http://127.0.0.1:$port/readyz" || { tail -20 "$DIR/replica-$i.log" >&2; die "replica $i did not start"; }
}

stop_replica() {
  local i=$1 pid
  alive "$DIR/replica-$i.pid" "$DIR/plugboard" || return 0
  pid=$(cat "$DIR/replica-$i.pid")
  kill -TERM "$pid"
  # The drain delay, then the in-flight requests (PLUGBOARD_SHUTDOWN_TIMEOUT, 20 s).
  local n
  for n in $(seq 600); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  die "replica $i did not stop within 60 s"
}

# haproxy_config N: HAProxy's configuration for N replicas.
haproxy_config() {
  local n=$1 i
  {
    cat <<CFG
global
  maxconn 4096
  pidfile $DIR/haproxy.pid
defaults
  mode http
  timeout connect 2s
  timeout client 65s
  timeout server 65s
  # A WebSocket (Upgrade on /graphql) becomes a tunnel once upgraded; HTTP mode passes the
  # upgrade through by itself.
  timeout tunnel 1h
  timeout http-keep-alive 10s
  # Only connection failures are retried (nothing was sent), on another replica.
  retries 3
  option redispatch 1
frontend plugboard
  bind 127.0.0.1:$(cat "$DIR/haproxy.port")
  # The caller's X-Request-ID goes through unchanged; without one, HAProxy names the request
  # so that its own log and the replica's share the id.
  unique-id-format %[uuid]
  http-request set-header X-Request-ID %[unique-id] unless { req.hdr(x-request-id) -m found }
  # The client's address for the replicas' per-client caps (PLUGBOARD_TRUSTED_PROXIES).
  option forwardfor
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  # Out after 2 failed checks 500 ms apart (a draining replica keeps serving 2 s), back after 2.
  default-server inter 500ms fall 2 rise 2
CFG
    for i in $(seq "$n"); do
      echo "  server r$i 127.0.0.1:$(cat "$DIR/replica-$i.port") check"
    done
    cat <<CFG
listen stats
  bind 127.0.0.1:$(cat "$DIR/stats.port")
  stats enable
  stats uri /stats
CFG
  }
}

start_haproxy() {
  alive "$DIR/haproxy.pid" haproxy && return 0
  haproxy -c -q -f "$DIR/haproxy.cfg" || die "bad HAProxy configuration $DIR/haproxy.cfg"
  haproxy -D -f "$DIR/haproxy.cfg" >"$DIR/haproxy.log" 2>&1 </dev/null
  wait_for test -s "$DIR/haproxy.pid" || die "HAProxy did not start"
}

# backend_up I: HAProxy counts replica I as UP.
backend_up() {
  curl -fsS "http://127.0.0.1:$(cat "$DIR/stats.port")/stats;csv" | awk -F, -v s="r$1" '$1=="replicas" && $2==s {print $18}' | grep -qx UP
}

replicas() { cat "$DIR/replicas" 2>/dev/null || echo 0; }

cmd_up() {
  local n=${1:-}
  mkdir -p "$DIR"
  [ -n "$n" ] || { n=$(replicas); [ "$n" != 0 ] || n=3; }
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number: $n"
  need_haproxy
  if [ ! -x "$DIR/plugboard" ]; then
    (cd "$ROOT" && go build -o "$DIR/plugboard" ./cmd/plugboard) || die "go build failed"
  fi
  start_postgres
  if [ ! -f "$DIR/env" ]; then
    local key; key=$("$DIR/plugboard" secrets new-key)
    {
      echo "export PLUGBOARD_DATABASE_URL='$(cat "$DIR/database_url")'"
      echo "export PLUGBOARD_SECRET_KEY='$key'"
      echo "export PLUGBOARD_DRAIN_DELAY='${PLUGBOARD_DRAIN_DELAY:-2s}'"
      echo "export PLUGBOARD_TRUSTED_PROXIES='127.0.0.1'"
    } >"$DIR/env"
    chmod 600 "$DIR/env"
    # Once, before the replicas (each would also migrate, one at a time, under a lock).
    (. "$DIR/env" && "$DIR/plugboard" migrate) 2>>"$DIR/migrate.log" || die "migrate failed (see $DIR/migrate.log)"
  fi
  echo "$n" >"$DIR/replicas"
  [ -f "$DIR/haproxy.port" ] || free_port >"$DIR/haproxy.port"
  [ -f "$DIR/stats.port" ] || free_port >"$DIR/stats.port"
  local i f
  for i in $(seq "$n"); do start_replica "$i"; done
  haproxy_config "$n" >"$DIR/haproxy.cfg.new"
  if alive "$DIR/haproxy.pid" haproxy && ! cmp -s "$DIR/haproxy.cfg.new" "$DIR/haproxy.cfg"; then
    # Another number of replicas: a new HAProxy (connections in flight end with the old one).
    kill "$(cat "$DIR/haproxy.pid")"; rm -f "$DIR/haproxy.pid"
  fi
  mv "$DIR/haproxy.cfg.new" "$DIR/haproxy.cfg"
  start_haproxy
  # Fewer replicas than before: the others stop once HAProxy no longer sends them anything.
  for f in "$DIR"/replica-*.pid; do
    [ -e "$f" ] || continue
    i=${f##*/replica-}; i=${i%.pid}
    if [ "$i" -gt "$n" ]; then stop_replica "$i"; rm -f "$f" "$DIR/replica-$i.port"; fi
  done
  for i in $(seq "$n"); do wait_for backend_up "$i" || die "HAProxy does not see replica $i up"; done
  log "$n replicas on one PostgreSQL; state in $DIR; env in $DIR/env"
  echo "http://127.0.0.1:$(cat "$DIR/haproxy.port")"
}

cmd_status() {
  local i running=0
  for i in $(seq "$(replicas)"); do
    if alive "$DIR/replica-$i.pid" "$DIR/plugboard"; then
      echo "http://127.0.0.1:$(cat "$DIR/replica-$i.port")"
      running=$((running + 1))
    fi
  done
  [ "$running" -gt 0 ] || die "no cluster is running (state directory $DIR): start one with $0 up"
}

cmd_restart() {
  local i
  for i in $(seq "$(replicas)"); do
    log "restarting replica $i"
    stop_replica "$i"
    start_replica "$i"
    wait_for backend_up "$i" || die "HAProxy does not see replica $i up again"
  done
}

cmd_down() {
  [ -d "$DIR" ] || return 0
  if alive "$DIR/haproxy.pid" haproxy; then kill "$(cat "$DIR/haproxy.pid")"; fi
  local f
  for f in "$DIR"/replica-*.pid; do
    [ -e "$f" ] || continue
    if alive "$f" "$DIR/plugboard"; then kill -TERM "$(cat "$f")" 2>/dev/null || true; fi
  done
  for f in "$DIR"/replica-*.pid; do
    [ -e "$f" ] || continue
    local n; for n in $(seq 300); do alive "$f" "$DIR/plugboard" || break; sleep 0.1; done
    if alive "$f" "$DIR/plugboard"; then kill -KILL "$(cat "$f")" 2>/dev/null || true; fi
  done
  if alive "$DIR/postgres.pid" with-postgres; then
    # The whole group: the sleep ends, and with-postgres.sh stops and removes the server.
    local pid; pid=$(cat "$DIR/postgres.pid")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
    local n; for n in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  up) cmd_up "${2:-}" ;;
  status) cmd_status ;;
  restart) cmd_restart ;;
  down) cmd_down ;;
  *) echo "usage: $0 up [N] | status | restart | down" >&2; exit 2 ;;
esac
