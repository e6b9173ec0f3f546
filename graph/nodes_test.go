package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
)

const nodeQuery = `query($id: ID!) { node(id: $id) { __typename id
  ... on AuthSchemeConfig { key } ... on Connector { name } ... on Credential { authSchemeConfigId authSchemeConfig { key } } } }`

// Apollo's and Relay's caches key objects by __typename and id: two connectors with a config
// keyed "oauth" must not share one entry.
func TestAuthSchemeConfigIDsAreGlobal(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		other := h.NewOrg(t)
		oauth := map[string]any{"id": "oauth", "schemeType": "OAUTH2", "oauth2": map[string]any{"grant": "PASSWORD"}}
		a := mustCreate(t, c, map[string]any{"name": "A", "protocolType": "HTTP", "authSchemeConfigs": []any{oauth}})
		b := mustCreate(t, c, map[string]any{"name": "B", "protocolType": "HTTP", "authSchemeConfigs": []any{oauth}})
		f := mustCreate(t, other, map[string]any{"name": "F", "protocolType": "HTTP", "authSchemeConfigs": []any{oauth}})
		idA, idB := a.String("createConnector.authSchemeConfigs.0.id"), b.String("createConnector.authSchemeConfigs.0.id")
		if idA == "" || idA == idB || idA == "oauth" || a.String("createConnector.authSchemeConfigs.0.key") != "oauth" {
			t.Fatalf("configs keyed oauth of two connectors must have different global ids: %q %q", idA, idB)
		}
		connector := a.String("createConnector.id")

		// Renaming the key keeps the global id; the input may name the config either way.
		r := c.Do(t, updateConfig, map[string]any{"c": connector, "id": idA, "input": map[string]any{"id": "login", "schemeType": "OAUTH2"}}).OK(t)
		if r.String("updateAuthSchemeConfig.id") != idA || r.String("updateAuthSchemeConfig.key") != "login" {
			t.Fatalf("rename by global id: %s", r.Body)
		}
		// input.id equal to the global id keeps the key.
		r = c.Do(t, updateConfig, map[string]any{"c": connector, "id": "login", "input": map[string]any{"id": idA, "schemeType": "OAUTH2", "description": "kept"}}).OK(t)
		if r.String("updateAuthSchemeConfig.id") != idA || r.String("updateAuthSchemeConfig.key") != "login" {
			t.Fatalf("input.id = global id must keep the key: %s", r.Body)
		}
		got := c.Do(t, getConnector, map[string]any{"id": connector}).OK(t)
		if got.String("connector.authSchemeConfigs.0.id") != idA || got.String("connector.authSchemeConfigs.0.key") != "login" {
			t.Fatalf("the stored config lost its global id: %s", got.JSON("connector.authSchemeConfigs"))
		}
		// Another connector's global id names nothing here.
		c.Do(t, updateConfig, map[string]any{"c": connector, "id": idB, "input": map[string]any{"id": "x", "schemeType": "OAUTH2"}}).ExpectError(t, "NOT_FOUND", "")

		// Credentials name the config by key or global id and answer with the global id.
		conn := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "c"}}).OK(t).String("createConnection.id")
		values := vars("clientId", "c", "clientSecret", "s", "username", "u", "password", "p")
		cred := c.Do(t, setCredential, map[string]any{"id": conn, "input": map[string]any{"authSchemeConfigId": idA, "kind": "ACTION", "values": values}}).OK(t)
		if cred.String("setCredential.authSchemeConfigId") != idA || cred.String("setCredential.authSchemeConfig.key") != "login" {
			t.Fatalf("credential by global id: %s", cred.Body)
		}
		again := c.Do(t, setCredential, map[string]any{"id": conn, "input": map[string]any{"authSchemeConfigId": "login", "kind": "ACTION", "values": values}}).OK(t)
		if again.String("setCredential.id") != cred.String("setCredential.id") {
			t.Fatalf("the key and the global id must name the same credential: %s", again.Body)
		}
		c.Do(t, setCredential, map[string]any{"id": conn, "input": map[string]any{"authSchemeConfigId": idB, "kind": "ACTION", "values": values}}).
			ExpectError(t, "BAD_USER_INPUT", "authSchemeConfigId")
		// Renamed with a credential: the credential still names the same global id.
		c.Do(t, updateConfig, map[string]any{"c": connector, "id": "login", "input": map[string]any{"id": "sso", "schemeType": "OAUTH2"}}).OK(t)
		list := c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t)
		if list.String("connection.credentials.0.authSchemeConfigId") != idA || list.String("connection.credentials.0.authSchemeConfig.key") != "sso" {
			t.Fatalf("credential after rename: %s", list.Body)
		}

		// authSchemeConfigIDs accepts keys and global ids.
		c.Do(t, createConfig, map[string]any{"c": connector, "input": map[string]any{"id": "basic", "schemeType": "BASIC"}}).OK(t)
		re := c.Do(t, updateConnector, map[string]any{"id": connector, "input": map[string]any{"name": "A", "protocolType": "HTTP", "authSchemeConfigIDs": []any{"basic", idA}}}).OK(t)
		if re.String("updateConnector.authSchemeConfigs.0.key") != "basic" || re.String("updateConnector.authSchemeConfigs.1.id") != idA {
			t.Fatalf("reorder by key and global id: %s", re.JSON("updateConnector.authSchemeConfigs"))
		}

		// node finds the config; another organisation's is missing.
		n := c.Do(t, nodeQuery, map[string]any{"id": idA}).OK(t)
		if n.String("node.__typename") != "AuthSchemeConfig" || n.String("node.key") != "sso" {
			t.Fatalf("node of a config: %s", n.Body)
		}
		foreign := f.String("createConnector.authSchemeConfigs.0.id")
		c.Do(t, nodeQuery, map[string]any{"id": foreign}).ExpectError(t, "NOT_FOUND", "")

		// Deleting by global id.
		c.Do(t, `mutation($c: ID!, $id: ID!) { deleteAuthSchemeConfig(connectorId: $c, id: $id) }`, map[string]any{"c": connector, "id": idB}).ExpectError(t, "NOT_FOUND", "")
		basicID := re.String("updateConnector.authSchemeConfigs.0.id")
		c.Do(t, `mutation($c: ID!, $id: ID!) { deleteAuthSchemeConfig(connectorId: $c, id: $id) }`, map[string]any{"c": connector, "id": basicID}).OK(t)
		c.Do(t, nodeQuery, map[string]any{"id": basicID}).ExpectError(t, "NOT_FOUND", "")
	})
}

// Every type with an id is a Node that node and nodes find; missing and foreign ids are null
// with NOT_FOUND at their path, answered alike.
func TestNodeEveryType(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		intruder := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Nodes"))
		ids := map[string]string{
			"Connector":        connector.String("createConnector.id"),
			"AuthSchemeConfig": connector.String("createConnector.authSchemeConfigs.0.id"),
			"Organisation":     c.OrgID,
			"ApiKey":           c.KeyID,
		}
		ids["Connection"] = c.Do(t, createConnection, map[string]any{"c": ids["Connector"], "input": map[string]any{"name": "c"}}).OK(t).String("createConnection.id")
		ids["Credential"] = c.Do(t, setCredential, map[string]any{"id": ids["Connection"], "input": basicCredential("u", "p")}).OK(t).String("setCredential.id")
		ids["ConnectorVersion"] = c.Do(t, createVersion, map[string]any{"c": ids["Connector"], "input": map[string]any{"name": "1"}}).OK(t).String("createVersion.id")
		ids["AuditEvent"] = c.Do(t, `{ auditEvents(first: 1) { nodes { id } } }`, nil).OK(t).String("auditEvents.nodes.0.id")

		var all []any
		for typ, id := range ids {
			r := c.Do(t, nodeQuery, map[string]any{"id": id}).OK(t)
			if r.String("node.__typename") != typ || r.String("node.id") != id {
				t.Errorf("node(%s) = %s", typ, r.Body)
			}
			foreign := intruder.Do(t, nodeQuery, map[string]any{"id": id}).ExpectError(t, "NOT_FOUND", "")
			if foreign.Get("node") != nil || fmt.Sprint(foreign.Errors[0].Path) != "[node]" {
				t.Errorf("a foreign %s must be null with NOT_FOUND at node: %s", typ, foreign.Body)
			}
			all = append(all, id)
		}
		cred := c.Do(t, nodeQuery, map[string]any{"id": ids["Credential"]}).OK(t)
		if cred.String("node.authSchemeConfigId") != ids["AuthSchemeConfig"] || cred.String("node.authSchemeConfig.key") != "basic" {
			t.Errorf("credential node: %s", cred.Body)
		}
		for _, missing := range []string{"01a00000-0000-7000-8000-000000000000", "not-an-id", "", ids["Connector"] + ".0000000000000000"} {
			r := c.Do(t, nodeQuery, map[string]any{"id": missing}).ExpectError(t, "NOT_FOUND", "")
			if r.Get("node") != nil {
				t.Errorf("missing %q: %s", missing, r.Body)
			}
		}

		// nodes: in order, a missing id null with its error at its index.
		const nodesQuery = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`
		withMissing := append(append([]any{}, all...), "01a00000-0000-7000-8000-000000000000")
		r := c.Do(t, nodesQuery, map[string]any{"ids": withMissing})
		got := r.List("nodes")
		if len(got) != len(withMissing) || got[len(got)-1] != nil || len(r.Errors) != 1 || r.Code() != "NOT_FOUND" ||
			fmt.Sprint(r.Errors[0].Path) != fmt.Sprintf("[nodes %d]", len(withMissing)-1) {
			t.Fatalf("nodes with a missing id: %s", r.Body)
		}
		for i, id := range all {
			if got[i].(map[string]any)["id"] != id {
				t.Errorf("nodes[%d] = %v, want %s", i, got[i], id)
			}
		}
		foreign := intruder.Do(t, nodesQuery, map[string]any{"ids": all})
		if len(foreign.Errors) != len(all) || strings.Contains(foreign.JSON("nodes"), "{") {
			t.Errorf("foreign ids must all be null with NOT_FOUND: %s", foreign.Body)
		}
		tooMany := make([]any, domain.MaxNodeIDs+1)
		for i := range tooMany {
			tooMany[i] = ids["Connector"]
		}
		c.Do(t, nodesQuery, map[string]any{"ids": tooMany}).ExpectError(t, "BAD_USER_INPUT", "ids")

		// An API key needs keys:manage, like Query.apiKeys; connectors:read alone sees the rest.
		reader := h.NewKey(t, c.OrgID, domain.ScopeConnectorsRead)
		reader.Do(t, nodeQuery, map[string]any{"id": ids["ApiKey"]}).ExpectError(t, "FORBIDDEN", "")
		reader.Do(t, nodeQuery, map[string]any{"id": ids["Connector"]}).OK(t)
		h.NewKey(t, c.OrgID, domain.ScopeKeysManage).Do(t, nodeQuery, map[string]any{"id": ids["Connector"]}).ExpectError(t, "FORBIDDEN", "")
	})
}

// Configs stored before global ids hold none: they get one derived from their connector and
// key, the same on every read, which the next write of the connector stores, so a rename
// keeps it.
func TestAuthSchemeConfigStoredWithoutGlobalID(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := mustCreate(t, c, fullConnector("Legacy")).String("createConnector.id")
		db, err := h.Store.SQL()
		if err != nil {
			t.Fatal(err)
		}
		// The configs as migrations 1-6 stored them: without globalId.
		legacy := `[{"id":"basic","schemeType":"BASIC","verifySSL":true},{"id":"key","schemeType":"BEARER","verifySSL":true}]`
		statement := `UPDATE connectors SET auth_scheme_configs = $1 WHERE id = $2`
		if h.Store.Dialect() == store.Postgres {
			statement = `UPDATE connectors SET auth_scheme_configs = $1::jsonb WHERE id = $2`
		}
		if _, err := db.Exec(statement, legacy, id); err != nil {
			t.Fatal(err)
		}
		first := c.Do(t, getConnector, map[string]any{"id": id}).OK(t)
		derived := first.String("connector.authSchemeConfigs.1.id")
		if derived == "" || derived == "key" || first.String("connector.authSchemeConfigs.0.id") == derived {
			t.Fatalf("legacy configs need distinct global ids: %s", first.JSON("connector.authSchemeConfigs"))
		}
		if again := c.Do(t, getConnector, map[string]any{"id": id}).OK(t).String("connector.authSchemeConfigs.1.id"); again != derived {
			t.Fatalf("a derived global id must be stable across reads: %q then %q", derived, again)
		}
		c.Do(t, nodeQuery, map[string]any{"id": derived}).OK(t)
		r := c.Do(t, updateConfig, map[string]any{"c": id, "id": derived, "input": map[string]any{"id": "token", "schemeType": "BEARER"}}).OK(t)
		if r.String("updateAuthSchemeConfig.id") != derived {
			t.Fatalf("renaming a legacy config must keep its global id: %s", r.Body)
		}
		after := c.Do(t, nodeQuery, map[string]any{"id": derived}).OK(t)
		if after.String("node.key") != "token" {
			t.Fatalf("node after the rename: %s", after.Body)
		}
		// A new config with the old key is another config.
		n := c.Do(t, createConfig, map[string]any{"c": id, "input": map[string]any{"id": "key", "schemeType": "BEARER"}}).OK(t)
		if n.String("createAuthSchemeConfig.id") == derived {
			t.Fatal("a new config reused the global id of the config renamed away from its key")
		}
	})
}
