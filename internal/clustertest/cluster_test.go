//go:build cluster

package clustertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for counting what was written
)

// cluster is a running scripts/cluster.sh cluster.
type cluster struct {
	dir   string
	lb    string // HAProxy's URL
	env   []string
	db    *sql.DB
	orgID string
	admin *client // through HAProxy, with every scope
}

func root() string { return filepath.Join("..", "..") }

// script runs scripts/cluster.sh with args and returns what it printed on stdout.
func (c *cluster) script(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(root(), "scripts", "cluster.sh"), args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cluster.sh %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// plugboard runs the cluster's binary with the replicas' environment.
func (c *cluster) plugboard(t *testing.T, args ...string) string {
	t.Helper()
	env := append([]string{}, c.env...)
	f, err := os.Open(filepath.Join(c.dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kv := strings.TrimPrefix(sc.Text(), "export ")
		if k, v, ok := strings.Cut(kv, "="); ok {
			env = append(env, k+"="+strings.Trim(v, "'"))
		}
	}
	cmd := exec.Command(filepath.Join(c.dir, "plugboard"), args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("plugboard %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func (c *cluster) replicaURLs(t *testing.T) []string {
	t.Helper()
	return strings.Fields(c.script(t, "status"))
}

func (c *cluster) replicaPID(t *testing.T, i int) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("replica-%d.pid", i)))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func startCluster(t *testing.T, replicas int) *cluster {
	dir := t.TempDir()
	c := &cluster{dir: filepath.Join(dir, "cluster")}
	c.env = append(os.Environ(),
		"PLUGBOARD_CLUSTER_DIR="+c.dir,
		// A revoked key can then only be refused through the cross-server bus.
		"PLUGBOARD_KEY_CACHE_TTL=1h",
		// A killed replica's running requests hold their Idempotency-Key for the request
		// timeout and 30 s: keep the wait short.
		"PLUGBOARD_REQUEST_TIMEOUT=5s",
		"PLUGBOARD_LOG_LEVEL=warn",
	)
	t.Cleanup(func() {
		if t.Failed() {
			for i := 1; i <= replicas; i++ {
				if b, err := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("replica-%d.log", i))); err == nil {
					t.Logf("replica %d log (end):\n%s", i, tail(string(b), 3000))
				}
			}
		}
		cmd := exec.Command(filepath.Join(root(), "scripts", "cluster.sh"), "down")
		cmd.Env = c.env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("cluster.sh down: %v\n%s", err, out)
		}
	})
	lines := strings.Split(strings.TrimSpace(c.script(t, "up", strconv.Itoa(replicas))), "\n")
	c.lb = lines[len(lines)-1]
	if !strings.HasPrefix(c.lb, "http://127.0.0.1:") {
		t.Fatalf("up's last line is not the load balancer's URL: %q", c.lb)
	}
	if urls := c.replicaURLs(t); len(urls) != replicas {
		t.Fatalf("status lists %d replicas, want %d: %v", len(urls), replicas, urls)
	}
	dbURL, err := os.ReadFile(filepath.Join(c.dir, "database_url"))
	if err != nil {
		t.Fatal(err)
	}
	if c.db, err = sql.Open("pgx", strings.TrimSpace(string(dbURL))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.db.Close() })
	c.orgID = c.plugboard(t, "org", "create", "cluster test")
	key := c.plugboard(t, "key", "create", "--org", c.orgID, "--name", "admin", "--scopes", "connectors:read,connectors:write,keys:manage")
	c.admin = newClient(c.lb, key)
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// client speaks GraphQL over HTTP with a bearer key, keeping connections alive.
type client struct {
	url, key string
	http     *http.Client
}

func newClient(base, key string) *client {
	return &client{url: base + "/graphql", key: key, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16},
	}}
}

type answer struct {
	status   int
	replayed bool
	data     map[string]any
	errors   []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
	err error // no HTTP answer, or an unreadable one
}

func (a answer) ok() bool { return a.err == nil && a.status == http.StatusOK && len(a.errors) == 0 }

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	b, _ := json.Marshal(a.errors)
	return fmt.Sprintf("HTTP %d %s", a.status, b)
}

func (c *client) do(query string, vars map[string]any, idempotencyKey string) answer {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, replayed: res.Header.Get("Idempotent-Replayed") == "true"}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{status: res.StatusCode, err: err}
	}
	var parsed struct {
		Data   map[string]any `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &parsed); err != nil {
		return answer{status: res.StatusCode, err: fmt.Errorf("HTTP %d, not JSON: %.200s", res.StatusCode, b)}
	}
	a.data, a.errors = parsed.Data, parsed.Errors
	return a
}

const createConnector = `mutation($name: String!) { createConnector(input: {name: $name, protocolType: HTTP}) { id name } }`

// writes is what a write load saw: the names of the connectors whose creation was
// acknowledged, those applied without a recorded answer (a replica killed between its commit
// and its answer), and the requests that failed for good.
type writes struct {
	mu       sync.Mutex
	acked    map[string]bool
	unknown  map[string]bool
	failures []string
	retries  atomic.Int64
	reads    atomic.Int64
}

func (w *writes) fail(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures = append(w.failures, fmt.Sprintf(format, args...))
}

// writeLoad creates connectors named prefix-W-N from workers goroutines and reads from one
// more, until ctx ends. With retry, a write that failed is sent again with the same
// Idempotency-Key until it is answered (for at most a minute); without, every failure counts.
// Each of the direct clients sends the first attempts of one more writer past the balancer,
// to one replica (its retries go through c).
func writeLoad(ctx context.Context, c *client, prefix string, workers int, retry bool, direct ...*client) (*writes, func()) {
	w := &writes{acked: map[string]bool{}, unknown: map[string]bool{}}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				name := fmt.Sprintf("%s-%d-%d", prefix, i, n)
				w.write(c, c, name, retry)
			}
		}()
	}
	for i, d := range direct {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				w.write(d, c, fmt.Sprintf("%s-d%d-%d", prefix, i, n), retry)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			a := c.do(`{ connectors(first: 3) { totalCount } }`, nil, "")
			switch {
			case a.ok():
				w.reads.Add(1)
			case retry && (a.err != nil || a.status == http.StatusBadGateway || a.status == http.StatusServiceUnavailable):
				// A read is safe to send again.
				w.retries.Add(1)
			default:
				w.fail("read: %s", a)
			}
		}
	}()
	return w, wg.Wait
}

func (w *writes) write(first, c *client, name string, retry bool) {
	deadline := time.Now().Add(time.Minute)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			w.retries.Add(1)
		}
		to := c
		if attempt == 0 {
			to = first
		}
		a := to.do(createConnector, map[string]any{"name": name}, "w:"+name)
		switch {
		case a.ok():
			if got := a.data["createConnector"].(map[string]any)["name"]; got != name {
				w.fail("%s: answered for %v", name, got)
				return
			}
			w.mu.Lock()
			w.acked[name] = true
			w.mu.Unlock()
			return
		case !retry:
			w.fail("%s: %s", name, a)
			return
		case time.Now().After(deadline):
			w.fail("%s: still failing after a minute of retries: %s", name, a)
			return
		case a.err != nil || a.status == http.StatusBadGateway || a.status == http.StatusServiceUnavailable || a.status == http.StatusGatewayTimeout:
			// The replica died with the request, or HAProxy had none to give it to.
		case a.status == http.StatusConflict && len(a.errors) == 1 && strings.Contains(a.errors[0].Message, "could not be recorded"):
			// Committed by the killed replica, its answer lost: the write is there, unanswered.
			w.mu.Lock()
			w.unknown[name] = true
			w.mu.Unlock()
			return
		case a.status == http.StatusConflict && len(a.errors) == 1 && (strings.Contains(a.errors[0].Message, "still running") || strings.Contains(a.errors[0].Message, "being recorded")):
			// The killed replica's claim holds the key until its lease ends.
		default:
			w.fail("%s: %s", name, a)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkWritten compares the database with what the load saw: every acknowledged connector is
// there once with one audit event, nothing else but unanswered writes is there, and no audit
// event lacks its connector (nothing half-written).
func (c *cluster) checkWritten(t *testing.T, prefix string, w *writes) {
	t.Helper()
	rows, err := c.db.Query(`SELECT c.name, (SELECT count(*) FROM audit_events a
			WHERE a.organisation_id = c.organisation_id AND a.resource_id = c.id AND a.action = 'connector.create')
		FROM connectors c WHERE c.organisation_id = $1 AND c.name LIKE $2`, c.orgID, prefix+"-%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]int{}
	for rows.Next() {
		var name string
		var events int
		if err := rows.Scan(&name, &events); err != nil {
			t.Fatal(err)
		}
		stored[name]++
		if events != 1 {
			t.Errorf("connector %s has %d creation audit events, want 1", name, events)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for name := range w.acked {
		if stored[name] != 1 {
			t.Errorf("acknowledged connector %s is stored %d times", name, stored[name])
		}
	}
	for name := range stored {
		if !w.acked[name] && !w.unknown[name] {
			t.Errorf("connector %s is stored but its creation was never acknowledged nor applied", name)
		}
	}
	var events, orphans int
	err = c.db.QueryRow(`SELECT count(*) FROM audit_events a JOIN connectors c ON c.id = a.resource_id
		WHERE a.organisation_id = $1 AND a.action = 'connector.create' AND c.name LIKE $2`, c.orgID, prefix+"-%").Scan(&events)
	if err != nil {
		t.Fatal(err)
	}
	// The test deletes no connector: a creation event without its connector was half-written.
	err = c.db.QueryRow(`SELECT count(*) FROM audit_events a WHERE a.organisation_id = $1 AND a.action = 'connector.create'
		AND NOT EXISTS (SELECT 1 FROM connectors c WHERE c.id = a.resource_id)`, c.orgID).Scan(&orphans)
	if err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d creation audit events have no connector: half-written", orphans)
	}
	if events != len(w.acked)+len(w.unknown) || len(stored) != events {
		t.Errorf("%d creation audit events, %d connectors stored, %d writes acknowledged and %d applied unanswered", events, len(stored), len(w.acked), len(w.unknown))
	}
	t.Logf("%d writes acknowledged, %d applied without an answer, %d retries, %d reads; %d connectors and %d audit events stored",
		len(w.acked), len(w.unknown), w.retries.Load(), w.reads.Load(), len(stored), events)
}

func TestCluster(t *testing.T) {
	const replicas = 3
	c := startCluster(t, replicas)

	t.Run("RequestIDKept", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, c.lb+"/healthz", nil)
		req.Header.Set("X-Request-ID", "cluster-test-0001")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("X-Request-ID"); got != "cluster-test-0001" {
			t.Errorf("X-Request-ID through HAProxy = %q", got)
		}
	})

	// HAProxy adds X-Forwarded-For and the replicas trust it (PLUGBOARD_TRUSTED_PROXIES): 36
	// sockets waiting for connection_init, 12 per replica from 4 client addresses, are all
	// accepted. Counted per HAProxy's address, a replica would refuse 4 of its 12 (8 per address).
	t.Run("PendingSocketsCountedPerClientBehindHAProxy", func(t *testing.T) {
		var refused, failed atomic.Int32
		var wg sync.WaitGroup
		for i := range 36 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ip := net.ParseIP(fmt.Sprintf("127.0.0.%d", 3+i%4))
				d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second,
					NetDial: func(network, addr string) (net.Conn, error) {
						return (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}).Dial(network, addr)
					}}
				conn, res, err := d.Dial("ws"+strings.TrimPrefix(c.lb, "http")+"/graphql", nil)
				switch {
				case err == nil:
					time.Sleep(time.Second) // hold the pending slot while the others arrive
					conn.Close()
				case res != nil && res.StatusCode == http.StatusServiceUnavailable:
					refused.Add(1)
				default:
					failed.Add(1)
					t.Logf("socket from %s: %v", ip, err)
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 && os.Getenv("PLUGBOARD_TEST_REQUIRE_LOOPBACK_ALIASES") == "" {
			t.Skip("cannot dial from 127.0.0.3-6 on this machine")
		}
		if refused.Load() != 0 || failed.Load() != 0 {
			t.Errorf("of 36 pending sockets from 4 clients through HAProxy, %d refused and %d failed, want none", refused.Load(), failed.Load())
		}
	})

	// A key revoked through the load balancer is refused by every replica within a second,
	// although each had it cached for an hour.
	t.Run("RevocationReachesEveryReplica", func(t *testing.T) {
		a := c.admin.do(`mutation { createApiKey(input: {name: "short-lived", scopes: [CONNECTORS_READ]}) { apiKey { id } secret } }`, nil, "")
		if !a.ok() {
			t.Fatalf("createApiKey: %s", a)
		}
		created := a.data["createApiKey"].(map[string]any)
		id, secret := created["apiKey"].(map[string]any)["id"].(string), created["secret"].(string)
		urls := c.replicaURLs(t)
		for _, u := range urls {
			if a := newClient(u, secret).do(`{ __typename }`, nil, ""); !a.ok() {
				t.Fatalf("the new key on %s: %s", u, a)
			}
		}
		if a := c.admin.do(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": id}, ""); !a.ok() {
			t.Fatalf("revokeApiKey: %s", a)
		}
		revoked := time.Now()
		var wg sync.WaitGroup
		took := make([]time.Duration, len(urls))
		for i, u := range urls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := newClient(u, secret)
				for time.Since(revoked) < 5*time.Second {
					if a := k.do(`{ __typename }`, nil, ""); a.status == http.StatusUnauthorized {
						took[i] = time.Since(revoked)
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
				took[i] = -1
			}()
		}
		wg.Wait()
		for i, d := range took {
			if d < 0 || d > time.Second {
				t.Errorf("replica %s still accepted the revoked key %v after the revocation was answered (want under 1 s)", urls[i], d)
			}
		}
		t.Logf("each replica refused the revoked key after %v", took)
		k := newClient(c.lb, secret)
		for range 2 * replicas {
			if a := k.do(`{ __typename }`, nil, ""); a.status != http.StatusUnauthorized {
				t.Errorf("through HAProxy the revoked key got %s", a)
			}
		}
	})

	// A subscription opened through HAProxy receives the events delivered to every replica
	// (the one holding the socket and the others, through LISTEN/NOTIFY) and through HAProxy;
	// a rolling restart closes it with 1001 (its replica stops), and a new one receives again.
	t.Run("SubscriptionThroughHAProxy", func(t *testing.T) {
		h := newHookedConnection(t, c)
		sub := h.subscribe(t, c)
		h.waitLive(t, c, sub, "first")
		want := map[string]bool{}
		for i, u := range append(c.replicaURLs(t), c.lb) {
			id := fmt.Sprintf("spread-%d", i)
			want[id] = true
			if status := h.deliver(t, u, id); status != http.StatusAccepted {
				t.Fatalf("delivery to %s: HTTP %d", u, status)
			}
		}
		for len(want) > 0 {
			id := sub.next(t)
			if !strings.HasPrefix(id, "probe-") && !want[id] {
				t.Fatalf("unexpected delivery %q", id)
			}
			delete(want, id)
		}

		restarted := make(chan error, 1)
		go func() {
			cmd := exec.Command(filepath.Join(root(), "scripts", "cluster.sh"), "restart")
			cmd.Env = c.env
			out, err := cmd.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("%w\n%s", err, out)
			}
			restarted <- err
		}()
		began := time.Now()
		// Its replica stops during the restart: the socket is closed then with 1001 Going
		// Away (a client reconnects), neither dropped nor left hanging.
		ended, err := sub.drain(2 * time.Minute)
		var ce *websocket.CloseError
		switch {
		case !ended:
			t.Errorf("the subscription was still open %v into the rolling restart", time.Since(began))
		case !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway:
			t.Errorf("the subscription ended without 1001 Going Away: %v", err)
		default:
			t.Logf("the subscription was closed %v into the rolling restart: %v", time.Since(began).Round(time.Millisecond), err)
		}
		if err := <-restarted; err != nil {
			t.Fatalf("cluster.sh restart: %v", err)
		}
		again := h.subscribe(t, c)
		h.waitLive(t, c, again, "after-restart")
	})

	// Every replica in turn drains and restarts while writes and reads keep coming through
	// HAProxy: no request fails.
	t.Run("RollingRestartUnderWrites", func(t *testing.T) {
		before := make([]int, replicas)
		for i := range before {
			before[i] = c.replicaPID(t, i+1)
		}
		ctx, cancel := context.WithCancel(context.Background())
		w, wait := writeLoad(ctx, c.admin, "rolling", 4, false)
		time.Sleep(time.Second)
		c.script(t, "restart")
		time.Sleep(time.Second)
		cancel()
		wait()
		for i := range before {
			if c.replicaPID(t, i+1) == before[i] {
				t.Errorf("replica %d was not restarted", i+1)
			}
		}
		if len(w.failures) > 0 {
			t.Errorf("%d requests failed during the rolling restart, first: %s", len(w.failures), strings.Join(w.failures[:min(5, len(w.failures))], "\n"))
		}
		if len(w.acked) < 20 {
			t.Errorf("only %d writes acknowledged: the load did not run", len(w.acked))
		}
		c.checkWritten(t, "rolling", w)
	})

	// A replica killed with SIGKILL under the write load: the client retries what failed with
	// the same Idempotency-Key; every acknowledged write is stored once.
	t.Run("ReplicaKilledUnderWrites", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		// Two more writers send their first attempts to the replica to be killed, so that it
		// has writes in flight when it dies; their retries go through HAProxy.
		victim := newClient(c.replicaURLs(t)[1], c.admin.key)
		w, wait := writeLoad(ctx, c.admin, "killed", 6, true, victim, victim)
		// A kill may still fall between two of the replica's requests (HAProxy then sends the
		// next ones elsewhere without the client noticing): kill again (up to 5 times) until
		// one takes requests down with it.
		kills := 0
		for kills < 5 && w.retries.Load() == 0 {
			time.Sleep(time.Second)
			if err := syscall.Kill(c.replicaPID(t, 2), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			kills++
			time.Sleep(time.Second)
			c.script(t, "up") // starts the dead replica again; HAProxy takes it back
		}
		time.Sleep(time.Second)
		cancel()
		wait()
		if w.retries.Load() == 0 {
			t.Errorf("%d kills of a replica under load failed no request: the retries were not exercised", kills)
		}
		t.Logf("%d kills", kills)
		if len(w.failures) > 0 {
			t.Errorf("%d requests failed for good, first: %s", len(w.failures), strings.Join(w.failures[:min(5, len(w.failures))], "\n"))
		}
		c.checkWritten(t, "killed", w)
	})
}

// hooked is a connection with a GitHub-verified trigger "push", made through HAProxy.
type hooked struct {
	connection, path, secret string
}

func newHookedConnection(t *testing.T, c *cluster) *hooked {
	t.Helper()
	must := func(query string, vars map[string]any, path ...string) string {
		t.Helper()
		a := c.admin.do(query, vars, "")
		if !a.ok() {
			t.Fatalf("%s: %s", query, a)
		}
		var v any = a.data
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		s, _ := v.(string)
		return s
	}
	connector := must(`mutation { createConnector(input: {name: "Hooked", protocolType: HTTP, authSchemeConfigs: [{id: "gh", schemeType: HMAC, hmac: {preset: GITHUB}}]}) { id } }`, nil, "createConnector", "id")
	version := must(`mutation($c: ID!) { createVersion(connectorId: $c, input: {name: "1", triggers: [{name: "push", authSchemeConfigId: "gh"}]}) { id } }`, map[string]any{"c": connector}, "createVersion", "id")
	must(`mutation($id: ID!) { publishVersion(id: $id) { id } }`, map[string]any{"id": version})
	h := &hooked{secret: "cluster-hook-secret"}
	h.connection = must(`mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "hooked"}) { id } }`, map[string]any{"c": connector}, "createConnection", "id")
	must(`mutation($k: ID!, $s: String!) { setCredential(connectionId: $k, input: {authSchemeConfigId: "gh", kind: TRIGGER, values: [{name: "secret", value: $s}]}) { id } }`,
		map[string]any{"k": h.connection, "s": h.secret})
	url := must(`query($k: ID!) { connection(id: $k) { webhookURL(trigger: "push") } }`, map[string]any{"k": h.connection}, "connection", "webhookURL")
	i := strings.Index(url, "/hooks/")
	if i < 0 {
		t.Fatalf("webhookURL %q", url)
	}
	h.path = url[i:]
	return h
}

// deliver posts a GitHub-signed delivery with id to the hook on base (a replica or HAProxy).
func (h *hooked) deliver(t *testing.T, base, id string) int {
	t.Helper()
	body := fmt.Sprintf(`{"delivery":%q}`, id)
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write([]byte(body))
	req, _ := http.NewRequest(http.MethodPost, base+h.path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("X-GitHub-Delivery", id)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("deliver to %s: %v", base, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// subscription is a graphql-transport-ws socket through HAProxy with subscription 1 on the
// connection's events; a reader passes each event's delivery id on.
type subscription struct {
	conn *websocket.Conn
	ids  chan string
	end  chan error
}

func (h *hooked) subscribe(t *testing.T, c *cluster) *subscription {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(c.lb, "http")+"/graphql", nil)
	if err != nil {
		t.Fatalf("dial through HAProxy: %v (%v)", err, res)
	}
	t.Cleanup(func() { conn.Close() })
	type message struct {
		ID      string          `json:"id,omitempty"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + c.admin.key}}); err != nil {
		t.Fatal(err)
	}
	var ack message
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v %v", ack, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	err = conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($k: ID!) { connectionEvents(connectionId: $k, trigger: "push") { deliveryId } }`,
		"variables": map[string]any{"k": h.connection}}})
	if err != nil {
		t.Fatal(err)
	}
	s := &subscription{conn: conn, ids: make(chan string, 64), end: make(chan error, 1)}
	go func() {
		for {
			var m message
			if err := conn.ReadJSON(&m); err != nil {
				s.end <- err
				return
			}
			switch m.Type {
			case "next":
				var p struct {
					Data struct{ ConnectionEvents struct{ DeliveryID string } }
				}
				if err := json.Unmarshal(m.Payload, &p); err != nil {
					s.end <- err
					return
				}
				s.ids <- p.Data.ConnectionEvents.DeliveryID
			case "error":
				s.end <- fmt.Errorf("%s %s", m.Type, m.Payload)
				return
			case "complete":
				// A stopping server completes the subscription, then closes the socket:
				// read on to the close frame.
			}
		}
	}()
	return s
}

// next is the delivery id of the next event, within 10 s.
func (s *subscription) next(t *testing.T) string {
	t.Helper()
	select {
	case id := <-s.ids:
		return id
	case err := <-s.end:
		t.Fatalf("the subscription ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return ""
}

// waitLive delivers probes through HAProxy until one reaches s (a subscription is registered
// a moment after its subscribe message, which nothing acknowledges).
func (h *hooked) waitLive(t *testing.T, c *cluster, s *subscription, name string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no probe delivered through HAProxy reached the subscription within 15 s")
		}
		if status := h.deliver(t, c.lb, fmt.Sprintf("probe-%s-%d", name, i)); status != http.StatusAccepted {
			t.Fatalf("probe: HTTP %d", status)
		}
		select {
		case id := <-s.ids:
			if !strings.HasPrefix(id, "probe-"+name+"-") {
				t.Fatalf("unexpected delivery %q", id)
			}
			return
		case err := <-s.end:
			t.Fatalf("the subscription ended: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// drain reads events until the subscription ends, and returns why; false when it is still
// open after timeout.
func (s *subscription) drain(timeout time.Duration) (bool, error) {
	limit := time.After(timeout)
	for {
		select {
		case <-s.ids:
		case err := <-s.end:
			return true, err
		case <-limit:
			return false, nil
		}
	}
}
