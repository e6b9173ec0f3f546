package connect_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// provider is the npm oidc-provider authorization server of oidc/server.cjs, run under Node.
type provider struct {
	Issuer string
}

// installed makes sure oidc/node_modules matches oidc/package-lock.json (npm ci from the
// registry when it does not), as internal/clienttest does.
func installed(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs("oidc")
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
