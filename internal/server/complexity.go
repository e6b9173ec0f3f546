package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plugboard/plugboard/internal/opcache"
)

// complexityLimit refuses operations whose complexity exceeds limit, as gqlgen's
// FixedComplexityLimit does, but computes an operation's complexity once instead of on every
// request: the walk decodes the arguments of every field, and was 5 % of the server time of a
// one-connector query. The complexity depends on the variables only through the arguments of
// the priced fields (pageCost), so it is kept per values of the variables used there.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
	costs *opcache.Cache[int]
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = (*complexityLimit)(nil)

// newComplexityLimit takes the fields ("Type.field") whose complexity reads their arguments.
func newComplexityLimit(limit int, priced map[string]bool) *complexityLimit {
	return &complexityLimit{limit: limit, costs: opcache.New[int](1000, func(op *ast.OperationDefinition) []string {
		return pricedVariables(op.SelectionSet, priced)
	})}
}

// ExtensionName is gqlgen's, so that tools reading the complexity stats find them.
func (c *complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(schema graphql.ExecutableSchema) error {
	c.es = schema
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	if op == nil {
		return nil // gqlgen has already refused it
	}
	n := c.costs.Get(op, opCtx.Variables, func() int { return c.calculate(ctx, op, opCtx.Variables) })
	opCtx.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

// calculate is gqlgen's complexity.Calculate with each fragment priced once: gqlgen's walk
// prices a fragment again at every spread, which takes 2^n steps for n fragments that each
// spread the one before twice. A fragment costs the same wherever it is spread, since the
// variables are those of the whole operation.
func (c *complexityLimit) calculate(ctx context.Context, op *ast.OperationDefinition, vars map[string]any) int {
	w := complexityWalk{es: c.es, schema: c.es.Schema(), vars: vars, fragments: map[string]int{}}
	return w.set(ctx, op.SelectionSet)
}

type complexityWalk struct {
	es        graphql.ExecutableSchema
	schema    *ast.Schema
	vars      map[string]any
	fragments map[string]int
}

func (w *complexityWalk) set(ctx context.Context, set ast.SelectionSet) int {
	total := 0
	for _, selection := range set {
		switch s := selection.(type) {
		case *ast.Field:
			total = saturatingAdd(total, w.field(ctx, s))
		case *ast.FragmentSpread:
			n, ok := w.fragments[s.Name]
			if !ok {
				n = w.set(ctx, s.Definition.SelectionSet)
				w.fragments[s.Name] = n
			}
			total = saturatingAdd(total, n)
		case *ast.InlineFragment:
			total = saturatingAdd(total, w.set(ctx, s.SelectionSet))
		}
	}
	return total
}

// field prices a field as gqlgen does: the schema's complexity function when it has one, else
// one plus its children; a field of an interface costs what its most expensive implementation
// does; the introspection schema is free.
func (w *complexityWalk) field(ctx context.Context, f *ast.Field) int {
	typ := w.schema.Types[f.Definition.Type.Name()]
	if typ.Name == "__Schema" {
		return 0
	}
	child := 0
	switch typ.Kind {
	case ast.Object, ast.Interface, ast.Union:
		child = w.set(ctx, f.SelectionSet)
	}
	args := f.ArgumentMap(w.vars)
	price := func(def *ast.Definition) int {
		if n, ok := w.es.Complexity(ctx, def.Name, f.Name, child, args); ok && n >= 1 {
			return n
		}
		return saturatingAdd(1, child)
	}
	if f.ObjectDefinition.Kind != ast.Interface {
		return price(f.ObjectDefinition)
	}
	most := 0
	for _, def := range w.schema.GetPossibleTypes(f.ObjectDefinition) {
		most = max(most, price(def))
	}
	return most
}

// pricedVariables names the variables used in the arguments of priced fields of set, through
// fragments. A field of an interface or union is priced per implementation, so its arguments
// always count.
func pricedVariables(set ast.SelectionSet, priced map[string]bool) []string {
	var names []string
	opcache.Walk(set, func(selection ast.Selection) {
		f, ok := selection.(*ast.Field)
		if !ok || f.ObjectDefinition != nil && f.ObjectDefinition.Kind == ast.Object && !priced[f.ObjectDefinition.Name+"."+f.Name] {
			return
		}
		for _, arg := range f.Arguments {
			names = opcache.Variables(arg.Value, names)
		}
	})
	return names
}
