package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

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
	for _, in := range []string{`{"a": "x\u0000"}`, `{"a\u0000": "x"}`, `{"a": "x\udc00"}`, `{"a\ud83d": "x"}`, `{"a": "\ud83dx"}`} {
		if _, err := ParseDynamicProperties(in); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("%s: want BAD_USER_INPUT, got %v", in, err)
		}
	}
}

// An escape is half a surrogate pair only when it is not one of a high and a low surrogate,
// and escaped backslashes are text, not escapes.
func TestLoneSurrogateEscape(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		lone bool
	}{
		{`"\ud83d\ude00"`, false},
		{`"plain é 😀"`, false},
		{`"\u00e9"`, false},
		{`"\\udc00"`, false},
		{`"\udc00"`, true},
		{`"\ud83d"`, true},
		{`"\ud83dx\ude00"`, true},
		{`"\ud83d\u0041"`, true},
		{`"\\\udc00"`, true},
		{`"\ud83`, false},
	} {
		if got := LoneSurrogateEscape(tc.raw); got != tc.lone {
			t.Errorf("%s: %v, want %v", tc.raw, got, tc.lone)
		}
	}
}

// A not-found message quotes at most 100 bytes of the id it was given, cut on a character.
func TestNotFoundShortensLongIDs(t *testing.T) {
	long := strings.Repeat("é", 3000)
	msg := NotFound("node", long).Message
	if len(msg) > 130 || !strings.HasSuffix(msg, `…" not found`) || !utf8.ValidString(msg) {
		t.Errorf("message of %d bytes: %.80s…", len(msg), msg)
	}
	if msg := NotFound("node", "abc").Message; msg != `node "abc" not found` {
		t.Errorf("a short id: %s", msg)
	}
}
