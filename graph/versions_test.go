package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
)

const versionFields = `id connectorId name description isLatest isDefault isPublished createdAt updatedAt publishedAt
  actions { name purpose description method path headers { name value } bodyTemplate sampleRequestData }`

var (
	createVersion     = `mutation($c: ID!, $input: CreateVersionInput!) { createVersion(connectorId: $c, input: $input) { ` + versionFields + ` } }`
	updateVersion     = `mutation($id: ID!, $input: UpdateVersionInput!) { updateVersion(id: $id, input: $input) { ` + versionFields + ` } }`
	publishVersion    = `mutation($id: ID!) { publishVersion(id: $id) { ` + versionFields + ` } }`
	setDefaultVersion = `mutation($id: ID!) { setDefaultVersion(id: $id) { ` + versionFields + ` } }`
	deleteVersion     = `mutation($id: ID!) { deleteVersion(id: $id) }`
	versionByName     = `query($c: ID!, $name: String!) { connector(id: $c) { version(name: $name) { name isLatest isDefault } } }`
	listVersions      = `query($c: ID!) { connector(id: $c) { versions { totalCount edges { node { name isLatest isDefault isPublished } } } } }`
)

func usersAction() map[string]any {
	return map[string]any{
		"name": "List users", "method": "GET", "path": "/users?page={{page}}",
		"headers":           []any{map[string]any{"name": "Accept", "value": "application/json"}},
		"sampleRequestData": `{"page": 1}`,
	}
}

func TestVersionDrafts(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Versioned")).String("createConnector.id")
		r := c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "1.0.0", "description": "first", "actions": []any{
			usersAction(),
			map[string]any{"name": "Create user", "purpose": "Create", "method": "POST", "path": "users", "bodyTemplate": `{"name": "{{name}}"}`},
		}}}).OK(t)
		v := "createVersion."
		id := r.String(v + "id")
		if r.Get(v+"isPublished") != false || r.Get(v+"isLatest") != false || r.Get(v+"publishedAt") != nil {
			t.Errorf("a new version is a draft: %s", r.Body)
		}
		if r.String(v+"actions.0.purpose") != "List" || r.JSON(v+"actions.1.headers") != "[]" || r.String(v+"actions.1.bodyTemplate") != `{"name": "{{name}}"}` {
			t.Errorf("action defaults: %s", r.Body)
		}
		time.Sleep(2 * time.Millisecond)
		u := c.Do(t, updateVersion, map[string]any{"id": id, "input": map[string]any{"name": "1.0.0-rc1", "actions": []any{usersAction()}}}).OK(t)
		if u.Get("updateVersion.description") != nil || len(u.List("updateVersion.actions")) != 1 || u.String("updateVersion.updatedAt") == r.String(v+"updatedAt") {
			t.Errorf("updateVersion is a full replace that moves updatedAt: %s", u.Body)
		}

		versionSnapshot := func() string {
			return c.Do(t, `query($c: ID!) { connector(id: $c) { versions(first: 2) { edges { node { `+versionFields+` } } } } }`, map[string]any{"c": connector}).OK(t).Body
		}
		c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": "2.0"}}).OK(t)
		before := versionSnapshot()
		bad := []struct {
			name  string
			input map[string]any
			field string
		}{
			{"ErrReservedDefault", map[string]any{"name": "default"}, "name"},
			{"ErrReservedCapitalised", map[string]any{"name": "Default"}, "name"},
			{"ErrReservedUpper", map[string]any{"name": "LATEST"}, "name"},
			{"ErrReservedSpaces", map[string]any{"name": "  latest  "}, "name"},
			{"ErrNameTaken", map[string]any{"name": "2.0"}, "name"},
			{"ErrNameBlank", map[string]any{"name": ""}, "name"},
			{"ErrNameSpaces", map[string]any{"name": "1 0"}, "name"},
			{"ErrAbsolutePath", map[string]any{"name": "3", "actions": []any{map[string]any{"name": "x", "method": "GET", "path": "https://evil.example.com/steal"}}}, "actions[0].path"},
			{"ErrSchemeRelativePath", map[string]any{"name": "3", "actions": []any{map[string]any{"name": "x", "method": "GET", "path": "//evil.example.com"}}}, "actions[0].path"},
			{"ErrDuplicateAction", map[string]any{"name": "3", "actions": []any{usersAction(), usersAction()}}, "actions[1].name"},
			{"ErrHeaderName", map[string]any{"name": "3", "actions": []any{map[string]any{"name": "x", "method": "GET", "path": "/", "headers": []any{map[string]any{"name": "Bad Header", "value": "v"}}}}}, "actions[0].headers[0].name"},
			{"ErrHeaderValue", map[string]any{"name": "3", "actions": []any{map[string]any{"name": "x", "method": "GET", "path": "/", "headers": []any{map[string]any{"name": "X", "value": "a\r\nInjected: 1"}}}}}, "actions[0].headers[0].value"},
			{"ErrSampleNotJSON", map[string]any{"name": "3", "actions": []any{map[string]any{"name": "x", "method": "GET", "path": "/", "sampleRequestData": "{nope"}}}, "actions[0].sampleRequestData"},
			{"ErrMethod", map[string]any{"name": "3", "actions": []any{map[string]any{"name": "x", "method": "TRACE", "path": "/"}}}, "actions[0].method"},
		}
		for _, tc := range bad {
			t.Run("create/"+tc.name, func(t *testing.T) {
				c.Do(t, createVersion, map[string]any{"c": connector, "input": tc.input}).ExpectError(t, "BAD_USER_INPUT", tc.field)
				if versionSnapshot() != before {
					t.Fatal("a rejected create changed the versions")
				}
			})
			if tc.name == "ErrNameTaken" {
				continue // updating 1.0.0-rc1 to 2.0 is checked below with the other update errors
			}
			t.Run("update/"+tc.name, func(t *testing.T) {
				c.Do(t, updateVersion, map[string]any{"id": id, "input": tc.input}).ExpectError(t, "BAD_USER_INPUT", tc.field)
				if versionSnapshot() != before {
					t.Fatal("a rejected update changed the versions")
				}
			})
		}
		c.Do(t, updateVersion, map[string]any{"id": id, "input": map[string]any{"name": "2.0"}}).ExpectError(t, "BAD_USER_INPUT", "name")
		c.Do(t, updateVersion, map[string]any{"id": id, "input": map[string]any{}}).ExpectError(t, "BAD_USER_INPUT", "name")
		c.Do(t, updateVersion, map[string]any{"id": "missing", "input": map[string]any{"name": "x"}}).ExpectError(t, "NOT_FOUND", "")
		if versionSnapshot() != before {
			t.Fatal("a rejected update changed the versions")
		}
	})
}

func TestPublishingAndAliases(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Aliases")).String("createConnector.id")
		create := func(name string) string {
			return c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": name, "actions": []any{usersAction()}}}).OK(t).String("createVersion.id")
		}
		v1, v2, v3 := create("1"), create("2"), create("3")

		c.Do(t, versionByName, map[string]any{"c": connector, "name": "latest"}).ExpectError(t, "NOT_FOUND", "")
		c.Do(t, setDefaultVersion, map[string]any{"id": v1}).ExpectError(t, "CONFLICT", "")

		p := c.Do(t, publishVersion, map[string]any{"id": v1}).OK(t)
		if p.Get("publishVersion.isLatest") != true || p.Get("publishVersion.isDefault") != true || p.Get("publishVersion.publishedAt") == nil {
			t.Errorf("the first published version is latest and default: %s", p.Body)
		}
		c.Do(t, publishVersion, map[string]any{"id": v1}).ExpectError(t, "CONFLICT", "")
		r := c.Do(t, updateVersion, map[string]any{"id": v1, "input": map[string]any{"name": "1"}}).ExpectError(t, "CONFLICT", "")
		if !strings.Contains(r.Message(), "published") {
			t.Errorf("the conflict should say why: %q", r.Message())
		}
		p = c.Do(t, publishVersion, map[string]any{"id": v3}).OK(t)
		if p.Get("publishVersion.isLatest") != true || p.Get("publishVersion.isDefault") != false {
			t.Errorf("later versions become latest, not default: %s", p.Body)
		}
		for name, want := range map[string]string{"latest": "3", "LATEST": "3", " Latest ": "3", "default": "1", "DEFAULT": "1", "2": "2"} {
			if got := c.Do(t, versionByName, map[string]any{"c": connector, "name": name}).OK(t).String("connector.version.name"); got != want {
				t.Errorf("version(%q) = %q, want %q", name, got, want)
			}
		}
		c.Do(t, versionByName, map[string]any{"c": connector, "name": "9"}).ExpectError(t, "NOT_FOUND", "")

		d := c.Do(t, setDefaultVersion, map[string]any{"id": v3}).OK(t)
		if d.Get("setDefaultVersion.isDefault") != true {
			t.Errorf("setDefaultVersion: %s", d.Body)
		}
		l := c.Do(t, listVersions, map[string]any{"c": connector}).OK(t)
		if got := l.JSON("connector.versions.edges"); got != `[{"node":{"isDefault":true,"isLatest":true,"isPublished":true,"name":"3"}},{"node":{"isDefault":false,"isLatest":false,"isPublished":false,"name":"2"}},{"node":{"isDefault":false,"isLatest":false,"isPublished":true,"name":"1"}}]` {
			t.Errorf("versions, newest first: %s", got)
		}
		_ = v2
	})
}

func TestDeleteVersion(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, fullConnector("Deletes")).String("createConnector.id")
		create := func(name string) string {
			id := c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": name}}).OK(t).String("createVersion.id")
			c.Do(t, publishVersion, map[string]any{"id": id}).OK(t)
			return id
		}
		v1, v2, v3 := create("1"), create("2"), create("3")
		conn := c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": "pinner", "versionName": "2"}}).OK(t).String("createConnection.id")

		r := c.Do(t, deleteVersion, map[string]any{"id": v1}).ExpectError(t, "CONFLICT", "")
		if !strings.Contains(r.Message(), "default") {
			t.Errorf("say why: %q", r.Message())
		}
		r = c.Do(t, deleteVersion, map[string]any{"id": v2}).ExpectError(t, "CONFLICT", "")
		if !strings.Contains(r.Message(), "pinner") {
			t.Errorf("name the pinning connections: %q", r.Message())
		}
		c.Do(t, deleteVersion, map[string]any{"id": v3}).OK(t)
		if got := c.Do(t, versionByName, map[string]any{"c": connector, "name": "latest"}).OK(t).String("connector.version.name"); got != "2" {
			t.Errorf("after deleting the latest, latest is %q, want 2", got)
		}
		c.Do(t, updateConnection, map[string]any{"id": conn, "input": map[string]any{"name": "pinner"}}).OK(t)
		c.Do(t, deleteVersion, map[string]any{"id": v2}).OK(t)
		if got := c.Do(t, versionByName, map[string]any{"c": connector, "name": "latest"}).OK(t).String("connector.version.name"); got != "1" {
			t.Errorf("latest is %q, want 1", got)
		}
		if got := c.Do(t, getConnection, map[string]any{"id": conn}).OK(t).String("connection.version.name"); got != "1" {
			t.Errorf("an unpinned connection follows the default: %q", got)
		}
		c.Do(t, deleteVersion, map[string]any{"id": v2}).ExpectError(t, "NOT_FOUND", "")
	})
}
