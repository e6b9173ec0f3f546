package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plugboard/plugboard/internal/opcache"
)

// conditionValues refuses an operation whose @skip or @include condition is a variable without
// a boolean value (a nullable Boolean variable sent as null, or left out without a default).
// Validation lets such a variable through; gqlgen then panics while collecting fields, which
// answered an internal error and logged a stack for what is the client's mistake.
type conditionValues struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = conditionValues{}

func (conditionValues) ExtensionName() string                   { return "ConditionValues" }
func (conditionValues) Validate(graphql.ExecutableSchema) error { return nil }

func (conditionValues) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	// Only a nullable Boolean variable can be null where a condition needs a value.
	unset := map[string]bool{}
	for _, v := range oc.Operation.VariableDefinitions {
		if v.Type.NamedType == "Boolean" && !v.Type.NonNull {
			if _, ok := oc.Variables[v.Variable].(bool); !ok {
				unset[v.Variable] = true
			}
		}
	}
	if len(unset) == 0 {
		return nil
	}
	name := conditionUsing(oc.Operation.SelectionSet, unset)
	if name == "" {
		return nil
	}
	err := gqlerror.Errorf("must be true or false: it is the condition of @skip or @include")
	err.Path = ast.Path{ast.PathName("variable"), ast.PathName(name)}
	err.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}
	return err
}

// conditionUsing names the first variable of unset that a @skip or @include of set uses.
func conditionUsing(set ast.SelectionSet, unset map[string]bool) string {
	name := ""
	opcache.Walk(set, func(sel ast.Selection) {
		var directives ast.DirectiveList
		switch sel := sel.(type) {
		case *ast.Field:
			directives = sel.Directives
		case *ast.InlineFragment:
			directives = sel.Directives
		case *ast.FragmentSpread:
			directives = sel.Directives
		}
		for _, d := range directives {
			if arg := d.Arguments.ForName("if"); name == "" && (d.Name == "skip" || d.Name == "include") &&
				arg != nil && arg.Value.Kind == ast.Variable && unset[arg.Value.Raw] {
				name = arg.Value.Raw
			}
		}
	})
	return name
}
