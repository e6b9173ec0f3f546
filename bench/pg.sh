#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the benchmark (adapted from the shared harness's pg-up.sh):
# loopback only, trust auth, bench settings (durability off: the data is thrown away).
# Usage: bench/pg.sh start|stop   env: BENCH_PGDATA (/tmp/plugboard-bench-pg-<checkout>: one per
# checkout, so that a bench in another worktree never re-seeds this one's), BENCH_PGPORT (55433)
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | tail -1)}
DATADIR=${BENCH_PGDATA:-/tmp/plugboard-bench-pg-$(cd "$(dirname "$0")/.." && pwd | md5sum | cut -c1-8)}
PORT=${BENCH_PGPORT:-55433}
DB=plugboard_bench
SOCK="$DATADIR.sock"
LOG="$DATADIR.log"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
start)
  mkdir -p "$DATADIR" "$SOCK"; touch "$LOG"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DATADIR" "$SOCK" "$LOG"; fi
  chmod 700 "$DATADIR"
  if [ ! -s "$DATADIR/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$DATADIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$DATADIR/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
max_connections = 200
shared_buffers = 512MB
effective_cache_size = 4GB
work_mem = 16MB
maintenance_work_mem = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
jit = off
log_min_messages = warning
CONF
  fi
  as_pg "$PGBIN/pg_ctl" -D "$DATADIR" status >/dev/null 2>&1 || as_pg "$PGBIN/pg_ctl" -D "$DATADIR" -l "$LOG" -w -t 60 start >/dev/null
  "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "select 1 from pg_database where datname='$DB'" | grep -q 1 \
    || "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
  echo "postgres://postgres@127.0.0.1:$PORT/$DB"
  ;;
stop)
  as_pg "$PGBIN/pg_ctl" -D "$DATADIR" -m fast -w stop >/dev/null 2>&1 || true
  if [ "${2:-}" = --rm ]; then rm -rf "$DATADIR" "$SOCK" "$LOG"; fi
  ;;
pid) head -1 "$DATADIR/postmaster.pid" ;;
*) echo "usage: $0 start|stop [--rm]|pid" >&2; exit 2 ;;
esac
