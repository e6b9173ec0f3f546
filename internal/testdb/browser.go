package testdb

import (
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium finds the system browser (Debian's chromium package). Without it the test is
// skipped, unless PLUGBOARD_TEST_REQUIRE_BROWSER is set (as CI does after installing it).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("PLUGBOARD_TEST_REQUIRE_BROWSER") != "" {
		t.Fatal("no Chromium found; install Debian's chromium package")
	}
	t.Skip("no Chromium found; install Debian's chromium package to run the browser tests")
	return ""
}

// BrowserOptions start the browser at path headless in a w×h window with a fresh profile, and
// without the background traffic (updates, sync, QUIC probes) that slows a test's first page.
func BrowserOptions(t testing.TB, path string, w, h int) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	)
}
