package graph

import (
	"maps"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/graph/generated"
)

// hiddenDirectives are declared in the schema gqlgen compiles but must not be served:
// goField only steers code generation (gqlgen.yml marks it skip_runtime, but the declaration
// stays in the embedded schema), and defer comes with gqlparser's prelude although no transport
// here streams incremental results, so a client that saw it advertised would send @defer and
// get one late, whole answer instead of the parts it asked for.
var hiddenDirectives = []string{"goField", "defer"}

// PublicSchema is the schema the server executes and introspects: the generated one without
// hiddenDirectives. Without the declaration, validation refuses @defer in an operation (unknown
// directive) instead of silently ignoring it. The types are shared with the generated schema;
// only the directive table is copied.
func PublicSchema() *ast.Schema {
	base := generated.NewExecutableSchema(generated.Config{}).Schema()
	public := *base
	public.Directives = maps.Clone(base.Directives)
	for _, name := range hiddenDirectives {
		delete(public.Directives, name)
	}
	return &public
}
