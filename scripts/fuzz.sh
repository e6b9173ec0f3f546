#!/usr/bin/env bash
# Runs each fuzz target for FUZZTIME: a duration (10s) or a number of inputs (50000x, what CI
# uses: no wall-clock deadline that Go's fuzzing coordinator can miss under CPU contention).
#
# Fuzzing instruments every package a test binary holds, the standard library and every
# dependency included, so the first build after a change of those is long and shares nothing
# with `go test`'s. Each package's instrumented test binary is built once (`go test -c -fuzz`)
# for all of its targets, which then run from that binary in the package's directory (where
# testdata/fuzz holds the seed corpus), with the cache `go test -fuzz` keeps its generated
# corpus in.
#
# Usage: scripts/fuzz.sh PKG:TARGET...   env: FUZZTIME (10s), FUZZ_CPUS (all): how many cores
# the builds and the fuzzing workers use; CI gives it 1 while the cluster test runs beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
cpus=()
if [ -n "${FUZZ_CPUS:-}" ]; then cpus=(-p "$FUZZ_CPUS"); fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
module=$($GO list -m)
cache=$($GO env GOCACHE)/fuzz

declare -A built
for t in "$@"; do
  pkg=${t%%:*}
  [ -n "${built[$pkg]:-}" ] && continue
  start=$(date +%s)
  $GO test -c -fuzz=. "${cpus[@]}" -o "$bin/${pkg//\//_}.test" "./$pkg"
  echo "fuzz: built $pkg in $(($(date +%s) - start)) s"
  built[$pkg]=1
done
for t in "$@"; do
  pkg=${t%%:*} name=${t##*:}
  start=$(date +%s)
  # -test.paniconexit0 as go test passes it: a target that calls os.Exit(0) fails.
  (cd "$pkg" && "$bin/${pkg//\//_}.test" -test.paniconexit0 -test.run='^$' -test.fuzz="^$name\$" -test.fuzztime="$FUZZTIME" \
    -test.fuzzcachedir="$cache/$module/$pkg" ${FUZZ_CPUS:+-test.parallel="$FUZZ_CPUS"})
  echo "fuzz: $name ($FUZZTIME) in $(($(date +%s) - start)) s"
done
