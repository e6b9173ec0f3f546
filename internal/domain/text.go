package domain

import (
	"fmt"
	"reflect"
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

// CheckTextIn applies CheckText to every string v holds (structs, pointers, slices, maps),
// for values read out of a document (an import, an applied connector document) rather than
// from the request's own strings: the JSON escape \u0000 inside a document is six harmless
// characters to the request and a NUL once the document is parsed. The error is on field and
// names where the string is: at, then the path of JSON field names ("actions[2].path").
func CheckTextIn(field, at string, v any) error {
	if where, ok := badText(reflect.ValueOf(v), ""); !ok {
		if at != "" && where != "" {
			where = at + ": " + where
		} else if at != "" {
			where = at
		}
		return Invalid(field, "%s must not contain NUL characters (U+0000) or invalid UTF-8", where)
	}
	return nil
}

// badText finds the first string in v that CheckText refuses and returns its path.
func badText(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		if CheckText("", v.String()) != nil {
			return path, false
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return badText(v.Elem(), path)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if where, ok := badText(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); !ok {
				return where, false
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			if where, ok := badText(iter.Key(), path+" key"); !ok {
				return where, false
			}
			if where, ok := badText(iter.Value(), joinPath(path, key)); !ok {
				return where, false
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name[:1]) + f.Name[1:]
			}
			if where, ok := badText(v.Field(i), joinPath(path, name)); !ok {
				return where, false
			}
		}
	}
	return "", true
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
