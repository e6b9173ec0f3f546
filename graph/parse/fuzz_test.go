package parse

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/domain"
)

// FuzzUpdateInputMapping feeds arbitrary updateConnector inputs through the mapping, the
// validation and the update-and-unset rule: nothing panics, failures are BAD_USER_INPUT (or
// CONFLICT, exactly when an expected revision other than the stored one is given; a negative
// rev gives none), omitted lists stay as they were, and a success sets every field to the
// normalized input, worked out here: trimmed strings, blank or omitted ones unset.
func FuzzUpdateInputMapping(f *testing.F) {
	f.Add(`{"name":"Stripe","protocolType":"HTTP","baseURL":"https://api.stripe.com"}`, true, false, 1)
	f.Add(`{"name":"","protocolType":"BIGQUERY"}`, false, true, 2)
	f.Add(`{"name":"x","protocolType":"HTTP","categories":["a","A"]}`, true, true, 1)
	f.Add(`{"name":"x","protocolType":"HTTP","iconURL":"ftp://x","description":"  "}`, false, false, 0)
	f.Add(`{"name":" x ","protocolType":"BIGQUERY","description":" d ","documentationURL":" https://d.example ","iconURL":"","categories":[" c "]}`, false, false, -1)
	f.Add(`{"name":"x","protocolType":"HTTP"}`, false, false, 7)
	f.Fuzz(func(t *testing.T, fields string, withIDs, withVars bool, rev int) {
		var in generated.UpdateConnectorInput
		if json.Unmarshal([]byte(fields), &in) != nil {
			return
		}
		if withIDs {
			in.AuthSchemeConfigIDs = graphql.OmittableOf([]string{"b", "a"})
		}
		if withVars {
			in.ConnectionVariables = graphql.OmittableOf([]generated.ConnectionVariableInput{{Name: "Region", Value: "us"}})
		}
		stored := domain.Connector{ID: "c", Revision: 1,
			ConnectorFields: domain.ConnectorFields{Name: "Old", Description: ptr("old"), ProtocolType: domain.ProtocolHTTP,
				DocumentationURL: ptr("https://old.example/docs"), IconURL: ptr("https://old.example/i.png"),
				BaseURL: ptr("https://old.example"), Categories: []string{"old"}},
			AuthSchemeConfigs:   []domain.AuthSchemeConfig{{Key: "a"}, {Key: "b"}},
			ConnectionVariables: []domain.Variable{{Name: "V", Value: "1"}},
		}
		var expected *int
		if rev >= 0 {
			expected = &rev
		}
		update := ConnectorUpdate(in, expected)
		if err := update.Validate(); err != nil {
			if domain.ErrorCode(err) != domain.CodeBadUserInput {
				t.Fatalf("validation: want BAD_USER_INPUT, got %v", err)
			}
			return
		}
		got, err := update.Apply(stored)
		if code := domain.ErrorCode(err); (code == domain.CodeConflict) != (expected != nil && *expected != stored.Revision) {
			t.Fatalf("expected revision %v against revision %d: %v", expected, stored.Revision, err)
		}
		if err != nil {
			if code := domain.ErrorCode(err); code != domain.CodeBadUserInput && code != domain.CodeConflict {
				t.Fatalf("apply: want BAD_USER_INPUT or CONFLICT, got %v", err)
			}
			return
		}
		want := domain.ConnectorFields{
			Name: strings.TrimSpace(deref(in.Name)), Description: trimmed(in.Description),
			DocumentationURL: trimmed(in.DocumentationURL), IconURL: trimmed(in.IconURL), BaseURL: trimmed(in.BaseURL),
		}
		if in.ProtocolType != nil {
			want.ProtocolType = *in.ProtocolType
		}
		for _, c := range in.Categories {
			want.Categories = append(want.Categories, strings.TrimSpace(c))
		}
		if got.Name != want.Name || got.ProtocolType != want.ProtocolType || !slices.Equal(got.Categories, want.Categories) {
			t.Fatalf("fields %+v, want %+v", got.ConnectorFields, want)
		}
		for _, f := range []struct {
			name      string
			got, want *string
		}{{"description", got.Description, want.Description}, {"documentationURL", got.DocumentationURL, want.DocumentationURL},
			{"iconURL", got.IconURL, want.IconURL}, {"baseURL", got.BaseURL, want.BaseURL}} {
			if (f.got == nil) != (f.want == nil) || (f.got != nil && *f.got != *f.want) {
				t.Fatalf("%s = %v, want %v (input %s)", f.name, show(f.got), show(f.want), fields)
			}
		}
		if !withIDs && (len(got.AuthSchemeConfigs) != 2 || got.AuthSchemeConfigs[0].Key != "a") {
			t.Fatal("omitted authSchemeConfigIDs changed the configs")
		}
		if withIDs && (len(got.AuthSchemeConfigs) != 2 || got.AuthSchemeConfigs[0].Key != "b") {
			t.Fatal("authSchemeConfigIDs did not reorder")
		}
		if !withVars && (len(got.ConnectionVariables) != 1 || got.ConnectionVariables[0].Name != "V") {
			t.Fatal("omitted connectionVariables changed the variables")
		}
		if withVars && (len(got.ConnectionVariables) != 1 || got.ConnectionVariables[0] != (domain.Variable{Name: "Region", Value: "us"})) {
			t.Fatal("connectionVariables did not overwrite the variables")
		}
	})
}

func ptr[T any](v T) *T { return &v }

func deref[T any](s *T) T {
	var zero T
	if s == nil {
		return zero
	}
	return *s
}

// trimmed is an optional string as the update-and-unset rule stores it: trimmed, blank unset.
func trimmed(s *string) *string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	return ptr(strings.TrimSpace(*s))
}

func show(s *string) string {
	if s == nil {
		return "unset"
	}
	return strconv.Quote(*s)
}
