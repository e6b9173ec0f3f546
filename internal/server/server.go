// Package server assembles Plugboard's HTTP surface: GraphQL, the playground, health checks and
// metrics, behind authentication.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/graph"
	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
)

// Authenticator turns a bearer token into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*auth.Principal, error)
}

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are what the HTTP surface serves.
type Deps struct {
	Resolver      *graph.Resolver
	Authenticator Authenticator
	DB            Pinger
	Logger        *slog.Logger
}

// NewHandler returns the routes of the API contract.
func NewHandler(d Deps) http.Handler {
	gql := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  d.Resolver,
		Directives: generated.DirectiveRoot{HasScope: graph.HasScope},
	}))
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.Use(extension.Introspection{})
	gql.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	gql.SetErrorPresenter(graph.ErrorPresenter(d.Logger))
	gql.SetRecoverFunc(graph.Recover(d.Logger))

	mux := http.NewServeMux()
	mux.Handle("/graphql", authenticate(d.Authenticator, d.Logger, gql))
	mux.Handle("GET /{$}", playground.Handler("Plugboard", "/graphql"))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.DB.Ping(ctx); err != nil {
			d.Logger.Warn("readiness check failed", "error", err.Error())
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
	})
	mux.Handle("GET /metrics", promhttp.Handler())
	return mux
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
			writeGraphQLError(w, http.StatusUnauthorized, domain.CodeUnauthenticated, "authentication required: send Authorization: Bearer <API key or token>")
			return
		}
		p, err := a.Authenticate(r.Context(), token)
		if err != nil {
			var authErr *domain.Error
			if !errors.As(err, &authErr) || authErr.Code != domain.CodeUnauthenticated {
				logger.ErrorContext(r.Context(), "authenticate request", "error", err.Error())
				writeGraphQLError(w, http.StatusServiceUnavailable, domain.CodeInternal, "internal server error")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeGraphQLError(w, http.StatusUnauthorized, authErr.Code, authErr.Message)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
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

func writeGraphQLError(w http.ResponseWriter, status int, code domain.Code, message string) {
	writeJSON(w, status, map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": string(code)}}},
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}
