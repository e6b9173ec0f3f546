package graph_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

const connectionFields = `id connectorId name versionName variables { name value } revision createdAt updatedAt
  version { name } credentials { id authSchemeConfigId kind position fieldsSet hints { field hint } expiresAt }`

var (
	createConnection = `mutation($c: ID!, $input: CreateConnectionInput!) { createConnection(connectorId: $c, input: $input) { ` + connectionFields + ` } }`
	updateConnection = `mutation($id: ID!, $input: UpdateConnectionInput!, $rev: Int) { updateConnection(id: $id, input: $input, expectedRevision: $rev) { ` + connectionFields + ` } }`
	getConnection    = `query($id: ID!) { connection(id: $id) { ` + connectionFields + ` } }`
	patchConnection  = `mutation($id: ID!, $p: [PropertyInput!], $d: String) { patchConnectionVariables(connectionId: $id, properties: $p, dynamicProperties: $d) { variables { name value } revision } }`
	deleteConnection = `mutation($id: ID!) { deleteConnection(id: $id) }`
)

func connectionSnapshot(t *testing.T, c *apitest.Client, id string) string {
	t.Helper()
	return c.Do(t, getConnection, map[string]any{"id": id}).OK(t).JSON("connection")
}

func vars(pairs ...string) []any {
	var out []any
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, map[string]any{"name": pairs[i], "value": pairs[i+1]})
	}
	return out
}

func TestCreateConnection(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Conn")).String("createConnector.id")
		t.Run("CopiesConnectorVariables", func(t *testing.T) {
			r := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "Acme prod"}}).OK(t)
			if got := r.JSON("createConnection.variables"); got != `[{"name":"Region","value":"eu"},{"name":"Timeout","value":"30s"}]` {
				t.Errorf("variables = %s", got)
			}
			if r.Get("createConnection.versionName") != nil || r.Get("createConnection.version") != nil || r.Int("createConnection.revision") != 1 {
				t.Errorf("unexpected: %s", r.Body)
			}
		})
		t.Run("OwnVariablesOnTop", func(t *testing.T) {
			r := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "Acme test", "variables": vars("Timeout", "5s", "Sandbox", "true")}}).OK(t)
			if got := r.JSON("createConnection.variables"); got != `[{"name":"Region","value":"eu"},{"name":"Timeout","value":"5s"},{"name":"Sandbox","value":"true"}]` {
				t.Errorf("variables = %s", got)
			}
		})
		draft := c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "1.0.0"}}).OK(t).String("createVersion.id")
		// message tells the pin errors apart: each is BAD_USER_INPUT on versionName, so without
		// it a refusal for another reason ("no version named …") would pass for the alias rule.
		bad := []struct {
			name    string
			input   map[string]any
			code    string
			field   string
			message string
		}{
			{"ErrNameTaken", map[string]any{"name": "ACME PROD"}, "BAD_USER_INPUT", "name", "already"},
			{"ErrNameBlank", map[string]any{"name": " "}, "BAD_USER_INPUT", "name", "required"},
			{"ErrPinDraft", map[string]any{"name": "x", "versionName": "1.0.0"}, "BAD_USER_INPUT", "versionName", "is a draft"},
			{"ErrPinMissing", map[string]any{"name": "x", "versionName": "9.9"}, "BAD_USER_INPUT", "versionName", `no version named "9.9"`},
			{"ErrPinAlias", map[string]any{"name": "x", "versionName": "Latest"}, "BAD_USER_INPUT", "versionName", "is an alias"},
			{"ErrPinAliasDefault", map[string]any{"name": "x", "versionName": " default "}, "BAD_USER_INPUT", "versionName", "is an alias"},
			{"ErrVariableName", map[string]any{"name": "x", "variables": vars("bad name", "v")}, "BAD_USER_INPUT", "variables[0].name", "not a valid variable name"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(t, createConnection, map[string]any{"c": connector, "input": tc.input}).ExpectError(t, tc.code, tc.field)
				if !strings.Contains(r.Message(), tc.message) {
					t.Errorf("refused for another reason than the rule under test: want %q in %q", tc.message, r.Message())
				}
			})
		}
		c.Do(t, createConnection, map[string]any{"c": "missing", "input": map[string]any{"name": "x"}}).ExpectError(t, "NOT_FOUND", "")
		if n := c.Do(t, `query($id: ID!) { connector(id: $id) { connections { totalCount } } }`, map[string]any{"id": connector}).OK(t).Int("connector.connections.totalCount"); n != 2 {
			t.Errorf("rejected creates stored connections: %d", n)
		}
		c.Do(t, publishVersion, map[string]any{"id": draft}).OK(t)
		r := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "pinned", "versionName": "1.0.0"}}).OK(t)
		if r.String("createConnection.versionName") != "1.0.0" || r.String("createConnection.version.name") != "1.0.0" {
			t.Errorf("pin: %s", r.Body)
		}
	})
}

func TestUpdateConnection(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Conn")).String("createConnector.id")
		v1 := c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "v1"}}).OK(t).String("createVersion.id")
		c.Do(t, publishVersion, map[string]any{"id": v1}).OK(t)
		v2 := c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "v2"}}).OK(t).String("createVersion.id")
		c.Do(t, publishVersion, map[string]any{"id": v2}).OK(t)
		c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "other"}}).OK(t)
		id := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "main", "versionName": "v2"}}).OK(t).String("createConnection.id")

		r := c.Do(t, updateConnection, map[string]any{"id": id, "input": map[string]any{"name": "main", "variables": vars("Only", "1")}, "rev": 1}).OK(t)
		if r.Get("updateConnection.versionName") != nil || r.String("updateConnection.version.name") != "v1" {
			t.Errorf("omitted versionName must follow the default (v1): %s", r.Body)
		}
		if r.JSON("updateConnection.variables") != `[{"name":"Only","value":"1"}]` || r.Int("updateConnection.revision") != 2 {
			t.Errorf("replace: %s", r.Body)
		}
		r = c.Do(t, updateConnection, map[string]any{"id": id, "input": map[string]any{"name": "Main", "versionName": "V2"}}).OK(t)
		if r.JSON("updateConnection.variables") != `[]` || r.String("updateConnection.versionName") != "v2" || r.String("updateConnection.name") != "Main" {
			t.Errorf("omitted variables must empty the list; pins match names case-insensitively: %s", r.Body)
		}
		before := connectionSnapshot(t, c, id)
		bad := []struct {
			name    string
			input   map[string]any
			rev     any
			code    string
			field   string
			message string // tells apart refusals with the same code and field
		}{
			{"ErrNameOmitted", map[string]any{"versionName": "v1"}, nil, "BAD_USER_INPUT", "name", "required"},
			{"ErrNameTaken", map[string]any{"name": "OTHER"}, nil, "BAD_USER_INPUT", "name", "already"},
			{"ErrPinMissing", map[string]any{"name": "Main", "versionName": "v3"}, nil, "BAD_USER_INPUT", "versionName", `no version named "v3"`},
			{"ErrPinAlias", map[string]any{"name": "Main", "versionName": " DEFAULT "}, nil, "BAD_USER_INPUT", "versionName", "is an alias"},
			{"ErrPinAliasLatest", map[string]any{"name": "Main", "versionName": "latest"}, nil, "BAD_USER_INPUT", "versionName", "is an alias"},
			{"ErrVariables", map[string]any{"name": "Main", "variables": vars("a", "1", "a", "2")}, nil, "BAD_USER_INPUT", "variables[1].name", "already the name"},
			{"ErrRevision", map[string]any{"name": "Main"}, 1, "CONFLICT", "", "revision"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(t, updateConnection, map[string]any{"id": id, "input": tc.input, "rev": tc.rev}).ExpectError(t, tc.code, tc.field)
				if !strings.Contains(r.Message(), tc.message) {
					t.Errorf("refused for another reason than the rule under test: want %q in %q", tc.message, r.Message())
				}
				if connectionSnapshot(t, c, id) != before {
					t.Fatal("a rejected update changed the connection")
				}
			})
		}
	})
}

func TestConnectorVariablesOverwriteEveryConnection(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Fan out")).String("createConnector.id")
		other := mustCreate(t, c, fullConnector("Untouched")).String("createConnector.id")
		var ids []string
		for _, name := range []string{"a", "b", "c"} {
			ids = append(ids, c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": name, "variables": vars("Own", name)}}).OK(t).String("createConnection.id"))
		}
		bystander := c.Do(t, createConnection, map[string]any{"c": other, "input": map[string]any{"name": "x"}}).OK(t).String("createConnection.id")
		input := map[string]any{"name": "Fan out", "protocolType": "HTTP", "connectionVariables": vars("Region", "us")}

		t.Run("FailureHalfWayChangesNothing", func(t *testing.T) {
			beforeConnector := snapshot(t, c, connector)
			before := map[string]string{}
			for _, id := range ids {
				before[id] = connectionSnapshot(t, c, id)
			}
			h.Store.FailPoint = func(_ context.Context, point string) error {
				if point == "updateConnector.variablesPropagated" {
					return errors.New("injected failure")
				}
				return nil
			}
			r := c.Do(t, updateConnector, map[string]any{"id": connector, "input": input})
			h.Store.FailPoint = nil
			r.ExpectError(t, "INTERNAL_SERVER_ERROR", "")
			if strings.Contains(r.Body, "injected") {
				t.Errorf("internal error text leaked: %s", r.Body)
			}
			if snapshot(t, c, connector) != beforeConnector {
				t.Error("the connector changed although the transaction failed")
			}
			for _, id := range ids {
				if connectionSnapshot(t, c, id) != before[id] {
					t.Errorf("connection %s changed although the transaction failed", id)
				}
			}
		})
		t.Run("Overwrite", func(t *testing.T) {
			c.Do(t, updateConnector, map[string]any{"id": connector, "input": input}).OK(t)
			for _, id := range ids {
				r := c.Do(t, getConnection, map[string]any{"id": id}).OK(t)
				if got := r.JSON("connection.variables"); got != `[{"name":"Region","value":"us"}]` || r.Int("connection.revision") != 2 {
					t.Errorf("connection %s: variables %s, revision %d", id, got, r.Int("connection.revision"))
				}
			}
			if got := c.Do(t, getConnection, map[string]any{"id": bystander}).OK(t).JSON("connection.variables"); got != `[{"name":"Region","value":"eu"},{"name":"Timeout","value":"30s"}]` {
				t.Errorf("another connector's connection changed: %s", got)
			}
		})
		t.Run("OmittedLeavesConnectionsAlone", func(t *testing.T) {
			c.Do(t, patchConnection, map[string]any{"id": ids[0], "d": `{"Mine":"1"}`}).OK(t)
			c.Do(t, updateConnector, map[string]any{"id": connector, "input": map[string]any{"name": "Fan out", "protocolType": "HTTP"}}).OK(t)
			if got := c.Do(t, getConnection, map[string]any{"id": ids[0]}).OK(t).JSON("connection.variables"); got != `[{"name":"Region","value":"us"},{"name":"Mine","value":"1"}]` {
				t.Errorf("variables = %s", got)
			}
		})
	})
}

func TestPatchConnectionVariables(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "P", "protocolType": "HTTP", "connectionVariables": vars("APIKey", "old", "Endpoint", "e1")}).String("createConnector.id")
		id := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "p"}}).OK(t).String("createConnection.id")
		r := c.Do(t, patchConnection, map[string]any{"id": id, "p": vars("APIKey", "mid"), "d": `{"APIKey":"new","Timeout":"60s"}`}).OK(t)
		if got := r.JSON("patchConnectionVariables.variables"); got != `[{"name":"APIKey","value":"new"},{"name":"Endpoint","value":"e1"},{"name":"Timeout","value":"60s"}]` {
			t.Errorf("variables = %s", got)
		}
		before := connectionSnapshot(t, c, id)
		for _, d := range []string{`{`, `[1]`, `{"a":{"b":1}}`, `{"a":[1]}`, `{"bad-name":"x"}`, `null`} {
			c.Do(t, patchConnection, map[string]any{"id": id, "d": d}).ExpectError(t, "BAD_USER_INPUT", "dynamicProperties")
		}
		c.Do(t, patchConnection, map[string]any{"id": id, "p": vars("1x", "v")}).ExpectError(t, "BAD_USER_INPUT", "properties[0].name")
		if connectionSnapshot(t, c, id) != before {
			t.Fatal("a rejected patch changed the connection")
		}
	})
}

func TestConnectionsPagination(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Many")).String("createConnector.id")
		var want []string
		for _, n := range []string{"e", "d", "c", "b", "a"} {
			c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": n}}).OK(t)
			want = append(want, n)
		}
		var got []string
		var after any
		q := `query($id: ID!, $after: String) { connector(id: $id) { connections(first: 2, after: $after) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } } }`
		for i := 0; i < 10; i++ {
			r := c.Do(t, q, map[string]any{"id": connector, "after": after}).OK(t)
			if r.Int("connector.connections.totalCount") != 5 {
				t.Fatalf("totalCount: %s", r.Body)
			}
			for _, e := range r.List("connector.connections.edges") {
				got = append(got, e.(map[string]any)["node"].(map[string]any)["name"].(string))
			}
			if r.Get("connector.connections.pageInfo.hasNextPage") != true {
				break
			}
			after = r.String("connector.connections.pageInfo.endCursor")
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("got %v, want %v (oldest first)", got, want)
		}
		c.Do(t, q, map[string]any{"id": connector, "after": "bogus"}).ExpectError(t, "BAD_USER_INPUT", "after")
	})
}

func TestDeleteConnection(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Del")).String("createConnector.id")
		id := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "gone"}}).OK(t).String("createConnection.id")
		cred := c.Do(t, setCredential, map[string]any{"id": id, "input": basicCredential("u", "p")}).OK(t).String("setCredential.id")
		if c.Do(t, deleteConnection, map[string]any{"id": id}).OK(t).String("deleteConnection") != id {
			t.Fatal("deleteConnection must return the id")
		}
		c.Do(t, getConnection, map[string]any{"id": id}).ExpectError(t, "NOT_FOUND", "")
		c.Do(t, deleteCredential, map[string]any{"id": cred}).ExpectError(t, "NOT_FOUND", "")
		sqlDB, _ := h.Store.SQL()
		var n int
		sqlDB.QueryRow(`SELECT count(*) FROM credentials WHERE connection_id = '` + id + `'`).Scan(&n)
		if n != 0 {
			t.Errorf("credentials of a deleted connection remain: %d", n)
		}
		// Deleting the connector removes its connections too.
		id2 := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "gone"}}).OK(t).String("createConnection.id")
		c.Do(t, `mutation($id: ID!) { deleteConnector(id: $id) }`, map[string]any{"id": connector}).OK(t)
		c.Do(t, getConnection, map[string]any{"id": id2}).ExpectError(t, "NOT_FOUND", "")
	})
}

// updateConnection is a full replace: a rename that omits variables empties them. That stays the
// rule, and the audit trail names what the update dropped, beside connection.update.
func TestUpdateConnectionNamesRemovedVariables(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Renamed")).String("createConnector.id")
		conn := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "Before"}}).OK(t).String("createConnection.id")

		r := c.Do(t, updateConnection, map[string]any{"id": conn, "input": map[string]any{"name": "After"}}).OK(t)
		if got := r.JSON("updateConnection.variables"); got != `[]` {
			t.Fatalf("omitted variables must empty the list (full replace): %s", got)
		}
		events := auditActions(t, c, map[string]any{"resourceId": conn})
		var removed []string
		for _, e := range events {
			if e["action"] == "connection.variables.remove" {
				for _, f := range e["changedFields"].([]any) {
					removed = append(removed, f.(string))
				}
			}
		}
		if strings.Join(removed, ",") != "Region,Timeout" {
			t.Errorf("connection.variables.remove names %v, want Region,Timeout; events %v", removed, events)
		}

		// Sending the variables back (or changing none) writes no such event.
		c.Do(t, updateConnection, map[string]any{"id": conn, "input": map[string]any{"name": "Again", "variables": vars("A", "1")}}).OK(t)
		c.Do(t, updateConnection, map[string]any{"id": conn, "input": map[string]any{"name": "Again 2", "variables": vars("A", "2")}}).OK(t)
		if n := len(auditActions(t, c, map[string]any{"resourceId": conn, "action": "connection.variables.remove"})); n != 1 {
			t.Errorf("%d connection.variables.remove events, want 1", n)
		}
	})
}
