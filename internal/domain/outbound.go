package domain

import (
	"context"
	"fmt"
	"time"
)

// OutboundPolicy is how calls through a version's actions treat the upstream: retries and a
// rate budget per connection. Nil parts are off. Read back with every default filled in.
type OutboundPolicy struct {
	Retry     *RetryPolicy `json:"retry,omitempty"`
	RateLimit *RateLimit   `json:"rateLimit,omitempty"`
}

// RetryPolicy says which failed attempts are tried again.
type RetryPolicy struct {
	MaxAttempts       int   `json:"maxAttempts"`
	RetryOn           []int `json:"retryOn"`
	MaxElapsedSeconds int   `json:"maxElapsedSeconds"`
}

// RateLimit is a connection's outbound budget: Requests per PerSeconds with bursts of Burst,
// and at most Concurrency calls at once (nil: no cap).
type RateLimit struct {
	Requests    int  `json:"requests"`
	PerSeconds  int  `json:"perSeconds"`
	Burst       int  `json:"burst"`
	Concurrency *int `json:"concurrency,omitempty"`
}

// Interval is the time one request's share of the budget takes to come back (GCRA's emission
// interval).
func (l *RateLimit) Interval() time.Duration {
	return time.Duration(l.PerSeconds) * time.Second / time.Duration(l.Requests)
}

// Defaults and bounds of outbound policies.
const (
	DefaultRetryMaxAttempts       = 3
	DefaultRetryMaxElapsedSeconds = 30
	MaxRetryAttempts              = 10
	// MaxRetryElapsedSeconds is the longest retry budget a version may ask for; a call's
	// budget is also cut to the request's own deadline when it runs.
	MaxRetryElapsedSeconds = 300
	MaxRateRequests        = 1_000_000
	MaxRatePerSeconds      = 86_400
	MaxRateConcurrency     = 1_000
)

// DefaultRetryOn are the statuses retried when retryOn is omitted: too many requests and the
// gateway statuses that say the upstream did not handle the request.
var DefaultRetryOn = []int{429, 502, 503, 504}

// OutboundPolicyInput is a version's policy as given; nil fields take their defaults.
type OutboundPolicyInput struct {
	Retry     *RetryPolicyInput
	RateLimit *RateLimitInput
}

// RetryPolicyInput is the retry part of OutboundPolicyInput.
type RetryPolicyInput struct {
	MaxAttempts       *int
	RetryOn           []int // nil: DefaultRetryOn
	MaxElapsedSeconds *int
}

// RateLimitInput is the budget part of OutboundPolicyInput.
type RateLimitInput struct {
	Requests    int
	PerSeconds  int
	Burst       *int
	Concurrency *int
}

// Policy checks the input and returns the policy with its defaults filled in; field paths are
// relative to the policy (retry.maxAttempts).
func (in *OutboundPolicyInput) Policy() (*OutboundPolicy, error) {
	if in == nil {
		return nil, nil
	}
	p := &OutboundPolicy{}
	if r := in.Retry; r != nil {
		p.Retry = &RetryPolicy{MaxAttempts: DefaultRetryMaxAttempts, RetryOn: DefaultRetryOn, MaxElapsedSeconds: DefaultRetryMaxElapsedSeconds}
		if r.MaxAttempts != nil {
			if *r.MaxAttempts < 1 || *r.MaxAttempts > MaxRetryAttempts {
				return nil, Invalid("retry.maxAttempts", "must be 1 to %d (1: no retries)", MaxRetryAttempts)
			}
			p.Retry.MaxAttempts = *r.MaxAttempts
		}
		if r.RetryOn != nil {
			seen := map[int]bool{}
			p.Retry.RetryOn = make([]int, 0, len(r.RetryOn))
			for i, s := range r.RetryOn {
				if s < 400 || s > 599 {
					return nil, Invalid(fmt.Sprintf("retry.retryOn[%d]", i), "must be an HTTP error status, 400 to 599")
				}
				if !seen[s] {
					seen[s] = true
					p.Retry.RetryOn = append(p.Retry.RetryOn, s)
				}
			}
		}
		if r.MaxElapsedSeconds != nil {
			if *r.MaxElapsedSeconds < 1 || *r.MaxElapsedSeconds > MaxRetryElapsedSeconds {
				return nil, Invalid("retry.maxElapsedSeconds", "must be 1 to %d (and is cut to the request's time limit)", MaxRetryElapsedSeconds)
			}
			p.Retry.MaxElapsedSeconds = *r.MaxElapsedSeconds
		}
	}
	if l := in.RateLimit; l != nil {
		if l.Requests < 1 || l.Requests > MaxRateRequests {
			return nil, Invalid("rateLimit.requests", "must be 1 to %d", MaxRateRequests)
		}
		if l.PerSeconds < 1 || l.PerSeconds > MaxRatePerSeconds {
			return nil, Invalid("rateLimit.perSeconds", "must be 1 to %d (a day)", MaxRatePerSeconds)
		}
		p.RateLimit = &RateLimit{Requests: l.Requests, PerSeconds: l.PerSeconds, Burst: l.Requests}
		if l.Burst != nil {
			if *l.Burst < 1 || *l.Burst > MaxRateRequests {
				return nil, Invalid("rateLimit.burst", "must be 1 to %d", MaxRateRequests)
			}
			p.RateLimit.Burst = *l.Burst
		}
		if l.Concurrency != nil {
			if *l.Concurrency < 1 || *l.Concurrency > MaxRateConcurrency {
				return nil, Invalid("rateLimit.concurrency", "must be 1 to %d (omit it for no cap)", MaxRateConcurrency)
			}
			c := *l.Concurrency
			p.RateLimit.Concurrency = &c
		}
	}
	return p, nil
}

// RateLimited is Plugboard's own refusal of a call over a budget: retryAfter is rounded up to
// whole seconds, at least one.
func RateLimited(retryAfter time.Duration, format string, args ...any) *Error {
	e := Errorf(CodeRateLimited, format, args...)
	e.RetryAfter = RetryAfterSeconds(retryAfter)
	return e
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least one: clients that come back
// sooner than told would only be refused again.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// OutboundBudget admits outbound calls of connections against their rate limit; on
// PostgreSQL one budget is shared by every server.
type OutboundBudget interface {
	// AcquireOutbound takes one request of the connection's budget and, with a concurrency
	// cap, a slot leased until now+lease. It returns release (which frees the slot) when
	// admitted, or nil and how long to wait.
	AcquireOutbound(ctx context.Context, orgID, connectionID string, limit *RateLimit, now time.Time, lease time.Duration) (release func(), wait time.Duration, err error)
	// BlockOutbound closes the connection's budget until until (an upstream's Retry-After).
	BlockOutbound(ctx context.Context, orgID, connectionID string, until time.Time) error
}
