#!/usr/bin/env bash
# `make bench-hooks`: verified webhook deliveries stored per second on PostgreSQL, beside
# pgbench's floor for the same INSERT, on the throwaway database of bench/pg.sh.
#   1. `plugboard serve` with the defaults a user gets (database URL, address, secret key); a
#      connector with a GITHUB HMAC config, a published version with one trigger, a connection
#      with its TRIGGER secret, and the trigger's webhookURL, all through the CLI and GraphQL;
#   2. bench/tools/hookload: CONC (16) senders in a closed loop for SECS, each delivery signed
#      (HMAC-SHA256), with its own delivery id and a ~1 KiB body; every answer must be 202;
#   3. pgbench -M prepared -c CONC running bench/pgbench/hook_insert.sql: the INSERT the store
#      runs per delivery (… ON CONFLICT DO NOTHING), without the batched NOTIFYs;
#   4. raw files under docs/bench/hooks-<stamp>/ and the summary on standard output.
# Env: SECS=15 CONC=16 RUNS=3 HOOK_PORT=8094
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE="$HERE/.cache"
SECS=${SECS:-15}; CONC=${CONC:-16}; RUNS=${RUNS:-3}; PORT=${HOOK_PORT:-8094}
OUT=${OUT:-$ROOT/docs/bench/hooks-$(date -u +%Y-%m-%d-%H%M%S)}
mkdir -p "$CACHE" "$OUT"
command -v pgbench >/dev/null || apt-get install -y -qq postgresql-contrib >/dev/null
command -v jq >/dev/null || apt-get install -y -qq jq >/dev/null
(cd "$ROOT" && go build -o "$CACHE/plugboard" ./cmd/plugboard)
(cd "$HERE/tools" && go build -o "$CACHE/hookload" ./hookload)
DATABASE_URL=$("$HERE/pg.sh" start)
export PLUGBOARD_DATABASE_URL=$DATABASE_URL
"$CACHE/plugboard" migrate 2>/dev/null
PB_PID=""
cleanup() { [ -n "$PB_PID" ] && kill "$PB_PID" 2>/dev/null || true; }
trap cleanup EXIT
PLUGBOARD_SECRET_KEY=$("$CACHE/plugboard" secrets new-key)
export PLUGBOARD_SECRET_KEY
ORG=$("$CACHE/plugboard" org create "hooks bench $(date +%s%N)" 2>/dev/null)
KEY=$("$CACHE/plugboard" key create --org "$ORG" --name bench --scopes connectors:read,connectors:write 2>/dev/null)
PLUGBOARD_ADDR="127.0.0.1:$PORT" "$CACHE/plugboard" serve 2>"$CACHE/hooks-serve.log" &
PB_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
gql() { # query variables-json → data
  local out
  out=$(jq -nc --arg q "$1" --argjson v "$2" '{query: $q, variables: $v}' |
    curl -fsS -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$PORT/graphql")
  if [ "$(jq '.errors != null' <<<"$out")" = true ]; then echo "GraphQL error: $out" >&2; exit 1; fi
  jq -c .data <<<"$out"
}
SECRET="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
C=$(gql 'mutation { createConnector(input: {name: "Hooks bench", protocolType: HTTP}) { id } }' '{}' | jq -r .createConnector.id)
gql 'mutation($c: ID!) { createAuthSchemeConfig(connectorId: $c, input: {id: "gh", schemeType: HMAC, hmac: {preset: GITHUB}}) { id } }' "{\"c\":\"$C\"}" >/dev/null
V=$(gql 'mutation($c: ID!) { createVersion(connectorId: $c, input: {name: "1", triggers: [{name: "push", authSchemeConfigId: "gh"}]}) { id } }' "{\"c\":\"$C\"}" | jq -r .createVersion.id)
gql 'mutation($v: ID!) { publishVersion(id: $v) { id } }' "{\"v\":\"$V\"}" >/dev/null
CONN=$(gql 'mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "main"}) { id } }' "{\"c\":\"$C\"}" | jq -r .createConnection.id)
gql 'mutation($n: ID!, $s: String!) { setCredential(connectionId: $n, input: {authSchemeConfigId: "gh", kind: TRIGGER, values: [{name: "secret", value: $s}]}) { id } }' \
  "{\"n\":\"$CONN\",\"s\":\"$SECRET\"}" >/dev/null
HOOK=$(gql 'query($n: ID!) { connection(id: $n) { webhookURL(trigger: "push") } }' "{\"n\":\"$CONN\"}" | jq -r .connection.webhookURL)
{ echo "cores: $(nproc)"; uptime; } >"$OUT/machine.txt"
for r in $(seq "$RUNS"); do
  "$CACHE/hookload" -url "$HOOK" -secret "$SECRET" -c "$CONC" -d "${SECS}s" | tee "$OUT/plugboard-$r.txt"
  pgbench -n -M prepared -c "$CONC" -j 2 -T "$SECS" -r -D org="$ORG" -D conn="$CONN" -f "$HERE/pgbench/hook_insert.sql" "$DATABASE_URL" \
    >"$OUT/pgbench-$r.txt" 2>&1
  grep -E "^tps|latency average|failed" "$OUT/pgbench-$r.txt" | sed "s/^/pgbench run $r: /"
done
echo "raw files: $OUT"
