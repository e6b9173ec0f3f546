package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// TestThroughPgBouncer runs the store through Debian's pgbouncer in transaction mode, where
// each transaction (or statement outside one) may get another server session: a statement
// prepared on one session is missing on the next, or already there under the name another
// client picks. The default statement cache fails there; describe and none work, many times
// over on several connections sharing two server sessions.
func TestThroughPgBouncer(t *testing.T) {
	direct := testdb.NewPostgresDatabase(t)
	// Migrations take a session-level advisory lock: they go to the server directly.
	setup, err := store.Open(direct, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	ctx := context.Background()
	if _, err := setup.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	org, err := setup.CreateOrganisation(ctx, "Pooled")
	if err != nil {
		t.Fatal(err)
	}
	const workers = 8
	var ids []string
	for i := range workers {
		c, err := setup.CreateConnector(ctx, org.ID, domain.NewConnector{ConnectorFields: domain.ConnectorFields{
			Name: fmt.Sprintf("Pooled %d", i), ProtocolType: domain.ProtocolHTTP, Categories: []string{"pooled"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	pooled := testdb.StartPgBouncer(t, direct, 2)

	// run has each worker read a page of connectors, update its own connector and read it
	// back, rounds times, on a pool of workers connections, and returns the errors.
	run := func(t *testing.T, mode string, rounds int) []error {
		st, err := store.Open(pooled, store.Options{MaxOpenConns: workers, StatementCache: mode})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var (
			mu   sync.Mutex
			errs []error
			wg   sync.WaitGroup
		)
		fail := func(err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					page, err := st.FindConnectors(ctx, org.ID, domain.ConnectorFilter{Categories: []string{"pooled"}}, domain.OrderNameAsc, domain.PageRequest{First: 5})
					if err != nil {
						fail(fmt.Errorf("page: %w", err))
					} else if len(page.Edges) != 5 {
						fail(fmt.Errorf("page of %d connectors, want 5", len(page.Edges)))
					}
					name := fmt.Sprintf("Pooled %d %s %d", w, mode, r)
					if _, err := st.UpdateConnector(ctx, org.ID, ids[w], domain.ConnectorUpdate{Fields: domain.ConnectorFields{
						Name: name, ProtocolType: domain.ProtocolHTTP, Categories: []string{"pooled"},
					}}); err != nil {
						fail(fmt.Errorf("update: %w", err))
					}
					if c, err := st.FindConnector(ctx, org.ID, ids[w]); err != nil {
						fail(fmt.Errorf("read back: %w", err))
					} else if c.Name != name {
						fail(fmt.Errorf("read back %q, want %q", c.Name, name))
					}
				}
			}()
		}
		wg.Wait()
		return errs
	}

	t.Run("PrepareFails", func(t *testing.T) {
		errs := run(t, "prepare", 20)
		prepared := 0
		for _, err := range errs {
			if strings.Contains(err.Error(), "prepared statement") {
				prepared++
			}
		}
		t.Logf("%d of %d errors name a prepared statement", prepared, len(errs))
		if prepared == 0 {
			t.Errorf("named prepared statements through pgbouncer in transaction mode should collide; %d errors: %v", len(errs), errs)
		}
	})
	for _, mode := range []string{"describe", "none"} {
		t.Run(mode, func(t *testing.T) {
			if errs := run(t, mode, 50); len(errs) > 0 {
				t.Errorf("%d of %d operations failed, the first: %v", len(errs), workers*50*3, errs[0])
			}
		})
	}
}
