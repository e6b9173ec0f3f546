// Package apitest drives Plugboard's GraphQL API over real HTTP for tests: a server over a
// real store, organisations with API keys, and a small client.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/graph"
	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/connect"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/hooks"
	"github.com/plugboard/plugboard/internal/notify"
	"github.com/plugboard/plugboard/internal/outbound"
	"github.com/plugboard/plugboard/internal/server"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// Harness is a running API over one store.
type Harness struct {
	Store   *store.Store
	Keys    *auth.Keys
	Actions *outbound.Executor
	Server  *httptest.Server
	// Logs holds every log line the server wrote.
	Logs *SyncBuffer
	// Heartbeat counts the servers sharing the inbound limit when Options.Heartbeat asks for
	// one. It does not tick: tests call Beat, so that they need no sleeps.
	Heartbeat *server.Heartbeat
	// Bus is Options.Bus, or the in-process bus made when none was given.
	Bus *notify.Bus
	// Connect serves startOAuthConnect, connect sessions and their keyless routes; its
	// PublicURL is the server's URL.
	Connect *connect.Service
	// Live streams stored events to this server's subscriptions.
	Live *hooks.Live
	// Sockets are the server's open WebSockets, closed as a stopping server closes them.
	Sockets *server.Sockets
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Options shape a harness.
type Options struct {
	// JWT builds the verifier of identity-provider tokens (nil: API keys only).
	JWT func(logger *slog.Logger) *auth.JWTVerifier
	// Outbound are the limits of executed actions; tests reach their local servers through
	// Allow.
	Outbound outbound.Limits
	// Limits are the serving limits (zero: defaults).
	Limits server.Limits
	// Hardened switches introspection and the playground off.
	Hardened bool
	// NoDirectReads has gqlgen answer every read.
	NoDirectReads bool
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string
	// Heartbeat gives the server a heartbeat in the store, left when the test ends.
	Heartbeat bool
	// Bus, when set, keeps the server's key cache coherent with the others (NewBus makes one).
	Bus *notify.Bus
	// KeyCacheTTL is how long verified keys are cached (zero: the default, 5 s).
	KeyCacheTTL time.Duration
	// ConnectRedirectOrigins are the origins connect flows may redirect to.
	ConnectRedirectOrigins []string
	// Hooks shapes the webhook endpoint (Store and Logger are filled in).
	Hooks hooks.Handler
}

// NewBus starts the cross-server bus of a server over st, as serve does: listening on the
// PostgreSQL database at url (returning once it listens), or in process on SQLite (url
// unused). It stops when the test ends.
func NewBus(t testing.TB, st *store.Store, url string) *notify.Bus {
	t.Helper()
	bus := notify.NewLocal()
	if st.Dialect() == store.Postgres {
		bus = notify.NewPostgres(url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	st.Bus = bus
	listening := make(chan struct{}, 1)
	stop := bus.Subscribe(func(ev notify.Event) {
		if ev.Topic == notify.Reset {
			select {
			case listening <- struct{}{}:
			default:
			}
		}
	})
	defer stop()
	bus.Start(context.Background())
	t.Cleanup(bus.Stop)
	if st.Dialect() == store.Postgres {
		select {
		case <-listening:
		case <-time.After(10 * time.Second):
			t.Fatal("the bus is not listening after 10 s")
		}
	}
	return bus
}

// TwoServers starts servers A and B with opts as two processes would: on PostgreSQL each has
// its store (pool) and its bus (listener) on the test database; on SQLite, where one server
// owns the file, they share both. opts.Bus is set per server.
func TwoServers(t testing.TB, d store.Dialect, opts Options) (a, b *Harness) {
	if d == store.SQLite {
		st := testdb.Open(t, store.SQLite)
		opts.Bus = NewBus(t, st, "")
		return NewWithOptions(t, st, opts), NewWithOptions(t, st, opts)
	}
	url := testdb.PostgresURL(t)
	stA, stB := testdb.OpenURL(t, url), testdb.OpenURL(t, url)
	optsA, optsB := opts, opts
	optsA.Bus, optsB.Bus = NewBus(t, stA, url), NewBus(t, stB, url)
	return NewWithOptions(t, stA, optsA), NewWithOptions(t, stB, optsB)
}

// Loopback opens the SSRF guard to the tests' own local servers.
var Loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// Get fetches a path of the server with the client's token.
func (c *Client) Get(t testing.TB, path string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.h.Server.URL+path, nil)
	return c.raw(t, req, nil)
}

// Post sends body, as it is, to /graphql as JSON with the client's token, for requests Do
// cannot make (malformed or oversized bodies, own headers); headers are set last.
func (c *Client) Post(t testing.TB, body string, headers map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.h.Server.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return c.raw(t, req, headers)
}

// authorize sets the client's token, then headers (which may replace it).
func (c *Client) authorize(req *http.Request, headers map[string]string) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
}

// Request sends any request to the server (path and query) with the client's token and
// headers, for what Get and Post do not cover (other methods, bodies that are not JSON).
func (c *Client) Request(t testing.TB, method, path, body string, headers map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, c.h.Server.URL+path, strings.NewReader(body))
	return c.raw(t, req, headers)
}

func (c *Client) raw(t testing.TB, req *http.Request, headers map[string]string) (int, string, http.Header) {
	t.Helper()
	c.authorize(req, headers)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), res.Header
}

// New starts the API over st, logging at debug level into Logs; actions may reach loopback.
func New(t testing.TB, st *store.Store) *Harness {
	return NewWithOptions(t, st, Options{Outbound: outbound.Limits{Allow: Loopback}})
}

// NewWithJWT starts the API over st, accepting JWTs verified by the verifier that newJWT
// builds.
func NewWithJWT(t testing.TB, st *store.Store, newJWT func(logger *slog.Logger) *auth.JWTVerifier) *Harness {
	return NewWithOptions(t, st, Options{JWT: newJWT, Outbound: outbound.Limits{Allow: Loopback}})
}

// NewWithOptions starts the API over st as opts say.
func NewWithOptions(t testing.TB, st *store.Store, opts Options) *Harness {
	t.Helper()
	logs := &SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keys := auth.NewKeys(st, logger)
	if opts.KeyCacheTTL > 0 {
		keys.CacheTTL = opts.KeyCacheTTL
	}
	if opts.Bus != nil {
		t.Cleanup(keys.Follow(opts.Bus))
	}
	authn := &auth.Authenticator{Keys: keys}
	if opts.JWT != nil {
		authn.JWT = opts.JWT(logger)
	}
	actions := outbound.NewExecutor(st, logger, opts.Outbound)
	metrics := server.NewMetrics()
	if sqlDB, err := st.SQL(); err == nil {
		metrics.RegisterRuntime(sqlDB, actions)
	}
	var heartbeat *server.Heartbeat
	if opts.Heartbeat {
		heartbeat = server.NewHeartbeat(st, logger)
		t.Cleanup(heartbeat.Stop)
	}
	// Live events need a bus: on SQLite the store publishes on it; on PostgreSQL a server
	// hears other servers' events only through a listening bus (Options.Bus, NewBus).
	bus := opts.Bus
	if bus == nil {
		bus = st.Bus
	}
	if bus == nil {
		bus = notify.NewLocal()
		if st.Dialect() == store.SQLite {
			st.Bus = bus
		}
	}
	live, stopLive := hooks.NewLive(bus, st, logger)
	t.Cleanup(stopLive)
	resolver := graph.NewResolver(st, actions, keys, logger)
	resolver.Events = live
	hookOpts := opts.Hooks
	hookOpts.Store, hookOpts.Logger = st, logger
	connector := &connect.Service{Store: st, Exchanger: actions, RedirectOrigins: opts.ConnectRedirectOrigins, Logger: logger}
	resolver.Connect = connector
	sockets := server.NewSockets()
	h := server.NewHandler(server.Deps{
		Connect:       connector.Handler(),
		Heartbeat:     heartbeat,
		Resolver:      resolver,
		Hooks:         hooks.NewHandler(hookOpts),
		Authenticator: authn,
		DB:            st,
		Logger:        logger,
		Limits:        opts.Limits,
		Metrics:       metrics,
		Introspection: !opts.Hardened,
		Playground:    !opts.Hardened,
		NoDirectReads: opts.NoDirectReads,
		CORSOrigins:   opts.CORSOrigins,
		Idempotency:   st,
		Sockets:       sockets,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resolver.PublicURL = srv.URL
	connector.PublicURL = srv.URL
	return &Harness{Store: st, Keys: keys, Actions: actions, Server: srv, Logs: logs, Heartbeat: heartbeat, Bus: bus, Live: live, Connect: connector, Sockets: sockets}
}

// Each runs fn once per dialect with a fresh harness.
func Each(t *testing.T, fn func(t *testing.T, h *Harness)) {
	t.Helper()
	testdb.Each(t, func(t *testing.T, st *store.Store) { fn(t, New(t, st)) })
}

// AllScopes are the scopes an organisation's key can hold.
var AllScopes = domain.OrganisationScopes

// NewOrg creates an organisation and a key with scopes (all organisation scopes when none are
// given) and returns a client using that key.
func (h *Harness) NewOrg(t testing.TB, scopes ...domain.Scope) *Client {
	t.Helper()
	org, err := h.Store.CreateOrganisation(context.Background(), testdb.RandomName("org"))
	if err != nil {
		t.Fatalf("create organisation: %v", err)
	}
	return h.NewKey(t, org.ID, scopes...)
}

// NewKey creates a key for orgID and returns a client using it.
func (h *Harness) NewKey(t testing.TB, orgID string, scopes ...domain.Scope) *Client {
	t.Helper()
	if len(scopes) == 0 {
		scopes = AllScopes
	}
	key, secret, err := h.Keys.Create(context.Background(), orgID, domain.NewAPIKey{Name: "test", Scopes: scopes})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return &Client{h: h, Token: secret, OrgID: orgID, KeyID: key.ID}
}

// Client calls the API with one bearer token.
type Client struct {
	h     *Harness
	Token string
	OrgID string
	KeyID string
}

// WithToken returns a client of the same harness sending token instead.
func (c *Client) WithToken(token string) *Client {
	return &Client{h: c.h, Token: token, OrgID: c.OrgID}
}

// On returns a client sending the same token to another harness (over the same store).
func (c *Client) On(h *Harness) *Client {
	return &Client{h: h, Token: c.Token, OrgID: c.OrgID, KeyID: c.KeyID}
}

// Response is a GraphQL answer with its HTTP status.
type Response struct {
	Status int
	Body   string
	Data   map[string]any
	Errors []Error
	Header http.Header
	logs   *SyncBuffer
	// requestID names the request in the server's log.
	requestID string
}

// RequestLog returns the server's log line of the request r answers. The server writes it
// after the answer has gone out, so it waits for the line to appear.
func (r *Response) RequestLog(t testing.TB) string {
	t.Helper()
	needle := `"request_id":"` + r.requestID + `"`
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		for _, line := range strings.Split(r.logs.String(), "\n") {
			if strings.Contains(line, needle) && strings.Contains(line, `"msg":"request"`) {
				return line
			}
		}
	}
	t.Fatalf("no log line for request %s", r.requestID)
	return ""
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Do posts a GraphQL request.
func (c *Client) Do(t testing.TB, query string, vars map[string]any) *Response {
	t.Helper()
	return c.DoWith(t, query, vars, nil)
}

// DoWith posts a GraphQL request with extra headers (an Idempotency-Key, say).
func (c *Client) DoWith(t testing.TB, query string, vars map[string]any, headers map[string]string) *Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.h.Server.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	c.authorize(req, headers)
	return send(t, req, c.h.Logs)
}

func send(t testing.TB, req *http.Request, logs *SyncBuffer) *Response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := &Response{Status: res.StatusCode, Body: string(raw), Header: res.Header, logs: logs, requestID: res.Header.Get("X-Request-ID")}
	var decoded struct {
		Data   map[string]any `json:"data"`
		Errors []Error        `json:"errors"`
	}
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatalf("decode response %q: %v", raw, err)
	}
	r.Data, r.Errors = decoded.Data, decoded.Errors
	return r
}

// OK fails the test when the response has errors, and returns it.
func (r *Response) OK(t testing.TB) *Response {
	t.Helper()
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Fatalf("unexpected errors (HTTP %d): %s%s", r.Status, r.Body, r.serverLog())
	}
	return r
}

// serverLog adds the server's log when the response is an internal error, to say why.
func (r *Response) serverLog() string {
	if r.Code() != "INTERNAL_SERVER_ERROR" || r.logs == nil {
		return ""
	}
	return "\nserver log:\n" + r.logs.String()
}

// Code is the extensions.code of the first error, or "".
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	s, _ := r.Errors[0].Extensions["code"].(string)
	return s
}

// Field is the extensions.field of the first error, or "".
func (r *Response) Field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	s, _ := r.Errors[0].Extensions["field"].(string)
	return s
}

// Message is the message of the first error, or "".
func (r *Response) Message() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Message
}

// ExpectError fails unless the first error has code (and field, when not empty).
func (r *Response) ExpectError(t testing.TB, code, field string) *Response {
	t.Helper()
	if r.Code() != code || (field != "" && r.Field() != field) {
		t.Fatalf("want error %s on field %q, got: %s%s", code, field, r.Body, r.serverLog())
	}
	return r
}

// Get returns the value at a dotted path of the data, with numeric parts indexing lists:
// "connectors.edges.0.node.name".
func (r *Response) Get(path string) any {
	var cur any = r.Data
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// String returns the string at path, or "".
func (r *Response) String(path string) string {
	s, _ := r.Get(path).(string)
	return s
}

// Int returns the number at path as an int.
func (r *Response) Int(path string) int {
	f, _ := r.Get(path).(float64)
	return int(f)
}

// List returns the list at path.
func (r *Response) List(path string) []any {
	l, _ := r.Get(path).([]any)
	return l
}

// JSON returns the value at path re-encoded, for whole-object comparisons.
func (r *Response) JSON(path string) string {
	b, _ := json.Marshal(r.Get(path))
	return string(b)
}
