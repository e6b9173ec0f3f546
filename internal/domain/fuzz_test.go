package domain_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

// FuzzParseDynamicProperties: the merge parser never panics, accepts only JSON objects of
// scalars, and what it accepts survives a round trip.
func FuzzParseDynamicProperties(f *testing.F) {
	for _, s := range []string{`{"APIKey":"new","Timeout":"60s"}`, `{}`, `{"a":1,"b":true,"c":1.5e3}`, `[]`, `{"a":{"b":1}}`, `{"a":null}`, `{"a":"\u00e9"}`, `{"a":"b"} x`, ``, `{`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pairs, err := domain.ParseDynamicProperties(s)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeBadUserInput {
				t.Fatalf("want BAD_USER_INPUT, got %v", err)
			}
			return
		}
		var obj map[string]any
		if json.Unmarshal([]byte(s), &obj) != nil {
			t.Fatalf("accepted %q, which is not a JSON object", s)
		}
		for _, p := range pairs {
			switch obj[p.Name].(type) {
			case map[string]any, []any, nil:
				t.Fatalf("accepted a nested or null value for %q", p.Name)
			}
		}
	})
}

// FuzzMergeProperties: merging never panics, never drops a stored name, and the JSON wins.
func FuzzMergeProperties(f *testing.F) {
	f.Add("APIKey", "mid", `{"APIKey":"new","Timeout":"60s"}`)
	f.Add("", "", `{}`)
	f.Add("a", "1", `{"a":2}`)
	f.Fuzz(func(t *testing.T, name, value, dynamic string) {
		stored := []domain.Variable{{Name: "APIKey", Value: "old"}, {Name: "Endpoint", Value: "e1"}}
		merged, err := domain.MergeProperties(stored, []domain.Property{{Name: name, Value: value}}, &dynamic, domain.ValidateVariableName)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeBadUserInput {
				t.Fatalf("want BAD_USER_INPUT, got %v", err)
			}
			return
		}
		if len(merged) < len(stored) || merged[0].Name != "APIKey" || merged[1].Name != "Endpoint" {
			t.Fatalf("stored names must keep their place: %v", merged)
		}
		pairs, _ := domain.ParseDynamicProperties(dynamic)
		last := map[string]string{}
		for _, p := range pairs {
			last[p.Name] = p.Value
		}
		for _, m := range merged {
			if v, ok := last[m.Name]; ok && m.Value != v {
				t.Fatalf("the JSON must win for %q: got %q, want %q", m.Name, m.Value, v)
			}
		}
	})
}

// FuzzValidateVersionName: aliases are refused in every spelling; accepted names are usable.
func FuzzValidateVersionName(f *testing.F) {
	for _, s := range []string{"1.2.0", "default", "LATEST", " latest ", "Default\t", "v1+build", "", "-x", "2026.11"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := domain.ValidateVersionName("name", name)
		lower := strings.ToLower(strings.TrimSpace(name))
		if (lower == "latest" || lower == "default") && err == nil {
			t.Fatalf("accepted the alias %q", name)
		}
		if err == nil && (strings.TrimSpace(name) != name || name == "" || len(name) > 64) {
			t.Fatalf("accepted %q", name)
		}
		if err != nil && domain.ErrorCode(err) != domain.CodeBadUserInput {
			t.Fatalf("want BAD_USER_INPUT, got %v", err)
		}
	})
}

// FuzzValidateURL: only absolute http(s) URLs with a host and no credentials pass.
func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{"https://api.example.com/v1", "http://localhost:8080", "ftp://x", "/relative", "https://user:pw@x.com", "https://[::1]:80/", "javascript:alert(1)", "https://", "http://%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := domain.ValidateURL("u", &s); err == nil {
			u, perr := url.Parse(s)
			if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || len(s) > domain.MaxURLLength {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}
