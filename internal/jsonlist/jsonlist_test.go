package jsonlist

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

var jsonListSeeds = []string{
	`[]`, ` [ ] `, `[{"name":"a","value":"b"}]`, `[{"name": "a", "value": "b"}, {"name": "c", "value": ""}]`,
	`[{"value":"b","name":"a"}]`, `[{"name":"a\"q","value":"\u00e9"}]`, `[{"name":"a","value":"b","x":1}]`,
	`[{"name":"a","name":"b","value":"c"}]`, `[{"NAME":"a","value":"b"}]`, `[{"name":null,"value":"b"}]`,
	`[{"name":"a","value":"b"},]`, `[{"name":"a","value":"b"}] x`, `["a", "b"]`, `["a","b\n"]`, `[1]`, `null`, ``,
	"[\"\xff\"]", `{"name":"a"}`, `[{"name":"a"}]`, `[{"name":"a","value":"tab	in"}]`,
}

// The fast readers must give what encoding/json gives, or fail when it fails.
func checkSameAsEncodingJSON[T any](t *testing.T, s string, fast func(string) ([]T, error)) {
	got, gotErr := fast(s)
	want := []T{}
	wantErr := json.Unmarshal([]byte(s), &want)
	if s == "" {
		wantErr = nil // Decode reads an empty column as an empty list
	}
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json: %v", s, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%q: got %#v, encoding/json: %#v", s, got, want)
	}
}

func TestJSONListReaders(t *testing.T) {
	for _, s := range jsonListSeeds {
		checkSameAsEncodingJSON(t, s, Variables)
		checkSameAsEncodingJSON(t, s, Strings)
	}
}

func FuzzJSONListReaders(f *testing.F) {
	for _, s := range jsonListSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSameAsEncodingJSON[domain.Variable](t, s, Variables)
		checkSameAsEncodingJSON(t, s, Strings)
	})
}
