package graph_test

import (
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

// TestInputTextRefused sends U+0000 in every kind of string input: PostgreSQL used to answer
// INTERNAL_SERVER_ERROR (SQLSTATE 22021) where SQLite stored it. Both must refuse it the same
// way, bad input on its field (NOT_FOUND for an id argument), and change nothing.
func TestInputTextRefused(t *testing.T) {
	const nul = "a\x00b"
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Text", "protocolType": "HTTP", "baseURL": "https://api.example.com",
			"authSchemeConfigs": []any{map[string]any{"id": "basic", "schemeType": "BASIC"}}}).String("createConnector.id")
		version := c.Do(t, `mutation($c: ID!) { createVersion(connectorId: $c, input: {name: "1.0"}) { id } }`,
			map[string]any{"c": connector}).OK(t).String("createVersion.id")
		connection := c.Do(t, `mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "Prod"}) { id } }`,
			map[string]any{"c": connector}).OK(t).String("createConnection.id")
		action := func(edit func(a map[string]any)) map[string]any {
			a := map[string]any{"name": "List", "method": "GET", "path": "/items"}
			edit(a)
			return map[string]any{"name": "2.0", "actions": []any{a}}
		}
		cases := []struct {
			name, query string
			vars        map[string]any
			code, field string
		}{
			{"ConnectorName", createConnector, map[string]any{"input": map[string]any{"name": nul, "protocolType": "HTTP"}}, "BAD_USER_INPUT", "name"},
			{"ConnectorDescription", createConnector, map[string]any{"input": map[string]any{"name": "N", "protocolType": "HTTP", "description": nul}}, "BAD_USER_INPUT", "description"},
			{"ConnectorCategory", createConnector, map[string]any{"input": map[string]any{"name": "N", "protocolType": "HTTP", "categories": []any{"x", nul}}}, "BAD_USER_INPUT", "categories[1]"},
			{"VariableValue", updateConnector, map[string]any{"id": connector, "input": map[string]any{"name": "Text", "protocolType": "HTTP",
				"connectionVariables": []any{map[string]any{"name": "Region", "value": nul}}}}, "BAD_USER_INPUT", "connectionVariables[0].value"},
			{"ConfigOAuthAudience", `mutation($c: ID!, $input: AuthSchemeConfigInput!) { createAuthSchemeConfig(connectorId: $c, input: $input) { id } }`,
				map[string]any{"c": connector, "input": map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": map[string]any{"audience": nul}}}, "BAD_USER_INPUT", "oauth2.audience"},
			{"PatchProperty", `mutation($c: ID!, $p: [PropertyInput!]) { patchConnectorVariables(connectorId: $c, properties: $p) { id } }`,
				map[string]any{"c": connector, "p": []any{map[string]any{"name": "Region", "value": nul}}}, "BAD_USER_INPUT", "properties[0].value"},
			{"PatchDynamicEscape", `mutation($c: ID!, $d: String) { patchConnectorVariables(connectorId: $c, dynamicProperties: $d) { id } }`,
				map[string]any{"c": connector, "d": `{"Region": "a\u0000b"}`}, "BAD_USER_INPUT", "dynamicProperties"},
			{"PatchConnectionDynamicEscape", `mutation($c: ID!, $d: String) { patchConnectionVariables(connectionId: $c, dynamicProperties: $d) { id } }`,
				map[string]any{"c": connection, "d": `{"Region": "a\u0000b"}`}, "BAD_USER_INPUT", "dynamicProperties"},
			{"VersionName", createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "2.0" + nul}}, "BAD_USER_INPUT", "name"},
			{"ActionPath", createVersion, map[string]any{"c": connector, "input": action(func(a map[string]any) { a["path"] = "/" + nul })}, "BAD_USER_INPUT", "actions[0].path"},
			{"ActionName", createVersion, map[string]any{"c": connector, "input": action(func(a map[string]any) { a["name"] = nul })}, "BAD_USER_INPUT", "actions[0].name"},
			{"ActionBody", createVersion, map[string]any{"c": connector, "input": action(func(a map[string]any) { a["bodyTemplate"] = nul })}, "BAD_USER_INPUT", "actions[0].bodyTemplate"},
			{"ActionHeader", createVersion, map[string]any{"c": connector, "input": action(func(a map[string]any) {
				a["headers"] = []any{map[string]any{"name": "X-A", "value": nul}}
			})}, "BAD_USER_INPUT", "actions[0].headers[0].value"},
			{"UpdateVersionDescription", `mutation($v: ID!) { updateVersion(id: $v, input: {name: "1.0", description: "a\u0000b"}) { id } }`,
				map[string]any{"v": version}, "BAD_USER_INPUT", "description"},
			{"ConnectionName", `mutation($c: ID!, $n: String!) { createConnection(connectorId: $c, input: {name: $n}) { id } }`,
				map[string]any{"c": connector, "n": nul}, "BAD_USER_INPUT", "name"},
			{"CredentialValue", `mutation($c: ID!, $v: String!) { setCredential(connectionId: $c, input: {authSchemeConfigId: "basic", kind: ACTION,
				values: [{name: "username", value: $v}, {name: "password", value: "p"}]}) { id } }`,
				map[string]any{"c": connection, "v": nul}, "BAD_USER_INPUT", "values[0].value"},
			{"ExecuteInput", `mutation($c: ID!, $in: JSON) { executeAction(connectionId: $c, action: "List", input: $in) { ok } }`,
				map[string]any{"c": connection, "in": map[string]any{"q": nul}}, "BAD_USER_INPUT", "input"},
			{"ExecuteAction", `mutation($c: ID!, $a: String!) { executeAction(connectionId: $c, action: $a) { ok } }`,
				map[string]any{"c": connection, "a": nul}, "BAD_USER_INPUT", "action"},
			{"FilterNameContains", `query($f: String) { connectors(filter: {nameContains: $f}) { totalCount } }`,
				map[string]any{"f": nul}, "BAD_USER_INPUT", "filter.nameContains"},
			{"DirectFilterNameContains", `query($f: String) { connectors(filter: {nameContains: $f}) { nodes { id } } }`,
				map[string]any{"f": nul}, "BAD_USER_INPUT", "filter.nameContains"},
			{"NestedVersionName", `query($c: ID!, $n: String!) { connector(id: $c) { version(name: $n) { id } } }`,
				map[string]any{"c": connector, "n": nul}, "BAD_USER_INPUT", "name"},
			{"IDUpdateConnector", updateConnector, map[string]any{"id": nul, "input": map[string]any{"name": "X", "protocolType": "HTTP"}}, "NOT_FOUND", ""},
			{"IDConnectorRead", `query($id: ID!) { connector(id: $id) { id name } }`, map[string]any{"id": nul}, "NOT_FOUND", ""},
			{"IDConnectionRead", `query($id: ID!) { connection(id: $id) { id } }`, map[string]any{"id": connector + "\x00"}, "NOT_FOUND", ""},
			{"IDDeleteVersion", `mutation($id: ID!) { deleteVersion(id: $id) }`, map[string]any{"id": version + "\x00"}, "NOT_FOUND", ""},
			{"IDCreateVersion", createVersion, map[string]any{"c": nul, "input": map[string]any{"name": "3.0"}}, "NOT_FOUND", ""},
		}
		const everything = `query($id: ID!) { connector(id: $id) { name description categories authSchemeConfigs { id } connectionVariables { name value } revision
		  versions(first: 5) { nodes { name description actions { name path } } } connections { nodes { name variables { name value } } } } }`
		before := c.Do(t, everything, map[string]any{"id": connector}).OK(t).Body
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c.Do(t, tc.query, tc.vars).ExpectError(t, tc.code, tc.field)
				if after := c.Do(t, everything, map[string]any{"id": connector}).OK(t).Body; after != before {
					t.Fatalf("refused input changed the connector:\n%s\n%s", before, after)
				}
				if n := countConnectors(t, c); n != 1 {
					t.Fatalf("refused input created a connector: %d", n)
				}
			})
		}
	})
}
