package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

// A variable whose value does not fit its type is reported at the argument field it fills,
// as the same value written in the query would be, not under the variable's own name.
func TestBadVariablesNameTheArgumentField(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		for _, tc := range []struct {
			name, query string
			vars        map[string]any
			field       string
		}{
			{"ScalarArgument", `query($n: Int) { connectors(first: $n) { totalCount } }`, map[string]any{"n": "ten"}, "first"},
			{"ScalarInInputLiteral", `mutation($n: String!) { createConnector(input: {name: $n, protocolType: HTTP}) { id } }`, map[string]any{"n": 5}, "name"},
			{"ScalarInListLiteral", `mutation($v: String!) { createConnector(input: {name: "X", protocolType: HTTP, connectionVariables: [{name: "a", value: "b"}, {name: "c", value: $v}]}) { id } }`, map[string]any{"v": []any{1}}, "connectionVariables[1].value"},
			{"ScalarThroughFragment", `query($n: Int) { ...Q } fragment Q on Query { connectors(first: $n) { totalCount } }`, map[string]any{"n": true}, "first"},
			{"InputObject", `mutation($in: CreateConnectorInput!) { createConnector(input: $in) { id } }`, map[string]any{"in": map[string]any{"name": 5, "protocolType": "HTTP"}}, "name"},
			{"InputObjectInLiteral", `mutation($p: ConnectionVariableInput!) { createConnector(input: {name: "X", protocolType: HTTP, connectionVariables: [$p]}) { id } }`, map[string]any{"p": map[string]any{"name": "a", "value": 7}}, "connectionVariables[0].value"},
			{"NullCondition", `query($s: Boolean = false) { connectors(first: 1) { nodes { id @skip(if: $s) } } }`, map[string]any{"s": nil}, "s"},
			{"NullConditionInFragment", `query($s: Boolean = true) { ...V } fragment V on Query { viewer @include(if: $s) { scopes } }`, map[string]any{"s": nil}, "s"},
			{"ListAsString", `mutation($n: String!) { createConnector(input: {name: $n, protocolType: HTTP}) { id } }`, map[string]any{"n": []any{"a"}}, "name"},
			{"HugeInt", `query($n: Int) { connectors(first: $n) { totalCount } }`, map[string]any{"n": json.Number("1e30")}, "first"},
			{"ListAsInputObject", `mutation($in: CreateConnectorInput!) { createConnector(input: $in) { id } }`, map[string]any{"in": []any{1}}, "input"},
			{"JSONNotAnObject", `mutation($c: ID!, $in: JSON) { executeAction(connectionId: $c, action: "x", input: $in) { ok } }`, map[string]any{"c": "00000000-0000-0000-0000-000000000000", "in": []any{1, 2}}, "input"},
			{"DirectiveOnly", `query($s: Boolean!) { viewer @skip(if: $s) { scopes } }`, map[string]any{"s": "yes"}, "s"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(t, tc.query, tc.vars).ExpectError(t, "BAD_USER_INPUT", tc.field)
				if strings.HasPrefix(r.Message(), tc.field+": is ") || strings.HasPrefix(r.Message(), tc.field+": must ") {
					t.Errorf("a predicate takes the field as its subject (\"name is required\"): %s", r.Message())
				}
				for _, goWord := range []string{"slice", "map", "interface {}", "float64", "int64", "value 0"} {
					if strings.Contains(r.Message(), goWord) {
						t.Errorf("the message speaks Go: %s", r.Message())
					}
				}
			})
		}
	})
}

// JSON inside a string argument is checked before it is decoded: an escape of half a surrogate
// pair would otherwise be stored as U+FFFD (a credential corrupted without a word).
func TestDynamicPropertiesRefuseLoneSurrogates(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := c.Do(t, `mutation { createConnector(input: {name: "Surrogates", protocolType: HTTP}) { id } }`, nil).OK(t).String("createConnector.id")
		c.Do(t, `mutation($id: ID!, $d: String) { patchConnectorVariables(connectorId: $id, dynamicProperties: $d) { id } }`,
			map[string]any{"id": id, "d": `{"a": "x\udc00"}`}).ExpectError(t, "BAD_USER_INPUT", "dynamicProperties")
		r := c.Do(t, `query($id: ID!) { connector(id: $id) { revision connectionVariables { name } } }`, map[string]any{"id": id}).OK(t)
		if r.Int("connector.revision") != 1 || len(r.List("connector.connectionVariables")) != 0 {
			t.Errorf("a refused patch changed the connector: %s", r.Body)
		}
	})
}

// A problem with a field reads as a sentence about it, not as "name: is required".
func TestFieldErrorsReadAsSentences(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		r := c.Do(t, `mutation { createConnector(input: {name: " ", protocolType: HTTP}) { id } }`, nil).ExpectError(t, "BAD_USER_INPUT", "name")
		if r.Message() != "name is required" {
			t.Errorf("message %q, want %q", r.Message(), "name is required")
		}
	})
}
