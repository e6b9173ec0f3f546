package graph_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/server"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// directFixture creates connectors, versions and connections using every field the direct
// executor writes, with text that needs escaping, and returns their ids.
func directFixture(t *testing.T, c *apitest.Client) (connectors, connections []string) {
	t.Helper()
	odd := "quote \" backslash \\ tab \t newline \n bell \x07 unicode é 😀 <>&"
	for i, name := range []string{"Zeta", "alpha", "Mid \"quoted\"", "beta", "Gamma"} {
		in := fullConnector(name)
		in["description"] = odd
		if i == 1 {
			in["protocolType"] = "BIGQUERY"
			for _, k := range []string{"description", "documentationURL", "iconURL", "baseURL", "categories"} {
				delete(in, k)
			}
		}
		in["authSchemeConfigs"] = append(in["authSchemeConfigs"].([]any), map[string]any{
			"id": "oauth", "schemeType": "OAUTH2", "description": odd, "verifySSL": false,
			"oauth2": map[string]any{"grant": "CLIENT_CREDENTIALS", "tokenURL": "https://idp.example.com/token", "scopes": []any{"a", "b"}, "audience": "aud"},
		}, map[string]any{"id": "incomplete", "schemeType": "OAUTH2", "oauth2": map[string]any{}})
		id := mustCreate(t, c, in).String("createConnector.id")
		connectors = append(connectors, id)
		for v := 0; v < i; v++ {
			r := c.Do(t, createVersion, map[string]any{"c": id, "input": map[string]any{"name": "v" + string(rune('1'+v)), "description": odd + string(rune('a'+v)), "actions": []any{
				usersAction(),
				map[string]any{"name": "Create", "purpose": "Create", "method": "POST", "path": "users", "bodyTemplate": `{"name": "{{name}}"}`},
			}}}).OK(t)
			if v%2 == 0 {
				c.Do(t, publishVersion, map[string]any{"id": r.String("createVersion.id")}).OK(t)
			}
		}
		for k := 0; k < i%3+1; k++ {
			in := map[string]any{"name": name + " connection " + string(rune('a'+k)), "variables": vars("Extra", odd)}
			if k == 1 && i > 0 {
				in["versionName"] = "v1"
			}
			connections = append(connections, c.Do(t, createConnection, map[string]any{"c": id, "input": in}).OK(t).String("createConnection.id"))
		}
	}
	return connectors, connections
}

// directAndGqlgen serves st twice, with and without the direct executor, and makes the fixture:
// a client with every scope, its connectors and connections, and a key holding keys:manage only.
func directAndGqlgen(t *testing.T, st *store.Store) (direct, gqlgen *apitest.Harness, c *apitest.Client, connectors, connections []string, keysOnly *apitest.Client) {
	t.Helper()
	// These tests compare the executors, not prices: with actions priced as a full version
	// (2,000), every field of 50 connectors is far over the complexity limit.
	direct = apitest.NewWithOptions(t, st, apitest.Options{Limits: unpriced})
	gqlgen = apitest.NewWithOptions(t, st, apitest.Options{NoDirectReads: true, Limits: unpriced})
	c = direct.NewOrg(t)
	connectors, connections = directFixture(t, c)
	return direct, gqlgen, c, connectors, connections, direct.NewKey(t, c.OrgID, domain.ScopeKeysManage)
}

// TestDirectMatchesGqlgen sends every read to a server with the direct executor and to one
// without it, over the same store, and wants the same bytes; the direct one must have answered
// the reads it knows and left the others to gqlgen.
func TestDirectMatchesGqlgen(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		direct, gqlgen, c, connectors, connections, keysOnly := directAndGqlgen(t, st)
		readOnly := direct.NewKey(t, c.OrgID, domain.ScopeConnectorsRead)
		foreign := direct.NewOrg(t)
		page := c.Do(t, `{ connectors(first: 2, orderBy: NAME_ASC) { pageInfo { endCursor } } }`, nil).OK(t).String("connectors.pageInfo.endCursor")
		versions := c.Do(t, `query($id: ID!) { connector(id: $id) { versions(first: 1) { pageInfo { endCursor } } } }`,
			map[string]any{"id": connectors[4]}).OK(t).String("connector.versions.pageInfo.endCursor")

		full := `id organisationId name description protocolType documentationURL iconURL baseURL categories
		  authSchemeConfigs { id description schemeType verifySSL validationMessages apiKey { in name }
		    oauth2 { grant tokenURL authorizeURL scopes audience authorizationPrefix headerAuthorization } }
		  connectionVariables { name value } revision createdAt updatedAt
		  versions(first: 10) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ` + versionFields + ` } } }
		  connections { totalCount pageInfo { hasNextPage endCursor } nodes { id connectorId name versionName variables { name value } revision createdAt updatedAt } }`
		latest := `latest: version(name: "latest") { id name actions { name headers { name value } } }`
		ordersAndFilters := `query($f: ConnectorFilter, $o: ConnectorOrder, $n: Int) { connectors(filter: $f, orderBy: $o, first: $n) {
			  totalCount pageInfo { hasNextPage endCursor } nodes { name categories protocolType } } }`
		fragments := `query($id: ID!, $yes: Boolean!, $no: Boolean!) {
			  __typename
			  first: connector(id: $id) { ...parts __typename name nick: name
			    ... on Connector { revision versions { __typename edges { __typename node { __typename id } } pageInfo { __typename } } }
			    skipped: name @skip(if: $yes) included: name @include(if: $yes) gone: id @include(if: $no) }
			  second: connectors(first: 2) { __typename nodes { ...parts } }
			}
			fragment parts on Connector { id name authSchemeConfigs { __typename id apiKey { __typename in } oauth2 { __typename grant } } connectionVariables { __typename name } }`
		cases := []struct {
			name   string
			client *apitest.Client
			query  string
			vars   map[string]any
			direct bool
		}{
			{"OneEveryField", c, `query($id: ID!) { connector(id: $id) { ` + full + latest + ` } }`, map[string]any{"id": connectors[4]}, true},
			{"OneBench", c, `query($id: ID!) { connector(id: $id) { id name protocolType baseURL documentationURL iconURL createdAt updatedAt
			  versions(first: 5) { nodes { id name description isLatest isDefault publishedAt } } } }`, map[string]any{"id": connectors[2]}, true},
			{"OneWithoutVersions", c, `query($id: ID!) { connector(id: $id) { name versions(first: 3) { totalCount nodes { id } pageInfo { hasNextPage endCursor } }
			  none: versions(first: 0) { nodes { id } } } }`, map[string]any{"id": connectors[0]}, true},
			{"OneVersionsPaged", c, `query($id: ID!) { connector(id: $id) { versions(first: 2) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } } }`,
				map[string]any{"id": connectors[4]}, true},
			{"OneNulls", c, `query($id: ID!) { connector(id: $id) { ` + full + ` } }`, map[string]any{"id": connectors[1]}, true},
			{"ListEveryField", c, `{ connectors(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ` + full + ` } } } }`, nil, true},
			{"ListBench", c, `{ connectors(orderBy: NAME_ASC, first: 50) { nodes { id name protocolType baseURL
			  versions(first: 5) { nodes { name isLatest isDefault } } connections(first: 4) { nodes { name variables { name value } } } } } }`, nil, true},
			{"ListOrdersAndFilters", c, ordersAndFilters,
				map[string]any{"f": map[string]any{"nameContains": "A", "categories": []any{"finance", "x"}, "protocolType": "HTTP"}, "o": "NAME_DESC", "n": 2}, true},
			{"ListUpdatedOrder", c, `{ a: connectors(orderBy: UPDATED_AT_DESC) { nodes { name } } b: connectors(orderBy: CREATED_AT_ASC, filter: {protocolType: BIGQUERY}) { nodes { name } } }`, nil, true},
			{"ListAfterCursor", c, `query($after: String) { connectors(first: 2, orderBy: NAME_ASC, after: $after) {
			  edges { cursor node { name versions(first: 1) { nodes { name } } } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": page}, true},
			{"NestedAfterCursor", c, `query($after: String) { connectors { nodes { name versions(first: 1, after: $after) { nodes { name } pageInfo { hasNextPage } } } } }`,
				map[string]any{"after": versions}, true},
			{"EmptyPages", c, `{ connectors(first: 0) { totalCount nodes { id } edges { cursor } pageInfo { hasNextPage endCursor } }
			  more: connectors(first: 3) { nodes { versions(first: 0) { nodes { id } pageInfo { hasNextPage endCursor } } connections(first: 0) { totalCount nodes { id } } } } }`, nil, true},
			{"FragmentsAliasesTypenames", c, fragments,
				map[string]any{"id": connectors[3], "yes": true, "no": false}, true},
			// The same texts again with other variables: plans are kept per operation, and per
			// values of the variables of @skip and @include; page arguments are read per run.
			{"FragmentsConditionsFlipped", c, fragments, map[string]any{"id": connectors[2], "yes": false, "no": true}, true},
			{"ListOrdersAndFiltersAgain", c, ordersAndFilters, map[string]any{"f": map[string]any{"protocolType": "HTTP"}, "o": "NAME_ASC", "n": 3}, true},
			{"Connection", c, `query($id: ID!) { connection(id: $id) { __typename id connectorId name versionName variables { name value } revision createdAt updatedAt } }`,
				map[string]any{"id": connections[2]}, true},
			// Parts nobody selects are not read; the parts selected anywhere are read for all.
			{"PrunedParts", c, `query($id: ID!) { connector(id: $id) { name versions(first: 3) { nodes { name } } } connectors(first: 4) { nodes { id name
			  versions(first: 2) { nodes { id name } } connections(first: 2) { nodes { id name } } } } }`, map[string]any{"id": connectors[4]}, true},
			{"PrunedPartsUnion", c, `query($id: ID!) { one: connector(id: $id) { versions(first: 3) { nodes { name } } }
			  a: connectors(first: 4) { nodes { name versions(first: 2) { nodes { name } } connections(first: 2) { nodes { name } } } }
			  b: connectors(first: 4) { nodes { description categories authSchemeConfigs { id } connectionVariables { name }
			    versions(first: 2) { nodes { description actions { name } } } connections(first: 2) { nodes { versionName variables { value } } } } } }`,
				map[string]any{"id": connectors[4]}, true},
			// A page's first nested pages are read with it (on PostgreSQL in its own statement).
			{"ListNestedNextPages", c, `{ connectors(first: 5, orderBy: NAME_DESC) { nodes { name
			  versions(first: 2) { pageInfo { hasNextPage endCursor } edges { cursor node { id name isPublished publishedAt } } }
			  connections(first: 1) { pageInfo { hasNextPage } nodes { name versionName revision createdAt } } } } }`, nil, true},
			{"ListTwoNestedPages", c, `{ connectors(first: 5) { edges { node { name a: versions(first: 1) { nodes { name } } b: versions(first: 3) { nodes { name } pageInfo { hasNextPage } }
			  c: connections(first: 2) { nodes { name } } d: connections { nodes { id } } } } } }`, nil, true},
			// Each meta field alone (the parts are the operation's union).
			{"ListMetaIsPublished", c, `{ connectors(first: 5) { nodes { versions { nodes { name isPublished } } } } }`, nil, true},
			{"ListMetaRevision", c, `{ connectors(first: 5) { nodes { connections { nodes { revision } } } } }`, nil, true},
			{"ListMetaTimes", c, `{ connectors(first: 5, orderBy: NAME_DESC) { nodes { versions(first: 3) { nodes { updatedAt } } connections(first: 3) { nodes { createdAt } } } } }`, nil, true},
			{"ListMetaIDs", c, `{ connectors(first: 5) { nodes { versions(first: 3) { nodes { id } } connections(first: 3) { nodes { id } } } } }`, nil, true},
			{"ListOneConnector", c, `{ connectors(first: 1, orderBy: CREATED_AT_ASC) { nodes { name versions { nodes { name } } connections { nodes { name } } } } }`, nil, true},
			{"ReadOnlyKey", readOnly, `{ connectors(first: 3) { nodes { name } } }`, nil, true},

			// Left to gqlgen: errors, fields the direct executor does not know, missing scopes.
			{"MissingConnector", c, `query($id: ID!) { connector(id: $id) { id } }`, map[string]any{"id": "00000000-0000-0000-0000-000000000000"}, false},
			{"MissingConnectorWithVersions", c, `query($id: ID!) { connector(id: $id) { id versions { nodes { id } } } }`, map[string]any{"id": "00000000-0000-0000-0000-000000000000"}, false},
			{"ForeignConnectorWithVersions", foreign, `query($id: ID!) { connector(id: $id) { id versions { nodes { id } } } }`, map[string]any{"id": connectors[4]}, false},
			{"ForeignConnector", foreign, `query($id: ID!) { connector(id: $id) { id } }`, map[string]any{"id": connectors[0]}, false},
			{"ListNoLatestVersion", c, `{ connectors { nodes { name ` + latest + ` } } }`, nil, false},
			{"MissingVersion", c, `query($id: ID!) { connector(id: $id) { name version(name: "nope") { id } } }`, map[string]any{"id": connectors[0]}, false},
			{"PageTooLarge", c, `{ connectors(first: 500) { nodes { id } } }`, nil, false},
			{"BadCursor", c, `{ connectors(after: "not a cursor") { nodes { id } } }`, nil, false},
			{"Credentials", c, `query($id: ID!) { connection(id: $id) { name credentials { id } } }`, map[string]any{"id": connections[0]}, false},
			{"ConnectionVersion", c, `query($id: ID!) { connection(id: $id) { name version { name } } }`, map[string]any{"id": connections[1]}, false},
			{"Viewer", c, `{ viewer { scopes } connectors { nodes { id } } }`, nil, false},
			{"NoScope", keysOnly, `{ connectors { nodes { id } } }`, nil, false},
			{"Introspection", c, `{ __schema { queryType { name } } }`, nil, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := tc.client.Do(t, tc.query, tc.vars)
				want := tc.client.On(gqlgen).Do(t, tc.query, tc.vars)
				if got.Body != want.Body || got.Status != want.Status {
					t.Fatalf("direct answered\n%d %s\ngqlgen answered\n%d %s", got.Status, got.Body, want.Status, want.Body)
				}
				if tc.direct && len(got.Errors) > 0 {
					t.Fatalf("want data, got %s", got.Body)
				}
				if answered := strings.Contains(got.RequestLog(t), `"executor":"direct"`); answered != tc.direct {
					t.Fatalf("direct executor answered: %v, want %v (%s)", answered, tc.direct, got.Body)
				}
			})
		}
	})
}

// TestDirectConcurrentResponses reads concurrently through the direct executor, whose output
// buffers are recycled once written: every response must stay the one its request asked for.
func TestDirectConcurrentResponses(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Limits: unpriced})
		c := h.NewOrg(t)
		connectors, _ := directFixture(t, c)
		type read struct {
			query string
			vars  map[string]any
		}
		reads := []read{{`{ connectors(first: 5) { nodes { name description versions { nodes { name actions { name } } } connections { nodes { variables { value } } } } } }`, nil}}
		for _, id := range connectors {
			reads = append(reads, read{`query($id: ID!) { connector(id: $id) { id name versions(first: 3) { nodes { id name } } } }`, map[string]any{"id": id}})
		}
		want := make([]string, len(reads))
		for i, r := range reads {
			want[i] = c.Do(t, r.query, r.vars).OK(t).Body
		}
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for k := 0; k < 30; k++ {
					i := (g + k) % len(reads)
					if got := c.Do(t, reads[i].query, reads[i].vars).Body; got != want[i] {
						errs <- got
						return
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for got := range errs {
			t.Fatalf("a concurrent read got another answer: %s", got)
		}
	})
}

// TestDirectFallsBackOnNullCondition: a null `if` of @skip/@include (a nullable variable given
// null) made graphql.CollectFields panic while the direct executor planned, and nothing
// recovered: HTTP 500 where gqlgen answers a field error, hiding FORBIDDEN and NOT_FOUND too.
// Any failure of the direct executor must leave the answer to gqlgen, byte for byte, and must
// not stay in the plan cache: the same text with a boolean is still answered directly.
func TestDirectFallsBackOnNullCondition(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		_, gqlgen, c, connectors, _, keysOnly := directAndGqlgen(t, st)
		list := `query($s: Boolean = false) { connectors(first: 1) { nodes { id @skip(if: $s) } } }`
		one := `query($s: Boolean = false, $id: ID!) { connector(id: $id) { name @include(if: $s) versions { nodes { id @skip(if: $s) } } } }`
		null := map[string]any{"s": nil}
		cases := []struct {
			name   string
			client *apitest.Client
			query  string
			vars   map[string]any
			direct bool
		}{
			{"List", c, list, null, false},
			{"ListAnsweredDirectlyWithABoolean", c, list, map[string]any{"s": true}, true},
			{"ListAgain", c, list, null, false},
			{"Forbidden", keysOnly, list, null, false},
			{"NotFound", c, one, map[string]any{"s": nil, "id": "00000000-0000-0000-0000-000000000000"}, false},
			{"Found", c, one, map[string]any{"s": nil, "id": connectors[4]}, false},
			{"FoundWithABoolean", c, one, map[string]any{"s": true, "id": connectors[4]}, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := tc.client.Do(t, tc.query, tc.vars)
				want := tc.client.On(gqlgen).Do(t, tc.query, tc.vars)
				// The null condition is refused before either executor runs (see the server's
				// conditionValues); request ids differ between any two answers.
				same := func(body string) string { return requestIDs.ReplaceAllString(body, `"requestId":""`) }
				if same(got.Body) != same(want.Body) || got.Status != want.Status {
					t.Fatalf("direct answered\n%d %s\ngqlgen answered\n%d %s", got.Status, got.Body, want.Status, want.Body)
				}
				if got.Status != http.StatusOK {
					t.Fatalf("want a field error or data, got %d %s", got.Status, got.Body)
				}
				if answered := strings.Contains(got.RequestLog(t), `"executor":"direct"`); answered != tc.direct {
					t.Fatalf("direct executor answered: %v, want %v (%s)", answered, tc.direct, got.Body)
				}
			})
		}
	})
}

// unpriced lifts the complexity limit for tests about something else.
var unpriced = server.Limits{MaxComplexity: 1 << 30}
