#!/bin/bash
cd /work/wt/readpath/graph
for round in 1 2; do
for w in before after2; do
  PLUGBOARD_BENCH_POSTGRES=1 /tmp/readpath-bench/$w.test -test.run '^$' -test.bench 'BenchmarkQueryList$/direct' -test.benchtime 400x -test.cpuprofile /tmp/readpath-bench/$w.pglist$round.prof | grep ^Bench
  PLUGBOARD_BENCH_POSTGRES=1 /tmp/readpath-bench/$w.test -test.run '^$' -test.bench 'BenchmarkUpdateConnector$' -test.benchtime 2000x -test.cpuprofile /tmp/readpath-bench/$w.pgupd$round.prof | grep ^Bench
done
done
