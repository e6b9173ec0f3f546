// Package clienttest drives Plugboard with the GraphQL clients front ends use: Apollo Client
// and urql under node --test, and graphql-http's GraphQL-over-HTTP audit (js/). The Go test
// starts the server on each database and hands its address and a key to the Node tests.
package clienttest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// installed makes sure js/node_modules matches js/package-lock.json, with npm from the
// registry when it does not.
func installed(t *testing.T) string {
	return testdb.NodePackages(t, "js", false)
}

func TestRealClients(t *testing.T) {
	dir := installed(t)
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.New(t, st)
		c := h.NewOrg(t)
		cmd := exec.CommandContext(t.Context(), "node", "--test", "--test-reporter=spec")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PLUGBOARD_URL="+h.Server.URL+"/graphql", "PLUGBOARD_KEY="+c.Token, "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node --test: %v\n%s", err, out)
		}
		t.Logf("%s", out)
	})
}
