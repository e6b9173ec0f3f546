package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// benchFixture seeds an organisation like the load benchmark's: connectors with 5 published
// versions and 4 connections of 3 variables each.
type benchFixture struct {
	h *apitest.Harness
	// gqlgen is the same API without the direct executor, for comparison.
	gqlgen *apitest.Harness
	c      *apitest.Client
	ids    []string
	names  []string
	// last is the body of the last answer served.
	last []byte
}

func newBenchFixture(b *testing.B, connectors int) *benchFixture {
	b.Helper()
	d := store.SQLite
	if os.Getenv("PLUGBOARD_BENCH_POSTGRES") != "" {
		d = store.Postgres
	}
	st := testdb.Open(b, d)
	h := apitest.New(b, st)
	c := h.NewOrg(b)
	f := &benchFixture{h: h, gqlgen: apitest.NewWithOptions(b, st, apitest.Options{NoDirectReads: true}), c: c}
	for i := 0; i < connectors; i++ {
		name := fmt.Sprintf("Connector-%04d", i)
		id := c.Do(b, `mutation($n: String!) { createConnector(input: {name: $n, protocolType: HTTP, baseURL: "https://api.example.com/v1",
		  documentationURL: "https://docs.example.com", iconURL: "https://cdn.example.com/i.png"}) { id } }`, map[string]any{"n": name}).OK(b).String("createConnector.id")
		for v := 1; v <= 5; v++ {
			vid := c.Do(b, `mutation($c: ID!, $n: String!) { createVersion(connectorId: $c, input: {name: $n, description: "release"}) { id } }`,
				map[string]any{"c": id, "n": fmt.Sprintf("%d.0.0", v)}).OK(b).String("createVersion.id")
			c.Do(b, `mutation($v: ID!) { publishVersion(id: $v) { id } }`, map[string]any{"v": vid}).OK(b)
		}
		for n := 0; n < 4; n++ {
			c.Do(b, `mutation($c: ID!, $n: String!) { createConnection(connectorId: $c, input: {name: $n,
			  variables: [{name: "API_KEY", value: "key"}, {name: "TIMEOUT_MS", value: "30000"}, {name: "REGION", value: "eu-west-1"}]}) { id } }`,
				map[string]any{"c": id, "n": fmt.Sprintf("conn-%d", n)}).OK(b)
		}
		f.ids = append(f.ids, id)
		f.names = append(f.names, name)
	}
	return f
}

// serve runs one request through the whole handler (authentication included) without a network.
func (f *benchFixture) serve(b *testing.B, body []byte) { f.serveWith(b, f.h, body) }

// executors runs a read benchmark with the direct executor and with gqlgen alone.
func (f *benchFixture) executors(b *testing.B, body func(i int) []byte) {
	for _, e := range []struct {
		name string
		h    *apitest.Harness
	}{{"direct", f.h}, {"gqlgen", f.gqlgen}} {
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f.serveWith(b, e.h, body(i))
			}
		})
	}
}

func (f *benchFixture) serveWith(b *testing.B, h *apitest.Harness, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.c.Token)
	rec := httptest.NewRecorder()
	h.Server.Config.Handler.ServeHTTP(rec, req)
	f.last = rec.Body.Bytes()
	if rec.Code != 200 || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("HTTP %d: %s", rec.Code, rec.Body.String())
	}
}

func BenchmarkQueryOne(b *testing.B) {
	f := newBenchFixture(b, 10)
	bodies := make([][]byte, len(f.ids))
	for i, id := range f.ids {
		bodies[i] = []byte(`{"query":"query($id: ID!) { connector(id: $id) { id name protocolType baseURL documentationURL iconURL createdAt updatedAt versions(first: 5) { nodes { id name description isLatest isDefault publishedAt } } } }","variables":{"id":"` + id + `"}}`)
	}
	f.executors(b, func(i int) []byte { return bodies[i%len(bodies)] })
}

func BenchmarkQueryList(b *testing.B) {
	f := newBenchFixture(b, 50)
	body := []byte(`{"query":"{ connectors(orderBy: NAME_ASC, first: 50) { nodes { id name protocolType baseURL versions(first: 5) { nodes { name isLatest isDefault } } connections(first: 4) { nodes { name variables { name value } } } } } }"}`)
	f.executors(b, func(int) []byte { return body })
}

func BenchmarkUpdateConnector(b *testing.B) {
	f := newBenchFixture(b, 10)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		j := i % len(f.ids)
		// The query text stays the same (the load benchmark's does too), so it is parsed once.
		f.serve(b, []byte(fmt.Sprintf(`{"query":"mutation($id: ID!, $n: String!, $u: String!) { updateConnector(id: $id, input: {name: $n, protocolType: HTTP, baseURL: $u}) { id baseURL updatedAt revision } }","variables":{"id":"%s","n":"%s","u":"https://api.example.com/v%d"}}`, f.ids[j], f.names[j], i)))
	}
}

func BenchmarkAPIKeyVerification(b *testing.B) {
	f := newBenchFixture(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.h.Keys.Authenticate(ctx, f.c.Token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteAction runs executeAction of a published GET action whose API-key credential
// goes in a header, against a local upstream that checks it: the whole handler and the outbound
// call, for profiles of the call path without the load harness (`make bench LEGS=exec`
// measures it beside HAProxy).
func BenchmarkExecuteAction(b *testing.B) {
	f := newBenchFixture(b, 0)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "bench-secret" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"42","name":"item","price":42,"tags":["a","b"]}`))
	}))
	b.Cleanup(upstream.Close)
	c := f.c
	id := c.Do(b, `mutation($u: String!) { createConnector(input: {name: "Upstream", protocolType: HTTP, baseURL: $u,
	  authSchemeConfigs: [{id: "key", schemeType: API_KEY, apiKey: {in: HEADER, name: "X-Api-Key"}}]}) { id } }`, map[string]any{"u": upstream.URL}).OK(b).String("createConnector.id")
	conn := c.Do(b, `mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "bench"}) { id } }`, map[string]any{"c": id}).OK(b).String("createConnection.id")
	c.Do(b, `mutation($c: ID!) { setCredential(connectionId: $c, input: {authSchemeConfigId: "key", kind: ACTION, values: [{name: "apiKey", value: "bench-secret"}]}) { id } }`,
		map[string]any{"c": conn}).OK(b)
	v := c.Do(b, `mutation($c: ID!) { createVersion(connectorId: $c, input: {name: "1.0.0", actions: [{name: "Get item", method: GET, path: "/v1/items/{{itemId}}"}]}) { id } }`,
		map[string]any{"c": id}).OK(b).String("createVersion.id")
	c.Do(b, `mutation($v: ID!) { publishVersion(id: $v) { id } }`, map[string]any{"v": v}).OK(b)
	body := []byte(`{"query":"mutation($c: ID!, $in: JSON) { executeAction(connectionId: $c, action: \"Get item\", input: $in) { ok status body } }","variables":{"c":"` + conn + `","in":{"itemId":"42"}}}`)
	f.serve(b, body)
	if !bytes.Contains(f.last, []byte(`"ok":true`)) {
		b.Fatalf("executeAction did not reach the upstream with its key: %s", f.last)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f.serve(b, body)
	}
}
