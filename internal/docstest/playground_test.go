package docstest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plugboard/plugboard/internal/testdb"
)

// TestReadmeThroughThePlayground does the README's five minutes as its reader does, in
// headless Chromium: a server on its own SQLite file, an organisation and a key from the
// command line beside it, the key typed into the page's "API key or token" field, the
// README's first graphql block run with the page's run button; the connector it creates
// must then be stored.
func TestReadmeThroughThePlayground(t *testing.T) {
	browser := testdb.Chromium(t)
	root := repoRoot(t)
	text, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parse(string(text))
	if err != nil {
		t.Fatal(err)
	}
	var mutation string
	for _, b := range blocks {
		if b.lang == "graphql" && b.runnable() {
			mutation = b.body
			break
		}
	}
	if !strings.Contains(mutation, "createConnector") {
		t.Fatalf("the README's first graphql block should create a connector: %q", mutation)
	}
	if !strings.Contains(string(text), "**API key or token**") {
		t.Error("the README should name the page's key field as the page does: API key or token")
	}

	dir := t.TempDir()
	addr := freeAddr(t)
	env := environ(addr)
	server := exec.Command(binary(t, root), "serve")
	startServer(t, server, dir, env, addr)
	key := newKey(t, root, dir, env)

	opts := testdb.BrowserOptions(t, browser, 1280, 800)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first action starts the browser: its context must not carry the deadline.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	steps, cancelSteps := context.WithTimeout(ctx, 90*time.Second)
	defer cancelSteps()
	until := func(expression string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](expression)(ctx, t)
			return chromedp.Void{}, err
		}
	}
	stage := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(steps, actions...); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v (page text: %q)", name, err, page)
		}
	}
	// GraphiQL opens with ?query= in its editor, as if pasted.
	stage("open the page with the README's mutation",
		chromedp.Navigate("http://"+addr+"/?query="+url.QueryEscape(mutation)),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")),
	)
	stage("paste the key into the API key or token field",
		chromedp.SendKeys(chromedp.ID("token"), key),
		until(`document.getElementById('hint').textContent.includes(`+strconv.Quote("Schema loaded")+`)`),
	)
	stage("press the run button",
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
		until(`(document.querySelector('.result-window') || {innerText: ''}).innerText.includes('"revision": 1')`),
	)
	result, err := chromedp.Run(steps, chromedp.Text(chromedp.CSS(".result-window")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, `"createConnector"`) || strings.Contains(result, `"errors"`) {
		t.Errorf("the page's answer: %q", result)
	}
	// The connector is stored: the README's second block lists it.
	list := fmt.Sprintf(`curl -s http://%s/graphql -H "Authorization: Bearer %s" -H 'Content-Type: application/json' -d '{"query":"{ connectors { totalCount edges { node { name } } } }"}'`, addr, key)
	out, err := exec.Command("bash", "-c", list).Output()
	if err != nil || !strings.Contains(string(out), `"totalCount":1`) || !strings.Contains(string(out), `"name":"Stripe"`) {
		t.Errorf("after the playground: %v %s", err, out)
	}
}
