package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// HeartbeatStore records that a server is alive and counts the live ones (store.Store).
type HeartbeatStore interface {
	Beat(ctx context.Context, serverID string, live time.Duration) (int, error)
	Leave(ctx context.Context, serverID string) error
}

const (
	// heartbeatEvery is how often a server beats, so its share of the inbound limit is at
	// most about a second out of date (DESIGN.md, "Limits and replicas").
	heartbeatEvery = time.Second
	// heartbeatLive is how recent a beat must be for its server to count: three periods, so
	// that one late or failed beat does not make a live server vanish from the others' count.
	heartbeatLive = 3 * time.Second
)

// Heartbeat tells how many servers share the database, so that each can enforce its share
// of the cluster-wide inbound limit. Counting servers once a second, instead of keeping the
// buckets in the database, is what keeps the limit free of a database write per request; the
// price is that it is approximate while servers come and go. A nil *Heartbeat counts one
// server.
type Heartbeat struct {
	store  HeartbeatStore
	id     string
	logger *slog.Logger
	n      atomic.Int64
	// failing remembers whether the last beat failed, so that an outage logs once when it
	// starts and once when it ends rather than every second.
	failing atomic.Bool
	stop    context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// NewHeartbeat returns the heartbeat of this server, counting one server until it beats.
func NewHeartbeat(st HeartbeatStore, logger *slog.Logger) *Heartbeat {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	h := &Heartbeat{store: st, id: host + "-" + hex.EncodeToString(b), logger: logger}
	h.n.Store(1)
	return h
}

// Servers returns how many servers were live at the last beat (at least 1).
func (h *Heartbeat) Servers() int {
	if h == nil {
		return 1
	}
	return int(h.n.Load())
}

// Beat writes this server's heartbeat once and refreshes the count of live servers; tests
// call it instead of waiting for Start's ticker. When the database cannot be reached the
// count falls back to one server: the limit then errs on the generous side, and a failing
// heartbeat never fails a request.
func (h *Heartbeat) Beat(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, heartbeatEvery)
	defer cancel()
	n, err := h.store.Beat(ctx, h.id, heartbeatLive)
	if err != nil {
		n = 1
		if !h.failing.Swap(true) {
			h.logger.Warn("heartbeat failed: the inbound limit applies per server until it recovers", "error", err.Error())
		}
	} else if h.failing.Swap(false) {
		h.logger.Info("heartbeat recovered", "servers", n)
	}
	if old := h.n.Swap(int64(n)); old != int64(n) {
		h.logger.Info("live servers", "servers", n, "was", old)
	}
	return n
}

// Start beats once (so that the first requests already get the right share) and then every
// second in the background, until Stop.
func (h *Heartbeat) Start(ctx context.Context) {
	ctx, h.stop = context.WithCancel(ctx)
	h.done = make(chan struct{})
	h.Beat(ctx)
	go func() {
		defer close(h.done)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				h.Beat(ctx)
			}
		}
	}()
}

// Stop ends the background beats and deletes this server's row, so that the other servers
// take up its share at their next beat rather than when the row goes stale.
func (h *Heartbeat) Stop() {
	h.once.Do(func() {
		if h.stop != nil {
			h.stop()
			<-h.done
		}
		ctx, cancel := context.WithTimeout(context.Background(), heartbeatEvery)
		defer cancel()
		if err := h.store.Leave(ctx, h.id); err != nil {
			h.logger.Warn("heartbeat: could not leave", "error", err.Error())
		}
	})
}
