#!/bin/bash
# Interleaved before (a3744a1) / after (98054c9) runs, SQLite and PostgreSQL (one server), 5 rounds.
cd /work/wt/readpath/graph
for round in 1 2 3 4 5; do
  for which in before after2; do
    for db in sqlite postgres; do
      env=""
      [ $db = postgres ] && env="PLUGBOARD_BENCH_POSTGRES=1"
      echo "=== round $round $which $db $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
      env $env /tmp/readpath-bench/$which.test -test.run '^$' -test.bench 'Benchmark(QueryOne|QueryList|UpdateConnector)$' -test.benchtime 2s -test.benchmem 2>&1 | grep -E "^Benchmark|FAIL"
    done
  done
done
echo END
