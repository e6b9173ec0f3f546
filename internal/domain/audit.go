package domain

import (
	"context"
	"encoding/json"
	"reflect"
	"time"
)

// AuditEvent records one change: who, when, what, and the names of the fields it changed —
// never their values.
type AuditEvent struct {
	ID             string
	OrganisationID string
	Actor          string
	Action         string
	ResourceType   string
	ResourceID     string
	ChangedFields  []string
	CreatedAt      time.Time
}

// AuditFilter narrows the audit trail; zero fields do not filter.
type AuditFilter struct {
	ResourceType string
	ResourceID   string
	Action       string
	Actor        string
}

// AuditEdge is an event with its cursor.
type AuditEdge struct {
	Cursor string
	Node   *AuditEvent
}

// AuditPage is one page of the audit trail, newest first.
type AuditPage struct {
	Edges          []AuditEdge
	PageInfo       PageInfo
	OrganisationID string
	Filter         AuditFilter
}

// AuditService reads the audit trail of an organisation.
type AuditService interface {
	FindAuditEvents(ctx context.Context, orgID string, filter AuditFilter, page PageRequest) (*AuditPage, error)
	CountAuditEvents(ctx context.Context, orgID string, filter AuditFilter) (int, error)
}

type actorKey struct{}

// WithActor returns ctx naming who acts: "key:<id>", "jwt:<subject>" or "cli".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns who acts in ctx, "system" when nobody was named.
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// ChangedFields compares two values field by field (by their JSON form) and returns the JSON
// names of the fields that differ, in the order of the struct. It is how updates say what
// they changed without recording values.
func ChangedFields(before, after any) []string {
	var b, a map[string]json.RawMessage
	bb, _ := json.Marshal(before)
	ab, _ := json.Marshal(after)
	_ = json.Unmarshal(bb, &b)
	_ = json.Unmarshal(ab, &a)
	var names []string
	t := reflect.TypeOf(after)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		name := jsonName(t.Field(i))
		if name == "" {
			continue
		}
		if string(a[name]) != string(b[name]) {
			names = append(names, name)
		}
	}
	return names
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			tag = tag[:i]
			break
		}
	}
	if tag == "" {
		return f.Name
	}
	return tag
}

// Nodes returns the page's events without their cursors.
func (p *AuditPage) Nodes() []*AuditEvent {
	return nodesOf(p.Edges, func(e AuditEdge) *AuditEvent { return e.Node })
}
