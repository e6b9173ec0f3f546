// Package readmodel owns read planning: which costly parts of records a selection needs
// (Parts, from the fields it selects: FieldParts), the first pages of nested lists a connector
// page is read with (NestedFirst), and the batching of nested lists across a page's
// connectors (batch.go). The domain's services read whole records; the store implements
// Reader, whose reads may leave out what a selection does not need, with statement texts chosen
// for its database once when it opens (internal/store/readqueries.go).
package readmodel

import (
	"context"

	"github.com/plugboard/plugboard/internal/domain"
)

// Parts names the costly parts of connectors, versions and connections (long texts and lists
// stored as JSON) that a list read may leave empty because its caller will not look at them:
// the direct executor knows what a query selects, and reading and decoding unasked-for JSON was
// a fifth of a connector list's cost. Callers that hand records on pass AllParts.
type Parts uint16

const (
	PartConnectorDescription Parts = 1 << iota
	PartConnectorCategories
	PartConnectorAuthSchemes
	PartConnectorVariables
	PartVersionDescription
	PartVersionActions
	PartConnectionVariables
	PartConnectionVersionName
	// PartVersionMeta is a version's id and times (and so isPublished); PartConnectionMeta a
	// connection's id, revision, times and pinned version id. Nested lists read with their
	// connector page leave them out when nobody asks: every value costs the database a
	// conversion per record.
	PartVersionMeta
	PartConnectionMeta
	// PartVersionPolicy is a version's outbound policy (JSON); PartConnectionHealth a
	// connection's status, statusMessage and lastCheckedAt.
	PartVersionPolicy
	PartConnectionHealth
	// PartCursors are the cursors of edges and pages.
	PartCursors
	// PartNextPage is whether another page follows (pageInfo.hasNextPage): learning it costs
	// a first page one more row.
	PartNextPage

	// AllParts reads every part.
	AllParts Parts = 1<<iota - 1
)

// Has tells whether p includes every part of q.
func (p Parts) Has(q Parts) bool { return p&q == q }

// FieldParts maps the GraphQL fields whose data a read may leave out when nobody selects them
// to their part. A field not listed is always read.
var FieldParts = map[string]map[string]Parts{
	"Connector": {
		"description": PartConnectorDescription, "categories": PartConnectorCategories,
		"authSchemeConfigs": PartConnectorAuthSchemes, "connectionVariables": PartConnectorVariables,
	},
	"ConnectorVersion": {
		"description": PartVersionDescription, "actions": PartVersionActions,
		"id": PartVersionMeta, "createdAt": PartVersionMeta, "updatedAt": PartVersionMeta,
		"publishedAt": PartVersionMeta, "isPublished": PartVersionMeta, "outboundPolicy": PartVersionPolicy,
	},
	"Connection": {
		"variables": PartConnectionVariables, "versionName": PartConnectionVersionName,
		"id": PartConnectionMeta, "revision": PartConnectionMeta, "createdAt": PartConnectionMeta,
		"updatedAt": PartConnectionMeta, "status": PartConnectionHealth, "statusMessage": PartConnectionHealth,
		"lastCheckedAt": PartConnectionHealth,
	},
	"ConnectorEdge":        {"cursor": PartCursors},
	"ConnectorVersionEdge": {"cursor": PartCursors},
	"ConnectionEdge":       {"cursor": PartCursors},
	"PageInfo": {
		"startCursor": PartCursors, "endCursor": PartCursors, "hasNextPage": PartNextPage,
	},
}

// NestedFirst asks a connector list for the first page of each connector's versions and
// connections as well, of these sizes; a size below zero leaves that list out. One read of
// all three costs the database less than a read of the page followed by one of each list.
type NestedFirst struct {
	Versions, Connections int
}

// NoNested asks for no nested lists.
var NoNested = NestedFirst{Versions: -1, Connections: -1}

// Lists hold the first page of each listed connector's versions and connections, by
// connector id, when the read was asked for them (NestedFirst); nil when it was not.
type Lists struct {
	Versions    map[string]*domain.VersionPage
	Connections map[string]*domain.ConnectionPage
}

// Reader reads what a selection needs. Parts outside need may be left empty; every method
// takes the caller's organisation, and another's records answer NOT_FOUND or nothing.
type Reader interface {
	// ConnectorsWithLists is ConnectorService.FindConnectors with the first pages of the
	// nested lists nested asks for.
	ConnectorsWithLists(ctx context.Context, orgID string, filter domain.ConnectorFilter, order domain.ConnectorOrder, page domain.PageRequest, need Parts, nested NestedFirst) (*domain.ConnectorPage, Lists, error)
	// ConnectorWithVersions reads a connector and the first page of its versions together.
	ConnectorWithVersions(ctx context.Context, orgID, id string, first int, need Parts) (*domain.Connector, *domain.VersionPage, error)
	// VersionsOfConnectors returns the first page of each connector's versions at once.
	VersionsOfConnectors(ctx context.Context, orgID string, connectorIDs []string, first int, need Parts) (map[string]*domain.VersionPage, error)
	// ConnectionsOfConnectors returns the first page of each connector's connections at once.
	ConnectionsOfConnectors(ctx context.Context, orgID string, connectorIDs []string, first int, need Parts) (map[string]*domain.ConnectionPage, error)
}
