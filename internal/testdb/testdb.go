// Package testdb gives tests real databases: a fresh SQLite file per test, and a PostgreSQL
// database per test binary on the server named by PLUGBOARD_TEST_POSTGRES_URL (which
// `make test` starts on loopback). Tests share the PostgreSQL database and isolate themselves
// by creating their own organisations.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for creating the test database

	"github.com/plugboard/plugboard/internal/secrets"
	"github.com/plugboard/plugboard/internal/store"
)

// KeyringKey is the random key that seals credentials in this test binary; rotation tests
// need it to build a keyring that still opens old ciphertexts.
var KeyringKey = func() []byte {
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	return key
}()

// Keyring seals credentials in tests.
var Keyring = func() *secrets.Keyring {
	k, err := secrets.NewKeyring(KeyringKey)
	if err != nil {
		panic(err)
	}
	return k
}()

// Dialects are the databases every storage test runs on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// Each runs fn as one subtest per dialect, each with its own store.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a migrated store of dialect d. A missing PostgreSQL server skips the test,
// unless PLUGBOARD_TEST_REQUIRE_POSTGRES is set (as `make test` does), which fails it.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	switch d {
	case store.SQLite:
		st, err := store.Open(filepath.Join(t.TempDir(), "plugboard.db"), store.Options{})
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate sqlite: %v", err)
		}
		st.Secrets = Keyring
		return st
	case store.Postgres:
		return sharedPostgres(t)
	}
	t.Fatalf("unknown dialect %q", d)
	return nil
}

// OpenURL opens another store on url, as another server process would (its own pool), closed
// when the test ends; the caller migrates it when the database is new.
func OpenURL(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Secrets = Keyring
	return st
}

var (
	pgOnce  sync.Once
	pgStore *store.Store
	pgURL   string
	pgErr   error
)

// PostgresURL returns the URL of this test binary's PostgreSQL database (creating it).
func PostgresURL(t testing.TB) string {
	sharedPostgres(t)
	return pgURL
}

// NewPostgresDatabase creates an empty database on the test server and returns its URL, for
// tests that need a database of their own (migrations, the command line).
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	base := baseURL(t)
	u, err := createDatabase(base)
	if err != nil {
		t.Fatalf("create postgres database: %v", err)
	}
	return u
}

func baseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PLUGBOARD_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("PLUGBOARD_TEST_REQUIRE_POSTGRES") != "" {
			t.Fatal("PLUGBOARD_TEST_POSTGRES_URL is not set; run the suite with `make test`")
		}
		t.Skip("PostgreSQL not configured: set PLUGBOARD_TEST_POSTGRES_URL or run `make test`")
	}
	return base
}

func sharedPostgres(t testing.TB) *store.Store {
	t.Helper()
	base := baseURL(t)
	pgOnce.Do(func() {
		pgURL, pgErr = createDatabase(base)
		if pgErr != nil {
			return
		}
		pgStore, pgErr = store.Open(pgURL, store.Options{MaxOpenConns: 20})
		if pgErr != nil {
			return
		}
		_, pgErr = pgStore.Migrate(context.Background())
		pgStore.Secrets = Keyring
	})
	if pgErr != nil {
		t.Fatalf("postgres test database: %v", pgErr)
	}
	return pgStore
}

func createDatabase(base string) (string, error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "plugboard_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// RandomName returns a name unlikely to collide, for organisations created by tests sharing a
// database.
func RandomName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return strings.TrimSpace(prefix) + " " + hex.EncodeToString(b)
}
