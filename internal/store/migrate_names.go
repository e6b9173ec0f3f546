package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/plugboard/plugboard/internal/domain"
)

// nameKeysVersion is the migration that brings in the second stage's names (the rulings'
// "one migration"): name_key under domain.NameKey (NFKC case folding without
// default-ignorable characters) and connectors.sort_key (domain.SortKey) with the index that
// orders an organisation's connectors by it. It is a Go migration, the same for both
// dialects, because SQLite's SQL has no NFKC and no collation keys; only its DDL differs.
const nameKeysVersion = 6

// nameKeysDDL adds the sort key and its index: bytea and BLOB both compare bytewise, so the
// order is the key's on both databases. The default only fills existing rows until the
// recompute below; every write sets the key.
var nameKeysDDL = map[Dialect][]string{
	Postgres: {
		`ALTER TABLE connectors ADD COLUMN sort_key bytea NOT NULL DEFAULT ''::bytea`,
		`CREATE INDEX connectors_by_sort_key ON connectors (organisation_id, sort_key, id)`,
	},
	SQLite: {
		`ALTER TABLE connectors ADD COLUMN sort_key BLOB NOT NULL DEFAULT x''`,
		`CREATE INDEX connectors_by_sort_key ON connectors (organisation_id, sort_key, id)`,
	},
}

var nameKeysDownDDL = []string{
	`DROP INDEX connectors_by_sort_key`,
	`ALTER TABLE connectors DROP COLUMN sort_key`,
}

// nameKeysMigration is migration 6 for dialect d.
func nameKeysMigration(d Dialect) *goose.Migration {
	up := func(ctx context.Context, tx *sql.Tx) error {
		for _, stmt := range nameKeysDDL[d] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("name keys: %w", err)
			}
		}
		return recomputeNameKeys(ctx, tx, d, domain.NameKey, true)
	}
	down := func(ctx context.Context, tx *sql.Tx) error {
		// The keys of migrations 1-5; names renamed by the way up keep their new names.
		oldKey := func(name string) string { return strings.ToLower(strings.TrimSpace(name)) }
		if err := recomputeNameKeys(ctx, tx, d, oldKey, false); err != nil {
			return err
		}
		for _, stmt := range nameKeysDownDDL {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("name keys: %w", err)
			}
		}
		return nil
	}
	return goose.NewGoMigration(nameKeysVersion, &goose.GoFunc{RunTx: up}, &goose.GoFunc{RunTx: down})
}

// namedTable is a table whose names are unique per scope by name_key.
type namedTable struct {
	table, scope, kind string
	// suffix renames the later of two names that collide: " (2)" for display names; version
	// names, restricted to [A-Za-z0-9._+-], take "-2".
	suffix string
}

var namedTables = []namedTable{
	{"organisations", "''", "organisation", " (%d)"},
	{"connectors", "organisation_id", "connector", " (%d)"},
	{"connections", "connector_id", "connection", " (%d)"},
	{"connector_versions", "connector_id", "version", "-%d"},
}

// RecomputeNameKeys rewrites every name_key, and every connector's sort_key, from the names
// under the current rules, in one transaction. Migration 6 runs it; run it again (plugboard
// has no command for it yet) when golang.org/x/text is upgraded to tables that order or fold
// differently.
func (s *Store) RecomputeNameKeys(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := recomputeNameKeys(ctx, tx, s.dialect, domain.NameKey, true); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// recomputeNameKeys sets name_key = key(name) in every named table (and sort_key on
// connectors, when sortKeys). Rows whose names now collide with an earlier row of their scope
// (created first, then by id) cannot coexist under the new key: rather than fail start-up
// until someone renames them by hand, the later one is renamed with a numbered suffix
// ("Café (2)"), keeping every row, id and reference, and an audit event "<kind>.rename"
// (actor "migration") records it for the organisation to see.
func recomputeNameKeys(ctx context.Context, tx *sql.Tx, d Dialect, key func(string) string, sortKeys bool) error {
	q := func(query string) string {
		if d == Postgres {
			return placeholdersNumbered(query)
		}
		return query
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, t := range namedTables {
		type named struct{ id, org, scope, name, key string }
		orgColumn := "organisation_id"
		if t.table == "organisations" {
			orgColumn = "id"
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, `+orgColumn+`, `+t.scope+`, name, name_key FROM `+t.table+` ORDER BY 3, created_at, id`)
		if err != nil {
			return fmt.Errorf("recompute %s name keys: %w", t.table, err)
		}
		var all []named
		for rows.Next() {
			var r named
			if err := rows.Scan(&r.id, &r.org, &r.scope, &r.name, &r.key); err != nil {
				rows.Close()
				return fmt.Errorf("recompute %s name keys: %w", t.table, err)
			}
			all = append(all, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("recompute %s name keys: %w", t.table, err)
		}

		// Decide every new name and key in memory, scope by scope, in creation order.
		type change struct {
			named
			newName, newKey string
		}
		var changes []change
		taken := map[string]bool{}
		for i, r := range all {
			if i == 0 || r.scope != all[i-1].scope {
				clear(taken)
			}
			name, k := r.name, key(r.name)
			for n := 2; taken[k]; n++ {
				name = r.name + fmt.Sprintf(t.suffix, n)
				k = key(name)
			}
			taken[k] = true
			if name != r.name || k != r.key || (sortKeys && t.table == "connectors") {
				changes = append(changes, change{named: r, newName: name, newKey: k})
			}
		}

		// Keys are unique per scope at every statement: move the changing rows out of the way
		// first (a control character no name holds, then the id), then write the new keys.
		for _, c := range changes {
			if c.newKey == c.key {
				continue
			}
			if _, err := tx.ExecContext(ctx, q(`UPDATE `+t.table+` SET name_key = ? WHERE id = ?`), "\x01"+c.id, c.id); err != nil {
				return fmt.Errorf("recompute %s name keys: %w", t.table, err)
			}
		}
		for _, c := range changes {
			set, args := `name = ?, name_key = ?`, []any{c.newName, c.newKey}
			if sortKeys && t.table == "connectors" {
				set += `, sort_key = ?`
				args = append(args, domain.SortKey(c.newName))
			}
			if _, err := tx.ExecContext(ctx, q(`UPDATE `+t.table+` SET `+set+` WHERE id = ?`), append(args, c.id)...); err != nil {
				return fmt.Errorf("recompute %s name keys: %w", t.table, err)
			}
			if c.newName == c.name {
				continue
			}
			_, err := tx.ExecContext(ctx, q(`INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				newID(), c.org, "migration", t.kind+".rename", t.kind, c.id, encodeList([]string{"name"}), now)
			if err != nil {
				return fmt.Errorf("recompute %s name keys: %w", t.table, err)
			}
		}
	}
	return nil
}
