package store

import (
	"slices"
	"strings"
	"testing"
)

// The records of versions and connections read with their connector page (nested.go) hold
// every column of a version or connection row but those the connector row gives them: a
// column added to the row (a new plain field, which the direct executor then writes from
// these records) must be added to the record too, or nested lists would show it empty.
func TestRecordsHoldEveryColumn(t *testing.T) {
	fromParent := []string{"connector_id", "organisation_id", "name_key"}
	for _, c := range []struct {
		name        string
		row, record *columnList
	}{
		{"versions", versionColumns, versionRecordColumns},
		{"connections", connectionColumns, connectionRecordColumns},
	} {
		var record []string
		for _, col := range strings.Split(c.record.all, ",") {
			record = append(record, strings.TrimSpace(col))
		}
		for _, col := range strings.Split(c.row.all, ",") {
			table, name, _ := strings.Cut(strings.TrimSpace(col), ".")
			if slices.Contains(fromParent, name) {
				continue
			}
			alias := "v."
			if c.name == "connections" {
				alias = "c."
			}
			if table == "pv" {
				alias = "pv."
			}
			if !slices.Contains(record, alias+name) {
				t.Errorf("%s: the nested record lacks %s", c.name, col)
			}
		}
	}
}
