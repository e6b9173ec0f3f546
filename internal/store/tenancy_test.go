package store_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
	"github.com/plugboard/plugboard/migrations"
)

// notTenantData are the tables without organisation_id: organisations (whose id is the
// organisation), the servers' heartbeats (one row per running server, no tenant's data) and
// the migrations' own bookkeeping.
var notTenantData = map[string]bool{"organisations": true, "server_heartbeats": true, "goose_db_version": true, "sqlite_sequence": true}

// TestEveryTableNamesItsOrganisation: every table of tenant data carries a NOT NULL
// organisation_id, on both databases, so that it can be distributed by organisation.
func TestEveryTableNamesItsOrganisation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		db, err := st.SQL()
		if err != nil {
			t.Fatal(err)
		}
		tablesQuery := `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
		columnQuery := `SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'organisation_id' AND is_nullable = 'NO'`
		if st.Dialect() == store.SQLite {
			tablesQuery = `SELECT name FROM sqlite_master WHERE type = 'table'`
			columnQuery = `SELECT count(*) FROM pragma_table_info(?) WHERE name = 'organisation_id' AND "notnull" = 1`
		}
		rows, err := db.Query(tablesQuery)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, name)
		}
		rows.Close()
		if len(tables) < 8 {
			t.Fatalf("found only tables %v", tables)
		}
		for _, table := range tables {
			if notTenantData[table] {
				continue
			}
			var n int
			if err := db.QueryRow(columnQuery, table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("table %s has no NOT NULL organisation_id", table)
			}
		}
	})
}

// TestCredentialsOrganisationMigration: migration 14 fills credentials.organisation_id from
// each credential's connection, on both databases.
func TestCredentialsOrganisationMigration(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			url := filepath.Join(t.TempDir(), "plugboard.db")
			dir, gooseDialect := "sqlite", goose.DialectSQLite3
			if d == store.Postgres {
				url, dir, gooseDialect = testdb.NewPostgresDatabase(t), "postgres", goose.DialectPostgres
			}
			st, err := store.Open(url, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			db, err := st.SQL()
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			// Migration 6 is Go: Migrate brings the database to the last one, so stop at 5 here
			// and let the names migration run as production does, with the rest.
			fsys, _ := fs.Sub(migrations.FS, dir)
			old, err := goose.NewProvider(gooseDialect, db, fsys)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := old.UpTo(ctx, 5); err != nil {
				t.Fatal(err)
			}
			q := func(query string, args ...any) {
				t.Helper()
				if d == store.Postgres {
					n := 0
					query = replaceEach(query, "?", func() string { n++; return "$" + string(rune('0'+n)) })
				}
				if _, err := db.ExecContext(ctx, query, args...); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
			}
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for _, org := range []string{"o1", "o2"} {
				q(`INSERT INTO organisations (id, name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, org, org, org, now, now)
				q(`INSERT INTO connectors (id, organisation_id, name, name_key, protocol_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					"connector-"+org, org, "c", "c", "HTTP", now, now)
				q(`INSERT INTO connections (id, connector_id, organisation_id, name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					"connection-"+org, "connector-"+org, org, "n", "n", now, now)
				q(`INSERT INTO credentials (id, connection_id, auth_scheme_config_id, kind, position, key_id, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					"credential-"+org, "connection-"+org, "k", "ACTION", 0, "key", []byte{1}, now, now)
			}
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			for _, org := range []string{"o1", "o2"} {
				var got string
				if err := db.QueryRowContext(ctx, replaceEach(`SELECT organisation_id FROM credentials WHERE id = ?`, "?", func() string {
					if d == store.Postgres {
						return "$1"
					}
					return "?"
				}), "credential-"+org).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != org {
					t.Errorf("credential of %s: organisation_id %q after migration 14", org, got)
				}
			}
		})
	}
}
