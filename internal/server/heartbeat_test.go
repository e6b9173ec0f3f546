package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/auth"
)

// flakyHeartbeats counts servers, or fails when err is set.
type flakyHeartbeats struct {
	servers int
	err     error
}

func (f *flakyHeartbeats) Beat(context.Context, string, time.Duration) (int, error) {
	return f.servers, f.err
}

func (f *flakyHeartbeats) Leave(context.Context, string) error { return f.err }

// A heartbeat that cannot reach the database falls back to one server, the per-server limit
// (generous, never stricter), and requests keep being served.
func TestFailingHeartbeatCountsOneServer(t *testing.T) {
	st := &flakyHeartbeats{servers: 4}
	hb := NewHeartbeat(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l := newInboundLimiter(InboundRate{Requests: 8, Window: time.Minute}, hb, func(string) {})
	ok := l.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	served := func(subject string, n int) int {
		count := 0
		for i := 0; i < n; i++ {
			req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			req = req.WithContext(auth.WithPrincipal(req.Context(), &auth.Principal{Subject: subject}))
			rec := httptest.NewRecorder()
			ok.ServeHTTP(rec, req)
			if rec.Code == http.StatusOK {
				count++
			}
		}
		return count
	}
	if n := hb.Beat(context.Background()); n != 4 {
		t.Fatalf("Beat counted %d servers, want 4", n)
	}
	if got := served("key:a", 10); got != 2 {
		t.Errorf("a quarter of a burst of 8 served %d, want 2", got)
	}
	st.err = errors.New("database down")
	if n := hb.Beat(context.Background()); n != 1 {
		t.Fatalf("a failing beat counted %d servers, want 1", n)
	}
	if got := served("key:b", 10); got != 8 {
		t.Errorf("with the heartbeat failing one server served %d, want the whole burst of 8", got)
	}
	hb.Stop() // a failing leave is logged, not fatal
}
