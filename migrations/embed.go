// Package migrations holds the versioned SQL schema, one numbered set per dialect, embedded
// in the binary and applied by `plugboard migrate` and at `plugboard serve` start-up.
package migrations

import "embed"

// Version 6 is a Go migration, internal/store/migrate_names.go: it recomputes name keys
// under NFKC case folding and adds the connectors' collation sort keys, which SQLite's SQL
// cannot compute. New SQL migrations start at 00007.
//
// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
