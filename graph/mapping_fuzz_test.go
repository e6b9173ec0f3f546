package graph

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/domain"
)

// FuzzUpdateInputMapping feeds arbitrary updateConnector inputs through the mapping, the
// validation and the update-and-unset rule: nothing panics, failures are BAD_USER_INPUT (or
// CONFLICT for a stale revision), omitted lists stay as they were, and a success replaces
// every field with the normalized input.
func FuzzUpdateInputMapping(f *testing.F) {
	f.Add(`{"name":"Stripe","protocolType":"HTTP","baseURL":"https://api.stripe.com"}`, true, false, 1)
	f.Add(`{"name":"","protocolType":"BIGQUERY"}`, false, true, 2)
	f.Add(`{"name":"x","protocolType":"HTTP","categories":["a","A"]}`, true, true, 1)
	f.Add(`{"name":"x","protocolType":"HTTP","iconURL":"ftp://x","description":"  "}`, false, false, 0)
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
			ConnectorFields:     domain.ConnectorFields{Name: "Old", ProtocolType: domain.ProtocolHTTP},
			AuthSchemeConfigs:   []domain.AuthSchemeConfig{{Key: "a"}, {Key: "b"}},
			ConnectionVariables: []domain.Variable{{Name: "V", Value: "1"}},
		}
		update := connectorUpdate(in, &rev)
		if err := update.Validate(); err != nil {
			if domain.ErrorCode(err) != domain.CodeBadUserInput {
				t.Fatalf("validation: want BAD_USER_INPUT, got %v", err)
			}
			return
		}
		got, err := update.Apply(stored)
		if err != nil {
			if code := domain.ErrorCode(err); code != domain.CodeBadUserInput && code != domain.CodeConflict {
				t.Fatalf("apply: want BAD_USER_INPUT or CONFLICT, got %v", err)
			}
			return
		}
		if rev != 1 {
			t.Fatalf("applied with expected revision %d against revision 1", rev)
		}
		if got.Name == "" || got.ProtocolType == "" {
			t.Fatal("a required field was unset")
		}
		if !withIDs && (len(got.AuthSchemeConfigs) != 2 || got.AuthSchemeConfigs[0].Key != "a") {
			t.Fatal("omitted authSchemeConfigIDs changed the configs")
		}
		if withIDs && got.AuthSchemeConfigs[0].Key != "b" {
			t.Fatal("authSchemeConfigIDs did not reorder")
		}
		if !withVars && (len(got.ConnectionVariables) != 1 || got.ConnectionVariables[0].Name != "V") {
			t.Fatal("omitted connectionVariables changed the variables")
		}
		if (in.Description == nil) != (got.Description == nil) && got.Description != nil {
			t.Fatal("an omitted description was not unset")
		}
		if in.BaseURL == nil && got.BaseURL != nil {
			t.Fatal("an omitted baseURL was not unset")
		}
	})
}
