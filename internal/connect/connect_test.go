package connect_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/outbound"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

const (
	createConnector  = `mutation($in: CreateConnectorInput!) { createConnector(input: $in) { id } }`
	createVersion    = `mutation($c: ID!, $in: CreateVersionInput!) { createVersion(connectorId: $c, input: $in) { id } }`
	publishVersion   = `mutation($id: ID!) { publishVersion(id: $id) { id } }`
	createConnection = `mutation($c: ID!, $in: CreateConnectionInput!) { createConnection(connectorId: $c, input: $in) { id } }`
	setCredential    = `mutation($c: ID!, $in: CredentialInput!) { setCredential(connectionId: $c, input: $in) { id fieldsSet } }`
	startConnect     = `mutation($c: ID!, $cfg: ID!, $r: String) { startOAuthConnect(connectionId: $c, authSchemeConfigId: $cfg, redirectURL: $r) { authorizationURL expiresAt } }`
	connectionState  = `query($id: ID!) { connection(id: $id) { status statusMessage lastCheckedAt revision credentials { fieldsSet } } }`
	executeAction    = `mutation($c: ID!) { executeAction(connectionId: $c, action: "me") { ok status body error } }`
	byStatus         = `query($id: ID!, $s: ConnectionStatus) { connector(id: $id) { connections(status: $s) { totalCount nodes { id status } } } }`
	auditTrail       = `query($id: ID!) { auditEvents(filter: {resourceId: $id}) { nodes { action actor changedFields } } }`
	viewerSubject    = `{ viewer { subject } }`
)

// appOrigin is the front end that may receive the browser after a connect.
const appOrigin = "https://app.example.com"

// servers are the server that starts a flow and the one the provider's callback reaches: on
// PostgreSQL two servers over one database (behind one public URL, as behind a load
// balancer), on SQLite the same one.
func servers(t *testing.T, st *store.Store) (a, b *apitest.Harness) {
	t.Helper()
	opts := apitest.Options{Outbound: outbound.Limits{Allow: apitest.Loopback}, ConnectRedirectOrigins: []string{appOrigin}}
	a = apitest.NewWithOptions(t, st, opts)
	if st.Dialect() != store.Postgres {
		return a, a
	}
	other, err := store.Open(testdb.PostgresURL(t), store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	other.Secrets = testdb.Keyring
	b = apitest.NewWithOptions(t, other, opts)
	b.Connect.PublicURL = a.Connect.PublicURL
	return a, b
}

// oidcConnection creates a connector whose OAuth2 config (key "oidc") uses the provider's
// authorization-code grant and whose action "me" reads the provider's userinfo, and a
// connection with the client's credential set.
func oidcConnection(t *testing.T, c *apitest.Client, p *provider, clientValues []any) (connector, connection string) {
	t.Helper()
	connector = c.Do(t, createConnector, map[string]any{"in": map[string]any{
		"name": "Example ID " + testdb.RandomName("c"), "protocolType": "HTTP", "baseURL": p.Issuer,
		"authSchemeConfigs": []any{
			map[string]any{"id": "oidc", "schemeType": "OAUTH2", "oauth2": map[string]any{
				"grant": "AUTHORIZATION_CODE", "authorizeURL": p.Issuer + "/auth", "tokenURL": p.Issuer + "/token", "scopes": []any{"openid", "profile"},
			}},
			map[string]any{"id": "basic", "schemeType": "BASIC"},
		},
	}}).OK(t).String("createConnector.id")
	version := c.Do(t, createVersion, map[string]any{"c": connector, "in": map[string]any{
		"name": "1", "actions": []any{map[string]any{"name": "me", "method": "GET", "path": "/me"}},
	}}).OK(t).String("createVersion.id")
	c.Do(t, publishVersion, map[string]any{"id": version}).OK(t)
	connection = c.Do(t, createConnection, map[string]any{"c": connector, "in": map[string]any{"name": "alice"}}).OK(t).String("createConnection.id")
	if clientValues != nil {
		c.Do(t, setCredential, map[string]any{"c": connection, "in": map[string]any{"authSchemeConfigId": "oidc", "kind": "ACTION", "values": clientValues}}).OK(t)
	}
	return connector, connection
}

func vars(kv ...string) []any {
	var out []any
	for i := 0; i < len(kv); i += 2 {
		out = append(out, map[string]any{"name": kv[i], "value": kv[i+1]})
	}
	return out
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// deliver sends the provider's redirect to server h (the callback's path and query on h).
func deliver(t *testing.T, h *apitest.Harness, callback *url.URL) *http.Response {
	t.Helper()
	res, err := noRedirects.Get(h.Server.URL + callback.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func expectRedirect(t *testing.T, res *http.Response, want string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
		t.Fatalf("callback: HTTP %d to %q, want 303 to %q", res.StatusCode, res.Header.Get("Location"), want)
	}
	if res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("the callback's redirect must not pass its URL (with the code) on: Referrer-Policy %q", res.Header.Get("Referrer-Policy"))
	}
}

func count(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	sqlDB, _ := st.SQL()
	var n int
	if err := sqlDB.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOAuthConnect drives the whole authorization-code flow against a real authorization
// server: start → the provider's login and consent → callback (on another server when on
// PostgreSQL) → tokens stored → executeAction uses them, refreshing and rotating the refresh
// token → the grant revoked at the provider → NEEDS_REAUTH, and calls refused without a request.
func TestOAuthConnect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		a, b := servers(t, st)
		p := startProvider(t, a.Server.URL+"/oauth/callback")
		c := a.NewOrg(t)
		subject := c.Do(t, viewerSubject, nil).OK(t).String("viewer.subject")
		connector, conn := oidcConnection(t, c, p, vars("clientId", "plugboard", "clientSecret", "plugboard-client-secret"))
		flowsBefore := count(t, st, "oauth_flows")

		start := c.Do(t, startConnect, map[string]any{"c": conn, "cfg": "oidc", "r": appOrigin + "/done?tab=accounts"}).OK(t)
		authURL, err := url.Parse(start.String("startOAuthConnect.authorizationURL"))
		if err != nil {
			t.Fatal(err)
		}
		q := authURL.Query()
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 43 ||
			q.Get("redirect_uri") != a.Server.URL+"/oauth/callback" || q.Get("client_id") != "plugboard" || q.Get("scope") != "openid profile" {
			t.Fatalf("authorization URL %s", authURL)
		}
		if expires, _ := time.Parse(time.RFC3339, start.String("startOAuthConnect.expiresAt")); time.Until(expires) > 10*time.Minute || time.Until(expires) < 9*time.Minute {
			t.Errorf("expiresAt %s is not 10 minutes away", expires)
		}
		if count(t, st, "oauth_flows") != flowsBefore+1 {
			t.Fatal("the flow is not stored")
		}
		sqlDB, _ := st.SQL()
		var stored int
		_ = sqlDB.QueryRow("SELECT COUNT(*) FROM oauth_flows WHERE state_hash = ?", q.Get("state")).Scan(&stored)
		if stored != 0 {
			t.Error("the state is stored in plain text")
		}

		callback := p.authorize(t, authURL.String())
		code := callback.Query().Get("code")
		res := deliver(t, b, callback)
		expectRedirect(t, res, appOrigin+"/done?status=ok&tab=accounts")

		state := c.Do(t, connectionState, map[string]any{"id": conn}).OK(t)
		if state.String("connection.status") != "OK" || state.Get("connection.statusMessage") != nil || state.String("connection.lastCheckedAt") == "" {
			t.Fatalf("after the connect: %s", state.Body)
		}
		if got := state.JSON("connection.credentials.0.fieldsSet"); got != `["accessToken","clientId","clientSecret","refreshToken"]` {
			t.Errorf("fieldsSet %s", got)
		}
		audit := c.Do(t, auditTrail, map[string]any{"id": conn}).OK(t)
		if !strings.Contains(audit.Body, `{"action":"connection.status","actor":"`+subject+`","changedFields":["status"]}`) {
			t.Errorf("the status change is not audited with the actor who started the flow (%s): %s", subject, audit.Body)
		}

		t.Run("Replayed", func(t *testing.T) {
			expectRedirect(t, deliver(t, a, callback), appOrigin+"/done?error=invalid_state&status=error&tab=accounts")
		})
		t.Run("ForgedState", func(t *testing.T) {
			forged := *callback
			fq := forged.Query()
			fq.Set("state", strings.Repeat("A", 43))
			forged.RawQuery = fq.Encode()
			res := deliver(t, b, &forged)
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
				t.Errorf("an unknown state: HTTP %d to %q, want 400 and a page", res.StatusCode, res.Header.Get("Location"))
			}
		})

		t.Run("CallsRefreshAndRotate", func(t *testing.T) {
			_, _, before := a.Actions.Stats()
			for i := 0; i < 2; i++ {
				r := c.Do(t, executeAction, map[string]any{"c": conn}).OK(t)
				if r.Get("executeAction.ok") != true || !strings.Contains(r.String("executeAction.body"), `"sub":"alice"`) {
					t.Fatalf("call %d: %s", i+1, r.Body)
				}
			}
			// Access tokens live 20 s, under the 30 s margin: each call refreshed, and the
			// second could only with the refresh token the first one rotated in.
			if _, _, after := a.Actions.Stats(); after-before != 2 {
				t.Errorf("%d token requests, want 2 refreshes", after-before)
			}
		})

		t.Run("RevokedGrantNeedsReauth", func(t *testing.T) {
			p.post(t, "/test/revoke-grants")
			r := c.Do(t, executeAction, map[string]any{"c": conn}).OK(t)
			if r.Get("executeAction.ok") != false || !strings.Contains(r.String("executeAction.error"), "invalid_grant") {
				t.Fatalf("after revocation: %s", r.Body)
			}
			state := c.Do(t, connectionState, map[string]any{"id": conn}).OK(t)
			if state.String("connection.status") != "NEEDS_REAUTH" || !strings.Contains(state.String("connection.statusMessage"), "invalid_grant") {
				t.Fatalf("status after invalid_grant: %s", state.Body)
			}
			served := p.served(t)
			refused := c.Do(t, executeAction, map[string]any{"c": conn}).ExpectError(t, "CONFLICT", "")
			if !strings.Contains(refused.Message(), "reconnect the account") {
				t.Errorf("message %q", refused.Message())
			}
			if p.served(t) != served {
				t.Error("a call of a connection that needs reconnecting reached the provider")
			}
			list := c.Do(t, byStatus, map[string]any{"id": connector, "s": "NEEDS_REAUTH"}).OK(t)
			if list.Int("connector.connections.totalCount") != 1 || list.String("connector.connections.nodes.0.id") != conn {
				t.Errorf("connections(status: NEEDS_REAUTH): %s", list.Body)
			}
			if n := c.Do(t, byStatus, map[string]any{"id": connector, "s": "OK"}).OK(t).Int("connector.connections.totalCount"); n != 0 {
				t.Errorf("connections(status: OK) counts %d", n)
			}
		})

		t.Run("ReconnectMakesItOK", func(t *testing.T) {
			start := c.Do(t, startConnect, map[string]any{"c": conn, "cfg": "oidc"}).OK(t)
			res := deliver(t, b, p.authorize(t, start.String("startOAuthConnect.authorizationURL")))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("without redirectURL the callback shows a page: HTTP %d", res.StatusCode)
			}
			if s := c.Do(t, connectionState, map[string]any{"id": conn}).OK(t).String("connection.status"); s != "OK" {
				t.Fatalf("status %s", s)
			}
			c.Do(t, executeAction, map[string]any{"c": conn}).OK(t)
		})

		t.Run("SetCredentialResetsToPending", func(t *testing.T) {
			c.Do(t, setCredential, map[string]any{"c": conn, "in": map[string]any{"authSchemeConfigId": "oidc", "kind": "ACTION", "values": vars("clientId", "plugboard", "clientSecret", "plugboard-client-secret")}}).OK(t)
			if s := c.Do(t, connectionState, map[string]any{"id": conn}).OK(t).String("connection.status"); s != "PENDING" {
				t.Fatalf("status %s", s)
			}
		})

		t.Run("AccessDenied", func(t *testing.T) {
			before := c.Do(t, connectionState, map[string]any{"id": conn}).OK(t).Body
			p.post(t, "/test/deny-next")
			start := c.Do(t, startConnect, map[string]any{"c": conn, "cfg": "oidc", "r": appOrigin + "/done"}).OK(t)
			res := deliver(t, b, p.authorize(t, start.String("startOAuthConnect.authorizationURL")))
			expectRedirect(t, res, appOrigin+"/done?error=access_denied&status=error")
			if after := c.Do(t, connectionState, map[string]any{"id": conn}).OK(t).Body; after != before {
				t.Errorf("a denied connect changed the connection:\n%s\n%s", before, after)
			}
		})

		t.Run("SameCallbackTwiceAtOnce", func(t *testing.T) {
			start := c.Do(t, startConnect, map[string]any{"c": conn, "cfg": "oidc", "r": appOrigin}).OK(t)
			callback := p.authorize(t, start.String("startOAuthConnect.authorizationURL"))
			locations := make(chan string, 2)
			for _, h := range []*apitest.Harness{a, b} {
				go func() {
					res, err := noRedirects.Get(h.Server.URL + callback.RequestURI())
					if err != nil {
						locations <- err.Error()
						return
					}
					res.Body.Close()
					locations <- res.Header.Get("Location")
				}()
			}
			got := []string{<-locations, <-locations}
			ok, refused := appOrigin+"?status=ok", appOrigin+"?error=invalid_state&status=error"
			if !(got[0] == ok && got[1] == refused || got[0] == refused && got[1] == ok) {
				t.Errorf("one state completed by two servers at once: %q, want one ok and one invalid_state", got)
			}
		})

		t.Run("Expired", func(t *testing.T) {
			start := c.Do(t, startConnect, map[string]any{"c": conn, "cfg": "oidc", "r": appOrigin + "/done"}).OK(t)
			callback := p.authorize(t, start.String("startOAuthConnect.authorizationURL"))
			b.Connect.Now = func() time.Time { return time.Now().Add(11 * time.Minute) }
			defer func() { b.Connect.Now = nil }()
			expectRedirect(t, deliver(t, b, callback), appOrigin+"/done?error=invalid_state&status=error")
		})

		// Neither the codes nor the states ever reach a log line.
		for _, h := range []*apitest.Harness{a, b} {
			logs := h.Logs.String()
			if strings.Contains(logs, code) || strings.Contains(logs, q.Get("state")) {
				t.Error("a code or a state was logged")
			}
		}
	})
}

// TestPublicClient connects with only a client id: PKCE alone proves the client.
func TestPublicClient(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		a, b := servers(t, st)
		p := startProvider(t, a.Server.URL+"/oauth/callback")
		c := a.NewOrg(t)
		_, conn := oidcConnection(t, c, p, vars("clientId", "plugboard-public"))
		start := c.Do(t, startConnect, map[string]any{"c": conn, "cfg": "oidc", "r": appOrigin}).OK(t)
		expectRedirect(t, deliver(t, b, p.authorize(t, start.String("startOAuthConnect.authorizationURL"))), appOrigin+"?status=ok")
		r := c.Do(t, executeAction, map[string]any{"c": conn}).OK(t)
		if r.Get("executeAction.ok") != true {
			t.Fatalf("%s", r.Body)
		}
	})
}

// TestStartOAuthConnectRefusals: bad input is refused with the field it is about, and stores
// no flow.
func TestStartOAuthConnectRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		a, _ := servers(t, st)
		p := &provider{Issuer: "https://id.example.com"}
		c := a.NewOrg(t)
		_, conn := oidcConnection(t, c, p, vars("clientId", "plugboard"))
		_, bare := oidcConnection(t, c, p, nil)
		flows := count(t, st, "oauth_flows")
		cases := []struct {
			name, conn, config string
			redirect           any
			code, field, words string
		}{
			{"RedirectElsewhere", conn, "oidc", "https://evil.example.com/steal", "BAD_USER_INPUT", "redirectURL", "PLUGBOARD_CONNECT_REDIRECT_ORIGINS"},
			{"RedirectLookalike", conn, "oidc", "https://app.example.com.evil.example/x", "BAD_USER_INPUT", "redirectURL", "not among"},
			{"RedirectNotHTTP", conn, "oidc", "javascript:alert(1)", "BAD_USER_INPUT", "redirectURL", "http"},
			{"NotAuthorizationCode", conn, "basic", nil, "BAD_USER_INPUT", "authSchemeConfigId", "AUTHORIZATION_CODE"},
			{"NoClientID", bare, "oidc", nil, "BAD_USER_INPUT", "authSchemeConfigId", "clientId"},
			{"UnknownConfig", conn, "nope", nil, "BAD_USER_INPUT", "authSchemeConfigId", "no auth scheme config"},
			{"RedirectTrailingSpace", conn, "oidc", appOrigin + "/x ", "BAD_USER_INPUT", "redirectURL", "spaces"},
			{"RedirectLeadingSpace", conn, "oidc", " " + appOrigin + "/x", "BAD_USER_INPUT", "redirectURL", "spaces"},
			{"RedirectOtherPort", conn, "oidc", "https://app.example.com:8443/x", "BAD_USER_INPUT", "redirectURL", "not among"},
			{"UnknownConnection", "01a00000-0000-7000-8000-000000000000", "oidc", nil, "NOT_FOUND", "", "not found"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(t, startConnect, map[string]any{"c": tc.conn, "cfg": tc.config, "r": tc.redirect}).ExpectError(t, tc.code, tc.field)
				if !strings.Contains(r.Message(), tc.words) {
					t.Errorf("message %q lacks %q", r.Message(), tc.words)
				}
			})
		}
		if count(t, st, "oauth_flows") != flows {
			t.Error("a refused start stored a flow")
		}
		// The default port is the same origin.
		c.Do(t, startConnect, map[string]any{"c": conn, "cfg": "oidc", "r": "https://APP.example.com:443/x"}).OK(t)
	})
}

// TestTokenURLBehindGuard: the code exchange goes through the outbound SSRF guard, like every
// call Plugboard makes: a token URL on loopback is refused unless PLUGBOARD_OUTBOUND_ALLOW opens
// it, and the refused connect stores nothing.
func TestTokenURLBehindGuard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{ConnectRedirectOrigins: []string{appOrigin}})
		p := startProvider(t, h.Server.URL+"/oauth/callback")
		c := h.NewOrg(t)
		_, conn := oidcConnection(t, c, p, vars("clientId", "plugboard", "clientSecret", "plugboard-client-secret"))
		before := c.Do(t, connectionState, map[string]any{"id": conn}).OK(t).Body
		start := c.Do(t, startConnect, map[string]any{"c": conn, "cfg": "oidc", "r": appOrigin}).OK(t)
		expectRedirect(t, deliver(t, h, p.authorize(t, start.String("startOAuthConnect.authorizationURL"))), appOrigin+"?error=server_error&status=error")
		if after := c.Do(t, connectionState, map[string]any{"id": conn}).OK(t).Body; after != before {
			t.Errorf("a blocked exchange changed the connection:\n%s\n%s", before, after)
		}
		if !strings.Contains(h.Logs.String(), "loopback") {
			t.Error("the log does not say the guard refused the token URL")
		}
	})
}

// Revoking the key that started a flow or a connect session ends them: the page answers as for
// an expired link and the callback redirects with access_denied, exchanging nothing.
func TestRevokedKeyEndsFlows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		a, b := servers(t, st)
		admin := a.NewOrg(t)
		starter := a.NewKey(t, admin.OrgID)
		_, conn := oidcConnection(t, starter, &provider{Issuer: "https://id.example.com"}, vars("clientId", "plugboard"))
		start := starter.Do(t, startConnect, map[string]any{"c": conn, "cfg": "oidc", "r": appOrigin + "/done"}).OK(t)
		authURL, err := url.Parse(start.String("startOAuthConnect.authorizationURL"))
		if err != nil {
			t.Fatal(err)
		}
		sessionURL := starter.Do(t, `mutation($c: ID!) { createConnectSession(connectionId: $c) { url } }`, map[string]any{"c": conn}).OK(t).String("createConnectSession.url")
		res, err := http.Get(sessionURL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("the page before the revocation: %d", res.StatusCode)
		}
		admin.Do(t, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": starter.KeyID}).OK(t)
		res, err = http.Get(strings.Replace(sessionURL, a.Server.URL, b.Server.URL, 1))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("the page of a revoked key's session: %d, want 404", res.StatusCode)
		}
		callback, _ := url.Parse("/oauth/callback?code=c0de&state=" + url.QueryEscape(authURL.Query().Get("state")))
		expectRedirect(t, deliver(t, b, callback), appOrigin+"/done?error=access_denied&status=error")
	})
}
