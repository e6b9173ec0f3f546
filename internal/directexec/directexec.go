// Package directexec is the runtime of the direct executor: it plans an operation against a
// table of the schema's fields and writes JSON straight into a buffer. The table and the
// writers of each object type are generated from schema.graphqls and gqlgen.yml
// (graph/generated/direct, by internal/directgen in `make generate`): a field is written
// directly only when gqlgen would read it from the model itself (no arguments, no resolver,
// a type whose marshalling the writers repeat byte for byte), or when the caller supplies a
// hook for a resolver field that handles every argument the schema gives it. Anything else
// makes the plan refuse the operation, and gqlgen answers it.
package directexec

import (
	"slices"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Typename is the Field of a node that selects __typename.
const Typename = -1

// Field is one field of an object type as the generator found it.
type Field struct {
	ID   int    // the field's case in its type's writer
	Name string // as in the schema
	// Object is the object type of the field's value (or of its elements), empty for leaves.
	Object string
	// Args are the names of the arguments the schema gives the field.
	Args []string
	// Directives are the names of the runtime directives on the field.
	Directives []string
	// Plain fields are read from the model the way gqlgen reads them; Resolver fields go
	// through a resolver in gqlgen, and directly only through a hook.
	Plain, Resolver bool
	// Served tells whether the writer of its type writes it: a plain field, or a resolver
	// field with a hook that handles all of Args.
	Served bool
	// Why says why a field is not served (for people and tests).
	Why string
}

// Type is an object type: its fields by name.
type Type struct {
	Name   string
	Fields map[string]*Field
}

// Schema is every object type the generator wrote a writer for.
type Schema map[string]*Type

// Root is the model of a root type (Query), which has none.
type Root struct{}

// Hook writes a resolver field: Args names the arguments it handles, which must include every
// argument the schema gives the field for the field to be served.
type Hook[T any] struct {
	Args  []string
	Write func(x *Run, obj *T, n *Node)
}

// Serve decides whether a field is served, given the hook for it (nil Write: none).
func Serve[T any](f *Field, h Hook[T]) {
	switch {
	case f.Plain:
		f.Served = true
	case !f.Resolver:
		// Why was set by the generator.
	case h.Write == nil:
		f.Why = "a resolver field without a hook"
	default:
		for _, a := range f.Args {
			if !slices.Contains(h.Args, a) {
				f.Why = "its hook does not handle argument " + a
				return
			}
		}
		f.Served = true
	}
}

// Node is one planned field: its response key, the field, its arguments and, for fields of
// object type, the planned fields of that object. Nodes are kept for the next requests of the
// operation and shared by their runs: what a run learns about a node goes in the run, under
// the node's Index.
type Node struct {
	Key      []byte // `"alias":`, ready to append
	Name     string
	Field    int // Field.ID, or Typename
	Def      graphql.CollectedField
	Children []*Node
	Index    int // in the operation's plan
}

// Accept lets the caller refuse a planned field (its arguments, say) and learn what a plan
// selects; typ is the object type the field belongs to.
type Accept func(typ string, f *Field, n *Node) bool

// Plan collects the selection of an object of type typ, or reports that it cannot. count
// numbers the nodes.
func Plan(oc *graphql.OperationContext, s Schema, typ string, sel ast.SelectionSet, accept Accept, count *int) ([]*Node, bool) {
	t := s[typ]
	if t == nil {
		return nil, false
	}
	fields := graphql.CollectFields(oc, sel, []string{typ})
	nodes := make([]*Node, 0, len(fields))
	for _, f := range fields {
		if f.Deferrable != nil || !onlyConditions(f.Directives) {
			return nil, false
		}
		n := &Node{Key: append(AppendString(nil, f.Alias), ':'), Name: f.Name, Field: Typename, Def: f, Index: *count}
		*count++
		if f.Name != "__typename" {
			field := t.Fields[f.Name]
			if field == nil || !field.Served || f.Definition == nil || accept != nil && !accept(typ, field, n) {
				return nil, false
			}
			n.Field = field.ID
			if field.Object != "" {
				var ok bool
				if n.Children, ok = Plan(oc, s, field.Object, f.Selections, accept, count); !ok {
					return nil, false
				}
			}
		}
		nodes = append(nodes, n)
	}
	return nodes, true
}

// onlyConditions tells whether a selection's directives are only @skip and @include, which
// CollectFields has already applied.
func onlyConditions(directives ast.DirectiveList) bool {
	for _, d := range directives {
		if d.Name != "skip" && d.Name != "include" {
			return false
		}
	}
	return true
}

// Run is one direct execution. It stops writing at the first failure; the caller then
// discards what was written.
type Run struct {
	B      []byte
	Failed bool
	// Hooks are the generated package's hooks (*direct.Hooks); State is the caller's.
	Hooks any
	State any
}

// Fail stops the run: gqlgen answers instead.
func (x *Run) Fail() { x.Failed = true }

// Check fails the run on an error and tells whether it goes on.
func (x *Run) Check(err error) bool {
	if err != nil {
		x.Failed = true
	}
	return !x.Failed
}

// Begin starts an object; Key writes a field's key (after a comma but for the first) and
// reports false once the run failed; End closes the object.
func (x *Run) Begin() { x.B = append(x.B, '{') }

func (x *Run) Key(i int, n *Node) bool {
	if x.Failed {
		return false
	}
	if i > 0 {
		x.B = append(x.B, ',')
	}
	x.B = append(x.B, n.Key...)
	return true
}

func (x *Run) End() { x.B = append(x.B, '}') }

// Raw appends JSON as it is.
func (x *Run) Raw(s string) { x.B = append(x.B, s...) }

// Null writes null.
func (x *Run) Null() { x.B = append(x.B, "null"...) }

// Str writes a string as graphql.MarshalString does.
func (x *Run) Str(s string) { x.B = AppendString(x.B, s) }

// Int writes an Int as graphql.MarshalInt does.
func (x *Run) Int(i int) { x.B = strconv.AppendInt(x.B, int64(i), 10) }

// Bool writes a Boolean.
func (x *Run) Bool(v bool) { x.B = strconv.AppendBool(x.B, v) }

// Time writes a time as graphql.MarshalTime does; a zero time is null there, which a non-null
// field leaves to gqlgen to report.
func (x *Run) Time(t time.Time, nullable bool) {
	if t.IsZero() {
		if nullable {
			x.Null()
		} else {
			x.Fail()
		}
		return
	}
	x.B = append(x.B, '"')
	x.B = t.AppendFormat(x.B, time.RFC3339Nano)
	x.B = append(x.B, '"')
}

// Missing writes a nil value: null where the schema allows it, else the run fails and gqlgen
// reports it.
func (x *Run) Missing(nullable bool) {
	if nullable {
		x.Null()
	} else {
		x.Fail()
	}
}

// ListOpen, ListNext and ListClose write [a,b,...].
func (x *Run) ListOpen() { x.B = append(x.B, '[') }

func (x *Run) ListNext(i int) {
	if i > 0 {
		x.B = append(x.B, ',')
	}
}

func (x *Run) ListClose() { x.B = append(x.B, ']') }

// AppendString quotes s the way graphql.MarshalString does (only quotes, backslashes and
// control characters are escaped), so both executors give the same bytes.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
