package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/server"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

const (
	policyFields   = `outboundPolicy { retry { maxAttempts retryOn maxElapsedSeconds } rateLimit { requests perSeconds burst concurrency } }`
	executeAttempt = `mutation($c: ID!, $a: String!) { executeAction(connectionId: $c, action: $a) { ok status error attempts } }`
)

// scriptedServer answers its requests with the next answer of its script (the last one
// repeats) and records when each request arrived.
type scriptedServer struct {
	*httptest.Server
	mu       sync.Mutex
	arrivals []time.Time
	methods  []string
}

// answer writes one response: a status and headers.
type answer struct {
	status  int
	headers map[string]string
}

func newScriptedServer(t *testing.T, script ...answer) *scriptedServer {
	s := &scriptedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		n := len(s.arrivals)
		s.arrivals = append(s.arrivals, time.Now())
		s.methods = append(s.methods, r.Method)
		s.mu.Unlock()
		a := script[min(n, len(script)-1)]
		for k, v := range a.headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		fmt.Fprintf(w, `{"n":%d}`, n+1)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptedServer) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.arrivals...)
}

// policyFixture creates a connector on baseURL with a published version holding actions and
// policy, and a connection; it returns the connection's id.
func policyFixture(t *testing.T, c *apitest.Client, baseURL string, actions []any, policy map[string]any) string {
	t.Helper()
	connector := mustCreate(t, c, map[string]any{"name": testdb.RandomName("Limited"), "protocolType": "HTTP", "baseURL": baseURL}).String("createConnector.id")
	v := c.Do(t, `mutation($c: ID!, $input: CreateVersionInput!) { createVersion(connectorId: $c, input: $input) { id } }`,
		map[string]any{"c": connector, "input": map[string]any{"name": "1", "actions": actions, "outboundPolicy": policy}}).OK(t).String("createVersion.id")
	c.Do(t, publishVersion, map[string]any{"id": v}).OK(t)
	return c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "conn"}}).OK(t).String("createConnection.id")
}

func TestRetries(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		retry := map[string]any{"retry": map[string]any{}}
		get := []any{getAction("get", "/x")}

		t.Run("503, 503, 200 is three attempts", func(t *testing.T) {
			api := newScriptedServer(t, answer{status: 503}, answer{status: 503}, answer{status: 200})
			conn := policyFixture(t, c, api.URL, get, retry)
			r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).OK(t)
			if r.Get("executeAction.ok") != true || r.Int("executeAction.attempts") != 3 || len(api.times()) != 3 {
				t.Errorf("want ok after 3 attempts: %s (%d requests)", r.Body, len(api.times()))
			}
		})
		t.Run("without a policy one attempt", func(t *testing.T) {
			api := newScriptedServer(t, answer{status: 503}, answer{status: 200})
			conn := policyFixture(t, c, api.URL, get, nil)
			r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).OK(t)
			if r.Int("executeAction.status") != 503 || r.Int("executeAction.attempts") != 1 || len(api.times()) != 1 {
				t.Errorf("want one attempt: %s", r.Body)
			}
		})
		t.Run("Retry-After in seconds", func(t *testing.T) {
			api := newScriptedServer(t, answer{status: 429, headers: map[string]string{"Retry-After": "1"}}, answer{status: 200})
			conn := policyFixture(t, c, api.URL, get, retry)
			r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).OK(t)
			at := api.times()
			if r.Int("executeAction.attempts") != 2 || len(at) != 2 {
				t.Fatalf("want 2 attempts: %s", r.Body)
			}
			if gap := at[1].Sub(at[0]); gap < time.Second {
				t.Errorf("the retry came %s after a Retry-After of 1 s", gap)
			}
		})
		t.Run("Retry-After as an HTTP date", func(t *testing.T) {
			date := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
			notBefore, _ := http.ParseTime(date)
			api := newScriptedServer(t, answer{status: 503, headers: map[string]string{"Retry-After": date}}, answer{status: 200})
			conn := policyFixture(t, c, api.URL, get, retry)
			r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).OK(t)
			at := api.times()
			if r.Int("executeAction.attempts") != 2 || len(at) != 2 {
				t.Fatalf("want 2 attempts: %s", r.Body)
			}
			if at[1].Before(notBefore) {
				t.Errorf("the retry came at %s, before the Retry-After date %s", at[1], notBefore)
			}
		})
		t.Run("a Retry-After beyond the budget returns the last answer", func(t *testing.T) {
			api := newScriptedServer(t, answer{status: 429, headers: map[string]string{"Retry-After": "120"}}, answer{status: 200})
			conn := policyFixture(t, c, api.URL, get, map[string]any{"retry": map[string]any{"maxElapsedSeconds": 5}})
			r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).OK(t)
			if r.Get("executeAction.ok") != false || r.Int("executeAction.status") != 429 || r.Int("executeAction.attempts") != 1 || len(api.times()) != 1 {
				t.Errorf("want the 429 as the result after one attempt: %s", r.Body)
			}
		})
		t.Run("statuses outside retryOn are not retried", func(t *testing.T) {
			api := newScriptedServer(t, answer{status: 500}, answer{status: 200})
			conn := policyFixture(t, c, api.URL, get, retry)
			if r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).OK(t); r.Int("executeAction.attempts") != 1 {
				t.Errorf("500 is not in the default retryOn: %s", r.Body)
			}
		})
		t.Run("POST only with an Idempotency-Key", func(t *testing.T) {
			api := newScriptedServer(t, answer{status: 503}, answer{status: 200})
			actions := []any{
				map[string]any{"name": "create", "method": "POST", "path": "/x", "bodyTemplate": `{}`},
				map[string]any{"name": "createOnce", "method": "POST", "path": "/x", "bodyTemplate": `{}`,
					"headers": []any{map[string]any{"name": "Idempotency-Key", "value": "k-1"}}},
			}
			conn := policyFixture(t, c, api.URL, actions, retry)
			r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "create"}).OK(t)
			if r.Int("executeAction.status") != 503 || r.Int("executeAction.attempts") != 1 || len(api.times()) != 1 {
				t.Fatalf("a POST without Idempotency-Key must not be sent twice: %s", r.Body)
			}
			// The script's next answer is 503 again for the second request, then 200.
			api2 := newScriptedServer(t, answer{status: 503}, answer{status: 200})
			conn = policyFixture(t, c, api2.URL, actions, retry)
			r = c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "createOnce"}).OK(t)
			if r.Get("executeAction.ok") != true || r.Int("executeAction.attempts") != 2 {
				t.Errorf("a POST with Idempotency-Key is retried: %s", r.Body)
			}
		})
		if !containsAll(h.Logs.String(), `"msg":"outbound attempt"`, `"retry_reason":"503"`, `"attempts":3`) {
			t.Error("every attempt is logged, with the reason of its retry")
		}
		_, metrics, _ := c.Get(t, "/metrics")
		if !containsAll(metrics, `plugboard_outbound_retries_total{reason="503"}`, `plugboard_outbound_attempts_total{outcome="5xx"}`) {
			t.Errorf("retry metrics missing:\n%s", metrics)
		}
	})
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestOutboundBudget(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		actions := []any{getAction("get", "/x")}

		t.Run("five per minute: the sixth call is refused", func(t *testing.T) {
			api := newScriptedServer(t, answer{status: 200})
			conn := policyFixture(t, c, api.URL, actions, map[string]any{"rateLimit": map[string]any{"requests": 5, "perSeconds": 60}})
			for i := 0; i < 5; i++ {
				c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).OK(t)
			}
			r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).ExpectError(t, "RATE_LIMITED", "")
			if ra, _ := r.Errors[0].Extensions["retryAfter"].(float64); ra < 1 || ra > 12 {
				t.Errorf("retryAfter must be whole seconds in 1..12: %s", r.Body)
			}
			// testConnection counts too, and is refused the same way.
			c.Do(t, testConnection, map[string]any{"c": conn}).ExpectError(t, "RATE_LIMITED", "")
			if n := len(api.times()); n != 5 {
				t.Errorf("the upstream saw %d calls, want 5", n)
			}
		})
		t.Run("an upstream 429 with Retry-After closes the budget", func(t *testing.T) {
			api := newScriptedServer(t, answer{status: 429, headers: map[string]string{"Retry-After": "30"}}, answer{status: 200})
			conn := policyFixture(t, c, api.URL, actions, map[string]any{"rateLimit": map[string]any{"requests": 100, "perSeconds": 1}})
			r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).OK(t)
			if r.Int("executeAction.status") != 429 || r.Get("executeAction.ok") != false {
				t.Fatalf("the upstream's 429 is a result: %s", r.Body)
			}
			r = c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).ExpectError(t, "RATE_LIMITED", "")
			if ra, _ := r.Errors[0].Extensions["retryAfter"].(float64); ra < 25 || ra > 30 {
				t.Errorf("retryAfter must follow the upstream's 30 s: %s", r.Body)
			}
			if n := len(api.times()); n != 1 {
				t.Errorf("the upstream saw %d calls, want 1", n)
			}
		})
		t.Run("concurrency cap", func(t *testing.T) {
			arrived, proceed := make(chan struct{}), make(chan struct{})
			var calls atomic.Int32
			api := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					close(arrived)
					<-proceed
				}
			})
			conn := policyFixture(t, c, api.URL, actions, map[string]any{"rateLimit": map[string]any{"requests": 100, "perSeconds": 1, "concurrency": 1}})
			done := make(chan *apitest.Response)
			go func() { done <- c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}) }()
			select {
			case <-arrived:
			case r := <-done:
				t.Fatalf("the first call must reach the upstream: %s", r.Body)
			}
			refused := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).ExpectError(t, "RATE_LIMITED", "")
			// Nobody knows when a call ends: the hint is a second, alike on both databases.
			if ra := refused.Errors[0].Extensions["retryAfter"]; ra != float64(1) {
				t.Errorf("a concurrency refusal's retryAfter: %v, want 1", ra)
			}
			close(proceed)
			(<-done).OK(t)
			if r := c.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"}).OK(t); r.Get("executeAction.ok") != true {
				t.Errorf("the slot is free again once the call ended: %s", r.Body)
			}
		})
		_, metrics, _ := c.Get(t, "/metrics")
		if !strings.Contains(metrics, "plugboard_outbound_budget_refusals_total ") {
			t.Errorf("budget refusal metric missing")
		}
	})
}

// Two servers on one PostgreSQL database share a connection's budget exactly.
func TestOutboundBudgetAcrossServers(t *testing.T) {
	st := testdb.Open(t, store.Postgres)
	other, err := store.Open(testdb.PostgresURL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	other.Secrets = testdb.Keyring
	h1, h2 := apitest.New(t, st), apitest.New(t, other)
	c := h1.NewOrg(t)
	api := newScriptedServer(t, answer{status: 200})
	conn := policyFixture(t, c, api.URL, []any{getAction("get", "/x")}, map[string]any{"rateLimit": map[string]any{"requests": 5, "perSeconds": 60}})
	clients := []*apitest.Client{c, c.On(h2)}
	var wg sync.WaitGroup
	var limited atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(cl *apitest.Client) {
			defer wg.Done()
			r := cl.Do(t, executeAttempt, map[string]any{"c": conn, "a": "get"})
			if r.Code() == "RATE_LIMITED" {
				limited.Add(1)
			}
		}(clients[i%2])
	}
	wg.Wait()
	if n := len(api.times()); n != 5 || limited.Load() != 15 {
		t.Errorf("two servers sent %d calls (want 5) and refused %d (want 15)", n, limited.Load())
	}
}

func TestOutboundPolicyInput(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": testdb.RandomName("Policy"), "protocolType": "HTTP"}).String("createConnector.id")
		create := `mutation($c: ID!, $input: CreateVersionInput!) { createVersion(connectorId: $c, input: $input) { id ` + policyFields + ` } }`
		update := `mutation($id: ID!, $input: UpdateVersionInput!) { updateVersion(id: $id, input: $input) { id ` + policyFields + ` } }`
		r := c.Do(t, create, map[string]any{"c": connector, "input": map[string]any{"name": "1", "outboundPolicy": map[string]any{
			"retry": map[string]any{}, "rateLimit": map[string]any{"requests": 10, "perSeconds": 60},
		}}}).OK(t)
		id := r.String("createVersion.id")
		want := `{"rateLimit":{"burst":10,"concurrency":null,"perSeconds":60,"requests":10},"retry":{"maxAttempts":3,"maxElapsedSeconds":30,"retryOn":[429,502,503,504]}}`
		if got := r.JSON("createVersion.outboundPolicy"); got != want {
			t.Errorf("defaults filled in:\n got %s\nwant %s", got, want)
		}
		bad := []struct {
			policy map[string]any
			field  string
		}{
			{map[string]any{"retry": map[string]any{"maxAttempts": 0}}, "outboundPolicy.retry.maxAttempts"},
			{map[string]any{"retry": map[string]any{"maxAttempts": 11}}, "outboundPolicy.retry.maxAttempts"},
			{map[string]any{"retry": map[string]any{"retryOn": []any{503, 200}}}, "outboundPolicy.retry.retryOn[1]"},
			{map[string]any{"retry": map[string]any{"maxElapsedSeconds": 0}}, "outboundPolicy.retry.maxElapsedSeconds"},
			{map[string]any{"rateLimit": map[string]any{"requests": 0, "perSeconds": 1}}, "outboundPolicy.rateLimit.requests"},
			{map[string]any{"rateLimit": map[string]any{"requests": 1, "perSeconds": 0}}, "outboundPolicy.rateLimit.perSeconds"},
			{map[string]any{"rateLimit": map[string]any{"requests": 1, "perSeconds": 1, "burst": 0}}, "outboundPolicy.rateLimit.burst"},
			{map[string]any{"rateLimit": map[string]any{"requests": 1, "perSeconds": 1, "concurrency": -1}}, "outboundPolicy.rateLimit.concurrency"},
		}
		for _, b := range bad {
			c.Do(t, update, map[string]any{"id": id, "input": map[string]any{"name": "1", "outboundPolicy": b.policy}}).ExpectError(t, "BAD_USER_INPUT", b.field)
			c.Do(t, create, map[string]any{"c": connector, "input": map[string]any{"name": "2", "outboundPolicy": b.policy}}).ExpectError(t, "BAD_USER_INPUT", b.field)
		}
		read := `query($c: ID!) { connector(id: $c) { versions(first: 5) { nodes { name ` + policyFields + ` } } } }`
		r = c.Do(t, read, map[string]any{"c": connector}).OK(t)
		if len(r.List("connector.versions.nodes")) != 1 || r.JSON("connector.versions.nodes.0.outboundPolicy") != want {
			t.Errorf("bad input changed nothing: %s", r.Body)
		}
		// Full replace: an update without outboundPolicy clears it.
		r = c.Do(t, update, map[string]any{"id": id, "input": map[string]any{"name": "1"}}).OK(t)
		if r.Get("updateVersion.outboundPolicy") != nil {
			t.Errorf("updateVersion without outboundPolicy clears it: %s", r.Body)
		}
		r = c.Do(t, update, map[string]any{"id": id, "input": map[string]any{"name": "1", "outboundPolicy": map[string]any{
			"retry": map[string]any{"maxAttempts": 5, "retryOn": []any{503, 503, 429}}, "rateLimit": map[string]any{"requests": 1, "perSeconds": 2, "burst": 3, "concurrency": 2},
		}}}).OK(t)
		want = `{"rateLimit":{"burst":3,"concurrency":2,"perSeconds":2,"requests":1},"retry":{"maxAttempts":5,"maxElapsedSeconds":30,"retryOn":[503,429]}}`
		if got := r.JSON("updateVersion.outboundPolicy"); got != want {
			t.Errorf("given values kept:\n got %s\nwant %s", got, want)
		}
		c.Do(t, publishVersion, map[string]any{"id": id}).OK(t)
		c.Do(t, update, map[string]any{"id": id, "input": map[string]any{"name": "1"}}).ExpectError(t, "CONFLICT", "")
		r = c.Do(t, `query($c: ID!) { connector(id: $c) { version(name: "latest") { `+policyFields+` } } }`, map[string]any{"c": connector}).OK(t)
		if r.JSON("connector.version.outboundPolicy") != want {
			t.Errorf("a published version keeps its policy: %s", r.Body)
		}
	})
}

func TestInboundRateLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{InboundRate: server.InboundRate{Requests: 3, Window: time.Minute}}})
		c, other := h.NewOrg(t), h.NewOrg(t)
		const query = `{"query":"{ viewer { subject } }"}`
		for i := 0; i < 3; i++ {
			status, body, header := c.Post(t, query, nil)
			if status != http.StatusOK {
				t.Fatalf("request %d: %d %s", i+1, status, body)
			}
			// t counts down while the test runs: a slow machine may take seconds between requests.
			var remaining, reset int
			_, err := fmt.Sscanf(header.Get("RateLimit"), `"default";r=%d;t=%d`, &remaining, &reset)
			if header.Get("RateLimit-Policy") != `"default";q=3;w=60` || err != nil || remaining != 2-i || reset <= 20*i || reset > 20*(i+1) {
				t.Errorf("request %d headers: RateLimit-Policy %q, RateLimit %q", i+1, header.Get("RateLimit-Policy"), header.Get("RateLimit"))
			}
		}
		status, body, header := c.Post(t, query, nil)
		wait, err := strconv.Atoi(header.Get("Retry-After"))
		if status != http.StatusTooManyRequests || err != nil || wait < 1 || wait > 20 ||
			!strings.Contains(body, `"code":"RATE_LIMITED"`) || !strings.Contains(body, fmt.Sprintf(`"retryAfter":%d`, wait)) {
			t.Errorf("the fourth request: %d Retry-After %q %s", status, header.Get("Retry-After"), body)
		}
		// Each key has its own budget; the playground page and health checks have none.
		if status, _, _ := other.Post(t, query, nil); status != http.StatusOK {
			t.Errorf("another key is not limited by the first one's use: %d", status)
		}
		for _, path := range []string{"/", "/healthz", "/readyz"} {
			if status, _, _ := c.Get(t, path); status != http.StatusOK {
				t.Errorf("%s is exempt: %d", path, status)
			}
		}
		_, metrics, _ := c.Get(t, "/metrics")
		if !strings.Contains(metrics, `plugboard_inbound_refusals_total{caller="key"} 1`) {
			t.Errorf("inbound refusals metric missing")
		}
	})
}

// The inbound limit is shared by the live servers: with two on one PostgreSQL each enforces
// half of it, so a caller spread over both gets the budget once, not twice. The heartbeats
// beat when the test says so, not on a ticker.
func TestInboundRateLimitAcrossServers(t *testing.T) {
	opts := apitest.Options{Heartbeat: true, Limits: server.Limits{InboundRate: server.InboundRate{Requests: 6, Window: time.Minute, Burst: 6}}}
	const query = `{"query":"{ viewer { subject } }"}`
	// accepted sends n requests, round robin over clients, and counts the answers per client
	// that were not refused.
	accepted := func(t *testing.T, n int, clients ...*apitest.Client) []int {
		t.Helper()
		counts := make([]int, len(clients))
		for i := 0; i < n; i++ {
			status, body, header := clients[i%len(clients)].Post(t, query, nil)
			switch {
			case status == http.StatusOK:
				counts[i%len(clients)]++
			case status != http.StatusTooManyRequests:
				t.Fatalf("request %d: %d %s", i+1, status, body)
			}
			// Callers plan with the cluster-wide quota, whatever the share of one server.
			if p := header.Get("RateLimit-Policy"); p != `"default";q=6;w=60` {
				t.Errorf("RateLimit-Policy %q", p)
			}
		}
		return counts
	}
	beat := func(t *testing.T, h *apitest.Harness, want int) {
		t.Helper()
		if n := h.Heartbeat.Beat(context.Background()); n != want {
			t.Fatalf("the heartbeat counts %d servers, want %d", n, want)
		}
	}

	t.Run("sqlite", func(t *testing.T) {
		h := apitest.NewWithOptions(t, testdb.Open(t, store.SQLite), opts)
		beat(t, h, 1)
		if got := accepted(t, 8, h.NewOrg(t)); got[0] != 6 {
			t.Errorf("one server accepted %d of 8 requests, want 6", got[0])
		}
	})
	t.Run("postgres", func(t *testing.T) {
		// A database of its own: heartbeats are global, and other tests must not count.
		url := testdb.NewPostgresDatabase(t)
		open := func() *store.Store {
			st := testdb.OpenURL(t, url)
			if _, err := st.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return st
		}
		h1 := apitest.NewWithOptions(t, open(), opts)
		beat(t, h1, 1)
		if got := accepted(t, 8, h1.NewOrg(t)); got[0] != 6 {
			t.Errorf("one server alone accepted %d of 8 requests, want 6", got[0])
		}
		early := h1.NewOrg(t)
		accepted(t, 1, early) // its bucket, with the whole burst, now holds 5

		h2 := apitest.NewWithOptions(t, open(), opts)
		beat(t, h2, 2)
		beat(t, h1, 2)
		c := h1.NewOrg(t)
		if got := accepted(t, 12, c, c.On(h2)); got[0] != 3 || got[1] != 3 {
			t.Errorf("two servers accepted %v of 6 requests each, want 3 and 3 (the budget once, not twice)", got)
		}
		// A bucket made for one server gets the smaller share at its next request: its 5
		// tokens are capped at the new burst of 3.
		if got := accepted(t, 4, early); got[0] != 3 {
			t.Errorf("a bucket from before the second server accepted %d of 4, want 3", got[0])
		}

		// A server that stops deletes its row, so the other takes the whole budget back at its
		// next beat.
		h2.Heartbeat.Stop()
		beat(t, h1, 1)
		if got := accepted(t, 8, h1.NewOrg(t)); got[0] != 6 {
			t.Errorf("the server left alone accepted %d of 8 requests, want 6", got[0])
		}
	})
}
