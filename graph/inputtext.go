package graph

import (
	"context"
	"fmt"
	"sort"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/domain"
)

// InputText applies domain.CheckText to every string a field's arguments hold, before the
// field resolves: descriptions, names, variable values, actions, filters, JSON inputs, ids.
// Checking the request's values in this one place covers every input of every field, the
// ones added later included, where a check per input field would miss some; without it
// PostgreSQL answered U+0000 with an internal error while SQLite stored it.
//
// A bad string is BAD_USER_INPUT on its path relative to the argument (the argument named
// input is the root, as in the domain's errors: "actions[0].path"; others start with their
// name: "filter.nameContains"), except in an ID argument, which answers NOT_FOUND like any id
// that names nothing. The direct executor checks the same way before it reads (see
// argumentsClean) and leaves such operations to gqlgen, so both answer alike.
type InputText struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.FieldInterceptor
} = InputText{}

// ExtensionName names the extension for gqlgen.
func (InputText) ExtensionName() string { return "InputText" }

// Validate accepts any schema: the input types are looked up in Plugboard's own.
func (InputText) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptField refuses the field before its resolver runs when an argument is bad.
func (InputText) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc != nil && fc.Field.Field != nil && len(fc.Field.Arguments) > 0 {
		if err := checkArguments(fc.Field.Field, graphql.GetOperationContext(ctx).Variables); err != nil {
			return nil, err
		}
	}
	return next(ctx)
}

// inputSchema describes the input object types whose fields name the paths of errors.
var inputSchema = generated.NewExecutableSchema(generated.Config{}).Schema()

// checkArguments checks the arguments of one field, with variables and defaults applied.
func checkArguments(field *ast.Field, vars map[string]any) error {
	if field.Definition == nil || len(field.Arguments) == 0 {
		return nil
	}
	values := field.ArgumentMap(vars)
	for _, arg := range field.Definition.Arguments {
		v := values[arg.Name]
		if v == nil {
			continue
		}
		root := arg.Name
		if def := inputSchema.Types[arg.Type.Name()]; arg.Name == "input" && def != nil && def.Kind == ast.InputObject {
			root = ""
		}
		field, text, bad := badText(arg.Type, root, v)
		if !bad {
			continue
		}
		if arg.Type.Name() == "ID" {
			return domain.NotFound(arg.Name, text)
		}
		if field == "" {
			field = arg.Name
		}
		return domain.CheckText(field, text)
	}
	return nil
}

// badText finds the first string in v, of type typ at path, that CheckText refuses, and the
// path of the input field holding it (a scalar's path covers any string inside it: a JSON
// object's keys and values).
func badText(typ *ast.Type, path string, v any) (field, text string, bad bool) {
	if typ.Elem != nil {
		list, _ := v.([]any)
		for i, e := range list {
			if field, text, bad := badText(typ.Elem, fmt.Sprintf("%s[%d]", path, i), e); bad {
				return field, text, true
			}
		}
		return "", "", false
	}
	def := inputSchema.Types[typ.NamedType]
	if def == nil || def.Kind != ast.InputObject {
		text, bad := firstBadString(v)
		return path, text, bad
	}
	object, _ := v.(map[string]any)
	keys := make([]string, 0, len(object))
	for k := range object {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same bad field is named on every request
	for _, k := range keys {
		f := def.Fields.ForName(k)
		if f == nil || object[k] == nil {
			continue
		}
		if field, text, bad := badText(f.Type, joinPath(path, k), object[k]); bad {
			return field, text, true
		}
	}
	return "", "", false
}

// firstBadString walks a scalar value (a JSON object's keys and values too).
func firstBadString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, domain.CheckText("", v) != nil
	case []any:
		for _, e := range v {
			if s, bad := firstBadString(e); bad {
				return s, true
			}
		}
	case map[string]any:
		for k, e := range v {
			if domain.CheckText("", k) != nil {
				return k, true
			}
			if s, bad := firstBadString(e); bad {
				return s, true
			}
		}
	}
	return "", false
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
