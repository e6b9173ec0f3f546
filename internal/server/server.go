// Package server assembles Plugboard's HTTP surface: GraphQL behind authentication and limits,
// the playground, health checks and metrics, with one log line per request.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/graph"
	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/fairshare"
	"github.com/plugboard/plugboard/internal/server/playground"
)

// Authenticator turns a bearer token into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*auth.Principal, error)
}

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Limits protect the server from expensive or oversized requests. Zero fields take defaults.
type Limits struct {
	// MaxBodyBytes caps a request body (default 1 MiB).
	MaxBodyBytes int64
	// MaxDocumentBodyBytes caps the body of the mutations that carry documents: the imports,
	// createVersion and updateVersion (default 20 MiB: documents up to 16 MiB, JSON-escaped).
	MaxDocumentBodyBytes int64
	// RequestTimeout bounds the work of one GraphQL request (default 30 s).
	RequestTimeout time.Duration
	// MaxDepth bounds the nesting of selections (default 12).
	MaxDepth int
	// MaxComplexity bounds the cost of an operation; list fields count their page size
	// (default 50,000).
	MaxComplexity int
	// MaxAliases bounds the fields one operation may alias, so that one request cannot ask for
	// the same expensive field hundreds of times (default 30).
	MaxAliases int
	// MaxRootFields bounds the top-level fields of one operation (default 20).
	MaxRootFields int
	// MaxTokens bounds the tokens of a query text, before it is parsed (default 5,000).
	MaxTokens int
	// MaxFields bounds the fields and fragments of a document, before it is validated:
	// validation compares the fields of a selection set pairwise (default 500).
	MaxFields int
	// BodyBytesInFlight bounds the memory of request bodies being read, across requests; one
	// tenant may hold a quarter of it (default 64 MiB).
	BodyBytesInFlight int64
	// MaxConcurrent bounds the GraphQL requests executing at once; the others wait their turn
	// (within RequestTimeout). Work beyond what the database pool and the cores can serve only
	// adds memory and contention (default 16, the size of the PostgreSQL pool).
	MaxConcurrent int
	// InboundRate is each caller's request budget on this server (zero: off).
	InboundRate InboundRate
	// MaxWebSockets bounds the open GraphQL WebSocket connections (default 1,000).
	MaxWebSockets int
	// TrustedProxies are the load balancers whose X-Forwarded-For names the client, for the
	// caps counted per client address (WebSockets waiting for connection_init).
	TrustedProxies []netip.Prefix
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.MaxDocumentBodyBytes <= 0 {
		l.MaxDocumentBodyBytes = 20 << 20
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = 30 * time.Second
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 12
	}
	if l.MaxComplexity <= 0 {
		l.MaxComplexity = 50_000
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = 30
	}
	if l.MaxRootFields <= 0 {
		l.MaxRootFields = 20
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = 5000
	}
	if l.MaxFields <= 0 {
		l.MaxFields = 300
	}
	if l.BodyBytesInFlight <= 0 {
		l.BodyBytesInFlight = 64 << 20
	}
	if l.MaxConcurrent <= 0 {
		l.MaxConcurrent = 16
	}
	if l.MaxWebSockets <= 0 {
		l.MaxWebSockets = 1000
	}
	return l
}

// Deps are what the HTTP surface serves.
type Deps struct {
	Resolver      *graph.Resolver
	Authenticator Authenticator
	DB            Pinger
	Logger        *slog.Logger
	Metrics       *Metrics
	Limits        Limits
	// Heartbeat counts the servers sharing the inbound limit (nil: this server alone).
	Heartbeat *Heartbeat
	// Introspection and Playground are switched off in hardened deployments.
	Introspection bool
	Playground    bool
	// NoDirectReads answers every read with gqlgen's executor (see graph.DirectSchema).
	NoDirectReads bool
	// CORSOrigins are the origins of browser apps allowed to call the API ("*": any).
	CORSOrigins []string
	// Draining, once true, makes /readyz answer 503 while everything else is still served: a
	// stopping server tells its load balancer first, and answers what it is sent meanwhile.
	Draining *atomic.Bool
	// Idempotency keeps the answers of mutations sent with an Idempotency-Key (nil: the
	// header is ignored).
	Idempotency IdempotencyStore
	// Connect serves the keyless /oauth/callback and /connect/<token> routes (nil: none).
	Connect http.Handler
	// Hooks serves POST /hooks/{id}, webhook deliveries (nil: no such route).
	Hooks http.Handler
	// Sockets holds the open GraphQL WebSockets, for the stopping server to close (nil:
	// they are not tracked).
	Sockets *Sockets
}

// NewHandler returns the routes of the API contract.
func NewHandler(d Deps) http.Handler {
	d.Limits = d.Limits.withDefaults()
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	cfg := generated.Config{
		Schema:     graph.PublicSchema(),
		Resolvers:  d.Resolver,
		Directives: generated.DirectiveRoot{HasScope: graph.HasScope},
	}
	priced := pageCost(&cfg)
	var schema graphql.ExecutableSchema = generated.NewExecutableSchema(cfg)
	if !d.NoDirectReads {
		schema = graph.DirectSchema{ExecutableSchema: schema, Resolver: d.Resolver, Answered: func(ctx context.Context) {
			if info := infoOf(ctx); info != nil {
				info.executor = "direct"
			}
		}}
	}
	gql := handler.New(schema)
	// First: it claims requests with an Upgrade header, which reach it through webSockets.
	gql.AddTransport(webSocketTransport(d.Authenticator, d.Logger, d.CORSOrigins))
	gql.AddTransport(transport.Options{})
	gql.AddTransport(getTransport{})
	// A running request holds its key for the request timeout and a margin for its commit.
	gql.AddTransport(postTransport{idem: &idempotency{store: d.Idempotency, lease: d.Limits.RequestTimeout + 30*time.Second, logger: d.Logger}})
	queries := lru.New[*ast.QueryDocument](1000)
	gql.SetQueryCache(queries)
	if d.Introspection {
		gql.Use(extension.Introspection{})
	}
	gql.Use(extension.AutomaticPersistedQuery{Cache: newPersistedQueries(1000, 8<<20)})
	gql.Use(documentLimit{
		maxTokens: d.Limits.MaxTokens, maxSelections: d.Limits.MaxFields, maxDepth: d.Limits.MaxDepth,
		maxAliases: d.Limits.MaxAliases, maxRootFields: d.Limits.MaxRootFields, noIntrospection: !d.Introspection,
		passed: queries,
	})
	gql.Use(conditionValues{})
	gql.Use(newComplexityLimit(d.Limits.MaxComplexity, priced))
	gql.Use(graph.InputText{})
	gql.AroundOperations(graph.WithBatches)
	gql.AroundResponses(recordOperation)
	gql.SetErrorPresenter(graph.ErrorPresenter(d.Logger, RequestID))
	gql.SetRecoverFunc(graph.Recover(d.Logger, RequestID))

	mux := http.NewServeMux()
	// Bodies are read (bounded) before a request waits for a slot, and the deadline starts
	// when they have been: slots and the deadline are for executing operations only.
	// A tenant's share is a quarter of the budget, and holds one document body whenever the
	// budget holds two (the default: 64 MiB, 20 MiB documents).
	share := d.Limits.BodyBytesInFlight / 4
	if doc := d.Limits.MaxDocumentBodyBytes + bodyChunk; share < doc && 2*doc <= d.Limits.BodyBytesInFlight {
		share = doc
	}
	bodies := fairshare.New(d.Limits.BodyBytesInFlight, share)
	slots := fairshare.New(int64(d.Limits.MaxConcurrent), int64(d.Limits.MaxConcurrent/2))
	inbound := newInboundLimiter(d.Limits.InboundRate, d.Heartbeat, d.Metrics.inboundRefused)
	sockets := webSockets(d.Limits.MaxWebSockets, d.Limits.TrustedProxies, d.Sockets, gql)
	mux.Handle("/graphql", graphQLMethods(upgrades(sockets, authenticate(d.Authenticator, d.Logger, inbound.wrap(
		readBody(d.Limits.MaxBodyBytes, d.Limits.MaxDocumentBodyBytes, bodies, withTimeout(d.Limits.RequestTimeout, admit(slots, gql))))))))
	if d.Hooks != nil {
		// Keyless: the hook's id and the delivery's signature are its credentials.
		mux.Handle("/hooks/{id}", d.Hooks)
	}
	if d.Playground {
		mux.Handle("GET /{$}", playground.Page())
		mux.Handle("GET /playground/", playground.Assets())
		// Browsers ask for it on every page; without it the console shows a 404.
		mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if d.Draining != nil && d.Draining.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.DB.Ping(ctx); err != nil {
			d.Logger.WarnContext(r.Context(), "readiness check failed", "error", err.Error())
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
	})
	mux.Handle("GET /metrics", d.Metrics.Handler())
	if d.Connect != nil {
		// Keyless: the callback and connect pages carry their own secrets (state, token) and
		// caps, outside authentication and the GraphQL admission slots.
		mux.Handle("/oauth/callback", d.Connect)
		mux.Handle("/connect/", d.Connect)
	}
	return closeWhenDraining(d.Draining, requestID(observe(d.Logger, d.Metrics, recoverPanics(d.Logger, cors(d.CORSOrigins, mux)))))
}

// closeWhenDraining ends each connection after its answer once the server drains, so that the
// next request of a client or a load balancer goes to a new connection, elsewhere.
func closeWhenDraining(draining *atomic.Bool, next http.Handler) http.Handler {
	if draining == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// graphQLMethods refuses the methods /graphql does not serve with 405 and a GraphQL error,
// where gqlgen answered "transport not supported" without a code.
func graphQLMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodOptions:
			next.ServeHTTP(w, r)
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, r, http.StatusMethodNotAllowed, domain.CodeBadUserInput, "METHOD_NOT_ALLOWED", "/graphql takes GET for queries and POST for every operation")
		}
	})
}

// upgrades sends WebSocket upgrades to sockets: they authenticate in connection_init, not with
// a header, and hold no admission slot.
func upgrades(sockets, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebSocket(r) {
			sockets.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate requires a valid bearer token on every GraphQL request and puts its principal
// in the context. Failures answer HTTP 401 with a GraphQL error body.
func authenticate(a Authenticator, logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			// A 401 must carry a challenge (RFC 9110 §11.6.1); with no bearer token at all,
			// RFC 6750 §3.1 asks for the bare scheme, without an error code.
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeGraphQLError(w, r, http.StatusUnauthorized, domain.CodeUnauthenticated, "authentication required: send Authorization: Bearer <API key or token>")
			return
		}
		p, err := a.Authenticate(r.Context(), token)
		if err != nil {
			var authErr *domain.Error
			if !errors.As(err, &authErr) || authErr.Code != domain.CodeUnauthenticated {
				if r.Context().Err() == nil {
					logger.ErrorContext(r.Context(), "authenticate request", "request_id", RequestID(r.Context()), "error", err.Error())
				}
				writeGraphQLError(w, r, http.StatusServiceUnavailable, domain.CodeInternal, "internal server error")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeGraphQLError(w, r, http.StatusUnauthorized, authErr.Code, authErr.Message)
			return
		}
		if info := infoOf(r.Context()); info != nil {
			info.orgID = p.OrganisationID
		}
		ctx := domain.WithActor(auth.WithPrincipal(r.Context(), p), p.Subject)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func writeGraphQLError(w http.ResponseWriter, r *http.Request, status int, code domain.Code, message string) {
	writeError(w, r, status, code, "", message)
}

// writeRateLimited refuses a request of a caller over one of its limits: 429 with Retry-After
// and extensions.retryAfter in whole seconds (at least 1), as the error presenter reports a
// call over its connection's budget.
func writeRateLimited(w http.ResponseWriter, r *http.Request, wait time.Duration, message string) {
	seconds := domain.RetryAfterSeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	writeErrorWith(w, r, http.StatusTooManyRequests, domain.CodeRateLimited, "", message, map[string]any{"retryAfter": seconds})
}

// writeError answers a request refused before GraphQL execution; reason, when set, tells which
// limit a BAD_USER_INPUT refusal is about, as the error presenter does.
func writeError(w http.ResponseWriter, r *http.Request, status int, code domain.Code, reason, message string) {
	writeErrorWith(w, r, status, code, reason, message, nil)
}

// writeErrorWith is writeError with more extensions.
func writeErrorWith(w http.ResponseWriter, r *http.Request, status int, code domain.Code, reason, message string, extra map[string]any) {
	ext := map[string]any{"code": string(code)}
	for k, v := range extra {
		ext[k] = v
	}
	if reason != "" {
		ext["reason"] = reason
	}
	if code == domain.CodeInternal {
		ext["requestId"] = RequestID(r.Context())
	}
	if info := infoOf(r.Context()); info != nil {
		info.outcome = string(code)
	}
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{"message": message, "extensions": ext}}})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}
