#!/usr/bin/env bash
# Runs a command with PLUGBOARD_TEST_POSTGRES_URL pointing at a PostgreSQL server.
#
# When the variable is already set (CI, or your own server), the command runs against it.
# Otherwise a throwaway PostgreSQL cluster is created in a temporary directory, listening on
# 127.0.0.1 only, and removed when the command ends. The server binaries come from
# /usr/lib/postgresql/*/bin (Debian's postgresql-15); when missing and running as root, they
# are installed with apt-get. PostgreSQL refuses to run as root, so as root the cluster runs as
# the `postgres` OS user.
#
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

if [ -n "${PLUGBOARD_TEST_POSTGRES_URL:-}" ]; then
  exec "$@"
fi

find_pgbin() {
  local d
  for d in ${PGBIN:-} /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

if ! PGBIN=$(find_pgbin); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "with-postgres: installing PostgreSQL server binaries" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    apt-get install -y -qq postgresql-15 >&2 || apt-get install -y -qq postgresql >&2
    PGBIN=$(find_pgbin)
  else
    echo "with-postgres: PostgreSQL server binaries (initdb) not found; install postgresql-15 or set PLUGBOARD_TEST_POSTGRES_URL" >&2
    exit 1
  fi
fi

RUNAS=""
if [ "$(id -u)" = 0 ]; then RUNAS=postgres; fi
# From / : the checkout may sit in a directory the postgres user cannot enter, and runuser
# would then say "could not change directory" on every command.
as_pg() {
  if [ -n "$RUNAS" ]; then (cd / && runuser -u "$RUNAS" -- "$@"); else "$@"; fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/plugboard-pg.XXXXXX")
DATA="$WORK/data"
SOCK="$WORK/sock"
mkdir -p "$DATA" "$SOCK"
if [ -n "$RUNAS" ]; then chown -R "$RUNAS": "$WORK"; fi
chmod 700 "$DATA"

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# A free loopback port: ask the kernel, then hand it to PostgreSQL.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))

as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
  || as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
CONF
as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$WORK/postgres.log" -w -t 60 start >/dev/null

export PLUGBOARD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
export PLUGBOARD_TEST_POSTGRES_BIN="$PGBIN"
export PLUGBOARD_TEST_POSTGRES_DATA="$DATA"
echo "with-postgres: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
set +e
"$@"
status=$?
set -e
exit $status
