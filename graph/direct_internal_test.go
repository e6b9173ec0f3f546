package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// panickyConnectors lists two connectors on its first read and panics on the next: a bug in
// the middle of a direct run, after it registered a batch.
type panickyConnectors struct {
	readmodel.Reader
	reads int
}

func (p *panickyConnectors) ConnectorsWithLists(context.Context, string, domain.ConnectorFilter, domain.ConnectorOrder, domain.PageRequest, readmodel.Parts, readmodel.NestedFirst) (*domain.ConnectorPage, readmodel.Lists, error) {
	p.reads++
	if p.reads > 1 {
		panic("bug")
	}
	return &domain.ConnectorPage{Edges: []domain.ConnectorEdge{{Node: &domain.Connector{ID: "c1"}}, {Node: &domain.Connector{ID: "c2"}}}}, readmodel.Lists{}, nil
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
	ctx = readmodel.WithBatches(ctx)
	service := &panickyConnectors{}
	r := &Resolver{Reader: service}

	if data, ok := r.answerDirectly(ctx, oc); ok || data != nil {
		t.Fatalf("answered %q after a panic", data)
	}
	if service.reads != 2 {
		t.Fatalf("%d reads, want the run to have reached the second list", service.reads)
	}
	if n := readmodel.Registered(ctx); n != 0 {
		t.Fatalf("the run's batches are still registered: %d connectors", n)
	}
}
