package store_test

import (
	"bytes"
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
	"github.com/plugboard/plugboard/migrations"
)

// TestNameKeysMigration starts from a database at migration 5 holding names that were
// distinct under the old keys (lower case) but look alike under the new ones, and checks what
// migration 6 does on both databases: keys recomputed, the later look-alike renamed with an
// audit event, sort keys filled, and the new rule enforced afterwards.
func TestNameKeysMigration(t *testing.T) {
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
			at := func(minute int) time.Time { return time.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC) }
			q(`INSERT INTO organisations (id, name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, "org", "Org", "org", at(0), at(0))
			for i, name := range []string{"Caf\u00e9", "Cafe\u0301", "Zulu", "\u00c9mile", "Eagle", "Ba\u200bse", "base"} {
				id := string(rune('a' + i))
				q(`INSERT INTO connectors (id, organisation_id, name, name_key, protocol_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					id, "org", name, strings.ToLower(name), "HTTP", at(i+1), at(i+1))
			}

			if _, err := st.Migrate(ctx); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			rows, err := db.QueryContext(ctx, `SELECT id, name, name_key, sort_key FROM connectors ORDER BY sort_key, id`)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for rows.Next() {
				var id, name, key string
				var sortKey []byte
				if err := rows.Scan(&id, &name, &key, &sortKey); err != nil {
					t.Fatal(err)
				}
				if key != domain.NameKey(name) || !bytes.Equal(sortKey, domain.SortKey(name)) {
					t.Errorf("%s %q: name_key %q, sort_key %x not recomputed", id, name, key, sortKey)
				}
				names = append(names, name)
			}
			rows.Close()
			want := []string{"Ba\u200bse", "base (2)", "Caf\u00e9", "Cafe\u0301 (2)", "Eagle", "\u00c9mile", "Zulu"}
			if strings.Join(names, "|") != strings.Join(want, "|") {
				t.Errorf("connectors by sort key:\n%q\nwant\n%q", names, want)
			}
			var renames int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE action = 'connector.rename' AND actor = 'migration'`).Scan(&renames); err != nil {
				t.Fatal(err)
			}
			if renames != 2 {
				t.Errorf("%d rename audit events, want 2", renames)
			}
			// The new rule holds from now on.
			_, err = st.CreateConnector(ctx, "org", domain.NewConnector{ConnectorFields: domain.ConnectorFields{Name: "\uff3a\uff55\uff4c\uff55", ProtocolType: domain.ProtocolHTTP}})
			if domain.ErrorCode(err) != domain.CodeBadUserInput {
				t.Errorf("full-width Zulu next to Zulu: want BAD_USER_INPUT, got %v", err)
			}
		})
	}
}

func replaceEach(s, old string, next func() string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			return b.String() + s
		}
		b.WriteString(s[:i] + next())
		s = s[i+len(old):]
	}
}
