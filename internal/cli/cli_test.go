package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/cli"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// run executes the command line and returns its outputs and exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// eachDatabase gives each dialect an empty database, selected through PLUGBOARD_DATABASE_URL.
func eachDatabase(t *testing.T, fn func(t *testing.T)) {
	eachDialect(t, func(t *testing.T, _ store.Dialect) { fn(t) })
}

func eachDialect(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			url := filepath.Join(t.TempDir(), "plugboard.db")
			if d == store.Postgres {
				url = testdb.NewPostgresDatabase(t)
				t.Setenv("PLUGBOARD_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
			}
			t.Setenv("PLUGBOARD_DATABASE_URL", url)
			fn(t, d)
		})
	}
}

var (
	idLine     = regexp.MustCompile(`^[0-9a-f-]{36}\n$`)
	secretLine = regexp.MustCompile(`^pb_[A-Za-z0-9_-]{43}\n$`)
)

func TestOrganisationAndKeyCommands(t *testing.T) {
	eachDatabase(t, func(t *testing.T) {
		if _, stderr, code := run(t, "migrate"); code != 0 {
			t.Fatalf("migrate failed: %s", stderr)
		}
		orgOut, stderr, code := run(t, "org", "create", "Acme Corp")
		if code != 0 || !idLine.MatchString(orgOut) {
			t.Fatalf("org create: code %d, stdout %q, stderr %q", code, orgOut, stderr)
		}
		org := strings.TrimSpace(orgOut)
		if _, stderr, code := run(t, "org", "create", "ACME corp"); code == 0 || !strings.Contains(stderr, "already exists") {
			t.Errorf("duplicate organisation: code %d, stderr %q", code, stderr)
		}

		secretOut, stderr, code := run(t, "key", "create", "--org", org, "--name", "ci", "--scopes", "connectors:read,keys:manage", "--expires", "720h")
		if code != 0 || !secretLine.MatchString(secretOut) {
			t.Fatalf("key create: code %d, stdout %q, stderr %q", code, secretOut, stderr)
		}
		secret := strings.TrimSpace(secretOut)
		if strings.Contains(stderr, secret) {
			t.Error("the secret must be printed once, on standard output only")
		}
		// Standard output is captured here, as a script would: nothing may speak of the secret
		// as being "above".
		if strings.Contains(stderr, "above") || !strings.Contains(stderr, "standard output") {
			t.Errorf("key create's message must suit a captured standard output: %q", stderr)
		}

		list, _, code := run(t, "key", "list", "--org", org)
		if code != 0 || !strings.Contains(list, "connectors:read,keys:manage") || strings.Contains(list, secret) || !strings.Contains(list, secret[:11]) {
			t.Errorf("key list: code %d:\n%s", code, list)
		}
		keyID := strings.Fields(strings.Split(list, "\n")[1])[0]
		if _, stderr, code := run(t, "key", "revoke", keyID); code != 0 || !strings.Contains(stderr, "revoked") {
			t.Errorf("key revoke: %d %s", code, stderr)
		}
		list, _, _ = run(t, "key", "list", "--org", org)
		if fields := strings.Fields(strings.Split(list, "\n")[1]); fields[6] == "-" {
			t.Errorf("revocation not listed: %s", list)
		}

		failures := [][]string{
			{"key", "create", "--org", org, "--name", "x", "--scopes", "platform:admin"},
			{"key", "create", "--org", org, "--name", "x", "--scopes", "nope"},
			{"key", "create", "--org", "missing-org", "--name", "x", "--scopes", "connectors:read"},
			{"key", "create", "--org", org, "--scopes", "connectors:read"},
			{"key", "list", "--org", "missing-org"},
			{"key", "revoke", "missing-key"},
			{"org", "create", " "},
			{"org", "create"},
			{"no-such-command"},
		}
		for _, args := range failures {
			out, stderr, code := run(t, args...)
			if code == 0 || out != "" || stderr == "" {
				t.Errorf("%v: want non-zero exit, empty stdout, a message on stderr; got %d %q %q", args, code, out, stderr)
			}
		}
	})
}

// TestServe runs the real serve command on a free port and uses it as a client would.
func TestServe(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		orgOut, _, _ := run(t, "org", "create", "Served")
		secretOut, _, _ := run(t, "key", "create", "--org", strings.TrimSpace(orgOut), "--name", "e2e", "--scopes", "connectors:read,connectors:write")
		secret := strings.TrimSpace(secretOut)
		t.Setenv("PLUGBOARD_ADDR", "127.0.0.1:0")
		t.Setenv("PLUGBOARD_OUTBOUND_ALLOW", "127.0.0.0/8")
		t.Setenv("PLUGBOARD_DRAIN_DELAY", "1h")

		srv := startServe(t)
		base := srv.base

		// The playground is on by default with the embedded SQLite file, off with PostgreSQL.
		playground := 200
		if d == store.Postgres {
			playground = 404
		}
		for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/": playground, "/playground/graphiql.min.js": playground, "/metrics": 200, "/nope": 404} {
			res, err := http.Get(base + path)
			if err != nil || res.StatusCode != want {
				t.Errorf("GET %s: %v %v", path, err, res)
			}
			if path == "/" && want == 200 {
				// The page's code is a separate script (the CSP forbids inline ones).
				body, _ := io.ReadAll(res.Body)
				script, err := http.Get(base + "/playground/playground.js")
				var code []byte
				if err == nil {
					code, _ = io.ReadAll(script.Body)
					script.Body.Close()
				}
				if !strings.Contains(string(body), "/playground/playground.js") || !strings.Contains(string(code), "'/graphql'") {
					t.Errorf("playground page does not point at /graphql")
				}
			}
			res.Body.Close()
		}
		gql := func(query string, vars map[string]any) map[string]any {
			t.Helper()
			b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
			req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+secret)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out map[string]any
			json.NewDecoder(res.Body).Decode(&out)
			if res.StatusCode != 200 || out["errors"] != nil {
				t.Fatalf("%s: %d %v", query, res.StatusCode, out)
			}
			return out["data"].(map[string]any)
		}
		// The slow upstream says when the call has reached it, and answers only once serve is
		// shutting down: the request is in flight when the signal comes, whatever the timing.
		arrived := make(chan struct{}, 1)
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			select {
			case <-srv.shuttingDown:
				fmt.Fprint(w, "finished")
			case <-r.Context().Done():
			}
		}))
		defer slow.Close()
		connector := gql(`mutation($u: String!) { createConnector(input: {name: "E2E", protocolType: HTTP, baseURL: $u}) { id revision } }`, map[string]any{"u": slow.URL})["createConnector"].(map[string]any)
		v := gql(`mutation($c: ID!) { createVersion(connectorId: $c, input: {name: "1", actions: [{name: "slow", method: GET, path: "/"}]}) { id } }`, map[string]any{"c": connector["id"]})["createVersion"].(map[string]any)
		gql(`mutation($v: ID!) { publishVersion(id: $v) { id } }`, map[string]any{"v": v["id"]})
		conn := gql(`mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "c"}) { id } }`, map[string]any{"c": connector["id"]})["createConnection"].(map[string]any)

		// Graceful stop: on the signal /readyz fails at once while the server still answers,
		// through a drain delay long enough for a load balancer to notice (an hour here: the
		// test ends it with a second signal, never with a clock); then a request in flight when
		// the signal came still gets its answer.
		inflight := make(chan map[string]any, 1)
		go func() {
			inflight <- gql(`mutation($c: ID!) { executeAction(connectionId: $c, action: "slow") { ok body } }`, map[string]any{"c": conn["id"]})
		}()
		select {
		case <-arrived:
		case data := <-inflight:
			t.Fatalf("the call ended before reaching the upstream: %v", data)
		case <-time.After(time.Minute): // only keeps a lost call from hanging the suite
			t.Fatal("the call never reached the upstream")
		}
		srv.cancel() // what SIGTERM does to serve's context
		select {
		case <-srv.draining:
		case <-time.After(time.Minute):
			t.Fatal("serve never said it was draining")
		}
		res, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "draining") {
			t.Errorf("/readyz while draining: %d %s", res.StatusCode, body)
		}
		// Each answer ends its connection, so that the next request opens one elsewhere.
		if !res.Close {
			t.Error("an answer while draining must say Connection: close")
		}
		if scopes := gql(`{ viewer { scopes } }`, nil)["viewer"]; scopes == nil {
			t.Error("a draining server must still answer /graphql")
		}
		select {
		case data := <-inflight:
			t.Fatalf("the in-flight request ended during the drain delay: %v", data)
		case <-srv.shuttingDown:
			t.Fatal("serve stopped accepting before the drain delay ended")
		default:
		}
		// The second signal ends the delay. Serve has its own handler registered by now (it
		// logged "draining" after registering it), so this does not kill the test binary.
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case data := <-inflight:
			if r := data["executeAction"].(map[string]any); r["ok"] != true || r["body"] != "finished" {
				t.Errorf("the in-flight request was cut: %v", r)
			}
		case <-time.After(time.Minute):
			t.Fatal("the in-flight request never finished")
		}
		logs := srv.wait(t)
		if strings.Contains(logs, secret) {
			t.Error("the key secret appears in the server log")
		}
		if !strings.Contains(logs, `"msg":"stopped"`) {
			t.Errorf("serve must stop cleanly after draining:\n%s", logs)
		}
	})
}

func TestSecretsCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "plugboard.db")
	t.Setenv("PLUGBOARD_DATABASE_URL", db)
	t.Run("NewKey", func(t *testing.T) {
		out, _, code := run(t, "secrets", "new-key")
		if code != 0 || !regexp.MustCompile(`^[A-Za-z0-9+/]{43}=\n$`).MatchString(out) {
			t.Fatalf("new-key: %d %q", code, out)
		}
	})
	t.Run("EmbeddedKeyFile", func(t *testing.T) {
		if _, stderr, code := run(t, "secrets", "rotate"); code != 0 {
			t.Fatalf("rotate: %s", stderr)
		}
		info, err := os.Stat(db + ".secret-key")
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("the embedded default must create a 0600 key file next to the database: %v %v", info, err)
		}
	})
	t.Run("ErrBadKey", func(t *testing.T) {
		t.Setenv("PLUGBOARD_SECRET_KEY", "not-a-key")
		_, stderr, code := run(t, "secrets", "rotate")
		if code == 0 || !strings.Contains(stderr, "PLUGBOARD_SECRET_KEY") || strings.Contains(stderr, "not-a-key") {
			t.Errorf("a bad key must fail without echoing it: %d %q", code, stderr)
		}
	})
	t.Run("ErrPostgresNeedsKey", func(t *testing.T) {
		t.Setenv("PLUGBOARD_DATABASE_URL", testdb.NewPostgresDatabase(t))
		_, stderr, code := run(t, "serve")
		if code == 0 || !strings.Contains(stderr, "PLUGBOARD_SECRET_KEY is required") {
			t.Errorf("serve on PostgreSQL without a key: %d %q", code, stderr)
		}
	})
}

// served is a `plugboard serve` running in the test process.
type served struct {
	base    string
	cancel  context.CancelFunc
	done    chan int
	scanned chan struct{}
	logs    *bytes.Buffer
	// draining is closed when serve logs that it is draining (/readyz fails), shuttingDown
	// when it logs that it is shutting down (it stops accepting).
	draining, shuttingDown chan struct{}
}

// startServe runs the real serve command on a free port (configured by the environment) and
// returns once it listens. Without PLUGBOARD_DRAIN_DELAY set by the test, serve stops
// without a drain delay.
func startServe(t *testing.T) *served {
	t.Helper()
	t.Setenv("PLUGBOARD_ADDR", "127.0.0.1:0")
	if os.Getenv("PLUGBOARD_DRAIN_DELAY") == "" {
		t.Setenv("PLUGBOARD_DRAIN_DELAY", "0")
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &served{cancel: cancel, done: make(chan int, 1), scanned: make(chan struct{}), logs: &bytes.Buffer{}, draining: make(chan struct{}), shuttingDown: make(chan struct{})}
	go func() {
		s.done <- cli.Run(ctx, []string{"serve"}, io.Discard, pw)
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		defer close(s.scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.logs.WriteString(sc.Text() + "\n")
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				switch line.Msg {
				case "listening":
					addr <- line.Addr
				case "draining":
					close(s.draining)
				case "shutting down":
					close(s.shuttingDown)
				}
			}
		}
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case code := <-s.done:
		<-s.scanned
		t.Fatalf("serve exited %d before listening:\n%s", code, s.logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() { cancel() })
	return s
}

// wait stops the server (if not yet) and returns its log once it has exited.
func (s *served) wait(t *testing.T) string {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		<-s.scanned
		if code != 0 {
			t.Errorf("serve exited %d:\n%s", code, s.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	return s.logs.String()
}

// TestMigrateThroughDirectURL: with the database URL going through pgbouncer in transaction
// mode as a role that may not create tables, migrations take PLUGBOARD_DATABASE_DIRECT_URL
// (the owner, straight to PostgreSQL), and the other commands work through the pooler.
// Without the direct URL the same migration is refused: it did go the other way.
func TestMigrateThroughDirectURL(t *testing.T) {
	direct := testdb.NewPostgresDatabase(t)
	admin, err := store.Open(direct, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	db, err := admin.SQL()
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	role := "app_" + strings.TrimPrefix(strings.TrimPrefix(u.Path, "/"), "plugboard_test_")
	for _, stmt := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT USAGE ON SCHEMA public TO " + role,
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
		"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + role,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP OWNED BY " + role)
		_, _ = db.Exec("DROP ROLE " + role)
	})
	u.User = url.User(role)
	pooled := testdb.StartPgBouncer(t, u.String(), 2)
	t.Setenv("PLUGBOARD_DATABASE_URL", pooled)
	t.Setenv("PLUGBOARD_DB_STATEMENT_CACHE", "describe")
	t.Setenv("PLUGBOARD_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")

	if _, stderr, code := run(t, "migrate"); code == 0 || !strings.Contains(stderr, "permission denied") {
		t.Fatalf("migrations through the pooler as the serving role: want permission denied, got %d %s", code, stderr)
	}
	t.Setenv("PLUGBOARD_DATABASE_DIRECT_URL", direct)
	if _, stderr, code := run(t, "migrate"); code != 0 {
		t.Fatalf("migrate through the direct URL: %s", stderr)
	}
	for i := range 3 {
		out, stderr, code := run(t, "org", "create", fmt.Sprintf("Pooled %d", i))
		if code != 0 || !idLine.MatchString(out) {
			t.Fatalf("org create through pgbouncer: %d %q %s", code, out, stderr)
		}
	}
}
