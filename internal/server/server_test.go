package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/server"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

func TestLimits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{
			MaxDepth: 4, MaxComplexity: 500, MaxAliases: 3, MaxRootFields: 4, MaxBodyBytes: 4096,
		}})
		c := h.NewOrg(t)
		cases := []struct {
			name, query, message string
		}{
			{"Depth", `{ connectors { edges { node { versions { edges { node { name } } } } } } }`, "nested"},
			{"DepthThroughFragments", `query { connectors { ...E } } fragment E on ConnectorConnection { edges { node { versions { edges { node { name } } } } } }`, "nested"},
			{"Complexity", `{ connectors(first: 100) { edges { node { name description baseURL iconURL categories } } } }`, "complexity"},
			{"Aliases", `{ a: viewer { scopes } b: viewer { scopes } c: viewer { scopes } d: viewer { s1: scopes } }`, "aliases"},
			{"RootFields", `{ viewer { scopes } v2: viewer { scopes } connectors { totalCount } apiKeys { id } x: apiKeys { id } }`, "top-level fields"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(t, tc.query, nil)
				if r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Message(), tc.message) || r.Data != nil {
					t.Errorf("want a clear refusal mentioning %q: %s", tc.message, r.Body)
				}
			})
		}
		t.Run("WithinLimits", func(t *testing.T) {
			c.Do(t, `{ connectors(first: 10) { edges { node { name } } } }`, nil).OK(t)
		})
		// The complexity of an operation is computed once per values of the variables that
		// set page sizes: the same text with a larger page must still be refused.
		t.Run("ComplexityFromVariables", func(t *testing.T) {
			for _, q := range []string{
				`query($after: String, $n: Int) { viewer { scopes } connectors(first: $n, after: $after) { edges { node { name description baseURL iconURL categories } } } }`,
				`query($n: Int) { ...Q } fragment Q on Query { connectors(first: $n) { totalCount edges { ... on ConnectorEdge { node { name description baseURL iconURL categories } } } } }`,
			} {
				for _, tc := range []struct {
					n    int
					code string
				}{{10, ""}, {100, "BAD_USER_INPUT"}, {10, ""}, {100, "BAD_USER_INPUT"}} {
					if r := c.Do(t, q, map[string]any{"n": tc.n}); r.Code() != tc.code || tc.code != "" && !strings.Contains(r.Message(), "complexity") {
						t.Errorf("first: %d answered %s", tc.n, r.Body)
					}
				}
			}
		})
		t.Run("BodySize", func(t *testing.T) {
			big := `{"query":"{ viewer { scopes } }","variables":{"pad":"` + strings.Repeat("x", 5000) + `"}}`
			status, raw, _ := c.Post(t, big, nil)
			var body struct{ Errors []apitest.Error }
			json.Unmarshal([]byte(raw), &body)
			if status != http.StatusRequestEntityTooLarge || len(body.Errors) == 0 || body.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
				t.Errorf("oversized body: %d %+v", status, body)
			}
		})
		t.Run("Batch", func(t *testing.T) {
			status, _, _ := c.Post(t, `[{"query":"{ viewer { scopes } }"},{"query":"{ viewer { scopes } }"}]`, nil)
			if status == http.StatusOK {
				t.Error("batched operations must be refused")
			}
		})
	})
}

func TestRequestTimeout(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{RequestTimeout: 300 * time.Millisecond}})
		c := h.NewOrg(t)
		id := c.Do(t, `mutation { createConnector(input: {name: "Slow", protocolType: HTTP}) { id } }`, nil).OK(t).String("createConnector.id")
		// The update gets stuck half way (as behind a lock) until its context ends.
		h.Store.FailPoint = func(ctx context.Context, point string) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Second):
				return errors.New("the request deadline never came")
			}
		}
		defer func() { h.Store.FailPoint = nil }()
		start := time.Now()
		r := c.Do(t, `mutation($id: ID!) { updateConnector(id: $id, input: {name: "Slower", protocolType: HTTP, connectionVariables: []}) { revision } }`, map[string]any{"id": id})
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("the request ran %v past its 300 ms limit", elapsed)
		}
		if r.Code() != "INTERNAL_SERVER_ERROR" || !strings.Contains(r.Message(), "longer than the server allows") || r.Errors[0].Extensions["requestId"] == nil {
			t.Fatalf("a request over its time limit must fail clearly: %s", r.Body)
		}
		h.Store.FailPoint = nil
		if got := c.Do(t, `query($id: ID!) { connector(id: $id) { name revision } }`, map[string]any{"id": id}).OK(t); got.String("connector.name") != "Slow" || got.Int("connector.revision") != 1 {
			t.Errorf("the timed-out update must change nothing: %s", got.Body)
		}
	})
}

func TestPanicBecomesInternalErrorWithRequestID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.New(t, st)
		c := h.NewOrg(t)
		id := c.Do(t, `mutation { createConnector(input: {name: "Boom", protocolType: HTTP}) { id } }`, nil).OK(t).String("createConnector.id")
		h.Store.FailPoint = func(context.Context, string) error { panic("boom: secret internals") }
		defer func() { h.Store.FailPoint = nil }()
		body := `{"query":"mutation($id: ID!) { updateConnector(id: $id, input: {name: \"Boom\", protocolType: HTTP, connectionVariables: []}) { revision } }","variables":{"id":"` + id + `"}}`
		_, raw, header := c.Post(t, body, map[string]string{"X-Request-ID": "test-request-0001"})
		var out struct{ Errors []apitest.Error }
		json.Unmarshal([]byte(raw), &out)
		if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != "INTERNAL_SERVER_ERROR" || out.Errors[0].Extensions["requestId"] != "test-request-0001" || header.Get("X-Request-ID") != "test-request-0001" {
			t.Fatalf("panic answer: %+v %v", out, header)
		}
		if strings.Contains(out.Errors[0].Message, "boom") || strings.Contains(out.Errors[0].Message, "goroutine") {
			t.Errorf("the panic leaks: %q", out.Errors[0].Message)
		}
		if !strings.Contains(h.Logs.String(), `"request_id":"test-request-0001"`) || !strings.Contains(h.Logs.String(), "panic in resolver") {
			t.Error("the panic must be logged with the request id")
		}
		// The server still serves.
		c.Do(t, `{ viewer { scopes } }`, nil).OK(t)
	})
}

func TestRequestLogAndMetrics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.New(t, st)
		c := h.NewOrg(t)
		marker := "variable-value-never-logged"
		c.Do(t, `mutation($n: String!) { createConnector(input: {name: $n, protocolType: HTTP}) { id } }`, map[string]any{"n": marker}).OK(t)
		c.Do(t, `{ connector(id: "missing") { id } }`, nil)
		c.WithToken("pb_"+strings.Repeat("z", 43)).Do(t, `{ viewer { scopes } }`, nil)

		var lines []map[string]any
		for _, l := range strings.Split(h.Logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" {
				lines = append(lines, m)
			}
		}
		if len(lines) < 3 {
			t.Fatalf("want one log line per request, got %d", len(lines))
		}
		first := lines[0]
		for _, k := range []string{"request_id", "operation", "duration_ms", "organisation_id", "status"} {
			if _, ok := first[k]; !ok {
				t.Errorf("the request line lacks %s: %v", k, first)
			}
		}
		if first["operation"] != "mutation createConnector" || first["organisation_id"] != c.OrgID {
			t.Errorf("request line: %v", first)
		}
		if lines[1]["outcome"] != "NOT_FOUND" || lines[2]["status"] != float64(401) {
			t.Errorf("outcomes: %v / %v", lines[1], lines[2])
		}
		if strings.Contains(h.Logs.String(), marker) || strings.Contains(h.Logs.String(), c.Token) {
			t.Error("variables or tokens reached the log")
		}

		status, body, _ := c.Get(t, "/metrics")
		for _, want := range []string{
			`plugboard_graphql_operations_total{operation="mutation createConnector",outcome="ok"} 1`,
			`plugboard_graphql_operations_total{operation="query connector",outcome="NOT_FOUND"} 1`,
			`plugboard_graphql_operation_duration_seconds_bucket`,
			`plugboard_http_requests_total{code="401",route="graphql"} 1`,
			`go_sql_max_open_connections{db_name="plugboard"}`,
			`plugboard_outbound_calls_total{outcome="ok"}`,
			`go_goroutines`,
		} {
			if status != 200 || !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

func TestHardenedSwitches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Hardened: true})
		c := h.NewOrg(t)
		r := c.Do(t, `{ __schema { types { name } } }`, nil)
		if r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Message(), "introspection") {
			t.Errorf("introspection must be off: %s", r.Body)
		}
		if status, _, _ := c.Get(t, "/"); status != http.StatusNotFound {
			t.Errorf("playground must be off: %d", status)
		}
		c.Do(t, `{ viewer { scopes } }`, nil).OK(t)

		open := apitest.New(t, st)
		oc := open.NewOrg(t)
		oc.Do(t, `{ __schema { queryType { name } } }`, nil).OK(t)
		status, page, headers := oc.Get(t, "/")
		if status != 200 || !strings.Contains(page, "/playground/graphiql.min.js") || !strings.Contains(headers.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("playground page: %d", status)
		}
		if status, js, _ := oc.Get(t, "/playground/graphiql.min.js"); status != 200 || len(js) < 100_000 {
			t.Errorf("the playground's scripts are served from the binary: %d, %d bytes", status, len(js))
		}
	})
}

// TestAdmissionQueuesInsteadOfFailing: with one slot, concurrent requests wait their turn and
// all succeed; a request that cannot get a turn within its time limit is told the server is busy.
func TestAdmissionQueuesInsteadOfFailing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{MaxConcurrent: 1, RequestTimeout: 2 * time.Second}})
		c := h.NewOrg(t)
		id := c.Do(t, `mutation { createConnector(input: {name: "Queued", protocolType: HTTP}) { id } }`, nil).OK(t).String("createConnector.id")
		hold := make(chan struct{})
		holding := make(chan struct{}) // closed once the update is in the store, holding the slot
		var once sync.Once
		h.Store.FailPoint = func(context.Context, string) error {
			once.Do(func() { close(holding) })
			// Holds the only slot past the other requests' time limit, as a stuck call would.
			select {
			case <-hold:
			case <-time.After(5 * time.Second):
			}
			return nil
		}
		defer func() { h.Store.FailPoint = nil }()
		done := make(chan *apitest.Response, 1)
		go func() {
			done <- c.Do(t, `mutation($id: ID!) { updateConnector(id: $id, input: {name: "Queued", protocolType: HTTP, connectionVariables: []}) { revision } }`, map[string]any{"id": id})
		}()
		select {
		case <-holding:
		case r := <-done:
			t.Fatalf("the update never reached the store: %d %s", r.Status, r.Body)
		}
		busy := c.Do(t, `{ viewer { scopes } }`, nil)
		if busy.Status != http.StatusServiceUnavailable || !strings.Contains(busy.Message(), "busy") {
			t.Errorf("a request that never got a turn: %d %s", busy.Status, busy.Body)
		}
		close(hold)
		<-done // past its own deadline: it fails, and frees the slot
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.Do(t, `{ viewer { scopes } }`, nil).OK(t)
			}()
		}
		wg.Wait()
	})
}
