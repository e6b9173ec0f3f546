package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
)

// connectorFields selects every field of a connector, so that "nothing changed" compares all.
const connectorFields = `id organisationId name description protocolType documentationURL iconURL baseURL categories
  authSchemeConfigs { id key description schemeType verifySSL validationMessages
    apiKey { in name }
    oauth2 { grant tokenURL authorizeURL scopes audience authorizationPrefix headerAuthorization } }
  connectionVariables { name value } revision createdAt updatedAt`

var (
	createConnector = `mutation($input: CreateConnectorInput!) { createConnector(input: $input) { ` + connectorFields + ` } }`
	updateConnector = `mutation($id: ID!, $input: UpdateConnectorInput!, $rev: Int) {
	  updateConnector(id: $id, input: $input, expectedRevision: $rev) { ` + connectorFields + ` } }`
	getConnector = `query($id: ID!) { connector(id: $id) { ` + connectorFields + ` } }`
)

// fullConnector is a create input using every field.
func fullConnector(name string) map[string]any {
	return map[string]any{
		"name":             name,
		"description":      "Payments API",
		"protocolType":     "HTTP",
		"documentationURL": "https://docs.example.com",
		"iconURL":          "https://example.com/icon.png",
		"baseURL":          "https://api.example.com/v1",
		"categories":       []any{"payments", "finance"},
		"authSchemeConfigs": []any{
			map[string]any{"id": "basic", "schemeType": "BASIC"},
			map[string]any{"id": "key", "schemeType": "API_KEY", "apiKey": map[string]any{"in": "QUERY", "name": "api_key"}},
		},
		"connectionVariables": []any{
			map[string]any{"name": "Region", "value": "eu"},
			map[string]any{"name": "Timeout", "value": "30s"},
		},
	}
}

func mustCreate(t *testing.T, c *apitest.Client, input map[string]any) *apitest.Response {
	t.Helper()
	return c.Do(t, createConnector, map[string]any{"input": input}).OK(t)
}

// snapshot reads a connector as the API shows it, for "nothing changed" checks.
func snapshot(t *testing.T, c *apitest.Client, id string) string {
	t.Helper()
	return c.Do(t, getConnector, map[string]any{"id": id}).OK(t).JSON("connector")
}

func TestCreateConnector(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		t.Run("OK", func(t *testing.T) {
			r := mustCreate(t, c, fullConnector("Stripe"))
			if r.Int("createConnector.revision") != 1 || r.String("createConnector.organisationId") != c.OrgID {
				t.Fatalf("unexpected connector: %s", r.Body)
			}
			if got := r.JSON("createConnector.categories"); got != `["payments","finance"]` {
				t.Errorf("categories = %s", got)
			}
			if got := r.JSON("createConnector.connectionVariables"); got != `[{"name":"Region","value":"eu"},{"name":"Timeout","value":"30s"}]` {
				t.Errorf("variables = %s", got)
			}
			if got := r.JSON("createConnector.authSchemeConfigs.1.apiKey"); got != `{"in":"QUERY","name":"api_key"}` {
				t.Errorf("api key settings = %s", got)
			}
			if r.Get("createConnector.authSchemeConfigs.0.verifySSL") != true {
				t.Errorf("verifySSL must default to true")
			}
			if r.String("createConnector.createdAt") != r.String("createConnector.updatedAt") {
				t.Errorf("createdAt and updatedAt differ on create")
			}
			id := r.String("createConnector.id")
			if got := snapshot(t, c, id); got != r.JSON("createConnector") {
				t.Errorf("read differs from create:\n%s\n%s", got, r.JSON("createConnector"))
			}
		})
		t.Run("Minimal", func(t *testing.T) {
			r := mustCreate(t, c, map[string]any{"name": "  BigQuery warehouse  ", "protocolType": "BIGQUERY", "description": "   "})
			if r.String("createConnector.name") != "BigQuery warehouse" || r.Get("createConnector.description") != nil {
				t.Errorf("name not trimmed or blank description kept: %s", r.Body)
			}
			if r.JSON("createConnector.categories") != "[]" || r.JSON("createConnector.authSchemeConfigs") != "[]" || r.JSON("createConnector.connectionVariables") != "[]" {
				t.Errorf("lists must be empty, not null: %s", r.Body)
			}
		})
	})
}

func TestCreateConnectorBadInput(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(in map[string]any)
		field string
	}{
		{"ErrNameBlank", func(in map[string]any) { in["name"] = "  " }, "name"},
		{"ErrNameTooLong", func(in map[string]any) { in["name"] = strings.Repeat("n", 129) }, "name"},
		{"ErrNameDuplicateOtherCase", func(in map[string]any) { in["name"] = "EXISTING" }, "name"},
		{"ErrBaseURLRelative", func(in map[string]any) { in["baseURL"] = "/v1" }, "baseURL"},
		{"ErrBaseURLScheme", func(in map[string]any) { in["baseURL"] = "ftp://files.example.com" }, "baseURL"},
		{"ErrBaseURLCredentials", func(in map[string]any) { in["baseURL"] = "https://user:pw@example.com" }, "baseURL"},
		{"ErrIconURL", func(in map[string]any) { in["iconURL"] = "not a url" }, "iconURL"},
		{"ErrDocumentationURL", func(in map[string]any) { in["documentationURL"] = "mailto:x@example.com" }, "documentationURL"},
		{"ErrCategoryBlank", func(in map[string]any) { in["categories"] = []any{"a", " "} }, "categories[1]"},
		{"ErrCategoryDuplicate", func(in map[string]any) { in["categories"] = []any{"Finance", "finance"} }, "categories[1]"},
		{"ErrVariableName", func(in map[string]any) {
			in["connectionVariables"] = []any{map[string]any{"name": "1abc", "value": "x"}}
		}, "connectionVariables[0].name"},
		{"ErrVariableDuplicate", func(in map[string]any) {
			in["connectionVariables"] = []any{map[string]any{"name": "a", "value": "x"}, map[string]any{"name": "a", "value": "y"}}
		}, "connectionVariables[1].name"},
		{"ErrConfigSettingsForOtherType", func(in map[string]any) {
			in["authSchemeConfigs"] = []any{map[string]any{"id": "b", "schemeType": "BASIC", "apiKey": map[string]any{"name": "x"}}}
		}, "authSchemeConfigs[0].apiKey"},
		{"ErrConfigDuplicateID", func(in map[string]any) {
			in["authSchemeConfigs"] = []any{map[string]any{"id": "a", "schemeType": "BASIC"}, map[string]any{"id": "a", "schemeType": "BEARER"}}
		}, "authSchemeConfigs[1].id"},
		{"ErrConfigTokenURL", func(in map[string]any) {
			in["authSchemeConfigs"] = []any{map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": map[string]any{"tokenURL": "token"}}}
		}, "authSchemeConfigs[0].oauth2.tokenURL"},
		{"ErrConfigIDBlank", func(in map[string]any) {
			in["authSchemeConfigs"] = []any{map[string]any{"id": " ", "schemeType": "NONE"}}
		}, "authSchemeConfigs[0].id"},
	}
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		mustCreate(t, c, map[string]any{"name": "Existing", "protocolType": "HTTP"})
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := fullConnector("New connector")
				tc.edit(in)
				c.Do(t, createConnector, map[string]any{"input": in}).ExpectError(t, "BAD_USER_INPUT", tc.field)
				if n := countConnectors(t, c); n != 1 {
					t.Fatalf("a rejected create stored something: %d connectors", n)
				}
			})
		}
	})
}

func countConnectors(t *testing.T, c *apitest.Client) int {
	t.Helper()
	return c.Do(t, `{ connectors { totalCount } }`, nil).OK(t).Int("connectors.totalCount")
}

func TestUpdateConnectorReplacesAndUnsets(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		created := mustCreate(t, c, fullConnector("Stripe"))
		id := created.String("createConnector.id")
		time.Sleep(2 * time.Millisecond) // updatedAt must move

		r := c.Do(t, updateConnector, map[string]any{"id": id, "input": map[string]any{
			"name": "Stripe v2", "protocolType": "HTTP", "baseURL": "https://api.stripe.com", "description": nil,
		}}).OK(t)
		u := "updateConnector."
		if r.String(u+"name") != "Stripe v2" || r.String(u+"baseURL") != "https://api.stripe.com" {
			t.Errorf("fields not set: %s", r.Body)
		}
		for _, f := range []string{"description", "documentationURL", "iconURL"} {
			if r.Get(u+f) != nil {
				t.Errorf("%s: omitted or null must unset, got %v", f, r.Get(u+f))
			}
		}
		if r.JSON(u+"categories") != "[]" {
			t.Errorf("omitted categories must unset, got %s", r.JSON(u+"categories"))
		}
		if r.JSON(u+"authSchemeConfigs") != created.JSON("createConnector.authSchemeConfigs") {
			t.Errorf("omitted authSchemeConfigIDs must leave configs unchanged")
		}
		if r.JSON(u+"connectionVariables") != created.JSON("createConnector.connectionVariables") {
			t.Errorf("omitted connectionVariables must leave them unchanged")
		}
		if r.Int(u+"revision") != 2 {
			t.Errorf("revision = %d, want 2", r.Int(u+"revision"))
		}
		before, _ := time.Parse(time.RFC3339Nano, created.String("createConnector.updatedAt"))
		after, _ := time.Parse(time.RFC3339Nano, r.String(u+"updatedAt"))
		if !after.After(before) || r.String(u+"createdAt") != created.String("createConnector.createdAt") {
			t.Errorf("updatedAt must move and createdAt stay: %v -> %v", before, after)
		}
		if snapshot(t, c, id) != r.JSON("updateConnector") {
			t.Errorf("stored state differs from the update's answer")
		}
	})
}

func TestUpdateConnectorLists(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := mustCreate(t, c, fullConnector("Lists")).String("createConnector.id")
		base := func(extra map[string]any) map[string]any {
			in := map[string]any{"name": "Lists", "protocolType": "HTTP"}
			for k, v := range extra {
				in[k] = v
			}
			return in
		}
		r := c.Do(t, updateConnector, map[string]any{"id": id, "input": base(map[string]any{"authSchemeConfigIDs": []any{"key", "basic"}})}).OK(t)
		if got := r.String("updateConnector.authSchemeConfigs.0.key") + "," + r.String("updateConnector.authSchemeConfigs.1.key"); got != "key,basic" {
			t.Errorf("reorder: got %s", got)
		}
		if snapshot(t, c, id) != r.JSON("updateConnector") {
			t.Errorf("stored state differs from the update's answer after a reorder")
		}
		r = c.Do(t, updateConnector, map[string]any{"id": id, "input": map[string]any{"name": "lists", "protocolType": "BIGQUERY", "categories": []any{"x"}}}).OK(t)
		if snapshot(t, c, id) != r.JSON("updateConnector") || r.String("updateConnector.protocolType") != "BIGQUERY" {
			t.Errorf("stored state differs from the update's answer after a change of type and name case: %s", r.Body)
		}
		r = c.Do(t, updateConnector, map[string]any{"id": id, "input": base(map[string]any{
			"connectionVariables": []any{map[string]any{"name": "Only", "value": "1"}},
		})}).OK(t)
		if got := r.JSON("updateConnector.connectionVariables"); got != `[{"name":"Only","value":"1"}]` {
			t.Errorf("overwrite: got %s", got)
		}
		r = c.Do(t, updateConnector, map[string]any{"id": id, "input": base(map[string]any{"connectionVariables": []any{}})}).OK(t)
		if got := r.JSON("updateConnector.connectionVariables"); got != `[]` {
			t.Errorf("empty list must clear: got %s", got)
		}
		c.Do(t, updateConnector, map[string]any{"id": id, "input": base(map[string]any{
			"connectionVariables": []any{map[string]any{"name": "A", "value": "1"}},
		})}).OK(t)
		r = c.Do(t, updateConnector, map[string]any{"id": id, "input": base(map[string]any{"connectionVariables": nil})}).OK(t)
		if got := r.JSON("updateConnector.connectionVariables"); got != `[]` {
			t.Errorf("null must unset: got %s", got)
		}
		if r.Int("updateConnector.revision") != 7 {
			t.Errorf("revision = %d, want 7", r.Int("updateConnector.revision"))
		}
	})
}

func TestUpdateConnectorBadInputChangesNothing(t *testing.T) {
	valid := func() map[string]any { return map[string]any{"name": "Target", "protocolType": "HTTP"} }
	cases := []struct {
		name  string
		input func() map[string]any
		field string
	}{
		{"ErrNameOmitted", func() map[string]any { in := valid(); delete(in, "name"); return in }, "name"},
		{"ErrNameNull", func() map[string]any { in := valid(); in["name"] = nil; return in }, "name"},
		{"ErrProtocolTypeOmitted", func() map[string]any { in := valid(); delete(in, "protocolType"); return in }, "protocolType"},
		{"ErrProtocolTypeNull", func() map[string]any { in := valid(); in["protocolType"] = nil; return in }, "protocolType"},
		{"ErrNameTaken", func() map[string]any { in := valid(); in["name"] = "other"; return in }, "name"},
		{"ErrBaseURL", func() map[string]any { in := valid(); in["baseURL"] = "api.example.com"; return in }, "baseURL"},
		{"ErrIconURL", func() map[string]any { in := valid(); in["iconURL"] = "javascript:alert(1)"; return in }, "iconURL"},
		{"ErrCategory", func() map[string]any { in := valid(); in["categories"] = []any{""}; return in }, "categories[0]"},
		{"ErrConfigIDsMissingOne", func() map[string]any { in := valid(); in["authSchemeConfigIDs"] = []any{"key"}; return in }, "authSchemeConfigIDs"},
		{"ErrConfigIDsUnknown", func() map[string]any {
			in := valid()
			in["authSchemeConfigIDs"] = []any{"key", "basic", "new"}
			return in
		}, "authSchemeConfigIDs[2]"},
		{"ErrConfigIDsRepeated", func() map[string]any {
			in := valid()
			in["authSchemeConfigIDs"] = []any{"key", "key"}
			return in
		}, "authSchemeConfigIDs[1]"},
		{"ErrConfigIDsNull", func() map[string]any { in := valid(); in["authSchemeConfigIDs"] = nil; return in }, "authSchemeConfigIDs"},
		{"ErrVariableName", func() map[string]any {
			in := valid()
			in["connectionVariables"] = []any{map[string]any{"name": "has-dash", "value": "x"}}
			return in
		}, "connectionVariables[0].name"},
		{"ErrVariableDuplicate", func() map[string]any {
			in := valid()
			in["connectionVariables"] = []any{map[string]any{"name": "A", "value": "x"}, map[string]any{"name": "A", "value": "x"}}
			return in
		}, "connectionVariables[1].name"},
	}
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		mustCreate(t, c, map[string]any{"name": "Other", "protocolType": "HTTP"})
		id := mustCreate(t, c, fullConnector("Target")).String("createConnector.id")
		before := snapshot(t, c, id)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c.Do(t, updateConnector, map[string]any{"id": id, "input": tc.input()}).ExpectError(t, "BAD_USER_INPUT", tc.field)
				if after := snapshot(t, c, id); after != before {
					t.Fatalf("rejected update changed the connector:\n%s\n%s", before, after)
				}
			})
		}
	})
}

func TestUpdateConnectorExpectedRevision(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := mustCreate(t, c, fullConnector("Rev")).String("createConnector.id")
		in := map[string]any{"name": "Rev", "protocolType": "HTTP"}
		c.Do(t, updateConnector, map[string]any{"id": id, "input": in, "rev": 1}).OK(t)
		before := snapshot(t, c, id)
		r := c.Do(t, updateConnector, map[string]any{"id": id, "input": map[string]any{"name": "Lost", "protocolType": "HTTP"}, "rev": 1})
		r.ExpectError(t, "CONFLICT", "")
		if !strings.Contains(r.Message(), "revision 2") {
			t.Errorf("conflict message should give the stored revision: %q", r.Message())
		}
		if snapshot(t, c, id) != before {
			t.Fatal("a conflicting update changed the connector")
		}
		if got := c.Do(t, updateConnector, map[string]any{"id": id, "input": in, "rev": 2}).OK(t).Int("updateConnector.revision"); got != 3 {
			t.Errorf("revision = %d, want 3", got)
		}
	})
}

func TestDeleteConnector(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := mustCreate(t, c, fullConnector("Doomed")).String("createConnector.id")
		del := `mutation($id: ID!) { deleteConnector(id: $id) }`
		if got := c.Do(t, del, map[string]any{"id": id}).OK(t).String("deleteConnector"); got != id {
			t.Errorf("deleteConnector returned %q", got)
		}
		c.Do(t, getConnector, map[string]any{"id": id}).ExpectError(t, "NOT_FOUND", "")
		c.Do(t, del, map[string]any{"id": id}).ExpectError(t, "NOT_FOUND", "")
		// The name is free again.
		mustCreate(t, c, fullConnector("doomed"))
	})
}

func TestConnectorNotFoundIsNullWithError(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		r := c.Do(t, getConnector, map[string]any{"id": "no-such-id"}).ExpectError(t, "NOT_FOUND", "")
		if r.Data == nil || r.Data["connector"] != nil {
			t.Errorf("connector must be null: %s", r.Body)
		}
		if fmt.Sprint(r.Errors[0].Path) != "[connector]" {
			t.Errorf("error path = %v", r.Errors[0].Path)
		}
	})
}

// TestUpdateAndUnsetEveryField holds updateConnector to the update-and-unset rule field by
// field: each field of UpdateConnectorInput omitted, null, blank and set, the others omitted
// but for the required name and protocolType. Own fields omitted, null or blank are unset (the
// required ones are BAD_USER_INPUT); authSchemeConfigIDs and connectionVariables omitted are
// left alone. The expected connector is written out here, and the stored state must equal the
// answer: on PostgreSQL an update of the own fields alone is the one-statement path, the
// others the general one, so a rule broken in the domain shows on both databases.
func TestUpdateAndUnsetEveryField(t *testing.T) {
	type want = map[string]any
	// unset is the connector after an update giving only the required fields: every own field
	// unset, the configs and variables as created by fullConnector.
	unset := func(name string) want {
		return want{"name": name, "description": nil, "protocolType": "HTTP", "documentationURL": nil, "iconURL": nil,
			"baseURL": nil, "categories": []any{}, "authSchemeConfigIDs": []any{"basic", "key"},
			"connectionVariables": []any{map[string]any{"name": "Region", "value": "eu"}, map[string]any{"name": "Timeout", "value": "30s"}}}
	}
	const omitted = "<omitted>"
	cases := []struct {
		field string
		state string // omitted, null, blank or set
		value any
		want  any // the field's value afterwards, or "BAD_USER_INPUT"
	}{
		{"name", "omitted", omitted, "BAD_USER_INPUT"},
		{"name", "null", nil, "BAD_USER_INPUT"},
		{"name", "blank", "  ", "BAD_USER_INPUT"},
		{"name", "set", " Renamed ", "Renamed"},
		{"protocolType", "omitted", omitted, "BAD_USER_INPUT"},
		{"protocolType", "null", nil, "BAD_USER_INPUT"},
		{"protocolType", "blank", "", "BAD_USER_INPUT"},
		{"protocolType", "set", "BIGQUERY", "BIGQUERY"},
		{"description", "omitted", omitted, nil},
		{"description", "null", nil, nil},
		{"description", "blank", " \t", nil},
		{"description", "set", " Card payments ", "Card payments"},
		{"documentationURL", "omitted", omitted, nil},
		{"documentationURL", "null", nil, nil},
		{"documentationURL", "blank", " ", nil},
		{"documentationURL", "set", "https://docs.example.org/v2", "https://docs.example.org/v2"},
		{"iconURL", "omitted", omitted, nil},
		{"iconURL", "null", nil, nil},
		{"iconURL", "blank", "", nil},
		{"iconURL", "set", "https://example.org/i.svg", "https://example.org/i.svg"},
		{"baseURL", "omitted", omitted, nil},
		{"baseURL", "null", nil, nil},
		{"baseURL", "blank", "  ", nil},
		{"baseURL", "set", "https://api.example.org", "https://api.example.org"},
		{"categories", "omitted", omitted, []any{}},
		{"categories", "null", nil, []any{}},
		{"categories", "blank", []any{}, []any{}},
		{"categories", "set", []any{" crm ", "sales"}, []any{"crm", "sales"}},
		{"authSchemeConfigIDs", "omitted", omitted, []any{"basic", "key"}},
		{"authSchemeConfigIDs", "null", nil, "BAD_USER_INPUT"}, // null is an empty list: not the configs' ids
		{"authSchemeConfigIDs", "blank", []any{}, "BAD_USER_INPUT"},
		{"authSchemeConfigIDs", "set", []any{"key", "basic"}, []any{"key", "basic"}},
		{"connectionVariables", "omitted", omitted, unset("")["connectionVariables"]},
		{"connectionVariables", "null", nil, []any{}},
		{"connectionVariables", "blank", []any{}, []any{}},
		{"connectionVariables", "set", []any{map[string]any{"name": "Only", "value": "1"}}, []any{map[string]any{"name": "Only", "value": "1"}}},
	}
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		for _, tc := range cases {
			t.Run(tc.field+"/"+tc.state, func(t *testing.T) {
				name := "Every " + tc.field + " " + tc.state
				id := mustCreate(t, c, fullConnector(name)).String("createConnector.id")
				before := snapshot(t, c, id)
				input := map[string]any{"name": name, "protocolType": "HTTP"}
				if tc.value == omitted {
					delete(input, tc.field)
				} else {
					input[tc.field] = tc.value
				}
				r := c.Do(t, updateConnector, map[string]any{"id": id, "input": input})
				if tc.want == "BAD_USER_INPUT" {
					r.ExpectError(t, "BAD_USER_INPUT", tc.field)
					if snapshot(t, c, id) != before {
						t.Fatal("a rejected update changed the connector")
					}
					return
				}
				r.OK(t)
				expected := unset(name)
				expected[tc.field] = tc.want
				got := want{}
				for k := range expected {
					got[k] = r.Get("updateConnector." + k)
				}
				var ids []any
				for _, cfg := range r.List("updateConnector.authSchemeConfigs") {
					ids = append(ids, cfg.(map[string]any)["key"])
				}
				got["authSchemeConfigIDs"] = ids
				if g, w := mustJSON(got), mustJSON(expected); g != w {
					t.Errorf("after the update:\n got %s\nwant %s", g, w)
				}
				if r.Int("updateConnector.revision") != 2 {
					t.Errorf("revision %d, want 2", r.Int("updateConnector.revision"))
				}
				if stored := snapshot(t, c, id); stored != r.JSON("updateConnector") {
					t.Errorf("stored state differs from the update's answer:\n%s\n%s", stored, r.JSON("updateConnector"))
				}
			})
		}
	})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
