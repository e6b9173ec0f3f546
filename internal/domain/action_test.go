package domain_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

func TestExpandTemplate(t *testing.T) {
	values := map[string]string{"id": "a/b c", "q": "x&y=z", "name": `Bob "the" Builder`, "n": "5"}
	lookup := func(n string) (string, bool) { v, ok := values[n]; return v, ok }
	jsonEscape := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
	cases := []struct {
		name, tmpl string
		escape     func(string) string
		want       string
		missing    string
	}{
		{"Path", "/users/{{id}}", url.PathEscape, "/users/a%2Fb%20c", ""},
		{"Query", "q={{ q }}", url.QueryEscape, "q=x%26y%3Dz", ""},
		{"JSONString", `{"name": "{{name}}", "n": {{n}}}`, jsonEscape, `{"name": "Bob \"the\" Builder", "n": 5}`, ""},
		{"Raw", "{{n}}{{n}}", nil, "55", ""},
		{"Missing", "/{{id}}/{{zeta}}/{{alpha}}/{{zeta}}", url.PathEscape, "/a%2Fb%20c/{{zeta}}/{{alpha}}/{{zeta}}", "alpha,zeta"},
		{"NotAPlaceholder", "{{ 1x }} {x}", nil, "{{ 1x }} {x}", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, missing := domain.ExpandTemplate(tc.tmpl, lookup, tc.escape)
			if got != tc.want || strings.Join(missing, ",") != tc.missing {
				t.Errorf("got %q missing %v", got, missing)
			}
		})
	}
}

func TestActionInput(t *testing.T) {
	got, err := domain.ActionInput(map[string]any{"s": "x", "n": json.Number("1.5"), "b": true, "i": int64(3)})
	if err != nil || got["s"] != "x" || got["n"] != "1.5" || got["b"] != "true" || got["i"] != "3" {
		t.Fatalf("got %v %v", got, err)
	}
	// null is no value, like an omitted key (an optional placeholder's parameter is left out).
	if got, err := domain.ActionInput(map[string]any{"x": nil, "s": "y"}); err != nil || len(got) != 1 || got["s"] != "y" {
		t.Errorf("null input: %v %v", got, err)
	}
	for _, bad := range []map[string]any{{"x": map[string]any{}}, {"x": []any{1}}} {
		if _, err := domain.ActionInput(bad); domain.ErrorCode(err) != domain.CodeBadUserInput {
			t.Errorf("%v: want BAD_USER_INPUT, got %v", bad, err)
		}
	}
}
