package domain

import "context"

// Node is an object with a global id: the schema's Node interface. Every id the API hands out
// is unique across types and organisations (UUIDv7 row ids, and ConfigGlobalID for auth
// scheme configs), so a client's normalised cache can key objects by id alone.
type Node interface {
	// IsNode marks the types that implement the interface.
	IsNode()
}

// The types with a global id.
func (Organisation) IsNode()     {}
func (Connector) IsNode()        {}
func (AuthSchemeConfig) IsNode() {}
func (Connection) IsNode()       {}
func (Credential) IsNode()       {}
func (ConnectorVersion) IsNode() {}
func (Event) IsNode()            {}
func (APIKey) IsNode()           {}
func (AuditEvent) IsNode()       {}

// MaxNodeIDs bounds Query.nodes: each id is a lookup.
const MaxNodeIDs = 100

// NodeService finds any object of an organisation by its global id.
type NodeService interface {
	// FindNode returns NOT_FOUND for an id that is missing, foreign or of no known form.
	FindNode(ctx context.Context, orgID, id string) (Node, error)
}
