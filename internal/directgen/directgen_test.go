package directgen

import (
	"os"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/99designs/gqlgen/codegen/templates"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/internal/directexec"
)

// describe builds gqlgen's data for a schema whose ConnectionVariable is bound to
// domain.Variable (fields Name and Value), with the given field configuration, and describes it.
func describe(t *testing.T, schema string, fields map[string]config.TypeMapField) *Model {
	t.Helper()
	cfg := config.DefaultConfig()
	cfg.Sources = []*ast.Source{{Name: "schema.graphqls", Input: schema}}
	cfg.Exec = config.ExecConfig{Filename: "testdata/unused/generated.go", Package: "unused"}
	cfg.Resolver = config.ResolverConfig{}
	cfg.Model = config.PackageConfig{}
	cfg.Models = config.TypeMap{
		"ConnectionVariable": {Model: config.StringList{"github.com/plugboard/plugboard/internal/domain.Variable"}, Fields: fields},
	}
	if err := cfg.LoadSchema(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Init(); err != nil {
		t.Fatal(err)
	}
	data, err := codegen.BuildData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := Describe(data)
	if _, err := m.Render("direct"); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestArgumentsAndResolversAreNotPlain is the hole issue 18 found in the hand-written direct
// executor: a field that gained arguments and a resolver (name(upper:)) kept being written
// from the model, answering "alpha" where gqlgen answered "ALPHA". A field gqlgen does not
// read from the model itself is never plain here, and is served only through a hook that
// handles every argument it has.
func TestArgumentsAndResolversAreNotPlain(t *testing.T) {
	m := describe(t, `
type Query { variable: ConnectionVariable }
type ConnectionVariable {
  name(upper: Boolean = false): String!
  value: String!
  shout: String!
}`, map[string]config.TypeMapField{"name": {Resolver: true}})

	for _, c := range []struct {
		field          string
		plain, resolve bool
		args           []string
	}{
		{"name", false, true, []string{"upper"}},
		{"value", true, false, nil},
		// Not on the Go model: gqlgen calls a resolver.
		{"shout", false, true, nil},
	} {
		f := m.Field("ConnectionVariable", c.field)
		if f == nil {
			t.Fatalf("no field %s", c.field)
		}
		if f.Plain != c.plain || f.Resolver != c.resolve || strings.Join(f.Args, ",") != strings.Join(c.args, ",") {
			t.Errorf("%s: plain %v resolver %v args %v, want %v %v %v", c.field, f.Plain, f.Resolver, f.Args, c.plain, c.resolve, c.args)
		}
	}

	// The runtime serves a resolver field only with a hook handling all its arguments.
	type variable struct{}
	write := func(*directexec.Run, *variable, *directexec.Node) {}
	for _, c := range []struct {
		hook   directexec.Hook[variable]
		served bool
	}{
		{directexec.Hook[variable]{}, false},
		{directexec.Hook[variable]{Write: write}, false},
		{directexec.Hook[variable]{Args: []string{"lower"}, Write: write}, false},
		{directexec.Hook[variable]{Args: []string{"upper"}, Write: write}, true},
	} {
		f := &directexec.Field{Name: "name", Args: []string{"upper"}, Resolver: true}
		directexec.Serve(f, c.hook)
		if f.Served != c.served {
			t.Errorf("hook with args %v: served %v, want %v (%s)", c.hook.Args, f.Served, c.served, f.Why)
		}
	}
}

// TestGeneratedIsCurrent: graph/generated/direct is what `make generate` writes from the
// schema and gqlgen.yml as they are, so it was neither edited by hand nor left stale.
func TestGeneratedIsCurrent(t *testing.T) {
	t.Chdir("../..")
	cfg, err := config.LoadConfig("gqlgen.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.LoadSchema(); err != nil {
		t.Fatal(err)
	}
	// Types gqlgen generates models for (modelgen, which would write models_gen.go) are bound
	// to those models.
	for name, def := range cfg.Schema.Types {
		if !cfg.Models.Exists(name) && !strings.HasPrefix(name, "__") && (def.Kind == ast.Object || def.Kind == ast.InputObject || def.Kind == ast.Enum || def.Kind == ast.Interface || def.Kind == ast.Union) {
			cfg.Models.Add(name, cfg.Model.ImportPath()+"."+templates.ToGo(name))
		}
	}
	if err := cfg.Init(); err != nil {
		t.Fatal(err)
	}
	data, err := codegen.BuildData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Describe(data).Render("direct")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("graph/generated/direct/direct.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("graph/generated/direct/direct.go is not what make generate writes: run make generate")
	}
}
