package cli_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the system browser (Debian's chromium package). Without it the test is
// skipped, unless PLUGBOARD_TEST_REQUIRE_BROWSER is set (as CI does after installing it).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("PLUGBOARD_TEST_REQUIRE_BROWSER") != "" {
		t.Fatal("no Chromium found; install Debian's chromium package")
	}
	t.Skip("no Chromium found; install Debian's chromium package to run the browser test")
	return ""
}

// TestPlaygroundInBrowser starts `plugboard serve` on the embedded SQLite default, opens the
// playground in headless Chromium, enters an API key, runs a query and reads the answer on the
// page. The screenshot goes to $PLUGBOARD_TEST_ARTIFACTS (or the temp dir).
func TestPlaygroundInBrowser(t *testing.T) {
	browser := chromium(t)
	t.Setenv("PLUGBOARD_DATABASE_URL", filepath.Join(t.TempDir(), "plugboard.db"))
	orgName := "Browser Org " + time.Now().Format("150405")
	orgOut, _, code := run(t, "org", "create", orgName)
	if code != 0 {
		t.Fatal("org create failed")
	}
	secretOut, _, _ := run(t, "key", "create", "--org", strings.TrimSpace(orgOut), "--name", "browser", "--scopes", "connectors:read")
	secret := strings.TrimSpace(secretOut)
	srv := startServe(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	// The first action starts the browser: its context must not carry the deadline.
	query := "{ viewer { organisation { name } scopes } }"
	err := chromedp.Do(ctx, chromedp.Navigate(srv.base+"/?query="+url.QueryEscape(query)))
	var result string
	if err == nil {
		steps, cancelSteps := context.WithTimeout(ctx, 60*time.Second)
		defer cancelSteps()
		err = chromedp.Do(steps,
			chromedp.WaitVisible(chromedp.ID("token")),
			chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")),
			chromedp.SendKeys(chromedp.ID("token"), secret),
			chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
		)
		if err == nil {
			_, err = chromedp.Run(steps, chromedp.Poll[bool](`(document.querySelector('.result-window') || {innerText: ''}).innerText.includes('CONNECTORS_READ')`, chromedp.WithPollingTimeout(30*time.Second)))
		}
		if err == nil {
			result, err = chromedp.Run(steps, chromedp.Text(chromedp.CSS(".result-window")))
		}
	}
	screenshot, _ := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	dir := os.Getenv("PLUGBOARD_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "plugboard-test-artifacts")
	}
	if len(screenshot) > 0 && os.MkdirAll(dir, 0o755) == nil {
		path := filepath.Join(dir, "playground.png")
		if os.WriteFile(path, screenshot, 0o644) == nil {
			t.Logf("screenshot: %s", path)
		}
	}
	if err != nil {
		t.Fatalf("browser: %v (page text so far: %q)", err, result)
	}
	if !strings.Contains(result, orgName) || !strings.Contains(result, "CONNECTORS_READ") {
		t.Errorf("the result on the page lacks the organisation: %q", result)
	}
	if logs := srv.wait(t); strings.Contains(logs, secret) {
		t.Error("the key reached the server log")
	}
}
