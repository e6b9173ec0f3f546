package domain_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

func TestValidateVersionName(t *testing.T) {
	// want is the expected outcome, written out: "ok", "reserved" (refused as an alias, and the
	// message says so) or "invalid" (refused by the pattern or the length).
	cases := []struct {
		name string
		want string
	}{
		{"1.2.0", "ok"}, {"2026.11", "ok"}, {"42", "ok"}, {"v1.0.0-rc.1+build.5", "ok"}, {"release_7", "ok"},
		{"latest2", "ok"}, {"defaults", "ok"}, {"Latest-1", "ok"}, {"default.0", "ok"},
		{"default", "reserved"}, {"Default", "reserved"}, {"DEFAULT", "reserved"}, {"latest", "reserved"},
		{"LaTeSt", "reserved"}, {" latest ", "reserved"}, {"\tdefault\n", "reserved"}, {"  LATEST", "reserved"},
		{"", "invalid"}, {"1 0", "invalid"}, {"-1", "invalid"}, {".1", "invalid"}, {"v/1", "invalid"},
		{strings.Repeat("9", 65), "invalid"}, {" 1.0", "invalid"}, {"lat est", "invalid"},
	}
	for _, tc := range cases {
		err := domain.ValidateVersionName("name", tc.name)
		switch tc.want {
		case "ok":
			if err != nil {
				t.Errorf("ValidateVersionName(%q) = %v, want it accepted", tc.name, err)
			}
		case "reserved", "invalid":
			if err == nil {
				t.Errorf("ValidateVersionName(%q) accepted it, want %s", tc.name, tc.want)
				continue
			}
			if domain.ErrorCode(err) != domain.CodeBadUserInput {
				t.Errorf("ValidateVersionName(%q) = %v, want BAD_USER_INPUT", tc.name, err)
			}
			if reserved := strings.Contains(err.Error(), "reserved"); reserved != (tc.want == "reserved") {
				t.Errorf("ValidateVersionName(%q) = %v: the message must say \"reserved\" exactly for the aliases", tc.name, err)
			}
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
