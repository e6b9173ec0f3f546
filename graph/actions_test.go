package graph_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/outbound"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

const (
	executeAction  = `mutation($c: ID!, $a: String!, $v: String, $in: JSON) { executeAction(connectionId: $c, action: $a, version: $v, input: $in) { ok status headers { name value } body bodyTruncated durationMs error action version } }`
	testConnection = `mutation($c: ID!) { testConnection(connectionId: $c) { ok status body error action } }`
)

// seen is one request a test server received.
type seen struct {
	Method, Path, RawPath, Query, Body string
	Header                             http.Header
}

// apiServer records requests and answers with respond.
type apiServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seen
	respond  func(w http.ResponseWriter, r *http.Request)
}

func newAPIServer(t *testing.T, tlsServer bool, respond func(w http.ResponseWriter, r *http.Request)) *apiServer {
	s := &apiServer{respond: respond}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, seen{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery, string(body), r.Header.Clone()})
		s.mu.Unlock()
		if s.respond != nil {
			s.respond(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	})
	if tlsServer {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) last() seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[len(s.requests)-1]
}

func (s *apiServer) lastRawPath() string { return s.last().RawPath }

func (s *apiServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// actionFixture creates a connector on baseURL with configs, a published version with actions,
// and a connection with credentials.
func actionFixture(t *testing.T, c *apitest.Client, baseURL string, configs []any, actions []any, creds []map[string]any) (connectorID, connectionID string) {
	t.Helper()
	connectorID = mustCreate(t, c, map[string]any{"name": testdb.RandomName("Remote"), "protocolType": "HTTP", "baseURL": baseURL, "authSchemeConfigs": configs,
		"connectionVariables": vars("tenant", "acme", "region", "eu")}).String("createConnector.id")
	v := c.Do(t, createVersion, map[string]any{"c": connectorID, "input": map[string]any{"name": "1", "actions": actions}}).OK(t).String("createVersion.id")
	c.Do(t, publishVersion, map[string]any{"id": v}).OK(t)
	connectionID = c.Do(t, createConnection, map[string]any{"c": connectorID, "input": map[string]any{"name": "conn"}}).OK(t).String("createConnection.id")
	for _, cr := range creds {
		c.Do(t, setCredential, map[string]any{"id": connectionID, "input": cr}).OK(t)
	}
	return connectorID, connectionID
}

func getAction(name, path string) map[string]any {
	return map[string]any{"name": name, "method": "GET", "path": path}
}

func TestExecuteActionSchemes(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		api := newAPIServer(t, false, nil)
		c := h.NewOrg(t)
		cases := []struct {
			name   string
			config map[string]any
			cred   map[string]any
			check  func(t *testing.T, s seen)
		}{
			{"Basic", map[string]any{"id": "b", "schemeType": "BASIC"}, map[string]any{"authSchemeConfigId": "b", "kind": "ACTION", "values": vars("username", "alice", "password", "pw-1234")},
				func(t *testing.T, s seen) {
					if s.Header.Get("Authorization") != "Basic YWxpY2U6cHctMTIzNA==" {
						t.Errorf("Authorization = %q", s.Header.Get("Authorization"))
					}
				}},
			{"Bearer", map[string]any{"id": "t", "schemeType": "BEARER"}, map[string]any{"authSchemeConfigId": "t", "kind": "ACTION", "values": vars("token", "tok-abc")},
				func(t *testing.T, s seen) {
					if s.Header.Get("Authorization") != "Bearer tok-abc" {
						t.Errorf("Authorization = %q", s.Header.Get("Authorization"))
					}
				}},
			{"APIKeyHeader", map[string]any{"id": "k", "schemeType": "API_KEY", "apiKey": map[string]any{"name": "X-Api-Key"}}, map[string]any{"authSchemeConfigId": "k", "kind": "ACTION", "values": vars("apiKey", "key-123")},
				func(t *testing.T, s seen) {
					if s.Header.Get("X-Api-Key") != "key-123" {
						t.Errorf("X-Api-Key = %q", s.Header.Get("X-Api-Key"))
					}
				}},
			{"APIKeyQuery", map[string]any{"id": "q", "schemeType": "API_KEY", "apiKey": map[string]any{"in": "QUERY", "name": "api_key"}}, map[string]any{"authSchemeConfigId": "q", "kind": "ACTION", "values": vars("apiKey", "k&y=1")},
				func(t *testing.T, s seen) {
					if !strings.Contains(s.Query, "api_key=k%26y%3D1") || !strings.Contains(s.Query, "page=2") {
						t.Errorf("query = %q", s.Query)
					}
				}},
			{"None", map[string]any{"id": "n", "schemeType": "NONE"}, map[string]any{"authSchemeConfigId": "n", "kind": "ACTION", "values": []any{}},
				func(t *testing.T, s seen) {
					if s.Header.Get("Authorization") != "" {
						t.Errorf("NONE sent Authorization %q", s.Header.Get("Authorization"))
					}
				}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, conn := actionFixture(t, c, api.URL+"/v1", []any{tc.config}, []any{getAction("list", "/{{tenant}}/items/{{id}}?page={{page}}")}, []map[string]any{tc.cred})
				r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "list", "in": map[string]any{"id": "a b/c", "page": 2}}).OK(t)
				if r.Get("executeAction.ok") != true || r.Int("executeAction.status") != 200 || r.String("executeAction.body") != `{"ok":true}` {
					t.Fatalf("result: %s", r.Body)
				}
				s := api.last()
				// The value's slash is escaped, so it stays inside one path segment.
				if s.Path != "/v1/acme/items/a b/c" || !strings.Contains(api.lastRawPath(), "a%20b%2Fc") {
					t.Errorf("path = %q (raw %q)", s.Path, api.lastRawPath())
				}
				tc.check(t, s)
			})
		}
	})
}

func cleanupConnectors(t *testing.T, c *apitest.Client) {
	r := c.Do(t, `{ connectors(first: 100) { edges { node { id } } } }`, nil).OK(t)
	for _, e := range r.List("connectors.edges") {
		id := e.(map[string]any)["node"].(map[string]any)["id"]
		c.Do(t, `mutation($id: ID!) { deleteConnector(id: $id) }`, map[string]any{"id": id}).OK(t)
	}
}

func TestExecuteActionRequestBuilding(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		api := newAPIServer(t, false, nil)
		c := h.NewOrg(t)
		actions := []any{
			map[string]any{"name": "create", "method": "POST", "path": "/users", "headers": []any{map[string]any{"name": "X-Region", "value": "{{region}}"}},
				"bodyTemplate": `{"name": "{{name}}", "age": {{age}}}`},
			map[string]any{"name": "plain", "method": "PUT", "path": "/note", "bodyTemplate": "hello {{name}}"},
			getAction("missing", "/{{nope}}/{{alsoNope}}"),
			getAction("file", "/files/{{name}}/v{{rev}}"),
		}
		_, conn := actionFixture(t, c, api.URL, nil, actions, nil)
		r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "create", "in": map[string]any{"name": `Bob "the" Builder`, "age": 42, "region": "us"}}).OK(t)
		s := api.last()
		var body map[string]any
		if err := json.Unmarshal([]byte(s.Body), &body); err != nil || body["name"] != `Bob "the" Builder` || body["age"] != float64(42) {
			t.Errorf("JSON body %q must keep its structure whatever the input: %v", s.Body, err)
		}
		if s.Method != "POST" || s.Header.Get("Content-Type") != "application/json" || s.Header.Get("X-Region") != "us" {
			t.Errorf("request: %+v", s)
		}
		if r.String("executeAction.action") != "create" || r.String("executeAction.version") != "1" {
			t.Errorf("result names: %s", r.Body)
		}
		c.Do(t, executeAction, map[string]any{"c": conn, "a": "plain", "in": map[string]any{"name": "x"}}).OK(t)
		if s := api.last(); s.Body != "hello x" || !strings.HasPrefix(s.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("plain body: %+v", s)
		}
		before := api.count()
		type badCase struct {
			name  string
			vars  map[string]any
			code  string
			field string
			msg   string
		}
		bad := []badCase{
			{"ErrMissingPlaceholders", map[string]any{"a": "missing"}, "BAD_USER_INPUT", "input", "{{alsoNope}}, {{nope}}"},
			{"ErrUnknownAction", map[string]any{"a": "nope"}, "BAD_USER_INPUT", "action", "no action named"},
			{"ErrUnknownVersion", map[string]any{"a": "create", "v": "9"}, "BAD_USER_INPUT", "version", "no version"},
			{"ErrNestedInput", map[string]any{"a": "create", "in": map[string]any{"name": map[string]any{"x": 1}}}, "BAD_USER_INPUT", "input", "nested"},
			{"ErrInputNotObject", map[string]any{"a": "create", "in": "text"}, "BAD_USER_INPUT", "input", "is not a JSON object"},
			{"ErrHeaderInjection", map[string]any{"a": "create", "in": map[string]any{"name": "x", "age": 1, "region": "us\r\nX-Evil: 1"}}, "BAD_USER_INPUT", "input", "line breaks"},
			{"ErrConnectionMissing", map[string]any{"a": "create", "c": "missing"}, "NOT_FOUND", "", ""},
		}
		// A dot segment in a value would climb out of the action's path on the base host, in
		// any spelling a server on the way may decode.
		for _, dots := range []string{"..", ".", "%2e%2e", ".%2E", "%2E.", "%2e", "%252e%252e", "../../admin", "a/../..", `..\..`, "..%2F..", "./x"} {
			bad = append(bad, badCase{"ErrDotSegment" + url.PathEscape(dots), map[string]any{"a": "file", "in": map[string]any{"name": dots, "rev": 1}}, "BAD_USER_INPUT", "input", "{{name}}"})
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				if _, ok := tc.vars["c"]; !ok {
					tc.vars["c"] = conn
				}
				r := c.Do(t, executeAction, tc.vars).ExpectError(t, tc.code, tc.field)
				if !strings.Contains(r.Message(), tc.msg) {
					t.Errorf("message %q lacks %q", r.Message(), tc.msg)
				}
			})
		}
		if api.count() != before {
			t.Error("a rejected action reached the server")
		}
		// Dots that make no dot segment are ordinary values.
		for _, ok := range []struct{ name, rev, rawPath string }{
			{"...", "1", "/files/.../v1"},
			{"a..b", ".", "/files/a..b/v."},
			{".env", "..", "/files/.env/v.."},
		} {
			c.Do(t, executeAction, map[string]any{"c": conn, "a": "file", "in": map[string]any{"name": ok.name, "rev": ok.rev}}).OK(t)
			if got := api.lastRawPath(); got != ok.rawPath {
				t.Errorf("path for %q, %q: %q, want %q", ok.name, ok.rev, got, ok.rawPath)
			}
		}
		t.Run("ErrNoPublishedVersion", func(t *testing.T) {
			id := mustCreate(t, c, map[string]any{"name": "Unpublished", "protocolType": "HTTP", "baseURL": api.URL}).String("createConnector.id")
			v := c.Do(t, createVersion, map[string]any{"c": id, "input": map[string]any{"name": "draft", "actions": []any{getAction("a", "/")}}}).OK(t).String("createVersion.id")
			conn := c.Do(t, createConnection, map[string]any{"c": id, "input": map[string]any{"name": "c"}}).OK(t).String("createConnection.id")
			c.Do(t, executeAction, map[string]any{"c": conn, "a": "a"}).ExpectError(t, "CONFLICT", "")
			// A draft can be tried by naming it.
			c.Do(t, executeAction, map[string]any{"c": conn, "a": "a", "v": "draft"}).OK(t)
			_ = v
		})
	})
}

// tokenServer is an OAuth2 token endpoint.
type tokenServer struct {
	*httptest.Server
	fetches  atomic.Int32
	mu       sync.Mutex
	forms    []string
	lifetime int // seconds
	delay    time.Duration
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{lifetime: 3600}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		n := ts.fetches.Add(1)
		ts.mu.Lock()
		form := r.PostForm
		if u, p, ok := r.BasicAuth(); ok {
			form.Set("basic_user", u)
			form.Set("basic_pass", p)
		}
		ts.forms = append(ts.forms, form.Encode())
		lifetime, delay := ts.lifetime, ts.delay
		ts.mu.Unlock()
		time.Sleep(delay)
		if form.Get("client_secret") == "wrong" || form.Get("basic_pass") == "wrong" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"bad secret wrong"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":%d,"refresh_token":"rt-%d"}`, n, lifetime, n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) lastForm() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.forms[len(ts.forms)-1]
}

func oauthFixture(t *testing.T, c *apitest.Client, api *apiServer, ts *tokenServer, grant string, values []any, extra map[string]any) string {
	settings := map[string]any{"grant": grant, "tokenURL": ts.URL + "/token", "scopes": []any{"read", "write"}}
	for k, v := range extra {
		settings[k] = v
	}
	_, conn := actionFixture(t, c, api.URL, []any{map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": settings}},
		[]any{getAction("me", "/me")}, []map[string]any{{"authSchemeConfigId": "o", "kind": "ACTION", "values": values}})
	return conn
}

func TestOAuth2Tokens(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		t.Run("ClientCredentialsCachedAndReused", func(t *testing.T) {
			api, ts := newAPIServer(t, false, nil), newTokenServer(t)
			conn := oauthFixture(t, c, api, ts, "CLIENT_CREDENTIALS", vars("clientId", "cid", "clientSecret", "csecret"),
				map[string]any{"audience": "https://api.example.com", "authorizationPrefix": "Token", "headerAuthorization": "X-Auth"})
			for i := 0; i < 3; i++ {
				c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"}).OK(t)
			}
			if ts.fetches.Load() != 1 {
				t.Errorf("the token must be fetched once and reused, fetched %d times", ts.fetches.Load())
			}
			if got := api.last().Header.Get("X-Auth"); got != "Token at-1" {
				t.Errorf("X-Auth = %q", got)
			}
			form := ts.lastForm()
			for _, want := range []string{"grant_type=client_credentials", "audience=https%3A%2F%2Fapi.example.com", "scope=read+write"} {
				if !strings.Contains(form, want) {
					t.Errorf("token request %q lacks %q", form, want)
				}
			}
			sqlDB, _ := h.Store.SQL()
			if dump := dumpTable(t, sqlDB, "credentials"); strings.Contains(dump, "at-1") || strings.Contains(dump, "rt-1") {
				t.Error("the cached token is stored in plain text")
			}
		})
		t.Run("PasswordGrantWithAudienceAndRefresh", func(t *testing.T) {
			api, ts := newAPIServer(t, false, nil), newTokenServer(t)
			ts.lifetime = 10 // under the refresh margin: every call refreshes
			conn := oauthFixture(t, c, api, ts, "PASSWORD", vars("clientId", "cid", "clientSecret", "csecret", "username", "bob", "password", "pw"),
				map[string]any{"audience": "aud-1"})
			c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"}).OK(t)
			form := ts.lastForm()
			for _, want := range []string{"grant_type=password", "username=bob", "password=pw", "audience=aud-1"} {
				if !strings.Contains(form, want) {
					t.Errorf("password grant request %q lacks %q", form, want)
				}
			}
			c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"}).OK(t)
			if form := ts.lastForm(); !strings.Contains(form, "grant_type=refresh_token") || !strings.Contains(form, "refresh_token=rt-1") {
				t.Errorf("a token about to expire must be refreshed with the refresh token: %q", form)
			}
			if got := api.last().Header.Get("Authorization"); got != "Bearer at-2" {
				t.Errorf("Authorization = %q", got)
			}
		})
		t.Run("RetryOnceOn401", func(t *testing.T) {
			var calls atomic.Int32
			api := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.Header.Get("Authorization") == "Bearer at-1" {
					w.WriteHeader(401)
					return
				}
				fmt.Fprint(w, "fine")
			})
			ts := newTokenServer(t)
			conn := oauthFixture(t, c, api, ts, "CLIENT_CREDENTIALS", vars("clientId", "cid", "clientSecret", "csecret"), nil)
			r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"}).OK(t)
			if r.Get("executeAction.ok") != true || calls.Load() != 2 || ts.fetches.Load() != 2 {
				t.Errorf("401 must refetch the token and retry once: %s (calls %d, fetches %d)", r.Body, calls.Load(), ts.fetches.Load())
			}
			always := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) })
			conn = oauthFixture(t, c, always, ts, "CLIENT_CREDENTIALS", vars("clientId", "cid", "clientSecret", "csecret"), nil)
			r = c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"}).OK(t)
			if r.Get("executeAction.ok") != false || r.Int("executeAction.status") != 401 || always.count() != 2 || !strings.Contains(r.String("executeAction.error"), "refused the credentials") {
				t.Errorf("a second 401 is reported, no third try: %s (%d calls)", r.Body, always.count())
			}
		})
		t.Run("TokenURLRefuses", func(t *testing.T) {
			api, ts := newAPIServer(t, false, nil), newTokenServer(t)
			conn := oauthFixture(t, c, api, ts, "CLIENT_CREDENTIALS", vars("clientId", "cid", "clientSecret", "wrong"), nil)
			r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"}).OK(t)
			if r.Get("executeAction.ok") != false || !strings.Contains(r.String("executeAction.error"), "HTTP 401: invalid_client") || api.count() != 0 {
				t.Errorf("token failure: %s", r.Body)
			}
		})
		t.Run("ConcurrentCallsShareOneFetch", func(t *testing.T) {
			api, ts := newAPIServer(t, false, nil), newTokenServer(t)
			ts.delay = 100 * time.Millisecond
			conn := oauthFixture(t, c, api, ts, "CLIENT_CREDENTIALS", vars("clientId", "cid", "clientSecret", "csecret"), nil)
			var wg sync.WaitGroup
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"})
				}()
			}
			wg.Wait()
			if ts.fetches.Load() != 1 || api.count() != 20 {
				t.Errorf("20 concurrent calls: %d token fetches (want 1), %d API calls", ts.fetches.Load(), api.count())
			}
		})
	})
}

// TestTokenFetchAcrossReplicas runs two servers' executors, each on its own connection pool,
// on one PostgreSQL database: when both need a token at the same moment, the credential's row
// lock lets one of them ask the token URL and the other use what it stored, for the first
// token and again when it has expired and is refreshed.
func TestTokenFetchAcrossReplicas(t *testing.T) {
	st := testdb.Open(t, store.Postgres)
	other, err := store.Open(testdb.PostgresURL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.Secrets = st.Secrets
	h := apitest.New(t, st)
	c := h.NewOrg(t)
	api, ts := newAPIServer(t, false, nil), newTokenServer(t)
	ts.delay = 200 * time.Millisecond
	conn := oauthFixture(t, c, api, ts, "CLIENT_CREDENTIALS", vars("clientId", "cid", "clientSecret", "csecret"), nil)
	replicas := []*outbound.Executor{
		outbound.NewExecutor(st, h.Actions.Logger, outbound.Limits{Allow: apitest.Loopback}),
		outbound.NewExecutor(other, h.Actions.Logger, outbound.Limits{Allow: apitest.Loopback}),
	}
	callAll := func() {
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func(r *outbound.Executor) {
				defer wg.Done()
				res, err := r.Execute(context.Background(), c.OrgID, conn, "me", nil, nil)
				if err != nil || !res.OK {
					t.Errorf("replica call: %v %+v", err, res)
				}
			}(replicas[i%2])
		}
		wg.Wait()
	}
	callAll()
	if ts.fetches.Load() != 1 {
		t.Errorf("two replicas fetched %d tokens for one credential, want 1", ts.fetches.Load())
	}
	// Two hours on, the token (an hour's) has expired for both; the next one lasts three.
	ts.mu.Lock()
	ts.lifetime = 3 * 3600
	ts.mu.Unlock()
	for _, r := range replicas {
		r.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	}
	callAll()
	if ts.fetches.Load() != 2 {
		t.Errorf("two replicas refreshing an expired token asked the token URL %d times, want once", ts.fetches.Load()-1)
	}
	if form := ts.lastForm(); !strings.Contains(form, "grant_type=refresh_token") || !strings.Contains(form, "refresh_token=rt-1") {
		t.Errorf("the expired token must be refreshed with its refresh token: %q", form)
	}
	if got := api.last().Header.Get("Authorization"); got != "Bearer at-2" {
		t.Errorf("after the refresh both replicas send the new token: %q", got)
	}
}

func TestOutboundLimitsAndFailures(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		// Only the timeout's own case runs with a short one: a TLS handshake or a first dial on a
		// loaded machine can take longer than 300 ms, and must not fail the other cases.
		client := func(timeout time.Duration) *apitest.Client {
			return apitest.NewWithOptions(t, st, apitest.Options{Outbound: outbound.Limits{
				Timeout: timeout, MaxBodyBytes: 1024, MaxRedirects: 3, Allow: apitest.Loopback,
			}}).NewOrg(t)
		}
		c, hurried := client(10*time.Second), client(300*time.Millisecond)
		runWith := func(t *testing.T, c *apitest.Client, baseURL string, configs []any, creds []map[string]any) *apitest.Response {
			t.Helper()
			_, conn := actionFixture(t, c, baseURL, configs, []any{getAction("go", "/go")}, creds)
			defer cleanupConnectors(t, c)
			return c.Do(t, executeAction, map[string]any{"c": conn, "a": "go"}).OK(t)
		}
		run := func(t *testing.T, baseURL string, configs []any, creds []map[string]any) *apitest.Response {
			t.Helper()
			return runWith(t, c, baseURL, configs, creds)
		}
		t.Run("Timeout", func(t *testing.T) {
			slow := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Second) })
			r := runWith(t, hurried, slow.URL, nil, nil)
			if r.Get("executeAction.ok") != false || !strings.Contains(r.String("executeAction.error"), "timed out") || r.Int("executeAction.durationMs") > 1500 {
				t.Errorf("timeout: %s", r.Body)
			}
		})
		t.Run("TruncatedBody", func(t *testing.T) {
			big := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, strings.Repeat("x", 5000)) })
			r := run(t, big.URL, nil, nil)
			if r.Get("executeAction.bodyTruncated") != true || len(r.String("executeAction.body")) != 1024 || r.Get("executeAction.ok") != true {
				t.Errorf("truncation: %d bytes, %v", len(r.String("executeAction.body")), r.Get("executeAction.bodyTruncated"))
			}
		})
		t.Run("RedirectLimit", func(t *testing.T) {
			var loop *apiServer
			loop = newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, loop.URL+"/again", http.StatusFound) })
			r := run(t, loop.URL, nil, nil)
			if !strings.Contains(r.String("executeAction.error"), "stopped after 3 redirects") {
				t.Errorf("redirects: %s", r.Body)
			}
		})
		t.Run("HTTPErrorStatus", func(t *testing.T) {
			failing := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503); fmt.Fprint(w, "down") })
			r := run(t, failing.URL, nil, nil)
			if r.Get("executeAction.ok") != false || r.Int("executeAction.status") != 503 || r.String("executeAction.body") != "down" || !strings.Contains(r.String("executeAction.error"), "503") {
				t.Errorf("503: %s", r.Body)
			}
		})
		t.Run("ConnectionRefused", func(t *testing.T) {
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			addr := ln.Addr().String()
			ln.Close()
			r := run(t, "http://"+addr, nil, nil)
			if !strings.Contains(r.String("executeAction.error"), "connection refused") {
				t.Errorf("refused: %s", r.Body)
			}
		})
		t.Run("DNS", func(t *testing.T) {
			r := run(t, "http://no-such-host.invalid", nil, nil)
			if !strings.Contains(r.String("executeAction.error"), "DNS: could not resolve no-such-host.invalid") {
				t.Errorf("dns: %s", r.Body)
			}
		})
		t.Run("VerifySSL", func(t *testing.T) {
			secure := newAPIServer(t, true, nil)
			on := []any{map[string]any{"id": "b", "schemeType": "BEARER"}}
			off := []any{map[string]any{"id": "b", "schemeType": "BEARER", "verifySSL": false}}
			creds := []map[string]any{{"authSchemeConfigId": "b", "kind": "ACTION", "values": vars("token", "t-123456")}}
			r := run(t, secure.URL, on, creds)
			if r.Get("executeAction.ok") != false || !strings.Contains(r.String("executeAction.error"), "TLS: the certificate") || secure.count() != 0 {
				t.Errorf("a self-signed certificate must be refused while verifySSL is on: %s", r.Body)
			}
			r = run(t, secure.URL, off, creds)
			if r.Get("executeAction.ok") != true || secure.last().Header.Get("Authorization") != "Bearer t-123456" {
				t.Errorf("verifySSL off must accept it: %s", r.Body)
			}
		})
	})
}

func TestSSRFGuard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Run("LoopbackRefusedByDefault", func(t *testing.T) {
			h := apitest.NewWithOptions(t, st, apitest.Options{})
			c := h.NewOrg(t)
			api := newAPIServer(t, false, nil)
			_, conn := actionFixture(t, c, api.URL, nil, []any{getAction("go", "/")}, nil)
			r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "go"}).OK(t)
			if r.Get("executeAction.ok") != false || !strings.Contains(r.String("executeAction.error"), "loopback") || api.count() != 0 {
				t.Errorf("loopback target: %s", r.Body)
			}
			r = c.Do(t, testConnection, map[string]any{"c": conn}).OK(t)
			if !strings.Contains(r.String("testConnection.error"), "refused") {
				t.Errorf("testConnection: %s", r.Body)
			}
		})
		t.Run("RedirectCheckedAndCredentialsStripped", func(t *testing.T) {
			h := apitest.NewWithOptions(t, st, apitest.Options{Outbound: outbound.Limits{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
			c := h.NewOrg(t)
			other := listenOn(t, "127.0.0.2")
			api := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://"+other.addr+"/elsewhere", http.StatusFound)
			})
			configs := []any{map[string]any{"id": "k", "schemeType": "API_KEY", "apiKey": map[string]any{"name": "X-Key"}}}
			creds := []map[string]any{{"authSchemeConfigId": "k", "kind": "ACTION", "values": vars("apiKey", "secret-key-1")}}
			_, conn := actionFixture(t, c, api.URL, configs, []any{getAction("go", "/")}, creds)
			r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "go"}).OK(t)
			// The refusal names the host refused, not the action's host that redirected there.
			if !strings.HasPrefix(r.String("executeAction.error"), "refused: "+other.addr+" (redirected from "+strings.TrimPrefix(api.URL, "http://")+")") || other.hits.Load() != 0 {
				t.Errorf("a redirect into a refused range must be refused, naming the refused host: %s", r.Body)
			}
			h2 := apitest.NewWithOptions(t, st, apitest.Options{Outbound: outbound.Limits{Allow: apitest.Loopback}})
			c2 := h2.NewOrg(t)
			_, conn = actionFixture(t, c2, api.URL, configs, []any{getAction("go", "/")}, creds)
			c2.Do(t, executeAction, map[string]any{"c": conn, "a": "go"}).OK(t)
			if other.hits.Load() != 1 || other.lastKey.Load() != "" {
				t.Errorf("a redirect to another host must not carry the credentials (hits %d, X-Key %q)", other.hits.Load(), other.lastKey.Load())
			}
		})
	})
}

// TestRedirectsKeepCredentialsOnTheBaseHost: whatever an upstream redirects to, no credential
// reaches another host — not in a header, the query, a Referer, nor the target's URL.
func TestRedirectsKeepCredentialsOnTheBaseHost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Outbound: outbound.Limits{Allow: apitest.Loopback}})
		c := h.NewOrg(t)
		other := listenOn(t, "127.0.0.2")
		const key = "qk-s3cret+/=&%é"
		var redirectTo atomic.Value // func(r *http.Request) string: the Location for a request
		api := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/final" {
				fmt.Fprintf(w, "referer=%q key=%q", r.Header.Get("Referer"), r.URL.Query().Get("api_key")+r.Header.Get("X-Key"))
				return
			}
			http.Redirect(w, r, redirectTo.Load().(func(r *http.Request) string)(r), http.StatusFound)
		})
		configs := []any{
			map[string]any{"id": "q", "schemeType": "API_KEY", "apiKey": map[string]any{"in": "QUERY", "name": "api_key"}},
			map[string]any{"id": "k", "schemeType": "API_KEY", "apiKey": map[string]any{"name": "X-Key"}},
		}
		creds := []map[string]any{
			{"authSchemeConfigId": "q", "kind": "ACTION", "values": vars("apiKey", key)},
			{"authSchemeConfigId": "k", "kind": "ACTION", "values": vars("apiKey", "hk-"+key)},
		}
		_, conn := actionFixture(t, c, api.URL, configs, []any{getAction("go", "/start?page=1")}, creds)
		leaks := func(text string) bool {
			for _, k := range []string{key, "hk-" + key} {
				for _, form := range []string{k, url.QueryEscape(k), url.PathEscape(k), base64.StdEncoding.EncodeToString([]byte(k))} {
					if strings.Contains(text, form) {
						return true
					}
				}
			}
			return false
		}
		t.Run("ToAnotherHostWithoutReferer", func(t *testing.T) {
			redirectTo.Store(func(r *http.Request) string { return "http://" + other.addr + "/elsewhere?page=1" })
			before := other.hits.Load()
			r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "go"}).OK(t)
			last := other.all()
			if other.hits.Load() != before+1 || r.Get("executeAction.ok") != true {
				t.Fatalf("a redirect to another host without credentials in its URL is followed: %s", r.Body)
			}
			if leaks(last) || strings.Contains(strings.ToLower(last), "referer") {
				t.Errorf("the other host received a credential or a Referer:\n%s", last)
			}
		})
		refused := []struct{ name, location string }{
			{"QueryCopiedIntoLocation", "http://" + other.addr + "/elsewhere?"},
			{"KeyInThePath", "http://" + other.addr + "/k/" + url.PathEscape(key)},
			{"KeyAsUserinfo", "http://u:" + url.PathEscape(key) + "@" + other.addr + "/"},
			{"SameHostOtherScheme", "https://" + other.addr + "/?k=" + url.QueryEscape(key)},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				redirectTo.Store(func(r *http.Request) string {
					if tc.name == "QueryCopiedIntoLocation" {
						return tc.location + r.URL.RawQuery
					}
					return tc.location
				})
				before := other.hits.Load()
				r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "go"}).OK(t)
				want := "refused to follow a redirect to " + other.addr + ": its URL carries a credential"
				if other.hits.Load() != before || r.Get("executeAction.ok") != false || r.String("executeAction.error") != want {
					t.Errorf("a redirect carrying a credential to another host must be refused (%q): %s", want, r.Body)
				}
				if leaks(r.Body) || leaks(h.Logs.String()) {
					t.Errorf("the refusal shows the credential: %s", r.Body)
				}
			})
		}
		t.Run("SameHostKeepsCredentialsWithoutReferer", func(t *testing.T) {
			redirectTo.Store(func(r *http.Request) string { return "/final" })
			r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "go"}).OK(t)
			// The final answer echoes the key, redacted; the Referer is empty.
			if r.Get("executeAction.ok") != true || r.String("executeAction.body") != `referer="" key="[REDACTED]"` {
				t.Errorf("a redirect on the base host keeps the credentials and sends no Referer: %s", r.Body)
			}
		})
		t.Run("TokenURLRedirectKeepsTheClientSecret", func(t *testing.T) {
			const clientSecret = "cs-s3cret+/=&%é"
			tokenURL := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://"+other.addr+"/token", http.StatusTemporaryRedirect)
			}))
			defer tokenURL.Close()
			_, conn := actionFixture(t, c, api.URL, []any{map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": map[string]any{"grant": "CLIENT_CREDENTIALS", "tokenURL": tokenURL.URL}}},
				[]any{getAction("go", "/final")}, []map[string]any{{"authSchemeConfigId": "o", "kind": "ACTION", "values": vars("clientId", "cid-1234", "clientSecret", clientSecret)}})
			r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "go"}).OK(t)
			// x/oauth2 first tries the client secret in Basic auth, which Go drops across
			// hosts, then in the form, which must not be sent again to another host.
			if !strings.Contains(r.String("executeAction.error"), "refused to follow a redirect to "+other.addr+": its body carries a credential") {
				t.Errorf("a token URL redirecting the form to another host (307) must be refused: %s", r.Body)
			}
			for _, form := range []string{clientSecret, url.QueryEscape(clientSecret), base64.StdEncoding.EncodeToString([]byte("cid-1234:" + clientSecret)), base64.StdEncoding.EncodeToString([]byte("cid-1234:" + url.QueryEscape(clientSecret)))} {
				if strings.Contains(other.all(), form) {
					t.Errorf("the client secret reached another host:\n%s", other.all())
				}
			}
		})
	})
}

type plainServer struct {
	addr     string
	hits     atomic.Int32
	lastKey  atomic.Value
	mu       sync.Mutex
	received strings.Builder // every request, as text: request line, headers and body
}

// all returns every request the server received, as text.
func (s *plainServer) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received.String()
}

// listenOn serves on ip, another loopback address than the API's (Linux routes all of
// 127.0.0.0/8 to lo; other systems may need an alias). Without it the test is skipped, unless
// PLUGBOARD_TEST_REQUIRE_LOOPBACK_ALIASES is set (as CI does), which fails it.
func listenOn(t *testing.T, ip string) *plainServer {
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		if os.Getenv("PLUGBOARD_TEST_REQUIRE_LOOPBACK_ALIASES") != "" {
			t.Fatalf("cannot listen on %s: %v", ip, err)
		}
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	s := &plainServer{addr: ln.Addr().String()}
	s.lastKey.Store("")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		r.Write(&s.received)
		s.mu.Unlock()
		s.hits.Add(1)
		s.lastKey.Store(r.Header.Get("X-Key"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func TestTestConnection(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		api := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer good-token" {
				w.WriteHeader(401)
				return
			}
			fmt.Fprint(w, "pong")
		})
		actions := []any{
			map[string]any{"name": "create", "method": "POST", "path": "/things"},
			map[string]any{"name": "ping", "method": "GET", "path": "/ping/{{id}}", "sampleRequestData": `{"id": 7}`},
		}
		configs := []any{map[string]any{"id": "b", "schemeType": "BEARER"}}
		_, good := actionFixture(t, c, api.URL, configs, actions, []map[string]any{{"authSchemeConfigId": "b", "kind": "ACTION", "values": vars("token", "good-token")}})
		r := c.Do(t, testConnection, map[string]any{"c": good}).OK(t)
		if r.Get("testConnection.ok") != true || r.String("testConnection.action") != "ping" || api.last().Path != "/ping/7" {
			t.Errorf("test with the first GET action and its sample data: %s", r.Body)
		}
		cleanupConnectors(t, c)
		_, bad := actionFixture(t, c, api.URL, configs, actions, []map[string]any{{"authSchemeConfigId": "b", "kind": "ACTION", "values": vars("token", "bad-token")}})
		r = c.Do(t, testConnection, map[string]any{"c": bad}).OK(t)
		if r.Get("testConnection.ok") != false || r.String("testConnection.error") != "the server refused the credentials (HTTP 401)" {
			t.Errorf("401 in plain words: %s", r.Body)
		}
		cleanupConnectors(t, c)
		_, noGet := actionFixture(t, c, api.URL, nil, actions[:1], nil)
		r = c.Do(t, testConnection, map[string]any{"c": noGet}).OK(t)
		if !strings.Contains(r.String("testConnection.error"), "no GET action") {
			t.Errorf("no GET action: %s", r.Body)
		}
	})
}

func TestOutboundSecretsRedacted(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		echo := newAPIServer(t, false, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Echo-Auth", r.Header.Get("Authorization"))
			w.Header().Set("X-Echo-Key", r.Header.Get("X-Key"))
			w.WriteHeader(401)
			fmt.Fprintf(w, "you sent %s and %s and %s", r.Header.Get("Authorization"), r.Header.Get("X-Key"), r.URL.RawQuery)
		})
		configs := []any{
			map[string]any{"id": "basic", "schemeType": "BASIC"},
			map[string]any{"id": "k", "schemeType": "API_KEY", "apiKey": map[string]any{"name": "X-Key"}},
			map[string]any{"id": "q", "schemeType": "API_KEY", "apiKey": map[string]any{"in": "QUERY", "name": "key"}},
		}
		secretsUsed := []string{"user-secret-name", "pass-secret-value", "header-key-secret", "query-key-secret"}
		creds := []map[string]any{
			{"authSchemeConfigId": "basic", "kind": "ACTION", "values": vars("username", secretsUsed[0], "password", secretsUsed[1])},
			{"authSchemeConfigId": "k", "kind": "ACTION", "values": vars("apiKey", secretsUsed[2])},
			{"authSchemeConfigId": "q", "kind": "ACTION", "values": vars("apiKey", secretsUsed[3])},
		}
		_, conn := actionFixture(t, c, echo.URL, configs, []any{getAction("go", "/")}, creds)
		r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "go"}).OK(t)
		if !strings.Contains(r.Body, "[REDACTED]") {
			t.Errorf("the echo should show redactions: %s", r.Body)
		}
		unreachable := mustCreate(t, c, map[string]any{"name": "Gone", "protocolType": "HTTP", "baseURL": "http://no-such-host.invalid", "authSchemeConfigs": configs[2:]}).String("createConnector.id")
		v := c.Do(t, createVersion, map[string]any{"c": unreachable, "input": map[string]any{"name": "1", "actions": []any{getAction("go", "/")}}}).OK(t).String("createVersion.id")
		c.Do(t, publishVersion, map[string]any{"id": v}).OK(t)
		conn2 := c.Do(t, createConnection, map[string]any{"c": unreachable, "input": map[string]any{"name": "x"}}).OK(t).String("createConnection.id")
		c.Do(t, setCredential, map[string]any{"id": conn2, "input": creds[2]}).OK(t)
		r2 := c.Do(t, executeAction, map[string]any{"c": conn2, "a": "go"}).OK(t)
		for _, s := range secretsUsed {
			for _, text := range []string{r.Body, r2.Body, h.Logs.String()} {
				if strings.Contains(text, s) {
					t.Errorf("secret %q leaked: %.300s", s, text)
				}
			}
		}
		if !strings.Contains(h.Logs.String(), "outbound call") {
			t.Error("outbound calls must be logged (without secrets)")
		}
	})
}

// The version a call uses (named in the call, aliases in any case included; else the
// connection's pin; else the connector's default) and the credentials it applies (the
// connection's ACTION ones, not its TRIGGER ones) come from one read: each way of naming a
// version, and each error, is checked against what reaches the API.
func TestExecuteActionVersionAndCredentials(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		api := newAPIServer(t, false, nil)
		c := h.NewOrg(t)
		configs := []any{
			map[string]any{"id": "k", "schemeType": "API_KEY", "apiKey": map[string]any{"name": "X-Api-Key"}},
			map[string]any{"id": "t", "schemeType": "BEARER"},
		}
		connector, conn := actionFixture(t, c, api.URL, configs, []any{getAction("a", "/one")}, []map[string]any{
			{"authSchemeConfigId": "k", "kind": "ACTION", "values": vars("apiKey", "key-1")},
			{"authSchemeConfigId": "t", "kind": "TRIGGER", "values": vars("token", "trigger-only")},
		})
		v2 := c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "Two", "actions": []any{getAction("a", "/two")}}}).OK(t).String("createVersion.id")
		c.Do(t, publishVersion, map[string]any{"id": v2}).OK(t)
		c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "draft", "actions": []any{getAction("a", "/draft")}}}).OK(t)
		pinned := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "pinned", "versionName": "Two"}}).OK(t).String("createConnection.id")
		c.Do(t, setCredential, map[string]any{"id": pinned, "input": map[string]any{"authSchemeConfigId": "k", "kind": "ACTION", "values": vars("apiKey", "key-1")}}).OK(t)
		check := func(t *testing.T, conn string, version any, wantVersion, wantPath string) {
			t.Helper()
			r := c.Do(t, executeAction, map[string]any{"c": conn, "a": "a", "v": version}).OK(t)
			s := api.last()
			if r.String("executeAction.version") != wantVersion || s.Path != wantPath {
				t.Errorf("version %v of %s: ran %q at %s, want %q at %s", version, conn, r.String("executeAction.version"), s.Path, wantVersion, wantPath)
			}
			if s.Header.Get("X-Api-Key") != "key-1" || s.Header.Get("Authorization") != "" {
				t.Errorf("credentials applied: X-Api-Key %q, Authorization %q (the TRIGGER credential must not be)", s.Header.Get("X-Api-Key"), s.Header.Get("Authorization"))
			}
		}
		for _, tc := range []struct {
			name, conn    string
			version       any
			want, wantAPI string
		}{
			{"Default", conn, nil, "1", "/one"},
			{"Latest", conn, "LATEST", "Two", "/two"},
			{"DefaultAlias", conn, " default ", "1", "/one"},
			{"ByName", conn, "two", "Two", "/two"},
			{"Draft", conn, "draft", "draft", "/draft"},
			{"Pinned", pinned, nil, "Two", "/two"},
			{"PinnedButNamed", pinned, "1", "1", "/one"},
		} {
			t.Run(tc.name, func(t *testing.T) { check(t, tc.conn, tc.version, tc.want, tc.wantAPI) })
		}
		// A path change is breaking and conn follows the default: the move needs force.
		c.Do(t, `mutation($id: ID!) { setDefaultVersion(id: $id, force: true) { id } }`, map[string]any{"id": v2}).OK(t)
		t.Run("NewDefault", func(t *testing.T) { check(t, conn, nil, "Two", "/two") })
		before := api.count()
		c.Do(t, executeAction, map[string]any{"c": conn, "a": "a", "v": "3"}).ExpectError(t, "BAD_USER_INPUT", "version")
		c.Do(t, executeAction, map[string]any{"c": conn, "a": "nope"}).ExpectError(t, "BAD_USER_INPUT", "action")
		h.NewOrg(t).Do(t, executeAction, map[string]any{"c": conn, "a": "a"}).ExpectError(t, "NOT_FOUND", "")
		if api.count() != before {
			t.Errorf("refused calls reached the API")
		}
	})
}
