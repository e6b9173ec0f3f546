package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/domain"
)

// shapeLimit refuses operations nested too deeply, with too many aliases, or with too many
// top-level fields, before anything runs. Batched requests (JSON arrays of operations) are not
// accepted by the transports at all.
type shapeLimit struct {
	maxDepth, maxAliases, maxRootFields int
	// noIntrospection refuses __schema and __type up front with a clear error.
	noIntrospection bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }
func limitError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": "LIMIT_EXCEEDED"}
	return err
}

func (l shapeLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if l.noIntrospection {
		for _, sel := range oc.Operation.SelectionSet {
			if f, ok := sel.(*ast.Field); ok && (f.Name == "__schema" || f.Name == "__type") {
				return limitError("introspection is disabled on this server")
			}
		}
	}
	if n := len(oc.Operation.SelectionSet); n > l.maxRootFields {
		return limitError("the operation has %d top-level fields; at most %d are allowed", n, l.maxRootFields)
	}
	aliases := 0
	var walk func(set ast.SelectionSet, depth int, seen map[string]bool) int
	walk = func(set ast.SelectionSet, depth int, seen map[string]bool) int {
		deepest := depth
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Alias != "" && s.Alias != s.Name {
					aliases++
				}
				if len(s.SelectionSet) > 0 {
					deepest = max(deepest, walk(s.SelectionSet, depth+1, seen))
				}
			case *ast.InlineFragment:
				deepest = max(deepest, walk(s.SelectionSet, depth, seen))
			case *ast.FragmentSpread:
				// Validation rejects fragment cycles; seen guards the walk anyway.
				if s.Definition != nil && !seen[s.Name] {
					seen[s.Name] = true
					deepest = max(deepest, walk(s.Definition.SelectionSet, depth, seen))
					delete(seen, s.Name)
				}
			}
		}
		return deepest
	}
	depth := walk(oc.Operation.SelectionSet, 1, map[string]bool{})
	if depth > l.maxDepth {
		return limitError("the operation is nested %d levels deep; at most %d are allowed", depth, l.maxDepth)
	}
	if aliases > l.maxAliases {
		return limitError("the operation uses %d aliases; at most %d are allowed", aliases, l.maxAliases)
	}
	return nil
}

// pageCost makes list fields cost their page size times their children, so that the
// complexity limit sees what a connection of 100 connectors with 100 versions each costs. It
// returns the fields it prices ("Type.field"): only their arguments change a complexity.
func pageCost(cfg *generated.Config) map[string]bool {
	page := func(first *int, child int) int {
		n := domain.DefaultPageSize
		if first != nil && *first >= 0 {
			n = *first
		}
		return 1 + max(n, 1)*child
	}
	c := &cfg.Complexity
	c.Query.Connectors = func(child int, first *int, _ *string, _ *generated.ConnectorFilter, _ *domain.ConnectorOrder) int {
		return page(first, child)
	}
	c.Connector.Connections = func(child int, first *int, _ *string) int { return page(first, child) }
	c.Connector.Versions = func(child int, first *int, _ *string) int { return page(first, child) }
	// Unpaginated lists are bounded by the domain's own limits; count a typical size.
	c.Connection.Credentials = func(child int, _ *domain.CredentialKind) int { return 1 + 5*child }
	return map[string]bool{"Query.connectors": true, "Connector.connections": true, "Connector.versions": true, "Connection.credentials": true}
}
