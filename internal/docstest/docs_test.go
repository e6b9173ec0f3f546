// Package docstest runs the examples of README.md and docs/*.md as a reader would: each page
// in a fresh directory holding the checkout, with a server of its own, so that an example
// that no longer works fails the suite.
package docstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The address the pages use; each page's run gets a free port instead, so that pages (and a
// developer's own `make run`) do not collide.
const docsAddr = "127.0.0.1:8080"

// block is one fenced example of a page.
type block struct {
	line  int    // of the opening fence, 1-based
	lang  string // sh, graphql, js, text
	flags []string
	body  string
}

func (b block) has(flag string) bool { return slices.Contains(b.flags, flag) }

// runnable: sh and graphql blocks run unless marked norun; a "sh server" block is the page's
// long-running server.
func (b block) runnable() bool {
	return (b.lang == "sh" || b.lang == "graphql") && !b.has("norun")
}

var fence = regexp.MustCompile("^( *)```(.*)$")

// parse returns the fenced blocks of a Markdown page. Fences may be indented (inside a list
// item); the indentation is removed from the block's lines.
func parse(text string) ([]block, error) {
	var blocks []block
	var cur *block
	var indent string
	for i, line := range strings.Split(text, "\n") {
		m := fence.FindStringSubmatch(line)
		if cur == nil {
			if m == nil {
				continue
			}
			fields := strings.Fields(m[2])
			if len(fields) == 0 {
				return nil, fmt.Errorf("line %d: a fence without an info string (sh, graphql, js norun, text)", i+1)
			}
			cur = &block{line: i + 1, lang: fields[0], flags: fields[1:]}
			indent = m[1]
			continue
		}
		if m != nil && m[2] == "" {
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		cur.body += strings.TrimPrefix(line, indent) + "\n"
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: the fence is never closed", cur.line)
	}
	for _, b := range blocks {
		if err := b.check(); err != nil {
			return nil, fmt.Errorf("line %d: %w", b.line, err)
		}
	}
	return blocks, nil
}

// check keeps every example either run or explicitly marked as shown only.
func (b block) check() error {
	switch b.lang {
	case "sh", "graphql", "text":
	case "js":
		if !b.has("norun") {
			return fmt.Errorf("js examples are not run here: mark the block `js norun`")
		}
	default:
		return fmt.Errorf("unknown info string %q: use sh, graphql, js or text", b.lang)
	}
	for _, f := range b.flags {
		if f != "norun" && !(f == "server" && b.lang == "sh") {
			return fmt.Errorf("unknown flag %q (norun; server on sh)", f)
		}
	}
	return nil
}

func repoRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func pages(t *testing.T, root string) []string {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md")}, docs...)
}

func TestParse(t *testing.T) {
	blocks, err := parse("text\n```sh\necho a\n```\n1. step\n\n   ```graphql norun\n   { x }\n   ```\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[0].body != "echo a\n" || blocks[1].body != "{ x }\n" || blocks[1].runnable() {
		t.Fatalf("blocks = %+v", blocks)
	}
	for _, bad := range []string{"```\nx\n```\n", "```js\nx\n```\n", "```sh nope\nx\n```\n", "```sh\nx\n", "```python\nx\n```\n"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
}

// TestPagesMarkTheirExamples: every fence of every page says what it is.
func TestPagesMarkTheirExamples(t *testing.T) {
	for _, page := range pages(t, repoRoot(t)) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parse(string(b)); err != nil {
			t.Errorf("%s: %v", page, err)
		}
	}
}

// TestExamplesRun runs each page's sh blocks as one bash script (in order, `set -eo pipefail`)
// and its graphql blocks as operations, beside a server on the page's own SQLite file: the
// page's "sh server" block (the README's `make run`), else `plugboard serve`. Every JSON line
// the script prints is a GraphQL answer: those with errors must be exactly the ones the page
// announces, in order, with a "# → CODE" comment; the graphql blocks must answer without errors.
func TestExamplesRun(t *testing.T) {
	root := repoRoot(t)
	for _, page := range pages(t, root) {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := parse(string(text))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		if !slices.ContainsFunc(blocks, block.runnable) {
			continue
		}
		rel, _ := filepath.Rel(root, page)
		t.Run(rel, func(t *testing.T) {
			t.Parallel() // each page has its own directory, database and port
			runPage(t, root, blocks)
		})
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds cmd/plugboard once for every page that does not start its own server.
func binary(t *testing.T, root string) string {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "docstest-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "plugboard")
		cmd := exec.Command(goTool(), "build", "-o", binPath, "./cmd/plugboard")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func goTool() string { return filepath.Join(runtime.GOROOT(), "bin", "go") }

// checkout makes dir look like the repository to a reader's commands (go build, make run)
// without sharing its database file: every top-level entry is a symbolic link, except
// the files a run writes.
func checkout(t *testing.T, root, dir string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || name == "plugboard" || strings.HasPrefix(name, "plugboard.db") ||
			name == "bin" || name == "tmp" || name == "test-artifacts" {
			continue
		}
		if err := os.Symlink(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// environ is the reader's environment without Plugboard settings of the machine running the
// tests, with go on PATH and the page's address.
func environ(addr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PLUGBOARD_") || strings.HasPrefix(kv, "PATH=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"PATH="+filepath.Dir(goTool())+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PLUGBOARD_ADDR="+addr,
		"PLUGBOARD_DRAIN_DELAY=0", // only how fast the server stops at the end
	)
}

func runPage(t *testing.T, root string, blocks []block) {
	dir := t.TempDir()
	checkout(t, root, dir)
	addr := freeAddr(t)
	env := environ(addr)
	localize := func(s string) string { return strings.ReplaceAll(s, docsAddr, addr) }

	var server *exec.Cmd
	if i := slices.IndexFunc(blocks, func(b block) bool { return b.has("server") }); i >= 0 {
		server = exec.Command("bash", "-c", localize(blocks[i].body))
	} else {
		server = exec.Command(binary(t, root), "serve")
	}
	startServer(t, server, dir, env, addr)

	var script strings.Builder
	script.WriteString("set -eo pipefail\n")
	for _, b := range blocks {
		if b.lang == "sh" && b.runnable() && !b.has("server") {
			fmt.Fprintf(&script, "# line %d\n%s", b.line, localize(b.body))
		}
	}
	if script.Len() > len("set -eo pipefail\n") {
		runScript(t, dir, env, script.String())
	}

	var ops []block
	for _, b := range blocks {
		if b.lang == "graphql" && b.runnable() {
			ops = append(ops, b)
		}
	}
	if len(ops) == 0 {
		return
	}
	key := newKey(t, root, dir, env)
	for _, op := range ops {
		body, _ := json.Marshal(map[string]string{"query": op.body})
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("graphql block at line %d: %v", op.line, err)
		}
		var answer struct {
			Data   map[string]any   `json:"data"`
			Errors []map[string]any `json:"errors"`
		}
		err = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(answer.Errors) > 0 || answer.Data == nil {
			t.Errorf("graphql block at line %d: HTTP %d, %v, errors %v\n%s", op.line, resp.StatusCode, err, answer.Errors, op.body)
		}
	}
}

// startServer runs server (a process group of its own, stopped when the test ends) in dir with
// env, and waits until it answers /healthz on addr: `make run` compiles first.
func startServer(t *testing.T, server *exec.Cmd, dir string, env []string, addr string) {
	t.Helper()
	var out bytes.Buffer
	server.Dir, server.Env, server.Stdout, server.Stderr = dir, env, &out, &out
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = server.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-server.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("the server stopped:\n%s", out.String())
		default:
		}
		if ok(addr) {
			return
		}
	}
	t.Fatalf("the server did not answer /healthz:\n%s", out.String())
}

// announced matches a comment announcing an error answer: "# → BAD_USER_INPUT on name".
var announced = regexp.MustCompile(`#\s*→.*?\b(UNAUTHENTICATED|FORBIDDEN|NOT_FOUND|BAD_USER_INPUT|CONFLICT|RATE_LIMITED)\b`)

func runScript(t *testing.T, dir string, env []string, script string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	var stdout, stderr bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the page's sh examples failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("stdout:\n%s", stdout.String())
	var want []string
	for _, m := range announced.FindAllStringSubmatch(script, -1) {
		want = append(want, m[1])
	}
	var got []string
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var answer struct {
			Errors []struct {
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal([]byte(line), &answer); err != nil {
			t.Errorf("not a GraphQL answer: %v\n%s", err, line)
			continue
		}
		if len(answer.Errors) > 0 {
			got = append(got, answer.Errors[0].Extensions.Code)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("error answers %v, the page announces %v (\"# → CODE\")\nstdout:\n%s", got, want, stdout.String())
	}
}

// newKey makes an organisation and a key with the command line, beside the running server,
// for the page's graphql blocks.
func newKey(t *testing.T, root, dir string, env []string) string {
	bin := binary(t, root)
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("plugboard %v: %v\n%s", args, err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	org := run("org", "create", "Docs")
	return run("key", "create", "--org", org, "--name", "docs", "--scopes", "connectors:read,connectors:write,keys:manage")
}

// TestLayoutNamesEveryPackage keeps docs/layout.md whole: every directory of Go files under
// cmd/, graph/ and internal/ appears there as "path/".
func TestLayoutNamesEveryPackage(t *testing.T) {
	root := repoRoot(t)
	layout, err := os.ReadFile(filepath.Join(root, "docs", "layout.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, top := range []string{"cmd", "graph", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") {
				return nil
			}
			dir, _ := filepath.Rel(root, filepath.Dir(path))
			seen[filepath.ToSlash(dir)] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) < 10 {
		t.Fatalf("found only %v: the walk is broken", seen)
	}
	for dir := range seen {
		if !bytes.Contains(layout, []byte(dir+"/")) {
			t.Errorf("docs/layout.md does not name %s/", dir)
		}
	}
}

// ok says whether the server at addr answers /healthz.
func ok(addr string) bool {
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
