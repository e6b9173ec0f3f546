package domain_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

func action(name string, method domain.HTTPMethod, path string) domain.HTTPAction {
	return domain.HTTPAction{Name: name, Purpose: "List", Method: method, Path: path, Headers: []domain.HTTPHeader{}}
}

func TestMergeImport(t *testing.T) {
	first := []domain.ImportedAction{
		{Key: "operationId:list", Action: action("list", domain.MethodGet, "/items")},
		{Key: "operationId:get", Action: action("get", domain.MethodGet, "/items/{{id}}")},
		{Key: "operationId:gone", Action: action("gone", domain.MethodDelete, "/items/{{id}}")},
	}
	merged, snapshot, warnings := domain.MergeImport(nil, nil, first)
	if len(merged) != 3 || len(warnings) != 0 {
		t.Fatalf("first import: %+v %v", merged, warnings)
	}
	// By hand: list's path edited, get deleted, a hand action added.
	merged[0].Path = "/items?mine=1"
	draft := []domain.HTTPAction{merged[0], merged[2], action("hand", domain.MethodGet, "/hand")}

	second := []domain.ImportedAction{
		{Key: "operationId:list", Action: action("list", domain.MethodPost, "/v2/items")},
		{Key: "operationId:get", Action: action("get", domain.MethodGet, "/v2/items/{{id}}")},
		{Key: "operationId:new", Action: action("hand", domain.MethodGet, "/new")},
	}
	got, _, warnings := domain.MergeImport(draft, snapshot, second)
	names := []string{}
	for _, a := range got {
		names = append(names, a.Name+" "+string(a.Method)+" "+a.Path)
	}
	want := "list POST /items?mine=1|gone DELETE /items/{{id}}|hand GET /hand|hand (2) GET /new"
	if strings.Join(names, "|") != want {
		t.Errorf("merged:\n%s\nwant\n%s", strings.Join(names, "|"), want)
	}
	all := strings.Join(warnings, "\n")
	for _, w := range []string{"list\": path was edited by hand", "\"get\" (operation operationId:get) was removed or renamed by hand", "\"gone\" (operationId:gone)", "added as \"hand (2)\""} {
		if !strings.Contains(all, w) {
			t.Errorf("no warning %q in:\n%s", w, all)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	body := `{"a": "{{a}}"}`
	from := &domain.ConnectorVersion{Actions: []domain.HTTPAction{
		action("list", domain.MethodGet, "/items?page={{page?}}"),
		action("get", domain.MethodGet, "/items/{{id}}"),
		action("old name", domain.MethodPost, "/items"),
		action("drop", domain.MethodDelete, "/items/{{id}}"),
	}}
	renamed := action("create", domain.MethodPost, "/items")
	renamed.BodyTemplate = &body
	to := &domain.ConnectorVersion{Actions: []domain.HTTPAction{
		action("list", domain.MethodGet, "/items?page={{page}}"),
		action("get", domain.MethodPut, "/items/{{id}}"),
		renamed,
		action("added", domain.MethodGet, "/x?q={{q?}}"),
	}, OutboundPolicy: &domain.OutboundPolicy{}}
	configs := []domain.AuthSchemeConfig{{Key: "github", GlobalID: "g1", SchemeType: domain.SchemeHMAC}, {Key: "github-app", GlobalID: "g2", SchemeType: domain.SchemeHMAC}}
	desc := "pushes"
	fromTriggers := []domain.Trigger{{Name: "push", AuthSchemeConfigID: "g1"}, {Name: "issues", AuthSchemeConfigID: "g1"}, {Name: "star", AuthSchemeConfigID: "g1"}}
	toTriggers := []domain.Trigger{{Name: "push", Description: &desc, AuthSchemeConfigID: "g2"}, {Name: "star", AuthSchemeConfigID: "g1"}, {Name: "release", AuthSchemeConfigID: "g2"}}
	a, b := domain.VersionContents{ConnectorVersion: from, Triggers: fromTriggers}, domain.VersionContents{ConnectorVersion: to, Triggers: toTriggers}
	d := domain.CompareVersions(a, b, configs)
	got := map[string]bool{}
	descriptions := map[string]string{}
	for _, c := range d.Changes {
		got[string(c.Kind)+" "+c.Path] = c.Breaking
		descriptions[c.Path] = c.Description
	}
	for path, breaking := range map[string]bool{
		`CHANGED actions["list"].placeholders["page"]`: true,
		`CHANGED actions["get"].method`:                true,
		`CHANGED actions["old name"].name`:             true,
		`ADDED actions["create"].placeholders["a"]`:    true,
		`CHANGED actions["create"].bodyTemplate`:       false,
		`REMOVED actions["drop"]`:                      true,
		`ADDED actions["added"]`:                       false,
		`ADDED outboundPolicy`:                         false,
		`REMOVED triggers["issues"]`:                   true,
		`CHANGED triggers["push"].authSchemeConfig`:    true,
		`CHANGED triggers["push"].description`:         false,
		`ADDED triggers["release"]`:                    false,
	} {
		b, ok := got[path]
		if !ok || b != breaking {
			t.Errorf("%s: present %v breaking %v, want breaking %v (all: %v)", path, ok, b, breaking, got)
		}
	}
	if len(d.Changes) != 13 {
		t.Errorf("%d changes, want 13: %v", len(d.Changes), got)
	}
	if want := `trigger "push" is verified by auth scheme config "github-app" instead of "github"`; !strings.HasPrefix(descriptions[`triggers["push"].authSchemeConfig`], want) {
		t.Errorf("the change names the configs by key: %q", descriptions[`triggers["push"].authSchemeConfig`])
	}
	if !d.Breaking || domain.CompareVersions(a, a, configs).Breaking || len(domain.CompareVersions(a, a, configs).Changes) != 0 {
		t.Error("breaking flags")
	}
	// Only added triggers: nothing breaks.
	added := domain.CompareVersions(domain.VersionContents{ConnectorVersion: to, Triggers: toTriggers[1:2]}, b, configs)
	if added.Breaking || len(added.Changes) != 2 {
		t.Errorf("adding triggers: %+v", added)
	}
}

func TestOptionalPlaceholderOnlyInQueryAndHeaders(t *testing.T) {
	for path, ok := range map[string]bool{"/a?x={{x?}}": true, "/a/{{id}}?x={{x?}}&y={{y}}": true, "/a/{{id?}}": false, "/a/{{id?}}?x=1": false} {
		in := domain.VersionInput{Name: "1", Actions: []domain.HTTPAction{action("a", domain.MethodGet, path)}}
		if err := in.Validate(); (err == nil) != ok {
			t.Errorf("%s: %v", path, err)
		}
	}
	lookup := func(n string) (string, bool) { return map[string]string{"set": "1"}[n], n == "set" }
	if !domain.OptionalUnset("a={{unset?}}", lookup) || domain.OptionalUnset("a={{set?}}", lookup) || domain.OptionalUnset("a={{unset}}", lookup) {
		t.Error("OptionalUnset")
	}
	if out, missing := domain.ExpandTemplate(`{"a": "{{unset?}}", "b": "{{set}}"}`, lookup, nil); out != `{"a": "", "b": "1"}` || len(missing) != 0 {
		t.Errorf("an unvalued optional placeholder elsewhere is empty: %s %v", out, missing)
	}
}
