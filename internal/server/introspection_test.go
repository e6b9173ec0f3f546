package server_test

import (
	"slices"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// TestIntrospectedDirectives asks the running server which directives it advertises: gqlgen's
// code-generation directive goField must not show (it means nothing to a client), nor defer,
// since no transport here streams incremental results; an operation using @defer is refused
// by validation rather than answered whole as if the directive were honoured.
func TestIntrospectedDirectives(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		c := apitest.New(t, st).NewOrg(t)
		r := c.Do(t, `{ __schema { directives { name description } } }`, nil).OK(t)
		var names []string
		for _, d := range r.List("__schema.directives") {
			d := d.(map[string]any)
			names = append(names, d["name"].(string))
			if d["description"] == nil || d["description"] == "" {
				t.Errorf("directive @%s has no description", d["name"])
			}
		}
		for _, hidden := range []string{"goField", "defer"} {
			if slices.Contains(names, hidden) {
				t.Errorf("@%s is advertised: %v", hidden, names)
			}
		}
		for _, shown := range []string{"include", "skip", "deprecated", "hasScope"} {
			if !slices.Contains(names, shown) {
				t.Errorf("@%s is missing: %v", shown, names)
			}
		}
		d := c.Do(t, `{ viewer { ... @defer { scopes } } }`, nil)
		if d.Code() != "BAD_USER_INPUT" || d.Errors[0].Extensions["reason"] != "GRAPHQL_VALIDATION_FAILED" || d.Data != nil {
			t.Errorf("@defer must be refused as an unknown directive: %d %s", d.Status, d.Body)
		}
	})
}
