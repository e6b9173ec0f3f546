// Package opcache keeps what is computed from a parsed GraphQL operation (its complexity, its
// execution plan) for the next requests of the same operation. gqlgen's query cache hands out
// the same parsed document for the same text, so an operation is known by its pointer. A value
// may depend on some of the request's variables: it is kept per values of those.
package opcache

import (
	"encoding/json"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// maxValuesPerOperation bounds the values kept per operation: the variables a value depends on
// (page sizes, @skip conditions) take few values in practice, and past the bound the value is
// computed on every request.
const maxValuesPerOperation = 64

// Cache holds values of type T per operation.
type Cache[T any] struct {
	ops *lru.Cache[*ast.OperationDefinition, *entry[T]]
	// dependsOn names the variables of an operation its value depends on.
	dependsOn func(*ast.OperationDefinition) []string
}

type entry[T any] struct {
	variables []string
	mu        sync.Mutex
	byValues  map[string]T
}

// New returns a cache of at most size operations.
func New[T any](size int, dependsOn func(*ast.OperationDefinition) []string) *Cache[T] {
	ops, err := lru.New[*ast.OperationDefinition, *entry[T]](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &Cache[T]{ops: ops, dependsOn: dependsOn}
}

// Get returns op's value for the variables vars, computing it when it is not kept.
func (c *Cache[T]) Get(op *ast.OperationDefinition, vars map[string]any, compute func() T) T {
	e, ok := c.ops.Get(op)
	if !ok {
		e = &entry[T]{variables: c.dependsOn(op), byValues: map[string]T{}}
		c.ops.Add(op, e)
	}
	key := ""
	if len(e.variables) > 0 {
		values := make([]any, len(e.variables))
		for i, name := range e.variables {
			values[i] = vars[name]
		}
		raw, err := json.Marshal(values)
		if err != nil {
			return compute()
		}
		key = string(raw)
	}
	e.mu.Lock()
	v, ok := e.byValues[key]
	e.mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	e.mu.Lock()
	if len(e.byValues) < maxValuesPerOperation {
		e.byValues[key] = v
	}
	e.mu.Unlock()
	return v
}

// Variables adds to names, once each, the variables that value uses.
func Variables(value *ast.Value, names []string) []string {
	if value == nil {
		return names
	}
	if value.Kind == ast.Variable {
		for _, n := range names {
			if n == value.Raw {
				return names
			}
		}
		return append(names, value.Raw)
	}
	for _, child := range value.Children {
		names = Variables(child.Value, names)
	}
	return names
}

// Walk calls visit for every selection of set, through fragments. A fragment's selections are
// visited once however often it is spread: spreading a fragment twice in each of n fragments
// would otherwise take 2^n visits.
func Walk(set ast.SelectionSet, visit func(ast.Selection)) {
	walk(set, visit, map[string]bool{})
}

func walk(set ast.SelectionSet, visit func(ast.Selection), spread map[string]bool) {
	for _, selection := range set {
		visit(selection)
		switch s := selection.(type) {
		case *ast.Field:
			walk(s.SelectionSet, visit, spread)
		case *ast.FragmentSpread:
			if s.Definition != nil && !spread[s.Name] {
				spread[s.Name] = true
				walk(s.Definition.SelectionSet, visit, spread)
			}
		case *ast.InlineFragment:
			walk(s.SelectionSet, visit, spread)
		}
	}
}
