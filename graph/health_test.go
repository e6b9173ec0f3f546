package graph_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
)

const (
	healthQuery = `query($id: ID!) { connection(id: $id) { status statusMessage lastCheckedAt revision updatedAt } }`
	statusAudit = `query($id: ID!) { auditEvents(filter: {resourceId: $id, action: "connection.status"}) { totalCount nodes { actor } } }`
)

// TestConnectionHealth holds calls to the status rules: any answer but 401/403 is OK, 401/403
// is ERROR, network errors and 5xx change nothing, a refused token request is ERROR; a call
// writes a change of status (audited) and otherwise lastCheckedAt at most once a minute,
// never revision or updatedAt; setting a credential goes back to PENDING.
func TestConnectionHealth(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		subject := c.Do(t, `{ viewer { subject } }`, nil).OK(t).String("viewer.subject")
		var answer atomic.Int32
		answer.Store(200)
		api := newAPIServer(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(answer.Load())) })
		connector, conn := actionFixture(t, c, api.URL, []any{map[string]any{"id": "b", "schemeType": "BEARER"}},
			[]any{getAction("me", "/me")}, []map[string]any{{"authSchemeConfigId": "b", "kind": "ACTION", "values": vars("token", "t-1")}})
		read := func() *apitest.Response { return c.Do(t, healthQuery, map[string]any{"id": conn}).OK(t) }
		audits := func() int {
			return c.Do(t, statusAudit, map[string]any{"id": conn}).OK(t).Int("auditEvents.totalCount")
		}
		first := read()
		if first.String("connection.status") != "PENDING" || first.Get("connection.lastCheckedAt") != nil {
			t.Fatalf("a new connection: %s", first.Body)
		}
		var now atomic.Int64
		now.Store(time.Now().UnixNano())
		h.Actions.Now = func() time.Time { return time.Unix(0, now.Load()) }
		call := func(status int) {
			t.Helper()
			answer.Store(int32(status))
			c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"}).OK(t)
		}
		steps := []struct {
			answer     int
			advance    time.Duration
			status     string
			audits     int
			checkMoved bool
		}{
			{200, 0, "OK", 1, true},
			{200, 10 * time.Second, "OK", 1, false}, // within the minute: nothing written
			{404, 61 * time.Second, "OK", 1, true},  // any answer but 401/403; a minute later: checked
			{503, 61 * time.Second, "OK", 1, false}, // 5xx says nothing about credentials
			{401, time.Second, "ERROR", 2, true},
			{403, time.Second, "ERROR", 2, false},
			{200, time.Second, "OK", 3, true},
		}
		last := ""
		for i, s := range steps {
			now.Add(int64(s.advance))
			call(s.answer)
			r := read()
			if got := r.String("connection.status"); got != s.status {
				t.Fatalf("step %d (HTTP %d): status %s, want %s: %s", i, s.answer, got, s.status, r.Body)
			}
			if n := audits(); n != s.audits {
				t.Errorf("step %d: %d status audit events, want %d", i, n, s.audits)
			}
			checked := r.String("connection.lastCheckedAt")
			if moved := checked != last; moved != s.checkMoved {
				t.Errorf("step %d: lastCheckedAt %q after %q: moved %v, want %v", i, checked, last, moved, s.checkMoved)
			}
			last = checked
			if r.Int("connection.revision") != first.Int("connection.revision") || r.String("connection.updatedAt") != first.String("connection.updatedAt") {
				t.Errorf("step %d: a call changed revision or updatedAt: %s", i, r.Body)
			}
			if s.status == "ERROR" && !strings.Contains(r.String("connection.statusMessage"), fmt.Sprintf("HTTP %d", 401)) {
				t.Errorf("step %d: statusMessage %q", i, r.String("connection.statusMessage"))
			}
			if s.status == "OK" && r.Get("connection.statusMessage") != nil {
				t.Errorf("step %d: statusMessage %v on OK", i, r.Get("connection.statusMessage"))
			}
		}
		if a := c.Do(t, statusAudit, map[string]any{"id": conn}).OK(t).String("auditEvents.nodes.0.actor"); a != subject {
			t.Errorf("status changes are audited as %q, want the caller %q", a, subject)
		}
		// The filter alone (no new field selected), so that the direct executor would answer
		// the read if it did not leave the argument to gqlgen.
		for status, want := range map[string]string{"OK": `[{"id":"` + conn + `"}]`, "ERROR": `[]`} {
			r := c.Do(t, `query($id: ID!, $s: ConnectionStatus) { connector(id: $id) { connections(status: $s) { totalCount nodes { id } } } }`,
				map[string]any{"id": connector, "s": status}).OK(t)
			if got := r.JSON("connector.connections.nodes"); got != want {
				t.Errorf("connections(status: %s): %s, want %s", status, got, want)
			}
		}
		c.Do(t, setCredential, map[string]any{"id": conn, "input": map[string]any{"authSchemeConfigId": "b", "kind": "ACTION", "values": vars("token", "t-2")}}).OK(t)
		if r := read(); r.String("connection.status") != "PENDING" || audits() != 4 {
			t.Errorf("setCredential must reset the status to PENDING, audited: %s", r.Body)
		}

		t.Run("TokenRefused", func(t *testing.T) {
			var tokenStatus atomic.Int32
			tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(int(tokenStatus.Load()))
				fmt.Fprint(w, `{"error":"invalid_client"}`)
			}))
			t.Cleanup(tokens.Close)
			_, conn := actionFixture(t, c, api.URL, []any{map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": map[string]any{"grant": "CLIENT_CREDENTIALS", "tokenURL": tokens.URL}}},
				[]any{getAction("me", "/me")}, []map[string]any{{"authSchemeConfigId": "o", "kind": "ACTION", "values": vars("clientId", "id", "clientSecret", "s")}})
			tokenStatus.Store(503)
			c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"}).OK(t)
			if s := c.Do(t, healthQuery, map[string]any{"id": conn}).OK(t).String("connection.status"); s != "PENDING" {
				t.Errorf("a token URL answering 503 changed the status to %s", s)
			}
			tokenStatus.Store(401)
			c.Do(t, executeAction, map[string]any{"c": conn, "a": "me"}).OK(t)
			r := c.Do(t, healthQuery, map[string]any{"id": conn}).OK(t)
			if r.String("connection.status") != "ERROR" || !strings.Contains(r.String("connection.statusMessage"), "invalid_client") {
				t.Errorf("a refused token request: %s", r.Body)
			}
		})
	})
}
