package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/plugboard/plugboard/internal/domain"
)

// Executor performs actions of connections.
type Executor struct {
	Store  domain.ActionStore
	Logger *slog.Logger
	Limits Limits
	Now    func() time.Time
	// Budget admits calls of connections whose version sets a rate limit; nil admits all.
	Budget domain.OutboundBudget
	// Health records what calls learn about connections' credentials (health.go); nil: nothing.
	Health domain.HealthStore

	clients      *clients
	flight       singleflight.Group
	tokenFetches atomic.Int64
	callsOK      atomic.Int64
	callsFailed  atomic.Int64
	metrics      *metrics
}

// NewExecutor returns an executor with limits (zero fields take their defaults).
func NewExecutor(store domain.ActionStore, logger *slog.Logger, limits Limits) *Executor {
	limits = limits.withDefaults()
	e := &Executor{Store: store, Logger: logger, Limits: limits, Now: time.Now, clients: newClients(limits, &Guard{Allow: limits.Allow}), metrics: newMetrics()}
	// The store keeps the budgets too (in connection_budgets on PostgreSQL, so that every
	// server shares them).
	e.Budget, _ = store.(domain.OutboundBudget)
	e.Health, _ = store.(domain.HealthStore)
	return e
}

func (e *Executor) now() time.Time { return e.Now() }

// Stats counts the calls that succeeded (2xx) and failed, and the tokens fetched from token
// URLs, for metrics.
func (e *Executor) Stats() (ok, failed, tokenFetches int64) {
	return e.callsOK.Load(), e.callsFailed.Load(), e.tokenFetches.Load()
}

// Execute performs the named action of a connection. Problems with the request itself are API
// errors (BAD_USER_INPUT, NOT_FOUND, CONFLICT); everything that happens on the wire is reported
// in the result.
func (e *Executor) Execute(ctx context.Context, orgID, connectionID, action string, version *string, input map[string]any) (*domain.ActionResult, error) {
	values, err := domain.ActionInput(input)
	if err != nil {
		return nil, err
	}
	ac, err := e.Store.LoadActionContext(ctx, orgID, connectionID, version)
	if err != nil {
		return nil, err
	}
	if err := refuseNeedsReauth(ac); err != nil {
		return nil, err
	}
	for i := range ac.Version.Actions {
		if ac.Version.Actions[i].Name == action {
			return e.perform(ctx, orgID, ac, &ac.Version.Actions[i], values)
		}
	}
	return nil, domain.Invalid("action", "version %q has no action named %q", ac.Version.Name, action)
}

// Test runs the version's first GET action with its sample request data, to tell whether the
// connection works.
func (e *Executor) Test(ctx context.Context, orgID, connectionID string) (*domain.ActionResult, error) {
	ac, err := e.Store.LoadActionContext(ctx, orgID, connectionID, nil)
	if err != nil {
		return nil, err
	}
	if err := refuseNeedsReauth(ac); err != nil {
		return nil, err
	}
	for i := range ac.Version.Actions {
		a := &ac.Version.Actions[i]
		if a.Method != domain.MethodGet {
			continue
		}
		values := map[string]string{}
		if a.SampleRequestData != nil {
			var sample map[string]any
			dec := json.NewDecoder(strings.NewReader(*a.SampleRequestData))
			dec.UseNumber()
			if dec.Decode(&sample) == nil {
				values, _ = domain.ActionInput(sample)
			}
		}
		return e.perform(ctx, orgID, ac, a, values)
	}
	msg := fmt.Sprintf("version %q has no GET action to test the connection with", ac.Version.Name)
	return &domain.ActionResult{Error: &msg, Version: ac.Version.Name}, nil
}

// request is an action turned into bytes, ready to send (and to send again after a 401).
type request struct {
	method  string
	url     *url.URL
	headers http.Header
	body    []byte
}

func (e *Executor) build(ac *domain.ActionContext, a *domain.HTTPAction, input map[string]string) (*request, error) {
	c := ac.Connector
	if c.ProtocolType != domain.ProtocolHTTP {
		return nil, domain.Errorf(domain.CodeConflict, "connector %q uses %s: only HTTP actions can be executed", c.Name, c.ProtocolType)
	}
	if c.BaseURL == nil {
		return nil, domain.Errorf(domain.CodeConflict, "connector %q has no baseURL to send actions to", c.Name)
	}
	lookup := func(name string) (string, bool) {
		if v, ok := input[name]; ok {
			return v, true
		}
		for _, v := range ac.Connection.Variables {
			if v.Name == name {
				return v.Value, true
			}
		}
		return "", false
	}
	var missing []string
	expand := func(tmpl string, escape func(string) string) string {
		out, m := domain.ExpandTemplate(tmpl, lookup, escape)
		missing = append(missing, m...)
		return out
	}
	pathPart, queryPart, hasQuery := strings.Cut(a.Path, "?")
	// Placeholder names hold no slash, so the path is filled in segment by segment: each
	// segment that comes out as a dot segment is known, with the placeholders that made it.
	segments := strings.Split(pathPart, "/")
	var dotted []string
	for i, seg := range segments {
		var used []string
		out, m := domain.ExpandTemplate(seg, func(name string) (string, bool) {
			used = append(used, "{{"+name+"}}")
			return lookup(name)
		}, url.PathEscape)
		missing = append(missing, m...)
		if len(m) == 0 && isDotSegment(out) {
			dotted = append(dotted, used...)
		}
		segments[i] = out
	}
	target := strings.TrimSuffix(*c.BaseURL, "/")
	if p := strings.Join(segments, "/"); p != "" {
		target += "/" + strings.TrimPrefix(p, "/")
	}
	// With every parameter optional and unset, the URL ends at the path: no bare "?".
	if q := expand(withoutUnsetOptional(queryPart, lookup), url.QueryEscape); hasQuery && q != "" {
		target += "?" + q
	}
	headers := http.Header{}
	for _, h := range a.Headers {
		if domain.OptionalUnset(h.Value, lookup) {
			continue
		}
		headers.Add(h.Name, expand(h.Value, nil))
	}
	var body []byte
	if a.BodyTemplate != nil {
		escape := func(s string) string { return s }
		if looksJSON(*a.BodyTemplate, headers.Get("Content-Type")) {
			escape = jsonStringContent
		}
		body = []byte(expand(*a.BodyTemplate, escape))
		if headers.Get("Content-Type") == "" {
			headers.Set("Content-Type", "text/plain; charset=utf-8")
			if looksJSON(*a.BodyTemplate, "") {
				headers.Set("Content-Type", "application/json")
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, domain.MissingPlaceholders(dedupe(missing))
	}
	if len(dotted) > 0 {
		sort.Strings(dotted)
		// Refused rather than escaped: servers and proxies decode %2E before they resolve
		// dot segments, so no spelling of ".." is sure to stay a name.
		return nil, domain.Invalid("input", "the value given for %s makes a path segment \".\" or \"..\" (escaped or not), which would leave the action's path; such values are refused", strings.Join(dedupe(dotted), ", "))
	}
	for name, vs := range headers {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, domain.Invalid("input", "the value given for header %s would break the request (line breaks)", name)
			}
		}
	}
	u, err := url.Parse(target)
	base, _ := url.Parse(*c.BaseURL)
	if err != nil || base == nil || u.Host != base.Host || u.Scheme != base.Scheme {
		return nil, domain.Invalid("input", "the values given do not make a URL on the connector's host")
	}
	return &request{method: string(a.Method), url: u, headers: headers, body: body}, nil
}

// withoutUnsetOptional leaves out the query parameters that use an optional placeholder,
// {{name?}}, without a value: an API told "status=" is not an API told nothing.
func withoutUnsetOptional(query string, lookup func(string) (string, bool)) string {
	if !strings.Contains(query, "?}}") {
		return query
	}
	params := strings.Split(query, "&")
	kept := params[:0]
	for _, p := range params {
		if !domain.OptionalUnset(p, lookup) {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "&")
}

// isDotSegment reports whether a path segment, once percent-decoded (as often as a chain of
// servers might), is "." or "..", or holds one between slashes or backslashes that a decoding
// server would take for separators.
func isDotSegment(seg string) bool {
	for range 4 {
		d, err := url.PathUnescape(seg)
		if err != nil || d == seg {
			break
		}
		seg = d
	}
	for _, piece := range strings.FieldsFunc(seg, func(r rune) bool { return r == '/' || r == '\\' }) {
		if piece == "." || piece == ".." {
			return true
		}
	}
	return false
}

func looksJSON(tmpl, contentType string) bool {
	if strings.Contains(strings.ToLower(contentType), "json") {
		return true
	}
	t := strings.TrimSpace(tmpl)
	return strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")
}

// jsonStringContent escapes a value for the inside of a JSON string, so that input cannot
// change the structure of a JSON body.
func jsonStringContent(s string) string { return jsonString(s, true) }

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// perform sends the action with the connection's ACTION credentials applied in order,
// retrying once with fresh tokens when the API answers 401, and as the version's outbound
// policy says: failed attempts again (retry.go), each attempt within the connection's budget.
func (e *Executor) perform(ctx context.Context, orgID string, ac *domain.ActionContext, a *domain.HTTPAction, input map[string]string) (*domain.ActionResult, error) {
	req, err := e.build(ac, a, input)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	secrets := newRedactor(ac.Credentials)
	var (
		retry *domain.RetryPolicy
		limit *domain.RateLimit
	)
	if p := ac.Version.OutboundPolicy; p != nil {
		retry, limit = p.Retry, p.RateLimit
	}
	plan := e.retryPlan(ctx, retry, a, start)
	result := &domain.ActionResult{Action: a.Name, Version: ac.Version.Name}
	finish := func(errText string) *domain.ActionResult {
		result.DurationMs = int(time.Since(start).Milliseconds())
		if result.OK {
			e.callsOK.Add(1)
		} else {
			e.callsFailed.Add(1)
		}
		if errText != "" {
			msg := secrets.redact(errText)
			result.Error = &msg
		}
		e.Logger.InfoContext(ctx, "outbound call", "connection_id", ac.Connection.ID, "action", a.Name, "version", ac.Version.Name,
			"host", req.url.Host, "status", statusOf(result), "ok", result.OK, "attempts", result.Attempts, "duration_ms", result.DurationMs)
		return result
	}

	verify := len(ac.Credentials) == 0
	for _, c := range ac.Credentials {
		verify = verify || c.Config.VerifySSL
	}
	client := e.clients.get(verify)
	lastErr := ""
	for attempt := 1; ; attempt++ {
		release := func() {}
		if limit != nil && e.Budget != nil {
			var wait time.Duration
			release, wait, err = e.Budget.AcquireOutbound(ctx, orgID, ac.Connection.ID, limit, e.now(), e.Limits.Timeout)
			if err != nil {
				return nil, err
			}
			if release == nil {
				e.metrics.budgetRefusals.Inc()
				if attempt == 1 {
					return nil, domain.RateLimited(wait, "connection %q is over its outbound budget (%d requests per %d s); nothing was sent",
						ac.Connection.Name, limit.Requests, limit.PerSeconds)
				}
				// A retry the budget has no room for: the last answer stands.
				e.Logger.InfoContext(ctx, "outbound retry refused by the connection's budget", "connection_id", ac.Connection.ID, "action", a.Name, "attempt", attempt)
				return finish(lastErr), nil
			}
		}
		*result = domain.ActionResult{Action: a.Name, Version: ac.Version.Name, Attempts: attempt}
		out := e.attempt(ctx, orgID, ac, req, client, result, secrets)
		release()
		e.metrics.attempts.WithLabelValues(attemptOutcome(out)).Inc()
		if out.status == http.StatusTooManyRequests && out.retryAfter != nil && limit != nil && e.Budget != nil {
			// The upstream said when it will take calls again: no server sends any before then.
			if err := e.Budget.BlockOutbound(ctx, orgID, ac.Connection.ID, e.now().Add(*out.retryAfter)); err != nil {
				e.Logger.WarnContext(ctx, "close outbound budget", "connection_id", ac.Connection.ID, "error", err.Error())
			}
		}
		reason, wait, ok := plan.next(attempt, out, e.now())
		if !ok {
			if out.prepareFailed {
				result.Attempts = attempt - 1
			}
			finish(out.errText)
			e.recordHealth(ctx, orgID, ac, out, result.Error)
			return result, nil
		}
		e.metrics.retries.WithLabelValues(reason).Inc()
		e.Logger.InfoContext(ctx, "outbound attempt", "connection_id", ac.Connection.ID, "action", a.Name, "version", ac.Version.Name,
			"host", req.url.Host, "attempt", attempt, "status", out.status, "retry_reason", reason, "retry_in_ms", wait.Milliseconds())
		lastErr = out.errText
		if !sleep(ctx, wait) {
			return finish(out.errText), nil
		}
	}
}

func statusOf(r *domain.ActionResult) int {
	if r.Status == nil {
		return 0
	}
	return *r.Status
}

// outcome is what one attempt came to.
type outcome struct {
	status int // 0 when no answer came
	// errText says why the attempt failed; empty for a 2xx answer.
	errText string
	// retryAfter is the answer's Retry-After, when it had a valid one.
	retryAfter *time.Duration
	// unsent: the call failed before its request was written, so it is safe to send again.
	unsent bool
	// prepareFailed: the request could not even be built (credentials), nothing was sent;
	// cause says why.
	prepareFailed bool
	cause         error
}

// attempt sends the request once (twice when an OAuth2 token was refused with 401) and reads
// the answer into result.
func (e *Executor) attempt(ctx context.Context, orgID string, ac *domain.ActionContext, req *request, client *http.Client, result *domain.ActionResult, secrets *redactor) outcome {
	rejected := map[string]string{}
	for try := 0; try < 2; try++ {
		httpReq, names, err := e.prepare(ctx, orgID, ac, req, rejected, secrets)
		if err != nil {
			return outcome{errText: err.Error(), prepareFailed: true, cause: err}
		}
		policy := &redirectPolicy{headers: names, secrets: secrets}
		var wrote atomic.Bool
		trace := &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }}
		reqCtx := httptrace.WithClientTrace(context.WithValue(httpReq.Context(), redirectPolicyKey{}, policy), trace)
		res, err := client.Do(httpReq.WithContext(reqCtx))
		if err != nil {
			return outcome{errText: describe(err, req.url.Host, e.Limits), unsent: !wrote.Load() && resendable(err)}
		}
		if res.StatusCode == http.StatusUnauthorized && try == 0 && hasOAuth2(ac) {
			drain(res)
			for i := range ac.Credentials {
				if t := ac.Credentials[i].Token; t != nil {
					rejected[ac.Credentials[i].ID] = t.AccessToken
				}
			}
			continue
		}
		out := outcome{status: res.StatusCode, retryAfter: parseRetryAfter(res.Header.Get("Retry-After"), e.now())}
		e.readResponse(res, result, secrets)
		switch {
		case result.OK:
		case res.StatusCode == http.StatusUnauthorized:
			out.errText = "the server refused the credentials (HTTP 401)"
		case res.StatusCode == http.StatusForbidden:
			out.errText = "the server denied access with these credentials (HTTP 403)"
		default:
			out.errText = fmt.Sprintf("the server answered HTTP %d %s", res.StatusCode, http.StatusText(res.StatusCode))
		}
		return out
	}
	return outcome{errText: "unreachable"}
}

func hasOAuth2(ac *domain.ActionContext) bool {
	for _, c := range ac.Credentials {
		if c.Config.SchemeType == domain.SchemeOAuth2 {
			return true
		}
	}
	return false
}

// prepare builds the HTTP request and applies the credentials in order. It returns the names
// of the headers credentials set, which are dropped when a redirect leaves the host.
func (e *Executor) prepare(ctx context.Context, orgID string, ac *domain.ActionContext, r *request, rejected map[string]string, secrets *redactor) (*http.Request, []string, error) {
	u := *r.url
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), bytes.NewReader(r.body))
	if err != nil {
		return nil, nil, fmt.Errorf("the request cannot be built: %w", err)
	}
	req.Header = r.headers.Clone()
	req.Header.Set("User-Agent", "Plugboard/1")
	var names []string
	query := req.URL.Query()
	queryChanged := false
	for i := range ac.Credentials {
		c := &ac.Credentials[i]
		switch c.Config.SchemeType {
		case domain.SchemeBasic:
			req.SetBasicAuth(c.Value(domain.FieldUsername), c.Value(domain.FieldPassword))
			secrets.add(base64.StdEncoding.EncodeToString([]byte(c.Value(domain.FieldUsername) + ":" + c.Value(domain.FieldPassword))))
			names = append(names, "Authorization")
		case domain.SchemeBearer:
			req.Header.Set("Authorization", "Bearer "+c.Value(domain.FieldToken))
			names = append(names, "Authorization")
		case domain.SchemeAPIKey:
			s := c.Config.APIKey
			if s == nil || s.Name == nil {
				return nil, nil, fmt.Errorf("auth scheme config %q does not say where the API key goes", c.Config.Key)
			}
			if s.In == domain.APIKeyInQuery {
				query.Set(*s.Name, c.Value(domain.FieldAPIKey))
				queryChanged = true
			} else {
				req.Header.Set(*s.Name, c.Value(domain.FieldAPIKey))
				names = append(names, *s.Name)
			}
		case domain.SchemeOAuth2:
			t, err := e.token(ctx, orgID, c, rejected[c.ID])
			if err != nil {
				return nil, nil, fmt.Errorf("auth scheme config %q: %w", c.Config.Key, err)
			}
			secrets.add(t.AccessToken)
			secrets.add(t.RefreshToken)
			prefix, header := domain.DefaultAuthorizationPrefix, domain.DefaultHeaderAuthorization
			if c.Config.OAuth2 != nil {
				prefix, header = c.Config.OAuth2.AuthorizationPrefix, c.Config.OAuth2.HeaderAuthorization
			}
			req.Header.Set(header, prefix+" "+t.AccessToken)
			names = append(names, header)
		}
	}
	if queryChanged {
		req.URL.RawQuery = query.Encode()
	}
	return req, names, nil
}

func (e *Executor) readResponse(res *http.Response, result *domain.ActionResult, secrets *redactor) {
	defer res.Body.Close()
	status := res.StatusCode
	result.Status = &status
	result.OK = status >= 200 && status < 300
	names := make([]string, 0, len(res.Header))
	for n := range res.Header {
		names = append(names, n)
	}
	sort.Strings(names)
	result.Headers = []domain.HTTPHeader{}
	for _, n := range names {
		for _, v := range res.Header[n] {
			result.Headers = append(result.Headers, domain.HTTPHeader{Name: n, Value: secrets.redact(v)})
		}
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, e.Limits.MaxBodyBytes+1))
	if int64(len(data)) > e.Limits.MaxBodyBytes {
		data, result.BodyTruncated = data[:e.Limits.MaxBodyBytes], true
	}
	body := secrets.redact(string(data))
	result.Body = &body
	if err != nil && !result.BodyTruncated {
		msg := "reading the response failed part way"
		result.Error = &msg
	}
}

func drain(res *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
}

// describe says in plain words why a call failed: DNS, TLS, refused, timeout, SSRF guard.
// host is the action's host; when a redirect target failed, that target is named instead.
func describe(err error, host string, l Limits) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		// Only the host is taken: the URL's query may hold an API key.
		if u, perr := url.Parse(urlErr.URL); perr == nil && u.Host != "" && u.Host != host {
			host = fmt.Sprintf("%s (redirected from %s)", u.Host, host)
		}
	}
	var (
		refused *RedirectRefusedError
		blocked *BlockedError
		dnsErr  *net.DNSError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		hostErr x509.HostnameError
		tlsErr  tls.RecordHeaderError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &refused):
		return refused.Error()
	case errors.As(err, &blocked):
		return fmt.Sprintf("refused: %s resolves to %s; calls into private networks are not allowed (PLUGBOARD_OUTBOUND_ALLOW opens ranges)", host, blocked.Error())
	case errors.Is(err, errTooManyRedirects):
		return fmt.Sprintf("stopped after %d redirects", l.MaxRedirects)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("DNS: could not resolve %s", dnsErr.Name)
	case errors.As(err, &unknown):
		return fmt.Sprintf("TLS: the certificate of %s is signed by an unknown authority", host)
	case errors.As(err, &hostErr):
		return fmt.Sprintf("TLS: the certificate is not valid for %s", host)
	case errors.As(err, &invalid):
		return fmt.Sprintf("TLS: the certificate of %s is invalid (%s)", host, invalid.Detail)
	case errors.As(err, &tlsErr):
		return fmt.Sprintf("TLS: %s did not answer TLS", host)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused by %s", host)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("timed out (limit %s)", l.Timeout)
	case errors.Is(err, context.Canceled):
		return "the request was cancelled"
	}
	if urlErr != nil {
		err = urlErr.Err // its message repeats the URL, query (and so API keys) included
	}
	return "the request failed: " + err.Error()
}

func readAll(req *http.Request) ([]byte, error) {
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

func setBody(req *http.Request, b []byte) {
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}
