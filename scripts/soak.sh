#!/usr/bin/env bash
# Soak: Plugboard on a throwaway PostgreSQL under 64 connections of mixed reads and writes for
# a set time; reports errors, latency percentiles and the server's RSS at the start and the end.
# Not part of `make test`. Usage: scripts/soak.sh [DURATION=5m] [CONNS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-5m}
CONNS=${2:-64}
if [ -z "${PLUGBOARD_TEST_POSTGRES_URL:-}" ]; then
  exec ./scripts/with-postgres.sh "$0" "$@"
fi
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
go build -o "$WORK/plugboard" ./cmd/plugboard
go build -o "$WORK/soak" ./scripts/soak
export PLUGBOARD_DATABASE_URL="$PLUGBOARD_TEST_POSTGRES_URL"
export PLUGBOARD_SECRET_KEY=$("$WORK/plugboard" secrets new-key)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ORG=$("$WORK/plugboard" org create "soak $(date +%s)" 2>/dev/null)
KEY=$("$WORK/plugboard" key create --org "$ORG" --name soak --scopes connectors:read,connectors:write 2>/dev/null)
PLUGBOARD_ADDR=127.0.0.1:$PORT PLUGBOARD_LOG_LEVEL=warn "$WORK/plugboard" serve 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "soak: $DURATION, $CONNS connections, server pid $SERVER, PostgreSQL $PLUGBOARD_DATABASE_URL"
status=0
PLUGBOARD_KEY=$KEY "$WORK/soak" -url "http://127.0.0.1:$PORT/graphql" -duration "$DURATION" -conns "$CONNS" -pid "$SERVER" || status=$?
if grep -q '"level":"ERROR"' "$WORK/server.log"; then
  echo "soak: the server logged errors:"; grep '"level":"ERROR"' "$WORK/server.log" | head -5; status=1
fi
exit $status
