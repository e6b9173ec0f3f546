package graph

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// TestDirectTableAgreesWithGqlgen checks the direct executor's table against what gqlgen
// generated, independently of the generator: a field written from the model has no
// arguments and no resolver method in gqlgen's resolver interfaces, and a resolver field is
// served only by a hook that reads every argument the schema gives it. The hand-written table
// it replaces failed this for a field given arguments and a resolver (issue 18).
func TestDirectTableAgreesWithGqlgen(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	resolvers := map[string]bool{} // "Type.Method"
	root := reflect.TypeFor[generated.ResolverRoot]()
	for i := 0; i < root.NumMethod(); i++ {
		m := root.Method(i)
		iface := m.Type.Out(0)
		for j := 0; j < iface.NumMethod(); j++ {
			resolvers[m.Name+"."+iface.Method(j).Name] = true
		}
	}
	served := 0
	for typ, ty := range directTable {
		def := schema.Types[typ]
		if def == nil {
			t.Fatalf("%s is not in the schema", typ)
		}
		for name, f := range ty.Fields {
			fd := def.Fields.ForName(name)
			if fd == nil {
				t.Errorf("%s.%s is not in the schema", typ, name)
				continue
			}
			if !f.Served {
				continue
			}
			served++
			resolver := resolvers[typ+"."+strings.ToUpper(name[:1])+name[1:]]
			if f.Plain && (resolver || len(fd.Arguments) > 0) {
				t.Errorf("%s.%s is written from the model, but gqlgen resolves it (resolver %v, %d arguments)", typ, name, resolver, len(fd.Arguments))
			}
			if !f.Plain && !resolver {
				t.Errorf("%s.%s is served through a hook, but gqlgen has no resolver for it", typ, name)
			}
			if f.Plain {
				continue
			}
			hook := reflect.ValueOf(directHooks).FieldByName(typ + strings.ToUpper(name[:1]) + name[1:])
			if !hook.IsValid() || hook.FieldByName("Write").IsNil() {
				t.Errorf("%s.%s is served without a hook", typ, name)
				continue
			}
			for _, a := range fd.Arguments {
				if !slices.Contains(hook.FieldByName("Args").Interface().([]string), a.Name) {
					t.Errorf("%s.%s: its hook does not read argument %s", typ, name, a.Name)
				}
			}
		}
	}
	if served < 50 {
		t.Errorf("only %d fields are served directly", served)
	}
}

// TestFieldPartsNameFields: every field whose part a read may leave out exists in the table,
// so a renamed field cannot silently lose its data.
func TestFieldPartsNameFields(t *testing.T) {
	for typ, fields := range readmodel.FieldParts {
		for name := range fields {
			if ty := directTable[typ]; ty == nil || ty.Fields[name] == nil {
				t.Errorf("FieldParts names %s.%s, which the schema does not have", typ, name)
			}
		}
	}
}
