package connect_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// slowSessions holds every session lookup until released, so that pages stay in flight.
type slowSessions struct {
	*store.Store
	arrived chan struct{}
	release chan struct{}
}

func (s *slowSessions) FindConnectSession(ctx context.Context, tokenHash string, now time.Time) (*domain.ConnectSession, error) {
	s.arrived <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return s.Store.FindConnectSession(ctx, tokenHash, now)
}

// TestKeylessCap: the keyless routes have a capacity of their own (32 at once): one more is
// answered 503 with Retry-After at once, while GraphQL, whose admission slots they do not
// take, keeps answering.
func TestKeylessCap(t *testing.T) {
	st := testdb.Open(t, store.SQLite)
	h := apitest.New(t, st)
	c := h.NewOrg(t)
	slow := &slowSessions{Store: st, arrived: make(chan struct{}, 64), release: make(chan struct{})}
	h.Connect.Store = slow
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, err := http.Get(h.Server.URL + "/connect/pbc_held"); err == nil {
				res.Body.Close()
			}
		}()
	}
	for range 32 {
		<-slow.arrived
	}
	res, err := http.Get(h.Server.URL + "/connect/pbc_one-more")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("the 33rd page: HTTP %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	c.Do(t, `{ viewer { subject } }`, nil).OK(t)
	close(slow.release)
	wg.Wait()
}
