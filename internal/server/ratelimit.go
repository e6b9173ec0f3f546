package server

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/plugboard/plugboard/internal/auth"
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
// The budget is cluster-wide: with N live servers (Heartbeat) each enforces rate/N and
// burst/N, so a load balancer spreading a caller's requests gives it about the whole budget
// and no more. Buckets in the database would be exact but cost a write per request; this
// costs one heartbeat per server per second and is approximate while servers come and go or
// when a balancer sends one caller to some servers more than others.
type inboundLimiter struct {
	rate      InboundRate
	heartbeat *Heartbeat
	mu        sync.Mutex
	limiters  *lru.Cache[string, *shareLimiter]
	now       func() time.Time
	refused   func(caller string)
}

// shareLimiter is one caller's bucket with the server count its share was computed for.
type shareLimiter struct {
	*rate.Limiter
	servers int
}

func newInboundLimiter(r InboundRate, heartbeat *Heartbeat, refused func(caller string)) *inboundLimiter {
	if r.Requests <= 0 {
		return nil
	}
	if r.Burst <= 0 {
		r.Burst = r.Requests
	}
	cache, _ := lru.New[string, *shareLimiter](maxCallers)
	return &inboundLimiter{rate: r, heartbeat: heartbeat, limiters: cache, now: time.Now, refused: refused}
}

// share is this server's part of the budget when servers share it: rate/servers, and
// burst/servers but at least 1 so that every caller can be served at all.
func (l *inboundLimiter) share(servers int) (rate.Limit, int) {
	return rate.Limit(float64(l.rate.Requests) / l.rate.Window.Seconds() / float64(servers)), max(1, l.rate.Burst/servers)
}

// limiter returns subject's bucket, its share refreshed when the count of live servers has
// changed since the bucket last served: lazily, so that a change costs nothing for the callers
// that are not calling, and the tokens a caller holds carry over (capped by the new burst).
func (l *inboundLimiter) limiter(subject string, now time.Time) *rate.Limiter {
	servers := l.heartbeat.Servers()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.limiters.Get(subject)
	if !ok {
		r, b := l.share(servers)
		lim = &shareLimiter{Limiter: rate.NewLimiter(r, b), servers: servers}
		l.limiters.Add(subject, lim)
	} else if lim.servers != servers {
		r, b := l.share(servers)
		lim.SetLimitAt(now, r)
		lim.SetBurstAt(now, b)
		lim.servers = servers
	}
	return lim.Limiter
}

// wrap refuses the requests of a caller over its budget with 429, Retry-After and the
// RateLimit-Policy and RateLimit headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers),
// which every authenticated answer carries. The policy announces the cluster-wide quota, what a
// caller may plan with; RateLimit counts what this server's share has left. It runs after authentication, on /graphql only:
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
		now := l.now()
		lim := l.limiter(p.Subject, now)
		res := lim.ReserveN(now, 1)
		delay := res.DelayFrom(now)
		if delay > 0 {
			res.CancelAt(now)
		}
		tokens := lim.TokensAt(now)
		reset := time.Duration((float64(lim.Burst()) - tokens) / float64(lim.Limit()) * float64(time.Second))
		w.Header().Set("RateLimit-Policy", policy)
		w.Header().Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=%d`, int(math.Max(0, math.Floor(tokens))), int(math.Max(0, math.Ceil(reset.Seconds())))))
		if delay > 0 {
			caller, _, _ := strings.Cut(p.Subject, ":")
			l.refused(caller)
			writeRateLimited(w, r, delay,
				fmt.Sprintf("this caller is over its request budget (%d per %s); retry after the time in Retry-After", l.rate.Requests, l.rate.Window))
			return
		}
		next.ServeHTTP(w, r)
	})
}
