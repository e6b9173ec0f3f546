package server

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// complexityLimit refuses operations whose complexity exceeds limit, as gqlgen's
// FixedComplexityLimit does, but computes an operation's complexity once instead of on every
// request: the walk decodes the arguments of every field, and was 5 % of the server time of a
// one-connector query. The complexity depends on the variables only through the arguments of
// the priced fields (pageCost), so the values of the variables used there, and only those,
// are part of what it is cached under.
type complexityLimit struct {
	limit  int
	priced map[string]bool // "Type.field" of the fields whose complexity reads their arguments
	es     graphql.ExecutableSchema
	// Parsed documents come from gqlgen's query cache, so an operation is the same pointer on
	// every request of the same text.
	ops *lru.Cache[*ast.OperationDefinition, *operationCost]
}

// operationCost is the complexity of one operation per values of its priced variables.
type operationCost struct {
	variables []string
	mu        sync.Mutex
	byValues  map[string]int
}

// maxCostsPerOperation bounds the values remembered per operation: page sizes come from a
// small set in practice, and an operation with more is computed each time past it.
const maxCostsPerOperation = 64

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = (*complexityLimit)(nil)

func newComplexityLimit(limit int, priced map[string]bool) *complexityLimit {
	ops, _ := lru.New[*ast.OperationDefinition, *operationCost](1000)
	return &complexityLimit{limit: limit, priced: priced, ops: ops}
}

// ExtensionName is gqlgen's, so that tools reading the complexity stats find them.
func (c *complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(schema graphql.ExecutableSchema) error {
	c.es = schema
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	n := c.cost(ctx, op, opCtx.Variables)
	opCtx.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

func (c *complexityLimit) cost(ctx context.Context, op *ast.OperationDefinition, vars map[string]any) int {
	if op == nil {
		return 0
	}
	entry, ok := c.ops.Get(op)
	if !ok {
		entry = &operationCost{variables: pricedVariables(op.SelectionSet, c.priced, nil), byValues: map[string]int{}}
		c.ops.Add(op, entry)
	}
	key := ""
	if len(entry.variables) > 0 {
		values := make([]any, len(entry.variables))
		for i, name := range entry.variables {
			values[i] = vars[name]
		}
		raw, err := json.Marshal(values)
		if err != nil {
			return complexity.Calculate(ctx, c.es, op, vars)
		}
		key = string(raw)
	}
	entry.mu.Lock()
	n, ok := entry.byValues[key]
	entry.mu.Unlock()
	if ok {
		return n
	}
	n = complexity.Calculate(ctx, c.es, op, vars)
	entry.mu.Lock()
	if len(entry.byValues) < maxCostsPerOperation {
		entry.byValues[key] = n
	}
	entry.mu.Unlock()
	return n
}

// pricedVariables adds to names the variables used in the arguments of priced fields of set,
// through fragments. A field of an interface or union is priced per implementation, so its
// arguments always count.
func pricedVariables(set ast.SelectionSet, priced map[string]bool, names []string) []string {
	for _, selection := range set {
		switch s := selection.(type) {
		case *ast.Field:
			if s.ObjectDefinition == nil || s.ObjectDefinition.Kind != ast.Object || priced[s.ObjectDefinition.Name+"."+s.Name] {
				for _, arg := range s.Arguments {
					names = variablesIn(arg.Value, names)
				}
			}
			names = pricedVariables(s.SelectionSet, priced, names)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				names = pricedVariables(s.Definition.SelectionSet, priced, names)
			}
		case *ast.InlineFragment:
			names = pricedVariables(s.SelectionSet, priced, names)
		}
	}
	return names
}

func variablesIn(v *ast.Value, names []string) []string {
	if v == nil {
		return names
	}
	if v.Kind == ast.Variable {
		for _, n := range names {
			if n == v.Raw {
				return names
			}
		}
		return append(names, v.Raw)
	}
	for _, child := range v.Children {
		names = variablesIn(child.Value, names)
	}
	return names
}
