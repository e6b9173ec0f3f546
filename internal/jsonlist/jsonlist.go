// Package jsonlist reads the JSON lists stored in columns (variables, categories, auth scheme
// configs) as encoding/json would, faster for the shapes the columns hold.
package jsonlist

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/plugboard/plugboard/internal/domain"
)

// Variables and categories are read on every row of a list, and encoding/json's reflection was
// a tenth of a page's time. These readers handle the shape the columns hold (jsonb output or
// json.Marshal's) when no string needs unescaping, and hand anything else to encoding/json,
// so they never decide differently from it.

// jsonScanner reads a JSON text without escapes; ok turns false at the first surprise.
type jsonScanner struct {
	s  string
	i  int
	ok bool
}

func (p *jsonScanner) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
		p.i++
	}
}

// next reports whether the next non-space byte is c, consuming it if so.
func (p *jsonScanner) next(c byte) bool {
	p.space()
	if p.ok && p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonScanner) expect(c byte) {
	if !p.next(c) {
		p.ok = false
	}
}

// str reads a string holding no escape or control character.
func (p *jsonScanner) str() string {
	p.expect('"')
	if !p.ok {
		return ""
	}
	start := p.i
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			if !utf8.ValidString(v) {
				p.ok = false
			}
			return v
		case c == '\\' || c < 0x20:
			p.ok = false
			return ""
		}
	}
	p.ok = false
	return ""
}

// start reads the opening of [item, ...] and reports whether an item follows; an empty list
// must end the text.
func (p *jsonScanner) start() bool {
	p.expect('[')
	if p.next(']') {
		p.finish()
		return false
	}
	return p.ok
}

// more, after an item, reports whether another follows; the list's closing bracket must end
// the text.
func (p *jsonScanner) more() bool {
	if p.next(',') {
		return true
	}
	p.expect(']')
	p.finish()
	return false
}

func (p *jsonScanner) finish() {
	p.space()
	if p.i != len(p.s) {
		p.ok = false
	}
}

// The decoders loop with start and more rather than taking a callback, and size their result
// from a count of separators: a closure and the appends' regrowth were most of a list's
// allocations.

// Strings reads a list of strings.
func Strings(s string) ([]string, error) {
	p := jsonScanner{s: s, ok: true}
	out := make([]string, 0, strings.Count(s, ",")+1)
	for item := p.start(); item; item = p.more() {
		out = append(out, p.str())
	}
	if p.ok {
		return out, nil
	}
	return out, Decode(s, &out)
}

// Variables reads a list of name-value pairs.
func Variables(s string) ([]domain.Variable, error) {
	p := jsonScanner{s: s, ok: true}
	out := make([]domain.Variable, 0, strings.Count(s, "{"))
	for item := p.start(); item; item = p.more() {
		var v domain.Variable
		var name, value bool
		p.expect('{')
		for p.ok && !(name && value) {
			key := p.str()
			p.expect(':')
			switch {
			case key == "name" && !name:
				v.Name, name = p.str(), true
			case key == "value" && !value:
				v.Value, value = p.str(), true
			default:
				p.ok = false
			}
			if !(name && value) {
				p.expect(',')
			}
		}
		p.expect('}')
		out = append(out, v)
	}
	if p.ok {
		return out, nil
	}
	return out, Decode(s, &out)
}

// Decode reads any list with encoding/json; an empty column is an empty list.
func Decode[T any](s string, out *[]T) error {
	*out = []T{}
	if s == "" || s == "[]" {
		return nil // most lists are empty: skip the decoder
	}
	return json.Unmarshal([]byte(s), out)
}
