package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/internal/domain"
)

type requestIDKey struct{}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// RequestID returns the id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID gives every request an id: the caller's X-Request-ID when it is sane, else a new
// one. It is echoed in the response, logged, and put in internal errors.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// requestInfo collects what the request log line and the metrics report, filled in by the
// layers that learn it (authentication, the GraphQL operation).
type requestInfo struct {
	operation string
	orgID     string
	outcome   string
	// executor is "direct" when graph.DirectSchema answered the read (empty: gqlgen).
	executor string
}

type requestInfoKey struct{}

func infoOf(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status != 0 {
		return // a second call would only make net/http log a warning
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (a WebSocket hijacks it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// observe writes one structured log line per request (never variables, tokens or bodies) and
// records the metrics.
func observe(logger *slog.Logger, m *Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		sw := &statusWriter{ResponseWriter: w}
		route := routeOf(r)
		inFlight := m.inFlight.WithLabelValues(route)
		inFlight.Inc()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
		inFlight.Dec()
		elapsed := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if route == "graphql" {
			op := info.operation
			if op == "" {
				op = "none"
			}
			outcome := info.outcome
			if outcome == "" {
				outcome = "ok"
			}
			m.observeOperation(op, outcome, elapsed)
		}
		m.observeHTTP(route, sw.status)
		if route == "metrics" || route == "healthz" || route == "readyz" || !logger.Enabled(r.Context(), slog.LevelInfo) {
			return // probes would drown the log
		}
		attrs := []any{
			"request_id", RequestID(r.Context()), "method", r.Method, "route", route,
			"status", sw.status, "duration_ms", float64(elapsed.Microseconds()) / 1000, "bytes", sw.bytes,
		}
		if info.operation != "" {
			attrs = append(attrs, "operation", info.operation)
		}
		if info.orgID != "" {
			attrs = append(attrs, "organisation_id", info.orgID)
		}
		if info.outcome != "" {
			attrs = append(attrs, "outcome", info.outcome)
		}
		if info.executor != "" {
			attrs = append(attrs, "executor", info.executor)
		}
		logger.InfoContext(r.Context(), "request", attrs...)
	})
}

func routeOf(r *http.Request) string {
	switch p := r.URL.Path; {
	case p == "/graphql":
		return "graphql"
	case p == "/healthz", p == "/readyz", p == "/metrics":
		return strings.TrimPrefix(p, "/")
	case p == "/" || strings.HasPrefix(p, "/playground/"):
		return "playground"
	case p == "/oauth/callback":
		return "oauth_callback"
	case strings.HasPrefix(p, "/connect/"):
		// Only the route: the path holds the page's token, the callback's query its code.
		return "connect"
	case strings.HasPrefix(p, "/hooks/"):
		return "hooks" // never the path: a hook's id is its credential
	}
	return "other"
}

// recordOperation notes the operation (its type and first root field: bounded by the schema,
// unlike client-chosen operation names) and its outcome for the log line and metrics.
func recordOperation(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	info := infoOf(ctx)
	if info == nil {
		return resp
	}
	// A body that is not a request has no operation context (GetOperationContext panics).
	if graphql.HasOperationContext(ctx) {
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil {
			root := ""
			for _, sel := range oc.Operation.SelectionSet {
				if f, ok := sel.(*ast.Field); ok {
					root = f.Name
					break
				}
			}
			info.operation = strings.TrimSpace(string(oc.Operation.Operation) + " " + root)
		}
	}
	if resp != nil && len(resp.Errors) > 0 {
		info.outcome = "error"
		if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
			info.outcome = code
		}
	}
	return resp
}

// recoverPanics turns a panic outside the resolvers into a 500 with the request id; the stack
// goes to the log only.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.ErrorContext(r.Context(), "panic", "request_id", RequestID(r.Context()), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				writeGraphQLError(w, r, http.StatusInternalServerError, domain.CodeInternal, "internal server error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withTimeout bounds the work of a request: resolvers and database calls stop at the deadline.
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
