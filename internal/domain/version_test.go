package domain_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

func TestValidateVersionName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"1.2.0", true}, {"2026.11", true}, {"42", true}, {"v1.0.0-rc.1+build.5", true}, {"release_7", true},
		{"default", false}, {"Default", false}, {"DEFAULT", false}, {"latest", false}, {"LaTeSt", false},
		{" latest ", false}, {"\tdefault\n", false}, {"", false}, {"1 0", false}, {"-1", false}, {".1", false},
		{"v/1", false}, {strings.Repeat("9", 65), false}, {"latest2", true}, {"defaults", true},
	}
	for _, tc := range cases {
		err := domain.ValidateVersionName("name", tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateVersionName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && domain.IsReservedVersionName(tc.name) && !strings.Contains(err.Error(), "reserved") {
			t.Errorf("%q: the message must say the name is reserved: %v", tc.name, err)
		}
	}
}

func TestActionPath(t *testing.T) {
	cases := []struct {
		path string
		ok   bool
	}{
		{"/users", true}, {"users/{{id}}?expand=true", true}, {"/{{tenant}}/items", true}, {"?q={{q}}", true},
		{"https://evil.example.com/x", false}, {"//evil.example.com", false}, {"http:/x", false}, {"", false},
		{" /users", false}, {"/a b", false}, {`\\evil`, false},
	}
	for _, tc := range cases {
		in := domain.VersionInput{Name: "1", Actions: []domain.HTTPAction{{Name: "a", Method: domain.MethodGet, Path: tc.path}}}
		err := in.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("path %q: %v, want ok=%v", tc.path, err, tc.ok)
		}
	}
}

func TestCredentialSummary(t *testing.T) {
	fields, hints := domain.CredentialSummary([]domain.Variable{
		{"username", "alice"}, {"password", "correct horse battery staple"}, {"token", "tok_0123456789abcdefWXYZ"},
		{"clientSecret", "cs_0123456789abcdefghij"}, {"apiKey", "short"}, {"refreshToken", ""},
	})
	if strings.Join(fields, ",") != "apiKey,clientSecret,password,token,username" {
		t.Errorf("fields %v", fields)
	}
	var got []string
	for _, h := range hints {
		got = append(got, h.Field+"="+h.Hint)
	}
	if strings.Join(got, ",") != "token=…WXYZ,username=a…" {
		t.Errorf("hints %v: passwords, client secrets and short values must show nothing", got)
	}
}

func TestInitialVariables(t *testing.T) {
	got := domain.InitialVariables([]domain.Variable{{"A", "1"}, {"B", "2"}}, []domain.Variable{{"B", "x"}, {"C", "3"}})
	if len(got) != 3 || got[1].Value != "x" || got[2].Name != "C" {
		t.Errorf("got %v", got)
	}
}
