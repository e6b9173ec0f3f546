package domain

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

// changedByJSON is the definition ChangedFields must agree with: encode both values whole
// and compare field by field.
func changedByJSON(before, after any) []string {
	var b, a map[string]json.RawMessage
	bb, _ := json.Marshal(before)
	ab, _ := json.Marshal(after)
	_ = json.Unmarshal(bb, &b)
	_ = json.Unmarshal(ab, &a)
	var names []string
	t := reflect.Indirect(reflect.ValueOf(after)).Type()
	for i := 0; i < t.NumField(); i++ {
		if name, _ := jsonField(t.Field(i)); name != "" && string(a[name]) != string(b[name]) {
			names = append(names, name)
		}
	}
	return names
}

func TestChangedFieldsAgreesWithJSON(t *testing.T) {
	str := func(s string) *string { return &s }
	grant := OAuth2Grant("CLIENT_CREDENTIALS")
	type tagged struct {
		List   []string  `json:"list,omitempty"`
		Count  int       `json:"count,omitempty"`
		At     time.Time `json:"at"`
		Flag   bool      `json:"flag,omitempty"`
		hidden string
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name          string
		before, after any
		want          []string
	}{
		{"same connector", ConnectorFields{Name: "a", BaseURL: str("u")}, ConnectorFields{Name: "a", BaseURL: str("u")}, nil},
		{"changed connector", ConnectorFields{Name: "a", BaseURL: str("u"), Categories: []string{"x"}},
			ConnectorFields{Name: "b", BaseURL: str("v"), Categories: []string{"x"}}, []string{"name", "baseURL"}},
		{"set and unset", ConnectorFields{Description: str("d")}, ConnectorFields{IconURL: str("")}, []string{"description", "iconURL"}},
		{"nil and empty list", ConnectorFields{}, ConnectorFields{Categories: []string{}}, []string{"categories"}},
		{"from nothing", ConnectorFields{}, ConnectorFields{Name: "n", ProtocolType: ProtocolHTTP}, []string{"name", "protocolType"}},
		{"omitempty nil and empty", tagged{List: nil}, tagged{List: []string{}}, nil},
		{"omitempty zero", tagged{Count: 0, Flag: false}, tagged{Count: 1, Flag: true}, []string{"count", "flag"}},
		{"same instant elsewhere", tagged{At: at}, tagged{At: at.In(time.FixedZone("x", 0))}, nil},
		{"unexported ignored", tagged{hidden: "a"}, tagged{hidden: "b"}, nil},
		{"pointers", &tagged{Count: 1}, &tagged{Count: 2}, []string{"count"}},
		{"auth scheme", AuthSchemeConfig{Key: "a", OAuth2: &OAuth2Settings{Grant: &grant}},
			AuthSchemeConfig{Key: "a", OAuth2: &OAuth2Settings{Grant: &grant, Scopes: []string{"s"}}, VerifySSL: true}, []string{"oauth2", "verifySSL"}},
		{"auth scheme settings dropped", AuthSchemeConfig{Key: "a", APIKey: &APIKeySettings{In: "HEADER"}}, AuthSchemeConfig{Key: "a"}, []string{"apiKey"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ChangedFields(tc.before, tc.after)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("ChangedFields = %v, want %v", got, tc.want)
			}
			if ref := changedByJSON(tc.before, tc.after); !slices.Equal(got, ref) {
				t.Fatalf("ChangedFields = %v, the JSON forms differ in %v", got, ref)
			}
		})
	}
}
