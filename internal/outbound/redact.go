package outbound

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/plugboard/plugboard/internal/domain"
)

// redactor replaces secret values in text returned to clients or logged. An upstream may show
// a secret in any encoding it met or chose: the query string's escaping, a path's, the base64
// of Basic credentials, a JSON echo of the request (Go's, Python's ASCII-only, PHP's with
// escaped slashes), a header read as Latin-1 by a WSGI server. Every one of these forms of every
// value is redacted.
type redactor struct {
	values   []string
	seen     map[string]bool
	replacer *strings.Replacer // built on first use after a change
}

func newRedactor(creds []domain.ActionCredential) *redactor {
	r := &redactor{seen: map[string]bool{}}
	for _, c := range creds {
		for _, v := range c.Values {
			r.add(v.Value)
		}
		if c.Token != nil {
			r.add(c.Token.AccessToken)
			r.add(c.Token.RefreshToken)
		}
	}
	return r
}

// add registers a secret in all its forms; values under 4 characters would redact ordinary
// text and are left.
func (r *redactor) add(v string) {
	if len(v) < 4 {
		return
	}
	for _, f := range secretForms(v) {
		if !r.seen[f] {
			r.seen[f] = true
			r.values = append(r.values, f)
			r.replacer = nil
		}
	}
}

// secretForms returns v as it may appear in text: escaped for a query (with + or %20 for a
// space) or a path segment, base64 (standard and URL alphabets), as Latin-1
// mojibake, and each of these inside a JSON string.
func secretForms(v string) []string {
	query := url.QueryEscape(v)
	b := []byte(v)
	base := []string{
		v,
		query,
		strings.ReplaceAll(query, "+", "%20"), // JavaScript's encodeURIComponent
		url.PathEscape(v),
		// Unpadded: the padded form starts with it, and what is left, "=", tells nothing.
		base64.RawStdEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
		latin1(v),
	}
	var out []string
	for _, f := range base {
		out = append(out, f)
		if !changesInJSON(f) {
			// The common case (escaped and base64 forms), spared the encoders below.
			if strings.Contains(f, "/") {
				out = append(out, strings.ReplaceAll(f, "/", `\/`))
			}
			continue
		}
		// JSON encoders differ: Go's escapes & < > (HTML-safe), Python's and PHP's do not;
		// Python and PHP escape every non-ASCII character; PHP also escapes slashes.
		for _, escapeHTML := range []bool{true, false} {
			inJSON := jsonString(f, escapeHTML)
			for _, form := range []string{inJSON, jsonASCII(inJSON)} {
				out = append(out, form, strings.ReplaceAll(form, "/", `\/`))
			}
		}
	}
	return out
}

// changesInJSON reports whether some JSON encoder writes s otherwise than as it is (slashes
// aside): quotes, backslashes, control characters, & < >, anything beyond ASCII.
func changesInJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return true
		}
	}
	return false
}

// jsonString escapes v for the inside of a JSON string.
func jsonString(v string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(v) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")[1 : b.Len()-2]
}

// latin1 reads the bytes of v as Latin-1, as servers that decode header bytes that way do.
func latin1(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		b.WriteRune(rune(v[i]))
	}
	return b.String()
}

// jsonASCII turns the inside of a JSON string into ASCII, as Python's json.dumps does by
// default: every other character as \uXXXX, UTF-16 surrogate pairs beyond the Basic
// Multilingual Plane.
func jsonASCII(inJSON string) string {
	var b strings.Builder
	for _, c := range inJSON {
		switch {
		case c < utf8.RuneSelf:
			b.WriteRune(c)
		case c > 0xFFFF:
			hi, lo := utf16.EncodeRune(c)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&b, `\u%04x`, c)
		}
	}
	return b.String()
}

func (r *redactor) build() *strings.Replacer {
	if r.replacer == nil {
		// Longest first: where two forms start at one place, all of the longer one goes.
		sorted := slices.Clone(r.values)
		slices.SortStableFunc(sorted, func(a, b string) int { return len(b) - len(a) })
		pairs := make([]string, 0, 2*len(sorted))
		for _, v := range sorted {
			pairs = append(pairs, v, "[REDACTED]")
		}
		r.replacer = strings.NewReplacer(pairs...)
	}
	return r.replacer
}

func (r *redactor) redact(s string) string {
	// Most text holds no secret: finding that out is much cheaper than building the replacer.
	if !r.foundIn(s) {
		return s
	}
	return r.build().Replace(s)
}

// foundIn reports whether any form of a secret occurs in one of texts.
func (r *redactor) foundIn(texts ...string) bool {
	for _, t := range texts {
		for _, v := range r.values {
			if strings.Contains(t, v) {
				return true
			}
		}
	}
	return false
}
