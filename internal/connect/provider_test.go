package connect_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/testdb"
)

// provider is the npm oidc-provider authorization server of oidc/server.cjs, run under Node.
type provider struct {
	Issuer string
}

// installed makes sure oidc/node_modules matches oidc/package-lock.json (npm ci from the
// registry when it does not), as internal/clienttest does.
func installed(t *testing.T) string {
	return testdb.NodePackages(t, "oidc", false)
}

// startProvider runs the authorization server with redirectURIs registered for its clients
// (plugboard, confidential, and plugboard-public, with PKCE only); it stops with the test.
func startProvider(t *testing.T, redirectURIs ...string) *provider {
	t.Helper()
	dir := installed(t)
	cmd := exec.CommandContext(t.Context(), "node", "server.cjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDIRECT_URIS="+strings.Join(redirectURIs, ","))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if issuer, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				lines <- issuer
			}
		}
		close(lines)
	}()
	select {
	case issuer, ok := <-lines:
		if !ok {
			t.Fatalf("the authorization server ended before listening:\n%s", stderr.String())
		}
		return &provider{Issuer: issuer}
	case <-time.After(30 * time.Second):
		t.Fatalf("the authorization server is not listening after 30 s:\n%s", stderr.String())
	}
	return nil
}

// authorize plays the user's browser at the provider: it follows the authorization URL
// through login and consent (both automatic) and returns the URL the provider sends the
// browser back to (Plugboard's callback), without following it.
func (p *provider) authorize(t *testing.T, authorizationURL string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	var callback *url.URL
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/oauth/callback" {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := browser.Get(authorizationURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	res.Body.Close()
	if callback == nil {
		t.Fatalf("the provider did not send the browser back (HTTP %d at %s)", res.StatusCode, res.Request.URL)
	}
	return callback
}

// post calls a test hook of the provider.
func (p *provider) post(t *testing.T, path string) {
	t.Helper()
	res, err := http.Post(p.Issuer+path, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("%s: HTTP %d", path, res.StatusCode)
	}
}

// served counts the requests the provider answered (its test hooks aside).
func (p *provider) served(t *testing.T) int {
	t.Helper()
	res, err := http.Get(p.Issuer + "/test/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Served int }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Served
}
