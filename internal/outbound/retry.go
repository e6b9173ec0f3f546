package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plugboard/plugboard/internal/domain"
)

// retryPlan is when a call's failed attempts are sent again.
type retryPlan struct {
	maxAttempts int
	retryOn     []int
	// deadline ends the retries: the policy's maxElapsedSeconds from the call's start, or the
	// request's own deadline when that comes first.
	deadline time.Time
	// backoff is the first backoff ceiling; it doubles with each attempt, up to maxBackoff.
	backoff, maxBackoff time.Duration
}

// retryPlan returns one attempt without a policy, and for a method that is not safe to send
// twice: POST and PATCH only when the action sends an Idempotency-Key header, which lets the
// upstream recognise the repeat.
func (e *Executor) retryPlan(ctx context.Context, p *domain.RetryPolicy, a *domain.HTTPAction, start time.Time) retryPlan {
	plan := retryPlan{maxAttempts: 1, backoff: e.Limits.RetryBackoff, maxBackoff: e.Limits.MaxRetryBackoff}
	if p == nil || !resendableMethod(a) {
		return plan
	}
	plan.maxAttempts, plan.retryOn = p.MaxAttempts, p.RetryOn
	plan.deadline = start.Add(time.Duration(p.MaxElapsedSeconds) * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(plan.deadline) {
		plan.deadline = d
	}
	return plan
}

func resendableMethod(a *domain.HTTPAction) bool {
	switch a.Method {
	case domain.MethodGet, domain.MethodPut, domain.MethodDelete:
		return true
	}
	return slices.ContainsFunc(a.Headers, func(h domain.HTTPHeader) bool { return strings.EqualFold(h.Name, "Idempotency-Key") })
}

// next tells whether attempt (1-based), which came to out, is followed by another, why (a
// bounded metric label) and after how long. A Retry-After is obeyed; without one the wait is
// exponential backoff with full jitter (a uniform draw below the ceiling), so that callers
// refused together do not come back together. A wait that would end past the deadline ends
// the retries: the last answer is returned rather than a later failure.
func (p *retryPlan) next(attempt int, out outcome, now time.Time) (reason string, wait time.Duration, ok bool) {
	if attempt >= p.maxAttempts {
		return "", 0, false
	}
	switch {
	case out.unsent:
		reason = "connection"
	case out.status != 0 && slices.Contains(p.retryOn, out.status):
		reason = strconv.Itoa(out.status)
	default:
		return "", 0, false
	}
	if out.retryAfter != nil {
		wait = *out.retryAfter
	} else {
		ceiling := min(p.backoff<<(attempt-1), p.maxBackoff)
		if ceiling > 0 {
			wait = rand.N(ceiling)
		}
	}
	if now.Add(wait).After(p.deadline) {
		return "", 0, false
	}
	return reason, wait, true
}

// parseRetryAfter reads Retry-After as delay seconds or as an HTTP date (RFC 9110 §10.2.3);
// nil when absent or unreadable. A date in the past means now.
func parseRetryAfter(v string, now time.Time) *time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return nil
		}
		d = time.Duration(min(n, 1<<31)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return nil
	}
	return &d
}

// resendable tells whether a failure before the request was written is worth another try:
// not the SSRF guard's refusal nor a certificate problem, which would fail the same way.
func resendable(err error) bool {
	var (
		blocked *BlockedError
		refused *RedirectRefusedError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		hostErr x509.HostnameError
		tlsErr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &blocked), errors.As(err, &refused), errors.As(err, &unknown), errors.As(err, &invalid),
		errors.As(err, &hostErr), errors.As(err, &tlsErr), errors.Is(err, context.Canceled), errors.Is(err, errTooManyRedirects):
		return false
	}
	return true
}

// sleep waits d unless ctx ends first; it reports whether the wait ran out.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// metrics count attempts, retries and budget refusals. Labels are bounded: an outcome class,
// a status between 400 and 599 or "connection"; never a connection or organisation id.
type metrics struct {
	attempts       *prometheus.CounterVec
	retries        *prometheus.CounterVec
	budgetRefusals prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_outbound_attempts_total",
			Help: "Outbound attempts (retries included) by outcome: 2xx, 3xx, 4xx, 5xx or error (no answer).",
		}, []string{"outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_outbound_retries_total",
			Help: "Outbound attempts sent again, by reason: the status answered, or connection (failed before the request was sent).",
		}, []string{"reason"}),
		budgetRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plugboard_outbound_budget_refusals_total",
			Help: "Outbound attempts refused by their connection's rate budget (RATE_LIMITED, or a retry not sent).",
		}),
	}
}

// Collectors are the executor's metrics, for the server's registry.
func (e *Executor) Collectors() []prometheus.Collector {
	return []prometheus.Collector{e.metrics.attempts, e.metrics.retries, e.metrics.budgetRefusals}
}

func attemptOutcome(out outcome) string {
	if out.status == 0 {
		return "error"
	}
	return strconv.Itoa(out.status/100) + "xx"
}
