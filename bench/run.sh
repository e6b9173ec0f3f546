#!/usr/bin/env bash
# `make bench`: Plugboard against PostGraphile 5 over the same PostgreSQL database and data,
# alternating the two servers query by query, RUNS times, then a markdown report.
#   1. a throwaway PostgreSQL 15 (bench/pg.sh), Plugboard's migrations and bench/seed.sql
#      (10 organisations x 1,000 connectors, 5 versions and 4 connections each), one API key
#      per organisation (bench/setup.sh);
#   2. plugboard serve on it (pool 16, like PostGraphile's), and PostGraphile 5.1.5 (Node 24
#      from the npm registry; bench/peer-postgraphile.sh, adapted from the shared harness);
#   3. for each run, query and connection count: wrk against one server, then the other (the
#      idle one uses no CPU), with random ids per request, CPU of server and PostgreSQL from
#      /proc, the server's RSS;
#   4. for m_update, PostGraphile a second time with bench/peer-same-writes.sql installed
#      (triggers that move updated_at and revision and write the audit event, as Plugboard's
#      update does), reported beside the main ratio, which stays against PostGraphile without them;
#   5. bench/report.py writes docs/benchmarks.md (medians of the runs, ratios).
# Env: RUNS=3 SECS=15 WARMUP=5 CONNS="16 64" QUERIES="q_one q_list m_update" PAGES="10 50 200"
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE="$HERE/.cache"
RUNS=${RUNS:-3}; SECS=${SECS:-15}; WARMUP=${WARMUP:-5}
CONNS=${CONNS:-16 64}; QUERIES=${QUERIES:-q_one q_list m_update}; PAGES=${PAGES:-10 50 200}
PB_PORT=${PB_PORT:-8091}; PGL_PORT=${PGL_PORT:-5679}
mkdir -p "$CACHE"
for tool in wrk jq curl python3; do
  command -v $tool >/dev/null || { apt-get install -y -qq wrk jq curl python3 >/dev/null; break; }
done

DATABASE_URL=$("$HERE/pg.sh" start)
export DATABASE_URL
"$HERE/setup.sh" "$DATABASE_URL"
PGPID=$("$HERE/pg.sh" pid)
PSQL="$(ls -d /usr/lib/postgresql/*/bin | tail -1)/psql"
# same_writes on|off: installs or drops bench/peer-same-writes.sql.
same_writes() { local f="$HERE/peer-same-writes.sql"; [ "$1" = off ] && f="$HERE/peer-same-writes-off.sql"
  PGOPTIONS="-c client_min_messages=warning" "$PSQL" -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f "$f"; }

PB_PID=""
cleanup() {
  same_writes off >/dev/null 2>&1 || true
  [ -n "$PB_PID" ] && kill "$PB_PID" 2>/dev/null || true
  PGL_PORT=$PGL_PORT "$HERE/peer-postgraphile.sh" stop 2>/dev/null || true
}
trap cleanup EXIT
PLUGBOARD_DATABASE_URL=$DATABASE_URL PLUGBOARD_SECRET_KEY=$("$CACHE/plugboard" secrets new-key) \
PLUGBOARD_ADDR=127.0.0.1:$PB_PORT PLUGBOARD_LOG_LEVEL=warn PLUGBOARD_DB_MAX_CONNS=16 \
  "$CACHE/plugboard" serve 2>"$CACHE/plugboard.log" &
PB_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PB_PORT/readyz" >/dev/null && break; sleep 0.1; done
PGL_PORT=$PGL_PORT "$HERE/peer-postgraphile.sh" restart
PGL_PID=$(cat "$CACHE/postgraphile.pid")

HZ=$(getconf CLK_TCK)
# tree_ticks PID: CPU ticks of PID and its children, live (utime+stime) or reaped (PID's
# cutime+cstime). A child reaped while the children are read would be counted twice or not at
# all (PostgreSQL backends and autovacuum workers come and go), so the sum is taken again until
# no child was reaped in between.
reaped_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $14+$15}'; }
tree_ticks() { local root=$1 t p v before try
  for try in 1 2 3 4 5; do
    before=$(reaped_ticks "$root")
    t=$(sed 's/.*) //' "/proc/$root/stat" | awk '{print $12+$13+$14+$15}')
    for p in $(ps -o pid= --ppid "$root"); do
      v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12+$13}') || v=0; t=$((t + ${v:-0})); done
    [ "$(reaped_ticks "$root")" = "$before" ] && break
  done
  echo "$t"; }
rss_mb() { awk '/VmRSS/{printf "%.0f", $2/1024}' "/proc/$1/status"; }

# body TARGET QUERY [PAGE]: the request body, with the page size set for q_list scaling.
# PostGraphile+writes sends PostGraphile's queries.
body() { local server=${1%+writes}; local f="$HERE/queries/$server/$2.json"
  if [ -n "${3:-}" ]; then sed "s/first: 50/first: $3/" "$f" >"$CACHE/body-$server-$2-$3.json"; f="$CACHE/body-$server-$2-$3.json"; fi
  echo "$f"; }
check() { # URL BODY [TOKEN]: the answer must be HTTP 200 with data and no errors
  local out; out=$(curl -sS -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} --data-binary @"$2" "$1")
  jq -e '(.errors == null) and (.data != null) and ([.data[]] | all(. != null))' >/dev/null <<<"$out" \
    || { echo "check failed for $2: ${out:0:500}" >&2; exit 1; }
  echo "${#out}"; }
measure() { # TARGET QUERY CONNS RUN [PAGE]
  local target=$1 q=$2 c=$3 run=$4 page=${5:-} url pid envs f size
  f=$(body "$target" "$q" "$page")
  if [ "$target" = plugboard ]; then
    url=http://127.0.0.1:$PB_PORT/graphql; pid=$PB_PID
    local pairs=$CACHE/pairs-one.txt; [ "$q" = q_list ] && pairs=$CACHE/pairs-list.txt
    read -r k id name < <(head -1 "$pairs")
    sed "s/9cec3a1b-68a4-8f1c-fde7-419180d8afa5/${id:-none}/; s/__NAME__/$name/" "$f" >"$CACHE/check.json"
    size=$(check "$url" "$CACHE/check.json" "$k")
    envs=(BODY_FILE="$f" PAIRS_FILE="$pairs")
  else
    url=http://127.0.0.1:$PGL_PORT/graphql; pid=$PGL_PID
    local ids=$CACHE/connectors.txt; [ "$q" = q_list ] && ids=$CACHE/organisations.txt
    sed "s/9cec3a1b-68a4-8f1c-fde7-419180d8afa5/$(head -1 "$ids")/; s/29e1497f-37fe-3f23-cb32-6fefb6442c8c/$(head -1 "$ids")/" "$f" >"$CACHE/check.json"
    size=$(check "$url" "$CACHE/check.json")
    envs=(BODY_FILE="$f" IDS_FILE="$ids")
  fi
  env "${envs[@]}" wrk -t1 -c "$c" -d "${WARMUP}s" -s "$HERE/wrk/graphql.lua" "$url" >/dev/null
  local t0 s0 p0 t1 s1 p1 out
  t0=$(date +%s.%N); s0=$(tree_ticks "$pid"); p0=$(tree_ticks "$PGPID")
  out=$(env "${envs[@]}" wrk -t1 -c "$c" -d "${SECS}s" --timeout 10s -s "$HERE/wrk/graphql.lua" "$url" | grep '^RESULT')
  t1=$(date +%s.%N); s1=$(tree_ticks "$pid"); p1=$(tree_ticks "$PGPID")
  echo "$target $q ${page:-default} $c $run $size $(awk -v a="$t0" -v b="$t1" -v s="$((s1 - s0))" -v p="$((p1 - p0))" -v hz="$HZ" 'BEGIN{printf "%.2f %.2f", s/hz/(b-a), p/hz/(b-a)}') $(rss_mb "$pid") $out" | tee -a "$RAW"
}

RAW="$CACHE/raw-$(date -u +%Y%m%d-%H%M%S).txt"
echo "# target query page conns run bytes cpu_server cpu_postgres rss_mb RESULT..." >"$RAW"
for run in $(seq 1 "$RUNS"); do
  for q in $QUERIES; do
    # Updates leave dead rows behind, so an update measured later in a run meets more of them:
    # the order alternates, with PostGraphile+writes first or last.
    order="plugboard postgraphile"; [ "$q" = m_update ] && order="$order postgraphile+writes"
    [ $((run % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$order" | tac | tr '\n' ' ')
    for c in $CONNS; do
      for target in $order; do
        if [ "$target" = postgraphile+writes ]; then
          same_writes on; measure "$target" "$q" "$c" "$run"; same_writes off
        else
          measure "$target" "$q" "$c" "$run"
        fi
      done
    done
  done
done
for page in $PAGES; do
  for target in plugboard postgraphile; do measure "$target" q_list 16 1 "$page"; done
done
python3 "$HERE/report.py" "$RAW" "$ROOT/docs/benchmarks.md" >"$CACHE/report.md" && mv "$CACHE/report.md" "$ROOT/docs/benchmarks.md"
echo "report: docs/benchmarks.md (raw: $RAW)" >&2
