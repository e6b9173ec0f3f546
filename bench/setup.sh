#!/usr/bin/env bash
# Builds Plugboard, migrates and seeds the benchmark database (bench/seed.sql: the shared
# harness's volumes in Plugboard's schema), creates one API key per organisation, and writes
# the id lists the load uses into bench/.cache/:
#   pairs-one.txt  "<key of the connector's organisation> <connector id> <its name>" (10,000 lines)
#   pairs-list.txt "<key>" (one per organisation)
#   connectors.txt, organisations.txt  ids for PostGraphile
# Usage: bench/setup.sh DATABASE_URL
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
URL=$1
CACHE="$HERE/.cache"
mkdir -p "$CACHE"
PSQL="$(ls -d /usr/lib/postgresql/*/bin | tail -1)/psql"
(cd "$HERE/.." && go build -o "$CACHE/plugboard" ./cmd/plugboard)
export PLUGBOARD_DATABASE_URL=$URL
"$CACHE/plugboard" migrate 2>/dev/null
"$PSQL" -q "$URL" -f "$HERE/seed.sql" >/dev/null
: >"$CACHE/pairs-list.txt"; : >"$CACHE/keys.txt"
for o in $(seq 1 10); do
  org=$("$PSQL" -tAc "select md5('org:$o')::uuid::text" "$URL")
  key=$("$CACHE/plugboard" key create --org "$org" --name bench --scopes connectors:read,connectors:write 2>/dev/null)
  echo "$org $key" >>"$CACHE/keys.txt"
  echo "$key" >>"$CACHE/pairs-list.txt"
done
"$PSQL" -tAc "select organisation_id || ' ' || id || ' ' || name from connectors order by id" "$URL" >"$CACHE/connectors-by-org.txt"
awk 'NR==FNR { key[$1] = $2; next } { print key[$1], $2, $3 }' "$CACHE/keys.txt" "$CACHE/connectors-by-org.txt" >"$CACHE/pairs-one.txt"
cut -d' ' -f2 "$CACHE/connectors-by-org.txt" >"$CACHE/connectors.txt"
cut -d' ' -f1 "$CACHE/keys.txt" >"$CACHE/organisations.txt"
echo "seeded: $(wc -l <"$CACHE/connectors.txt") connectors, $(wc -l <"$CACHE/pairs-list.txt") keys" >&2
