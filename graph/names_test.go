package graph_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

// TestLookAlikeNamesRefused: names equal under NFKC case folding without default-ignorable
// characters cannot coexist in one scope. Each of these was accepted as a second, distinct
// name before.
func TestLookAlikeNamesRefused(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Caf\u00e9", "protocolType": "HTTP",
			"authSchemeConfigs": []any{map[string]any{"id": "oauth", "schemeType": "NONE"}}}).String("createConnector.id")
		mustCreate(t, c, map[string]any{"name": "Base", "protocolType": "HTTP"})
		c.Do(t, `mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "Production"}) { id } }`, map[string]any{"c": connector}).OK(t)
		createConnection := `mutation($c: ID!, $n: String!) { createConnection(connectorId: $c, input: {name: $n}) { id } }`
		cases := []struct {
			name, query string
			vars        map[string]any
			field       string
		}{
			{"ConnectorDecomposed", createConnector, map[string]any{"input": map[string]any{"name": "Cafe\u0301", "protocolType": "HTTP"}}, "name"},
			{"ConnectorFullWidth", createConnector, map[string]any{"input": map[string]any{"name": "\uff22\uff41\uff53\uff45", "protocolType": "HTTP"}}, "name"},
			{"ConnectorZeroWidth", createConnector, map[string]any{"input": map[string]any{"name": "Ba\u200bse", "protocolType": "HTTP"}}, "name"},
			{"RenameToLookAlike", updateConnector, map[string]any{"id": connector, "input": map[string]any{"name": "BASE\ufe0f", "protocolType": "HTTP"}}, "name"},
			{"ConnectionFullWidth", createConnection, map[string]any{"c": connector, "n": "\uff30roduction"}, "name"},
			{"ConnectionSoftHyphen", createConnection, map[string]any{"c": connector, "n": "Pro\u00adduction"}, "name"},
			{"VersionReservedFullWidth", createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "\uff4c\uff41\uff54\uff45\uff53\uff54"}}, "name"},
			{"ActionsInVersion", createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "1.0", "actions": []any{
				map[string]any{"name": "List customers", "method": "GET", "path": "/a"},
				map[string]any{"name": "List\u200b customers", "method": "GET", "path": "/b"}}}}, "actions[1].name"},
			{"ConfigKeyCase", `mutation($c: ID!) { createAuthSchemeConfig(connectorId: $c, input: {id: "OAuth", schemeType: NONE}) { id } }`,
				map[string]any{"c": connector}, "id"},
			{"ConfigsInCreate", createConnector, map[string]any{"input": map[string]any{"name": "New", "protocolType": "HTTP", "authSchemeConfigs": []any{
				map[string]any{"id": "key", "schemeType": "NONE"}, map[string]any{"id": "KEY", "schemeType": "NONE"}}}}, "authSchemeConfigs[1].id"},
			{"VariablesInList", updateConnector, map[string]any{"id": connector, "input": map[string]any{"name": "Caf\u00e9", "protocolType": "HTTP",
				"connectionVariables": []any{map[string]any{"name": "Region", "value": "eu"}, map[string]any{"name": "REGION", "value": "us"}}}}, "connectionVariables[1].name"},
		}
		const everything = `query($id: ID!) { connector(id: $id) { name revision authSchemeConfigs { id } connectionVariables { name }
		  versions { totalCount } connections { nodes { name } } } connectors { totalCount } }`
		before := c.Do(t, everything, map[string]any{"id": connector}).OK(t).Body
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c.Do(t, tc.query, tc.vars).ExpectError(t, "BAD_USER_INPUT", tc.field)
				if after := c.Do(t, everything, map[string]any{"id": connector}).OK(t).Body; after != before {
					t.Fatalf("refused input changed something:\n%s\n%s", before, after)
				}
			})
		}
		// Exact names still work as before: renaming to another letter case of itself.
		c.Do(t, updateConnector, map[string]any{"id": connector, "input": map[string]any{"name": "CAF\u00c9", "protocolType": "HTTP"}}).OK(t)
	})
}

// TestConnectorsOrderedByCollation: NAME_ASC used byte order, which put "Émile" after "Zulu";
// names now order by their collation key on both databases, through both executors, and
// keyset pages of one still walk the whole list in order.
func TestConnectorsOrderedByCollation(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		want := []string{"apple", "Eagle", "\u00c9mile", "Emily", "Zulu", "\u03a9mega"}
		for _, i := range []int{4, 2, 0, 5, 3, 1} {
			mustCreate(t, c, map[string]any{"name": want[i], "protocolType": "HTTP"})
		}
		for _, order := range []string{"NAME_ASC", "NAME_DESC"} {
			expect := append([]string(nil), want...)
			if order == "NAME_DESC" {
				for i, j := 0, len(expect)-1; i < j; i, j = i+1, j-1 {
					expect[i], expect[j] = expect[j], expect[i]
				}
			}
			for _, query := range []string{
				`query($o: ConnectorOrder, $a: String) { connectors(first: 2, after: $a, orderBy: $o) { edges { node { name } } pageInfo { endCursor hasNextPage } } }`,
				`query($o: ConnectorOrder, $a: String) { connectors(first: 2, after: $a, orderBy: $o) { edges { node { name } } pageInfo { endCursor hasNextPage } } viewer { scopes } }`, // gqlgen
			} {
				var got []string
				var after any
				for page := 0; page < 5; page++ {
					r := c.Do(t, query, map[string]any{"o": order, "a": after}).OK(t)
					for _, e := range r.List("connectors.edges") {
						got = append(got, e.(map[string]any)["node"].(map[string]any)["name"].(string))
					}
					if r.Get("connectors.pageInfo.hasNextPage") != true {
						break
					}
					after = r.String("connectors.pageInfo.endCursor")
				}
				if strings.Join(got, "|") != strings.Join(expect, "|") {
					t.Errorf("%s: %q, want %q", order, got, expect)
				}
			}
		}
	})
}
