package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

func idemKey(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }

// countRows counts rows of a table matching a condition, straight from the database.
func countRows(t *testing.T, h *apitest.Harness, table, where string) int {
	t.Helper()
	sqlDB, _ := h.Store.SQL()
	var n int
	if err := sqlDB.QueryRow("SELECT count(*) FROM " + table + " WHERE " + where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// auditCount counts the audit events of one action on one resource.
func auditCount(t *testing.T, c *apitest.Client, action, resourceID string) int {
	t.Helper()
	n := 0
	for _, e := range auditActions(t, c, nil) {
		if e["action"] == action && e["resourceId"] == resourceID {
			n++
		}
	}
	return n
}

func TestIdempotencyKey(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connectorsNamed := func(name string) int {
			return countRows(t, h, "connectors", "organisation_id = '"+c.OrgID+"' AND name = '"+name+"'")
		}

		t.Run("RepeatReplaysTheFirstAnswer", func(t *testing.T) {
			name := testdb.RandomName("Idem")
			vars := map[string]any{"input": map[string]any{"name": name, "protocolType": "HTTP"}}
			first := c.DoWith(t, createConnector, vars, idemKey("k-create")).OK(t)
			again := c.DoWith(t, createConnector, vars, idemKey("k-create")).OK(t)
			if again.Body != first.Body {
				t.Errorf("the repeat answered\n%s\nnot the first answer\n%s", again.Body, first.Body)
			}
			if first.Header.Get("Idempotent-Replayed") != "" || again.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("Idempotent-Replayed: first %q, repeat %q", first.Header.Get("Idempotent-Replayed"), again.Header.Get("Idempotent-Replayed"))
			}
			// The same body re-encoded (keys in another order, a number written otherwise)
			// is the same request.
			body, _ := json.Marshal(map[string]any{"query": createConnector, "variables": vars})
			reordered := `{"variables": {"input": {"protocolType": "HTTP", "name": "` + name + `"}}, "query": ` + mustJSON(createConnector) + `}`
			if string(body) == reordered {
				t.Fatal("the re-encoded body should differ in bytes")
			}
			status, raw, header := c.Post(t, reordered, idemKey("k-create"))
			if status != http.StatusOK || raw != first.Body || header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("a re-encoded repeat answered HTTP %d %s", status, raw)
			}
			if n := connectorsNamed(name); n != 1 {
				t.Errorf("%d connectors named %s, want 1", n, name)
			}
			id := first.String("createConnector.id")
			if n := auditCount(t, c, "connector.create", id); n != 1 {
				t.Errorf("%d connector.create audit events, want 1", n)
			}
		})

		t.Run("AnotherBodyIsAConflict", func(t *testing.T) {
			name := testdb.RandomName("Idem")
			c.DoWith(t, createConnector, map[string]any{"input": map[string]any{"name": name, "protocolType": "HTTP"}}, idemKey("k-other")).OK(t)
			r := c.DoWith(t, createConnector, map[string]any{"input": map[string]any{"name": name + "2", "protocolType": "HTTP"}}, idemKey("k-other"))
			r.ExpectError(t, "CONFLICT", "")
			if r.Status != http.StatusConflict || !strings.Contains(r.Message(), "another request") {
				t.Errorf("HTTP %d %s", r.Status, r.Body)
			}
			if connectorsNamed(name+"2") != 0 {
				t.Error("the conflicting request created its connector")
			}
		})

		t.Run("AnotherCallerIsIndependent", func(t *testing.T) {
			other := h.NewKey(t, c.OrgID)
			stranger := h.NewOrg(t)
			for i, cl := range []*apitest.Client{c, other, stranger} {
				name := testdb.RandomName("Caller")
				r := cl.DoWith(t, createConnector, map[string]any{"input": map[string]any{"name": name, "protocolType": "HTTP"}}, idemKey("k-shared")).OK(t)
				if r.Header.Get("Idempotent-Replayed") != "" || r.String("createConnector.name") != name {
					t.Errorf("caller %d got another caller's answer: %s", i, r.Body)
				}
			}
		})

		t.Run("QueriesIgnoreTheHeader", func(t *testing.T) {
			for range 2 {
				r := c.DoWith(t, `{ connectors(first: 1) { totalCount } }`, nil, idemKey("k-query")).OK(t)
				if r.Header.Get("Idempotent-Replayed") != "" {
					t.Error("a query was replayed")
				}
			}
			// Nor did they claim the key.
			c.DoWith(t, createConnector, map[string]any{"input": map[string]any{"name": testdb.RandomName("AfterQuery"), "protocolType": "HTTP"}}, idemKey("k-query")).OK(t)
		})

		t.Run("OneRootFieldOnly", func(t *testing.T) {
			a, b := testdb.RandomName("Two"), testdb.RandomName("Fields")
			r := c.DoWith(t, `mutation($a: CreateConnectorInput!, $b: CreateConnectorInput!) { a: createConnector(input: $a) { id } b: createConnector(input: $b) { id } }`,
				map[string]any{"a": map[string]any{"name": a, "protocolType": "HTTP"}, "b": map[string]any{"name": b, "protocolType": "HTTP"}}, idemKey("k-two"))
			r.ExpectError(t, "BAD_USER_INPUT", "")
			if r.Errors[0].Extensions["reason"] != "IDEMPOTENCY_KEY_ONE_FIELD" || connectorsNamed(a)+connectorsNamed(b) != 0 {
				t.Errorf("two fields under one key: %s", r.Body)
			}
			for _, bad := range []string{"", strings.Repeat("k", 256), "clé", "a b", "tab\there"} {
				r := c.DoWith(t, createConnector, map[string]any{"input": map[string]any{"name": a, "protocolType": "HTTP"}}, idemKey(bad))
				r.ExpectError(t, "BAD_USER_INPUT", "")
				if r.Errors[0].Extensions["reason"] != "INVALID_IDEMPOTENCY_KEY" {
					t.Errorf("key %q: %s", bad, r.Body)
				}
			}
		})

		t.Run("AFailedMutationIsNotStored", func(t *testing.T) {
			// BAD_USER_INPUT changed nothing: the key is free again, for the corrected request.
			bad := map[string]any{"input": map[string]any{"name": "", "protocolType": "HTTP"}}
			c.DoWith(t, createConnector, bad, idemKey("k-fix")).ExpectError(t, "BAD_USER_INPUT", "name")
			name := testdb.RandomName("Fixed")
			good := map[string]any{"input": map[string]any{"name": name, "protocolType": "HTTP"}}
			first := c.DoWith(t, createConnector, good, idemKey("k-fix")).OK(t)
			if first.Header.Get("Idempotent-Replayed") != "" {
				t.Fatal("the corrected request was answered from the failed one")
			}
			c.DoWith(t, createConnector, bad, idemKey("k-fix")).ExpectError(t, "CONFLICT", "")
			// A failure inside the mutation's transaction leaves the key free with the data:
			// the retry runs, once.
			id := c.Do(t, createConnector, map[string]any{"input": map[string]any{"name": testdb.RandomName("Retried"), "protocolType": "HTTP"}}).OK(t).String("createConnector.id")
			update := map[string]any{"id": id, "input": map[string]any{"name": testdb.RandomName("Renamed"), "protocolType": "HTTP", "connectionVariables": []any{}}}
			h.Store.FailPoint = func(context.Context, string) error { return errors.New("injected") }
			c.DoWith(t, updateConnector, update, idemKey("k-fail")).ExpectError(t, "INTERNAL_SERVER_ERROR", "")
			h.Store.FailPoint = nil
			c.DoWith(t, updateConnector, update, idemKey("k-fail")).OK(t)
			again := c.DoWith(t, updateConnector, update, idemKey("k-fail")).OK(t)
			if again.Header.Get("Idempotent-Replayed") != "true" || again.Int("updateConnector.revision") != 2 {
				t.Errorf("the repeat after a successful retry: %s", again.Body)
			}
			if n := auditCount(t, c, "connector.update", id); n != 1 {
				t.Errorf("%d connector.update events, want 1", n)
			}
		})

		t.Run("CreateApiKeySecretIsSealed", func(t *testing.T) {
			vars := map[string]any{"input": map[string]any{"name": "idem-key", "scopes": []any{"CONNECTORS_READ"}}}
			first := c.DoWith(t, createKey, vars, idemKey("k-apikey")).OK(t)
			again := c.DoWith(t, createKey, vars, idemKey("k-apikey")).OK(t)
			secret := first.String("createApiKey.secret")
			if secret == "" || again.String("createApiKey.secret") != secret || again.Body != first.Body {
				t.Errorf("the replay answered another secret: %s vs %s", again.Body, first.Body)
			}
			if n := countRows(t, h, "api_keys", "organisation_id = '"+c.OrgID+"' AND name = 'idem-key'"); n != 1 {
				t.Errorf("%d keys created, want 1", n)
			}
			sqlDB, _ := h.Store.SQL()
			if dump := dumpTable(t, sqlDB, "idempotency_keys"); strings.Contains(dump, secret) || strings.Contains(dump, secret[len(secret)-12:]) {
				t.Error("the stored answer holds the secret in plaintext")
			}
			if countRows(t, h, "idempotency_keys", "organisation_id = '"+c.OrgID+"' AND idempotency_key = 'k-apikey' AND answer_key_id IS NOT NULL") != 1 {
				t.Error("the answer holding a secret is not sealed")
			}
			if countRows(t, h, "idempotency_keys", "organisation_id = '"+c.OrgID+"' AND idempotency_key = 'k-create' AND answer_key_id IS NULL") != 1 {
				t.Error("an answer without a secret should be stored as it is")
			}
		})

		t.Run("ExecuteActionReplayCallsNothing", func(t *testing.T) {
			api := newAPIServer(t, false, nil)
			_, conn := actionFixture(t, c, api.URL, nil, []any{getAction("list", "/items")}, nil)
			vars := map[string]any{"c": conn, "a": "list"}
			first := c.DoWith(t, executeAction, vars, idemKey("k-action")).OK(t)
			again := c.DoWith(t, executeAction, vars, idemKey("k-action")).OK(t)
			if api.count() != 1 || again.Body != first.Body {
				t.Errorf("%d upstream calls, repeat %s vs %s", api.count(), again.Body, first.Body)
			}
		})
	})
}

// TestIdempotencyClaims drives the store's claims directly: what a concurrent repeat, a dead
// server and a commit without a recorded answer leave, without sleeping.
func TestIdempotencyClaims(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now()
		st.Now = func() time.Time { return now }
		t.Cleanup(func() { st.Now = time.Now })
		org := testdb.RandomName("org")
		in := domain.IdempotencyRequest{OrganisationID: org, Caller: "key:1", Key: "k", Hash: "h1", Lease: time.Minute}
		first, _, err := st.ClaimIdempotencyKey(ctx, in)
		if err != nil || first == nil {
			t.Fatalf("claim: %v", err)
		}
		conflict := func(in domain.IdempotencyRequest, words string) {
			t.Helper()
			_, _, err := st.ClaimIdempotencyKey(ctx, in)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeConflict || !strings.Contains(de.Message, words) {
				t.Errorf("want CONFLICT saying %q, got %v", words, err)
			}
		}
		conflict(in, "still running")
		other := in
		other.Hash = "h2"
		conflict(other, "another request")

		// Past the lease the server is taken to be dead: a retry takes the key, and the first
		// request can no longer commit under it.
		now = now.Add(2 * time.Minute)
		second, _, err := st.ClaimIdempotencyKey(ctx, in)
		if err != nil || second == nil {
			t.Fatalf("claim after the lease: %v", err)
		}
		if _, err := st.CreateOrganisation(domain.WithIdempotencyClaim(ctx, first), testdb.RandomName("late")); err == nil || first.Applied() {
			t.Error("a request whose claim was taken committed its change")
		}

		// Applied in the mutation's transaction: even without a recorded answer, a repeat
		// never runs the change again.
		if _, err := st.CreateOrganisation(domain.WithIdempotencyClaim(ctx, second), testdb.RandomName("once")); err != nil || !second.Applied() {
			t.Fatalf("create under the claim: %v", err)
		}
		// Committed, its answer not yet written: within the lease it is being recorded.
		conflict(in, "being recorded")
		now = now.Add(2 * time.Minute)
		conflict(in, "applied but its answer could not be recorded")
		if err := st.ReleaseIdempotencyKey(ctx, second); err != nil {
			t.Fatal(err)
		}
		conflict(in, "applied but its answer could not be recorded")
		if err := st.RecordIdempotentAnswer(ctx, second, []byte(`{"data":{}}`)); err != nil {
			t.Fatal(err)
		}
		if claim, answer, err := st.ClaimIdempotencyKey(ctx, in); err != nil || claim != nil || string(answer) != `{"data":{}}` {
			t.Errorf("replay: %v %v %s", claim, err, answer)
		}
		// After 24 hours the answer is gone and the key is free.
		now = now.Add(24*time.Hour + time.Second)
		if claim, _, err := st.ClaimIdempotencyKey(ctx, other); err != nil || claim == nil {
			t.Errorf("claim after 24 hours: %v", err)
		}
		sqlDB, _ := st.SQL()
		var n int
		if err := sqlDB.QueryRow("SELECT count(*) FROM idempotency_keys WHERE organisation_id = '" + org + "' AND state = 'done'").Scan(&n); err != nil || n != 0 {
			t.Errorf("%d expired answers left (%v)", n, err)
		}
	})
}
