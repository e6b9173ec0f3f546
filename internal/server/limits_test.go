package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/plugboard/plugboard/graph/generated"
)

// defaultDocumentLimit is the server's, with the root-field limit lifted so that the shapes
// below grow until tokens or fields stop them.
var defaultDocumentLimit = func() documentLimit {
	l := Limits{}.withDefaults()
	return documentLimit{maxTokens: l.MaxTokens, maxSelections: l.MaxFields, maxDepth: l.MaxDepth, maxAliases: l.MaxAliases, maxRootFields: 1 << 20}
}()

// hostileShapes are the documents whose validation grows fastest with their size: validation
// compares the fields of a selection set pairwise, and the fragments spread into it.
var hostileShapes = []struct {
	name  string
	build func(n int) string
}{
	{"Typenames", func(n int) string { return "{" + strings.Repeat(" __typename", n) + "}" }},
	{"RepeatedField", func(n int) string { return "{" + strings.Repeat(" viewer { scopes }", n) + "}" }},
	{"InlineFragments", func(n int) string { return "{" + strings.Repeat(" ... on Query { __typename }", n) + "}" }},
	{"SameListField", func(n int) string { return "{" + strings.Repeat(" connectors { edges { cursor } }", n) + "}" }},
	{"ManyFragments", func(n int) string {
		var b strings.Builder
		b.WriteString("query {")
		for i := range n {
			fmt.Fprintf(&b, " ...F%d", i)
		}
		b.WriteString(" }")
		for i := range n {
			fmt.Fprintf(&b, " fragment F%d on Query { __typename }", i)
		}
		return b.String()
	}},
}

// largestAccepted is the largest n whose document passes the limits.
func largestAccepted(l documentLimit, build func(int) string) (int, string) {
	lo, hi := 1, 1<<14
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if accepted(l, build(mid)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo, build(lo)
}

func accepted(l documentLimit, query string) bool {
	if over, _ := tokensOver(query, l.maxTokens); over {
		return false
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	return err == nil && l.check(doc) == nil
}

// BenchmarkValidateLargestAccepted validates, as gqlgen does, the largest document of each
// hostile shape that the default limits let through: the bound on what one request can make
// validation cost.
func BenchmarkValidateLargestAccepted(b *testing.B) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	for _, shape := range hostileShapes {
		n, query := largestAccepted(defaultDocumentLimit, shape.build)
		b.Run(fmt.Sprintf("%s/%d", shape.name, n), func(b *testing.B) {
			for b.Loop() {
				doc, err := parser.ParseQuery(&ast.Source{Input: query})
				if err != nil {
					b.Fatal(err)
				}
				if errs := validator.ValidateWithRules(schema, doc, rules.NewDefaultRules()); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
		})
	}
}

// BenchmarkCheckDocument is the cost of the limits themselves on the largest body accepted:
// 1 MiB of doubling fragments, refused after reading at most the token limit.
func BenchmarkCheckDocument(b *testing.B) {
	var q strings.Builder
	for i := 0; q.Len() < 1<<20; i++ {
		fmt.Fprintf(&q, " fragment F%d on Query { ...F%d ...F%d }", i+1, i, i)
	}
	query := q.String()
	for b.Loop() {
		if accepted(defaultDocumentLimit, query) {
			b.Fatal("accepted")
		}
	}
}

func TestShapesAreMeasuredOnce(t *testing.T) {
	for _, tc := range []struct {
		name, query    string
		depth, aliases int
	}{
		{"Leaves", `{ a b }`, 1, 0},
		{"Nested", `{ a { b { c } } }`, 3, 0},
		{"Aliases", `{ x: a { y: b } z: a }`, 2, 3},
		{"SameNameIsNoAlias", `{ a: a }`, 1, 0},
		{"FragmentDepth", `{ ...F } fragment F on Query { a { b } }`, 2, 0},
		{"FragmentAliasesPerSpread", `{ ...F ...F w: c { ...F } } fragment F on Query { x: a }`, 2, 4},
		{"Doubling60", doubling(60), 2, 0},
		{"DoublingAliases", strings.Replace(doubling(50), "viewer", "v: viewer", 1), 2, 1 << 40},
		{"Cycle", `{ ...A } fragment A on Query { ...B } fragment B on Query { x: a { ...A } }`, 2, 1},
		{"IntrospectionApart", `{ __schema { types { fields { type { ofType { ofType { name } } } } } } }`, 2, 0},
		{"UnknownFragment", `{ ...Nowhere a }`, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			depth, aliases := newShapes(doc).of(doc.Operations[0].SelectionSet)
			if depth != tc.depth || aliases != tc.aliases {
				t.Errorf("depth %d, aliases %d; want %d, %d", depth, aliases, tc.depth, tc.aliases)
			}
		})
	}
}

// Persisted queries are bounded by their total size: anyone can store one.
func TestPersistedQueriesBoundedBySize(t *testing.T) {
	ctx := t.Context()
	p := newPersistedQueries(100, 1000)
	p.Add(ctx, "huge", strings.Repeat("x", 251)) // over a quarter of the total: not kept
	if _, ok := p.Get(ctx, "huge"); ok {
		t.Error("a query over a quarter of the bound was kept")
	}
	for i := range 10 {
		p.Add(ctx, fmt.Sprint(i), strings.Repeat("q", 200))
	}
	kept := 0
	for i := range 10 {
		if _, ok := p.Get(ctx, fmt.Sprint(i)); ok {
			kept++
		}
	}
	if kept != 5 || p.bytes != 1000 {
		t.Errorf("kept %d queries of %d bytes, want 5 of 1000", kept, p.bytes)
	}
	if _, ok := p.Get(ctx, "9"); !ok {
		t.Error("the newest query was evicted")
	}
}
