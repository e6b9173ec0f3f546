package graph_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// The differential test generates read operations from the schema, seeded, and sends each to a
// server with the direct executor and to one without it (gqlgen answers everything), over the
// same data: the HTTP status and the bytes of the answers must be the same. The direct executor
// must answer exactly like gqlgen or hand the operation to it; hand-written cases
// (TestDirectMatchesGqlgen) only cover what someone thought of.
//
// `make test` runs a fixed seed and a bounded count on both databases; PLUGBOARD_DIFF_SEED and
// PLUGBOARD_DIFF_COUNT choose others (`make diff` runs a long one).

const (
	diffDefaultSeed  = 16
	diffDefaultCount = 1500
	// diffMaxMismatches stops a run after this many divergences, each reported on its own.
	diffMaxMismatches = 5
	// diffMaxDepth keeps documents small and introspection within the depth limit.
	diffMaxDepth = 8
)

func TestDifferential(t *testing.T) {
	seed := diffEnvInt(t, "PLUGBOARD_DIFF_SEED", diffDefaultSeed)
	count := diffEnvInt(t, "PLUGBOARD_DIFF_COUNT", diffDefaultCount)
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		env := newDiffEnv(t, st)
		g := newDiffGen(env, seed)
		mismatches := 0
		for i := 0; i < count && mismatches < diffMaxMismatches; i++ {
			d := g.document()
			direct, gqlgen := env.both(t, d)
			if sameAnswer(direct, gqlgen) {
				continue
			}
			mismatches++
			small := env.minimise(t, d)
			sd, sg := env.both(t, small)
			t.Errorf("seed %d, operation %d (PLUGBOARD_DIFF_SEED=%d): the executors disagree\n%s\ndirect answered %s\ngqlgen answered %s\n\nminimised:\n%s\ndirect answered %s\ngqlgen answered %s",
				seed, i, seed, d, direct, gqlgen, small, sd, sg)
		}
		answered := strings.Count(env.direct.Logs.String(), `"executor":"direct"`)
		t.Logf("seed %d: %d operations compared, %d answered by the direct executor", seed, count, answered)
		// A generator that stopped reaching the direct executor would compare gqlgen with itself.
		if mismatches == 0 && count >= 500 && answered < count/10 {
			t.Errorf("only %d of %d operations were answered by the direct executor", answered, count)
		}
	})
}

func diffEnvInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// diffEnv is the data both servers read and the values operations draw from.
type diffEnv struct {
	direct, gqlgen *apitest.Harness
	// clients: a key with every scope first, then keys lacking scopes, another
	// organisation's and an empty organisation's.
	clients []*apitest.Client
	ids     []string
	// Connectors and connections of the first client's organisation.
	ownConnectors, ownConnections []string
	cursors                       []string
}

func newDiffEnv(t *testing.T, st *store.Store) *diffEnv {
	t.Helper()
	env := &diffEnv{
		direct: apitest.New(t, st),
		gqlgen: apitest.NewWithOptions(t, st, apitest.Options{NoDirectReads: true}),
	}
	a := env.direct.NewOrg(t)
	connectors, connections := directFixture(t, a)
	// The last connector's second published version becomes its default, so that default,
	// latest and drafts are three different versions.
	last := connectors[len(connectors)-1]
	versionIDs := diffStrings(a.Do(t, `query($id: ID!) { connector(id: $id) { versions(first: 10) { nodes { id name isPublished } } } }`,
		map[string]any{"id": last}).OK(t).List("connector.versions.nodes"), "id")
	v3 := ""
	for _, v := range a.Do(t, `query($id: ID!) { connector(id: $id) { versions(first: 10) { nodes { id name } } } }`, map[string]any{"id": last}).OK(t).List("connector.versions.nodes") {
		if m := v.(map[string]any); m["name"] == "v3" {
			v3 = m["id"].(string)
		}
	}
	a.Do(t, setDefaultVersion, map[string]any{"id": v3}).OK(t)
	var credentials []string
	for i, conn := range connections[:3] {
		in := basicCredential("alice-user", "hunter2")
		if i == 1 {
			in = map[string]any{"authSchemeConfigId": "key", "kind": "TRIGGER", "values": vars("apiKey", "key-0123456789abcdefgh")}
		}
		credentials = append(credentials, a.Do(t, setCredential, map[string]any{"id": conn, "input": in}).OK(t).String("setCredential.id"))
	}

	b := env.direct.NewOrg(t)
	var foreign, foreignConnections []string
	for _, name := range []string{"alpha", "Other"} {
		id := mustCreate(t, b, fullConnector(name)).String("createConnector.id")
		foreign = append(foreign, id)
		v := b.Do(t, createVersion, map[string]any{"c": id, "input": map[string]any{"name": "v1", "actions": []any{usersAction()}}}).OK(t).String("createVersion.id")
		b.Do(t, publishVersion, map[string]any{"id": v}).OK(t)
		foreignConnections = append(foreignConnections, b.Do(t, createConnection, map[string]any{"c": id, "input": map[string]any{"name": "b"}}).OK(t).String("createConnection.id"))
	}
	empty := env.direct.NewOrg(t)

	env.clients = []*apitest.Client{a,
		env.direct.NewKey(t, a.OrgID, domain.ScopeConnectorsRead),
		env.direct.NewKey(t, a.OrgID, domain.ScopeKeysManage),
		env.direct.NewKey(t, a.OrgID, domain.ScopeConnectorsWrite),
		b, empty}

	env.ids = append(env.ids, connectors...)
	env.ids = append(env.ids, connections...)
	env.ownConnectors, env.ownConnections = connectors, connections
	env.ids = append(env.ids, foreign...)
	env.ids = append(env.ids, foreignConnections...)
	env.ids = append(env.ids, credentials...)
	env.ids = append(env.ids, versionIDs...)
	env.ids = append(env.ids, "00000000-0000-0000-0000-000000000000", "not-an-id", "", a.OrgID, a.KeyID)
	// Global ids of auth scheme configs (own and foreign), audit events, and a config id of a
	// form node knows but no config has.
	env.ids = append(env.ids, diffStrings(a.Do(t, getConnector, map[string]any{"id": connectors[0]}).OK(t).List("connector.authSchemeConfigs"), "id")...)
	env.ids = append(env.ids, diffStrings(b.Do(t, getConnector, map[string]any{"id": foreign[0]}).OK(t).List("connector.authSchemeConfigs"), "id")[0],
		connectors[0]+".0000000000000000", "basic")
	env.ids = append(env.ids, diffStrings(a.Do(t, `{ auditEvents(first: 2) { nodes { id } } }`, nil).OK(t).List("auditEvents.nodes"), "id")...)

	for _, q := range []struct {
		c    *apitest.Client
		text string
		path string
	}{
		{a, `{ connectors(first: 2) { pageInfo { endCursor } } }`, "connectors.pageInfo.endCursor"},
		{a, `{ connectors(first: 1, orderBy: NAME_DESC) { pageInfo { endCursor } } }`, "connectors.pageInfo.endCursor"},
		{a, `{ connectors(first: 3, orderBy: UPDATED_AT_DESC) { pageInfo { endCursor } } }`, "connectors.pageInfo.endCursor"},
		{a, `{ connectors(first: 2, orderBy: CREATED_AT_ASC) { pageInfo { endCursor } } }`, "connectors.pageInfo.endCursor"},
		{a, `query($id: ID!) { connector(id: $id) { versions(first: 1) { pageInfo { endCursor } } } }`, "connector.versions.pageInfo.endCursor"},
		{a, `query($id: ID!) { connector(id: $id) { connections(first: 1) { pageInfo { endCursor } } } }`, "connector.connections.pageInfo.endCursor"},
		{a, `{ auditEvents(first: 3) { pageInfo { endCursor } } }`, "auditEvents.pageInfo.endCursor"},
		{b, `{ connectors(first: 1) { pageInfo { endCursor } } }`, "connectors.pageInfo.endCursor"},
		{a, `{ connectors(last: 2) { pageInfo { startCursor } } }`, "connectors.pageInfo.startCursor"},
		{a, `{ connectors(last: 1, orderBy: UPDATED_AT_DESC) { pageInfo { startCursor } } }`, "connectors.pageInfo.startCursor"},
		{a, `{ connectors(first: 3, orderBy: NAME_DESC) { pageInfo { startCursor } } }`, "connectors.pageInfo.startCursor"},
		{a, `query($id: ID!) { connector(id: $id) { versions(last: 1) { pageInfo { startCursor } } } }`, "connector.versions.pageInfo.startCursor"},
		{a, `query($id: ID!) { connector(id: $id) { connections(last: 1) { pageInfo { startCursor } } } }`, "connector.connections.pageInfo.startCursor"},
		{a, `{ auditEvents(last: 2) { pageInfo { startCursor } } }`, "auditEvents.pageInfo.startCursor"},
	} {
		env.cursors = append(env.cursors, q.c.Do(t, q.text, map[string]any{"id": last}).OK(t).String(q.path))
	}
	env.cursors = append(env.cursors, "not a cursor", "", "bm90IGEgY3Vyc29y", "eyJrIjoxfQ", "%%%")
	return env
}

func diffStrings(list []any, key string) []string {
	var out []string
	for _, item := range list {
		out = append(out, item.(map[string]any)[key].(string))
	}
	return out
}

// both sends d to the two servers and returns their answers as "status body".
func (env *diffEnv) both(t *testing.T, d *diffDoc) (direct, gqlgen string) {
	t.Helper()
	body := d.body()
	c := env.clients[d.client]
	s1, b1, _ := c.Post(t, body, nil)
	s2, b2, _ := c.On(env.gqlgen).Post(t, body, nil)
	return fmt.Sprintf("%d %s", s1, b1), fmt.Sprintf("%d %s", s2, b2)
}

// sameAnswer compares two answers ("status body") byte for byte, except for what gqlgen itself
// leaves to chance: it resolves root fields (and list items) concurrently, so its errors come in
// the order they happened, and every internal error carries its own request id. When the bytes
// differ, the status, the data (still byte for byte) and the set of errors must be the same.
func sameAnswer(a, b string) bool {
	if a == b {
		return true
	}
	statusA, bodyA, _ := strings.Cut(a, " ")
	statusB, bodyB, _ := strings.Cut(b, " ")
	if statusA != statusB {
		return false
	}
	type answer struct {
		Errors []json.RawMessage `json:"errors"`
		Data   json.RawMessage   `json:"data"`
	}
	var x, y answer
	if json.Unmarshal([]byte(bodyA), &x) != nil || json.Unmarshal([]byte(bodyB), &y) != nil ||
		string(x.Data) != string(y.Data) || len(x.Errors) != len(y.Errors) {
		return false
	}
	errorSet := func(list []json.RawMessage) []string {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = requestIDs.ReplaceAllString(string(e), `"requestId":""`)
		}
		sort.Strings(out)
		return out
	}
	ex, ey := errorSet(x.Errors), errorSet(y.Errors)
	for i := range ex {
		if ex[i] != ey[i] {
			return false
		}
	}
	return true
}

var requestIDs = regexp.MustCompile(`"requestId":"[^"]*"`)

// minimise removes parts of d, one at a time, as long as the executors still disagree.
func (env *diffEnv) minimise(t *testing.T, d *diffDoc) *diffDoc {
	t.Helper()
	tries := 0
	for i := 0; i < d.parts() && tries < 400; tries++ {
		smaller := d.without(i)
		if a, b := env.both(t, smaller); !sameAnswer(a, b) {
			d = smaller
			continue
		}
		i++
	}
	return d
}

// A generated document: operations and fragments made of selections, the variables' values,
// the operation to run and the client to send it with.
type diffDoc struct {
	ops          []*diffOp
	frags        []*diffFrag
	values       map[string]any
	opName       *string
	client       int
	nextAlias    int
	nextFragment int
}

type diffOp struct {
	name string
	vars []*diffVar
	sels []*diffSel
}

type diffVar struct {
	name, typ, def string
	draw           func() any
}

type diffFrag struct {
	name, on string
	sels     []*diffSel
}

// diffSel is a field (`alias: name(args) @dir`), an inline fragment or a spread; a field of a
// scalar has no children.
type diffSel struct {
	head     string
	children []*diffSel
}

func (d *diffDoc) String() string {
	vals, _ := json.Marshal(d.values)
	name := "(none)"
	if d.opName != nil {
		name = strconv.Quote(*d.opName)
	}
	return fmt.Sprintf("client %d, operationName %s, variables %s\n%s", d.client, name, vals, d.text())
}

func (d *diffDoc) text() string {
	var b strings.Builder
	for _, op := range d.ops {
		b.WriteString("query")
		if op.name != "" {
			b.WriteString(" " + op.name)
		}
		if len(op.vars) > 0 {
			b.WriteString("(")
			for i, v := range op.vars {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("$" + v.name + ": " + v.typ)
				if v.def != "" {
					b.WriteString(" = " + v.def)
				}
			}
			b.WriteString(")")
		}
		writeSels(&b, op.sels)
		b.WriteString("\n")
	}
	for _, f := range d.frags {
		b.WriteString("fragment " + f.name + " on " + f.on)
		writeSels(&b, f.sels)
		b.WriteString("\n")
	}
	return b.String()
}

func writeSels(b *strings.Builder, sels []*diffSel) {
	b.WriteString(" {")
	for _, s := range sels {
		b.WriteString(" " + s.head)
		if s.children != nil {
			writeSels(b, s.children)
		}
	}
	b.WriteString(" }")
}

func (d *diffDoc) body() string {
	req := map[string]any{"query": d.text()}
	if d.values != nil {
		req["variables"] = d.values
	}
	if d.opName != nil {
		req["operationName"] = *d.opName
	}
	raw, err := json.Marshal(req)
	if err != nil {
		panic(err)
	}
	return string(raw)
}

// parts counts what without can remove: selections, variable definitions, variable values.
func (d *diffDoc) parts() int {
	n := len(d.values)
	var count func([]*diffSel)
	count = func(sels []*diffSel) {
		for _, s := range sels {
			n++
			count(s.children)
		}
	}
	for _, op := range d.ops {
		n += len(op.vars)
		count(op.sels)
	}
	for _, f := range d.frags {
		count(f.sels)
	}
	return n
}

// without returns a copy of d without its i-th part (in the order parts counts them).
func (d *diffDoc) without(i int) *diffDoc {
	c := *d
	c.values = map[string]any{}
	keys := make([]string, 0, len(d.values))
	for k := range d.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if i == 0 {
			i = -1
			continue
		}
		i--
		c.values[k] = d.values[k]
	}
	if d.values == nil {
		c.values = nil
	}
	var cut func([]*diffSel) []*diffSel
	cut = func(sels []*diffSel) []*diffSel {
		var out []*diffSel
		for _, s := range sels {
			if i == 0 {
				i = -1
				continue
			}
			i--
			copied := &diffSel{head: s.head}
			if s.children != nil {
				copied.children = append([]*diffSel{}, cut(s.children)...)
			}
			out = append(out, copied)
		}
		return out
	}
	c.ops = nil
	for _, op := range d.ops {
		o := &diffOp{name: op.name}
		for _, v := range op.vars {
			if i == 0 {
				i = -1
				continue
			}
			i--
			o.vars = append(o.vars, v)
		}
		o.sels = cut(op.sels)
		c.ops = append(c.ops, o)
	}
	c.frags = nil
	for _, f := range d.frags {
		c.frags = append(c.frags, &diffFrag{name: f.name, on: f.on, sels: cut(f.sels)})
	}
	return &c
}

// diffGen makes documents from the schema.
type diffGen struct {
	env    *diffEnv
	rnd    *rand.Rand
	schema *ast.Schema
	doc    *diffDoc
	op     *diffOp
	// sent are some documents sent already, to send again.
	sent []*diffDoc
	// budget is the number of fields the current operation may still add.
	budget int
	// plain documents keep to what the direct executor answers (fields, valid values, a key
	// with every scope), so that a good share of the comparisons run it to the end.
	plain bool
}

func newDiffGen(env *diffEnv, seed int) *diffGen {
	return &diffGen{env: env, rnd: rand.New(rand.NewSource(int64(seed))), schema: generated.NewExecutableSchema(generated.Config{}).Schema()}
}

func (g *diffGen) chance(p float64) bool { return g.rnd.Float64() < p }

func (g *diffGen) document() *diffDoc {
	if len(g.sent) > 0 && g.chance(0.2) {
		return g.again()
	}
	d := g.fresh()
	if len(g.sent) < 20 {
		g.sent = append(g.sent, d)
	} else {
		g.sent[g.rnd.Intn(len(g.sent))] = d
	}
	return d
}

// again sends a document sent before with new values of its variables: its plan and its
// complexity are cached per operation and per values of some variables.
func (g *diffGen) again() *diffDoc {
	d := *g.sent[g.rnd.Intn(len(g.sent))]
	g.doc = &d
	d.values = map[string]any{}
	for _, op := range d.ops {
		for _, v := range op.vars {
			g.give(v)
		}
	}
	if g.chance(0.2) {
		d.client = g.rnd.Intn(len(g.env.clients))
	}
	return &d
}

func (g *diffGen) fresh() *diffDoc {
	g.doc = &diffDoc{values: map[string]any{}}
	g.plain = g.chance(0.5)
	switch r := g.rnd.Float64(); {
	case g.plain:
	case r < 0.72:
	case r < 0.80:
		g.doc.client = 1
	case r < 0.85:
		g.doc.client = 2
	case r < 0.89:
		g.doc.client = 3
	case r < 0.96:
		g.doc.client = 4
	default:
		g.doc.client = 5
	}
	n := 1
	if g.chance(0.12) {
		n = 2 + g.rnd.Intn(2)
	}
	for i := 0; i < n; i++ {
		g.op = &diffOp{}
		if n > 1 || g.chance(0.3) {
			g.op.name = fmt.Sprintf("Op%d", i)
		}
		g.budget = 6 + g.rnd.Intn(30)
		g.op.sels = g.selections(g.schema.Query, 0)
		g.doc.ops = append(g.doc.ops, g.op)
	}
	switch {
	case n > 1 && g.chance(0.95):
		name := g.doc.ops[g.rnd.Intn(n)].name
		g.doc.opName = &name
	case g.chance(0.05):
		name := "Missing"
		g.doc.opName = &name
	case n == 1 && g.doc.ops[0].name != "" && g.chance(0.5):
		g.doc.opName = &g.doc.ops[0].name
	}
	if len(g.doc.values) == 0 && g.chance(0.5) {
		g.doc.values = nil
	}
	return g.doc
}

// rootWeights favour the fields the direct executor answers; the others mix in.
var rootWeights = map[string]int{"connectors": 30, "connector": 30, "connection": 14, "viewer": 4, "auditEvents": 4,
	"apiKeys": 3, "__schema": 3, "__type": 4, "node": 6, "nodes": 4}

// skippedFields change between the two requests of a comparison.
var skippedFields = map[string]bool{"lastUsedAt": true}

// notPlain are the fields that plain documents leave out: gqlgen answers them.
var notPlain = map[string]bool{"viewer": true, "auditEvents": true, "apiKeys": true, "__schema": true, "__type": true,
	"node": true, "nodes": true,
	"Connection.version": true, "Connection.connector": true, "Connection.credentials": true}

func (g *diffGen) pickField(def *ast.Definition, depth int) *ast.FieldDefinition {
	var fields []*ast.FieldDefinition
	total := 0
	for _, f := range def.Fields {
		if skippedFields[f.Name] || g.plain && (notPlain[f.Name] || notPlain[def.Name+"."+f.Name]) {
			continue
		}
		target := g.schema.Types[f.Type.Name()]
		leaf := target == nil || target.Kind == ast.Scalar || target.Kind == ast.Enum
		if !leaf && depth+1 >= diffMaxDepth {
			continue
		}
		fields = append(fields, f)
		w := 1
		if def == g.schema.Query {
			w = rootWeights[f.Name]
		}
		total += w
	}
	if total == 0 {
		return nil
	}
	r := g.rnd.Intn(total)
	for _, f := range fields {
		w := 1
		if def == g.schema.Query {
			w = rootWeights[f.Name]
		}
		if r < w {
			return f
		}
		r -= w
	}
	return nil
}

// selections returns a non-empty selection set of an object of type def.
func (g *diffGen) selections(def *ast.Definition, depth int) []*diffSel {
	var sels []*diffSel
	n := 1 + g.rnd.Intn(3)
	for i := 0; i < n; i++ {
		switch r := g.rnd.Float64(); {
		case r < 0.12:
			sels = append(sels, &diffSel{head: "__typename" + g.conditions()})
		case r < 0.20 && depth+1 < diffMaxDepth:
			head, on := "...", def
			if def.Kind == ast.Interface {
				// An interface's objects are selected through their types (node, nodes).
				types := g.schema.GetPossibleTypes(def)
				on = types[g.rnd.Intn(len(types))]
				head += " on " + on.Name
			} else if g.chance(0.7) {
				head += " on " + def.Name
			}
			sels = append(sels, &diffSel{head: head + g.conditions(), children: g.selections(on, depth+1)})
		case r < 0.27 && depth+1 < diffMaxDepth:
			sels = append(sels, &diffSel{head: "..." + g.fragment(def, depth) + g.conditions()})
		default:
			if g.budget <= 0 && len(sels) > 0 {
				continue
			}
			f := g.pickField(def, depth)
			if f == nil {
				sels = append(sels, &diffSel{head: "__typename"})
				continue
			}
			g.budget--
			sels = append(sels, g.field(f, depth))
			// The same field again under another alias, usually with other arguments.
			if len(f.Arguments) > 0 && g.chance(0.15) {
				sels = append(sels, g.field(f, depth))
			}
		}
	}
	if len(sels) == 0 {
		sels = append(sels, &diffSel{head: "__typename"})
	}
	return sels
}

// fragment returns the name of a fragment on def: an existing one or a new one.
func (g *diffGen) fragment(def *ast.Definition, depth int) string {
	for _, f := range g.doc.frags {
		if f.on == def.Name && g.chance(0.5) {
			return f.name
		}
	}
	g.doc.nextFragment++
	f := &diffFrag{name: fmt.Sprintf("F%d", g.doc.nextFragment), on: def.Name}
	// Made before it is listed, so it cannot spread itself.
	f.sels = g.selections(def, depth+1)
	g.doc.frags = append(g.doc.frags, f)
	return f.name
}

func (g *diffGen) field(f *ast.FieldDefinition, depth int) *diffSel {
	head := f.Name
	switch r := g.rnd.Float64(); {
	case r < 0.05:
		// Keys shared with other fields: the same field merges, another one conflicts.
		head = []string{"x", "id", "name"}[g.rnd.Intn(3)] + ": " + f.Name
	case r < 0.25:
		g.doc.nextAlias++
		head = fmt.Sprintf("a%d: %s", g.doc.nextAlias, f.Name)
	}
	var args []string
	for _, a := range f.Arguments {
		if !a.Type.NonNull && !g.chance(0.5) || g.plain && (a.Name == "last" || a.Name == "before") {
			continue
		}
		args = append(args, a.Name+": "+g.argument(f.Name, a.Name, a.Type))
	}
	if len(args) > 0 {
		head += "(" + strings.Join(args, ", ") + ")"
	}
	s := &diffSel{head: head + g.conditions()}
	if target := g.schema.Types[f.Type.Name()]; target != nil && (target.Kind == ast.Object || target.Kind == ast.Interface) {
		s.children = g.selections(target, depth+1)
	}
	return s
}

// conditions returns @skip/@include directives, or none: literals, variables with and without
// defaults, given, omitted or null.
func (g *diffGen) conditions() string {
	if !g.chance(0.15) {
		return ""
	}
	out := ""
	names := []string{"skip", "include"}
	g.rnd.Shuffle(2, func(i, j int) { names[i], names[j] = names[j], names[i] })
	// Twice the same directive at one place is a validation error: rarely.
	if g.chance(0.03) {
		names[1] = names[0]
	}
	for _, name := range names[:1+g.rnd.Intn(2)] {
		var arg string
		switch r := g.rnd.Float64(); {
		case r < 0.4:
			arg = strconv.FormatBool(g.chance(0.5))
		default:
			typ, def := "Boolean!", ""
			if g.chance(0.6) {
				// Nullable with a default fits Boolean!; without one, rarely, it does not.
				typ, def = "Boolean", strconv.FormatBool(g.chance(0.5))
				if g.chance(0.05) {
					def = ""
				}
			}
			arg = g.variable(typ, def, func() any {
				switch r := g.rnd.Float64(); {
				case r < 0.15:
					return nil
				case r < 0.25:
					return diffOmitted{}
				case r < 0.27:
					return "yes"
				}
				return g.chance(0.5)
			})
		}
		out += fmt.Sprintf(" @%s(if: %s)", name, arg)
	}
	return out
}

// diffOmitted marks a variable that the request does not give.
type diffOmitted struct{}

// variable defines a new variable of the current operation and returns its reference.
// draw gives its value (or diffOmitted), now and when the document is sent again.
func (g *diffGen) variable(typ, def string, draw func() any) string {
	v := &diffVar{name: fmt.Sprintf("v%d", len(g.op.vars)), typ: typ, def: def, draw: draw}
	g.op.vars = append(g.op.vars, v)
	g.give(v)
	return "$" + v.name
}

// give draws the variable's value into the document's values.
func (g *diffGen) give(v *diffVar) {
	value := v.draw()
	if _, omitted := value.(diffOmitted); omitted {
		return
	}
	if g.doc.values == nil {
		g.doc.values = map[string]any{}
	}
	g.doc.values[v.name] = value
}

// argument returns an argument value: a literal or a variable (with or without a default,
// given, null or omitted).
func (g *diffGen) argument(field, arg string, t *ast.Type) string {
	if !g.chance(0.4) {
		return g.literal(g.value(field, arg, t), t, true)
	}
	typ := t.String()
	def := ""
	if g.chance(0.25) {
		def = g.literal(g.value(field, arg, t), t, false)
		if t.NonNull && g.chance(0.8) {
			typ = strings.TrimSuffix(typ, "!") // a nullable variable with a default fits a non-null argument
		}
	}
	odd := 0.2
	if g.plain && t.NonNull {
		odd = 0.02
	}
	plain := g.plain
	return g.variable(typ, def, func() any {
		saved := g.plain
		g.plain = plain
		defer func() { g.plain = saved }()
		switch r := g.rnd.Float64(); {
		case r < odd/2:
			return nil
		case r < odd:
			return diffOmitted{}
		}
		return jsonValue(g.value(field, arg, t))
	})
}

// diffEnum is an enum value: bare in a literal, a string in JSON.
type diffEnum string

// value draws a value of type t, mostly valid, sometimes not, from the data's ids and cursors.
func (g *diffGen) value(field, arg string, t *ast.Type) any {
	if !t.NonNull && g.chance(0.05) {
		return nil
	}
	if t.Elem != nil {
		list := []any{}
		for n := g.rnd.Intn(3); n > 0; n-- {
			list = append(list, g.value(field, arg, t.Elem))
		}
		return list
	}
	pick := func(options ...any) any { return options[g.rnd.Intn(len(options))] }
	switch t.NamedType {
	case "ID":
		if g.plain && field == "connection" {
			return g.env.ownConnections[g.rnd.Intn(len(g.env.ownConnections))]
		}
		if g.plain {
			return g.env.ownConnectors[g.rnd.Intn(len(g.env.ownConnectors))]
		}
		return g.env.ids[g.rnd.Intn(len(g.env.ids))]
	case "Int":
		if g.plain {
			return pick(0, 1, 2, 3, 5, 20, 200)
		}
		return pick(0, 1, 1, 2, 2, 3, 5, 20, 199, 200, 201, -1, 1000, 3000000000)
	case "Boolean":
		return g.chance(0.5)
	case "String":
		switch {
		case (arg == "after" || arg == "before") && g.plain:
			return nil
		case arg == "after" || arg == "before":
			return g.env.cursors[g.rnd.Intn(len(g.env.cursors))]
		case (field == "version" || arg == "version") && g.plain:
			return pick("latest", "default", "v1", "v1", "v2")
		case field == "version" || arg == "version":
			return pick("latest", "default", "LATEST", "Default", "v1", "v2", "v3", "v4", "nope", "", " latest ")
		case field == "__type":
			return pick("Connector", "Query", "ConnectorFilter", "Scope", "Nope", "__Type", "String")
		}
		return pick("a", "A", "ze", "", "%", "_", "é", "Mid \"quoted\"", "connector.create", "payments", "finance", "x")
	}
	def := g.schema.Types[t.NamedType]
	switch {
	case def == nil:
		return nil
	case def.Kind == ast.Enum:
		return diffEnum(def.EnumValues[g.rnd.Intn(len(def.EnumValues))].Name)
	case def.Kind == ast.InputObject:
		m := map[string]any{}
		for _, f := range def.Fields {
			if f.Type.NonNull || g.chance(0.4) {
				m[f.Name] = g.value(def.Name, f.Name, f.Type)
			}
		}
		return m
	}
	return nil
}

// literal writes v, of type t, as a GraphQL literal; with variables, some fields of input
// objects become variables.
func (g *diffGen) literal(v any, t *ast.Type, variables bool) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case diffEnum:
		return string(v)
	case string:
		raw, _ := json.Marshal(v)
		return string(raw)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, item := range v {
			elem := t
			if t != nil && t.Elem != nil {
				elem = t.Elem
			}
			parts[i] = g.literal(item, elem, variables)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		var fields ast.FieldList
		if def := g.schema.Types[t.Name()]; def != nil {
			fields = def.Fields
		}
		for i, k := range keys {
			ft := fields.ForName(k).Type
			if variables && g.chance(0.15) {
				item := v[k]
				parts[i] = k + ": " + g.variable(ft.String(), "", func() any {
					if g.chance(0.1) {
						return nil
					}
					return jsonValue(item)
				})
				continue
			}
			parts[i] = k + ": " + g.literal(v[k], ft, variables)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	panic(fmt.Sprintf("literal of %T", v))
}

// jsonValue turns a drawn value into what encoding/json writes for the variables.
func jsonValue(v any) any {
	switch v := v.(type) {
	case diffEnum:
		return string(v)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = jsonValue(item)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, item := range v {
			out[k] = jsonValue(item)
		}
		return out
	}
	return v
}
