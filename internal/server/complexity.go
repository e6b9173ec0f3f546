package server

import (
	"context"

	"github.com/99designs/gqlgen/complexity"
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
	n := c.costs.Get(op, opCtx.Variables, func() int { return complexity.Calculate(ctx, c.es, op, opCtx.Variables) })
	opCtx.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
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
