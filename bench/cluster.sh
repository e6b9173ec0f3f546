#!/usr/bin/env bash
# Throughput through HAProxy with 1, 2 and 3 replicas on one PostgreSQL (scripts/cluster.sh):
# wrk (closed loop, every answer checked by bench/wrk/graphql.lua) on a read of one connector
# and on updateConnector, each over SECS seconds with CONNS connections, after a warm-up.
# Prints one RESULT line per replica count and query. Not part of `make test`.
# Usage: bench/cluster.sh   (SECS=10 CONNS=16 REPLICAS="1 2 3")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${SECS:-10}
CONNS=${CONNS:-16}
REPLICAS=${REPLICAS:-1 2 3}
WORK=$(mktemp -d)
export PLUGBOARD_CLUSTER_DIR="$WORK/cluster"
export PLUGBOARD_LOG_LEVEL=warn
trap '"$ROOT/scripts/cluster.sh" down; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || { echo "bench: wrk not found" >&2; exit 1; }; }

lb=$("$ROOT/scripts/cluster.sh" up 1 | tail -1)
# shellcheck source=/dev/null
. "$PLUGBOARD_CLUSTER_DIR/env"
pb="$PLUGBOARD_CLUSTER_DIR/plugboard"
org=$("$pb" org create "bench $(date +%s)" 2>/dev/null)
key=$("$pb" key create --org "$org" --name bench --scopes connectors:read,connectors:write 2>/dev/null)
# 50 connectors; each line of pairs.txt is "<key> <id> <name>" for the wrk script.
for i in $(seq 50); do
  curl -fsS -w '\n' "$lb/graphql" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d "{\"query\":\"mutation { createConnector(input: {name: \\\"bench-$i\\\", protocolType: HTTP}) { id } }\"}" |
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | sed "s/^/$key /; s/\$/ bench-$i/"
done >"$WORK/pairs.txt"

q="$ROOT/bench/queries/plugboard"
for n in $REPLICAS; do
  "$ROOT/scripts/cluster.sh" up "$n" >/dev/null
  for query in q_one m_update; do
    PAIRS_FILE="$WORK/pairs.txt" BODY_FILE="$q/$query.json" wrk -t1 -c "$CONNS" -d 3s -s "$ROOT/bench/wrk/graphql.lua" "$lb/graphql" >/dev/null
    result=$(PAIRS_FILE="$WORK/pairs.txt" BODY_FILE="$q/$query.json" wrk -t2 -c "$CONNS" -d "${SECS}s" -s "$ROOT/bench/wrk/graphql.lua" "$lb/graphql" | grep '^RESULT')
    echo "replicas=$n query=$query ${result#RESULT }"
  done
done

# Bytes per row (heap, indexes and TOAST) of the tables the writes grew, for sizing on paper.
psql=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | tail -1)
"${psql:-psql}" -XAt "$PLUGBOARD_DATABASE_URL" -c "SELECT 'bytes_per_row ' || string_agg(t || '=' || (pg_total_relation_size(t) / greatest(n, 1)), ' ')
  FROM (VALUES ('connectors', (SELECT count(*) FROM connectors)), ('audit_events', (SELECT count(*) FROM audit_events)),
               ('idempotency_keys', (SELECT count(*) FROM idempotency_keys))) AS x(t, n)"
