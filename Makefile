# Plugboard. `make run` serves on the embedded SQLite file; `make test` runs every test on
# SQLite and on a throwaway PostgreSQL server started on loopback.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin:$(shell $(GO) env GOPATH 2>/dev/null)/bin

.PHONY: run build test test-short test-cluster cluster fuzz diff bench bench-hooks generate vet fmt check

run:
	$(GO) run ./cmd/plugboard serve

build:
	$(GO) build -o bin/plugboard ./cmd/plugboard

# The whole suite, PostgreSQL included (the script starts a server unless
# PLUGBOARD_TEST_POSTGRES_URL is set).
test:
	PLUGBOARD_TEST_REQUIRE_POSTGRES=1 ./scripts/with-postgres.sh $(GO) test -count=1 ./...

# Several replicas (internal/clustertest, build tag "cluster"): scripts/cluster.sh starts
# PostgreSQL, 3 replicas and HAProxy; a revoked key, a rolling restart and a killed replica
# under a write load are checked through HAProxy. A few minutes; not part of `make test`.
test-cluster:
	$(GO) test -count=1 -tags cluster -timeout 10m -v -run '^TestCluster$$' ./internal/clustertest

# A cluster to try by hand: PostgreSQL, N replicas (default 3) and HAProxy on loopback; the
# last line is HAProxy's URL. `scripts/cluster.sh status|restart|down` for the rest.
N ?= 3
cluster:
	./scripts/cluster.sh up $(N)

# SQLite only: PostgreSQL subtests are skipped.
test-short:
	$(GO) test -count=1 ./...

# Each fuzz target for FUZZTIME, a duration (10s) or a number of inputs (50000x, what CI uses:
# no wall-clock deadline to miss); one instrumented build per package (scripts/fuzz.sh). The
# seed corpora in testdata/fuzz also run in `make test`.
FUZZTIME ?= 10s
FUZZ_TARGETS = internal/jsonlist:FuzzJSONListReaders internal/domain:FuzzParseDynamicProperties internal/domain:FuzzMergeProperties \
	internal/domain:FuzzValidateVersionName internal/domain:FuzzValidateURL graph/parse:FuzzUpdateInputMapping
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZ_CPUS=$(FUZZ_CPUS) ./scripts/fuzz.sh $(FUZZ_TARGETS)

# A long run of the differential test (graph/differential_test.go: generated reads answered by
# the direct executor and by gqlgen must be the same bytes), on both databases; `make test` runs
# 1500 operations of seed 16.
DIFF_SEED ?= 1
DIFF_COUNT ?= 100000
diff:
	PLUGBOARD_DIFF_SEED=$(DIFF_SEED) PLUGBOARD_DIFF_COUNT=$(DIFF_COUNT) PLUGBOARD_TEST_REQUIRE_POSTGRES=1 \
		./scripts/with-postgres.sh $(GO) test -count=1 -timeout=0 -v -run='^TestDifferential$$' ./graph

# Plugboard vs PostGraphile 5 (1 and 2 workers) on a throwaway PostgreSQL: closed loop (wrk, every
# answer checked), open-loop p99 (vegeta), the floor of Plugboard's own statements (pgx), and
# executeAction beside HAProxy. Raw files in docs/bench/<stamp>/, then docs/benchmarks.md
# (bench/run.sh, bench/report.py; SMOKE=1 RUNS=1 SECS=3 ... for a quick check of the harness).
# `make bench RUNS=3 LEGS="q_one q_list m_update exec"`: the number of runs and the legs (q_one
# q_list m_update pages exec; default all); BASE=<revision> measures that revision's server in
# the same runs (closed loop and executeAction).
bench:
	$(if $(RUNS),RUNS='$(RUNS)') $(if $(LEGS),LEGS='$(LEGS)') $(if $(BASE),BASE='$(BASE)') ./bench/run.sh

# Verified webhook deliveries stored per second on PostgreSQL (16 senders, p99) beside pgbench's
# floor for the same INSERT (bench/hooks.sh; SECS=3 RUNS=1 for a quick check).
bench-hooks:
	./bench/hooks.sh

# gqlgen, plus the direct executor's field table and writers (internal/directgen) in
# graph/generated/direct: nothing else copies the schema.
generate:
	$(GO) run ./cmd/generate

vet:
	$(GO) vet ./...
	$(GO) vet -tags cluster ./internal/clustertest
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

check: vet test
