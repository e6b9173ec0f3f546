package clienttest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// TestWebhookClients runs js/webhooks.mjs against two servers sharing one database: on
// PostgreSQL two processes' worth (own pools, own LISTEN connections); on SQLite, which one
// server owns, two handlers over one store and bus.
func TestWebhookClients(t *testing.T) {
	dir := installed(t)
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			var a, b *apitest.Harness
			if d == store.SQLite {
				st := testdb.Open(t, d)
				bus := apitest.NewBus(t, st, "")
				a = apitest.NewWithOptions(t, st, apitest.Options{Bus: bus})
				b = apitest.NewWithOptions(t, st, apitest.Options{Bus: bus})
			} else {
				url := testdb.PostgresURL(t)
				open := func() *store.Store {
					st, err := store.Open(url, store.Options{})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { st.Close() })
					st.Secrets = testdb.Keyring
					return st
				}
				stA, stB := open(), open()
				a = apitest.NewWithOptions(t, stA, apitest.Options{Bus: apitest.NewBus(t, stA, url)})
				b = apitest.NewWithOptions(t, stB, apitest.Options{Bus: apitest.NewBus(t, stB, url)})
			}
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
