package domain

import (
	"strings"
	"time"
)

// Connection holds one customer's variables and credentials for a connector.
type Connection struct {
	ID             string
	ConnectorID    string
	OrganisationID string
	Name           string
	Variables      []Variable
	// VersionName is the pinned version; nil means the connection follows the connector's
	// default version.
	VersionName *string
	Revision    int
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Status, StatusMessage and LastCheckedAt are the connection's health (health.go): kept
	// outside Revision and UpdatedAt, which say when someone changed the connection.
	Status        ConnectionStatus
	StatusMessage *string
	LastCheckedAt *time.Time
}

// NewConnection is the input of CreateConnection. The connection starts with a copy of the
// connector's connection variables; Variables are laid on top of that copy by name.
type NewConnection struct {
	Name        string
	VersionName *string
	Variables   []Variable
}

// ConnectionUpdate replaces a connection's mutable state (update-and-unset): an omitted
// VersionName follows the default again and omitted Variables empty the list. Credentials are
// not part of it: they are write-only and change only through their own mutations.
type ConnectionUpdate struct {
	Name             string
	VersionName      *string
	Variables        []Variable
	ExpectedRevision *int
}

// Validate normalizes and checks a new connection.
func (n *NewConnection) Validate() error {
	n.Name = strings.TrimSpace(n.Name)
	if err := ValidateName("name", n.Name); err != nil {
		return err
	}
	n.VersionName = trimOptional(n.VersionName)
	if err := validatePin(n.VersionName); err != nil {
		return err
	}
	return ValidateVariables("variables", n.Variables)
}

// Validate normalizes and checks a connection update.
func (u *ConnectionUpdate) Validate() error {
	u.Name = strings.TrimSpace(u.Name)
	if err := ValidateName("name", u.Name); err != nil {
		return err
	}
	u.VersionName = trimOptional(u.VersionName)
	if err := validatePin(u.VersionName); err != nil {
		return err
	}
	return ValidateVariables("variables", u.Variables)
}

func validatePin(name *string) error {
	if name != nil && IsReservedVersionName(*name) {
		return Invalid("versionName", "%q is an alias, not a version; omit versionName to follow the connector's default version", *name)
	}
	return nil
}

// InitialVariables is a new connection's variables: the connector's defaults, with the
// connection's own laid on top by name (new names appended).
func InitialVariables(defaults, own []Variable) []Variable {
	out := append([]Variable{}, defaults...)
	pos := make(map[string]int, len(out))
	for i, v := range out {
		pos[v.Name] = i
	}
	for _, v := range own {
		if i, ok := pos[v.Name]; ok {
			out[i].Value = v.Value
			continue
		}
		pos[v.Name] = len(out)
		out = append(out, v)
	}
	return out
}

// ConnectionEdge is a connection with its cursor.
type ConnectionEdge struct {
	Cursor string
	Node   *Connection
}

// ConnectionPage is one page of a connector's connections.
type ConnectionPage struct {
	Edges       []ConnectionEdge
	PageInfo    PageInfo
	ConnectorID string
	// Status is the filter the page was read with (nil: every connection), for totalCount.
	Status *ConnectionStatus
}

// Nodes returns the page's connections without their cursors.
func (p *ConnectionPage) Nodes() []*Connection {
	return nodesOf(p.Edges, func(e ConnectionEdge) *Connection { return e.Node })
}

// ActionConnectionVariablesRemoved is the audit action written beside connection.update when
// the update drops variables the connection had: updateConnection is a full replace, so a
// client that omits variables (a rename form, say) empties them, and the trail names which.
const ActionConnectionVariablesRemoved = "connection.variables.remove"

// RemovedVariables returns the names in before that after no longer has, in before's order.
func RemovedVariables(before, after []Variable) []string {
	kept := make(map[string]bool, len(after))
	for _, v := range after {
		kept[v.Name] = true
	}
	var removed []string
	for _, v := range before {
		if !kept[v.Name] {
			removed = append(removed, v.Name)
		}
	}
	return removed
}
