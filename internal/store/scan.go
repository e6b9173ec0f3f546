package store

import (
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/readmodel"
)

// Hot reads scan rows by hand: GORM's reflection per row and column was a top cost of lists
// (profiled with the list benchmark). The column lists below and the fields methods keep the
// same order.

var connectorColumns = selectList("connectors.id, connectors.organisation_id, connectors.name, connectors.sort_key, connectors.description, "+
	"connectors.protocol_type, connectors.documentation_url, connectors.icon_url, connectors.base_url, connectors.categories, "+
	"connectors.auth_scheme_configs, connectors.connection_variables, connectors.revision, connectors.created_at, connectors.updated_at",
	optionalColumn{readmodel.PartCursors, "connectors.sort_key", "NULL"},
	optionalColumn{readmodel.PartConnectorDescription, "connectors.description", "NULL"},
	optionalColumn{readmodel.PartConnectorCategories, "connectors.categories", "'[]'"},
	optionalColumn{readmodel.PartConnectorAuthSchemes, "connectors.auth_scheme_configs", "'[]'"},
	optionalColumn{readmodel.PartConnectorVariables, "connectors.connection_variables", "'[]'"})

func (r *connectorRow) fields(dst []any) []any {
	return append(dst, &r.ID, &r.OrganisationID, &r.Name, &r.SortKey, &r.Description, &r.ProtocolType, &r.DocumentationURL,
		&r.IconURL, &r.BaseURL, &r.Categories, &r.AuthSchemeConfigs, &r.ConnectionVariables, &r.Revision, &r.CreatedAt, &r.UpdatedAt)
}

var versionColumns = selectList("connector_versions.id, connector_versions.connector_id, connector_versions.organisation_id, connector_versions.name, "+
	"connector_versions.name_key, connector_versions.description, connector_versions.actions, connector_versions.is_latest, "+
	"connector_versions.is_default, connector_versions.created_at, connector_versions.updated_at, connector_versions.published_at, "+
	"connector_versions.outbound_policy",
	optionalColumn{readmodel.PartVersionDescription, "connector_versions.description", "NULL"},
	optionalColumn{readmodel.PartVersionActions, "connector_versions.actions", "'[]'"})

func (r *versionRow) fields(dst []any) []any {
	return append(dst, &r.ID, &r.ConnectorID, &r.OrganisationID, &r.Name, &r.NameKey, &r.Description, &r.Actions, &r.IsLatest,
		&r.IsDefault, &r.CreatedAt, &r.UpdatedAt, &r.PublishedAt, &r.OutboundPolicy)
}

var connectionColumns = selectList("connections.id, connections.connector_id, connections.organisation_id, connections.name, connections.name_key, "+
	"connections.variables, connections.pinned_version_id, pv.name, connections.revision, connections.created_at, connections.updated_at, "+
	"connections.status, connections.status_message, connections.last_checked_at",
	optionalColumn{readmodel.PartConnectionVariables, "connections.variables", "'[]'"},
	optionalColumn{readmodel.PartConnectionVersionName, "pv.name", "NULL"})

func (r *connectionRow) fields(dst []any) []any {
	return append(dst, &r.ID, &r.ConnectorID, &r.OrganisationID, &r.Name, &r.NameKey, &r.Variables, &r.PinnedVersionID,
		&r.PinnedVersionName, &r.Revision, &r.CreatedAt, &r.UpdatedAt, &r.Status, &r.StatusMessage, &r.LastCheckedAt)
}

// The records of a connector's versions and connections read with it (record.go) leave out
// the columns the connector row already holds: every column costs the database a conversion
// per record. Meta and health columns (PartVersionMeta, PartConnectionMeta,
// PartConnectionHealth) left out are NULL, and their fields are skipped: they keep their zero
// values (a status left out reads as PENDING, unseen).
var versionRecordColumns = recordList("v.id, v.name, v.description, v.actions, v.is_latest, v.is_default, v.created_at, v.updated_at, v.published_at, v.outbound_policy",
	optionalColumn{readmodel.PartVersionDescription, "v.description", "NULL::text"},
	optionalColumn{readmodel.PartVersionActions, "v.actions", "'[]'::text"},
	optionalColumn{readmodel.PartVersionMeta, "v.id", "NULL::text"},
	optionalColumn{readmodel.PartVersionMeta, "v.created_at", "NULL::timestamptz"},
	optionalColumn{readmodel.PartVersionMeta, "v.updated_at", "NULL::timestamptz"},
	optionalColumn{readmodel.PartVersionMeta, "v.published_at", "NULL::timestamptz"},
	optionalColumn{readmodel.PartVersionPolicy, "v.outbound_policy", "NULL::jsonb"})

func (r *versionRow) recordFields(dst []any, need readmodel.Parts) []any {
	meta := need.Has(readmodel.PartVersionMeta)
	return append(dst, unlessSkipped(&r.ID, meta), &r.Name, &r.Description, &r.Actions, &r.IsLatest, &r.IsDefault,
		unlessSkipped(&r.CreatedAt, meta), unlessSkipped(&r.UpdatedAt, meta), unlessSkipped(&r.PublishedAt, meta), &r.OutboundPolicy)
}

var connectionRecordColumns = recordList("c.id, c.name, c.variables, c.pinned_version_id, pv.name, c.revision, c.created_at, c.updated_at, "+
	"c.status, c.status_message, c.last_checked_at",
	optionalColumn{readmodel.PartConnectionVariables, "c.variables", "'[]'::text"},
	optionalColumn{readmodel.PartConnectionVersionName, "pv.name", "NULL::text"},
	optionalColumn{readmodel.PartConnectionMeta, "c.id", "NULL::text"},
	optionalColumn{readmodel.PartConnectionMeta, "c.pinned_version_id", "NULL::text"},
	optionalColumn{readmodel.PartConnectionMeta, "c.revision", "NULL::integer"},
	optionalColumn{readmodel.PartConnectionMeta, "c.created_at", "NULL::timestamptz"},
	optionalColumn{readmodel.PartConnectionMeta, "c.updated_at", "NULL::timestamptz"},
	optionalColumn{readmodel.PartConnectionHealth, "c.status", "NULL::text"},
	optionalColumn{readmodel.PartConnectionHealth, "c.status_message", "NULL::text"},
	optionalColumn{readmodel.PartConnectionHealth, "c.last_checked_at", "NULL::timestamptz"})

func (r *connectionRow) recordFields(dst []any, need readmodel.Parts) []any {
	meta, health := need.Has(readmodel.PartConnectionMeta), need.Has(readmodel.PartConnectionHealth)
	return append(dst, unlessSkipped(&r.ID, meta), &r.Name, &r.Variables, unlessSkipped(&r.PinnedVersionID, meta), &r.PinnedVersionName,
		unlessSkipped(&r.Revision, meta), unlessSkipped(&r.CreatedAt, meta), unlessSkipped(&r.UpdatedAt, meta),
		unlessSkipped(&r.Status, health), unlessSkipped(&r.StatusMessage, health), unlessSkipped(&r.LastCheckedAt, health))
}

// columnList is a select list whose optional columns a read can replace by an empty value of
// the same shape (NULL, an empty JSON list) when the caller does not need them: rows scan the
// same way, and the database neither reads nor converts what nobody asked for.
type columnList struct {
	all      string
	optional []optionalColumn
	unnamed  bool     // a list of values (ROW(…)), where empty values take no names
	variants sync.Map // readmodel.Parts -> string
}

// optionalColumn is a column of a list (as written there) that holds part.
type optionalColumn struct {
	part   readmodel.Parts
	column string
	empty  string
}

func selectList(all string, optional ...optionalColumn) *columnList {
	return &columnList{all: all, optional: optional}
}

func recordList(all string, optional ...optionalColumn) *columnList {
	return &columnList{all: all, optional: optional, unnamed: true}
}

// For is the list with the columns of the parts need leaves out replaced by empty values
// (named like the column, for queries that select from it).
func (l *columnList) For(need readmodel.Parts) string {
	if v, ok := l.variants.Load(need); ok {
		return v.(string)
	}
	s := l.all
	for _, c := range l.optional {
		if need.Has(c.part) {
			continue
		}
		if l.unnamed {
			s = strings.Replace(s, c.column, c.empty, 1)
		} else {
			_, name, _ := strings.Cut(c.column, ".")
			s = strings.Replace(s, c.column, c.empty+" AS "+name, 1)
		}
	}
	l.variants.Store(need, s)
	return s
}

// row is a row type that appends the destinations of its columns to dst.
type row[T any] interface {
	*T
	fields(dst []any) []any
}

// scanAll runs q and scans every row through the fields of a fresh T.
func scanAll[T any, P row[T]](q *gorm.DB) ([]T, error) {
	return scanWith[T, P](q)
}

// scanWith is scanAll with extra destinations after T's (a ranking column).
func scanWith[T any, P row[T]](q *gorm.DB, extra ...any) ([]T, error) {
	var out []T
	err := scanEach[T, P](q, extra, func(r *T) error {
		out = append(out, *r)
		return nil
	})
	return out, err
}

// scanEach runs q and hands each row to each, scanned into the same T (each must copy what
// it keeps) with the same destinations: a row and a destination list per row were a sixth of
// a list's allocations.
func scanEach[T any, P row[T]](q *gorm.DB, extra []any, each func(*T) error) error {
	rows, err := q.Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	var r T
	dest := append(P(&r).fields(nil), extra...)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := each(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanOne scans the single row, or reports gorm.ErrRecordNotFound.
func scanOne[T any, P row[T]](q *gorm.DB) (*T, error) {
	all, err := scanAll[T, P](q.Limit(1))
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, gorm.ErrRecordNotFound
	}
	return &all[0], nil
}

// placeholders returns "?, ?, …" for n values; GORM rewrites them for the dialect.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
