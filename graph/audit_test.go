package graph_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

const auditQuery = `query($first: Int, $after: String, $f: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $f) { totalCount edges { node { actor action resourceType resourceId changedFields createdAt } } pageInfo { hasNextPage endCursor } } }`

func auditActions(t *testing.T, c *apitest.Client, filter map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	var after any
	for i := 0; i < 20; i++ {
		r := c.Do(t, auditQuery, map[string]any{"first": 50, "after": after, "f": filter}).OK(t)
		for _, e := range r.List("auditEvents.edges") {
			out = append(out, e.(map[string]any)["node"].(map[string]any))
		}
		if r.Get("auditEvents.pageInfo.hasNextPage") != true {
			return out
		}
		after = r.String("auditEvents.pageInfo.endCursor")
	}
	return out
}

func TestAuditTrail(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Audited")).String("createConnector.id")
		c.Do(t, updateConnector, map[string]any{"id": connector, "input": map[string]any{"name": "Audited", "protocolType": "HTTP", "baseURL": "https://new.example.com"}}).OK(t)
		c.Do(t, createConfig, map[string]any{"c": connector, "input": map[string]any{"id": "extra", "schemeType": "BEARER"}}).OK(t)
		c.Do(t, patchVariables, map[string]any{"c": connector, "d": `{"Region":"us"}`}).OK(t)
		conn := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "c"}}).OK(t).String("createConnection.id")
		cred := c.Do(t, setCredential, map[string]any{"id": conn, "input": basicCredential("audit-user", "audit-password-secret")}).OK(t).String("setCredential.id")
		c.Do(t, patchCredential, map[string]any{"id": cred, "d": `{"password":"another-audit-secret"}`}).OK(t)
		v := c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "1"}}).OK(t).String("createVersion.id")
		c.Do(t, publishVersion, map[string]any{"id": v}).OK(t)
		key := c.Do(t, createKey, map[string]any{"input": map[string]any{"name": "k", "scopes": []any{"CONNECTORS_READ"}}}).OK(t).String("createApiKey.apiKey.id")
		c.Do(t, revokeKey, map[string]any{"id": key}).OK(t)
		c.Do(t, deleteCredential, map[string]any{"id": cred}).OK(t)
		c.Do(t, deleteConnection, map[string]any{"id": conn}).OK(t)

		// The harness made the organisation and its key directly in the store (actor "system").
		events := auditActions(t, c, map[string]any{"actor": "key:" + c.KeyID})
		var actions []string
		for i := len(events) - 1; i >= 0; i-- {
			actions = append(actions, events[i]["action"].(string))
			if events[i]["actor"] != "key:"+c.KeyID {
				t.Errorf("actor %v, want key:%s", events[i]["actor"], c.KeyID)
			}
		}
		want := "connector.create connector.update authSchemeConfig.create connector.patchVariables connection.create credential.set credential.patch version.create version.publish apiKey.create apiKey.revoke credential.delete connection.delete"
		if got := strings.Join(actions, " "); got != want {
			t.Errorf("audit trail:\n got %s\nwant %s", got, want)
		}
		byAction := map[string]map[string]any{}
		for _, e := range events {
			byAction[e["action"].(string)] = e
		}
		fields := func(action string) string {
			var out []string
			for _, f := range byAction[action]["changedFields"].([]any) {
				out = append(out, f.(string))
			}
			return strings.Join(out, ",")
		}
		for action, want := range map[string]string{
			"connector.update":         "description,documentationURL,iconURL,baseURL,categories",
			"connector.patchVariables": "connectionVariables.Region",
			"credential.set":           "position,values.username,values.password",
			"credential.patch":         "values.password",
			"version.publish":          "publishedAt,isLatest,isDefault",
		} {
			if got := fields(action); got != want {
				t.Errorf("%s changed fields %q, want %q", action, got, want)
			}
		}
		if byAction["credential.set"]["resourceId"] != cred || byAction["connector.update"]["resourceType"] != "connector" {
			t.Errorf("resources: %v %v", byAction["credential.set"], byAction["connector.update"])
		}
		t.Run("Filter", func(t *testing.T) {
			r := c.Do(t, auditQuery, map[string]any{"f": map[string]any{"resourceId": connector}}).OK(t)
			if r.Int("auditEvents.totalCount") != 3 {
				t.Errorf("events of the connector: %s", r.Body)
			}
			if n := len(auditActions(t, c, map[string]any{"action": "credential.set"})); n != 1 {
				t.Errorf("filter by action: %d", n)
			}
		})
		t.Run("NoSecrets", func(t *testing.T) {
			sqlDB, _ := h.Store.SQL()
			dump := dumpTable(t, sqlDB, "audit_events")
			for _, s := range []string{"audit-user", "audit-password-secret", "another-audit-secret", "new.example.com", "\"us\""} {
				if strings.Contains(dump, s) {
					t.Errorf("the audit trail holds the value %q", s)
				}
			}
		})
		t.Run("SameTransaction", func(t *testing.T) {
			before := len(auditActions(t, c, nil))
			h.Store.FailPoint = func(context.Context, string) error { return errors.New("injected") }
			c.Do(t, updateConnector, map[string]any{"id": connector, "input": map[string]any{"name": "Audited", "protocolType": "HTTP", "connectionVariables": []any{}}}).ExpectError(t, "INTERNAL_SERVER_ERROR", "")
			h.Store.FailPoint = nil
			c.Do(t, createConnector, map[string]any{"input": map[string]any{"name": "Audited", "protocolType": "HTTP"}}).ExpectError(t, "BAD_USER_INPUT", "name")
			if after := len(auditActions(t, c, nil)); after != before {
				t.Errorf("failed changes left %d audit events", after-before)
			}
		})
		t.Run("Tenancy", func(t *testing.T) {
			other := h.NewOrg(t)
			for _, e := range auditActions(t, other, nil) {
				if e["action"] != "apiKey.create" && e["action"] != "organisation.create" || e["resourceId"] == connector {
					t.Errorf("another organisation sees %v", e)
				}
			}
		})
	})
}
