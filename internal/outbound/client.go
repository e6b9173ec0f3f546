package outbound

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// Limits bound every outbound call.
type Limits struct {
	// Timeout bounds a whole call, reading the response included (default 10 s).
	Timeout time.Duration
	// ConnectTimeout bounds establishing the connection (default 10 s).
	ConnectTimeout time.Duration
	// MaxBodyBytes caps the response body returned (default 1 MiB); longer bodies are cut and
	// flagged as truncated.
	MaxBodyBytes int64
	// MaxRedirects is how many redirects are followed (default 5).
	MaxRedirects int
	// Allow opens address ranges the SSRF guard refuses by default.
	Allow []netip.Prefix
	// RetryBackoff is the first backoff ceiling of retries without Retry-After (default
	// 250 ms); it doubles per attempt up to MaxRetryBackoff (default 10 s).
	RetryBackoff, MaxRetryBackoff time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	if l.ConnectTimeout <= 0 {
		l.ConnectTimeout = 10 * time.Second
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.RetryBackoff <= 0 {
		l.RetryBackoff = 250 * time.Millisecond
	}
	if l.MaxRetryBackoff <= 0 {
		l.MaxRetryBackoff = 10 * time.Second
	}
	if l.MaxRedirects < 0 {
		l.MaxRedirects = 0
	} else if l.MaxRedirects == 0 {
		l.MaxRedirects = 5
	}
	return l
}

// errTooManyRedirects stops a redirect chain.
var errTooManyRedirects = errors.New("too many redirects")

// clients holds one HTTP client per TLS policy: verifySSL is per auth scheme config.
type clients struct {
	verified, unverified *http.Client
}

func newClients(l Limits, guard *Guard) *clients {
	build := func(skipVerify bool) *http.Client {
		dialer := &net.Dialer{Timeout: l.ConnectTimeout, KeepAlive: 30 * time.Second, Control: guard.control}
		transport := &http.Transport{
			// Environment proxies would make the guard check the proxy, not the target.
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   10,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   l.ConnectTimeout,
			ResponseHeaderTimeout: l.Timeout,
			TLSClientConfig:       &tls.Config{InsecureSkipVerify: skipVerify, MinVersion: tls.VersionTLS12}, //nolint:gosec // only when the config says verifySSL: false
		}
		return &http.Client{
			Transport: transport,
			Timeout:   l.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > l.MaxRedirects {
					return fmt.Errorf("%w (%d)", errTooManyRedirects, l.MaxRedirects)
				}
				return checkRedirect(req, via)
			},
		}
	}
	return &clients{verified: build(false), unverified: build(true)}
}

func (c *clients) get(verifySSL bool) *http.Client {
	if verifySSL {
		return c.verified
	}
	return c.unverified
}

// redirectPolicyKey carries a call's *redirectPolicy in its request context.
type redirectPolicyKey struct{}

// redirectPolicy says what a call must not carry to another origin when it is redirected.
type redirectPolicy struct {
	// headers are the names of the headers credentials set.
	headers []string
	// secrets finds credential values, in any encoding, in the redirect target's URL or in
	// the body a 307 or 308 sends again.
	secrets *redactor
}

// RedirectRefusedError reports a redirect that was not followed because it would have carried
// a credential to another host.
type RedirectRefusedError struct {
	Host, Reason string
}

func (e *RedirectRefusedError) Error() string {
	return fmt.Sprintf("refused to follow a redirect to %s: %s", e.Host, e.Reason)
}

// checkRedirect keeps credentials on the host the call was made to. Go's client adds a Referer
// with the previous URL (query, and so API keys, included) to every redirect: no outbound call
// sends one, to any host, since the URL of an action is no one else's business. Across origins
// (scheme or host and port differ: a downgrade to http would expose the credentials on the wire)
// the headers credentials set are dropped (Go drops only Authorization and cookies), and a
// target whose URL holds a credential value (an upstream copying the query into Location, or
// userinfo that Go would turn into Basic auth) is refused rather than stripped: a stripped URL
// names a resource the upstream did not point to, and a refusal says plainly what happened.
func checkRedirect(req *http.Request, via []*http.Request) error {
	req.Header.Del("Referer")
	origin := via[0].URL
	if req.URL.Host == origin.Host && req.URL.Scheme == origin.Scheme {
		return nil
	}
	policy, _ := req.Context().Value(redirectPolicyKey{}).(*redirectPolicy)
	if policy == nil {
		return nil
	}
	for _, n := range policy.headers {
		req.Header.Del(n)
	}
	if policy.secrets.foundIn(redirectURLForms(req.URL)...) {
		return &RedirectRefusedError{Host: req.URL.Host, Reason: "its URL carries a credential"}
	}
	// A 307 or 308 sends the body again: a token request's form holds the client secret.
	if req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			b, err := io.ReadAll(body)
			body.Close()
			if err != nil || policy.secrets.foundIn(string(b)) {
				return &RedirectRefusedError{Host: req.URL.Host, Reason: "its body carries a credential"}
			}
		}
	}
	return nil
}

// redirectURLForms are the texts of a URL a credential may hide in: as sent, and its parts
// decoded, so that a value escaped in a way the redactor does not list is found all the same.
func redirectURLForms(u *url.URL) []string {
	forms := []string{u.String(), u.Path}
	if q, err := url.QueryUnescape(u.RawQuery); err == nil {
		forms = append(forms, q)
	}
	if u.User != nil {
		forms = append(forms, u.User.Username())
		if p, ok := u.User.Password(); ok {
			forms = append(forms, p)
		}
	}
	return forms
}
