package clienttest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/testdb"
)

// TestWebhookClients runs js/webhooks.mjs against two servers sharing one database: on
// PostgreSQL two processes' worth (own pools, own LISTEN connections); on SQLite, which one
// server owns, two handlers over one store and bus.
func TestWebhookClients(t *testing.T) {
	dir := installed(t)
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			a, b := apitest.TwoServers(t, d, apitest.Options{})
			c := a.NewOrg(t)
			cmd := exec.CommandContext(t.Context(), "node", "--test", "--test-reporter=spec", "webhooks.mjs")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PLUGBOARD_URL="+a.Server.URL+"/graphql", "PLUGBOARD_URL_B="+b.Server.URL+"/graphql",
				"PLUGBOARD_KEY="+c.Token, "NO_COLOR=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node --test webhooks.mjs: %v\n%s", err, out)
			}
			t.Logf("%s", out)
		})
	}
}
