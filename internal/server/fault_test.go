package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// TestDatabaseKilledMidRun kills the PostgreSQL server under a running Plugboard while writers
// update a connector and its connections, then restarts it: requests fail cleanly meanwhile,
// /readyz says so, the server recovers by itself, and no half-written change is visible.
func TestDatabaseKilledMidRun(t *testing.T) {
	cluster := testdb.StartCluster(t)
	st, err := store.Open(cluster.URL, store.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Secrets = testdb.Keyring
	h := apitest.New(t, st)
	c := h.NewOrg(t)
	id := c.Do(t, `mutation { createConnector(input: {name: "Crash", protocolType: HTTP}) { id } }`, nil).OK(t).String("createConnector.id")
	for i := 0; i < 3; i++ {
		c.Do(t, `mutation($c: ID!, $n: String!) { createConnection(connectorId: $c, input: {name: $n}) { id } }`, map[string]any{"c": id, "n": fmt.Sprintf("c%d", i)}).OK(t)
	}

	var (
		stop      atomic.Bool
		successes atomic.Int32
		failures  atomic.Int32
		mu        sync.Mutex
		unclean   []string
		wg        sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				r := c.Do(t, `mutation($id: ID!, $v: String!) { updateConnector(id: $id, input: {name: "Crash", protocolType: HTTP, connectionVariables: [{name: "gen", value: $v}]}) { revision } }`,
					map[string]any{"id": id, "v": fmt.Sprintf("w%d-%d", w, i)})
				switch {
				case r.Code() == "":
					successes.Add(1)
				case r.Code() == "INTERNAL_SERVER_ERROR" && (r.Message() == "internal server error" || strings.Contains(r.Message(), "longer than")):
					failures.Add(1)
				default:
					mu.Lock()
					unclean = append(unclean, r.Body)
					mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}(w)
	}
	time.Sleep(500 * time.Millisecond)
	cluster.Kill(t)
	down := time.Now()
	for time.Since(down) < 2*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	if status, body, _ := c.Get(t, "/readyz"); status != 503 || !strings.Contains(body, "unreachable") {
		t.Errorf("/readyz while the database is down: %d %s", status, body)
	}
	if status, _, _ := c.Get(t, "/healthz"); status != 200 {
		t.Errorf("/healthz reports the process, which is up: %d", status)
	}
	failedWhileDown := failures.Load()
	cluster.Start(t)
	recovered := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if status, _, _ := c.Get(t, "/readyz"); status == 200 && c.Do(t, `{ viewer { scopes } }`, nil).Code() == "" {
			recovered = true
			break
		}
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if !recovered {
		t.Fatal("the server did not recover after the database came back")
	}
	if len(unclean) > 0 {
		t.Errorf("%d answers were not clean errors, e.g. %s", len(unclean), unclean[0])
	}
	if failedWhileDown == 0 {
		t.Error("no request failed while the database was down: the test proves nothing")
	}
	if strings.Contains(h.Logs.String(), "panic") {
		t.Error("the outage caused a panic")
	}

	// No half-written change: the connector's revision counts exactly the updates whose audit
	// event was written, and every connection holds the connector's latest variables.
	r := c.Do(t, `query($id: ID!) { connector(id: $id) { revision connectionVariables { name value }
	  connections { edges { node { variables { name value } } } } } auditEvents(first: 100, filter: {resourceId: $id, action: "connector.update"}) { totalCount } }`, map[string]any{"id": id}).OK(t)
	revision := r.Int("connector.revision")
	if updates := r.Int("auditEvents.totalCount"); revision != 1+updates {
		t.Errorf("revision %d but %d update events", revision, updates)
	}
	want := r.JSON("connector.connectionVariables")
	for _, e := range r.List("connector.connections.edges") {
		got := e.(map[string]any)["node"].(map[string]any)["variables"]
		if fmt.Sprint(got) != fmt.Sprint(r.Get("connector.connectionVariables")) {
			t.Errorf("a connection holds %v, the connector %s: half a change is visible", got, want)
		}
	}
	if int(successes.Load()) > revision-1 {
		t.Errorf("%d updates answered success but the revision is %d", successes.Load(), revision)
	}
	t.Logf("%d updates succeeded, %d failed cleanly (%d while down); final revision %d", successes.Load(), failures.Load(), failedWhileDown, revision)
}
