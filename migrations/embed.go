// Package migrations holds the versioned SQL schema, one numbered set per dialect, embedded
// in the binary and applied by `plugboard migrate` and at `plugboard serve` start-up.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
