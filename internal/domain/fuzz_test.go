package domain_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

// FuzzParseDynamicProperties: the merge parser never panics, accepts only JSON objects of
// scalars, reads each value as encoding/json does (strings unescaped, numbers and booleans as
// their JSON text), keeps every key in order, and what it accepts survives a round trip: the
// pairs written back as a JSON object parse to the same pairs.
func FuzzParseDynamicProperties(f *testing.F) {
	for _, s := range []string{`{"APIKey":"new","Timeout":"60s"}`, `{}`, `{"a":1,"b":true,"c":1.5e3}`, `[]`, `{"a":{"b":1}}`, `{"a":null}`, `{"a":"\u00e9"}`, `{"a":"b"} x`, ``, `{`, `{"a":"1","a":"2"}`, `{"q":"\"\\\n"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pairs, err := domain.ParseDynamicProperties(s)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeBadUserInput {
				t.Fatalf("want BAD_USER_INPUT, got %v", err)
			}
			return
		}
		// The reference: encoding/json keeps the last of repeated keys.
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var obj map[string]any
		if dec.Decode(&obj) != nil || obj == nil {
			t.Fatalf("accepted %q, which is not a JSON object", s)
		}
		last := map[string]string{}
		for _, p := range pairs {
			last[p.Name] = p.Value
		}
		if len(last) != len(obj) {
			t.Fatalf("%q: parsed the names %v, encoding/json finds %d", s, pairs, len(obj))
		}
		for name, v := range obj {
			var want string
			switch v := v.(type) {
			case string:
				want = v
			case json.Number:
				want = v.String()
			case bool:
				want = strconv.FormatBool(v)
			default:
				t.Fatalf("accepted a nested or null value for %q: %v", name, v)
			}
			if got, ok := last[name]; !ok || got != want {
				t.Fatalf("%q: %q = %q (present %v), encoding/json reads %q", s, name, got, ok, want)
			}
		}
		// Round trip: write the pairs back (as strings, in order, repeats included) and read them.
		var b strings.Builder
		b.WriteByte('{')
		for i, p := range pairs {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(p.Name)
			v, _ := json.Marshal(p.Value)
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		again, err := domain.ParseDynamicProperties(b.String())
		if err != nil {
			t.Fatalf("%q: its pairs written back as %q do not parse: %v", s, b.String(), err)
		}
		if !slices.Equal(again, pairs) {
			t.Fatalf("%q: round trip through %q gave %v, want %v", s, b.String(), again, pairs)
		}
	})
}

// FuzzMergeProperties: merging never panics, and the result is exactly what the rule says:
// the stored list with each name's value replaced, properties then the JSON applied (the JSON
// winning on equal names), stored names in their place, and new names appended in the order
// they first appear. Every value given is applied unless the JSON overrides it; every stored
// value nobody mentions stays.
func FuzzMergeProperties(f *testing.F) {
	f.Add("APIKey", "mid", `{"APIKey":"new","Timeout":"60s"}`)
	f.Add("", "", `{}`)
	f.Add("a", "1", `{"a":2}`)
	f.Add("Endpoint", "e2", `{"Other":"x"}`)
	f.Add("New", "n", `{"Later":true,"New":"json"}`)
	f.Add("APIKey", "p", ``)
	f.Fuzz(func(t *testing.T, name, value, dynamic string) {
		stored := []domain.Variable{{Name: "APIKey", Value: "old"}, {Name: "Endpoint", Value: "e1"}}
		merged, err := domain.MergeProperties(stored, []domain.Property{{Name: name, Value: value}}, &dynamic, domain.ValidateVariableName)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeBadUserInput {
				t.Fatalf("want BAD_USER_INPUT, got %v", err)
			}
			return
		}
		if stored[0].Value != "old" || stored[1].Value != "e1" {
			t.Fatal("the merge modified the stored list")
		}
		// The model: assignments in order, properties first, then the JSON's pairs.
		assignments := []domain.Variable{{Name: name, Value: value}}
		if strings.TrimSpace(dynamic) != "" {
			pairs, err := domain.ParseDynamicProperties(dynamic)
			if err != nil {
				t.Fatalf("merged with dynamicProperties the parser refuses: %v", err)
			}
			assignments = append(assignments, pairs...)
		}
		want := slices.Clone(stored)
		for _, a := range assignments {
			i := slices.IndexFunc(want, func(v domain.Variable) bool { return v.Name == a.Name })
			if i < 0 {
				want = append(want, a)
			} else {
				want[i].Value = a.Value
			}
		}
		if !slices.Equal(merged, want) {
			t.Fatalf("merge of %q=%q and %q onto %v:\n got %v\nwant %v", name, value, dynamic, stored, merged, want)
		}
	})
}

// FuzzValidateVersionName: aliases are refused in every spelling; accepted names are usable.
func FuzzValidateVersionName(f *testing.F) {
	for _, s := range []string{"1.2.0", "default", "LATEST", " latest ", "Default\t", "v1+build", "", "-x", "2026.11"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := domain.ValidateVersionName("name", name)
		lower := strings.ToLower(strings.TrimSpace(name))
		if (lower == "latest" || lower == "default") && err == nil {
			t.Fatalf("accepted the alias %q", name)
		}
		if err == nil && (strings.TrimSpace(name) != name || name == "" || len(name) > 64) {
			t.Fatalf("accepted %q", name)
		}
		if err != nil && domain.ErrorCode(err) != domain.CodeBadUserInput {
			t.Fatalf("want BAD_USER_INPUT, got %v", err)
		}
	})
}

// FuzzValidateURL: only absolute http(s) URLs with a host and no credentials pass.
func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{"https://api.example.com/v1", "http://localhost:8080", "ftp://x", "/relative", "https://user:pw@x.com", "https://[::1]:80/", "javascript:alert(1)", "https://", "http://%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := domain.ValidateURL("u", &s); err == nil {
			u, perr := url.Parse(s)
			if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || len(s) > domain.MaxURLLength {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}
