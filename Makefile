# Plugboard. `make run` serves on the embedded SQLite file; `make test` runs every test on
# SQLite and on a throwaway PostgreSQL server started on loopback.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin:$(shell $(GO) env GOPATH 2>/dev/null)/bin

.PHONY: run build test test-short generate vet fmt check

run:
	$(GO) run ./cmd/plugboard serve

build:
	$(GO) build -o bin/plugboard ./cmd/plugboard

# The whole suite, PostgreSQL included (the script starts a server unless
# PLUGBOARD_TEST_POSTGRES_URL is set).
test:
	PLUGBOARD_TEST_REQUIRE_POSTGRES=1 ./scripts/with-postgres.sh $(GO) test -count=1 ./...

# SQLite only: PostgreSQL subtests are skipped.
test-short:
	$(GO) test -count=1 ./...

generate:
	$(GO) run github.com/99designs/gqlgen generate

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

check: vet test
