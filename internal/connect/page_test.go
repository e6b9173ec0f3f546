package connect_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/outbound"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

const (
	createSession   = `mutation($c: ID!, $r: String) { createConnectSession(connectionId: $c, redirectURL: $r) { url expiresAt } }`
	credentialState = `query($id: ID!) { connection(id: $id) { status credentials { authSchemeConfig { key } fieldsSet } } }`
	setIcon         = `mutation($id: ID!, $in: UpdateConnectorInput!) { updateConnector(id: $id, input: $in) { id } }`
)

// frontEnd stands for the application that sends its user to the connect page: it records
// the visits the page's redirect makes, and serves the connector's icon.
type frontEnd struct {
	*httptest.Server
	mu     sync.Mutex
	visits []string
}

func newFrontEnd(t *testing.T) *frontEnd {
	f := &frontEnd{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/icon.svg" {
			w.Header().Set("Content-Type", "image/svg+xml")
			fmt.Fprint(w, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="10" fill="#0b7a75"/><path d="M14 25l7 7 14-15" stroke="#fff" stroke-width="5" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`)
			return
		}
		f.mu.Lock()
		f.visits = append(f.visits, r.URL.RequestURI()+" referer="+r.Header.Get("Referer"))
		f.mu.Unlock()
		fmt.Fprint(w, "<!doctype html><title>App</title><p>Back in the app</p>")
	}))
	t.Cleanup(f.Close)
	return f
}

// pageFixture creates a connector with one config of each kind the page knows (and a NONE one
// it does not show), its connection, and a connect session leading back to the front end.
func pageFixture(t *testing.T, c *apitest.Client, p *provider, app *frontEnd) (connector, conn, sessionURL string) {
	t.Helper()
	connector = c.Do(t, createConnector, map[string]any{"in": map[string]any{
		"name": "Acme CRM", "protocolType": "HTTP", "baseURL": p.Issuer, "iconURL": app.URL + "/icon.svg",
		"authSchemeConfigs": []any{
			map[string]any{"id": "oidc", "description": "Acme single sign-on", "schemeType": "OAUTH2", "oauth2": map[string]any{
				"grant": "AUTHORIZATION_CODE", "authorizeURL": p.Issuer + "/auth", "tokenURL": p.Issuer + "/token", "scopes": []any{"openid", "profile"},
			}},
			map[string]any{"id": "basic", "description": "Acme account", "schemeType": "BASIC"},
			map[string]any{"id": "key", "description": "Acme API key", "schemeType": "API_KEY", "apiKey": map[string]any{"in": "HEADER", "name": "X-Api-Key"}},
			map[string]any{"id": "open", "description": "No sign-in", "schemeType": "NONE"},
		},
	}}).OK(t).String("createConnector.id")
	version := c.Do(t, createVersion, map[string]any{"c": connector, "in": map[string]any{
		"name": "1", "actions": []any{map[string]any{"name": "me", "method": "GET", "path": "/me"}},
	}}).OK(t).String("createVersion.id")
	c.Do(t, publishVersion, map[string]any{"id": version}).OK(t)
	conn = c.Do(t, createConnection, map[string]any{"c": connector, "in": map[string]any{"name": "Alice at Acme"}}).OK(t).String("createConnection.id")
	// The application registered its OAuth client beforehand; the page never asks for it.
	c.Do(t, setCredential, map[string]any{"c": conn, "in": map[string]any{"authSchemeConfigId": "oidc", "kind": "ACTION", "values": vars("clientId", "plugboard", "clientSecret", "plugboard-client-secret")}}).OK(t)
	sessionURL = c.Do(t, createSession, map[string]any{"c": conn, "r": app.URL + "/connected?from=plugboard"}).OK(t).String("createConnectSession.url")
	return connector, conn, sessionURL
}

func fieldsSet(t *testing.T, c *apitest.Client, conn string) map[string]string {
	t.Helper()
	r := c.Do(t, credentialState, map[string]any{"id": conn}).OK(t)
	out := map[string]string{"status": r.String("connection.status")}
	for i := range r.List("connection.credentials") {
		out[r.String(fmt.Sprintf("connection.credentials.%d.authSchemeConfig.key", i))] = r.JSON(fmt.Sprintf("connection.credentials.%d.fieldsSet", i))
	}
	return out
}

// TestConnectPageInBrowser has an account's owner use the hosted page in headless Chromium:
// fill the username and password form and save (the page says so and returns to the app),
// then sign in with the provider through the OAuth2 button, which comes back to the page.
// fieldsSet over GraphQL shows what was stored. The screenshot goes to
// $PLUGBOARD_TEST_ARTIFACTS/connect-page.png (docs/connect-page.png is one).
func TestConnectPageInBrowser(t *testing.T) {
	browser := testdb.Chromium(t)
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		app := newFrontEnd(t)
		h := apitest.NewWithOptions(t, st, apitest.Options{Outbound: outbound.Limits{Allow: apitest.Loopback}, ConnectRedirectOrigins: []string{app.URL}})
		p := startProvider(t, h.Server.URL+"/oauth/callback")
		c := h.NewOrg(t)
		_, conn, sessionURL := pageFixture(t, c, p, app)
		token := sessionURL[strings.LastIndex(sessionURL, "/")+1:]

		opts := testdb.BrowserOptions(t, browser, 800, 1100)
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		defer cancelAlloc()
		ctx, cancel := chromedp.NewContext(allocCtx)
		defer cancel()
		// The first action starts the browser: its context must not carry the deadline.
		_, err := chromedp.Run(ctx, chromedp.Navigate("about:blank"))
		steps, cancelSteps := context.WithTimeout(ctx, 90*time.Second)
		defer cancelSteps()
		stage := func(name string, actions ...chromedp.Action[chromedp.Void]) {
			if err == nil {
				if err = chromedp.Do(steps, actions...); err != nil {
					err = fmt.Errorf("%s: %w", name, err)
				}
			}
		}
		// until polls for expression across the page's navigations (a form post, redirects):
		// a poll the navigation interrupts starts again in the new document.
		until := func(expression string) chromedp.Action[chromedp.Void] {
			return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
				for {
					pollCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
					_, err := chromedp.Poll[bool](expression)(pollCtx, t)
					cancel()
					if err == nil || ctx.Err() != nil {
						return chromedp.Void{}, err
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}
		stage("open the page",
			chromedp.Navigate(sessionURL),
			chromedp.WaitVisible(chromedp.ID("f-basic-username")),
			until(`document.querySelector('header img').complete && document.querySelector('header img').naturalWidth > 0`),
		)
		var shown struct {
			Title, Text, Referrer string
			Sections              int
		}
		if err == nil {
			shown, err = chromedp.Run(steps, chromedp.Evaluate[struct {
				Title, Text, Referrer string
				Sections              int
			}](`({Title: document.title, Text: document.body.innerText, Referrer: document.querySelector('header img').getAttribute('referrerpolicy'), Sections: document.querySelectorAll('section').length})`))
		}
		screenshot, _ := chromedp.Run(steps, chromedp.FullScreenshot(100))
		saveArtifact(t, "connect-page.png", screenshot)
		stage("fill the username and password form",
			chromedp.SendKeys(chromedp.ID("f-basic-username"), "alice@acme.example"),
			chromedp.SendKeys(chromedp.ID("f-basic-password"), "correct horse battery"),
			chromedp.Click(chromedp.CSS(`form:has(#f-basic-username) button[type=submit]`)),
			until(`document.body.innerText.includes('Saved. Your details are stored')`),
		)
		var afterSave string
		if err == nil {
			afterSave, err = chromedp.Run(steps, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		}
		stage("return to the app", until(`location.href.startsWith(`+jsString(app.URL+"/connected")+`)`))
		if err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("browser: %v (page text: %q)", err, text)
		}
		if shown.Title != "Connect Acme CRM" || !strings.Contains(shown.Text, "Connect your Acme CRM account") || !strings.Contains(shown.Text, "Alice at Acme") {
			t.Errorf("the page shows %q: %q", shown.Title, shown.Text)
		}
		if shown.Sections != 3 || strings.Contains(shown.Text, "No sign-in") {
			t.Errorf("want the OAuth2, BASIC and API_KEY configs and not the NONE one, got %d sections: %q", shown.Sections, shown.Text)
		}
		if shown.Referrer != "no-referrer" {
			t.Errorf("the icon's referrerpolicy is %q", shown.Referrer)
		}
		if strings.Contains(afterSave, "correct horse") || strings.Contains(afterSave, "plugboard-client-secret") {
			t.Error("a secret was echoed into the page")
		}
		got := fieldsSet(t, c, conn)
		if got["basic"] != `["password","username"]` || got["status"] != "PENDING" {
			t.Errorf("after the form: %v", got)
		}
		app.mu.Lock()
		visits := strings.Join(app.visits, "\n")
		app.mu.Unlock()
		if !strings.Contains(visits, "/connected?from=plugboard&status=ok referer=\n") && !strings.HasSuffix(visits, "/connected?from=plugboard&status=ok referer=") {
			t.Errorf("the app was visited as %q; want /connected?from=plugboard&status=ok without a Referer", visits)
		}

		// The OAuth2 button: to the provider (login and consent are automatic there), back
		// through the callback to the page, and on to the app.
		stage("sign in with the provider",
			chromedp.Navigate(sessionURL),
			chromedp.WaitVisible(chromedp.CSS(`form[action$="/oauth"] button`)),
			chromedp.Click(chromedp.CSS(`form[action$="/oauth"] button`)),
			until(`location.pathname.startsWith('/connect/') && document.body.innerText.includes('Your account is connected')`),
			until(`location.href.startsWith(`+jsString(app.URL+"/connected")+`)`),
		)
		if err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + ' ' + document.body.innerText`))
			t.Fatalf("browser: %v (page: %q)", err, text)
		}
		got = fieldsSet(t, c, conn)
		if got["oidc"] != `["accessToken","clientId","clientSecret","refreshToken"]` || got["status"] != "OK" {
			t.Errorf("after signing in: %v", got)
		}
		if strings.Contains(h.Logs.String(), token) {
			t.Error("the page's token reached the server log")
		}
	})
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func saveArtifact(t *testing.T, name string, data []byte) {
	dir := os.Getenv("PLUGBOARD_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "plugboard-test-artifacts")
	}
	if len(data) > 0 && os.MkdirAll(dir, 0o755) == nil {
		path := filepath.Join(dir, name)
		if os.WriteFile(path, data, 0o644) == nil {
			t.Logf("screenshot: %s", path)
		}
	}
}

// TestConnectPageRefusals: what the page and createConnectSession refuse, over plain HTTP.
func TestConnectPageRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		app := newFrontEnd(t)
		h := apitest.NewWithOptions(t, st, apitest.Options{Outbound: outbound.Limits{Allow: apitest.Loopback}, ConnectRedirectOrigins: []string{app.URL}})
		c := h.NewOrg(t)
		_, conn, sessionURL := pageFixture(t, c, &provider{Issuer: "https://id.example.com"}, app)
		token := sessionURL[strings.LastIndex(sessionURL, "/")+1:]
		if !strings.HasPrefix(sessionURL, h.Server.URL+"/connect/pbc_") {
			t.Fatalf("session URL %s", sessionURL)
		}
		sessions := count(t, st, "connect_sessions")

		t.Run("CreateRefused", func(t *testing.T) {
			c.Do(t, createSession, map[string]any{"c": conn, "r": "https://evil.example.com/"}).ExpectError(t, "BAD_USER_INPUT", "redirectURL")
			c.Do(t, createSession, map[string]any{"c": "01a00000-0000-7000-8000-000000000000"}).ExpectError(t, "NOT_FOUND", "")
			other := h.NewOrg(t)
			other.Do(t, createSession, map[string]any{"c": conn}).ExpectError(t, "NOT_FOUND", "")
			if count(t, st, "connect_sessions") != sessions {
				t.Error("a refused createConnectSession stored a session")
			}
			sqlDB, _ := st.SQL()
			var plain int
			_ = sqlDB.QueryRow("SELECT COUNT(*) FROM connect_sessions WHERE token_hash = ?", token).Scan(&plain)
			if plain != 0 {
				t.Error("the token is stored in plain text")
			}
		})

		t.Run("TokenGrantsNothingElse", func(t *testing.T) {
			r := c.WithToken(token).Do(t, `{ connection(id: "`+conn+`") { id } }`, nil)
			if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
				t.Errorf("a connect token on /graphql: HTTP %d %s", r.Status, r.Body)
			}
		})

		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := browser.Get(sessionURL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for header, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
			if got := res.Header.Get(header); got != want {
				t.Errorf("%s: %q, want %q", header, got, want)
			}
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(body))
		if res.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("the page: HTTP %d %s", res.StatusCode, body)
		}
		csrf := m[1]
		post := func(t *testing.T, client *http.Client, form url.Values, headers map[string]string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, sessionURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return res, string(b)
		}
		basic := func(csrf string) url.Values {
			return url.Values{"csrf": {csrf}, "config": {"basic"}, "username": {"mallory"}, "password": {"hunter2-secret"}}
		}
		noJar := &http.Client{Timeout: 30 * time.Second}
		for _, tc := range []struct {
			name    string
			client  *http.Client
			form    url.Values
			headers map[string]string
		}{
			{"NoToken", browser, url.Values{"config": {"basic"}, "username": {"mallory"}, "password": {"hunter2-secret"}}, nil},
			{"WrongToken", browser, basic(strings.Repeat("x", 43)), nil},
			{"NoCookie", noJar, basic(csrf), nil},
			{"CrossSite", browser, basic(csrf), map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"ForeignOrigin", browser, basic(csrf), map[string]string{"Origin": "https://evil.example.com"}},
		} {
			t.Run("CSRF/"+tc.name, func(t *testing.T) {
				res, body := post(t, tc.client, tc.form, tc.headers)
				if res.StatusCode != http.StatusForbidden || strings.Contains(body, "hunter2") {
					t.Errorf("HTTP %d: %s", res.StatusCode, body)
				}
			})
		}
		if got := fieldsSet(t, c, conn); got["basic"] != "" {
			t.Fatalf("a refused form stored values: %v", got)
		}

		t.Run("Incomplete", func(t *testing.T) {
			res, body := post(t, browser, url.Values{"csrf": {csrf}, "config": {"basic"}, "username": {"mallory-the-user"}}, nil)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Fill in: Password.") || strings.Contains(body, "mallory-the-user") {
				t.Errorf("HTTP %d: %s", res.StatusCode, body)
			}
		})
		t.Run("RefusedValues", func(t *testing.T) {
			for _, form := range []url.Values{
				{"csrf": {csrf}, "config": {"basic"}, "username": {"mallory"}, "password": {"pw\x00value"}},
			} {
				res, body := post(t, browser, form, nil)
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "NUL characters") || strings.Contains(body, "pw-value") || strings.Contains(body, "pw\x00value") {
					t.Errorf("HTTP %d: %s", res.StatusCode, body)
				}
			}
			if got := fieldsSet(t, c, conn); got["basic"] != "" {
				t.Errorf("refused values were stored: %v", got)
			}
			res, body := post(t, browser, url.Values{"csrf": {csrf}, "config": {"open"}}, nil)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "takes no values on this page") {
				t.Errorf("a config without a form: HTTP %d: %s", res.StatusCode, body)
			}
		})
		t.Run("UnknownConfig", func(t *testing.T) {
			for _, key := range []string{"nope", "open", "oidc"} {
				if res, _ := post(t, browser, url.Values{"csrf": {csrf}, "config": {key}, "token": {"x"}}, nil); res.StatusCode != http.StatusBadRequest {
					t.Errorf("config %q: HTTP %d", key, res.StatusCode)
				}
			}
		})
		t.Run("Saved", func(t *testing.T) {
			subject := c.Do(t, viewerSubject, nil).OK(t).String("viewer.subject")
			sets := func() int {
				return c.Do(t, `query($a: String) { auditEvents(filter: {action: "credential.set", actor: $a}) { totalCount } }`,
					map[string]any{"a": subject}).OK(t).Int("auditEvents.totalCount")
			}
			before := sets()
			res, body := post(t, browser, basic(csrf), nil)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/connect/"+token+"?status=saved" {
				t.Fatalf("HTTP %d to %q: %s", res.StatusCode, res.Header.Get("Location"), body)
			}
			if got := fieldsSet(t, c, conn); got["basic"] != `["password","username"]` {
				t.Errorf("fieldsSet %v", got)
			}
			if after := sets(); after != before+1 {
				t.Errorf("the page's change is not audited as %s, who created the session (%d events, want %d)", subject, after, before+1)
			}
		})
		t.Run("UnknownAndExpired", func(t *testing.T) {
			for _, u := range []string{h.Server.URL + "/connect/pbc_" + strings.Repeat("A", 43), h.Server.URL + "/connect/nope"} {
				res, err := noJar.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("%s: HTTP %d", u, res.StatusCode)
				}
			}
			h.Connect.Now = func() time.Time { return time.Now().Add(31 * time.Minute) }
			defer func() { h.Connect.Now = nil }()
			res, err := noJar.Get(sessionURL)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("an expired session: HTTP %d", res.StatusCode)
			}
		})
		if logs := h.Logs.String(); strings.Contains(logs, token) || strings.Contains(logs, "hunter2") {
			t.Error("the token or a secret reached the server log")
		}
	})
}
