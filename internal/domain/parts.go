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
