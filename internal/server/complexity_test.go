package server

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"

	"github.com/plugboard/plugboard/graph/generated"
)

// The cached complexity keys on the variables of the fields pageCost prices: a complexity
// function it sets and does not name would make the cache answer for other page sizes.
func TestPageCostNamesWhatItPrices(t *testing.T) {
	var cfg generated.Config
	priced := pageCost(&cfg)
	root := reflect.ValueOf(cfg.Complexity)
	set := 0
	for i := range root.NumField() {
		typ := root.Type().Field(i).Name
		fields := root.Field(i)
		for j := range fields.NumField() {
			if fields.Field(j).IsNil() {
				continue
			}
			set++
			name := fields.Type().Field(j).Name
			if key := typ + "." + strings.ToLower(name[:1]) + name[1:]; !priced[key] {
				t.Errorf("pageCost prices %s without naming it", key)
			}
		}
	}
	if set != len(priced) {
		t.Errorf("pageCost sets %d complexity functions and names %d fields", set, len(priced))
	}
}

func TestPricedVariables(t *testing.T) {
	var cfg generated.Config
	priced := pageCost(&cfg)
	schema := generated.NewExecutableSchema(cfg).Schema()
	for _, tc := range []struct{ name, query, want string }{
		{"IDOnly", `query($id: ID!) { connector(id: $id) { name versions(first: 5) { edges { node { name } } } } }`, ""},
		{"Page", `query($n: Int, $a: String) { connectors(first: $n, after: $a) { totalCount } }`, "n,a"},
		{"Nested", `query($id: ID!, $v: Int) { connector(id: $id) { versions(first: $v) { totalCount } } }`, "v"},
		{"Fragments", `query($n: Int, $m: Int) { ...Q } fragment Q on Query { connectors(first: $n) { edges { node { ... on Connector { connections(first: $m) { totalCount } } } } } }`, "n,m"},
		{"InputObject", `query($p: ProtocolType) { connectors(filter: {protocolType: $p}) { totalCount } }`, "p"},
		{"Repeated", `query($n: Int) { a: connectors(first: $n) { totalCount } b: connectors(first: $n) { totalCount } }`, "n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tc.query)
			if errs != nil {
				t.Fatal(errs)
			}
			got := pricedVariables(doc.Operations[0].SelectionSet, priced)
			if strings.Join(got, ",") != tc.want {
				t.Errorf("priced variables %v, want %s", got, tc.want)
			}
		})
	}
}

// The complexity priced once per fragment is gqlgen's on documents that spread each fragment
// once or more, and stays finite on the fragment bomb.
func TestComplexityIsGqlgens(t *testing.T) {
	var cfg generated.Config
	priced := pageCost(&cfg)
	es := generated.NewExecutableSchema(cfg)
	limit := newComplexityLimit(1000, priced)
	if err := limit.Validate(es); err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"n": 7}
	for _, query := range []string{
		`{ viewer { scopes } }`,
		`query($n: Int) { connectors(first: $n) { totalCount edges { node { name versions(first: 3) { edges { node { name actions { name } } } } } } } }`,
		`query($n: Int) { ...Q ...Q } fragment Q on Query { connectors(first: $n) { edges { node { ...C ...C } } } } fragment C on Connector { name connections { totalCount } }`,
		`{ ... on Query { connectors { edges { node { ... on Connector { id } } } } } __typename }`,
		`{ __schema { types { name } } viewer { scopes } }`,
		`query($id: ID!) { connector(id: $id) { connections(first: 2) { edges { node { credentials { id fieldsSet } } } } } }`,
	} {
		doc, errs := gqlparser.LoadQuery(es.Schema(), query)
		if errs != nil {
			t.Fatal(errs)
		}
		op := doc.Operations[0]
		if got, want := limit.calculate(context.Background(), op, vars), complexity.Calculate(context.Background(), es, op, vars); got != want {
			t.Errorf("%s: complexity %d, gqlgen's %d", query, got, want)
		}
	}
	doc, errs := gqlparser.LoadQuery(es.Schema(), doubling(60))
	if errs != nil {
		t.Fatal(errs)
	}
	if got := limit.calculate(context.Background(), doc.Operations[0], nil); got <= 1000 {
		t.Errorf("60 doubling fragments cost %d", got)
	}
}

func doubling(levels int) string {
	var b strings.Builder
	b.WriteString("fragment F0 on Query { viewer { scopes } }")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i-1, i-1)
	}
	fmt.Fprintf(&b, " query { ...F%d }", levels)
	return b.String()
}

// ConnectorVersion.document renders every action: 200 of them in one request are refused, one
// is accepted under the default limit.
func TestDocumentIsPriced(t *testing.T) {
	var cfg generated.Config
	priced := pageCost(&cfg)
	es := generated.NewExecutableSchema(cfg)
	limit := newComplexityLimit(50000, priced)
	if err := limit.Validate(es); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		min   int
		max   int
	}{
		{`query($id: ID!) { connector(id: $id) { versions(first: 200) { edges { node { document } } } } }`, 50001, 1 << 40},
		{`query($id: ID!) { connector(id: $id) { versions(first: 1) { edges { node { document(format: JSON) } } } } }`, 2001, 50000},
	} {
		doc, errs := gqlparser.LoadQuery(es.Schema(), tc.query)
		if errs != nil {
			t.Fatal(errs)
		}
		if got := limit.calculate(context.Background(), doc.Operations[0], nil); got < tc.min || got > tc.max {
			t.Errorf("%s: complexity %d, want %d..%d", tc.query, got, tc.min, tc.max)
		}
	}
}
