package store

import (
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// nestedLists reads, in a connector page's own statement on PostgreSQL, the first pages of
// each connector's versions and connections (record.go says why).
type nestedLists struct {
	first       readmodel.NestedFirst
	need        readmodel.Parts
	orgID       string
	versions    map[string]*domain.VersionPage
	connections map[string]*domain.ConnectionPage
	// The current row's arrays, and the rows their records are decoded into.
	versionsRaw, connectionsRaw pgtype.UndecodedBytes
	version                     versionRow
	connection                  connectionRow
	versionDest, connectionDest []any
}

// nestedIn returns the reader of the nested lists a PostgreSQL page read can include, or nil;
// a nil reader adds nothing to the statement.
func (s *Store) nestedIn(orgID string, first readmodel.NestedFirst, need readmodel.Parts) *nestedLists {
	if !s.reads.inlineNested || (first.Versions < 0 && first.Connections < 0) {
		return nil
	}
	if need.Has(readmodel.PartCursors) {
		// Cursors hold ids and times.
		need |= readmodel.PartVersionMeta | readmodel.PartConnectionMeta
	}
	n := &nestedLists{first: first, need: need, orgID: orgID}
	if first.Versions >= 0 {
		n.versions = map[string]*domain.VersionPage{}
		n.versionDest = n.version.recordFields(nil, need)
	}
	if first.Connections >= 0 {
		n.connections = map[string]*domain.ConnectionPage{}
		n.connectionDest = n.connection.recordFields(nil, need)
	}
	return n
}

// reads tells whether a list of that first needs a column: a page of none still reads one row
// when someone asks whether items exist (hasNextPage).
func (n *nestedLists) reads(first int) bool { return first >= 0 && lookahead(first, n.need) > 0 }

// columns is what the page's select list gains: a correlated array per list.
func (n *nestedLists) columns() string {
	if n == nil {
		return ""
	}
	s := ""
	if n.reads(n.first.Versions) {
		s += `, ARRAY(SELECT ROW(` + versionRecordColumns.For(n.need) + `) FROM connector_versions v
			WHERE v.connector_id = connectors.id AND v.organisation_id = connectors.organisation_id
			ORDER BY v.created_at DESC, v.id DESC LIMIT ` + strconv.Itoa(lookahead(n.first.Versions, n.need)) + `)`
	}
	if n.reads(n.first.Connections) {
		join := ""
		if n.need.Has(readmodel.PartConnectionVersionName) {
			join = " LEFT JOIN connector_versions pv ON pv.id = c.pinned_version_id"
		}
		s += `, ARRAY(SELECT ROW(` + connectionRecordColumns.For(n.need) + `) FROM connections c` + join + `
			WHERE c.connector_id = connectors.id AND c.organisation_id = connectors.organisation_id
			ORDER BY c.created_at, c.id LIMIT ` + strconv.Itoa(lookahead(n.first.Connections, n.need)) + `)`
	}
	return s
}

// dest are the destinations of the columns.
func (n *nestedLists) dest() []any {
	if n == nil {
		return nil
	}
	var d []any
	if n.reads(n.first.Versions) {
		d = append(d, &n.versionsRaw)
	}
	if n.reads(n.first.Connections) {
		d = append(d, &n.connectionsRaw)
	}
	return d
}

// add builds the pages of the connector of the row just scanned.
func (n *nestedLists) add(connectorID string) error {
	if n == nil {
		return nil
	}
	if n.versions != nil {
		page := newVersionPage(connectorID, n.first.Versions)
		n.versions[connectorID] = page
		err := eachRecord(string(n.versionsRaw), n.versionsRaw == nil, n.versionDest, func() error {
			n.version.ConnectorID, n.version.OrganisationID = connectorID, n.orgID
			return addToPage(&page.Edges, &page.PageInfo, n.first.Versions, n.need, n.version.domain, versionCursor, versionEdge)
		})
		if err != nil {
			return err
		}
	}
	if n.connections != nil {
		page := newConnectionPage(connectorID, n.first.Connections)
		n.connections[connectorID] = page
		return eachRecord(string(n.connectionsRaw), n.connectionsRaw == nil, n.connectionDest, func() error {
			n.connection.ConnectorID, n.connection.OrganisationID = connectorID, n.orgID
			return addToPage(&page.Edges, &page.PageInfo, n.first.Connections, n.need, n.connection.domain, connectionCursor, connectionEdge)
		})
	}
	return nil
}

// drop forgets the lists of a connector read only to learn that another page follows.
func (n *nestedLists) drop(connectorID string) {
	if n != nil {
		delete(n.versions, connectorID)
		delete(n.connections, connectorID)
	}
}

// pages are the lists read, by connector id (nil for a list not read).
func (n *nestedLists) pages() (map[string]*domain.VersionPage, map[string]*domain.ConnectionPage) {
	if n == nil {
		return nil, nil
	}
	return n.versions, n.connections
}

var _ readmodel.Reader = (*Store)(nil)
