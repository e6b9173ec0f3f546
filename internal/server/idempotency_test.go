package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// A claim's last write that the database refuses (a restart) is written again in the
// background, so the claim does not refuse the client's retries until its lease ends.
func TestSettleRetriesInTheBackground(t *testing.T) {
	i := &idempotency{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var tries atomic.Int32
	done := make(chan struct{})
	i.settle(t.Context(), t.Context(), "release idempotency key", func(context.Context) error {
		if tries.Add(1) < 3 {
			return errors.New("the database system is starting up")
		}
		close(done)
		return nil
	})
	select {
	case <-done:
	case <-time.After(settleFor):
		t.Fatalf("the write was not retried: %d tries", tries.Load())
	}
}
