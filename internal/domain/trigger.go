package domain

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Trigger is an event the external system pushes to a connection, verified by an HMAC config
// of the connector. Plain values, so that versions compare field by field.
type Trigger struct {
	Name        string  `json:"name"`
	Description *string `json:"description,omitempty"`
	// AuthSchemeConfigID is the global id of the HMAC config: it survives a rename of the key.
	AuthSchemeConfigID string `json:"authSchemeConfigId"`
}

// TriggerInput is a trigger as a client gives it: the config named by its key or global id.
type TriggerInput struct {
	Name               string
	Description        *string
	AuthSchemeConfigID string
}

// MaxTriggers bounds the triggers of one version.
const MaxTriggers = 100

// ValidateTriggers checks the triggers of a version against the connector's configs and
// returns them as stored. Fields are named relative to the version's input.
func ValidateTriggers(in []TriggerInput, configs []AuthSchemeConfig) ([]Trigger, error) {
	if len(in) > MaxTriggers {
		return nil, Invalid("triggers", "at most %d triggers", MaxTriggers)
	}
	out := make([]Trigger, 0, len(in))
	seen := map[string]int{}
	for i, t := range in {
		prefix := fmt.Sprintf("triggers[%d]", i)
		name := strings.TrimSpace(t.Name)
		if name == "" || utf8.RuneCountInString(name) > MaxActionNameLength || strings.ContainsAny(name, "\r\n\t") {
			return nil, Invalid(prefix+".name", "must be 1–%d characters on one line", MaxActionNameLength)
		}
		key := NameKey(name)
		if j, dup := seen[key]; dup {
			return nil, Invalid(prefix+".name", "%s", alreadyUsed(name, out[j].Name, "name", fmt.Sprintf("triggers[%d]", j)))
		}
		seen[key] = i
		desc := t.Description
		if err := normalizeDescription(&desc); err != nil {
			return nil, WithFieldPrefix(prefix, err)
		}
		c := FindAuthSchemeConfig(configs, strings.TrimSpace(t.AuthSchemeConfigID))
		if c < 0 {
			return nil, Invalid(prefix+".authSchemeConfigId", "the connector has no auth scheme config %q", t.AuthSchemeConfigID)
		}
		if configs[c].SchemeType != SchemeHMAC {
			return nil, Invalid(prefix+".authSchemeConfigId", "auth scheme config %q is %s; a trigger is verified by an HMAC config", configs[c].Key, configs[c].SchemeType)
		}
		out = append(out, Trigger{Name: name, Description: desc, AuthSchemeConfigID: configs[c].GlobalID})
	}
	return out, nil
}

// FindTrigger returns the trigger named name (exactly), or nil.
func FindTrigger(triggers []Trigger, name string) *Trigger {
	for i := range triggers {
		if triggers[i].Name == name {
			return &triggers[i]
		}
	}
	return nil
}

// Event is one verified webhook delivery, stored as received.
type Event struct {
	ID             string
	OrganisationID string
	ConnectionID   string
	Trigger        string
	// DeliveryID is the provider's id of the delivery, by which a repeat is stored once.
	DeliveryID *string
	ReceivedAt time.Time
	// Headers are the allow-listed headers of the delivery.
	Headers []HTTPHeader
	Body    []byte
}

// EventEdge is an event with its cursor.
type EventEdge struct {
	Cursor string
	Node   *Event
}

// EventPage is one page of a connection's events, newest first.
type EventPage struct {
	Edges    []EventEdge
	PageInfo PageInfo
}

// Nodes returns the page's events without their cursors.
func (p *EventPage) Nodes() []*Event {
	return nodesOf(p.Edges, func(e EventEdge) *Event { return e.Node })
}

// Hook is where a connection's trigger receives deliveries: /hooks/<ID>.
type Hook struct {
	ID             string
	OrganisationID string
	ConnectionID   string
	Trigger        string
}

// HookTarget is what verifies a delivery to a hook at delivery time: the trigger of the
// connection's version (pinned, else default), its HMAC settings and the TRIGGER secrets.
// Secrets never leave the process.
type HookTarget struct {
	Hook     Hook
	Settings *HmacSettings
	// Secrets are the secret and, during a rotation, the previous one; empty: none set.
	Secrets []string
}

// TriggerService reads triggers and events and hands out hooks.
type TriggerService interface {
	FindVersionTriggers(ctx context.Context, orgID, versionID string) ([]Trigger, error)
	// HookFor returns the id of the hook of a connection's trigger (NOT_FOUND when the
	// connection's version has no such trigger).
	HookFor(ctx context.Context, orgID, connectionID, trigger string) (string, error)
	FindEvents(ctx context.Context, orgID, connectionID string, trigger *string, page PageRequest) (*EventPage, error)
}

// Reading events: a page holds at most MaxEventPageSize events, and the events of one answer
// at most EventBytesPerAnswer bytes of stored bodies and headers, whatever the operation asks
// (aliases, nested connections): a body is up to 1 MiB and is sent twice (body, bodyBase64),
// so without a byte bound a page of 100 would build an answer of hundreds of MB.
const (
	MaxEventPageSize    = 100
	EventBytesPerAnswer = 8 << 20
)

// EventBudget is what the events of one answer may still hold, in bytes. Fields resolve
// concurrently, so it is taken atomically.
type EventBudget struct{ left atomic.Int64 }

// NewEventBudget returns the budget of one answer.
func NewEventBudget() *EventBudget {
	b := &EventBudget{}
	b.left.Store(EventBytesPerAnswer)
	return b
}

// Take takes n bytes, or nothing and false when fewer are left.
func (b *EventBudget) Take(n int64) bool {
	for {
		left := b.left.Load()
		if n > left {
			return false
		}
		if b.left.CompareAndSwap(left, left-n) {
			return true
		}
	}
}

// Left is what is still left.
func (b *EventBudget) Left() int64 { return b.left.Load() }

type eventBudgetKey struct{}

// WithEventBudget gives the operation run under ctx one budget for all its event lists.
func WithEventBudget(ctx context.Context) context.Context {
	return context.WithValue(ctx, eventBudgetKey{}, NewEventBudget())
}

// EventBudgetOf returns the operation's budget; a read outside an operation gets one of its own.
func EventBudgetOf(ctx context.Context) *EventBudget {
	if b, ok := ctx.Value(eventBudgetKey{}).(*EventBudget); ok {
		return b
	}
	return NewEventBudget()
}
