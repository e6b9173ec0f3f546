package graph_test

import (
	"sync"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

// TestConcurrentUpdatesWithExpectedRevision has 50 clients race to update one connector, each
// retrying with the revision it last saw: every revision is won by exactly one of them. Without
// expectedRevision every update wins, one revision each. Updates that change connection
// variables take the locking transaction, the others (on PostgreSQL) the compare-and-set
// statement; both are raced.
func TestConcurrentUpdatesWithExpectedRevision(t *testing.T) {
	for _, tc := range []struct {
		name              string
		variables, expect bool
	}{
		{"LockedWithRevision", true, true},
		{"RowOnlyWithRevision", false, true},
		{"RowOnlyLastWriterWins", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) { raceUpdates(t, tc.variables, tc.expect) })
	}
}

func raceUpdates(t *testing.T, withVariables, expectRevision bool) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := mustCreate(t, c, map[string]any{"name": "Contended", "protocolType": "HTTP"}).String("createConnector.id")
		const workers, attempts = 50, 4
		var (
			mu        sync.Mutex
			winners   = map[int]int{} // revision -> successful updates that expected it
			successes int
			conflicts int
			others    []string
		)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for a := 0; a < attempts; a++ {
					rev := c.Do(t, `query($id: ID!) { connector(id: $id) { revision } }`, map[string]any{"id": id}).Int("connector.revision")
					input := map[string]any{"name": "Contended", "protocolType": "HTTP", "description": "by worker"}
					if withVariables {
						input["connectionVariables"] = vars("worker", "w")
					}
					args := map[string]any{"id": id, "input": input}
					if expectRevision {
						args["rev"] = rev
					}
					r := c.Do(t, updateConnector, args)
					mu.Lock()
					switch {
					case r.Code() == "" && !expectRevision:
						successes++
					case r.Code() == "" && r.Int("updateConnector.revision") == rev+1:
						winners[rev]++
						successes++
					case r.Code() == "CONFLICT":
						conflicts++
					default:
						others = append(others, r.Body)
					}
					mu.Unlock()
				}
			}(w)
		}
		wg.Wait()
		if len(others) > 0 {
			t.Fatalf("%d answers were neither a success nor a CONFLICT, e.g. %s", len(others), others[0])
		}
		for rev, n := range winners {
			if n != 1 {
				t.Errorf("revision %d was won %d times", rev, n)
			}
		}
		final := c.Do(t, `query($id: ID!) { connector(id: $id) { revision } }`, map[string]any{"id": id}).OK(t).Int("connector.revision")
		if final != 1+successes || successes+conflicts != workers*attempts || successes == 0 || !expectRevision && conflicts > 0 {
			t.Errorf("final revision %d, %d successes, %d conflicts", final, successes, conflicts)
		}
		audited := 0
		for _, e := range auditActions(t, c, map[string]any{"resourceId": id}) {
			if e["action"] == "connector.update" {
				audited++
			}
		}
		if audited != successes {
			t.Errorf("%d updates succeeded, %d audited", successes, audited)
		}
		t.Logf("%d successes, %d conflicts", successes, conflicts)
	})
}
