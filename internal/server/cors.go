package server

import (
	"net/http"
	"strings"
)

// CORS headers a browser app on another origin needs: the request headers it may send and the
// response headers its code may read.
const (
	corsAllowHeaders  = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
	corsExposeHeaders = "X-Request-ID, Retry-After, RateLimit, RateLimit-Policy"
	corsAllowMethods  = "GET, POST, OPTIONS"
	// corsMaxAge lets a browser keep a preflight's answer for ten minutes.
	corsMaxAge = "600"
)

// cors lets browser apps on the listed origins ("*": any) call the API. Credentials mode is
// never allowed: callers authenticate with a bearer token, never a cookie. An unlisted origin
// gets no CORS header, so the browser keeps the answer from its page. Preflights are answered
// here, before authentication: a browser sends them without the Authorization header.
func cors(origins []string, next http.Handler) http.Handler {
	anyOrigin := false
	allowed := map[string]bool{}
	for _, o := range origins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "*" {
			anyOrigin = true
		} else if o != "" {
			allowed[strings.ToLower(o)] = true
		}
	}
	if !anyOrigin && len(allowed) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		h.Add("Vary", "Origin")
		ok := origin != "" && (anyOrigin || allowed[strings.ToLower(origin)])
		if ok {
			if anyOrigin {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if ok {
				h.Set("Access-Control-Allow-Methods", corsAllowMethods)
				h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
				h.Set("Access-Control-Max-Age", corsMaxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
