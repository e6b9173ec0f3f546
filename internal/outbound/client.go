package outbound

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
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
				// Credentials go to the host the action names, not wherever it redirects:
				// Go drops Authorization across hosts; the other headers credentials set go too.
				if req.URL.Host != via[0].URL.Host {
					if names, ok := req.Context().Value(credentialHeadersKey{}).([]string); ok {
						for _, n := range names {
							req.Header.Del(n)
						}
					}
				}
				return nil
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

type credentialHeadersKey struct{}
