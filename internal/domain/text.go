package domain

import (
	"strings"
	"unicode/utf8"
)

// CheckText refuses text that the two databases would not store alike: PostgreSQL rejects
// U+0000 in text and jsonb (SQLSTATE 22021, 22P05) where SQLite keeps it, and invalid UTF-8
// cannot be stored as text at all. Every string of a GraphQL request passes here (see
// graph.InputText), so the answer is the same BAD_USER_INPUT on both.
func CheckText(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		return Invalid(field, "must not contain NUL characters (U+0000) or invalid UTF-8")
	}
	return nil
}
