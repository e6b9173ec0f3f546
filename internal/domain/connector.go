package domain

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ProtocolType is how a connector talks to its external system.
type ProtocolType string

// The protocol types.
const (
	ProtocolHTTP     ProtocolType = "HTTP"
	ProtocolBigQuery ProtocolType = "BIGQUERY"
)

// Limits on connector fields; generous for real use, small enough that one request cannot
// store megabytes.
const (
	MaxNameLength        = 128
	MaxDescriptionLength = 4000
	MaxURLLength         = 2048
	MaxCategories        = 50
	MaxCategoryLength    = 64
)

// Organisation is a tenant: every connector belongs to one.
type Organisation struct {
	ID        string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Connector is the definition that lets an application talk to an external system.
type Connector struct {
	ID             string
	OrganisationID string
	ConnectorFields
	AuthSchemeConfigs   []AuthSchemeConfig
	ConnectionVariables []Variable
	Revision            int
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// ConnectorFields are the fields updateConnector replaces wholesale: each is set from the
// input, and an omitted one is unset.
type ConnectorFields struct {
	Name             string       `json:"name"`
	Description      *string      `json:"description"`
	ProtocolType     ProtocolType `json:"protocolType"`
	DocumentationURL *string      `json:"documentationURL"`
	IconURL          *string      `json:"iconURL"`
	BaseURL          *string      `json:"baseURL"`
	Categories       []string     `json:"categories"`
}

// NewConnector is the input of CreateConnector.
type NewConnector struct {
	ConnectorFields
	AuthSchemeConfigs   []AuthSchemeConfig
	ConnectionVariables []Variable
}

// ConnectorUpdate is the input of UpdateConnector: Fields replace the stored ones; the two
// lists are left alone when nil (omitted), per the update-and-unset rule's exceptions.
type ConnectorUpdate struct {
	Fields ConnectorFields
	// AuthSchemeConfigIDs, when not nil, is the new order of the existing configs.
	AuthSchemeConfigIDs *[]string
	// ConnectionVariables, when not nil, overwrites the connector's variables and those of
	// all its connections.
	ConnectionVariables *[]Variable
	// ExpectedRevision, when not nil, must equal the stored revision.
	ExpectedRevision *int
}

// Normalize trims text, turns blank optional fields into unset ones and validates the
// result. It returns the first broken rule as a BAD_USER_INPUT error naming the field.
func (f *ConnectorFields) Normalize() error {
	f.Name = strings.TrimSpace(f.Name)
	if err := ValidateName("name", f.Name); err != nil {
		return err
	}
	if err := normalizeDescription(&f.Description); err != nil {
		return err
	}
	switch f.ProtocolType {
	case ProtocolHTTP, ProtocolBigQuery:
	case "":
		return Invalid("protocolType", "is required (HTTP or BIGQUERY)")
	default:
		return Invalid("protocolType", "must be HTTP or BIGQUERY")
	}
	for _, u := range []struct {
		field string
		value **string
	}{{"documentationURL", &f.DocumentationURL}, {"iconURL", &f.IconURL}, {"baseURL", &f.BaseURL}} {
		*u.value = trimOptional(*u.value)
		if err := ValidateURL(u.field, *u.value); err != nil {
			return err
		}
	}
	cats, err := normalizeCategories(f.Categories)
	if err != nil {
		return err
	}
	f.Categories = cats
	return nil
}

// ValidateName checks a required display name: 1–128 characters, no control characters.
func ValidateName(field, name string) error {
	if name == "" {
		return Invalid(field, "is required")
	}
	if utf8.RuneCountInString(name) > MaxNameLength {
		return Invalid(field, "must be at most %d characters", MaxNameLength)
	}
	if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return Invalid(field, "must not contain control characters")
	}
	return nil
}

// ValidateURL checks an optional URL: when set it must be an absolute http or https URL with a
// host and without embedded credentials (which would be stored and shown in clear).
func ValidateURL(field string, u *string) error {
	if u == nil {
		return nil
	}
	if len(*u) > MaxURLLength {
		return Invalid(field, "must be at most %d characters", MaxURLLength)
	}
	parsed, err := url.Parse(*u)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" || parsed.Hostname() == "" {
		return Invalid(field, "must be an absolute http or https URL")
	}
	if parsed.User != nil {
		return Invalid(field, "must not contain credentials; put them in a connection's credentials")
	}
	return nil
}

func normalizeCategories(in []string) ([]string, error) {
	if len(in) > MaxCategories {
		return nil, Invalid("categories", "at most %d categories", MaxCategories)
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]int, len(in))
	for i, c := range in {
		field := fmt.Sprintf("categories[%d]", i)
		c = strings.TrimSpace(c)
		switch {
		case c == "":
			return nil, Invalid(field, "must not be blank")
		case utf8.RuneCountInString(c) > MaxCategoryLength:
			return nil, Invalid(field, "must be at most %d characters", MaxCategoryLength)
		case strings.IndexFunc(c, unicode.IsControl) >= 0:
			return nil, Invalid(field, "must not contain control characters")
		}
		if j, dup := seen[strings.ToLower(c)]; dup {
			return nil, Invalid(field, "repeats categories[%d]", j)
		}
		seen[strings.ToLower(c)] = i
		out = append(out, c)
	}
	return out, nil
}

// normalizeDescription trims an optional description (blank unsets it) and bounds its length.
func normalizeDescription(d **string) error {
	*d = trimOptional(*d)
	if *d != nil && utf8.RuneCountInString(**d) > MaxDescriptionLength {
		return Invalid("description", "must be at most %d characters", MaxDescriptionLength)
	}
	return nil
}

func trimOptional(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	if t == "" {
		return nil
	}
	return &t
}

// Validate checks and normalizes a new connector as a whole.
func (n *NewConnector) Validate() error {
	if err := n.ConnectorFields.Normalize(); err != nil {
		return err
	}
	if err := ValidateAuthSchemeConfigs("authSchemeConfigs", n.AuthSchemeConfigs); err != nil {
		return err
	}
	return ValidateVariables("connectionVariables", n.ConnectionVariables)
}

// Validate checks and normalizes the update input; the reorder is checked against the stored
// configs by ReorderAuthSchemeConfigs.
func (u *ConnectorUpdate) Validate() error {
	if err := u.Fields.Normalize(); err != nil {
		return err
	}
	if u.ConnectionVariables != nil {
		if err := ValidateVariables("connectionVariables", *u.ConnectionVariables); err != nil {
			return err
		}
	}
	return nil
}

// Apply returns the connector after the update: the replaced fields, the reordered configs and
// the overwritten variables. It checks the expected revision and the reorder.
func (u *ConnectorUpdate) Apply(c Connector) (Connector, error) {
	if u.ExpectedRevision != nil && *u.ExpectedRevision != c.Revision {
		return c, Errorf(CodeConflict, "connector %q is at revision %d, not the expected %d; reload it and apply your change again", c.ID, c.Revision, *u.ExpectedRevision)
	}
	c.ConnectorFields = u.Fields
	if u.AuthSchemeConfigIDs != nil {
		configs, err := ReorderAuthSchemeConfigs(c.AuthSchemeConfigs, *u.AuthSchemeConfigIDs)
		if err != nil {
			return c, err
		}
		c.AuthSchemeConfigs = configs
	}
	if u.ConnectionVariables != nil {
		c.ConnectionVariables = *u.ConnectionVariables
	}
	return c, nil
}

// ConnectorOrder is a sort order of connector lists.
type ConnectorOrder string

// The orders of connector lists.
const (
	OrderNameAsc       ConnectorOrder = "NAME_ASC"
	OrderNameDesc      ConnectorOrder = "NAME_DESC"
	OrderUpdatedAtDesc ConnectorOrder = "UPDATED_AT_DESC"
	OrderCreatedAtAsc  ConnectorOrder = "CREATED_AT_ASC"
)

// ConnectorFilter narrows a connector list; zero fields do not filter.
type ConnectorFilter struct {
	NameContains string
	// Categories keeps connectors carrying any of them.
	Categories   []string
	ProtocolType ProtocolType
}

// MaxFilterLength bounds filter.nameContains: longer patterns match no real name, and SQLite
// refuses LIKE patterns over 50,000 bytes ("LIKE or GLOB pattern too complex").
const MaxFilterLength = 200

// Validate bounds the filter's strings: a request limit, answered with LIMIT_EXCEEDED.
func (f ConnectorFilter) Validate() error {
	if utf8.RuneCountInString(f.NameContains) > MaxFilterLength {
		return LimitExceeded("filter.nameContains", "must be at most %d characters", MaxFilterLength)
	}
	if len(f.Categories) > MaxCategories {
		return LimitExceeded("filter.categories", "at most %d categories", MaxCategories)
	}
	for i, c := range f.Categories {
		if utf8.RuneCountInString(c) > MaxCategoryLength {
			return LimitExceeded(fmt.Sprintf("filter.categories[%d]", i), "must be at most %d characters", MaxCategoryLength)
		}
	}
	return nil
}

// PageRequest asks for a window of a list (Relay's cursor connections): the items after the
// cursor After and before the cursor Before, the first First of them or, when Backward, the
// last First of them.
type PageRequest struct {
	First  int
	After  string
	Before string
	// Backward takes the window's last items (the argument last) instead of its first.
	Backward bool
}

// Page sizes.
const (
	DefaultPageSize = 20
	MaxPageSize     = 200
)

// NormalizePageRequest applies the default size and rejects out-of-range sizes and first
// with last (which Relay leaves undefined).
func NormalizePageRequest(first *int, after *string, last *int, before *string) (PageRequest, error) {
	return NormalizePageRequestUpTo(MaxPageSize, first, after, last, before)
}

// NormalizePageRequestUpTo is NormalizePageRequest for a list whose pages hold at most max items.
func NormalizePageRequestUpTo(max int, first *int, after *string, last *int, before *string) (PageRequest, error) {
	p := PageRequest{First: DefaultPageSize}
	if first != nil && last != nil {
		return p, Invalid("last", "cannot be combined with first: ask for first items after a cursor or last items before one")
	}
	if first != nil {
		if *first < 0 || *first > max {
			return p, Invalid("first", "must be between 0 and %d", max)
		}
		p.First = *first
	}
	if last != nil {
		if *last < 0 || *last > max {
			return p, Invalid("last", "must be between 0 and %d", max)
		}
		p.First, p.Backward = *last, true
	}
	if after != nil {
		p.After = *after
	}
	if before != nil {
		p.Before = *before
	}
	return p, nil
}

// Plain tells whether the request is a list's first page read forward, the only kind the
// batched reads of nested lists serve.
func (p PageRequest) Plain() bool {
	return p.After == "" && p.Before == "" && !p.Backward
}

// PageInfo tells whether more items follow and precede a page, and its first and last cursors
// (nil on an empty page).
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// ConnectorEdge is a connector with its cursor.
type ConnectorEdge struct {
	Cursor string
	Node   *Connector
}

// ConnectorPage is one page of connectors. It keeps its query so that totalCount is counted
// only when asked for.
type ConnectorPage struct {
	Edges          []ConnectorEdge
	PageInfo       PageInfo
	OrganisationID string
	Filter         ConnectorFilter
}

// Nodes returns the page's connectors without their cursors.
func (p *ConnectorPage) Nodes() []*Connector {
	return nodesOf(p.Edges, func(e ConnectorEdge) *Connector { return e.Node })
}

// nodesOf lists the nodes of a page's edges, for clients that need no cursors.
func nodesOf[E any, N any](edges []E, node func(E) N) []N {
	out := make([]N, len(edges))
	for i, e := range edges {
		out[i] = node(e)
	}
	return out
}
