package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/outbound"
	"github.com/plugboard/plugboard/internal/server"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// answerBound is how long a test waits for an answer that a broken server never gives; it is
// a bound on a hang, not a measure of speed.
const answerBound = 30 * time.Second

// doubling is the fragment bomb: each fragment spreads the one before twice, so walking every
// spread visits F0 2^levels times.
var doubling = server.Doubling

// within runs do and fails the test when it has not returned within answerBound.
func within[T any](t *testing.T, what string, do func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- do() }()
	select {
	case v := <-done:
		return v
	case <-time.After(answerBound):
		t.Fatalf("%s: no answer", what)
		panic("unreachable")
	}
}

func TestHostileDocuments(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.New(t, st)
		c := h.NewOrg(t)
		cases := []struct {
			name, query string
			// reason and message are the refusal's; no reason: the document is answered.
			reason, message string
		}{
			// Priced as executed once per spread, the 39 levels cost 2^39: refused, after
			// pricing each fragment once.
			{"FragmentDoubling39", doubling(39), "COMPLEXITY_LIMIT_EXCEEDED", "complexity"},
			{"RepeatedFields12000", "{" + strings.Repeat(" viewer { scopes }", 12000) + "}", "LIMIT_EXCEEDED", "tokens"},
			{"InlineFragments4000", "{" + strings.Repeat(" ... on Query { viewer { scopes } }", 4000) + "}", "LIMIT_EXCEEDED", "tokens"},
			{"Typenames1000", "{" + strings.Repeat(" __typename", 1000) + "}", "LIMIT_EXCEEDED", "selections"},
			{"InlineTypenames700", "{" + strings.Repeat(" ... on Query { __typename }", 700) + "}", "LIMIT_EXCEEDED", "selections"},
			{"Tokens", `{ connectors(filter: {categories: [` + strings.Repeat(`"a", `, 6000) + `]}) { totalCount } }`, "LIMIT_EXCEEDED", "tokens"},
			{"LargestAccepted", "{ viewer {" + strings.Repeat(" scopes", 298) + " } }", "", ""},
			// graphql-js 16's getIntrospectionQuery() with every option: 15 levels in __schema.
			{"StandardIntrospection", standardIntrospection(t), "", ""},
			{"IntrospectionPastItsBound", "{ __schema { types { fields { type " + strings.Repeat("{ ofType ", 20) + "{ name }" + strings.Repeat(" }", 20) + " } } } }", "LIMIT_EXCEEDED", "introspection"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := within(t, tc.name, func() *apitest.Response { return c.Do(t, tc.query, nil) })
				if tc.reason == "" {
					r.OK(t)
					return
				}
				if r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != tc.reason || !strings.Contains(r.Message(), tc.message) {
					t.Errorf("want a %s refusal about %s: %.300s", tc.reason, tc.message, r.Body)
				}
			})
		}
	})
}

func standardIntrospection(t *testing.T) string {
	b, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// slowBody opens a connection that sends a GraphQL request's headers and the first byte of a
// body it never finishes, as a client on a slow line does.
func slowBody(t *testing.T, base, token string, declared int) net.Conn {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", u.Host, token, declared)
	return conn
}

// inFlight reads the server's gauge of GraphQL requests being served.
func inFlight(t *testing.T, c *apitest.Client) int {
	t.Helper()
	_, body, _ := c.Get(t, "/metrics")
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `plugboard_http_requests_in_flight{route="graphql"} `); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}

// TestAttacksLeaveOthersServed holds the attacks of items 1, 3 and 4 of the security review
// open with one organisation's key, and asks for /healthz and another organisation's query
// while they run.
func TestAttacksLeaveOthersServed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.New(t, st)
		attacker, victim := h.NewOrg(t), h.NewOrg(t)
		attacker.Do(t, `{ viewer { scopes } }`, nil).OK(t) // the key is cached: nothing left to wait for

		// More slow bodies than there are execution slots (16).
		const slow = 20
		for i := 0; i < slow; i++ {
			slowBody(t, h.Server.URL, attacker.Token, 100)
		}
		// Documents that cost seconds to check or validate, sent again and again.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for _, q := range []string{doubling(39), "{" + strings.Repeat(" viewer { scopes }", 12000) + "}", "{" + strings.Repeat(" ... on Query { viewer { scopes } }", 4000) + "}"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						body := `{"query":` + strconv.Quote(q) + `}`
						req, _ := http.NewRequest(http.MethodPost, h.Server.URL+"/graphql", strings.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+attacker.Token)
						req.Header.Set("Content-Type", "application/json")
						if res, err := http.DefaultClient.Do(req); err == nil {
							res.Body.Close()
						}
					}
				}
			}()
		}
		defer func() { close(stop); wg.Wait() }()
		// The slow bodies are all being served (the gauge counts /metrics' own request apart).
		for inFlight(t, victim) < slow {
			time.Sleep(10 * time.Millisecond)
		}
		for i := 0; i < 3; i++ {
			r := within(t, "another organisation's query", func() *apitest.Response {
				return victim.Do(t, `{ viewer { scopes } connectors(first: 5) { totalCount } }`, nil)
			})
			r.OK(t)
			status := within(t, "/healthz", func() int { s, _, _ := victim.Get(t, "/healthz"); return s })
			if status != http.StatusOK {
				t.Errorf("/healthz answered %d", status)
			}
		}
	})
}

// TestOneTenantCannotTakeEverySlot: an organisation whose calls hang on a slow upstream holds
// at most half the execution slots, so another organisation's query still gets a turn.
func TestOneTenantCannotTakeEverySlot(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		// The calls hang longer than the test waits for the other organisation's answer.
		h := apitest.NewWithOptions(t, st, apitest.Options{Outbound: outbound.Limits{Allow: apitest.Loopback, Timeout: 2 * answerBound}})
		busy, other := h.NewOrg(t), h.NewOrg(t)
		arrived, release := make(chan struct{}, 64), make(chan struct{})
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			<-release
		}))
		defer upstream.Close()
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		defer unblock()

		connector := busy.Do(t, `mutation($u: String) { createConnector(input: {name: "Slow", protocolType: HTTP, baseURL: $u}) { id } }`, map[string]any{"u": upstream.URL}).OK(t).String("createConnector.id")
		version := busy.Do(t, `mutation($c: ID!) { createVersion(connectorId: $c, input: {name: "1", actions: [{name: "wait", method: GET, path: "/wait"}]}) { id } }`, map[string]any{"c": connector}).OK(t).String("createVersion.id")
		busy.Do(t, `mutation($v: ID!) { publishVersion(id: $v) { id } }`, map[string]any{"v": version}).OK(t)
		connection := busy.Do(t, `mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "c"}) { id } }`, map[string]any{"c": connector}).OK(t).String("createConnection.id")

		const slots = 16 // the default
		var wg sync.WaitGroup
		for i := 0; i < slots; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				busy.Do(t, `mutation($c: ID!) { executeAction(connectionId: $c, action: "wait") { status } }`, map[string]any{"c": connection})
			}()
		}
		defer wg.Wait()
		defer unblock()
		for i := 0; i < slots/2; i++ {
			<-arrived
		}
		within(t, "another organisation's query", func() *apitest.Response {
			return other.Do(t, `{ viewer { scopes } connectors(first: 1) { totalCount } }`, nil)
		}).OK(t)
	})
}

// TestOversizedBodies: a body over the limit is refused with 413 and the limit's code and
// reason, whether its length is declared or it is streamed in chunks.
func TestOversizedBodies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{MaxBodyBytes: 4096}})
		c := h.NewOrg(t)
		big := `{"query":"{ viewer { scopes } }","variables":{"pad":"` + strings.Repeat("x", 5000) + `"}}`
		for _, tc := range []struct {
			name string
			body io.Reader
		}{
			{"Declared", strings.NewReader(big)},
			{"Chunked", io.MultiReader(strings.NewReader(big))}, // no length known: sent chunked
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, h.Server.URL+"/graphql", tc.body)
				req.Header.Set("Authorization", "Bearer "+c.Token)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var body struct{ Errors []apitest.Error }
				_ = json.NewDecoder(res.Body).Decode(&body)
				if res.StatusCode != http.StatusRequestEntityTooLarge || len(body.Errors) != 1 ||
					body.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || body.Errors[0].Extensions["reason"] != "LIMIT_EXCEEDED" {
					t.Errorf("oversized body: %d %+v", res.StatusCode, body)
				}
			})
		}
	})
}

// TestOneTenantsSlowBodiesAreRefusedFast: when one organisation's slow bodies hold its part of
// the body budget, its next request is told at once to retry (429, RATE_LIMITED, Retry-After)
// instead of waiting for them to time out; another organisation is served.
func TestOneTenantsSlowBodiesAreRefusedFast(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		// A quarter of 1 MiB per organisation: four slow bodies reserving 64 KiB each fill it.
		h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{BodyBytesInFlight: 1 << 20}})
		slowOrg, other := h.NewOrg(t), h.NewOrg(t)
		slowOrg.Do(t, `{ viewer { scopes } }`, nil).OK(t)
		for range 4 {
			slowBody(t, h.Server.URL, slowOrg.Token, 200<<10) // more than a chunk: each reserves a whole one
		}
		for inFlight(t, other) < 4 {
			time.Sleep(10 * time.Millisecond)
		}
		r := within(t, "the slow organisation's next request", func() *apitest.Response { return slowOrg.Do(t, `{ viewer { scopes } }`, nil) })
		if r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfter"] != float64(1) {
			t.Errorf("want 429 RATE_LIMITED with retryAfter 1: %d %s", r.Status, r.Body)
		}
		within(t, "another organisation's query", func() *apitest.Response { return other.Do(t, `{ viewer { scopes } }`, nil) }).OK(t)
	})
}
