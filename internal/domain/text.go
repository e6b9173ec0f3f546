package domain

import (
	"strconv"
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

// LoneSurrogateEscape finds a \uD800-\uDFFF escape that is not a high surrogate followed by the
// escape of a low one, in JSON text or a GraphQL string token (where backslashes stand only in
// strings). Decoders turn such an escape into U+FFFD without a word, so a value would be stored
// corrupted: the transport checks requests with it, and JSON inside a string argument
// (dynamicProperties) is checked before it is decoded.
func LoneSurrogateEscape(raw string) bool {
	for i := strings.IndexByte(raw, '\\'); i >= 0 && i+1 < len(raw); {
		skip := 2
		if raw[i+1] == 'u' {
			r, ok := hex4(raw, i+2)
			switch {
			case ok && r >= 0xD800 && r < 0xDC00:
				low, lowOK := hex4(raw, i+8)
				if i+7 >= len(raw) || raw[i+6:i+8] != `\u` || !lowOK || low < 0xDC00 || low > 0xDFFF {
					return true
				}
				skip = 12
			case ok && r >= 0xDC00 && r <= 0xDFFF:
				return true
			}
		}
		next := strings.IndexByte(raw[min(i+skip, len(raw)):], '\\')
		if next < 0 {
			return false
		}
		i += skip + next
	}
	return false
}

// hex4 reads four hex digits at raw[i:].
func hex4(raw string, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	n, err := strconv.ParseUint(raw[i:i+4], 16, 32)
	return rune(n), err == nil
}
