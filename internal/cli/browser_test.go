package cli_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/chromedp/chromedp/kb"
	"github.com/plugboard/plugboard/internal/testdb"
)

// pageProbe runs in the playground before its own scripts: it counts the requests the page
// sends to /graphql and collects Content-Security-Policy violations, for the assertions below.
const pageProbe = `
window.__graphqlRequests = [];
window.__cspViolations = [];
const __fetch = window.fetch;
window.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : input.url;
  if (url.includes('/graphql')) window.__graphqlRequests.push(String(init && init.body || ''));
  return __fetch.apply(this, arguments);
};
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
`

// TestPlaygroundInBrowser starts `plugboard serve` on the embedded SQLite default and uses the
// playground in headless Chromium as a developer would: the page asks for a key and sends
// nothing before one is typed; a wrong key says in the bar why the schema did not load; the
// right key, typed over it, loads the schema; the Docs pane finds the Connector type and its
// fields; a query runs. The screenshot goes to $PLUGBOARD_TEST_ARTIFACTS (or the temp dir).
func TestPlaygroundInBrowser(t *testing.T) {
	browser := testdb.Chromium(t)
	t.Setenv("PLUGBOARD_DATABASE_URL", filepath.Join(t.TempDir(), "plugboard.db"))
	orgName := "Browser Org " + time.Now().Format("150405")
	orgOut, _, code := run(t, "org", "create", orgName)
	if code != 0 {
		t.Fatal("org create failed")
	}
	secretOut, _, _ := run(t, "key", "create", "--org", strings.TrimSpace(orgOut), "--name", "browser", "--scopes", "connectors:read")
	secret := strings.TrimSpace(secretOut)
	srv := startServe(t)

	opts := testdb.BrowserOptions(t, browser, 1280, 800)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	// The first action starts the browser: its context must not carry the deadline.
	query := "{ viewer { organisation { name } scopes } }"
	err := chromedp.Do(ctx, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageProbe})
		return chromedp.Void{}, err
	})
	steps, cancelSteps := context.WithTimeout(ctx, 90*time.Second)
	defer cancelSteps()
	// stage names the step that failed in the error.
	stage := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		if err == nil {
			if err = chromedp.Do(steps, actions...); err != nil {
				err = fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	until := func(expression string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](expression)(ctx, t)
			return chromedp.Void{}, err
		}
	}
	hintHas := func(text string) chromedp.Action[chromedp.Void] {
		return until(`document.getElementById('hint').textContent.includes(` + strconv.Quote(text) + `)`)
	}
	stage("open the page",
		chromedp.Navigate(srv.base+"/?query="+url.QueryEscape(query)),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")),
		chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)),
		hintHas("Enter an API key"),
	)
	var before struct {
		Requests []string
		Text     string
	}
	if err == nil {
		before, err = chromedp.Run(steps, chromedp.Evaluate[struct {
			Requests []string
			Text     string
		}](`({Requests: window.__graphqlRequests, Text: document.body.innerText})`))
	}
	if err == nil && (len(before.Requests) > 0 || strings.Contains(before.Text, "UNAUTHENTICATED")) {
		t.Errorf("before any key the page sent %q and shows %q", before.Requests, before.Text)
	}

	// A wrong key: the schema is fetched as soon as it is typed, and the bar says why it failed.
	wrong := "pb_not-a-key"
	stage("type a wrong key",
		chromedp.SendKeys(chromedp.ID("token"), wrong),
		hintHas("The schema could not be loaded"),
	)
	// The right key, typed over the wrong one: the schema is fetched again and loads.
	stage("type the key",
		chromedp.SendKeys(chromedp.ID("token"), strings.Repeat(kb.Backspace, len(wrong))+secret),
		hintHas("Schema loaded"),
	)
	// The Docs pane: search for Connector, open it and read its fields and description.
	connectorOption := chromedp.Search(`//li[.//span[contains(@class, "graphiql-doc-explorer-search-type") and text()="Connector"]]`)
	stage("open Docs and find Connector",
		chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-doc-explorer-search-input input")),
		chromedp.SendKeys(chromedp.CSS(".graphiql-doc-explorer-search-input input"), "Connector"),
		chromedp.WaitVisible(connectorOption),
		chromedp.Click(connectorOption),
		until(`(document.querySelector('.graphiql-doc-explorer-title') || {textContent: ''}).textContent === 'Connector'`),
	)
	var docs string
	if err == nil {
		docs, err = chromedp.Run(steps, chromedp.Text(chromedp.CSS(".graphiql-doc-explorer")))
	}
	if err == nil {
		// The type's description and its fields', from the schema's doc strings.
		for _, want := range []string{"A versioned integration connector", "Fields", "authSchemeConfigs", "connectionVariables", "Default variables: each new connection starts with a copy", "versions"} {
			if !strings.Contains(docs, want) {
				t.Errorf("the Docs pane on Connector lacks %q: %q", want, docs)
			}
		}
	}

	var result string
	stage("run a query",
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
		until(`(document.querySelector('.result-window') || {innerText: ''}).innerText.includes('CONNECTORS_READ')`),
	)
	if err == nil {
		result, err = chromedp.Run(steps, chromedp.Text(chromedp.CSS(".result-window")))
	}
	var violations []string
	if err == nil {
		violations, err = chromedp.Run(steps, chromedp.Evaluate[[]string](`window.__cspViolations`))
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
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("browser: %v (page text: %q)", err, text)
	}
	if !strings.Contains(result, orgName) || !strings.Contains(result, "CONNECTORS_READ") {
		t.Errorf("the result on the page lacks the organisation: %q", result)
	}
	if len(violations) > 0 {
		t.Errorf("Content-Security-Policy violations: %q", violations)
	}
	logs := srv.wait(t)
	if strings.Contains(logs, secret) {
		t.Error("the key reached the server log")
	}
	if !strings.Contains(logs, `"operation":"query __schema"`) {
		t.Error("no schema query reached the server")
	}
}
