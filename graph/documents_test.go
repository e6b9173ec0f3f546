package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/document"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/importer/testdocs"
	"github.com/plugboard/plugboard/internal/server"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

const (
	importOpenAPI = `mutation($c: ID!, $input: ImportInput!) { importOpenAPI(connectorId: $c, input: $input) {
	  warnings version { id name isPublished actions(first: 2000) { name method path description headers { name value } } } } }`
	importPostman = `mutation($c: ID!, $input: ImportInput!) { importPostmanCollection(connectorId: $c, input: $input) {
	  warnings version { id name actions { name path } } } }`
	compareVersions = `query($c: ID!, $from: String!, $to: String!) { compareVersions(connectorId: $c, from: $from, to: $to) {
	  breaking changes { kind path breaking description } } }`
	versionDocument = `query($c: ID!, $v: String!, $f: DocumentFormat) { connector(id: $c) { version(name: $v) { document(format: $f) } } }`
)

const shopV1 = `openapi: 3.0.3
info: {title: Shop, version: "1"}
servers: [{url: "https://shop.example.com/api"}]
components:
  securitySchemes:
    token: {type: http, scheme: bearer}
paths:
  /orders:
    get: {operationId: listOrders, summary: List orders, parameters: [{name: status, in: query, schema: {type: string}}]}
  /orders/{id}:
    get: {operationId: getOrder, summary: Get an order}
    delete: {operationId: deleteOrder, summary: Delete an order}
`

const shopJSON = `{"openapi": "3.0.3", "info": {"title": "Shop", "version": "1"}, "paths": {"/orders": {"get": {"operationId": "listOrders"}}}}`

func TestImportOpenAPI(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Shop", "protocolType": "HTTP"}).String("createConnector.id")
		before := snapshot(t, c, connector)
		for _, bad := range []string{"openapi: 3.0.0\npaths: [\n", `{"swagger": "2.0"}`, "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {/a: {get: {parameters: 7}}}",
			// JSON is read as JSON only (as YAML, `"x": ,` was a null), and info is required.
			strings.Replace(shopJSON, `"paths": {`, `"x": , "paths": {`, 1), "openapi: 3.0.3\npaths: {}\n"} {
			c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": bad, "versionName": "1.0"}}).ExpectError(t, "BAD_USER_INPUT", "document")
		}
		c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "latest"}}).ExpectError(t, "BAD_USER_INPUT", "versionName")
		if after := snapshot(t, c, connector); after != before || versionCount(t, c, connector) != 0 {
			t.Fatalf("a failed import changed the connector:\n%s\n%s", before, after)
		}

		// A failure after everything was written leaves nothing behind.
		h.Store.FailPoint = func(_ context.Context, point string) error {
			if point == "importDocument.written" {
				return errors.New("injected")
			}
			return nil
		}
		c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "1.0"}}).ExpectError(t, "INTERNAL_SERVER_ERROR", "")
		h.Store.FailPoint = nil
		if after := snapshot(t, c, connector); after != before || versionCount(t, c, connector) != 0 {
			t.Fatalf("a failed import changed the connector:\n%s\n%s", before, after)
		}

		r := c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "1.0"}}).OK(t)
		actions := r.List("importOpenAPI.version.actions")
		if len(actions) != 3 || r.String("importOpenAPI.version.actions.0.path") != "/orders?status={{status?}}" || r.Get("importOpenAPI.version.isPublished") != false {
			t.Fatalf("import into a new draft: %s", r.Body)
		}
		got := c.Do(t, `query($c: ID!) { connector(id: $c) { baseURL revision authSchemeConfigs { key schemeType } } }`, map[string]any{"c": connector}).OK(t)
		if got.String("connector.baseURL") != "https://shop.example.com/api" || got.String("connector.authSchemeConfigs.0.key") != "token" || got.Int("connector.revision") != 2 {
			t.Errorf("baseURL and configs added to a connector that had none: %s", got.Body)
		}

		// A hand edit, then a re-import of a changed document without one operation.
		draft := r.String("importOpenAPI.version.id")
		edited := []any{
			map[string]any{"name": "listOrders", "method": "GET", "path": "/orders?status={{status?}}", "description": "edited by hand"},
			map[string]any{"name": "deleteOrder", "method": "DELETE", "path": "/orders/{{id}}", "description": "Delete an order"},
			map[string]any{"name": "getOrder", "method": "GET", "path": "/orders/{{id}}", "description": "Get an order"},
			map[string]any{"name": "mine", "method": "GET", "path": "/mine"},
		}
		c.Do(t, `mutation($id: ID!, $in: UpdateVersionInput!) { updateVersion(id: $id, input: $in) { id } }`, map[string]any{"id": draft, "in": map[string]any{"name": "1.0", "actions": edited}}).OK(t)
		v2 := strings.Replace(strings.Replace(shopV1, "summary: List orders", "summary: List all orders", 1), "    delete: {operationId: deleteOrder, summary: Delete an order}\n", "", 1)
		v2 = strings.Replace(v2, "https://shop.example.com/api", "https://other.example.com", 1)
		r = c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": v2, "versionName": "1.0"}}).OK(t)
		warnings := r.JSON("importOpenAPI.warnings")
		if r.String("importOpenAPI.version.actions.0.description") != "edited by hand" || len(r.List("importOpenAPI.version.actions")) != 4 ||
			!strings.Contains(warnings, "edited by hand") || !strings.Contains(warnings, "deleteOrder") || !strings.Contains(warnings, "other.example.com") {
			t.Errorf("a re-import keeps hand edits, hand actions and operations gone, with warnings: %s", r.Body)
		}

		c.Do(t, `mutation($id: ID!) { publishVersion(id: $id) { id } }`, map[string]any{"id": draft}).OK(t)
		c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "1.0"}}).ExpectError(t, "CONFLICT", "")

		// Another organisation's connector is not found.
		h.NewOrg(t).Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "2.0"}}).ExpectError(t, "NOT_FOUND", "")
	})
}

func TestImportPostmanVariables(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Postman", "protocolType": "HTTP", "connectionVariables": []any{map[string]any{"name": "region", "value": "us"}, map[string]any{"name": "keep", "value": "1"}}}).String("createConnector.id")
		conn := c.Do(t, `mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "acme"}) { id } }`, map[string]any{"c": connector}).OK(t).String("createConnection.id")
		collection := `{"info": {"name": "S", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
		  "variable": [{"key": "base", "value": "https://s.example.com"}, {"key": "region", "value": "eu"}, {"key": "no good", "value": "x"}],
		  "item": [{"name": "F", "item": [{"name": "Get", "request": {"method": "GET", "url": "{{base}}/things/:id?r={{region}}"}}]}]}`
		r := c.Do(t, importPostman, map[string]any{"c": connector, "input": map[string]any{"document": collection, "versionName": "p1"}}).OK(t)
		if r.String("importPostmanCollection.version.actions.0.name") != "F / Get" || r.String("importPostmanCollection.version.actions.0.path") != "/things/{{id}}?r={{region}}" ||
			!strings.Contains(r.JSON("importPostmanCollection.warnings"), "no good") {
			t.Errorf("postman import: %s", r.Body)
		}
		vars := c.Do(t, `query($c: ID!, $k: ID!) { connector(id: $c) { connectionVariables { name value } } connection(id: $k) { variables { name value } } }`, map[string]any{"c": connector, "k": conn}).OK(t)
		if vars.JSON("connector.connectionVariables") != `[{"name":"region","value":"eu"},{"name":"keep","value":"1"},{"name":"base","value":"https://s.example.com"}]` ||
			vars.JSON("connection.variables") != `[{"name":"region","value":"us"},{"name":"keep","value":"1"}]` {
			t.Errorf("collection variables patch the connector's defaults, never connections': %s", vars.Body)
		}
	})
}

func TestDocumentRoundTripAndDiff(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Round trip")).String("createConnector.id")
		// HMAC configs (a preset with overrides, one that clears a preset's header) and
		// triggers travel with the document; the secrets of a connection never do.
		c.Do(t, createHmacConfig, map[string]any{"c": connector, "in": map[string]any{"id": "gh", "schemeType": "HMAC", "hmac": map[string]any{"preset": "GITHUB", "algorithm": "SHA512", "signaturePrefix": "sha512="}}}).OK(t)
		c.Do(t, createHmacConfig, map[string]any{"c": connector, "in": map[string]any{"id": "slack", "schemeType": "HMAC", "description": "Slack, no replay window", "hmac": map[string]any{"preset": "SLACK", "timestampHeader": "", "signedPayload": "v0:{body}"}}}).OK(t)
		c.Do(t, createTriggered, map[string]any{"c": connector, "in": map[string]any{"name": "1.0", "triggers": []any{
			map[string]any{"name": "push", "description": "GitHub pushes", "authSchemeConfigId": "gh"},
			map[string]any{"name": "slack events", "authSchemeConfigId": "slack"},
		}}}).OK(t)
		conn := c.Do(t, `mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "hooked"}) { id } }`, map[string]any{"c": connector}).OK(t).String("createConnection.id")
		c.Do(t, setTriggerSecret, map[string]any{"conn": conn, "in": map[string]any{"authSchemeConfigId": "gh", "kind": "TRIGGER", "values": []any{map[string]any{"name": "secret", "value": "trigger-secret-in-no-document"}}}}).OK(t)
		c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "1.0"}}).OK(t)
		configsOf := func(c *apitest.Client, id string) string {
			return c.Do(t, `query($c: ID!) { connector(id: $c) { authSchemeConfigs { key schemeType description `+hmacFields+` } version(name: "1.0") { triggers { name description authSchemeConfig { key } } } } }`, map[string]any{"c": id}).OK(t).JSON("connector")
		}
		wantConfigs := configsOf(c, connector)
		for _, f := range []string{"YAML", "JSON"} {
			exported := c.Do(t, versionDocument, map[string]any{"c": connector, "v": "1.0", "f": f}).OK(t).String("connector.version.document")
			doc, err := document.Parse([]byte(exported))
			if err != nil {
				t.Fatalf("%s: %v\n%s", f, err, exported)
			}
			other := h.NewOrg(t)
			applied, err := h.Store.ApplyConnector(t.Context(), other.OrgID, doc.Spec())
			if err != nil || !applied.Changed {
				t.Fatalf("apply into another organisation: %v %+v", err, applied)
			}
			again := other.Do(t, versionDocument, map[string]any{"c": applied.Connector.ID, "v": "1.0", "f": f}).OK(t).String("connector.version.document")
			if again != exported {
				t.Errorf("%s round trip differs:\n%s\n---\n%s", f, exported, again)
			}
			second, err := h.Store.ApplyConnector(t.Context(), other.OrgID, doc.Spec())
			if err != nil || second.Changed || second.Connector.Revision != applied.Connector.Revision {
				t.Errorf("applying twice wrote again: %v %+v", err, second)
			}
			if strings.Contains(exported, applied.Connector.ID) || strings.Contains(exported, connector) || strings.Contains(exported, "trigger-secret") {
				t.Errorf("a document holds ids or secrets:\n%s", exported)
			}
			for _, want := range []string{"push", "slack events", "sha512=", "SHA512", "v0:{body}"} {
				if !strings.Contains(exported, want) {
					t.Errorf("%s document misses %q:\n%s", f, want, exported)
				}
			}
			if got := configsOf(other, applied.Connector.ID); got != wantConfigs {
				t.Errorf("applied configs and triggers read back differently:\n%s\n%s", got, wantConfigs)
			}
		}

		// A trigger changed in the document: the draft takes it, a published version refuses.
		other := h.NewOrg(t)
		exported := c.Do(t, versionDocument, map[string]any{"c": connector, "v": "1.0", "f": "YAML"}).OK(t).String("connector.version.document")
		doc, err := document.Parse([]byte(exported))
		if err != nil {
			t.Fatal(err)
		}
		first, err := h.Store.ApplyConnector(t.Context(), other.OrgID, doc.Spec())
		if err != nil {
			t.Fatal(err)
		}
		doc.Version.Triggers[0].AuthSchemeConfig = "slack"
		if _, err := h.Store.ApplyConnector(t.Context(), other.OrgID, doc.Spec()); err != nil {
			t.Fatalf("a draft's trigger changed by apply: %v", err)
		}
		if got := other.Do(t, `query($c: ID!) { connector(id: $c) { version(name: "1.0") { triggers { authSchemeConfig { key } } } } }`, map[string]any{"c": first.Connector.ID}).OK(t).String("connector.version.triggers.0.authSchemeConfig.key"); got != "slack" {
			t.Errorf("apply rewrote the draft's trigger to %q", got)
		}
		doc.Version.Triggers[0].AuthSchemeConfig = "basic"
		_, err = h.Store.ApplyConnector(t.Context(), other.OrgID, doc.Spec())
		if domain.ErrorCode(err) != domain.CodeBadUserInput || !strings.Contains(err.Error(), "version.triggers[0].authSchemeConfigId:") {
			t.Errorf("a trigger on a BASIC config: %v", err)
		}
		doc.Version.Triggers[0].AuthSchemeConfig = "gh"
		doc.Version.Published = true
		if _, err := h.Store.ApplyConnector(t.Context(), other.OrgID, doc.Spec()); err != nil {
			t.Fatal(err)
		}
		doc.Version.Triggers = doc.Version.Triggers[1:]
		before := other.Do(t, `query($c: ID!) { connector(id: $c) { revision version(name: "1.0") { updatedAt triggers { name } } } }`, map[string]any{"c": first.Connector.ID}).OK(t).Body
		if _, err := h.Store.ApplyConnector(t.Context(), other.OrgID, doc.Spec()); domain.ErrorCode(err) != domain.CodeConflict || !strings.Contains(err.Error(), "triggers") {
			t.Errorf("a published version's triggers changed by apply: %v", err)
		}
		if after := other.Do(t, `query($c: ID!) { connector(id: $c) { revision version(name: "1.0") { updatedAt triggers { name } } } }`, map[string]any{"c": first.Connector.ID}).OK(t).Body; after != before {
			t.Errorf("a refused apply changed something:\n%s\n%s", before, after)
		}

		// Version 2 drops an action and changes a path: breaking for connections following the default.
		v1 := c.Do(t, `query($c: ID!) { connector(id: $c) { version(name: "1.0") { id } } }`, map[string]any{"c": connector}).OK(t).String("connector.version.id")
		c.Do(t, `mutation($id: ID!) { publishVersion(id: $id) { id } }`, map[string]any{"id": v1}).OK(t)
		c.Do(t, `mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "follows default"}) { id } }`, map[string]any{"c": connector}).OK(t)
		v2 := c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "2.0", "actions": []any{
			map[string]any{"name": "listOrders", "method": "GET", "path": "/orders?status={{status?}}&shop={{shop}}"},
			map[string]any{"name": "getOrder", "method": "GET", "path": "/v2/orders/{{id}}"},
		}}}).OK(t).String("createVersion.id")
		c.Do(t, `mutation($id: ID!) { publishVersion(id: $id) { id } }`, map[string]any{"id": v2}).OK(t)
		d := c.Do(t, compareVersions, map[string]any{"c": connector, "from": "default", "to": "latest"}).OK(t)
		paths := d.JSON("compareVersions.changes")
		for _, want := range []string{`actions[\"deleteOrder\"]`, `actions[\"getOrder\"].path`, `actions[\"listOrders\"].placeholders[\"shop\"]`} {
			if !strings.Contains(paths, want) {
				t.Errorf("diff misses %s: %s", want, paths)
			}
		}
		if d.Get("compareVersions.breaking") != true {
			t.Errorf("diff not breaking: %s", d.Body)
		}
		r := c.Do(t, `mutation($id: ID!) { setDefaultVersion(id: $id) { isDefault } }`, map[string]any{"id": v2}).ExpectError(t, "CONFLICT", "")
		if !strings.Contains(r.Message(), "deleteOrder") {
			t.Errorf("the CONFLICT names the breaking changes: %s", r.Message())
		}
		if c.Do(t, `mutation($id: ID!) { setDefaultVersion(id: $id, force: true) { isDefault } }`, map[string]any{"id": v2}).OK(t).Get("setDefaultVersion.isDefault") != true {
			t.Error("force makes it the default")
		}
	})
}

// TestImportGitHubOverHTTP sends GitHub's REST description (13 MB) as one request, on both
// databases; other operations keep the small body limit. The import takes about 3 s of CPU:
// the request timeout is lifted so that a busy test machine does not fail it (speed is
// measured by BenchmarkImportGitHub, not here).
func TestImportGitHubOverHTTP(t *testing.T) {
	github := string(testdocs.GitHub(t))
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{RequestTimeout: 10 * time.Minute}})
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "GitHub", "protocolType": "HTTP"}).String("createConnector.id")
		r := c.Do(t, `mutation($c: ID!, $input: ImportInput!) { importOpenAPI(connectorId: $c, input: $input) { version { id actions(first: 1) { name } } warnings } }`,
			map[string]any{"c": connector, "input": map[string]any{"document": github, "versionName": "2026-11"}}).OK(t)
		n := c.Do(t, `query($c: ID!) { connector(id: $c) { baseURL version(name: "2026-11") { actions(first: 2000) { name } } } }`, map[string]any{"c": connector}).OK(t)
		if got := len(n.List("connector.version.actions")); got < 1000 || n.String("connector.baseURL") != "https://api.github.com" {
			t.Errorf("GitHub's description imported %d actions, base %s; warnings %s", got, n.String("connector.baseURL"), r.JSON("importOpenAPI.warnings"))
		}
		big := c.Do(t, `query($pad: String) { viewer { scopes } }`, map[string]any{"pad": github[:2<<20]})
		if big.Status != 413 || big.Code() != "BAD_USER_INPUT" {
			t.Errorf("a large body for another operation: %d %s", big.Status, big.Body[:min(200, len(big.Body))])
		}
	})
}

// TestOptionalPlaceholders: {{name?}} without a value drops its query parameter or header; a
// plain {{name}} stays required.
func TestOptionalPlaceholders(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		api := newAPIServer(t, false, nil)
		c := h.NewOrg(t)
		_, conn := actionFixture(t, c, api.URL, nil, []any{map[string]any{"name": "list", "method": "GET",
			"path":    "/orders?status={{status?}}&limit={{limit}}&tenant={{tenant}}",
			"headers": []any{map[string]any{"name": "X-Trace", "value": "{{trace?}}"}, map[string]any{"name": "X-Region", "value": "{{region}}"}}}}, nil)
		c.Do(t, executeAction, map[string]any{"c": conn, "a": "list", "in": map[string]any{"limit": 5}}).OK(t)
		if s := api.last(); s.Query != "limit=5&tenant=acme" || s.Header.Get("X-Trace") != "" || len(s.Header.Values("X-Trace")) != 0 || s.Header.Get("X-Region") != "eu" {
			t.Errorf("unvalued optional parameter and header dropped: %+v", s)
		}
		c.Do(t, executeAction, map[string]any{"c": conn, "a": "list", "in": map[string]any{"limit": 5, "status": "open", "trace": "t1"}}).OK(t)
		if s := api.last(); s.Query != "status=open&limit=5&tenant=acme" || s.Header.Get("X-Trace") != "t1" {
			t.Errorf("valued optional parameter and header sent: %+v", s)
		}
		c.Do(t, executeAction, map[string]any{"c": conn, "a": "list"}).ExpectError(t, "BAD_USER_INPUT", "input")
	})
}

// TestImportLimits: a document over 16 MiB is BAD_USER_INPUT (LIMIT_EXCEEDED) on document, a
// body over 20 MiB is 413, and a document with more operations than a version holds changes
// nothing.
func TestImportLimits(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Limits", "protocolType": "HTTP"}).String("createConnector.id")
		before := snapshot(t, c, connector)
		huge := "openapi: 3.0.3\n#" + strings.Repeat("x", 16<<20)
		r := c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": huge, "versionName": "1"}}).ExpectError(t, "BAD_USER_INPUT", "document")
		if r.Errors[0].Extensions["reason"] != "LIMIT_EXCEEDED" {
			t.Errorf("a document over 16 MiB: %s", r.Body[:min(300, len(r.Body))])
		}
		tooBig := c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": huge + strings.Repeat("y", 5<<20), "versionName": "1"}})
		if tooBig.Status != 413 || tooBig.Code() != "BAD_USER_INPUT" {
			t.Errorf("a body over 20 MiB: %d %s", tooBig.Status, tooBig.Body[:min(300, len(tooBig.Body))])
		}
		var many strings.Builder
		many.WriteString("openapi: 3.0.3\ninfo: {title: many, version: '1'}\npaths:\n")
		for i := range 2001 {
			fmt.Fprintf(&many, "  /r%d: {get: {operationId: op%d}}\n", i, i)
		}
		c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": many.String(), "versionName": "1"}}).ExpectError(t, "BAD_USER_INPUT", "document")
		if after := snapshot(t, c, connector); after != before || versionCount(t, c, connector) != 0 {
			t.Errorf("a refused import changed the connector:\n%s\n%s", before, after)
		}
	})
}

func versionCount(t *testing.T, c *apitest.Client, connector string) int {
	t.Helper()
	return c.Do(t, `query($c: ID!) { connector(id: $c) { versions { totalCount } } }`, map[string]any{"c": connector}).OK(t).Int("connector.versions.totalCount")
}

// TestActionsPricedAsAFullVersion: actions without first cost 2,000 each in the complexity
// limit, so listing many versions' actions needs first.
func TestActionsPricedAsAFullVersion(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Priced", "protocolType": "HTTP"}).String("createConnector.id")
		c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "1", "actions": []any{usersAction(), getAction("two", "/two")}}}).OK(t)
		all := `query($c: ID!) { connector(id: $c) { versions(first: 50) { nodes { actions { name path } } } } }`
		if r := c.Do(t, all, map[string]any{"c": connector}); r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("every action of 50 versions: %s", r.Body)
		}
		r := c.Do(t, `query($c: ID!) { connector(id: $c) { versions(first: 50) { nodes { actions(first: 1) { name } } } } }`, map[string]any{"c": connector}).OK(t)
		if r.JSON("connector.versions.nodes.0.actions") != `[{"name":"List users"}]` {
			t.Errorf("actions(first: 1): %s", r.Body)
		}
		c.Do(t, `query($c: ID!) { connector(id: $c) { version(name: "1") { actions(first: -1) { name } } } }`, map[string]any{"c": connector}).ExpectError(t, "BAD_USER_INPUT", "first")
	})
}

// TestImportTurnAndDeadline: an import that finds another one running is refused at once with
// RATE_LIMITED and retryAfter (not failed late), and an import past the request's deadline
// answers then and writes nothing.
func TestImportTurnAndDeadline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{RequestTimeout: 2 * time.Second}})
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Shop", "protocolType": "HTTP"}).String("createConnector.id")
		entered, release := make(chan struct{}), make(chan struct{})
		h.Store.FailPoint = func(ctx context.Context, point string) error {
			if point != "importDocument.written" {
				return nil
			}
			close(entered)
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
			return ctx.Err()
		}
		first := make(chan *apitest.Response, 1)
		go func() {
			first <- c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "1.0"}})
		}()
		<-entered
		r := c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "2.0"}}).ExpectError(t, "RATE_LIMITED", "")
		if !strings.Contains(r.Body, `"retryAfter":`) {
			t.Errorf("a refused import says when to come back: %s", r.Body)
		}
		// The first import holds the write past its 2 s deadline: it answers with the
		// timeout, and its transaction is rolled back.
		select {
		case r := <-first:
			if r.Code() != "INTERNAL_SERVER_ERROR" || !strings.Contains(r.Body, "longer than the server allows") {
				t.Errorf("an import past its deadline: %s", r.Body)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("an import past its deadline did not answer")
		}
		close(release)
		h.Store.FailPoint = nil
		if n := versionCount(t, c, connector); n != 0 {
			t.Errorf("an import past its deadline wrote %d versions", n)
		}
		// The turn is free again once the first import's work has stopped.
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "1.0"}})
			if r.Code() == "" {
				break
			}
			if r.Code() != "RATE_LIMITED" || time.Now().After(deadline) {
				t.Fatalf("import after the turn was freed: %s", r.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestImportNUL: a \u0000 escape inside a document is a NUL once parsed; both imports refuse
// it with BAD_USER_INPUT on document, saying where, on both databases, and write nothing.
func TestImportNUL(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Shop", "protocolType": "HTTP"}).String("createConnector.id")
		before := snapshot(t, c, connector)
		const postman = `{"info": {"name": "S", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"}, %s}`
		for _, tc := range []struct{ mutation, doc, where string }{
			{importOpenAPI, `{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": {"operationId": "a\u0000b"}}}}`, "operationId"},
			{importOpenAPI, `{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": {"operationId": "a", "description": "x\u0000"}}}}`, "description"},
			{importOpenAPI, `{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "components": {"securitySchemes": {"t": {"type": "http", "scheme": "bearer", "description": "t\u0000"}}}, "paths": {}}`, "securitySchemes[0].description"},
			{importPostman, fmt.Sprintf(postman, `"item": [{"name": "G\u0000", "request": {"method": "GET", "url": "https://x.example.com/a"}}]`), "name"},
			{importPostman, fmt.Sprintf(postman, `"variable": [{"key": "v", "value": "a\u0000"}], "item": []`), "variables[0].value"},
		} {
			r := c.Do(t, tc.mutation, map[string]any{"c": connector, "input": map[string]any{"document": tc.doc, "versionName": "1.0"}}).ExpectError(t, "BAD_USER_INPUT", "document")
			if !strings.Contains(r.Message(), tc.where) || !strings.Contains(r.Message(), "NUL") {
				t.Errorf("%s: the error says where: %s", tc.doc, r.Message())
			}
		}
		if after := snapshot(t, c, connector); after != before || versionCount(t, c, connector) != 0 {
			t.Fatalf("a refused import changed the connector:\n%s\n%s", before, after)
		}
	})
}

// TestImportPostmanAuthAndQuery: a folder's auth makes a config like a collection's, disabled
// query parameters are left out like disabled headers, and a collection variable that auth
// uses as a credential never becomes a default variable (a document never holds a secret).
func TestImportPostmanAuthAndQuery(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Postman", "protocolType": "HTTP"}).String("createConnector.id")
		collection := `{"info": {"name": "S", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
		  "variable": [{"key": "base", "value": "https://s.example.com"}, {"key": "token", "value": "s3cr3t-token"}, {"key": "region", "value": "eu"}],
		  "item": [{"name": "F", "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]},
		    "item": [{"name": "Get", "request": {"method": "GET", "url": {"raw": "{{base}}/things?a=1&b=2&r={{region}}",
		      "query": [{"key": "a", "value": "1"}, {"key": "b", "value": "2", "disabled": true}, {"key": "r", "value": "{{region}}"}]}}}]}]}`
		r := c.Do(t, importPostman, map[string]any{"c": connector, "input": map[string]any{"document": collection, "versionName": "p1"}}).OK(t)
		warnings := r.JSON("importPostmanCollection.warnings")
		if r.String("importPostmanCollection.version.actions.0.path") != "/things?a=1&r={{region}}" || !strings.Contains(warnings, `\"token\"`) || !strings.Contains(warnings, "credential") {
			t.Errorf("postman import: %s", r.Body)
		}
		got := c.Do(t, `query($c: ID!, $v: String!) { connector(id: $c) { connectionVariables { name value } authSchemeConfigs { key schemeType } version(name: $v) { document } } }`, map[string]any{"c": connector, "v": "p1"}).OK(t)
		if got.JSON("connector.connectionVariables") != `[{"name":"base","value":"https://s.example.com"},{"name":"region","value":"eu"}]` ||
			got.JSON("connector.authSchemeConfigs") != `[{"key":"bearer","schemeType":"BEARER"}]` || strings.Contains(got.Body, "s3cr3t") {
			t.Errorf("folder auth makes a config, and the token is no default variable: %s", got.Body)
		}
	})
}

// TestReimportIdenticalWritesNothing: importing the same document again changes nothing, so
// it writes nothing: the draft's updatedAt and the connector's revision stay.
func TestReimportIdenticalWritesNothing(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Shop", "protocolType": "HTTP"}).String("createConnector.id")
		const read = `query($c: ID!) { connector(id: $c) { revision updatedAt version(name: "1.0") { updatedAt actions { name path } } } }`
		c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "1.0"}}).OK(t)
		before := c.Do(t, read, map[string]any{"c": connector}).OK(t).Body
		time.Sleep(20 * time.Millisecond) // so that a write would show in the timestamps
		c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": shopV1, "versionName": "1.0"}}).OK(t)
		if after := c.Do(t, read, map[string]any{"c": connector}).OK(t).Body; after != before {
			t.Errorf("an identical re-import wrote:\n%s\n%s", before, after)
		}
	})
}

// TestOptionalPlaceholderEdges: a null input value is no value (its optional parameter is
// left out), a query whose parameters are all optional and unset leaves no bare "?", and
// {{name?}} in a body template is refused like in a path.
func TestOptionalPlaceholderEdges(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		var (
			mu   sync.Mutex
			uris []string
		)
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			uris = append(uris, r.RequestURI)
			mu.Unlock()
			fmt.Fprint(w, "{}")
		}))
		t.Cleanup(api.Close)
		c := h.NewOrg(t)
		_, conn := actionFixture(t, c, api.URL, nil, []any{
			map[string]any{"name": "list", "method": "GET", "path": "/a?x=pre{{x?}}&y={{y?}}"},
			map[string]any{"name": "expand", "method": "GET", "path": "/b?expand={{expand?}}&t={{tenant}}"},
		}, nil)
		c.Do(t, executeAction, map[string]any{"c": conn, "a": "list"}).OK(t)
		c.Do(t, executeAction, map[string]any{"c": conn, "a": "list", "in": map[string]any{"y": "2"}}).OK(t)
		c.Do(t, executeAction, map[string]any{"c": conn, "a": "expand", "in": map[string]any{"expand": nil}}).OK(t)
		mu.Lock()
		got := strings.Join(uris, " ")
		mu.Unlock()
		if got != "/a /a?y=2 /b?t=acme" {
			t.Errorf("requests sent: %s", got)
		}
		connector := mustCreate(t, c, map[string]any{"name": "Body", "protocolType": "HTTP"}).String("createConnector.id")
		c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "1", "actions": []any{
			map[string]any{"name": "post", "method": "POST", "path": "/p", "bodyTemplate": `{"a": "{{a?}}"}`}}}}).ExpectError(t, "BAD_USER_INPUT", "actions[0].bodyTemplate")
	})
}

// TestImportSilentChangesWarn: a name or description cut to its limit and a name given a
// suffix because another compares equal are each a warning, not a silent change.
func TestImportSilentChangesWarn(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": "Shop", "protocolType": "HTTP"}).String("createConnector.id")
		long, text := strings.Repeat("n", 140), strings.Repeat("d", 4100)
		doc := fmt.Sprintf(`{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {
		  "/a": {"get": {"operationId": %q}, "post": {"operationId": "getThing", "description": %q}},
		  "/b": {"get": {"operationId": "GetThing"}}}}`, long, text)
		r := c.Do(t, importOpenAPI, map[string]any{"c": connector, "input": map[string]any{"document": doc, "versionName": "1.0"}}).OK(t)
		warnings := r.JSON("importOpenAPI.warnings")
		for _, want := range []string{"name was cut to 128 characters (from 140)", "description was cut to 4000 characters (from 4100)", `was named \"GetThing (2)\"`} {
			if !strings.Contains(warnings, want) {
				t.Errorf("no warning %q: %s", want, warnings)
			}
		}
	})
}
