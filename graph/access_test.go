package graph_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

func TestScopesAreEnforced(t *testing.T) {
	type call struct {
		name  string
		query string
		vars  map[string]any
		need  domain.Scope
	}
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		admin := h.NewOrg(t)
		id := mustCreate(t, admin, fullConnector("Scoped")).String("createConnector.id")
		calls := []call{
			{"connector", getConnector, map[string]any{"id": id}, domain.ScopeConnectorsRead},
			{"connectors", `{ connectors { totalCount } }`, nil, domain.ScopeConnectorsRead},
			{"createConnector", createConnector, map[string]any{"input": map[string]any{"name": "x", "protocolType": "HTTP"}}, domain.ScopeConnectorsWrite},
			{"updateConnector", updateConnector, map[string]any{"id": id, "input": map[string]any{"name": "Scoped", "protocolType": "HTTP"}}, domain.ScopeConnectorsWrite},
			{"patchConnectorVariables", patchVariables, map[string]any{"c": id, "d": `{"A":"b"}`}, domain.ScopeConnectorsWrite},
			{"createAuthSchemeConfig", createConfig, map[string]any{"c": id, "input": map[string]any{"id": "n", "schemeType": "NONE"}}, domain.ScopeConnectorsWrite},
			{"apiKeys", `{ apiKeys { id } }`, nil, domain.ScopeKeysManage},
			{"createApiKey", `mutation { createApiKey(input: {name: "k", scopes: [CONNECTORS_READ]}) { secret } }`, nil, domain.ScopeKeysManage},
			{"createOrganisation", `mutation { createOrganisation(input: {name: "nope"}) { id } }`, nil, domain.ScopePlatformAdmin},
		}
		for _, held := range [][]domain.Scope{{domain.ScopeConnectorsRead}, {domain.ScopeConnectorsWrite}, {domain.ScopeKeysManage}} {
			c := h.NewKey(t, admin.OrgID, held...)
			for _, cl := range calls {
				t.Run(string(held[0])+"/"+cl.name, func(t *testing.T) {
					r := c.Do(t, cl.query, cl.vars)
					if cl.need == held[0] && cl.need != domain.ScopeKeysManage {
						r.OK(t)
						return
					}
					if cl.need == held[0] {
						if cl.name == "createApiKey" {
							// keys:manage alone cannot grant connectors:read.
							r.ExpectError(t, "FORBIDDEN", "")
						} else {
							r.OK(t)
						}
						return
					}
					r.ExpectError(t, "FORBIDDEN", "")
					if !strings.Contains(r.Message(), string(cl.need)) {
						t.Errorf("FORBIDDEN should name the missing scope: %q", r.Message())
					}
				})
			}
		}
	})
}

func TestAuthentication(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		viewer := `{ viewer { organisation { id } scopes } }`
		// Every 401 carries a Bearer challenge (RFC 9110 §11.6.1 requires one, and clients
		// such as fetch wrappers key their re-login on it); RFC 6750 §3.1 wants no error code
		// when no credentials came at all, and invalid_token when a token came and was refused.
		cases := []struct {
			name      string
			header    string
			challenge string
		}{
			{"Missing", "", `Bearer`},
			{"NotBearer", "Basic dXNlcjpwYXNz", `Bearer`},
			{"EmptyBearer", "Bearer ", `Bearer`},
			{"UnknownKey", "Bearer pb_" + strings.Repeat("A", 43), `Bearer error="invalid_token"`},
			{"ShortKey", "Bearer pb_short", `Bearer error="invalid_token"`},
			{"Garbage", "Bearer not-a-token", `Bearer error="invalid_token"`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, h.Server.URL+"/graphql", bytes.NewBufferString(`{"query":"{ viewer { scopes } }"}`))
				req.Header.Set("Content-Type", "application/json")
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", res.StatusCode)
				}
				if got := res.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != tc.challenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
				}
			})
		}
		t.Run("UnauthenticatedBody", func(t *testing.T) {
			r := c.WithToken("pb_"+strings.Repeat("B", 43)).Do(t, viewer, nil)
			if r.Status != 401 || r.Code() != "UNAUTHENTICATED" || r.Data != nil {
				t.Errorf("got %d %s", r.Status, r.Body)
			}
		})
		t.Run("Viewer", func(t *testing.T) {
			r := c.Do(t, `{ viewer { organisation { id name } scopes apiKey { id } } }`, nil).OK(t)
			if r.String("viewer.organisation.id") != c.OrgID || r.JSON("viewer.scopes") != `["CONNECTORS_READ","CONNECTORS_WRITE","KEYS_MANAGE"]` || r.String("viewer.apiKey.id") != c.KeyID {
				t.Errorf("viewer: %s", r.Body)
			}
		})
		t.Run("GETAllowsQueriesOnly", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, h.Server.URL+"/graphql?query="+`%7Bviewer%7Bscopes%7D%7D`, nil)
			req.Header.Set("Authorization", "Bearer "+c.Token)
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("GET query: %v %v", err, res.StatusCode)
			}
			res.Body.Close()
			req, _ = http.NewRequest(http.MethodGet, h.Server.URL+"/graphql?query="+`mutation%7BdeleteConnector(id:%22x%22)%7D`, nil)
			req.Header.Set("Authorization", "Bearer "+c.Token)
			res, _ = http.DefaultClient.Do(req)
			if res.StatusCode == 200 {
				t.Errorf("GET must not run mutations")
			}
			res.Body.Close()
		})
	})
}

const (
	createKey = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name prefix scopes createdAt expiresAt revokedAt lastUsedAt } } }`
	revokeKey = `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`
	listKeys  = `{ apiKeys { id name prefix scopes expiresAt revokedAt lastUsedAt } }`
)

func TestAPIKeyLifecycle(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		admin := h.NewOrg(t)
		r := admin.Do(t, createKey, map[string]any{"input": map[string]any{"name": "ci", "scopes": []any{"CONNECTORS_READ"}}}).OK(t)
		secret := r.String("createApiKey.secret")
		keyID := r.String("createApiKey.apiKey.id")
		if !strings.HasPrefix(secret, "pb_") || len(secret) < 35 || !strings.HasPrefix(secret, r.String("createApiKey.apiKey.prefix")) {
			t.Fatalf("secret %q does not look like a Plugboard key", secret)
		}
		reader := admin.WithToken(secret)
		reader.Do(t, `{ connectors { totalCount } }`, nil).OK(t)
		reader.Do(t, createConnector, map[string]any{"input": map[string]any{"name": "x", "protocolType": "HTTP"}}).ExpectError(t, "FORBIDDEN", "")

		t.Run("ListedWithoutSecret", func(t *testing.T) {
			l := admin.Do(t, listKeys, nil).OK(t)
			if strings.Contains(l.Body, secret) || strings.Contains(l.Body, secret[len(secret)-20:]) {
				t.Fatal("key list shows the secret")
			}
			if len(l.List("apiKeys")) != 2 || l.String("apiKeys.0.id") != keyID {
				t.Errorf("keys, newest first: %s", l.Body)
			}
		})
		t.Run("LastUsedRecorded", func(t *testing.T) {
			deadline := time.Now().Add(5 * time.Second)
			for {
				l := admin.Do(t, listKeys, nil).OK(t)
				if l.Get("apiKeys.0.lastUsedAt") != nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("lastUsedAt never recorded: %s", l.Body)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
		t.Run("BadInput", func(t *testing.T) {
			admin.Do(t, createKey, map[string]any{"input": map[string]any{"name": " ", "scopes": []any{"CONNECTORS_READ"}}}).ExpectError(t, "BAD_USER_INPUT", "name")
			admin.Do(t, createKey, map[string]any{"input": map[string]any{"name": "n", "scopes": []any{}}}).ExpectError(t, "BAD_USER_INPUT", "scopes")
			admin.Do(t, createKey, map[string]any{"input": map[string]any{"name": "n", "scopes": []any{"CONNECTORS_READ"}, "expiresAt": "2001-01-01T00:00:00Z"}}).ExpectError(t, "BAD_USER_INPUT", "expiresAt")
			admin.Do(t, createKey, map[string]any{"input": map[string]any{"name": "n", "scopes": []any{"PLATFORM_ADMIN"}}}).ExpectError(t, "FORBIDDEN", "")
			if n := len(admin.Do(t, listKeys, nil).OK(t).List("apiKeys")); n != 2 {
				t.Errorf("rejected creates stored keys: %d", n)
			}
		})
		t.Run("ForeignRevokeIsNotFound", func(t *testing.T) {
			other := h.NewOrg(t)
			other.Do(t, revokeKey, map[string]any{"id": keyID}).ExpectError(t, "NOT_FOUND", "")
			reader.Do(t, `{ connectors { totalCount } }`, nil).OK(t)
		})
		t.Run("Revoke", func(t *testing.T) {
			rv := admin.Do(t, revokeKey, map[string]any{"id": keyID}).OK(t)
			if rv.Get("revokeApiKey.revokedAt") == nil {
				t.Fatal("revokedAt not set")
			}
			res := reader.Do(t, `{ connectors { totalCount } }`, nil)
			if res.Status != 401 || res.Code() != "UNAUTHENTICATED" {
				t.Errorf("revoked key still works: %d %s", res.Status, res.Body)
			}
			again := admin.Do(t, revokeKey, map[string]any{"id": keyID}).OK(t)
			if again.String("revokeApiKey.revokedAt") != rv.String("revokeApiKey.revokedAt") {
				t.Errorf("revoking twice must keep the first revocation time")
			}
		})
		t.Run("Expiry", func(t *testing.T) {
			exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			s := admin.Do(t, createKey, map[string]any{"input": map[string]any{"name": "short", "scopes": []any{"CONNECTORS_READ"}, "expiresAt": exp}}).OK(t).String("createApiKey.secret")
			short := admin.WithToken(s)
			short.Do(t, `{ connectors { totalCount } }`, nil).OK(t)
			h.Keys.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
			defer func() { h.Keys.Now = time.Now }()
			res := short.Do(t, `{ connectors { totalCount } }`, nil)
			if res.Status != 401 || !strings.Contains(res.Message(), "expired") {
				t.Errorf("expired key: %d %s", res.Status, res.Body)
			}
		})
		t.Run("SecretsNeverLogged", func(t *testing.T) {
			if strings.Contains(h.Logs.String(), secret) || strings.Contains(h.Logs.String(), admin.Token) {
				t.Fatal("a key secret appears in the logs")
			}
		})
	})
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := mustCreate(t, c, fullConnector("Leak")).String("createConnector.id")
		sqlDB, _ := h.Store.SQL()
		// Break the schema under the running server: reads now fail inside the driver.
		if _, err := sqlDB.Exec(`ALTER TABLE connectors RENAME TO connectors_gone`); err != nil {
			t.Fatal(err)
		}
		defer sqlDB.Exec(`ALTER TABLE connectors_gone RENAME TO connectors`)
		r := c.Do(t, `query($id: ID!) { connector(id: $id) { id } }`, map[string]any{"id": id})
		r.ExpectError(t, "INTERNAL_SERVER_ERROR", "")
		if r.Message() != "internal server error" || strings.Contains(strings.ToLower(r.Body), "select") || strings.Contains(r.Body, "connectors") {
			t.Errorf("internal error leaks details: %s", r.Body)
		}
		if !strings.Contains(h.Logs.String(), "internal error") {
			t.Errorf("the internal error must be logged for operators")
		}
	})
}

func TestVariableErrorsAreBadInput(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		cases := []struct {
			name  string
			input any
			field string
		}{
			{"ErrUnknownEnum", map[string]any{"name": "a", "protocolType": "SOAP"}, "protocolType"},
			{"ErrMissingRequired", map[string]any{"protocolType": "HTTP"}, "name"},
			{"ErrWrongType", map[string]any{"name": 5, "protocolType": "HTTP"}, "name"},
			{"ErrNestedList", map[string]any{"name": "a", "protocolType": "HTTP", "connectionVariables": []any{map[string]any{"name": "a"}}}, "connectionVariables[0].value"},
			{"ErrNotAnObject", "text", "input"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c.Do(t, createConnector, map[string]any{"input": tc.input}).ExpectError(t, "BAD_USER_INPUT", tc.field)
			})
		}
		if n := countConnectors(t, c); n != 0 {
			t.Fatalf("rejected requests stored %d connectors", n)
		}
		c.Do(t, listConnectors, map[string]any{"first": "5"}).ExpectError(t, "BAD_USER_INPUT", "first")
		c.Do(t, listConnectors, map[string]any{"first": 1.5}).ExpectError(t, "BAD_USER_INPUT", "first")
		c.Do(t, updateConnector, map[string]any{"id": "x", "input": map[string]any{"name": "a", "protocolType": "HTTP"}, "rev": "1"}).ExpectError(t, "BAD_USER_INPUT", "expectedRevision")
		c.Do(t, createConfig, map[string]any{"c": "x", "input": map[string]any{"id": "a", "schemeType": "BASIC", "verifySSL": "no"}}).ExpectError(t, "BAD_USER_INPUT", "verifySSL")
		r := c.Do(t, `{ nope }`, nil)
		if r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("an invalid document is bad input, with gqlgen's code as the reason: %s", r.Body)
		}
		r = c.Do(t, `{ viewer {`, nil)
		if r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != "GRAPHQL_PARSE_FAILED" {
			t.Errorf("a document that does not parse is bad input: %s", r.Body)
		}
	})
}

// countingKeys counts the use records Keys writes through a real store.
type countingKeys struct {
	domain.APIKeyStore
	touches atomic.Int32
}

func (c *countingKeys) TouchAPIKey(ctx context.Context, id string, at time.Time, minInterval time.Duration) error {
	c.touches.Add(1)
	return c.APIKeyStore.TouchAPIKey(ctx, id, at, minInterval)
}

func TestLastUsedAtWrittenAtMostOnceAMinute(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		org, _ := st.CreateOrganisation(ctx, testdb.RandomName("touch"))
		store := &countingKeys{APIKeyStore: st}
		keys := auth.NewKeys(store, slog.Default())
		key, secret, err := keys.Create(ctx, org.ID, domain.NewAPIKey{Name: "k", Scopes: []domain.Scope{domain.ScopeConnectorsRead}})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		keys.Now = func() time.Time { return now }
		lastUsed := func() *time.Time {
			list, _ := st.ListAPIKeys(ctx, org.ID)
			return list[0].LastUsedAt
		}
		waitFor := func(want int32) {
			deadline := time.Now().Add(5 * time.Second)
			for store.touches.Load() < want && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // let the write land
		}
		for i := 0; i < 20; i++ {
			if _, err := keys.Authenticate(ctx, secret); err != nil {
				t.Fatal(err)
			}
			now = now.Add(2 * time.Second) // 40 s of traffic
		}
		waitFor(1)
		first := lastUsed()
		if store.touches.Load() != 1 || first == nil {
			t.Fatalf("20 requests within 40 s wrote %d use records (lastUsedAt %v)", store.touches.Load(), first)
		}
		now = now.Add(30 * time.Second)
		keys.Authenticate(ctx, secret)
		waitFor(2)
		if store.touches.Load() != 2 || !lastUsed().After(*first) {
			t.Errorf("a use more than a minute later must be recorded: %d writes", store.touches.Load())
		}
		// A use recorded a moment ago (by another replica) makes this write a no-op.
		recorded := *lastUsed()
		if err := st.TouchAPIKey(ctx, key.ID, recorded.Add(10*time.Second), time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := *lastUsed(); !got.Equal(recorded) {
			t.Errorf("lastUsedAt moved within a minute: %v -> %v", recorded, got)
		}
		if err := st.TouchAPIKey(ctx, key.ID, recorded.Add(61*time.Second), time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := *lastUsed(); !got.Equal(recorded.Add(61 * time.Second)) {
			t.Errorf("a use a minute later must be written: %v -> %v", recorded, got)
		}
	})
}
