package graph_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

// TestConnectorFilterLimits: a nameContains of 50,000 bytes was an internal error on SQLite
// ("LIKE or GLOB pattern too complex"). Filter strings are a request limit: BAD_USER_INPUT
// with reason LIMIT_EXCEEDED on both databases, through either executor.
func TestConnectorFilterLimits(t *testing.T) {
	many := make([]any, 51)
	for i := range many {
		many[i] = "c"
	}
	cases := []struct {
		name   string
		filter map[string]any
		field  string // "" when the filter is accepted
	}{
		{"NameContainsHuge", map[string]any{"nameContains": strings.Repeat("a", 50001)}, "filter.nameContains"},
		{"NameContainsOverLimit", map[string]any{"nameContains": strings.Repeat("é", 201)}, "filter.nameContains"},
		{"NameContainsAtLimit", map[string]any{"nameContains": strings.Repeat("é", 200)}, ""},
		{"CategoryTooLong", map[string]any{"categories": []any{"ok", strings.Repeat("c", 65)}}, "filter.categories[1]"},
		{"CategoriesTooMany", map[string]any{"categories": many}, "filter.categories"},
		{"CategoriesAtLimit", map[string]any{"categories": many[:50]}, ""},
	}
	queries := map[string]string{
		"Direct":     `query($f: ConnectorFilter) { connectors(filter: $f) { nodes { id } } }`,
		"TotalCount": `query($f: ConnectorFilter) { connectors(filter: $f) { totalCount } }`,
	}
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		mustCreate(t, c, map[string]any{"name": "Filtered", "protocolType": "HTTP"})
		for _, tc := range cases {
			for qname, q := range queries {
				t.Run(tc.name+"/"+qname, func(t *testing.T) {
					r := c.Do(t, q, map[string]any{"f": tc.filter})
					if tc.field == "" {
						r.OK(t)
						return
					}
					r.ExpectError(t, "BAD_USER_INPUT", tc.field)
					if reason := r.Errors[0].Extensions["reason"]; reason != "LIMIT_EXCEEDED" {
						t.Fatalf("reason = %v, want LIMIT_EXCEEDED: %s", reason, r.Body)
					}
				})
			}
		}
	})
}
