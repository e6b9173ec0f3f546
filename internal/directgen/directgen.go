// Package directgen is a gqlgen plugin that writes the direct executor's field table and JSON
// writers (internal/directexec runs them) from what gqlgen itself decided about each field:
// which fields it reads from the model and which through a resolver, their arguments,
// nullability and the Go types they are bound to. `make generate` runs it with gqlgen
// (cmd/generate), so nothing copies the schema by hand: a plain field added to a type is
// written directly after the next generate, and a field that gains arguments or a resolver
// falls back to gqlgen unless a hook handles exactly those arguments.
package directgen

import (
	"bytes"
	"fmt"
	"go/format"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/codegen"
	"github.com/vektah/gqlparser/v2/ast"
)

// RuntimePath is the import path of the package the generated code runs on.
const RuntimePath = "github.com/plugboard/plugboard/internal/directexec"

// Plugin writes Filename during gqlgen's code generation; its package is named after its
// directory.
type Plugin struct{ Filename string }

// New returns the plugin writing filename.
func New(filename string) *Plugin { return &Plugin{Filename: filename} }

func (p *Plugin) Name() string { return "directgen" }

// GenerateCode implements gqlgen's plugin.CodeGenerator.
func (p *Plugin) GenerateCode(data *codegen.Data) error {
	src, err := Describe(data).Render(filepath.Base(filepath.Dir(p.Filename)))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.Filename), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p.Filename, src, 0o644)
}

// Model is what the generator found: the object types and how each field is written.
type Model struct {
	Types []*Type
	// imports maps package paths to their names in the generated file.
	imports map[string]string
}

// Type is an object type with a writer.
type Type struct {
	Name   string
	GoType types.Type // nil for the root type
	Fields []*Field
}

// Field is one field and the decision about it.
type Field struct {
	Name       string
	Object     string
	Args       []string
	Directives []string
	// Plain fields are written from the model; Resolver fields through a hook, when there is
	// one handling all of Args; Why says why any other field is never written directly.
	Plain, Resolver bool
	Why             string
	// Hook is the name of a resolver field's hook; write the Go code writing a plain field
	// from v.
	Hook  string
	write string
}

// Field returns the field typ.name, or nil.
func (m *Model) Field(typ, name string) *Field {
	for _, t := range m.Types {
		if t.Name != typ {
			continue
		}
		for _, f := range t.Fields {
			if f.Name == name {
				return f
			}
		}
	}
	return nil
}

// Describe decides, for every field of every object type that queries can reach, whether the
// writers write it from the model (plain), through a hook (resolver), or never.
func Describe(data *codegen.Data) *Model {
	m := &Model{imports: map[string]string{}}
	w := &writer{data: data, m: m, objects: map[string]*codegen.Object{}}
	for _, o := range data.Objects {
		w.objects[o.Name] = o
	}
	for _, o := range data.Objects {
		if o.Kind != ast.Object || strings.HasPrefix(o.Name, "__") || (o.Root && o.Name != data.Schema.Query.Name) {
			continue
		}
		t := &Type{Name: o.Name}
		if !o.Root {
			t.GoType = o.Type
		}
		for _, f := range o.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				t.Fields = append(t.Fields, w.field(o, f))
			}
		}
		m.Types = append(m.Types, t)
	}
	sort.Slice(m.Types, func(i, j int) bool { return m.Types[i].Name < m.Types[j].Name })
	return m
}

type writer struct {
	data    *codegen.Data
	m       *Model
	objects map[string]*codegen.Object
}

func (w *writer) field(o *codegen.Object, f *codegen.Field) *Field {
	out := &Field{Name: f.Name}
	named := f.Type
	for named.Elem != nil {
		named = named.Elem
	}
	if d := w.objects[named.Name()]; d != nil && d.Kind == ast.Object {
		out.Object = d.Name
	}
	for _, a := range f.FieldDefinition.Arguments {
		out.Args = append(out.Args, a.Name)
	}
	for _, d := range f.Directives {
		if !d.SkipRuntime {
			out.Directives = append(out.Directives, d.Name)
		}
	}
	switch {
	case f.IsResolver:
		out.Resolver = true
		out.Hook = o.Name + strings.ToUpper(f.Name[:1]) + f.Name[1:]
		return out
	case len(f.FieldDefinition.Arguments) > 0:
		out.Why = "arguments passed to a model method"
	case f.GoFieldType == codegen.GoFieldMap:
		out.Why = "a map model"
	case f.GoFieldType == codegen.GoFieldMethod && (f.MethodHasContext || !f.NoErr || f.VOkFunc):
		out.Why = "a model method taking a context or returning more than a value"
	case len(out.Directives) > 0:
		out.Why = "directives"
	case o.Root:
		out.Why = "a root field without a resolver"
	}
	if out.Why != "" {
		return out
	}
	value, addressable := "v."+f.GoFieldName, true
	if f.GoFieldType == codegen.GoFieldMethod {
		value, addressable = value+"()", false
	}
	code, why := w.value(value, addressable, f.Type, f.TypeReference.GO, 0)
	if why != "" {
		out.Why = why
		return out
	}
	out.Plain, out.write = true, code
	return out
}

// value returns code writing expr (Go type goT, GraphQL type gql), or why it cannot be written
// exactly as gqlgen writes it. addressable tells whether &expr is valid.
func (w *writer) value(expr string, addressable bool, gql *ast.Type, goT types.Type, depth int) (code, why string) {
	nullable := !gql.NonNull
	v := fmt.Sprintf("v%d", depth)
	if p, ok := goT.(*types.Pointer); ok {
		var inner string
		if o := w.object(gql); o != nil && gql.Elem == nil {
			if !types.Identical(p.Elem(), o.Type) {
				return "", fmt.Sprintf("object %s bound to %s, not to its model %s", o.Name, p.Elem(), o.Type)
			}
			inner = fmt.Sprintf("Write%s(x, %s, n.Children)", o.Name, v)
		} else if inner, why = w.value("(*"+v+")", true, gql, p.Elem(), depth+1); why != "" {
			return "", why
		}
		return fmt.Sprintf("if %s := %s; %s == nil {\nx.Missing(%t)\n} else {\n%s\n}", v, expr, v, nullable, inner), ""
	}
	if gql.Elem != nil {
		s, ok := goT.Underlying().(*types.Slice)
		if !ok {
			return "", "a list bound to " + goT.String()
		}
		i := fmt.Sprintf("i%d", depth)
		elem, why := w.value(v+"["+i+"]", true, gql.Elem, s.Elem(), depth+1)
		if why != "" {
			return "", why
		}
		list := fmt.Sprintf("x.ListOpen()\nfor %s := range %s {\nif x.Failed {\nbreak\n}\nx.ListNext(%s)\n%s\n}\nx.ListClose()", i, v, i, elem)
		if nullable {
			// gqlgen writes a nil slice of a nullable list as null, of a non-null one as [].
			list = fmt.Sprintf("if %s == nil {\nx.Null()\n} else {\n%s\n}", v, list)
		}
		return fmt.Sprintf("%s := %s\n%s", v, expr, list), ""
	}
	if o := w.object(gql); o != nil {
		if !types.Identical(goT, o.Type) {
			return "", fmt.Sprintf("object %s bound to %s, not to its model %s", o.Name, goT, o.Type)
		}
		if addressable {
			return fmt.Sprintf("Write%s(x, &%s, n.Children)", o.Name, expr), ""
		}
		return fmt.Sprintf("%s := %s\nWrite%s(x, &%s, n.Children)", v, expr, o.Name, v), ""
	}
	return w.leaf(expr, gql, goT)
}

func (w *writer) object(gql *ast.Type) *codegen.Object {
	if gql.Elem != nil {
		return nil
	}
	if o := w.objects[gql.NamedType]; o != nil && o.Kind == ast.Object && !o.Root {
		return o
	}
	return nil
}

// leaf writes a non-nil scalar or enum value.
func (w *writer) leaf(expr string, gql *ast.Type, goT types.Type) (string, string) {
	name := gql.NamedType
	def := w.data.Schema.Types[name]
	if def == nil {
		return "", "no definition of " + name
	}
	switch def.Kind {
	case ast.Enum:
		return w.enum(expr, def, goT)
	case ast.Scalar:
		return w.scalar(expr, def, !gql.NonNull, goT)
	}
	return "", fmt.Sprintf("%s is a %s", name, strings.ToLower(string(def.Kind)))
}

// scalarWriters are the scalar models whose marshalling the runtime repeats byte for byte, by
// the Go type they marshal; plugboard's scalars package marshals with graphql's functions
// (internal/directexec's tests compare them).
var scalarWriters = map[string]map[string]func(expr string, nullable bool) string{
	"github.com/99designs/gqlgen/graphql.String":           {"string": str},
	"github.com/99designs/gqlgen/graphql.ID":               {"string": str},
	"github.com/plugboard/plugboard/graph/scalars.String":  {"string": str},
	"github.com/99designs/gqlgen/graphql.Int":              {"int": integer},
	"github.com/plugboard/plugboard/graph/scalars.Int":     {"int": integer},
	"github.com/99designs/gqlgen/graphql.Boolean":          {"bool": boolean},
	"github.com/plugboard/plugboard/graph/scalars.Boolean": {"bool": boolean},
	"github.com/99designs/gqlgen/graphql.Time":             {"time.Time": timestamp},
}

func str(expr string, _ bool) string     { return "x.Str(" + expr + ")" }
func integer(expr string, _ bool) string { return "x.Int(" + expr + ")" }
func boolean(expr string, _ bool) string { return "x.Bool(" + expr + ")" }
func timestamp(expr string, nullable bool) string {
	return fmt.Sprintf("x.Time(%s, %t)", expr, nullable)
}

func (w *writer) scalar(expr string, def *ast.Definition, nullable bool, goT types.Type) (string, string) {
	entry := w.data.Config.Models[def.Name]
	for _, model := range entry.Model {
		if byType := scalarWriters[model]; byType != nil {
			if write := byType[goT.String()]; write != nil {
				return write(expr, nullable), ""
			}
		}
	}
	return "", fmt.Sprintf("scalar %s bound to %s has no direct writer", def.Name, goT)
}

// enum writes an enum value the way gqlgen's marshaller does: through the enum_values of
// gqlgen.yml, or, for an enum gqlgen generated, the value itself when it is valid.
func (w *writer) enum(expr string, def *ast.Definition, goT types.Type) (string, string) {
	named, ok := goT.(*types.Named)
	if !ok || !isString(goT) {
		return "", fmt.Sprintf("enum %s bound to %s", def.Name, goT)
	}
	entry := w.data.Config.Models[def.Name]
	if len(entry.EnumValues) == 0 {
		if named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != w.data.Config.Model.ImportPath() {
			return "", fmt.Sprintf("enum %s bound to %s without enum_values", def.Name, goT)
		}
		return fmt.Sprintf("if e := %s; e.IsValid() {\nx.Str(string(e))\n} else {\nx.Fail()\n}", expr), ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "switch %s {\n", expr)
	for _, value := range def.EnumValues {
		ev, ok := entry.EnumValues[value.Name]
		if !ok {
			continue // gqlgen's marshaller does not know it either
		}
		dot := strings.LastIndex(ev.Value, ".")
		if dot < 0 {
			return "", "enum value " + ev.Value
		}
		path, name := ev.Value[:dot], ev.Value[dot+1:]
		fmt.Fprintf(&b, "case %s.%s:\nx.Raw(%s)\n", w.m.importName(path, named), name, strconv.Quote(strconv.Quote(value.Name)))
	}
	b.WriteString("default:\nx.Fail()\n}")
	return b.String(), ""
}

func isString(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Kind() == types.String
}

// importName is the name the generated file uses for the package at path.
func (m *Model) importName(path string, hint *types.Named) string {
	if name, ok := m.imports[path]; ok {
		return name
	}
	base := filepath.Base(path)
	if hint != nil && hint.Obj().Pkg() != nil && hint.Obj().Pkg().Path() == path {
		base = hint.Obj().Pkg().Name()
	}
	name := base
	for n := 2; m.nameTaken(name); n++ {
		name = base + strconv.Itoa(n)
	}
	m.imports[path] = name
	return name
}

func (m *Model) nameTaken(name string) bool {
	for _, n := range m.imports {
		if n == name {
			return true
		}
	}
	return name == "directexec"
}

func (m *Model) qualifier(p *types.Package) string { return m.importName(p.Path(), nil) }

// Render writes the generated Go file of package pkg.
func (m *Model) Render(pkg string) ([]byte, error) {
	var body bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&body, format, args...) }
	goType := func(t *Type) string {
		if t.GoType == nil {
			return "directexec.Root"
		}
		return types.TypeString(t.GoType, m.qualifier)
	}

	p("// Hooks write the resolver fields the caller answers directly; a field whose hook is\n")
	p("// nil, or does not handle all of the field's arguments, is left to gqlgen.\ntype Hooks struct {\n")
	for _, t := range m.Types {
		for _, f := range t.Fields {
			if f.Resolver {
				p("%s directexec.Hook[%s]\n", f.Hook, goType(t))
			}
		}
	}
	p("}\n\n")

	p("// Schema is the field table of every object type, with the hooks given.\n")
	p("func Schema(h *Hooks) directexec.Schema {\ns := directexec.Schema{\n")
	for _, t := range m.Types {
		p("%q: {Name: %q, Fields: map[string]*directexec.Field{\n", t.Name, t.Name)
		for id, f := range t.Fields {
			p("%q: {ID: %d, Name: %q", f.Name, id, f.Name)
			if f.Object != "" {
				p(", Object: %q", f.Object)
			}
			if len(f.Args) > 0 {
				p(", Args: %#v", f.Args)
			}
			if len(f.Directives) > 0 {
				p(", Directives: %#v", f.Directives)
			}
			switch {
			case f.Plain:
				p(", Plain: true, Served: true")
			case f.Resolver:
				p(", Resolver: true")
			default:
				p(", Why: %q", f.Why)
			}
			p("},\n")
		}
		p("}},\n")
	}
	p("}\n")
	for _, t := range m.Types {
		for _, f := range t.Fields {
			if f.Resolver {
				p("directexec.Serve(s[%q].Fields[%q], h.%s)\n", t.Name, f.Name, f.Hook)
			}
		}
	}
	p("return s\n}\n\n")

	for _, t := range m.Types {
		p("// Write%s writes a %s with the fields of sel.\n", t.Name, t.Name)
		p("func Write%s(x *directexec.Run, v *%s, sel []*directexec.Node) {\n", t.Name, goType(t))
		p("x.Begin()\nfor i, n := range sel {\nif !x.Key(i, n) {\nreturn\n}\nswitch n.Field {\n")
		p("case directexec.Typename:\nx.Raw(%s)\n", strconv.Quote(strconv.Quote(t.Name)))
		for id, f := range t.Fields {
			switch {
			case f.Plain:
				p("case %d: // %s\n%s\n", id, f.Name, f.write)
			case f.Resolver:
				p("case %d: // %s\nx.Hooks.(*Hooks).%s.Write(x, v, n)\n", id, f.Name, f.Hook)
			}
		}
		p("default:\nx.Fail()\n}\n}\nx.End()\n}\n\n")
	}

	var out bytes.Buffer
	out.WriteString("// Code generated by internal/directgen (make generate). DO NOT EDIT.\n\n")
	fmt.Fprintf(&out, "package %s\n\nimport (\n%q\n", pkg, RuntimePath)
	paths := make([]string, 0, len(m.imports))
	for path := range m.imports {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		fmt.Fprintf(&out, "%s %q\n", m.imports[path], path)
	}
	out.WriteString(")\n\n")
	out.Write(body.Bytes())
	src, err := format.Source(out.Bytes())
	if err != nil {
		return out.Bytes(), fmt.Errorf("directgen: %w", err)
	}
	return src, nil
}
