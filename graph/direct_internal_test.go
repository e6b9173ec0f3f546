package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
)

// panickyConnectors lists two connectors on its first read and panics on the next: a bug in
// the middle of a direct run, after it registered a batch.
type panickyConnectors struct {
	domain.ConnectorService
	reads int
}

func (p *panickyConnectors) FindConnectorsWithLists(context.Context, string, domain.ConnectorFilter, domain.ConnectorOrder, domain.PageRequest, domain.Parts, domain.NestedFirst) (*domain.ConnectorPage, error) {
	p.reads++
	if p.reads > 1 {
		panic("bug")
	}
	return &domain.ConnectorPage{Edges: []domain.ConnectorEdge{{Node: &domain.Connector{ID: "c1"}}, {Node: &domain.Connector{ID: "c2"}}}}, nil
}

// TestDirectRunPanicLeavesNothing: a panic while the direct executor runs is recovered, the
// operation is left to gqlgen (answerDirectly reports false) and the batches the run
// registered are forgotten, so that gqlgen's resolvers load their own.
func TestDirectRunPanicLeavesNothing(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	doc, errs := gqlparser.LoadQuery(schema, `{ a: connectors(first: 2) { nodes { id } } b: connectors(first: 3) { nodes { id } } }`)
	if errs != nil {
		t.Fatal(errs)
	}
	oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}
	ctx := auth.WithPrincipal(context.Background(), &auth.Principal{OrganisationID: "org", Scopes: []domain.Scope{domain.ScopeConnectorsRead}})
	b := &batches{groups: map[string]*group{}}
	ctx = context.WithValue(ctx, batchKey{}, b)
	service := &panickyConnectors{}
	r := &Resolver{ConnectorService: service}

	if data, ok := r.answerDirectly(ctx, oc); ok || data != nil {
		t.Fatalf("answered %q after a panic", data)
	}
	if service.reads != 2 {
		t.Fatalf("%d reads, want the run to have reached the second list", service.reads)
	}
	if len(b.groups) != 0 {
		t.Fatalf("the run's batches are still registered: %v", b.groups)
	}
}
