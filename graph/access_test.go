package graph_test

import (
	"bytes"
	"context"
	"fmt"
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

// operationScopes is the access rule of every query and mutation, written out here so that
// the schema's @hasScope is checked against an intent rather than against itself. A new
// operation fails TestOperationScopes until it gets an entry; "" is for viewer alone, which
// any authenticated caller may ask.
var operationScopes = map[string]domain.Scope{
	"Query.viewer":      "",
	"Query.connector":   domain.ScopeConnectorsRead,
	"Query.connectors":  domain.ScopeConnectorsRead,
	"Query.connection":  domain.ScopeConnectorsRead,
	"Query.auditEvents": domain.ScopeConnectorsRead,
	"Query.apiKeys":     domain.ScopeKeysManage,
	// An ApiKey node needs keys:manage as well, on top of this (TestNodes).
	"Query.node":  domain.ScopeConnectorsRead,
	"Query.nodes": domain.ScopeConnectorsRead,

	"Mutation.createOrganisation": domain.ScopePlatformAdmin,

	"Mutation.createConnector":         domain.ScopeConnectorsWrite,
	"Mutation.updateConnector":         domain.ScopeConnectorsWrite,
	"Mutation.deleteConnector":         domain.ScopeConnectorsWrite,
	"Mutation.createAuthSchemeConfig":  domain.ScopeConnectorsWrite,
	"Mutation.updateAuthSchemeConfig":  domain.ScopeConnectorsWrite,
	"Mutation.deleteAuthSchemeConfig":  domain.ScopeConnectorsWrite,
	"Mutation.patchConnectorVariables": domain.ScopeConnectorsWrite,

	"Mutation.createConnection":         domain.ScopeConnectorsWrite,
	"Mutation.updateConnection":         domain.ScopeConnectorsWrite,
	"Mutation.deleteConnection":         domain.ScopeConnectorsWrite,
	"Mutation.patchConnectionVariables": domain.ScopeConnectorsWrite,

	"Mutation.setCredential":    domain.ScopeConnectorsWrite,
	"Mutation.patchCredential":  domain.ScopeConnectorsWrite,
	"Mutation.deleteCredential": domain.ScopeConnectorsWrite,

	"Mutation.createVersion":           domain.ScopeConnectorsWrite,
	"Mutation.updateVersion":           domain.ScopeConnectorsWrite,
	"Mutation.publishVersion":          domain.ScopeConnectorsWrite,
	"Mutation.setDefaultVersion":       domain.ScopeConnectorsWrite,
	"Mutation.deleteVersion":           domain.ScopeConnectorsWrite,
	"Mutation.importOpenAPI":           domain.ScopeConnectorsWrite,
	"Mutation.importPostmanCollection": domain.ScopeConnectorsWrite,
	"Query.compareVersions":            domain.ScopeConnectorsRead,

	// Both use the connection's credentials and may change remote data.
	"Mutation.testConnection": domain.ScopeConnectorsWrite,
	"Mutation.executeAction":  domain.ScopeConnectorsWrite,
	// Connecting an account writes its credential.
	"Mutation.startOAuthConnect":    domain.ScopeConnectorsWrite,
	"Mutation.createConnectSession": domain.ScopeConnectorsWrite,

	"Mutation.createApiKey": domain.ScopeKeysManage,
	"Mutation.revokeApiKey": domain.ScopeKeysManage,
}

// schemaScopes are the Scope enum values of schema.graphqls, spelled out for the same reason.
var schemaScopes = map[string]domain.Scope{
	"CONNECTORS_READ":  domain.ScopeConnectorsRead,
	"CONNECTORS_WRITE": domain.ScopeConnectorsWrite,
	"KEYS_MANAGE":      domain.ScopeKeysManage,
	"PLATFORM_ADMIN":   domain.ScopePlatformAdmin,
}

// TestOperationScopes holds the schema to operationScopes: every operation has an entry, and
// its @hasScope names exactly that scope (none for viewer).
func TestOperationScopes(t *testing.T) {
	seen := map[string]bool{}
	for _, op := range rootOperations() {
		key := op.root + "." + op.name
		seen[key] = true
		want, ok := operationScopes[key]
		if !ok {
			t.Errorf("%s has no entry in operationScopes: write down the scope it needs", key)
			continue
		}
		def := schema.Types[op.root].Fields.ForName(op.name)
		var got domain.Scope
		if d := def.Directives.ForName("hasScope"); d != nil {
			arg := d.Arguments.ForName("scope")
			if arg == nil {
				t.Errorf("%s: @hasScope without a scope", key)
				continue
			}
			if got, ok = schemaScopes[arg.Value.Raw]; !ok {
				t.Errorf("%s: @hasScope(scope: %s) is not a scope this test knows", key, arg.Value.Raw)
				continue
			}
		}
		if got != want {
			t.Errorf("%s: the schema asks for %q, the intended scope is %q", key, got, want)
		}
	}
	for key := range operationScopes {
		if !seen[key] {
			t.Errorf("operationScopes names %s, which the schema does not have", key)
		}
	}
}

// worldSnapshot reads everything an operation of the scope table could change, as owner sees
// it (errors included: after a delete that should have been refused, the NOT_FOUND shows), and
// the number of organisations.
func worldSnapshot(t *testing.T, h *apitest.Harness, owner *apitest.Client, ids owned) string {
	t.Helper()
	r := owner.Do(t, `query($c: ID!, $n: ID!) {
	  connector(id: $c) { `+connectorFields+`
	    versions { totalCount edges { node { id name description isLatest isDefault isPublished updatedAt publishedAt actions(first: 10) { name path } } } }
	    connections { totalCount } }
	  connection(id: $n) { `+connectionFields+` }
	  connectors { totalCount }
	  apiKeys { id name scopes revokedAt expiresAt }
	  auditEvents { totalCount }
	}`, map[string]any{"c": ids["Connector"], "n": ids["Connection"]})
	sqlDB, err := h.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	var orgs int
	if err := sqlDB.QueryRow(`SELECT count(*) FROM organisations`).Scan(&orgs); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s\norganisations: %d", r.Body, orgs)
}

// difference shows where two snapshots part, with some context.
func difference(before, after string) string {
	i := 0
	for i < len(before) && i < len(after) && before[i] == after[i] {
		i++
	}
	from := max(i-80, 0)
	return fmt.Sprintf("before …%s…, after …%s…", before[from:min(i+80, len(before))], after[from:min(i+80, len(after))])
}

// without returns the organisation scopes but scope.
func without(scope domain.Scope) []domain.Scope {
	var held []domain.Scope
	for _, s := range domain.OrganisationScopes {
		if s != scope {
			held = append(held, s)
		}
	}
	return held
}

// TestScopesAreEnforced drives every operation of operationScopes over HTTP, on real ids of
// the caller's own organisation, with a key holding every organisation scope but the one the
// table names: each answers FORBIDDEN naming that scope, and nothing changes. A key holding
// only that scope gets past the check (platform:admin, which no key can hold, is covered by
// TestPlatformAdminTokens).
func TestScopesAreEnforced(t *testing.T) {
	ops := rootOperations()
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		owner := h.NewOrg(t)
		ids := ownResources(t, owner)
		// The keys exist before the snapshot: creating one is a change of its own.
		lacking := map[domain.Scope]*apitest.Client{}
		for _, need := range operationScopes {
			if _, made := lacking[need]; need != "" && !made {
				lacking[need] = h.NewKey(t, owner.OrgID, without(need)...)
			}
		}
		before := worldSnapshot(t, h, owner, ids)
		for _, op := range ops {
			need, ok := operationScopes[op.root+"."+op.name]
			if !ok || need == "" {
				continue // a missing entry fails TestOperationScopes
			}
			t.Run("Lacking/"+op.name, func(t *testing.T) {
				r := lacking[need].Do(t, op.query, op.variables(t, ids))
				r.ExpectError(t, "FORBIDDEN", "")
				if !strings.Contains(r.Message(), string(need)) {
					t.Errorf("FORBIDDEN should name the missing scope %s: %q", need, r.Message())
				}
				if after := worldSnapshot(t, h, owner, ids); after != before {
					t.Errorf("a refused %s changed data: %s", op.name, difference(before, after))
					before = after // the next operations are judged on their own
				}
			})
		}
		for _, op := range ops {
			need := operationScopes[op.root+"."+op.name]
			if need == domain.ScopePlatformAdmin {
				continue
			}
			t.Run("Holding/"+op.name, func(t *testing.T) {
				// A fresh organisation, so that deletes and revocations leave the others' ids alone.
				other := h.NewOrg(t)
				fresh := ownResources(t, other)
				var held []domain.Scope
				if need != "" {
					held = []domain.Scope{need}
				}
				c := h.NewKey(t, other.OrgID, held...)
				if need == "" {
					c = h.NewKey(t, other.OrgID, domain.ScopeConnectorsRead)
				}
				if r := c.Do(t, op.query, op.variables(t, fresh)); r.Code() == "FORBIDDEN" {
					t.Errorf("a key holding %q was refused: %s", need, r.Body)
				}
			})
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
	// keysState is listKeys without lastUsedAt, for "nothing changed" checks: each request's
	// use is recorded in the background, whenever that write lands.
	keysState = `{ apiKeys { id name prefix scopes expiresAt revokedAt } }`
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

// countingKeys counts the use records Keys writes through a real store, and reports each one
// on written once it has landed (Keys writes them in the background).
type countingKeys struct {
	domain.APIKeyStore
	touches atomic.Int32
	written chan struct{}
}

func (c *countingKeys) TouchAPIKey(ctx context.Context, id string, at time.Time, minInterval time.Duration) error {
	err := c.APIKeyStore.TouchAPIKey(ctx, id, at, minInterval)
	c.touches.Add(1)
	c.written <- struct{}{}
	return err
}

func TestLastUsedAtWrittenAtMostOnceAMinute(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		org, _ := st.CreateOrganisation(ctx, testdb.RandomName("touch"))
		store := &countingKeys{APIKeyStore: st, written: make(chan struct{}, 100)}
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
		// waitFor returns once the next use record has been written. The time-out only keeps
		// a missing write from hanging the suite; nothing is decided by it.
		waitFor := func() {
			t.Helper()
			select {
			case <-store.written:
			case <-time.After(time.Minute):
				t.Fatalf("no use record written (%d so far)", store.touches.Load())
			}
		}
		for i := 0; i < 20; i++ {
			if _, err := keys.Authenticate(ctx, secret); err != nil {
				t.Fatal(err)
			}
			now = now.Add(2 * time.Second) // 40 s of traffic
		}
		waitFor()
		first := lastUsed()
		if store.touches.Load() != 1 || first == nil {
			t.Fatalf("20 requests within 40 s wrote %d use records (lastUsedAt %v)", store.touches.Load(), first)
		}
		now = now.Add(30 * time.Second)
		keys.Authenticate(ctx, secret)
		waitFor()
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
