package domain

import "testing"

func TestCheckText(t *testing.T) {
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"Plain", "Café ☕", true},
		{"Empty", "", true},
		{"Nul", "a\x00b", false},
		{"InvalidUTF8", "a\xffb", false},
		{"TruncatedRune", "caf\xc3", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckText("description", tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckText(%q) = %v", tc.in, err)
			}
			if err != nil && (ErrorCode(err) != CodeBadUserInput || err.(*Error).Field != "description") {
				t.Fatalf("want BAD_USER_INPUT on description, got %#v", err)
			}
		})
	}
}

// TestDynamicPropertiesNul: the JSON escape \u0000 decodes to what CheckText refuses.
func TestDynamicPropertiesNul(t *testing.T) {
	for _, in := range []string{`{"a": "x\u0000"}`, `{"a\u0000": "x"}`} {
		if _, err := ParseDynamicProperties(in); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("%s: want BAD_USER_INPUT, got %v", in, err)
		}
	}
}
