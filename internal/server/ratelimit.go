package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
)

// InboundRate is the request budget of each caller (API key or JWT subject): Requests per
// Window, with bursts of Burst. A zero Requests switches it off.
type InboundRate struct {
	Requests int
	Window   time.Duration
	Burst    int
}

// maxCallers bounds the limiters kept: the least recently seen callers are forgotten (a
// forgotten caller starts again with a full bucket, which only errs on the generous side).
const maxCallers = 100_000

// inboundLimiter keeps a token bucket (golang.org/x/time/rate) per caller, in this process.
// The budget is per server for now: sharing it across replicas (each server's share refreshed
// once a second) needs the cross-server bus, which another issue builds.
type inboundLimiter struct {
	rate     InboundRate
	mu       sync.Mutex
	limiters *lru.Cache[string, *rate.Limiter]
	now      func() time.Time
	refused  func(caller string)
}

func newInboundLimiter(r InboundRate, refused func(caller string)) *inboundLimiter {
	if r.Requests <= 0 {
		return nil
	}
	if r.Burst <= 0 {
		r.Burst = r.Requests
	}
	cache, _ := lru.New[string, *rate.Limiter](maxCallers)
	return &inboundLimiter{rate: r, limiters: cache, now: time.Now, refused: refused}
}

func (l *inboundLimiter) limiter(subject string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.limiters.Get(subject)
	if !ok {
		lim = rate.NewLimiter(rate.Limit(float64(l.rate.Requests)/l.rate.Window.Seconds()), l.rate.Burst)
		l.limiters.Add(subject, lim)
	}
	return lim
}

// wrap refuses the requests of a caller over its budget with 429, Retry-After and the
// RateLimit-Policy and RateLimit headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers),
// which every authenticated answer carries. It runs after authentication, on /graphql only:
// the playground page, health checks and metrics are other routes.
func (l *inboundLimiter) wrap(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	policy := fmt.Sprintf(`"default";q=%d;w=%d`, l.rate.Requests, int(l.rate.Window.Seconds()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.PrincipalFrom(r.Context())
		if p == nil {
			next.ServeHTTP(w, r)
			return
		}
		lim, now := l.limiter(p.Subject), l.now()
		res := lim.ReserveN(now, 1)
		delay := res.DelayFrom(now)
		if delay > 0 {
			res.CancelAt(now)
		}
		tokens := lim.TokensAt(now)
		reset := time.Duration((float64(l.rate.Burst) - tokens) / float64(lim.Limit()) * float64(time.Second))
		w.Header().Set("RateLimit-Policy", policy)
		w.Header().Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=%d`, int(math.Max(0, math.Floor(tokens))), int(math.Max(0, math.Ceil(reset.Seconds())))))
		if delay > 0 {
			caller, _, _ := strings.Cut(p.Subject, ":")
			l.refused(caller)
			w.Header().Set("Retry-After", strconv.Itoa(domain.RetryAfterSeconds(delay)))
			writeError(w, r, http.StatusTooManyRequests, domain.CodeRateLimited, "",
				fmt.Sprintf("this caller is over its request budget (%d per %s); retry after the time in Retry-After", l.rate.Requests, l.rate.Window))
			return
		}
		next.ServeHTTP(w, r)
	})
}
