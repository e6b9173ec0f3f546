package graph_test

import (
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

const patchVariables = `mutation($c: ID!, $p: [PropertyInput!], $d: String) {
  patchConnectorVariables(connectorId: $c, properties: $p, dynamicProperties: $d) { connectionVariables { name value } revision } }`

func TestPatchConnectorVariables(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := mustCreate(t, c, map[string]any{"name": "Patch", "protocolType": "HTTP", "connectionVariables": []any{
			map[string]any{"name": "APIKey", "value": "old"}, map[string]any{"name": "Endpoint", "value": "e1"},
		}}).String("createConnector.id")

		t.Run("DesignExample", func(t *testing.T) {
			r := c.Do(t, patchVariables, map[string]any{"c": id,
				"p": []any{map[string]any{"name": "APIKey", "value": "mid"}},
				"d": `{"APIKey":"new","Timeout":"60s"}`}).OK(t)
			want := `[{"name":"APIKey","value":"new"},{"name":"Endpoint","value":"e1"},{"name":"Timeout","value":"60s"}]`
			if got := r.JSON("patchConnectorVariables.connectionVariables"); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			if r.Int("patchConnectorVariables.revision") != 2 {
				t.Errorf("revision must go up")
			}
		})
		t.Run("PropertiesOnly", func(t *testing.T) {
			r := c.Do(t, patchVariables, map[string]any{"c": id, "p": []any{map[string]any{"name": "Endpoint", "value": "e2"}}}).OK(t)
			want := `[{"name":"APIKey","value":"new"},{"name":"Endpoint","value":"e2"},{"name":"Timeout","value":"60s"}]`
			if got := r.JSON("patchConnectorVariables.connectionVariables"); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
		t.Run("JSONScalars", func(t *testing.T) {
			r := c.Do(t, patchVariables, map[string]any{"c": id, "d": `{"Retries": 5, "Debug": true, "Ratio": 1.5}`}).OK(t)
			vars := r.List("patchConnectorVariables.connectionVariables")
			if len(vars) != 6 || r.String("patchConnectorVariables.connectionVariables.3.value") != "5" || r.String("patchConnectorVariables.connectionVariables.4.value") != "true" {
				t.Errorf("numbers and booleans must be kept as their text: %s", r.Body)
			}
		})
		before := snapshot(t, c, id)
		bad := []struct {
			name  string
			vars  map[string]any
			field string
		}{
			{"ErrInvalidJSON", map[string]any{"d": `{"a": `}, "dynamicProperties"},
			{"ErrNotAnObject", map[string]any{"d": `["a"]`}, "dynamicProperties"},
			{"ErrString", map[string]any{"d": `"a"`}, "dynamicProperties"},
			{"ErrNestedObject", map[string]any{"d": `{"a": {"b": "c"}}`}, "dynamicProperties"},
			{"ErrNestedArray", map[string]any{"d": `{"a": [1]}`}, "dynamicProperties"},
			{"ErrNull", map[string]any{"d": `{"a": null}`}, "dynamicProperties"},
			{"ErrTrailing", map[string]any{"d": `{"a": "b"} {}`}, "dynamicProperties"},
			{"ErrBadJSONName", map[string]any{"d": `{"not valid": "x"}`}, "dynamicProperties"},
			{"ErrBadPropertyName", map[string]any{"p": []any{map[string]any{"name": "9lives", "value": "x"}}}, "properties[0].name"},
			{"ErrGoodPropertyBadJSON", map[string]any{"p": []any{map[string]any{"name": "Fine", "value": "x"}}, "d": `{"x":`}, "dynamicProperties"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				tc.vars["c"] = id
				c.Do(t, patchVariables, tc.vars).ExpectError(t, "BAD_USER_INPUT", tc.field)
				if snapshot(t, c, id) != before {
					t.Fatal("a rejected patch changed the connector")
				}
			})
		}
	})
}
