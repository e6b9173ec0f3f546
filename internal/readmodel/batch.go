package readmodel

import (
	"context"
	"sync"

	"github.com/plugboard/plugboard/internal/domain"
)

// Nested lists of a connector list (each connector's versions and connections) are loaded for
// the whole page at once: the list's reader registers its connectors as a group, and the first
// nested read of a group runs one query for all of them while the others wait for it. Unlike
// a timer-based dataloader this adds no latency, and a single connector (no group) is loaded
// directly.

type batchKey struct{}

// batches is operation-scoped: connector id -> the group it was listed in.
type batches struct {
	mu     sync.Mutex
	groups map[string]*group
}

type group struct {
	orgID       string
	ids         []string
	mu          sync.Mutex
	versions    map[loadKey]*groupLoad[*domain.VersionPage]
	connections map[loadKey]*groupLoad[*domain.ConnectionPage]
}

// loadKey tells loads of a group apart: page size and the parts read.
type loadKey struct {
	first int
	need  Parts
}

// groupLoad is one batched query, run once, awaited by every member of the group.
type groupLoad[T any] struct {
	once  sync.Once
	pages map[string]T
	err   error
}

// WithBatches gives an operation its own batching scope.
func WithBatches(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchKey{}, &batches{groups: map[string]*group{}})
}

// RegisterGroup records the connectors of a page, so that their nested lists load together.
// Nested pages the page read included (lists, read for nested) are recorded as loads already
// done, under the parts they were read with.
func RegisterGroup(ctx context.Context, orgID string, page *domain.ConnectorPage, lists Lists, need Parts, nested NestedFirst) {
	b, _ := ctx.Value(batchKey{}).(*batches)
	preloaded := lists.Versions != nil || lists.Connections != nil
	if b == nil || len(page.Edges) == 0 || (len(page.Edges) < 2 && !preloaded) {
		return
	}
	g := &group{orgID: orgID, versions: map[loadKey]*groupLoad[*domain.VersionPage]{}, connections: map[loadKey]*groupLoad[*domain.ConnectionPage]{}}
	for _, e := range page.Edges {
		g.ids = append(g.ids, e.Node.ID)
	}
	if lists.Versions != nil {
		g.versions[loadKey{nested.Versions, need}] = doneLoad(lists.Versions)
	}
	if lists.Connections != nil {
		g.connections[loadKey{nested.Connections, need}] = doneLoad(lists.Connections)
	}
	b.mu.Lock()
	for _, id := range g.ids {
		b.groups[id] = g
	}
	b.mu.Unlock()
}

// ForgetBatches drops every group registered so far in the operation: the direct executor's
// run that gave up registered them, and gqlgen, which answers instead, must start afresh.
func ForgetBatches(ctx context.Context) {
	if b, _ := ctx.Value(batchKey{}).(*batches); b != nil {
		b.mu.Lock()
		b.groups = map[string]*group{}
		b.mu.Unlock()
	}
}

// Registered tells how many connectors have a group in the operation.
func Registered(ctx context.Context) int {
	b, _ := ctx.Value(batchKey{}).(*batches)
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.groups)
}

// doneLoad is a load whose pages were read already.
func doneLoad[T any](pages map[string]T) *groupLoad[T] {
	l := &groupLoad[T]{pages: pages}
	l.once.Do(func() {})
	return l
}

func groupOf(ctx context.Context, connectorID string) *group {
	b, _ := ctx.Value(batchKey{}).(*batches)
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.groups[connectorID]
}

func load[T any](g *group, loads map[loadKey]*groupLoad[T], key loadKey, fetch func(ids []string) (map[string]T, error)) (map[string]T, error) {
	g.mu.Lock()
	l, ok := loads[key]
	if !ok {
		l = &groupLoad[T]{}
		loads[key] = l
	}
	g.mu.Unlock()
	l.once.Do(func() { l.pages, l.err = fetch(g.ids) })
	return l.pages, l.err
}

// Versions loads a connector's versions, batched with its group when it has one (through r),
// else alone. Parts outside need may be left empty.
func Versions(ctx context.Context, r Reader, alone domain.VersionService, c *domain.Connector, page domain.PageRequest, need Parts) (*domain.VersionPage, error) {
	return groupedPage(ctx, c, page, need, func(g *group) map[loadKey]*groupLoad[*domain.VersionPage] { return g.versions },
		r.VersionsOfConnectors, alone.FindVersions)
}

// Connections is Versions for connections.
func Connections(ctx context.Context, r Reader, alone domain.ConnectionService, c *domain.Connector, page domain.PageRequest, need Parts) (*domain.ConnectionPage, error) {
	return groupedPage(ctx, c, page, need, func(g *group) map[loadKey]*groupLoad[*domain.ConnectionPage] { return g.connections },
		r.ConnectionsOfConnectors, alone.FindConnections)
}

// groupedPage reads the first page of a nested list for the connector's whole group at once
// (batch), or for this connector alone when it has no group or the page starts after a cursor.
func groupedPage[T any](ctx context.Context, c *domain.Connector, page domain.PageRequest, need Parts,
	loads func(*group) map[loadKey]*groupLoad[T],
	batch func(ctx context.Context, orgID string, connectorIDs []string, first int, need Parts) (map[string]T, error),
	alone func(ctx context.Context, orgID, connectorID string, page domain.PageRequest) (T, error)) (T, error) {
	if g := groupOf(ctx, c.ID); g != nil && page.Plain() {
		pages, err := load(g, loads(g), loadKey{page.First, need}, func(ids []string) (map[string]T, error) {
			return batch(ctx, g.orgID, ids, page.First, need)
		})
		if err != nil {
			var none T
			return none, err
		}
		return pages[c.ID], nil
	}
	return alone(ctx, c.OrganisationID, c.ID, page)
}
