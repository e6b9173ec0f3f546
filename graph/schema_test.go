package graph_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/graph"
)

// TestSchemaDescriptions walks the served schema and wants a description on everything a
// front-end developer meets in the playground's Docs pane or in generated client types:
// types, fields, arguments, enum values, input fields, directives and their arguments.
// GraphQL's own built-ins (String, __Schema, @skip…) come with theirs and are not checked.
func TestSchemaDescriptions(t *testing.T) {
	schema := graph.PublicSchema()
	var missing []string
	need := func(desc, what string) {
		if strings.TrimSpace(desc) == "" {
			missing = append(missing, what)
		}
	}
	args := func(list ast.ArgumentDefinitionList, owner string) {
		for _, a := range list {
			need(a.Description, fmt.Sprintf("argument %s(%s:)", owner, a.Name))
		}
	}
	for name, def := range schema.Types {
		if def.BuiltIn {
			continue
		}
		need(def.Description, "type "+name)
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue // __typename, __schema, __type: GraphQL's own
			}
			kind := "field"
			if def.Kind == ast.InputObject {
				kind = "input field"
			}
			need(f.Description, kind+" "+name+"."+f.Name)
			args(f.Arguments, name+"."+f.Name)
		}
		for _, v := range def.EnumValues {
			need(v.Description, "enum value "+name+"."+v.Name)
		}
	}
	for name, d := range schema.Directives {
		if d.Position != nil && d.Position.Src != nil && d.Position.Src.BuiltIn {
			continue
		}
		need(d.Description, "directive @"+name)
		args(d.Arguments, "@"+name)
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no description: %s", m)
	}
}
