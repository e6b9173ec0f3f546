package domain

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
