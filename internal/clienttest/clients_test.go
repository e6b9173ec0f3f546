// Package clienttest drives Plugboard with the GraphQL clients front ends use: Apollo Client
// and urql under node --test, and graphql-http's GraphQL-over-HTTP audit (js/). The Go test
// starts the server on each database and hands its address and a key to the Node tests.
package clienttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// installed makes sure js/node_modules matches js/package-lock.json, with npm from the
// registry when it does not.
func installed(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs("js")
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("PLUGBOARD_TEST_REQUIRE_NODE") != "" {
			t.Fatal("node is not installed")
		}
		t.Skip("node is not installed (set PLUGBOARD_TEST_REQUIRE_NODE=1 to fail instead)")
	}
	lock, errLock := os.Stat(filepath.Join(dir, "package-lock.json"))
	marker, errMarker := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if errLock == nil && errMarker == nil && !marker.ModTime().Before(lock.ModTime()) {
		return dir
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return dir
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
