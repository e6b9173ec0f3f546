package hooks

import (
	"context"
	"log/slog"
	"time"
)

// Pruner deletes events received before a time, in batches.
type Pruner interface {
	PruneEvents(ctx context.Context, cutoff time.Time, batch int) (int, error)
}

// PruneBatch is how many events one DELETE removes: small enough that no statement holds its
// locks for long next to ingestion.
const PruneBatch = 1000

// KeepPruning deletes events older than retention now and every interval until ctx ends.
// Every server prunes; the deletes are idempotent.
func KeepPruning(ctx context.Context, p Pruner, retention, interval time.Duration, logger *slog.Logger) {
	for {
		n, err := p.PruneEvents(ctx, time.Now().Add(-retention), PruneBatch)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("prune events", "error", err.Error())
		case n > 0:
			logger.Info("pruned events", "deleted", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
